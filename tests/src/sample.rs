//! The sample election in events/sample-election/, for the tests of the local pipeline: where it
//! is, a copy to change, a replay of it, and the messages it is expected to send.

use anyhow::Result;
use ballot_tracking::outbox::OutboxLine;
use ballot_tracking::simulate::{Simulation, Summary};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/sample-election")
}

/// A folder with the sample election's files, to change before a run.
pub fn copy_of_sample() -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    for entry in std::fs::read_dir(sample_dir())? {
        let entry = entry?;
        std::fs::copy(entry.path(), dir.path().join(entry.file_name()))?;
    }
    Ok(dir)
}

/// Copies the sample to a temporary folder with its timeline rewritten.
pub fn sample_with_timeline(timeline: &str) -> Result<tempfile::TempDir> {
    let dir = copy_of_sample()?;
    std::fs::write(dir.path().join("timeline.csv"), timeline)?;
    Ok(dir)
}

/// Replays the election in `dir` on one lane: its output folder, summary and outbox.
pub fn simulate(dir: &Path) -> Result<(tempfile::TempDir, Summary, Vec<OutboxLine>)> {
    let out = tempfile::tempdir()?;
    let summary = Simulation { dir, out: out.path() }.run()?;
    let outbox = std::fs::read_to_string(out.path().join("outbox.jsonl"))?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<Vec<OutboxLine>, _>>()?;
    Ok((out, summary, outbox))
}

/// A message as expected-messages.csv lists it: (voter, message, ballot, channel, when).
pub type MessageId = (String, String, String, String, DateTime<Utc>);

pub fn id_of(m: &OutboxLine) -> MessageId {
    let at = DateTime::parse_from_rfc3339(&m.send_at).unwrap().with_timezone(&Utc);
    (m.voter_id.clone(), m.message.clone(), m.ballot_id.clone().unwrap_or_default(), m.channel.clone(), at)
}

/// The messages the sample election is expected to send.
pub fn expected_messages() -> Result<BTreeSet<MessageId>> {
    let mut r = csv::Reader::from_path(sample_dir().join("expected-messages.csv"))?;
    r.records()
        .map(|rec| {
            let rec = rec?;
            let at = DateTime::parse_from_rfc3339(&rec[4])?.with_timezone(&Utc);
            Ok((rec[0].to_string(), rec[1].to_string(), rec[2].to_string(), rec[3].to_string(), at))
        })
        .collect()
}
