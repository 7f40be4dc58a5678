//! `render`: preview one message, or the SMS segment table of every message and language.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use wmb_core::election::Election;
use wmb_core::lifecycle::MilestoneDecision;
use wmb_core::notify::message_values;
use wmb_core::status::{Channel, Language, MessageKind, Milestone, StatusCode};
use wmb_core::templates::{sms_segments, Catalog, SmsEncoding};
pub use wmb_core::templates::segment_table;
use wmb_core::CountyCode;

/// The election used when none is given: the sample election in events/.
pub const SAMPLE_ELECTION: &str = include_str!("../../../events/sample-election/election.toml");

/// The milestone a message is about (a reminder: the one that planned it).
fn milestone_of(kind: MessageKind) -> Option<Milestone> {
    match kind {
        MessageKind::CureReminder => Some(Milestone::ContactCounty),
        MessageKind::ReturnReminder => Some(Milestone::Outbound),
        _ => Milestone::ALL.into_iter().find(|m| MessageKind::from(*m) == kind),
    }
}

/// A status code that fits the message, for previews: the first code that triggers it.
fn default_code(kind: MessageKind) -> Option<StatusCode> {
    let milestone = milestone_of(kind)?;
    StatusCode::ALL.into_iter().find(|c| c.has_reason() && c.milestone() == milestone)
}

pub struct Preview<'a> {
    pub lang: Language,
    pub kind: MessageKind,
    pub channel: Channel,
    pub election: &'a Election,
    pub county: CountyCode,
    pub code: Option<StatusCode>,
    pub status_time: DateTime<Utc>,
}

pub fn render(catalog: &Catalog, p: &Preview) -> Result<String> {
    let decision = milestone_of(p.kind).map(|milestone| MilestoneDecision {
        ballot_id: Some("19-000101-1".into()),
        milestone,
        code: p.code.or_else(|| default_code(p.kind)),
        status_time: p.status_time,
        settle_until: None,
        earlier: 0,
    });
    let t = catalog.language(p.lang);
    let hours = Default::default();
    let election = (p.kind != MessageKind::SignupConfirmation).then_some(p.election);
    // As it would go at the status's time: a Not Accepted after the polls closed has its own texts.
    let wording = wmb_core::wording::Wording::at(p.kind, election, p.status_time);
    let values = message_values(t, p.lang, election, p.county, decision.as_ref(), hours, wording);
    let r = catalog.render_as(p.lang, wording, p.channel, &values)?;
    let mut out = String::new();
    if let Some(s) = &r.subject {
        out.push_str(&format!("Subject: {s}\n\n"));
    }
    out.push_str(&r.text);
    out.push('\n');
    if p.channel == Channel::Sms {
        let (enc, n) = sms_segments(&r.text);
        out.push_str(&format!("\n[{} segment(s), {}]\n", n, if enc == SmsEncoding::Gsm7 { "GSM-7" } else { "UCS-2" }));
    }
    if let Some(h) = &r.html {
        out.push_str("\n--- HTML ---\n");
        out.push_str(h);
    }
    Ok(out)
}

pub fn sample_election() -> Result<Election> {
    Election::from_toml("events/sample-election/election.toml", SAMPLE_ELECTION).context("the built-in sample election")
}

/// How calls speak each language under a voice plan, as Markdown.
pub fn voice_plan_table(plan: &wmb_core::voice::VoicePlan) -> String {
    let missing = plan.missing_recordings();
    let mut out = String::from("| language | calls speak with | recordings still missing |\n|---|---|---|\n");
    for lang in Language::ALL {
        let how = match wmb_core::voice::polly_voice(lang) {
            Some((code, voice)) => format!("Amazon Polly, {voice} ({code}), unless a recording is listed"),
            None => "recorded prompts only".to_string(),
        };
        let gaps = match missing.get(&lang) {
            None => "-".to_string(),
            Some(m) if m.is_empty() => "none".to_string(),
            Some(m) => m.iter().copied().collect::<Vec<_>>().join(", "),
        };
        out.push_str(&format!("| {lang} | {how} | {gaps} |\n"));
    }
    out
}

/// The recordings a plan lists that were made from other words than the language file's now, or
/// whose words it does not note (`[recorded_from.<lang>]`): a table, or nothing when there are none.
pub fn stale_recordings_table(plan: &wmb_core::voice::VoicePlan, catalog: &wmb_core::templates::Catalog) -> String {
    let stale = wmb_core::recording_scripts::stale_recordings(plan, catalog);
    if stale.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nRecorded from other words than the language file's now, or from words not noted (they still play; record them again, then list `render --recording-fingerprints`'s line for each under [recorded_from.<lang>]):\n\n| language | recordings to make again |\n|---|---|\n");
    for (lang, keys) in stale {
        out.push_str(&format!("| {lang} | {} |\n", keys.into_iter().collect::<Vec<_>>().join(", ")));
    }
    out
}
