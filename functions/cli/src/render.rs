//! `render`: preview one message, or the SMS segment table of every message and language.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use wmb_core::election::Election;
use wmb_core::lifecycle::MilestoneDecision;
use wmb_core::notify::message_values;
use wmb_core::status::{Channel, Language, MessageKind, Milestone, StatusCode};
use wmb_core::templates::{sms_segments, Catalog, SmsEncoding};
use wmb_core::CountyCode;

/// The election used when none is given: the sample election in events/.
pub const SAMPLE_ELECTION: &str = include_str!("../../../events/sample-election/election.toml");

fn milestone_of(kind: MessageKind) -> Option<Milestone> {
    Milestone::ALL.into_iter().find(|m| MessageKind::from(*m) == kind)
}

/// A status code that fits the message, for previews: the first code that triggers it.
fn default_code(kind: MessageKind) -> Option<StatusCode> {
    StatusCode::ALL.into_iter().find(|c| c.has_reason() && MessageKind::from(c.milestone()) == kind)
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
    });
    let t = catalog.language(p.lang);
    let hours = Default::default();
    let election = (p.kind != MessageKind::SignupConfirmation).then_some(p.election);
    let values = message_values(t, p.lang, election, p.county, decision.as_ref(), hours);
    let r = catalog.render(p.lang, p.kind, p.channel, &values)?;
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

/// The worst-case placeholder values: each at the longest a real message can carry.
pub fn longest_values(catalog: &Catalog, lang: Language, election_name: &str) -> BTreeMap<&'static str, String> {
    let t = catalog.language(lang);
    let longest_reason = t.reasons.values().max_by_key(|r| r.encode_utf16().count()).cloned().unwrap_or_default();
    let longest_date = (1..=12)
        .flat_map(|m| [28, 30].map(move |d| (m, d)))
        .filter_map(|(m, d)| chrono::NaiveDate::from_ymd_opt(2026, m, d))
        .map(|d| t.format_date(d))
        .max_by_key(|s| s.encode_utf16().count())
        .unwrap_or_default();
    let mut v = BTreeMap::new();
    v.insert("election_name", election_name.to_string());
    v.insert("election_date", longest_date.clone());
    v.insert("status_date", longest_date);
    v.insert("county_name", "San Luis Obispo".to_string());
    v.insert("county_phone", "(805) 781-5228".to_string());
    v.insert("county_email", "elections-vote-by-mail@countyofsanluisobispo.example.gov".to_string());
    v.insert("county_url", "https://www.slocounty.ca.gov/departments/clerk-recorder/elections".to_string());
    v.insert("reason", longest_reason);
    v.insert("notify_from", "08:00".to_string());
    v.insert("notify_until", "20:00".to_string());
    v
}

/// SMS segments of a message at its worst case: the election name both as 40 GSM-7 letters and
/// as 40 letters outside GSM-7 (an accented or non-Latin name), whichever is worse.
pub fn worst_segments(catalog: &Catalog, lang: Language, kind: MessageKind) -> Result<usize> {
    let mut worst = 0;
    for name in ["W".repeat(40), "á".repeat(40)] {
        let values = longest_values(catalog, lang, &name);
        let r = catalog.render(lang, kind, Channel::Sms, &values)?;
        worst = worst.max(sms_segments(&r.text).1);
    }
    Ok(worst)
}

/// The table of worst-case SMS segments, message × language, as Markdown.
pub fn segment_table(catalog: &Catalog) -> Result<String> {
    let langs: Vec<Language> = catalog.languages().collect();
    let mut out = format!("| message | {} |\n|---|{}\n", langs.iter().map(|l| l.code()).collect::<Vec<_>>().join(" | "), "---|".repeat(langs.len()));
    for kind in MessageKind::ALL {
        let cells: Vec<String> = langs.iter().map(|l| worst_segments(catalog, *l, kind).map(|n| n.to_string())).collect::<Result<_>>()?;
        out.push_str(&format!("| {} | {} |\n", kind.key(), cells.join(" | ")));
    }
    Ok(out)
}

pub fn sample_election() -> Result<Election> {
    Election::from_toml("events/sample-election/election.toml", SAMPLE_ELECTION).context("the built-in sample election")
}
