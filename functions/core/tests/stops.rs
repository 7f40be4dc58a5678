//! Stops that last: a household's inbox that unsubscribes stops email for each of its voters; an
//! address that unsubscribed or a phone stopped on the page stays stopped when a signups file
//! names it again after the subscription's addresses were erased, until the voter proves it
//! again; and one voter's stop on the page leaves a household's shared phone to the others.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use wmb_core::access::{contact_name, AccessKeys, SigningKey};
use wmb_core::formats::{VoterRecord, VoterStatus};
use wmb_core::memory::{MemoryStore, RecordingDispatcher};
use wmb_core::pipeline::{Pipeline, Tally};
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{Channel, MessageKind};
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;
use wmb_core::CountyCode;

const PHONE: &str = "+19165550100";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn random() -> [u8; 16] {
    use std::sync::atomic::{AtomicU8, Ordering};
    static NEXT: AtomicU8 = AtomicU8::new(1);
    [NEXT.fetch_add(1, Ordering::Relaxed); 16]
}

#[test]
fn a_households_shared_inbox_that_unsubscribes_gets_no_more_email_for_any_of_its_voters() {
    futures::executor::block_on(async {
        let store = MemoryStore::default();
        let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
        let county = CountyCode::parse("19").unwrap();
        for (id, first, dob) in [("CA1", "Ann", (1980, 5, 17)), ("CA2", "Ben", (1978, 2, 3))] {
            let date_of_birth = chrono::NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2).unwrap();
            let voter = VoterRecord { votecal_id: id.into(), county, first_name: first.into(), last_name: "Lee".into(), date_of_birth, zip: "90012".into(), status: VoterStatus::Active };
            store.put_voter(&voter).await.unwrap();
        }
        let elections = BTreeMap::new();
        let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
        let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
        let mut tally = Tally::default();
        // GIVEN two voters of one household signed up with one inbox, and a third address
        let inbox = "Lees@example.com";
        for (first, dob) in [("Ann", "1980-05-17"), ("Ben", "1978-02-03")] {
            let row = SignupRequest::from_fields(first, "Lee", dob, "90012", "", "en", "", inbox, "", "", "").unwrap();
            p.signup(&row, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        // WHEN the inbox follows the unsubscribe link of an email about Ann's ballot
        let url = wmb_core::optout::unsubscribe_url("https://example.gov", &keys.signing, "CA1", "lees@example.com", t("2026-10-07T19:00:00Z"));
        let token = url.split_once("token=").unwrap().1;
        p.unsubscribe(token, t("2026-10-07T19:05:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN neither voter's news goes to that inbox any more
        for id in ["CA1", "CA2"] {
            assert_eq!(store.subscription(id).await.unwrap().unwrap().address(Channel::Email), None, "{id}");
        }
        // AND a link to an address the voter no longer has stops nothing
        let old = wmb_core::optout::unsubscribe_url("https://example.gov", &keys.signing, "CA2", "old@example.com", t("2026-10-07T19:00:00Z"));
        let before = store.subscription("CA2").await.unwrap();
        p.unsubscribe(old.split_once("token=").unwrap().1, t("2026-10-07T19:06:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(store.subscription("CA2").await.unwrap(), before);
    });
}

#[test]
fn an_unsubscribed_address_stays_stopped_when_a_signups_file_names_it_after_its_erasure_until_the_voter_proves_it() {
    futures::executor::block_on(async {
        let store = MemoryStore::default();
        let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
        let county = CountyCode::parse("19").unwrap();
        let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
        store
            .put_voter(&VoterRecord { votecal_id: "CA1".into(), county, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "90012".into(), status: VoterStatus::Active })
            .await
            .unwrap();
        let elections = BTreeMap::new();
        let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
        let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file with her email, which she then
        // unsubscribes; 30 days later her address is erased
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", "", "ann@example.com", "", "", "").unwrap();
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let link = wmb_core::optout::unsubscribe_url("https://example.gov", &keys.signing, "CA1", "ann@example.com", t("2026-09-02T19:00:00Z"));
        p.unsubscribe(link.split_once("token=").unwrap().1, t("2026-09-02T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let erased = p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        assert_eq!(erased.chosen(Channel::Email), None, "erased");
        // WHEN the file comes again with her row
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN her address stays stopped, and nothing is emailed
        assert_eq!(store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), None);
        let after = sent.sent.lock().unwrap().iter().filter(|m| m.channel == Channel::Email).count();
        assert_eq!(after, 1, "only the first sign-up's confirmation");
        // AND when she signs up on the page with it and enters its code, it is live again
        let ticket = p.request_signup(&row, "198.51.100.7", t("2026-10-06T19:00:00Z")).await.unwrap().unwrap();
        let code = {
            let sent = sent.sent.lock().unwrap();
            let subject = sent.iter().rev().find(|m| m.kind == MessageKind::VerificationCode).unwrap().rendered.subject.clone().unwrap();
            subject.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6).unwrap().to_string()
        };
        p.enter_code(&ticket.change_id, &code, false, t("2026-10-06T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        assert_eq!(store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), Some("ann@example.com"));
    });
}

#[test]
fn texts_stopped_on_the_page_stay_stopped_when_a_signups_file_names_the_phone_after_its_erasure() {
    futures::executor::block_on(async {
        let store = MemoryStore::default();
        let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
        let county = CountyCode::parse("19").unwrap();
        let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
        store
            .put_voter(&VoterRecord { votecal_id: "CA1".into(), county, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "90012".into(), status: VoterStatus::Active })
            .await
            .unwrap();
        let elections = BTreeMap::new();
        let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
        let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
        let mut tally = Tally::default();
        // GIVEN Ann signed up by a cumulative signups file with her phone, who stops texts on
        // the page (a code to her phone approves it); 30 days later her number is erased
        let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "", "").unwrap();
        p.signup(&row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        let who = wmb_core::signup::IdentityRequest::from(&row);
        let ticket = p.request_stop(&who, vec![Channel::Sms], "198.51.100.7", t("2026-09-02T19:00:00Z")).await.unwrap().unwrap();
        let code = {
            let sent = sent.sent.lock().unwrap();
            let text = &sent.iter().rev().find(|m| m.kind == MessageKind::AccountCode).unwrap().rendered.text;
            text.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6).unwrap().to_string()
        };
        p.enter_code(&ticket.change_id, &code, false, t("2026-09-02T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        let erased = p.live_subscription("CA1", t("2026-10-03T19:00:00Z")).await.unwrap().unwrap();
        assert_eq!(erased.chosen(Channel::Sms), None, "erased");
        let texts = sent.sent.lock().unwrap().len();
        // WHEN the file comes again with her row
        p.signup(&row, t("2026-10-05T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN her phone stays stopped, and nothing is texted to it
        assert_eq!(store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        assert_eq!(sent.sent.lock().unwrap().len(), texts);
    });
}

#[test]
fn one_voter_stopping_texts_on_the_page_leaves_the_households_shared_phone_to_the_others() {
    futures::executor::block_on(async {
        let store = MemoryStore::default();
        let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
        let county = CountyCode::parse("19").unwrap();
        for (id, first, dob) in [("CA1", "Ann", (1980, 5, 17)), ("CA2", "Ben", (1978, 2, 3))] {
            let date_of_birth = chrono::NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2).unwrap();
            store.put_voter(&VoterRecord { votecal_id: id.into(), county, first_name: first.into(), last_name: "Lee".into(), date_of_birth, zip: "90012".into(), status: VoterStatus::Active }).await.unwrap();
        }
        let elections = BTreeMap::new();
        let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
        let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
        let mut tally = Tally::default();
        // GIVEN Ann and Ben share a phone
        let rows: Vec<SignupRequest> = [("Ann", "1980-05-17"), ("Ben", "1978-02-03")]
            .iter()
            .map(|(first, dob)| SignupRequest::from_fields(first, "Lee", dob, "90012", "", "en", PHONE, "", "", "", "").unwrap())
            .collect();
        for row in &rows {
            p.signup(row, t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        }
        // WHEN Ann stops texts on the page
        let ticket = p.request_stop(&wmb_core::signup::IdentityRequest::from(&rows[0]), vec![Channel::Sms], "198.51.100.7", t("2026-09-02T19:00:00Z")).await.unwrap().unwrap();
        let code = {
            let sent = sent.sent.lock().unwrap();
            let text = &sent.iter().rev().find(|m| m.kind == MessageKind::AccountCode).unwrap().rendered.text;
            text.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6).unwrap().to_string()
        };
        p.enter_code(&ticket.change_id, &code, false, t("2026-09-02T19:02:00Z"), &mut tally).await.unwrap().unwrap();
        // THEN her texts stop, Ben's do not, and the phone is not marked as having said STOP
        assert_eq!(store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        assert_eq!(store.subscription("CA2").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
        assert!(!store.contact(&contact_name(&keys.signing, Channel::Sms, PHONE)).await.unwrap().stopped);
    });
}
