//! Pending changes and their codes: who is asked, what a code opens, and when a change is stale.

use super::*;
use crate::hours::NotificationHours;
use crate::status::Language;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(1);
fn counter() -> [u8; 16] {
    let n = NEXT.fetch_add(7919, Ordering::Relaxed);
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&n.to_le_bytes());
    b[8..].copy_from_slice(&n.wrapping_mul(31).to_le_bytes());
    b
}

fn keys() -> AccessKeys {
    AccessKeys { signing: SigningKey::new(b"a test key of enough length").unwrap(), random: counter, public_url: None }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn sub(sms: Option<&str>, email: Option<&str>) -> Subscription {
    Subscription {
        votecal_id: "CA1".into(),
        county: crate::CountyCode::parse("19").unwrap(),
        language: Language::En,
        sms: sms.map(Into::into),
        email: email.map(Into::into),
        voice: None,
        hours: NotificationHours::default(),
        signed_up_at: t("2026-10-01T12:00:00Z"),
        stopped: Default::default(),
        erase_after: None,
        file_row: None,
        read_as: Default::default(),
    }
}

fn code_for(change: &PendingChange, codes: &[CodeToSend], address: &str) -> String {
    codes.iter().find(|c| change.targets[c.target].address == address).unwrap().code.clone()
}

#[test]
fn a_first_sign_up_goes_live_contact_by_contact_as_each_code_is_entered() {
    let k = keys();
    let now = t("2026-10-06T19:00:00Z");
    let (mut change, codes) = PendingChange::choices(&k, None, sub(Some("+19165550100"), Some("ann@example.com")), now);
    assert_eq!(codes.len(), 2);
    assert!(change.approved, "nobody to ask: the first sign-up needs only proof");
    assert_eq!(change.applied_choices(None), None, "nothing is live before a code is entered");
    change.enter_code(&k.signing, &code_for(&change, &codes, "+19165550100"), now).unwrap();
    let live = change.applied_choices(None).unwrap();
    assert_eq!(live.sms.as_deref(), Some("+19165550100"));
    assert_eq!(live.email, None, "the email is not proven yet");
    change.enter_code(&k.signing, &code_for(&change, &codes, "ann@example.com"), now).unwrap();
    assert_eq!(change.applied_choices(None).unwrap().email.as_deref(), Some("ann@example.com"));
    assert!(change.complete());
}

#[test]
fn a_stranger_with_the_voters_identity_cannot_redirect_news_without_the_voters_approval() {
    let k = keys();
    let now = t("2026-10-06T19:00:00Z");
    let current = sub(Some("+19165550100"), None);
    let (mut change, codes) = PendingChange::choices(&k, Some(&current), sub(Some("+13105550199"), None), now);
    assert!(!change.approved);
    let voter_phone = change.targets.iter().find(|t| t.address == "+19165550100").unwrap();
    assert!(voter_phone.approves && !voter_phone.proves, "the voter's proven phone is asked to approve");
    // The stranger proves their own phone: still nothing changes.
    change.enter_code(&k.signing, &code_for(&change, &codes, "+13105550199"), now).unwrap();
    assert_eq!(change.applied_choices(Some(&current)), None);
    // The voter approves from their phone: now the new phone is live.
    change.enter_code(&k.signing, &code_for(&change, &codes, "+19165550100"), now).unwrap();
    assert_eq!(change.applied_choices(Some(&current)).unwrap().sms.as_deref(), Some("+13105550199"));
}

#[test]
fn proven_contacts_stay_live_while_a_new_one_waits_for_its_code() {
    let k = keys();
    let now = t("2026-10-06T19:00:00Z");
    let current = sub(Some("+19165550100"), Some("old@example.com"));
    let (mut change, codes) = PendingChange::choices(&k, Some(&current), sub(Some("+19165550100"), Some("new@example.com")), now);
    change.enter_code(&k.signing, &code_for(&change, &codes, "+19165550100"), now).unwrap();
    let live = change.applied_choices(Some(&current)).unwrap();
    assert_eq!(live.email.as_deref(), Some("old@example.com"), "the old address until the new one is proven");
    assert_eq!(change.targets.iter().filter(|t| t.address == "+19165550100").count(), 1, "one code per contact");
}

#[test]
fn a_change_held_open_by_a_stranger_goes_stale_once_the_voter_signs_up() {
    let k = keys();
    let now = t("2026-10-06T19:00:00Z");
    // The stranger's change, asked for while the voter had no contacts: approved at once
    let (mut strangers, codes) = PendingChange::choices(&k, None, sub(None, Some("stranger@example.net")), now);
    assert!(strangers.approved && !strangers.stale(None));
    // The voter signs up meanwhile: their phone is live
    let voters_own = sub(Some("+19165550100"), None);
    assert!(strangers.stale(Some(&voters_own)), "the voter's phone is neither previous nor proven by the stranger");
    strangers.enter_code(&k.signing, &codes[0].code, now).unwrap();
    assert!(strangers.stale(Some(&voters_own)));
    // A voter's own change, going live contact by contact, is never stale to itself
    let (mut own, codes) = PendingChange::choices(&k, None, sub(Some("+19165550100"), Some("ann@example.com")), now);
    own.enter_code(&k.signing, &code_for(&own, &codes, "+19165550100"), now).unwrap();
    let live = own.applied_choices(None).unwrap();
    assert!(!own.stale(Some(&live)));
}

#[test]
fn a_change_opened_from_a_phone_the_voter_then_removes_goes_stale() {
    let k = keys();
    // GIVEN Ann's phone and email, and the holder of her (household) phone asking at 19:00 to
    // send her texts to his own phone instead
    let current = sub(Some("+19165550100"), Some("ann@example.com"));
    let (mut his, codes) = PendingChange::choices(&k, Some(&current), Subscription { signed_up_at: t("2026-10-06T19:00:00Z"), ..sub(Some("+19165550199"), None) }, t("2026-10-06T19:00:00Z"));
    assert!(!his.stale(Some(&current)));
    // WHEN Ann, by her email's code, removes the household phone at 19:05
    let hers = Subscription { signed_up_at: t("2026-10-06T19:05:00Z"), ..sub(None, Some("ann@example.com")) };
    // THEN his change is stale, before and after the household phone's code approves it
    assert!(his.stale(Some(&hers)));
    his.enter_code(&k.signing, &code_for(&his, &codes, "+19165550100"), t("2026-10-06T19:06:00Z")).unwrap();
    assert!(his.stale(Some(&hers)));
    // AND a change is never stale to what it applied itself
    let live = his.applied_choices(Some(&current)).unwrap();
    assert!(!his.stale(Some(&live)));
}

#[test]
fn wrong_expired_and_reused_codes_are_refused_and_tries_are_limited() {
    let k = keys();
    let now = t("2026-10-06T19:00:00Z");
    let (mut change, codes) = PendingChange::choices(&k, None, sub(Some("+19165550100"), None), now);
    let right = codes[0].code.clone();
    let wrong = if right == "000000" { "000001" } else { "000000" };
    assert_eq!(change.enter_code(&k.signing, wrong, now), Err(CodeRefusal::WrongCode));
    assert_eq!(change.enter_code(&k.signing, &right, now + Duration::minutes(CODE_MINUTES)), Err(CodeRefusal::Expired));
    change.enter_code(&k.signing, &right, now).unwrap();
    assert_eq!(change.enter_code(&k.signing, &right, now), Err(CodeRefusal::WrongCode), "a code works once");
    for _ in 2..MAX_WRONG_CODES {
        let _ = change.enter_code(&k.signing, wrong, now);
    }
    assert_eq!(change.enter_code(&k.signing, wrong, now), Err(CodeRefusal::TooManyAttempts));
    assert!(!change.targets.iter().any(|t| t.hash.contains(&right)), "only hashes are kept");
}

#[test]
fn a_stop_request_asks_the_proven_contacts_and_sends_nothing_to_a_voter_without_any() {
    let k = keys();
    let now = t("2026-10-06T19:00:00Z");
    let (change, codes) = PendingChange::stop(&k, "CA1", None, vec![], now);
    assert!(codes.is_empty() && !change.approved);
    let current = sub(Some("+19165550100"), Some("a@example.com"));
    let (change, codes) = PendingChange::stop(&k, "CA1", Some(&current), vec![Channel::Sms], now);
    assert_eq!(codes.len(), 2);
    assert!(change.targets.iter().all(|t| t.approves && !t.proves));
}

#[test]
fn codes_are_six_digits_and_change_ids_carry_128_bits() {
    assert_eq!(code_from([0; 16]), "000000");
    assert_eq!(code_from([255; 16]).len(), 6);
    assert_eq!(change_id_from([0; 16]).len(), 22);
}
