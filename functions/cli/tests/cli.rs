//! The command line as a county, a print vendor or the cloud team uses it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ballot-tracking")).args(args).output().expect("runs")
}

fn sample(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/sample-election").join(file)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_names_each_bad_row_and_exits_non_zero() {
    let out = cli(&["check", sample("vbm-2026-11-05.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("vbm file"), "{text}");
    assert!(text.contains("line 14: status_time: '2026-13-04T10:15:00-08:00' is not an RFC 3339 time"), "{text}");
    assert!(text.contains("line 18: ballot_id: is empty"), "{text}");
    assert!(text.contains("rejected: 2"), "{text}");
    assert!(text.contains("would trigger"), "{text}");
}

#[test]
fn check_with_the_election_rejects_other_elections_and_counts_opted_out_counties() {
    let election = sample("election.toml");
    let out = cli(&["check", "--json", "--election", election.to_str().unwrap(), sample("vbm-2026-11-12.csv").to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["line"] == 7 && e["field"] == "election_id"), "{report}");
    let clean = cli(&["check", sample("voters.csv").to_str().unwrap()]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    assert!(stdout(&clean).contains("voters file"));
}

#[test]
fn a_file_that_is_no_county_file_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mystery.csv");
    std::fs::write(&path, "name,phone\nA,B\n").unwrap();
    let out = cli(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mystery.csv: line 1: the header matches no known file kind"), "{err}");
}

#[test]
fn render_previews_a_message_with_the_countys_contact() {
    let out = cli(&["render", "--lang", "en", "--message", "contact_county", "--channel", "sms", "--code", "NMS", "--county", "19"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains("Los Angeles"), "{text}");
    assert!(text.contains("segment"), "{text}");
    // The guidance's own names for the messages work too
    for name in ["InPerson", "NotAccepted", "Contact County", "cure-reminder"] {
        let out = cli(&["render", "--lang", "km", "--message", name, "--channel", "voice", "--code", "NVS"]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let bad = cli(&["render", "--message", "lost"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--message 'lost'"));
}

#[test]
fn a_generated_statewide_election_checks_clean_and_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("statewide");
    let out = cli(&["generate", "--voters", "3000", "--out", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for file in ["voters.csv", "signups.csv", "vbm-issued.csv", "vbm-returns.csv", "vbm-results.csv", "vph.csv"] {
        let checked = cli(&["check", "--json", data.join(file).to_str().unwrap()]);
        let report: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
        assert_eq!(report["rejected"], 0, "{file}: {report}");
        assert!(report["rows"].as_u64().unwrap() > 0, "{file} is empty");
    }
    let sim_out = dir.path().join("out");
    let sim = cli(&["simulate", data.to_str().unwrap(), "--out", sim_out.to_str().unwrap()]);
    assert!(sim.status.success(), "{}", String::from_utf8_lossy(&sim.stderr));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(sim_out.join("summary.json")).unwrap()).unwrap();
    let sent: u64 = summary["tally"]["sent"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert!(sent > 1000, "{summary}");
    assert_eq!(summary["still_held"], 0);
    let outbox = std::fs::read_to_string(sim_out.join("outbox.jsonl")).unwrap();
    let languages: std::collections::BTreeSet<String> = outbox
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["language"].as_str().unwrap().to_string())
        .collect();
    assert!(languages.len() >= 5, "a realistic mix of languages: {languages:?}");

    // `--compress` writes the same messages, zstd-compressed, and no plain outbox beside them.
    let sim = cli(&["simulate", data.to_str().unwrap(), "--out", sim_out.to_str().unwrap(), "--compress"]);
    assert!(sim.status.success(), "{}", String::from_utf8_lossy(&sim.stderr));
    let plain = std::fs::read(sim_out.join("outbox.jsonl")).err().map(|e| e.kind());
    assert_eq!(plain, Some(std::io::ErrorKind::NotFound), "the plain outbox of the earlier run is removed");
    let compressed = std::fs::read(sim_out.join("outbox.jsonl.zst")).unwrap();
    let text = String::from_utf8(zstd::decode_all(&compressed[..]).unwrap()).unwrap();
    assert_eq!(text, outbox);
    assert!(compressed.len() * 5 < text.len(), "{} bytes compressed from {}", compressed.len(), text.len());
}

#[test]
fn enrol_checks_counties_files_against_the_election_and_refuses_a_late_one_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let election = write("special.toml", "id = \"2027-03-09-SPL\"\nname = \"Special Election\"\ndate = \"2027-03-09\"\nkind = \"special\"\nenrolled = [\"01\"]\n[default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n");
    let on_time = write("19.toml", "election_id = \"2027-03-09-SPL\"\ncounty = \"19\"\ndecision = \"enrol\"\nrequested = \"2026-12-09\"\n");
    let late = write("37.toml", "election_id = \"2027-03-09-SPL\"\ncounty = \"37\"\ndecision = \"enrol\"\nrequested = \"2026-12-10\"\n");
    let out = cli(&["enrol", "--election", &election, &on_time, &late]);
    assert_eq!(out.status.code(), Some(1), "a refused enrolment fails the command");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("37.toml: requested: 2026-12-10 is 89 days before election day"), "{err}");
    assert!(stdout(&out).contains("2 counties take part: 01 19"), "{}", stdout(&out));
    assert!(cli(&["enrol", "--election", &election, &on_time]).status.success());
}

#[test]
fn check_reports_a_windows_spreadsheets_rows_at_the_lines_the_county_sees() {
    // A CR LF file (what a Windows spreadsheet saves) with a quoted line break: `check` used to
    // call the first data row line 1.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vbm.csv");
    std::fs::write(
        &path,
        "votecal_id,county_code,election_id,ballot_id,status_code,status_time\r\n\
         CA1,19,2026-11-03-GEN,B1,XX,2026-10-06T09:00:00-07:00\r\n\
         CA2,19,2026-11-03-GEN,\"B\r\n2\",ISSUED,2026-10-06T09:00:00-07:00\r\n\
         CA3,19,2026-11-03-GEN,B3,ISSUED,bad\r\n",
    )
    .unwrap();
    let text = stdout(&cli(&["check", path.to_str().unwrap()]));
    for line in ["line 2: status_code:", "line 3: ballot_id:", "line 5: status_time:"] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

#[test]
fn check_with_a_crosswalk_rejects_the_scans_simulate_rejects_at_the_same_lines() {
    // The sample's expected rejects, worked out by hand, say what `simulate` (and ingest)
    // reject in this feed; `check --crosswalk` says the same before the upload, checked as of
    // the time the timeline has the feed arrive.
    let (crosswalk, feed) = (sample("imb-crosswalk.csv"), sample("iv-scans-2026-10-06.jsonl"));
    let out = cli(&["check", "--arrived", "2026-10-06T10:00:00-07:00", "--crosswalk", crosswalk.to_str().unwrap(), feed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let expected = std::fs::read_to_string(sample("expected-rejects.csv")).unwrap();
    let mut n = 0;
    for row in expected.lines().filter(|l| l.starts_with("iv-scans-2026-10-06.jsonl,")) {
        let mut f = row.splitn(4, ',').skip(1);
        let (line, field, reason) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        assert!(text.contains(&format!("line {line}: {field}: {reason}")), "{row} in {text}");
        n += 1;
    }
    assert!(n >= 2 && text.contains(&format!("rejected: {n}")), "{text}");

    // Checked 61 days after that, the scans of the feed's first lines are refused as too old (a
    // wrong year or month), naming the line and the field; a time that is no time is refused whole.
    let late = stdout(&cli(&["check", "--arrived", "2026-12-06T10:00:00-08:00", "--crosswalk", crosswalk.to_str().unwrap(), feed.to_str().unwrap()]));
    assert!(late.contains("line 1: scan_datetime:") && late.contains("more than 60 days before the feed arrived"), "{late}");
    // Without `--arrived` the file is checked as arriving now (after 5 Dec 2026, when these scans
    // turned 60 days old), as ingest would read it if it were uploaded today.
    let today = stdout(&cli(&["check", "--crosswalk", crosswalk.to_str().unwrap(), feed.to_str().unwrap()]));
    assert!(today.contains("line 2: scan_datetime:") && today.contains("more than 60 days before the feed arrived"), "{today}");
    let bad = cli(&["check", "--arrived", "last Tuesday", feed.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--arrived 'last Tuesday' is not an RFC 3339 time"), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn the_voice_plan_lists_recordings_made_from_words_that_have_changed_since() {
    // The sample's recordings are noted as made from the language files' words as they are now.
    let plan = cli(&["render", "--voice-plan", "--prompts", sample("voice-prompts.toml").to_str().unwrap()]);
    assert_eq!(plan.status.code(), Some(0));
    assert!(!stdout(&plan).contains("record them again"), "{}", stdout(&plan));
    // A Khmer Undeliverable recorded before its words changed is listed to be made again.
    let text = std::fs::read_to_string(sample("voice-prompts.toml")).unwrap();
    let fingerprints = stdout(&cli(&["render", "--recording-fingerprints"]));
    let line = fingerprints.split("[recorded_from.km]").nth(1).unwrap().lines().find(|l| l.starts_with("undeliverable = ")).unwrap().to_string();
    let km = text.find("[recorded_from.km]").expect("the sample notes what its recordings say");
    let at = km + text[km..].find(&line).expect("the sample's Khmer Undeliverable is noted as made from today's words");
    let older = format!("{}undeliverable = \"0123456789abcdef\"{}", &text[..at], &text[at + line.len()..]);
    let dir = std::env::temp_dir().join(format!("wmb-voice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("voice-prompts.toml");
    std::fs::write(&path, older).unwrap();
    let stale = stdout(&cli(&["render", "--voice-plan", "--prompts", path.to_str().unwrap()]));
    assert!(stale.contains("| km | undeliverable |"), "{stale}");
    assert_eq!(stale.matches("| km |").count(), 2, "only Khmer's Undeliverable, beside its line of the plan: {stale}");
    std::fs::remove_dir_all(&dir).unwrap();
}
