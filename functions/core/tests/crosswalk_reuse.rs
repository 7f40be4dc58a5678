//! Print vendors reuse IMb serial numbers (USPS asks them to be unique for 45 days only): an
//! envelope of an election that is over can be mapped again, by another county too; one of an
//! election still tracked cannot be taken over.

mod common;

use chrono::NaiveDate;
use common::{random, t, Fixture, ANN};
use wmb_core::formats::{VoterRecord, VoterStatus};
use wmb_core::ports::*;
use wmb_core::usps::{Direction, ImbMapping};
use wmb_core::CountyCode;

const TRACKING: &str = "00700123456000110001";

#[test]
fn a_serial_number_reused_after_the_election_is_over_maps_the_new_countys_envelope() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        // GIVEN Zed, a voter of county 37, and Ann's envelope for the November election (E),
        // mapped by county 19's vendor
        let sd = CountyCode::parse("37").unwrap();
        let zed = VoterRecord { votecal_id: "CA9".into(), county: sd, first_name: "Zed".into(), last_name: "Ray".into(), date_of_birth: NaiveDate::from_ymd_opt(1970, 1, 2).unwrap(), zip: "92101".into(), status: VoterStatus::Active };
        f.store.put_voter(&zed).await.unwrap();
        let ann = ImbMapping { tracking: TRACKING.into(), county: f.county, votecal_id: "CA1".into(), election_id: "E".into(), ballot_id: None, direction: Direction::Outbound };
        assert_eq!(p.record_mapping(&ann, t("2026-10-01T10:00:00-07:00")).await.unwrap(), Ok(()));
        let zeds = ImbMapping { county: sd, votecal_id: "CA9".into(), election_id: "2027-03-02-SPC".into(), ..ann.clone() };
        // WHEN county 37's vendor maps the same tracking code while E is still tracked
        let refused = p.record_mapping(&zeds, t("2026-11-20T10:00:00-08:00")).await.unwrap();
        // THEN the row is refused at its line, and Ann's scans stay hers
        assert!(refused.as_ref().is_err_and(|r| r.contains("another county's envelope")), "{refused:?}");
        assert_eq!(f.store.mapping(TRACKING).await.unwrap().map(|m| m.votecal_id), Some("CA1".into()));
        // WHEN it maps it for a special election in the new year, after E's tracking ended
        assert_eq!(p.record_mapping(&zeds, t("2027-01-25T10:00:00-08:00")).await.unwrap(), Ok(()));
        // THEN the envelope is Zed's: his scans reach his journey, not Ann's finished one
        assert_eq!(f.store.mapping(TRACKING).await.unwrap(), Some(zeds.clone()));
        // AND, his special election not defined yet (so never closed), no other county's row
        // can take it from him, though no election is tracked now
        let back = p.record_mapping(&ann, t("2027-01-26T10:00:00-08:00")).await.unwrap();
        assert!(back.is_err(), "{back:?}");
        assert_eq!(f.store.mapping(TRACKING).await.unwrap(), Some(zeds));
    });
}
