//! The local pipeline on the sample election in events/, end to end: what voters receive and
//! what counties are told, against the expectations worked out in events/sample-election/.

use anyhow::Result;
use ballot_tracking::outbox::OutboxLine;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use wmb_tests::golden::Golden;
use wmb_tests::sample::{expected_messages, id_of, sample_dir, sample_with_timeline, simulate, MessageId};

#[test]
fn the_sample_election_sends_exactly_the_expected_messages_at_the_expected_times() -> Result<()> {
    // GIVEN the sample election's files arriving as its timeline says
    // WHEN the local pipeline replays it
    let (_out, summary, outbox) = simulate(&sample_dir())?;
    // THEN every voter gets exactly the messages worked out by hand, on each chosen channel,
    // released at the expected moment (quiet hours, DST), and nothing else
    let got: BTreeSet<MessageId> = outbox.iter().map(id_of).collect();
    assert_eq!(got.len(), outbox.len(), "a message was sent twice");
    let expected = expected_messages()?;
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing: {missing:#?}\nextra: {extra:#?}");
    assert_eq!(summary.still_held, 0);
    assert!(summary.failed_sends.is_empty());
    // AND each one says what expected-bodies.txt says, word for word: recipient, language,
    // subject, text (dates of status and deadlines included), the email's HTML and the call's voice
    let golden: Vec<Golden> = outbox.iter().map(Golden::of).collect();
    wmb_tests::golden::check(&golden);
    let golden_keys: BTreeSet<MessageId> = wmb_tests::golden::expected().iter().map(|g| {
        let (v, m, b, c, at) = g.key.clone();
        (v, m, b, c, DateTime::parse_from_rfc3339(&at).unwrap().with_timezone(&Utc))
    }).collect();
    assert_eq!(golden_keys, expected, "expected-bodies.txt and expected-messages.csv list the same messages");
    // AND each goes to the contact the voter gave for that channel, in the language they chose,
    // as signups.csv says (read here on its own: a row names its voter by VoteCal ID, or by the
    // birth date and ZIP only one voter on the roll has)
    let chosen = choices_in_signups()?;
    for m in &outbox {
        let Some((language, contacts)) = chosen.get(&m.voter_id) else { panic!("{} signed up in no row", m.voter_id) };
        assert_eq!(&m.language, language, "{} {} {}", m.voter_id, m.message, m.channel);
        assert_eq!(contacts.get(m.channel.as_str()), Some(&m.to), "{} {} {}", m.voter_id, m.message, m.channel);
    }
    Ok(())
}

/// A voter's language and contact by channel.
type Choices = (String, BTreeMap<&'static str, String>);

/// What each voter chose in signups.csv: language, and contact by channel (phones in E.164).
fn choices_in_signups() -> Result<BTreeMap<String, Choices>> {
    let mut by_birth_and_zip: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut roll = csv::Reader::from_path(sample_dir().join("voters.csv"))?;
    for rec in roll.records() {
        let rec = rec?;
        by_birth_and_zip.entry((rec[4].to_string(), rec[5].to_string())).or_default().push(rec[0].to_string());
    }
    let phone = |p: &str| {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        if digits.len() == 10 { format!("+1{digits}") } else { format!("+{digits}") }
    };
    let mut chosen = BTreeMap::new();
    let mut signups = csv::Reader::from_path(sample_dir().join("signups.csv"))?;
    for rec in signups.records() {
        let rec = rec?;
        let voter = match (&rec[4], by_birth_and_zip.get(&(rec[2].to_string(), rec[3].to_string()))) {
            (id, _) if !id.is_empty() => id.to_string(),
            (_, Some(one)) if one.len() == 1 => one[0].clone(),
            _ => continue,
        };
        let mut contacts = BTreeMap::new();
        for (channel, i) in [("sms", 6), ("email", 7), ("voice", 8)] {
            if !rec[i].is_empty() {
                contacts.insert(channel, if channel == "email" { rec[i].to_string() } else { phone(&rec[i]) });
            }
        }
        chosen.insert(voter, (rec[5].to_string(), contacts));
    }
    Ok(chosen)
}

#[test]
fn every_status_code_and_every_channel_reaches_a_voter() -> Result<()> {
    let (_out, _summary, outbox) = simulate(&sample_dir())?;
    let messages: BTreeSet<&str> = outbox.iter().map(|m| m.message.as_str()).collect();
    for m in ["outbound", "received", "accepted", "not_accepted", "contact_county", "undeliverable", "reissued", "in_person", "signup_confirmation"] {
        assert!(messages.contains(m), "no {m} message was sent");
    }
    let channels: BTreeSet<&str> = outbox.iter().map(|m| m.channel.as_str()).collect();
    assert_eq!(channels, BTreeSet::from(["email", "sms", "voice"]));
    assert!(
        !outbox.iter().any(|m| m.message == "signup_confirmation" && m.channel == "voice"),
        "confirmations never go by voice"
    );
    Ok(())
}

#[test]
fn messages_are_complete_in_the_voters_language_and_name_the_county_contact_when_action_is_needed() -> Result<()> {
    let (_out, _summary, outbox) = simulate(&sample_dir())?;
    let election = std::fs::read_to_string(sample_dir().join("election.toml"))?;
    let election = wmb_core::Election::from_toml("election.toml", &election)?;
    for m in &outbox {
        assert!(!m.body.trim().is_empty(), "{} has an empty body", m.key);
        assert!(!m.body.contains('{') && !m.body.contains('}'), "{} has an unfilled placeholder: {}", m.key, m.body);
        if m.channel == "email" {
            let html = m.html.as_deref().expect("an email has HTML");
            assert!(html.contains(&format!("<html lang=\"{}\"", m.language)), "{}: {html}", m.key);
            assert!(m.subject.as_deref().is_some_and(|s| !s.is_empty()));
        }
        if matches!(m.message.as_str(), "contact_county" | "not_accepted" | "undeliverable") && m.channel != "email" {
            let county = wmb_core::CountyCode::parse(&m.ballot_id.as_deref().unwrap()[..2]).unwrap();
            let phone = election.contact(county).phone;
            assert!(m.body.contains(&phone), "{} should give the county's phone {phone}: {}", m.key, m.body);
        }
    }
    // The Spanish-speaking voter (sign-up line 4) reads Spanish, not English.
    let jose: Vec<_> = outbox.iter().filter(|m| m.voter_id == "CA000000103").collect();
    assert!(!jose.is_empty() && jose.iter().all(|m| m.language == "es"));
    let english_outbound = outbox.iter().find(|m| m.language == "en" && m.message == "outbound" && m.channel == "sms").unwrap();
    let spanish_outbound = jose.iter().find(|m| m.message == "outbound").unwrap();
    assert_ne!(english_outbound.body.split(':').nth(1), spanish_outbound.body.split(':').nth(1));
    Ok(())
}

#[test]
fn every_bad_row_is_reported_with_its_line_and_field_and_the_good_rows_are_kept() -> Result<()> {
    let (out, summary, _outbox) = simulate(&sample_dir())?;
    // (each with the reason the county reads, as expected-rejects.csv gives it)
    let expected = wmb_tests::golden::expected_rejects();
    let mut got = BTreeSet::new();
    for f in &summary.files {
        assert!(f.file_error.is_none(), "{} was not read", f.file);
        let report = std::fs::read_to_string(out.path().join("reports").join(format!("{}.errors.csv", f.file)))?;
        for reject in wmb_tests::golden::rejects_in_report(&f.file, &report) {
            assert!(!reject.3.is_empty(), "a reason is given");
            got.insert(reject);
        }
    }
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing: {missing:#?}\nextra: {extra:#?}");
    // AND the run's summary (each file's counts, the milestones, messages by channel, holds,
    // duplicates suppressed, sign-ups refused by reason) is the one in expected-summary.json
    let now = serde_json::to_string_pretty(&summary)? + "\n";
    wmb_tests::golden::check_text("events/sample-election/expected-summary.json", &now, "\n    {");
    let accepted: BTreeMap<&str, u64> = summary.files.iter().map(|f| (f.file.as_str(), f.accepted)).collect();
    assert_eq!(accepted["voters.csv"], 40);
    assert_eq!(accepted["vbm-2026-10-06.csv"], 37, "the good rows around a bad one are all used");
    Ok(())
}

#[test]
fn a_file_delivered_twice_sends_nothing_twice() -> Result<()> {
    // GIVEN every file of the sample arriving a second time, an hour after the first
    let original = std::fs::read_to_string(sample_dir().join("timeline.csv"))?;
    let mut timeline = original.clone();
    for line in original.lines().skip(1) {
        let (at, rest) = line.split_once(',').unwrap();
        let later = DateTime::parse_from_rfc3339(at)? + chrono::Duration::hours(1);
        timeline.push_str(&format!("{},{rest}\n", later.to_rfc3339()));
    }
    let dir = sample_with_timeline(&timeline)?;
    // WHEN it is replayed
    let (_out, summary, outbox) = simulate(dir.path())?;
    // THEN voters receive the same messages as from one delivery, none twice
    // (counted: a cure reminder goes up to three times for one ballot and channel)
    let count = |items: Vec<(String, String, String, String)>| items.into_iter().fold(BTreeMap::new(), |mut m, k| {
        *m.entry(k).or_insert(0) += 1;
        m
    });
    let once = count(expected_messages()?.into_iter().map(|(v, m, b, c, _)| (v, m, b, c)).collect());
    let twice = count(outbox.iter().map(|m| (m.voter_id.clone(), m.message.clone(), m.ballot_id.clone().unwrap_or_default(), m.channel.clone())).collect());
    assert_eq!(twice, once);
    assert_eq!(summary.files.len(), 2 * (original.lines().count() - 1), "every file was read twice");
    Ok(())
}

#[test]
fn files_arriving_out_of_order_send_no_stale_news() -> Result<()> {
    // GIVEN the November results arriving before the October returns
    let timeline = "at,kind,path\n\
        2026-09-20T06:00:00-07:00,voters,voters.csv\n\
        2026-09-25T10:00:00-07:00,signups,signups.csv\n\
        2026-10-06T12:00:00-07:00,vbm,vbm-2026-10-06.csv\n\
        2026-11-05T14:00:00-08:00,vbm,vbm-2026-11-05.csv\n\
        2026-11-06T14:00:00-08:00,vbm,vbm-2026-10-20.csv\n";
    let dir = sample_with_timeline(timeline)?;
    let (_out, _summary, outbox) = simulate(dir.path())?;
    // THEN a voter told "accepted" is never told "received" afterwards
    let mut by_ballot: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for m in outbox.iter().filter(|m| m.channel != "email") {
        if let Some(b) = &m.ballot_id {
            by_ballot.entry(format!("{b}/{}", m.channel)).or_default().push((m.send_at.clone(), m.message.clone()));
        }
    }
    let mut checked = 0;
    for (ballot, mut msgs) in by_ballot {
        msgs.sort();
        if let Some(accepted) = msgs.iter().position(|(_, m)| m == "accepted") {
            checked += 1;
            assert!(!msgs[accepted..].iter().any(|(_, m)| m == "received"), "{ballot}: {msgs:?}");
        }
    }
    assert!(checked > 0, "the scenario has accepted ballots");
    Ok(())
}

#[test]
fn the_sample_election_speaks_all_ten_languages_on_all_three_channels() -> Result<()> {
    let (_out, _summary, outbox) = simulate(&sample_dir())?;
    let languages: BTreeSet<&str> = outbox.iter().map(|m| m.language.as_str()).collect();
    assert_eq!(languages, BTreeSet::from(["en", "es", "hi", "ja", "km", "ko", "th", "tl", "vi", "zh"]));
    // Every language on every channel (Sokha Chea's calls are the Khmer ones)
    let pairs: BTreeSet<(&str, &str)> = outbox.iter().map(|m| (m.language.as_str(), m.channel.as_str())).collect();
    for lang in &languages {
        for channel in ["sms", "email", "voice"] {
            assert!(pairs.contains(&(*lang, channel)), "no {lang} {channel} in the sample");
        }
    }
    // Every call says how it speaks: Polly only in a language Polly speaks, else a recording
    // listed for the call's own language.
    let prompts = std::fs::read_to_string(sample_dir().join("voice-prompts.toml")).unwrap();
    let plan = wmb_core::voice::VoicePlan::from_toml("voice-prompts.toml", &prompts).unwrap();
    for call in outbox.iter().filter(|m| m.channel == "voice") {
        match call.voice.as_ref().expect("a call has a voice rendering") {
            wmb_core::voice::VoiceRendering::Polly { language_code, .. } => {
                assert!(language_code.starts_with(&call.language), "{}: {language_code}", call.key)
            }
            wmb_core::voice::VoiceRendering::Prompt { prompt } => {
                let language = wmb_core::status::Language::parse(&call.language).unwrap();
                assert!(plan.prompts[&language].values().any(|p| p == prompt), "{}: {prompt}", call.key)
            }
        }
    }
    Ok(())
}

#[test]
fn without_a_recording_a_call_in_a_language_polly_does_not_speak_is_not_made_and_says_why() -> Result<()> {
    // GIVEN the sample without its recorded prompts
    let timeline = std::fs::read_to_string(sample_dir().join("timeline.csv"))?;
    let dir = sample_with_timeline(&timeline)?;
    std::fs::remove_file(dir.path().join("voice-prompts.toml"))?;
    let (out, summary, outbox) = simulate(dir.path())?;
    // THEN the signups file's rows asking for calls only in Tagalog and Chinese are refused in
    // its report, so the county can reach those voters; no call goes out in Tagalog,
    // Vietnamese, Chinese, Thai or Khmer, each is recorded with its reason, the texts and email
    // of voters who chose them too still go, and the calls Polly can make still go out
    let report = std::fs::read_to_string(out.path().join("reports").join("signups.csv.errors.csv"))?;
    let refused: Vec<&str> = report.lines().filter(|l| l.contains("calls_unavailable")).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(refused, ["5", "24"], "{report}");
    assert!(outbox.iter().any(|m| m.voter_id == "CA000000115" && m.channel == "sms"), "Sokha Chea's texts in Khmer");
    assert!(!outbox.iter().any(|m| m.channel == "voice" && ["tl", "vi", "zh", "th", "km"].contains(&m.language.as_str())));
    assert!(outbox.iter().any(|m| m.channel == "voice" && m.language == "es"));
    assert!(!summary.failed_sends.is_empty());
    for (key, reason) in &summary.failed_sends {
        assert!(key.ends_with("#voice") && reason.contains("no recorded prompt"), "{key}: {reason}");
    }
    Ok(())
}

#[test]
fn the_sample_election_reminds_a_ballot_still_needing_action_and_only_ballots_not_yet_returned() -> Result<()> {
    let (_out, _summary, outbox) = simulate(&sample_dir())?;
    let catalog = wmb_core::templates::Catalog::embedded()?;
    let date = |lang: &str, d: &str| catalog.language(wmb_core::Language::parse(lang).unwrap()).format_date(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
    // Ravi Patel's ballot needs information (INF) and is never cured: three reminders by text,
    // each with the cure deadline written as Hindi writes dates
    let ravi: Vec<&OutboxLine> = outbox.iter().filter(|m| m.voter_id == "CA000000125" && m.message == "cure_reminder" && m.channel == "sms").collect();
    assert_eq!(ravi.len(), 3);
    for m in &ravi {
        assert!(m.body.contains(&date("hi", "2026-12-01")), "{}", m.body);
    }
    // Yuki Tanaka's signature mismatch was cured before the first reminder: none
    assert!(!outbox.iter().any(|m| m.voter_id == "CA000000114" && m.message == "cure_reminder"));
    // The return reminder goes to ballots still only issued on 27 October, with election day in
    // the voter's language, and never to a ballot back before then (In Review, Accepted,
    // cancelled, undeliverable, not accepted)
    let returned_before: BTreeSet<&str> = ["CA000000101", "CA000000103", "CA000000107", "CA000000110", "CA000000112", "CA000000114", "CA000000119", "CA000000123", "CA000000131", "CA000000140", "CA000000141"].into();
    let reminded: Vec<&OutboxLine> = outbox.iter().filter(|m| m.message == "return_reminder").collect();
    assert!(reminded.len() >= 10, "{}", reminded.len());
    for m in &reminded {
        assert!(!returned_before.contains(m.voter_id.as_str()), "{} was reminded", m.voter_id);
        assert!(m.send_at.starts_with("2026-10-27T"), "{}", m.send_at);
        if m.channel != "voice" {
            assert!(m.body.contains(&date(&m.language, "2026-11-03")), "{}: {}", m.language, m.body);
        }
    }
    Ok(())
}

/// Each voter's county at a moment: the roll, then the update's moves from when it arrived.
fn county_at(voter: &str, at: DateTime<Utc>) -> Result<String> {
    let update_at = DateTime::parse_from_rfc3339("2026-10-15T06:00:00-07:00")?.with_timezone(&Utc);
    let mut county = None;
    for (file, from) in [("voters.csv", DateTime::<Utc>::MIN_UTC), ("voters-update-2026-10-15.csv", update_at)] {
        let mut r = csv::Reader::from_path(sample_dir().join(file))?;
        for rec in r.records() {
            let rec = rec?;
            if &rec[0] == voter && at >= from {
                county = Some(format!("{:0>2}", &rec[1]));
            }
        }
    }
    county.ok_or_else(|| anyhow::anyhow!("{voter} is not on the roll"))
}

#[test]
fn each_county_gets_a_daily_summary_that_counts_what_its_voters_were_sent_and_each_file_a_summary() -> Result<()> {
    // GIVEN the sample election replayed
    let (out, summary, _outbox) = simulate(&sample_dir())?;
    // WHEN the counties open their daily summaries (reports/<NN>/daily/<date>.csv)
    let reports = out.path().join("reports");
    let mut sent: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
    let mut signups: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut files = 0;
    for county in std::fs::read_dir(&reports)?.filter_map(|e| e.ok()).filter(|e| e.path().join("daily").is_dir()) {
        for day in std::fs::read_dir(county.path().join("daily"))? {
            files += 1;
            let mut r = csv::Reader::from_path(day?.path())?;
            assert_eq!(r.headers()?, vec!["date", "county", "what", "message", "channel", "count"]);
            for rec in r.records() {
                let rec = rec?;
                assert_eq!(county.file_name().to_string_lossy(), &rec[1], "a county's folder holds only its own summary");
                let count: u64 = rec[5].parse()?;
                match &rec[2] {
                    "messages_sent" => *sent.entry((rec[0].to_string(), rec[1].to_string(), rec[3].to_string(), rec[4].to_string())).or_default() += count,
                    "signups" => *signups.entry((rec[0].to_string(), rec[1].to_string())).or_default() += count,
                    "choices_changed" => {}
                    other => panic!("the sample election has no {other}: every send succeeds and nobody stops"),
                }
            }
        }
    }
    // THEN the messages each county's voters were sent, by day (Pacific), message and channel,
    // are exactly those worked out by hand in expected-messages.csv
    let mut expected: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
    let mut r = csv::Reader::from_path(sample_dir().join("expected-messages.csv"))?;
    for rec in r.records() {
        let rec = rec?;
        let at = DateTime::parse_from_rfc3339(&rec[4])?.with_timezone(&Utc);
        // (A voter told she moved is counted by the county she signed up in.)
        let county = if &rec[1] == "moved_county" { county_at(&rec[0], DateTime::<Utc>::MIN_UTC)? } else { county_at(&rec[0], at)? };
        let key = (wmb_core::time::pacific_date(at).to_string(), county, rec[1].to_string(), rec[3].to_string());
        *expected.entry(key).or_default() += 1;
    }
    assert_eq!(sent, expected);
    // AND the 25 sign-ups accepted from signups.csv are counted on the day the file came
    assert_eq!(signups.iter().filter(|(k, _)| k.0 == "2026-09-25").map(|(_, n)| n).sum::<u64>(), 25);
    assert_eq!(signups.values().sum::<u64>(), 25, "{signups:?}");
    assert!(files >= expected.keys().map(|k| (&k.0, &k.1)).collect::<BTreeSet<_>>().len());
    // AND each file's summary beside its error report counts its rows and what they decided
    let vbm = std::fs::read_to_string(reports.join("vbm-2026-10-06.csv.summary.csv"))?;
    let row = |what: &str, message: &str| -> u64 {
        vbm.lines().find_map(|l| l.strip_prefix(&format!("{what},{message},"))).map_or(0, |n| n.parse().unwrap())
    };
    let report = summary.files.iter().find(|f| f.file == "vbm-2026-10-06.csv").unwrap();
    assert_eq!((row("accepted", ""), row("rejected", ""), row("rows_read", "")), (37, report.rejected, 37 + report.rejected));
    assert!(report.rejected > 0, "the sample's first status file has a bad row");
    assert!(row("milestones", "outbound") > 0, "{vbm}");
    let signups_file = std::fs::read_to_string(reports.join("signups.csv.summary.csv"))?;
    assert!(signups_file.contains("\naccepted,,25\n") && signups_file.contains("\nrefused,,5\n") && signups_file.contains("\nrejected,,2\n"), "{signups_file}");
    // AND nothing in any report names a voter or repeats a contact
    let files: Vec<String> = ["voters.csv", "signups.csv"].iter().map(|f| std::fs::read_to_string(sample_dir().join(f))).collect::<Result<_, _>>()?;
    let personal: BTreeSet<&str> = files
        .iter()
        .flat_map(|f| f.lines().skip(1))
        .flat_map(|l| l.split(','))
        .filter(|v| v.len() > 4 && !v.starts_with("CA0") && v.chars().any(|c| c.is_alphabetic() || c == '+' || c == '@'))
        .filter(|v| !["ACTIVE", "INACTIVE", "CANCELED", "PENDING"].contains(v))
        .collect();
    assert!(personal.contains("Okafor") && personal.contains("+15105550101"), "the search looks for names and contacts");
    // (nor any error report, nor summary.json)
    for entry in walk(&reports)?.into_iter().chain([out.path().join("summary.json")]) {
        let text = std::fs::read_to_string(&entry)?;
        for p in &personal {
            assert!(!text.contains(p), "{} repeats '{p}'", entry.display());
        }
    }
    Ok(())
}

#[test]
fn each_county_taking_part_sees_what_its_voters_are_told_and_which_of_it_is_a_default() -> Result<()> {
    // GIVEN the sample election replayed: six counties give their own contacts, none its own
    // cure deadline, and Sierra (46) opted out
    let (out, _summary, _outbox) = simulate(&sample_dir())?;
    let sheet = |county: &str| std::fs::read_to_string(out.path().join("reports").join(county).join("settings").join("2026-11-03-GEN.csv"));
    // THEN every county taking part has its sheet, Sierra none
    let sheets = walk(&out.path().join("reports"))?.into_iter().filter(|p| p.parent().is_some_and(|d| d.ends_with("settings"))).count();
    assert_eq!(sheets, 57);
    assert!(sheet("46").is_err(), "Sierra opted out");
    // AND Los Angeles reads its own phone, and that its cure deadline is the default, with how to set its own
    let la = sheet("19")?;
    assert!(la.contains("\n2026-11-03-GEN,19,phone,(800) 555-0119,county\n"), "{la}");
    assert!(la.contains("\n2026-11-03-GEN,19,cure_deadline,2026-12-01 17:00 Pacific,default: 28 days after election day; a county that certifies earlier sets its own in its enrolment file\n"), "{la}");
    assert!(la.contains("\n2026-11-03-GEN,19,not_accepted_if_never_fixed_on,2026-12-03,default: two days after the cure deadline (certification) or tracking_end if that comes first\n"), "{la}");
    assert!(la.contains("\n2026-11-03-GEN,19,imb,both,county\n"), "{la}");
    // AND Alameda, which said it uses no IMb, reads that as its own
    assert!(sheet("01")?.contains("\n2026-11-03-GEN,01,imb,none,county\n"), "{}", sheet("01")?);
    // AND a county with no table of its own reads the election's contact, said to be shared
    let contra_costa = sheet("07")?;
    assert!(contra_costa.contains("\n2026-11-03-GEN,07,phone,(916) 657-2166,election: the contact shared by every county without its own; a county sets its own in its enrolment file\n"), "{contra_costa}");
    assert!(contra_costa.contains("\n2026-11-03-GEN,07,imb,none,default\n"), "{contra_costa}");
    Ok(())
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}
