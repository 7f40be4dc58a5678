//! What went out on AWS, compared with what the local pipeline sends for the sample election:
//! messages counted by recipient and content, and those lost or sent twice.

use crate::harness::repo_path;
use crate::world::World;
use ballot_tracking::outbox::OutboxLine;
use std::collections::BTreeMap;

/// What the local pipeline sends for the sample election.
pub fn local_outbox() -> Vec<OutboxLine> {
    local_run().0
}

/// The local pipeline's outbox for the sample election, and its counties' daily summaries and
/// settings sheets (by their path under reports/: `<NN>/daily/…`, `<NN>/settings/…`).
pub fn local_run() -> (Vec<OutboxLine>, BTreeMap<String, String>) {
    let out = tempfile::tempdir().unwrap();
    ballot_tracking::simulate::Simulation { dir: &repo_path("events/sample-election"), out: out.path() }.run().unwrap();
    let outbox = std::fs::read_to_string(out.path().join("outbox.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut daily = BTreeMap::new();
    for county in std::fs::read_dir(out.path().join("reports")).unwrap().filter_map(|e| e.ok()) {
        for sheets in ["daily", "settings"].into_iter().filter(|d| county.path().join(d).is_dir()) {
            for file in std::fs::read_dir(county.path().join(sheets)).unwrap() {
                let file = file.unwrap();
                let path = format!("{}/{sheets}/{}", county.file_name().to_string_lossy(), file.file_name().to_string_lossy());
                daily.insert(path, std::fs::read_to_string(file.path()).unwrap());
            }
        }
    }
    (outbox, daily)
}

pub fn counted<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> BTreeMap<T, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m
}

/// What went out: SMS (to, text), emails (to, subject, HTML) and calls (to, message, voice), counted.
pub type Sent = (BTreeMap<(String, String), usize>, BTreeMap<(String, String, String), usize>, BTreeMap<(String, String, String), usize>);

/// What the local pipeline's outbox holds, in the same shape.
pub fn sent_locally(local: &[OutboxLine]) -> Sent {
    let sms = counted(local.iter().filter(|m| m.channel == "sms").map(|m| (m.to.clone(), m.body.clone())));
    let email = counted(local.iter().filter(|m| m.channel == "email").map(|m| (m.to.clone(), m.subject.clone().unwrap(), m.html.clone().unwrap())));
    let calls = counted(local.iter().filter(|m| m.channel == "voice").map(|m| {
        let how = match m.voice.clone().unwrap() {
            wmb_core::voice::VoiceRendering::Prompt { prompt } => prompt,
            wmb_core::voice::VoiceRendering::Polly { voice_id, .. } => voice_id,
        };
        (m.to.clone(), m.message.clone(), how)
    }));
    (sms, email, calls)
}

/// Messages lost (expected, not sent) and duplicated (sent more often than expected).
/// (Each message that differs is printed, for the failure's reader.)
pub fn lost_and_duplicated<K: Ord + std::fmt::Debug>(expected: &BTreeMap<K, usize>, sent: &BTreeMap<K, usize>) -> (usize, usize) {
    for (k, n) in expected.iter().filter(|(k, n)| sent.get(*k) != Some(*n)) {
        eprintln!("expected {n}, sent {}: {:.300}", sent.get(k).copied().unwrap_or(0), format!("{k:?}"));
    }
    for (k, n) in sent.iter().filter(|(k, _)| !expected.contains_key(*k)) {
        eprintln!("expected 0, sent {n}: {:.300}", format!("{k:?}"));
    }
    let lost = expected.iter().map(|(k, n)| n.saturating_sub(sent.get(k).copied().unwrap_or(0))).sum();
    let duplicated = sent.iter().map(|(k, n)| n.saturating_sub(expected.get(k).copied().unwrap_or(0))).sum();
    (lost, duplicated)
}

pub fn sent_by_aws(world: &World) -> Sent {
    (counted(world.moto.sms()), counted(world.moto.emails()), counted(world.calls.lock().unwrap().clone()))
}

/// Holds the world to the local pipeline: on every channel, nothing lost and nothing sent twice.
pub fn assert_sends_as_locally(world: &World) {
    let (sms, emails, calls) = sent_by_aws(world);
    let (local_sms, local_email, local_calls) = sent_locally(&local_outbox());
    for (channel, result) in [("sms", lost_and_duplicated(&local_sms, &sms)), ("email", lost_and_duplicated(&local_email, &emails)), ("voice", lost_and_duplicated(&local_calls, &calls))] {
        eprintln!("{channel}: lost and duplicated {result:?}");
        assert_eq!(result, (0, 0), "{channel}");
    }
}
