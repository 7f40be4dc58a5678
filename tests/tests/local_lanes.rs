//! The local replay split into lanes (`simulate --lanes N`) tells every voter and every county
//! exactly what one lane does: the same messages, the same reports, the same summary.

use anyhow::Result;
use ballot_tracking::simulate::Simulation;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wmb_tests::sample::{copy_of_sample, sample_dir};

/// What a run leaves for voters and counties: every outbox line (in order within its lane's
/// file, the files' lines sorted together), `summary.json`, and every report file by path.
struct Outcome {
    lines: Vec<String>,
    summary: String,
    reports: BTreeMap<PathBuf, Vec<u8>>,
}

fn run(dir: &Path, lanes: usize) -> Result<Outcome> {
    let out = tempfile::tempdir()?;
    Simulation { dir, out: out.path() }.run_in_lanes("outbox.jsonl", lanes)?;
    let mut lines = vec![];
    let mut outboxes = 0;
    for entry in std::fs::read_dir(out.path())? {
        let name = entry?.file_name().to_string_lossy().to_string();
        if name.starts_with("outbox") {
            outboxes += 1;
            lines.extend(std::fs::read_to_string(out.path().join(&name))?.lines().map(str::to_string));
        }
    }
    assert_eq!(outboxes, lanes, "one outbox a lane");
    lines.sort();
    let mut reports = BTreeMap::new();
    let mut dirs = vec![out.path().join("reports")];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                reports.insert(path.strip_prefix(out.path())?.to_path_buf(), std::fs::read(&path)?);
            }
        }
    }
    let summary = std::fs::read_to_string(out.path().join("summary.json"))?;
    Ok(Outcome { lines, summary, reports })
}

/// The errors report of `file` in a run.
fn errors_of(outcome: &Outcome, file: &str) -> Result<String> {
    Ok(String::from_utf8(outcome.reports[&Path::new("reports").join(format!("{file}.errors.csv"))].clone())?)
}

fn assert_same(one: &Outcome, many: &Outcome) {
    assert!(!one.lines.is_empty(), "the election sends messages");
    assert_eq!(one.lines.len(), many.lines.len(), "as many messages");
    for (a, b) in one.lines.iter().zip(&many.lines) {
        assert_eq!(a, b, "the same message, word for word");
    }
    assert_eq!(one.summary, many.summary, "the same summary");
    assert_eq!(one.reports.keys().collect::<Vec<_>>(), many.reports.keys().collect::<Vec<_>>(), "the same report files");
    for (path, bytes) in &one.reports {
        assert_eq!(Some(bytes), many.reports.get(path), "{}: the same report", path.display());
    }
}

#[test]
fn the_sample_election_in_three_lanes_sends_and_reports_what_one_lane_does() -> Result<()> {
    // GIVEN the sample election (bad rows, a roll update, scans, every status, ten languages)
    // WHEN it is replayed on one lane and on three
    let one = run(&sample_dir(), 1)?;
    let three = run(&sample_dir(), 3)?;
    // THEN voters get the same messages and counties the same reports and daily summaries
    assert_same(&one, &three);
    Ok(())
}

#[test]
fn sign_ups_after_the_status_files_catch_up_from_every_lane_as_on_one() -> Result<()> {
    // GIVEN the sample election with its sign-ups arriving after the October status files, so
    // each voter's news waits in their lane's kept facts until they sign up
    let dir = copy_of_sample()?;
    let timeline = std::fs::read_to_string(sample_dir().join("timeline.csv"))?;
    let late: String = timeline
        .lines()
        .map(|l| if l.ends_with(",signups,signups.csv") { l.replacen("2026-09-25T10:00:00-07:00", "2026-10-21T10:00:00-07:00", 1) } else { l.to_string() })
        .map(|l| l + "\n")
        .collect();
    assert_ne!(late, timeline);
    std::fs::write(dir.path().join("timeline.csv"), late)?;
    // WHEN it is replayed on one lane and on two
    let one = run(dir.path(), 1)?;
    let two = run(dir.path(), 2)?;
    // THEN the late sign-ups are told their ballots' news (sent the morning they signed up, or
    // held to their hours) and the two runs agree message for message
    assert!(one.lines.iter().any(|l| l.contains("\"send_at\":\"2026-10-21")), "late sign-ups caught up");
    assert_same(&one, &two);
    Ok(())
}

#[test]
fn a_change_too_soon_and_a_household_phone_in_a_sign_up_file_come_out_as_on_one_lane() -> Result<()> {
    // GIVEN the sample election's sign-up file with, at its end, Emily Chen again with new
    // choices (a change minutes after her sign-up: refused, try later) and two active voters of
    // the roll who had not signed up, signing up with Emily's phone (a household)
    let dir = copy_of_sample()?;
    let mut signups = std::fs::read_to_string(sample_dir().join("signups.csv"))?;
    let name = |first: &str, last: &str| {
        let n = |s: &str| wmb_core::signup::normalize_name(s.trim_matches('"'));
        format!("{}|{}", n(first), n(last))
    };
    let signed_up: Vec<String> = signups.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()).map(|f| name(f[0], f[1])).collect();
    signups.push_str("Emily,Chen,1985-03-14,94612,,es,+15105550101,,,,\n");
    let roll = std::fs::read_to_string(sample_dir().join("voters.csv"))?;
    let others: Vec<Vec<&str>> = roll
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[6] == "ACTIVE" && !signed_up.contains(&name(f[2], f[3])))
        .take(2)
        .collect();
    assert_eq!(others.len(), 2, "two active voters not signed up");
    for f in &others {
        signups.push_str(&format!("{},{},{},{},,en,+15105550101,,,,\n", f[2], f[3], f[4], f[5]));
    }
    std::fs::write(dir.path().join("signups.csv"), signups)?;
    // WHEN it is replayed on one lane and on three
    let one = run(dir.path(), 1)?;
    let three = run(dir.path(), 3)?;
    // THEN the change is refused at its line on both, the household's two new voters are told
    // on Emily's phone, and everything else agrees
    let errors = errors_of(&one, "signups.csv")?;
    assert!(errors.contains("refused (try_later)"), "{errors}");
    let to_the_phone = one.lines.iter().filter(|l| l.contains("\"to\":\"+15105550101\"") && l.contains("signup_confirmation")).count();
    assert!(to_the_phone >= 3, "Emily's and the household's confirmations: {to_the_phone}\n{errors}");
    assert_same(&one, &three);
    Ok(())
}

#[test]
fn an_envelope_another_county_maps_again_stays_with_the_first_county_in_lanes_as_on_one() -> Result<()> {
    // GIVEN the sample election's crosswalk with, at its end, San Diego's return envelope of Ana
    // Torres (county 37) mapped again by Alameda (county 19) to one of its own voters
    let dir = copy_of_sample()?;
    let mut crosswalk = std::fs::read_to_string(sample_dir().join("imb-crosswalk.csv"))?;
    let lines = crosswalk.lines().count();
    crosswalk.push_str("00708123456000120002,19,CA000000110,2026-11-03-GEN,19-000110-1,inbound\n");
    std::fs::write(dir.path().join("imb-crosswalk.csv"), crosswalk)?;
    // WHEN it is replayed on one lane and on three (the crosswalk's rows and the scans on
    // their lanes)
    let one = run(dir.path(), 1)?;
    let three = run(dir.path(), 3)?;
    // THEN the new row is refused at its line, the first county keeps the envelope, and every
    // message and report agrees
    let errors = errors_of(&one, "imb-crosswalk.csv")?;
    let refused = format!("{},votecal_id,IMb 00708123456000120002 is another county's envelope", lines + 1);
    assert!(errors.lines().any(|l| l.starts_with(&refused)), "{errors}");
    assert_same(&one, &three);
    Ok(())
}

#[test]
fn a_generated_election_in_two_lanes_sends_and_reports_what_one_lane_does() -> Result<()> {
    // GIVEN a generated election of 3,000 voters (a fifth signed up, IMb scans, four status
    // rows a ballot, cure reminders)
    let dir = tempfile::tempdir()?;
    ballot_tracking::generate::generate(dir.path(), 3_000, 7)?;
    // WHEN it is replayed on one lane and on two
    let one = run(dir.path(), 1)?;
    let two = run(dir.path(), 2)?;
    // THEN the same messages, reports and summary
    assert_same(&one, &two);
    Ok(())
}

#[test]
fn stops_the_hotline_took_reach_voters_of_every_lane_as_on_one() -> Result<()> {
    // GIVEN the sample election, and on 16 October the Secretary of State's stops file: Emily
    // Chen's phone (texts and calls), José Ramírez's whole sign-up, a row with no contact, and a
    // phone no voter gave
    let dir = copy_of_sample()?;
    std::fs::write(
        dir.path().join("stops.csv"),
        "votecal_id,last_name,phone,email,channels,requested_at\n,,+1 (510) 555-0101,,,2026-10-15 16:20\nCA000000103,RAMIREZ,,,,2026-10-16\n,,,,sms,2026-10-15\n,,510-555-0999,,texts,2026-10-15\n",
    )?;
    let timeline = std::fs::read_to_string(sample_dir().join("timeline.csv"))?;
    std::fs::write(dir.path().join("timeline.csv"), format!("{timeline}2026-10-16T08:00:00-07:00,stops,stops.csv\n"))?;
    // WHEN it is replayed on one lane and on three
    let one = run(dir.path(), 1)?;
    let three = run(dir.path(), 3)?;
    // THEN nothing goes to Emily's phone or to José after it; Emily's email, and her calls to
    // another phone, go on
    let after = |l: &&String| l.split("\"send_at\":\"").nth(1).is_some_and(|t| t > "2026-10-16T15");
    let to = |who: &str| one.lines.iter().filter(after).filter(|l| l.contains(who)).count();
    assert_eq!((to("\"+15105550101\""), to("\"+15105550103\"")), (0, 0));
    assert!(to("emily.chen@example.com") > 0 && to("\"+15105550191\"") > 0, "her email and calls were not stopped");
    let before = run(&sample_dir(), 1)?;
    let sent_before = |who: &str| before.lines.iter().filter(after).filter(|l| l.contains(who)).count();
    assert!(sent_before("\"+15105550101\"") > 0 && sent_before("\"+15105550103\"") > 0, "without the file, both are texted after 16 October");
    // AND the row with no contact is reported at its line
    assert!(errors_of(&one, "stops.csv")?.contains("4,votecal_id,"), "{}", errors_of(&one, "stops.csv")?);
    // AND the phone no voter gave is reported at its line, for the staff to check
    assert!(errors_of(&one, "stops.csv")?.contains("5,phone,\"no sign-up's texts go to this number now"), "{}", errors_of(&one, "stops.csv")?);
    // AND three lanes send and report what one does
    assert_same(&one, &three);
    Ok(())
}
