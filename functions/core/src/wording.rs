//! Which texts a message is written with. Most messages have one set; a ballot not accepted has a
//! second for once the polls have closed: told in December that "the county can tell you whether
//! you can still vote (Election Day is November 3)", a voter would read that she still might, and
//! ask about a day that has passed. After the polls close she hears why, whom to ask, and where to
//! check her registration (her signature on file) before the next election.

use crate::election::Election;
use crate::status::{MessageKind, StatusCode};
use chrono::{DateTime, Utc};

/// One set of texts in a language file: `[messages.<key>]`, for the message `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Wording {
    pub kind: MessageKind,
    pub key: &'static str,
}

/// Not accepted, told after the polls closed.
pub const NOT_ACCEPTED_AFTER_ELECTION: Wording = Wording { kind: MessageKind::NotAccepted, key: "not_accepted_after_election" };

/// The reasons whose `[reasons]` phrase asks the voter to act ("the county needs more
/// information"): after the polls closed, a final verdict says what was missing instead, from the
/// language file's `[reasons_after_election]`.
pub const FINAL_REASONS: [StatusCode; 2] = [StatusCode::Inf, StatusCode::Nid];

/// The texts that stand in for a message's own at some times.
const STAND_INS: [Wording; 1] = [NOT_ACCEPTED_AFTER_ELECTION];

impl Wording {
    /// A message's own texts.
    pub fn of(kind: MessageKind) -> Wording {
        Wording { kind, key: kind.key() }
    }

    /// Every set of texts a language file must have: each message's own, then the stand-ins.
    pub fn all() -> impl Iterator<Item = Wording> {
        MessageKind::ALL.into_iter().map(Wording::of).chain(STAND_INS)
    }

    /// The set of texts of this key, if a language file may have it.
    pub fn from_key(key: &str) -> Option<Wording> {
        Wording::all().find(|w| w.key == key)
    }

    /// The texts a message going at `at` is written with: a Not Accepted sent once the polls of
    /// its election have closed gets the texts that no longer point to Election Day.
    pub fn at(kind: MessageKind, election: Option<&Election>, at: DateTime<Utc>) -> Wording {
        match election {
            Some(e) if kind == MessageKind::NotAccepted && at >= e.polls_close() => NOT_ACCEPTED_AFTER_ELECTION,
            _ => Wording::of(kind),
        }
    }
}

impl Wording {
    /// Whether these texts give a final verdict, with the reasons of `[reasons_after_election]`.
    pub fn has_final_reasons(self) -> bool {
        self == NOT_ACCEPTED_AFTER_ELECTION
    }
}

impl std::fmt::Display for Wording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_ballot_not_accepted_is_told_without_election_day_once_the_polls_have_closed() {
        let e = Election::from_toml("e", "id = \"2026-11-03-GEN\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n[default_contact]\nphone = \"(916) 657-2166\"\nemail = \"e@example.gov\"\nurl = \"https://example.gov\"\n").unwrap();
        let na = MessageKind::NotAccepted;
        assert_eq!(Wording::at(na, Some(&e), utc("2026-11-03T19:59:59-08:00")), Wording::of(na));
        assert_eq!(Wording::at(na, Some(&e), utc("2026-11-03T20:00:00-08:00")), NOT_ACCEPTED_AFTER_ELECTION);
        assert_eq!(Wording::at(na, Some(&e), utc("2026-12-02T10:00:00-08:00")), NOT_ACCEPTED_AFTER_ELECTION);
        // Other news keeps its own texts; so does a message of no election.
        assert_eq!(Wording::at(MessageKind::Accepted, Some(&e), utc("2026-12-02T10:00:00-08:00")), Wording::of(MessageKind::Accepted));
        assert_eq!(Wording::at(na, None, utc("2026-12-02T10:00:00-08:00")), Wording::of(na));
        assert_eq!(Wording::from_key("not_accepted_after_election"), Some(NOT_ACCEPTED_AFTER_ELECTION));
        assert_eq!(Wording::from_key("accepted"), Some(Wording::of(MessageKind::Accepted)));
        assert_eq!(Wording::from_key("accepted_after_election"), None);
    }
}
