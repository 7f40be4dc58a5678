//! Delivery receipts: what the providers say became of a message after they took it (SES
//! delivery, bounce and complaint events; SMS delivery status), recorded in the message ledger so
//! each message ends as delivered, failed for good (with the reason) or unknown. A hard bounce, a
//! complaint, or a number that is invalid or opted out stops that channel of every voter whose
//! live contact it is (no more sends to it) until the voter proves a contact again: this keeps
//! the bounce and complaint rates under SES's review thresholds.

use crate::access::contact_name;
use crate::daily::Counted;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::status::Channel;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a provider reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptOutcome {
    Delivered,
    /// Not delivered. `stop`: the address must get nothing more (a hard bounce, an invalid
    /// number); otherwise a passing failure (a soft bounce).
    Failed { reason: String, stop: bool },
    /// The recipient said stop to the provider (marked an email as spam, opted out of texts at
    /// the carrier): a failure, and a stop of that address for every voter, remembered in the
    /// contact index as an unsubscribe or a STOP is.
    Refused { reason: String },
}

impl ReceiptOutcome {
    /// Why it was not delivered, if it was not.
    pub fn failure(&self) -> Option<&str> {
        match self {
            ReceiptOutcome::Delivered => None,
            ReceiptOutcome::Failed { reason, .. } | ReceiptOutcome::Refused { reason } => Some(reason),
        }
    }

    /// The address must get nothing more.
    pub fn stops(&self) -> bool {
        matches!(self, ReceiptOutcome::Failed { stop: true, .. } | ReceiptOutcome::Refused { .. })
    }
}

/// One receipt: the provider's message id (and the message's key, when the provider hands it
/// back), the channel and address it went to (used to find whose contact it is, never stored or
/// logged), and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub channel: Channel,
    pub provider_id: String,
    /// The ledger key, read back from the message's tag ([`key_from_tag`]); None: the ledger
    /// finds the message by the provider's id.
    pub key: Option<String>,
    pub address: String,
    pub outcome: ReceiptOutcome,
    pub at: DateTime<Utc>,
}

/// The name of the tag an email is sent with that carries its ledger key: SES returns it with
/// every event of the message, so an email's receipt finds its message without an index.
pub const KEY_TAG: &str = "wmb-message";

/// The ledger key as a tag value (SES allows letters, digits, `_` and `-`, up to 256
/// characters): `_` escapes, `#` is written `_h` and `_` itself `_u`. None for a key with any
/// other character, or too long; such a message is found by the provider's id instead.
pub fn key_tag(key: &str) -> Option<String> {
    let mut tag = String::with_capacity(key.len() + 8);
    for c in key.chars() {
        match c {
            '#' => tag.push_str("_h"),
            '_' => tag.push_str("_u"),
            c if c.is_ascii_alphanumeric() || c == '-' => tag.push(c),
            _ => return None,
        }
    }
    (!tag.is_empty() && tag.len() <= 256).then_some(tag)
}

/// The ledger key a tag value carries (the inverse of [`key_tag`]); None for anything else.
pub fn key_from_tag(tag: &str) -> Option<String> {
    let mut key = String::with_capacity(tag.len());
    let mut chars = tag.chars();
    while let Some(c) = chars.next() {
        match c {
            '_' => key.push(match chars.next()? {
                'h' => '#',
                'u' => '_',
                _ => return None,
            }),
            c if c.is_ascii_alphanumeric() || c == '-' => key.push(c),
            _ => return None,
        }
    }
    (!key.is_empty() && tag.len() <= 256).then_some(key)
}

/// How a message ended, as the ledger keeps it beside the send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "delivery", rename_all = "snake_case")]
pub enum Delivery {
    Delivered { at: DateTime<Utc> },
    Failed { reason: String, at: DateTime<Utc> },
}

/// What recording a receipt did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptResult {
    /// The message was found in the ledger and its delivery recorded.
    pub recorded: bool,
    /// Voters whose channel was stopped because of it.
    pub stopped: usize,
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Records a receipt (again: the same receipt twice changes nothing) and stops the channel
    /// of the voters whose live contact the address is, when the provider says it must get
    /// nothing more.
    pub async fn record_receipt(&self, r: &Receipt, tally: &mut Tally) -> Result<ReceiptResult, PipelineError> {
        let mut result = ReceiptResult::default();
        let key = match &r.key {
            Some(key) => Some(key.clone()),
            None => self.store.sent_key(&r.provider_id).await?,
        };
        if let Some(key) = key {
            let delivery = match r.outcome.failure() {
                None => Delivery::Delivered { at: r.at },
                Some(reason) => Delivery::Failed { reason: reason.to_string(), at: r.at },
            };
            let recorded = self.store.record_delivery(&key, &r.provider_id, &delivery).await?;
            result.recorded = recorded != Recorded::Unknown;
            // A failure is counted for the county and message the ledger counted the send as (a
            // code or a reply to a text is not counted): a county can tell its failed cure
            // notices from the rest. The same receipt again is recorded again but counted once.
            if let (Recorded::New(Some(tag)), Some(_)) = (recorded, r.outcome.failure()) {
                tally.county_days.count(r.at, tag.county, Counted::DeliveryFailed(tag.kind, r.channel));
            }
        }
        if r.outcome.stops() {
            let name = contact_name(&self.access.signing, r.channel, &r.address);
            let entry = self.store.contact(&name).await?;
            // A bounce stops the spelling that bounced; a complaint, the inbox it came from,
            // however each voter spelled it.
            let refused = matches!(r.outcome, ReceiptOutcome::Refused { .. });
            for voter in entry.voters {
                let stop = |sub: &mut crate::signup::Subscription| {
                    let same = sub.address(r.channel).is_some_and(|a| match r.channel {
                        Channel::Email if refused => contact_name(&self.access.signing, r.channel, a) == name,
                        Channel::Email => a.eq_ignore_ascii_case(&r.address),
                        _ => a == r.address,
                    });
                    same && sub.stop(&[r.channel], r.at)
                };
                if let Some((before, after)) = self.update_subscription(&voter, r.at, stop).await? {
                    tally.county_days.count_stops(r.at, &before, &after, Counted::Suspended);
                    result.stopped += 1;
                }
            }
            // The recipient said stop: remembered past the erasure of the voters' addresses, so
            // a signups file does not restart it (START restarts a phone; a code the voter enters
            // for it, an address).
            if refused {
                self.store.set_stopped(&name, true).await?;
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{AccessKeys, SigningKey};
    use crate::election::Election;
    use crate::formats::{VbmStatus, VoterRecord, VoterStatus};
    use crate::memory::{MemoryStore, RecordingDispatcher};
    use crate::pipeline::Tally;
    use crate::signup::Subscription;
    use crate::status::{Language, MessageKind, StatusCode};
    use crate::templates::Catalog;
    use crate::voice::VoicePlan;
    use crate::CountyCode;
    use std::collections::BTreeMap;

    const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn random() -> [u8; 16] {
        [7; 16]
    }

    #[test]
    fn a_hard_bounce_is_recorded_and_stops_the_email_channel_and_a_delivery_is_recorded() {
        futures::executor::block_on(async {
            // GIVEN a voter signed up by email and text, sent Outbound on both
            let store = MemoryStore::default();
            let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
            let county = CountyCode::parse("19").unwrap();
            let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
            store.put_voter(&VoterRecord { votecal_id: "CA1".into(), county, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "90012".into(), status: VoterStatus::Active }).await.unwrap();
            let sub = Subscription {
                votecal_id: "CA1".into(),
                county,
                language: Language::En,
                sms: Some("+13105550100".into()),
                email: Some("Ann.Lee@example.com".into()),
                voice: None,
                hours: Default::default(),
                signed_up_at: t("2026-09-01T12:00:00-07:00"),
                stopped: Default::default(),
                erase_after: None,
                file_row: None,
                read_as: Default::default(),
            };
            store.put_subscription(&sub).await.unwrap();
            for (c, a) in [(Channel::Sms, "+13105550100"), (Channel::Email, "Ann.Lee@example.com")] {
                store.link_contact(&contact_name(&keys.signing, c, a), "CA1", 5).await.unwrap();
            }
            let elections = BTreeMap::from([("E".to_string(), Election::from_toml("e", ELECTION).unwrap())]);
            let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
            let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
            let row = |status, at: &str| VbmStatus { votecal_id: "CA1".into(), county, election_id: "E".into(), ballot_id: "B1".into(), status, status_time: t(at) };
            let now = t("2026-10-06T12:00:00-07:00");
            p.apply_status(&row(StatusCode::Issued, "2026-10-06T09:00:00-07:00"), now, &mut Tally::default()).await.unwrap();
            let outbound: Vec<(Channel, String, String)> = sent.sent.lock().unwrap().iter().enumerate().map(|(i, m)| (m.channel, m.key.clone(), format!("local-{}", i + 1))).collect();
            assert_eq!(outbound.len(), 2);
            let id_of = |c: Channel| outbound.iter().find(|o| o.0 == c).unwrap().clone();

            // WHEN the text is delivered and the email bounces for good (the address in another case)
            let (_, sms_key, sms_id) = id_of(Channel::Sms);
            let (_, email_key, email_id) = id_of(Channel::Email);
            let delivered = Receipt { channel: Channel::Sms, provider_id: sms_id, key: None, address: "+13105550100".into(), outcome: ReceiptOutcome::Delivered, at: now };
            assert_eq!(p.record_receipt(&delivered, &mut Tally::default()).await.unwrap(), ReceiptResult { recorded: true, stopped: 0 });
            // (SES names the message by its tag; a tag that names another send than SES's id is
            // not recorded, nor does it stop anything by itself)
            let tag = key_tag(&email_key).unwrap();
            let forged = Receipt { channel: Channel::Email, provider_id: "another-send".into(), key: key_from_tag(&tag), address: "someone@example.com".into(), outcome: ReceiptOutcome::Failed { reason: "bounce".into(), stop: false }, at: now };
            assert_eq!(p.record_receipt(&forged, &mut Tally::default()).await.unwrap(), ReceiptResult::default());
            let bounce = Receipt { channel: Channel::Email, provider_id: email_id, key: key_from_tag(&tag), address: "ann.lee@example.com".into(), outcome: ReceiptOutcome::Failed { reason: "bounce: Permanent/General".into(), stop: true }, at: now };
            let mut counted = Tally::default();
            assert_eq!(p.record_receipt(&bounce, &mut counted).await.unwrap(), ReceiptResult { recorded: true, stopped: 1 });
            assert_eq!(p.record_receipt(&bounce, &mut counted).await.unwrap().stopped, 0, "the same receipt again changes nothing");
            // AND the county's day counts the failed delivery and the suspended channel once
            let day = counted.county_days.of(crate::time::pacific_date(now), county);
            assert_eq!((day.get("delivery_failures/outbound/email"), day.get("suspended//email"), day.len()), (Some(&1), Some(&1), 2), "{day:?}");

            // THEN the ledger says how each ended, the email channel is stopped, the text goes on
            assert_eq!(store.delivery(&sms_key), Some(Delivery::Delivered { at: now }));
            assert!(matches!(store.delivery(&email_key), Some(Delivery::Failed { reason, .. }) if reason.contains("Permanent")));
            let after = store.subscription("CA1").await.unwrap().unwrap();
            assert_eq!((after.address(Channel::Email), after.address(Channel::Sms)), (None, Some("+13105550100")));
            let later = t("2026-10-21T12:00:00-07:00");
            p.apply_status(&row(StatusCode::InReview, "2026-10-20T09:00:00-07:00"), later, &mut Tally::default()).await.unwrap();
            let received: Vec<Channel> = sent.sent.lock().unwrap().iter().filter(|m| m.kind == MessageKind::Received).map(|m| m.channel).collect();
            assert_eq!(received, [Channel::Sms], "no more email to the bounced address");
            // AND a receipt for a message the ledger does not know is not recorded, and a soft
            // bounce stops nothing
            let unknown = Receipt { channel: Channel::Sms, provider_id: "nope".into(), key: None, address: "+13105550100".into(), outcome: ReceiptOutcome::Failed { reason: "soft".into(), stop: false }, at: later };
            assert_eq!(p.record_receipt(&unknown, &mut Tally::default()).await.unwrap(), ReceiptResult::default());
        });
    }

    #[test]
    fn a_ledger_key_comes_back_from_its_tag_unchanged_and_a_key_that_would_not_is_not_tagged() {
        use crate::notify::milestone_key;
        use crate::reminders::{reminder_key, Reminder};
        let at = t("2026-10-06T12:00:00-07:00");
        let decision = |milestone, ballot: &str| crate::lifecycle::MilestoneDecision { milestone, ballot_id: Some(ballot.into()), code: None, status_time: at, settle_until: None, earlier: 0 };
        let nms = decision(crate::status::Milestone::ContactCounty, "19-000101-1");
        let keys = [
            milestone_key("2026-11-03-GEN", "CA000000101", &decision(crate::status::Milestone::Outbound, "01-000101-1"), Channel::Email),
            milestone_key("2026-11-03-GEN", "CA000000101", &decision(crate::status::Milestone::NotAccepted, "01-000101-1"), Channel::Email),
            // (a ballot's second reason to contact the county)
            milestone_key("2026-11-03-GEN", "CA000000101", &crate::lifecycle::MilestoneDecision { code: Some(crate::status::StatusCode::Nms), earlier: 1, ..nms.clone() }, Channel::Email),
            reminder_key("2027_SPECIAL", "CA1", &nms, &Reminder { kind: MessageKind::CureReminder, due: at, days_before: 3 }, Channel::Email),
            "signup#CA1#1790000000#email".to_string(),
            // (a code's key: a change id in URL-safe base64, '-' and '_', and the contact's place)
            "code#Zm9v_YmFy-YmF6_#0".to_string(),
        ];
        for key in &keys {
            let tag = key_tag(key).unwrap();
            assert!(tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{tag}");
            assert_eq!(key_from_tag(&tag).as_deref(), Some(key.as_str()));
        }
        assert!(keys[3].contains("cure_reminder") && keys[3].starts_with("2027_SPECIAL#"), "{}", keys[3]);
        assert_eq!(key_tag("E 1#CA1"), None, "a space cannot be a tag's");
        assert_eq!(key_tag(""), None);
        assert_eq!(key_tag(&"x".repeat(257)), None);
        assert_eq!(key_tag(&"#".repeat(129)), None, "too long once escaped");
        for bad in ["a b", "", "a_", "a_x", "a#b"] {
            assert_eq!(key_from_tag(bad), None, "{bad}");
        }
    }
}
