//! The sample election's messages with their content, as `events/sample-election/
//! expected-bodies.txt` holds them: one block a message, in the order of expected-messages.csv's
//! key (voter, message, ballot, channel, time), giving its recipient, language, subject, text,
//! the SHA-256 of an email's HTML and how a call speaks. A reviewer reads the texts there; the
//! local pipeline's test and the Lambdas' test both hold what they send to it.
//!
//! When a template changes on purpose, `WMB_BLESS=1 cargo test -p wmb-tests --test
//! local_pipeline` writes the file anew, for the change to be read in its diff.

use crate::harness::repo_path;
use ballot_tracking::outbox::OutboxLine;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

pub const PATH: &str = "events/sample-election/expected-bodies.txt";

/// What identifies a message in expected-messages.csv: voter, message, ballot, channel, time.
pub type MessageKey = (String, String, String, String, String);

/// One message as the golden file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Golden {
    pub key: MessageKey,
    pub to: String,
    pub language: String,
    pub subject: Option<String>,
    pub html_sha256: Option<String>,
    pub voice: Option<String>,
    pub body: String,
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// How a call speaks: a recorded prompt, or Polly with a voice.
pub fn voice_of(rendering: &wmb_core::voice::VoiceRendering) -> String {
    match rendering {
        wmb_core::voice::VoiceRendering::Prompt { prompt } => format!("prompt {prompt}"),
        wmb_core::voice::VoiceRendering::Polly { voice_id, .. } => format!("polly {voice_id}"),
    }
}

impl Golden {
    pub fn of(m: &OutboxLine) -> Golden {
        Golden {
            key: (m.voter_id.clone(), m.message.clone(), m.ballot_id.clone().unwrap_or_default(), m.channel.clone(), m.send_at.clone()),
            to: m.to.clone(),
            language: m.language.clone(),
            subject: m.subject.clone(),
            html_sha256: m.html.as_deref().map(sha256_hex),
            voice: m.voice.as_ref().map(voice_of),
            body: m.body.clone(),
        }
    }
}

/// The golden file's text for these messages (sorted by key).
pub fn render(messages: &[Golden]) -> String {
    let mut sorted: Vec<&Golden> = messages.iter().collect();
    sorted.sort_by(|a, b| (&a.key, &a.body).cmp(&(&b.key, &b.body)));
    let mut out = String::from(
        "# The sample election's messages with their content (tests/src/golden.rs reads this;\n\
         # WMB_BLESS=1 cargo test -p wmb-tests --test local_pipeline writes it). A block a message:\n\
         # === voter message ballot channel time, then its fields, then its text, each line after \"| \".\n",
    );
    for m in sorted {
        let (voter, message, ballot, channel, at) = &m.key;
        let ballot = if ballot.is_empty() { "-" } else { ballot };
        let _ = writeln!(out, "\n=== {voter} {message} {ballot} {channel} {at}");
        let _ = writeln!(out, "to: {}", m.to);
        let _ = writeln!(out, "language: {}", m.language);
        if let Some(s) = &m.subject {
            let _ = writeln!(out, "subject: {s}");
        }
        if let Some(h) = &m.html_sha256 {
            let _ = writeln!(out, "html-sha256: {h}");
        }
        if let Some(v) = &m.voice {
            let _ = writeln!(out, "voice: {v}");
        }
        for line in m.body.split('\n') {
            let _ = writeln!(out, "| {line}");
        }
    }
    out
}

/// Reads the golden file's messages.
pub fn parse(text: &str) -> Vec<Golden> {
    let mut all = Vec::new();
    let mut current: Option<(Golden, Vec<String>)> = None;
    let finish = |current: &mut Option<(Golden, Vec<String>)>, all: &mut Vec<Golden>| {
        if let Some((mut g, lines)) = current.take() {
            g.body = lines.join("\n");
            all.push(g);
        }
    };
    for (n, line) in text.lines().enumerate() {
        let where_ = || format!("{PATH}: line {}", n + 1);
        if let Some(head) = line.strip_prefix("=== ") {
            finish(&mut current, &mut all);
            let f: Vec<&str> = head.split(' ').collect();
            assert_eq!(f.len(), 5, "{}: a block starts with voter, message, ballot, channel and time", where_());
            let ballot = if f[2] == "-" { "" } else { f[2] };
            let key = (f[0].into(), f[1].into(), ballot.into(), f[3].into(), f[4].into());
            current = Some((Golden { key, to: String::new(), language: String::new(), subject: None, html_sha256: None, voice: None, body: String::new() }, Vec::new()));
        } else if let Some((g, body)) = current.as_mut() {
            if let Some(text) = line.strip_prefix("| ").or(if line == "|" { Some("") } else { None }) {
                body.push(text.to_string());
            } else if let Some((field, value)) = line.split_once(": ") {
                match field {
                    "to" => g.to = value.into(),
                    "language" => g.language = value.into(),
                    "subject" => g.subject = Some(value.into()),
                    "html-sha256" => g.html_sha256 = Some(value.into()),
                    "voice" => g.voice = Some(value.into()),
                    other => panic!("{}: unknown field {other}", where_()),
                }
            } else {
                assert!(line.is_empty(), "{}: neither a field nor a line of text", where_());
            }
        }
    }
    finish(&mut current, &mut all);
    all
}

pub fn expected() -> Vec<Golden> {
    parse(&std::fs::read_to_string(repo_path(PATH)).expect("the golden file"))
}

/// Holds these messages to the golden file: every block equal, none missing, none extra. With
/// WMB_BLESS=1 the file is written from them instead.
pub fn check(messages: &[Golden]) {
    check_text(PATH, &render(messages), "\n=== ");
}

/// Holds a text to the golden file at `rel` (from the repository's root), or writes it there with
/// WMB_BLESS=1. A difference is shown as the first differing piece (pieces split at `sep`), and
/// the whole text is left in target/ for a diff.
pub fn check_text(rel: &str, actual: &str, sep: &str) {
    let path = repo_path(rel);
    if std::env::var("WMB_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let written = repo_path(&format!("target/{name}.actual"));
        let _ = std::fs::write(&written, actual);
        let (a, e) = (actual.split(sep).collect::<Vec<_>>(), expected.split(sep).collect::<Vec<_>>());
        let first = a.iter().zip(e.iter()).position(|(x, y)| x != y).unwrap_or(a.len().min(e.len()));
        panic!(
            "{rel} differs ({} pieces now, {} expected); the first difference:\n--- expected\n{}\n--- now\n{}\n(the whole text is in {}; WMB_BLESS=1 rewrites {rel} when the change is meant)",
            a.len(),
            e.len(),
            e.get(first).unwrap_or(&"(nothing)"),
            a.get(first).unwrap_or(&"(nothing)"),
            written.display()
        );
    }
}

/// What the golden file expects each provider to have been handed: SMS (to, text), email (to,
/// subject, SHA-256 of the HTML) and calls (to, message, the prompt or Polly voice), each with
/// its count: the shapes `world::sent_by_aws` gives, emails with their HTML hashed.
pub type ByProvider = (BTreeMap<(String, String), usize>, BTreeMap<(String, String, String), usize>, BTreeMap<(String, String, String), usize>);

pub fn by_provider(messages: &[Golden]) -> ByProvider {
    let (mut sms, mut email, mut calls) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for m in messages {
        match m.key.3.as_str() {
            "sms" => *sms.entry((m.to.clone(), m.body.clone())).or_default() += 1,
            "email" => *email.entry((m.to.clone(), m.subject.clone().unwrap_or_default(), m.html_sha256.clone().unwrap_or_default())).or_default() += 1,
            _ => {
                let how = m.voice.as_deref().and_then(|v| v.split_once(' ')).map(|(_, name)| name.to_string()).unwrap_or_default();
                *calls.entry((m.to.clone(), m.key.1.clone(), how)).or_default() += 1
            }
        }
    }
    (sms, email, calls)
}

/// A rejected row as a county reads it: file, line, field, reason.
pub type Reject = (String, u64, String, String);

/// The rejected rows of events/sample-election/expected-rejects.csv.
pub fn expected_rejects() -> BTreeSet<Reject> {
    let mut r = csv::Reader::from_path(repo_path("events/sample-election/expected-rejects.csv")).expect("expected-rejects.csv");
    r.records().map(|rec| rec.expect("a row")).map(|rec| (rec[0].to_string(), rec[1].parse().expect("a line number"), rec[2].to_string(), rec[3].to_string())).collect()
}

/// The rejected rows of one file's error report (`line,field,reason`).
pub fn rejects_in_report(file: &str, report: &str) -> Vec<Reject> {
    let mut r = csv::Reader::from_reader(report.as_bytes());
    r.records()
        .map(|rec| rec.expect("a report row"))
        .map(|rec| (file.to_string(), rec[0].parse().expect("a line number"), rec[1].to_string(), rec[2].to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_reads_back_as_written_blank_lines_and_bars_included() {
        let g = Golden {
            key: ("CA1".into(), "outbound".into(), String::new(), "email".into(), "2026-10-06T12:00:00-07:00".into()),
            to: "a@example.org".into(),
            language: "es".into(),
            subject: Some("Su boleta: enviada".into()),
            html_sha256: Some(sha256_hex("<p>x</p>")),
            voice: None,
            body: "Hola,\n\n| no es un campo\nto: tampoco\n".into(),
        };
        let call = Golden { key: ("CA2".into(), "received".into(), "01-1".into(), "voice".into(), "t".into()), voice: Some("polly Lupe".into()), subject: None, html_sha256: None, ..g.clone() };
        assert_eq!(parse(&render(&[call.clone(), g.clone()])), vec![g, call]);
    }
}
