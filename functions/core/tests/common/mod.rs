//! What the tests of codes and stops share: voters of Los Angeles County (ZIP 90012) on the roll
//! of a memory store, one statewide election, and the pipeline over them with a dispatcher that
//! keeps what it sends.
// (Each test file uses what it needs of this.)
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use wmb_core::access::{AccessKeys, SigningKey};
use wmb_core::election::Election;
use wmb_core::formats::{VoterRecord, VoterStatus};
use wmb_core::memory::{MemoryStore, RecordingDispatcher};
use wmb_core::pipeline::Pipeline;
use wmb_core::ports::*;
use wmb_core::status::{Channel, MessageKind};
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;
use wmb_core::CountyCode;

const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
    [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";

/// (VoteCal ID, first name, birth date) of a voter named Lee.
pub type Lee = (&'static str, &'static str, &'static str);
pub const ANN: Lee = ("CA1", "Ann", "1980-05-17");
pub const BEN: Lee = ("CA2", "Ben", "1978-02-03");

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Random bytes counting up from 1, each call one more (change ids stay apart).
pub fn random() -> [u8; 16] {
    use std::sync::atomic::{AtomicU8, Ordering};
    static NEXT: AtomicU8 = AtomicU8::new(1);
    [NEXT.fetch_add(1, Ordering::Relaxed); 16]
}

pub struct Fixture {
    pub store: MemoryStore,
    pub keys: AccessKeys,
    pub sent: RecordingDispatcher,
    pub county: CountyCode,
    catalog: Catalog,
    pub voice: VoicePlan,
    pub elections: BTreeMap<String, Election>,
}

impl Fixture {
    /// These voters on the roll, and the election "E"; codes and change ids drawn from `random`.
    pub async fn with(voters: &[Lee], random: fn() -> [u8; 16]) -> Fixture {
        Fixture::with_settings(voters, random, "").await
    }

    /// [`Fixture::with`], the election "E" with these lines added to its definition (e.g.
    /// `[reminders]` settings).
    #[allow(dead_code)]
    pub async fn with_settings(voters: &[Lee], random: fn() -> [u8; 16], settings: &str) -> Fixture {
        let f = Fixture {
            store: MemoryStore::default(),
            keys: AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None },
            sent: RecordingDispatcher::default(),
            county: CountyCode::parse("19").unwrap(),
            catalog: Catalog::embedded().unwrap(),
            voice: VoicePlan::default(),
            elections: BTreeMap::from([("E".to_string(), Election::from_toml("e", &format!("{ELECTION}{settings}")).unwrap())]),
        };
        for (id, first, dob) in voters {
            let date_of_birth = NaiveDate::parse_from_str(dob, "%Y-%m-%d").unwrap();
            let voter = VoterRecord { votecal_id: id.to_string(), county: f.county, first_name: first.to_string(), last_name: "Lee".into(), date_of_birth, zip: "90012".into(), status: VoterStatus::Active };
            f.store.put_voter(&voter).await.unwrap();
        }
        f
    }

    /// The pipeline, delivering what is due at once.
    pub fn pipeline(&self) -> Pipeline<'_, MemoryStore, RecordingDispatcher, Inline> {
        self.pipeline_with(&Inline)
    }

    /// The pipeline, queueing what is due on `queue`.
    pub fn pipeline_with<'a, Q: NotificationQueue>(&'a self, queue: &'a Q) -> Pipeline<'a, MemoryStore, RecordingDispatcher, Q> {
        Pipeline { store: &self.store, dispatcher: &self.sent, queue, catalog: &self.catalog, elections: &self.elections, voice: &self.voice, access: &self.keys }
    }

    /// The six-digit code of the latest message of `kind` sent on `channel` (an email's is in its subject).
    pub fn code(&self, kind: MessageKind, channel: Channel) -> String {
        let sent = self.sent.sent.lock().unwrap();
        let m = sent.iter().rev().find(|m| m.kind == kind && m.channel == channel).unwrap();
        let text = if channel == Channel::Email { m.rendered.subject.clone().unwrap() } else { m.rendered.text.clone() };
        text.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6).unwrap().to_string()
    }

    /// The six-digit code in the latest code (to sign up, or to approve) sent to `to`.
    pub fn code_to(&self, to: &str) -> String {
        let sent = self.sent.sent.lock().unwrap();
        let m = sent.iter().rev().find(|m| m.to == to && matches!(m.kind, MessageKind::VerificationCode | MessageKind::AccountCode)).unwrap();
        let text = m.rendered.subject.clone().unwrap_or_else(|| m.rendered.text.clone());
        text.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6).unwrap().to_string()
    }

    /// How many messages were sent that `pick` picks.
    pub fn sent_where(&self, pick: impl Fn(&OutgoingMessage) -> bool) -> usize {
        self.sent.sent.lock().unwrap().iter().filter(|m| pick(m)).count()
    }
}

/// The phone the stop tests text from.
pub const PHONE: &str = "+19165550100";

/// A Lee of the roll's fixtures signing up with these contacts, in English.
pub fn lee(first: &str, dob: &str, sms: &str, email: &str) -> wmb_core::signup::SignupRequest {
    wmb_core::signup::SignupRequest::from_fields(first, "Lee", dob, "90012", "", "en", sms, email, "", "", "").unwrap()
}

/// Stops `channels` on the page for the voter of `row`, the code coming by `code_by`.
pub async fn stop_on_the_page(f: &Fixture, row: &wmb_core::signup::SignupRequest, channels: &[Channel], code_by: Channel, at: &str) {
    let p = f.pipeline();
    let asked = t(at);
    let ticket = p.request_stop(&wmb_core::signup::IdentityRequest::from(row), channels.to_vec(), "198.51.100.7", asked).await.unwrap().unwrap();
    let code = f.code(MessageKind::AccountCode, code_by);
    p.enter_code(&ticket.change_id, &code, false, asked + chrono::Duration::minutes(2), &mut wmb_core::pipeline::Tally::default()).await.unwrap().unwrap();
}
