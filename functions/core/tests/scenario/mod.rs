//! The reminder tests' world: one voter of Los Angeles signed up by text, an election with a
//! return reminder 7 days before its day, and a clock moved on by releasing what is held.
// (Each test file uses what it needs of this.)
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use wmb_core::ports::*;
use std::collections::BTreeMap;
use wmb_core::access::{AccessKeys, SigningKey};
use wmb_core::election::Election;
use wmb_core::formats::{Participation, VbmStatus, VoterRecord, VoterStatus};
use wmb_core::hours::NotificationHours;
use wmb_core::memory::{MemoryStore, RecordingDispatcher};
use wmb_core::pipeline::{Pipeline, Tally};
use wmb_core::reminders::*;
use wmb_core::signup::Subscription;
use wmb_core::status::{Language, MessageKind, ParticipationMethod, StatusCode};
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;
use wmb_core::CountyCode;

/// Election day 3 Nov 2026; cure deadline 1 Dec (E+28) at 5 p.m.; return reminder 7 days before.
pub const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
    [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n\
    [reminders]\nreturn_days_before = 7\n";

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn random() -> [u8; 16] {
    [5; 16]
}

/// One voter of Los Angeles, signed up by text with the given hours; the pipeline delivers
/// inline and the scenario moves the clock on by releasing what is held.
pub struct Scenario {
    pub store: MemoryStore,
    pub sent: RecordingDispatcher,
    pub elections: BTreeMap<String, Election>,
    catalog: Catalog,
    voice: VoicePlan,
    keys: AccessKeys,
}

impl Scenario {
    pub fn new(hours: NotificationHours) -> Scenario {
        let s = Scenario {
            store: MemoryStore::default(),
            sent: RecordingDispatcher::default(),
            elections: BTreeMap::from([("E".to_string(), Election::from_toml("e", ELECTION).unwrap())]),
            catalog: Catalog::embedded().unwrap(),
            voice: VoicePlan::default(),
            keys: AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None },
        };
        let county = CountyCode::parse("19").unwrap();
        futures::executor::block_on(async {
            let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
            let voter = VoterRecord { votecal_id: "CA1".into(), county, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "90012".into(), status: VoterStatus::Active };
            s.store.put_voter(&voter).await.unwrap();
            let sub = Subscription {
                votecal_id: "CA1".into(),
                county,
                language: Language::En,
                sms: Some("+13105550100".into()),
                email: None,
                voice: None,
                hours,
                signed_up_at: t("2026-09-01T12:00:00-07:00"),
                stopped: Default::default(),
                erase_after: None,
                file_row: None,
                read_as: Default::default(),
            };
            s.store.put_subscription(&sub).await.unwrap();
        });
        s
    }

    pub fn pipeline(&self) -> Pipeline<'_, MemoryStore, RecordingDispatcher> {
        Pipeline { store: &self.store, dispatcher: &self.sent, queue: &Inline, catalog: &self.catalog, elections: &self.elections, voice: &self.voice, access: &self.keys }
    }

    /// A status row arrives at `now` (with what was held until then released first).
    pub fn status(&self, ballot: &str, code: StatusCode, now: &str) {
        let now = t(now);
        self.until(now);
        let row = VbmStatus { votecal_id: "CA1".into(), county: CountyCode::parse("19").unwrap(), election_id: "E".into(), ballot_id: ballot.into(), status: code, status_time: now - Duration::hours(1) };
        futures::executor::block_on(self.pipeline().apply_status(&row, now, &mut Tally::default())).unwrap();
    }

    pub fn voted_in_person(&self, now: &str) {
        let now = t(now);
        self.until(now);
        let row = Participation { votecal_id: "CA1".into(), county: CountyCode::parse("19").unwrap(), election_id: "E".into(), method: ParticipationMethod::VoteCenter, time: now - Duration::hours(1), active: true };
        futures::executor::block_on(self.pipeline().apply_participation(&row, now, &mut Tally::default())).unwrap();
    }

    /// Releases everything held up to `until`, in time order, as the release schedules would.
    pub fn until(&self, until: DateTime<Utc>) {
        futures::executor::block_on(async {
            while let Some(next) = self.store.next_release().await.unwrap() {
                if next > until {
                    break;
                }
                self.pipeline().release_due(next, &mut Tally::default()).await.unwrap();
            }
        });
    }

    /// What the voter got: (message, when, text).
    pub fn received(&self) -> Vec<(MessageKind, DateTime<Utc>, String)> {
        self.sent.sent.lock().unwrap().iter().map(|m| (m.kind, m.send_at, m.rendered.text.clone())).collect()
    }

    pub fn reminders(&self) -> Vec<(MessageKind, DateTime<Utc>)> {
        self.received().into_iter().filter(|(k, _, _)| k.is_reminder()).map(|(k, at, _)| (k, at)).collect()
    }

    pub fn cure_reminders(&self) -> Vec<DateTime<Utc>> {
        self.reminders().into_iter().filter(|(k, _)| *k == MessageKind::CureReminder).map(|(_, at)| at).collect()
    }
}

pub const END: &str = "2026-12-31T00:00:00-08:00";

/// When a reminder for the scenario's voter goes on a day whose hours open at `open`.
pub fn at_open(open: &str, hours: NotificationHours) -> DateTime<Utc> {
    t(open) + spread("CA1", hours)
}
