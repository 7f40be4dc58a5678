//! How long personal data is kept: when each stored thing expires (DynamoDB TTL on AWS, S3
//! lifecycle rules for files). The periods, and why:
//!
//! - **A voter's journey (their ballot's statuses) and the message ledger** (which message went
//!   to which voter): [`DAYS_AFTER_TRACKING_END`] days after the election's tracking end (E+30),
//!   about E+120. Long enough for the voter's "my ballot" page after the count, for a recount or
//!   an election contest to ask what a voter was told, and for every redelivery of a message
//!   (no message goes out after the tracking end, and a queue keeps one at most 14 days), so the
//!   ledger's at-most-once guarantee outlives anything that could send twice.
//! - **Facts kept for voters who have not signed up**: as their election's journeys.
//! - **Ledger entries of messages about no election** (sign-up confirmations, codes, answers to
//!   STOP): [`DAYS_WITHOUT_ELECTION`] days after they were sent.
//! - **Held messages**: 30 days after their release time (set where they are held).
//! - **County files as uploaded** (the roll with names and birth dates, statuses): deleted
//!   [`INCOMING_FILE_DAYS`] days after upload. They are copies: VoteCal and the counties keep the
//!   records the law requires; ours serve re-processing during the election.
//! - **Reports** (rows rejected with line and reason, counts; no personal values):
//!   [`REPORT_DAYS`] days, the 22 months federal election records are kept (52 U.S.C. 20701).
//!
//! A subscription stopped on every channel is erased 30 days after the stop
//! ([`crate::signup::RETENTION_DAYS_AFTER_STOP`]); a live one is kept until the voter stops it.

use crate::election::Election;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Days after the tracking end that a journey, its ledger entries and its kept facts expire.
pub const DAYS_AFTER_TRACKING_END: i64 = 90;
/// Days after sending that the ledger entry of a message about no election expires.
pub const DAYS_WITHOUT_ELECTION: i64 = 90;
/// Days after upload that a county file is deleted (S3 lifecycle, `incoming/`).
pub const INCOMING_FILE_DAYS: i64 = 120;
/// Days after writing that a report is deleted (S3 lifecycle, `reports/`).
pub const REPORT_DAYS: i64 = 670;
/// Nothing written expires sooner than this after it is written (a late file for an election
/// whose data has already expired is kept a while rather than dropped at once).
pub const MIN_DAYS: i64 = 30;

/// When the data of each election expires.
#[derive(Debug, Clone, Default)]
pub struct Expiry {
    by_election: BTreeMap<String, DateTime<Utc>>,
}

impl Expiry {
    pub fn new<'a>(elections: impl IntoIterator<Item = &'a Election>) -> Expiry {
        Expiry { by_election: elections.into_iter().map(|e| (e.id().to_string(), election_data_expires(e))).collect() }
    }

    /// When a journey or kept fact of this election, written now, expires.
    pub fn of_election(&self, election_id: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        let at = self.by_election.get(election_id).copied().unwrap_or(now + Duration::days(DAYS_WITHOUT_ELECTION));
        at.max(now + Duration::days(MIN_DAYS))
    }

    /// When the ledger entry of a message key, written now, expires: the key of ballot news and
    /// reminders starts with its election's id.
    pub fn of_message(&self, key: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        let first = key.split('#').next().unwrap_or_default();
        match self.by_election.contains_key(first) {
            true => self.of_election(first, now),
            false => now + Duration::days(DAYS_WITHOUT_ELECTION),
        }
    }
}

/// The election's journeys, ledger entries and kept facts expire this long after tracking ends.
pub fn election_data_expires(e: &Election) -> DateTime<Utc> {
    e.window_closes() + Duration::days(DAYS_AFTER_TRACKING_END)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELECTION: &str = "id = \"2026-11-03-GEN\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_elections_data_expires_90_days_after_its_tracking_end_and_other_messages_90_days_after_sending() {
        let e = Election::from_toml("e", ELECTION).unwrap();
        let expiry = Expiry::new([&e]);
        let now = t("2026-10-20T12:00:00-07:00");
        // Tracking ends 3 Dec 2026 (E+30): the window closes at midnight, and 90 days on is 3 Mar 2027.
        assert_eq!(expiry.of_election("2026-11-03-GEN", now), t("2027-03-04T00:00:00-08:00"));
        assert_eq!(expiry.of_message("2026-11-03-GEN#CA1#B1#outbound#sms", now), t("2027-03-04T00:00:00-08:00"));
        assert_eq!(expiry.of_message("signup#CA1#1790000000#sms", now), now + Duration::days(90));
        assert_eq!(expiry.of_message("2025-06-03-SPL#CA1#B1#outbound#sms", now), now + Duration::days(90), "an election not loaded");
        // A file that arrives after the election's data expired is still kept 30 days.
        let late = t("2027-04-01T12:00:00-07:00");
        assert_eq!(expiry.of_election("2026-11-03-GEN", late), late + Duration::days(30));
    }
}
