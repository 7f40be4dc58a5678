//! County files with a date typed wrong (a year ahead, a month ahead, before any ballot was
//! mailed): each row is reported at its line and field, and the voter still hears her ballot's
//! true news, as if the row had not come.

use anyhow::Result;
use ballot_tracking::outbox::OutboxLine;
use std::collections::BTreeSet;
use wmb_tests::sample::{expected_messages, id_of, sample_dir, sample_with_timeline, simulate, MessageId};

#[test]
fn a_status_typed_in_the_wrong_year_is_reported_and_does_not_silence_the_ballots_true_news() -> Result<()> {
    // GIVEN a county file on 21 Oct whose "in review" for CA000000101's ballot is dated a year
    // ahead (2027 for 2026), beside a good row, and an "accepted" dated a year back (2025)
    let mut timeline = std::fs::read_to_string(sample_dir().join("timeline.csv"))?;
    timeline.push_str("2026-10-21T09:00:00-07:00,vbm,vbm-typo.csv\n");
    let dir = sample_with_timeline(&timeline)?;
    std::fs::write(
        dir.path().join("vbm-typo.csv"),
        "votecal_id,county_code,election_id,ballot_id,status_code,status_time\n\
         CA000000101,01,2026-11-03-GEN,01-000101-1,INR,2027-10-20T14:10:00-07:00\n\
         CA000000101,01,2026-11-03-GEN,01-000101-1,INR,2026-10-20T16:00:00-07:00\n\
         CA000000101,01,2026-11-03-GEN,01-000101-1,ACCEPTED,2025-10-20T10:00:00-07:00\n",
    )?;
    // WHEN the election is replayed
    let (out, summary, outbox) = simulate(dir.path())?;
    // THEN the county's report names the row's line and field, and keeps the good row
    let report = summary.files.iter().find(|f| f.file == "vbm-typo.csv").unwrap();
    assert_eq!((report.accepted, report.rejected), (1, 2));
    let errors = std::fs::read_to_string(out.path().join("reports").join("vbm-typo.csv.errors.csv"))?;
    assert!(errors.lines().any(|l| l.starts_with("2,status_time,") && l.contains("dated in the future")), "{errors}");
    assert!(errors.lines().any(|l| l.starts_with("4,status_time,") && l.contains("more than 60 days before election day (2026-11-03)")), "{errors}");
    // AND the voter hears exactly what she would have without the file: her acceptance on 3 Nov
    // is not taken for older news than a status dated 2027
    let expected: BTreeSet<MessageId> = expected_messages()?.into_iter().filter(|m| m.0 == "CA000000101").collect();
    let got: BTreeSet<MessageId> = outbox.iter().filter(|m| m.voter_id == "CA000000101").map(id_of).collect();
    assert!(expected.iter().any(|m| m.1 == "accepted"));
    assert_eq!(got, expected);
    Ok(())
}

#[test]
fn a_scan_typed_a_month_ahead_is_reported_and_does_not_silence_the_ballots_true_news() -> Result<()> {
    // GIVEN the 6 Oct scan feed whose first scan (CA000000110's ballot leaving the plant) is
    // dated 6 Nov, a typo for 6 Oct
    let timeline = std::fs::read_to_string(sample_dir().join("timeline.csv"))?;
    let dir = sample_with_timeline(&timeline)?;
    let feed = dir.path().join("iv-scans-2026-10-06.jsonl");
    let text = std::fs::read_to_string(&feed)?;
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(first.contains("\"scanDatetime\":\"2026-10-06 07:15:00\"") && first.contains("000110001"));
    std::fs::write(&feed, format!("{}\n{rest}", first.replace("2026-10-06 07:15:00", "2026-11-06 07:15:00")))?;
    // WHEN the election is replayed
    let (out, _summary, outbox) = simulate(dir.path())?;
    // THEN the feed's report names the scan's line and field
    let errors = std::fs::read_to_string(out.path().join("reports").join("iv-scans-2026-10-06.jsonl.errors.csv"))?;
    assert!(errors.lines().any(|l| l.starts_with("1,scan_datetime,") && l.contains("dated in the future")), "{errors}");
    // AND she still hears her ballot was received and accepted (a scan dated in November would
    // have made every status before it older news), and is never told it was mailed in November
    let got: Vec<&OutboxLine> = outbox.iter().filter(|m| m.voter_id == "CA000000110").collect();
    for kind in ["received", "accepted"] {
        assert!(got.iter().any(|m| m.message == kind), "{kind}: {:?}", got.iter().map(|m| &m.message).collect::<Vec<_>>());
    }
    assert!(got.iter().all(|m| !m.body.contains("6 de noviembre") && !m.body.contains("November 6")));
    Ok(())
}

#[test]
fn a_scan_dated_before_any_ballot_of_its_election_was_mailed_is_reported_and_not_told() -> Result<()> {
    // GIVEN the 6 Oct scan feed whose first scan (CA000000110's ballot leaving the plant) is
    // dated 20 Aug: within two months of the feed, but before E-60 of the 3 Nov election (4 Sep)
    let timeline = std::fs::read_to_string(sample_dir().join("timeline.csv"))?;
    let dir = sample_with_timeline(&timeline)?;
    let feed = dir.path().join("iv-scans-2026-10-06.jsonl");
    let text = std::fs::read_to_string(&feed)?;
    std::fs::write(&feed, text.replacen("2026-10-06 07:15:00", "2026-08-20 07:15:00", 1))?;
    // WHEN the election is replayed
    let (out, _summary, outbox) = simulate(dir.path())?;
    // THEN the feed's report names the scan's line and field, with the election's day
    let errors = std::fs::read_to_string(out.path().join("reports").join("iv-scans-2026-10-06.jsonl.errors.csv"))?;
    assert!(errors.lines().any(|l| l.starts_with("1,scan_datetime,") && l.contains("more than 60 days before election day (2026-11-03)")), "{errors}");
    // AND she is told her ballot was mailed on the day the county's file says, not in August
    let mailed: Vec<&OutboxLine> = outbox.iter().filter(|m| m.voter_id == "CA000000110" && m.message == "outbound").collect();
    assert!(!mailed.is_empty() && mailed.iter().all(|m| !m.body.contains("agosto") && !m.body.contains("August")), "{:?}", mailed.iter().map(|m| &m.body).collect::<Vec<_>>());
    Ok(())
}
