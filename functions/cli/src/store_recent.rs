//! The last journey and the last subscription a scratch store wrote or read, kept as values: a
//! status row's journey is written and then read again by the delivery of each message it
//! decided, and the voter's subscription is read by the fan-out and again by each delivery. A
//! value kept here is the row as the table has it: it is set and read under the connection's
//! lock, by every write of its table, and only where no other process writes the file.

use wmb_core::lifecycle::BallotJourney;
use wmb_core::ports::Versioned;
use wmb_core::signup::Subscription;

#[derive(Default)]
pub(crate) struct Recent {
    journey: Option<Versioned<BallotJourney>>,
    subscription: Option<Subscription>,
}

impl Recent {
    /// The voter's journey in the election, if it is the one kept.
    pub fn journey(&self, election_id: &str, votecal_id: &str) -> Option<Versioned<BallotJourney>> {
        self.journey.as_ref().filter(|j| j.value.votecal_id == votecal_id && j.value.election_id == election_id).cloned()
    }

    /// A journey as just written or read, with its version.
    pub fn keep_journey(&mut self, journey: Versioned<BallotJourney>) {
        self.journey = Some(journey);
    }

    /// The voter's subscription, if it is the one kept.
    pub fn subscription(&self, votecal_id: &str) -> Option<Subscription> {
        self.subscription.as_ref().filter(|s| s.votecal_id == votecal_id).cloned()
    }

    /// A subscription as just written or read.
    pub fn keep_subscription(&mut self, sub: Subscription) {
        self.subscription = Some(sub);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wmb_core::CountyCode;

    #[test]
    fn only_the_voter_and_election_kept_are_answered() {
        let mut recent = Recent::default();
        let county = CountyCode::parse("19").unwrap();
        assert_eq!(recent.journey("2026-11-03-GEN", "CA1"), None);
        recent.keep_journey(Versioned { value: BallotJourney::new("2026-11-03-GEN", "CA1", county), version: 3 });
        assert_eq!(recent.journey("2026-11-03-GEN", "CA1").map(|j| j.version), Some(3));
        assert_eq!(recent.journey("2026-11-03-GEN", "CA2"), None);
        assert_eq!(recent.journey("2026-03-03-PRI", "CA1"), None);
        recent.keep_journey(Versioned { value: BallotJourney::new("2026-11-03-GEN", "CA2", county), version: 1 });
        assert_eq!(recent.journey("2026-11-03-GEN", "CA1"), None, "one journey is kept, the last");
    }
}
