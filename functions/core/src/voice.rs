//! The voice plan: how a call speaks each language.
//!
//! Amazon Connect reads text with Amazon Polly, which speaks English, Spanish, Hindi, Japanese and
//! Korean (and Mandarin and Cantonese), but not Khmer, Tagalog, Thai or Vietnamese. The Secretary
//! of State provides recorded audio for each message. A call therefore plays the recorded prompt
//! for (language, message) when there is one, reads the text with Polly's voice for the language
//! when Polly speaks it, and otherwise is not made: never a language in the wrong voice.
//! Chinese texts are in Traditional script and the choice between Mandarin and Cantonese belongs
//! to the recordings, so Chinese calls use recordings only.

use crate::status::{Language, MessageKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The Polly voice for a language, if Polly speaks it: (language code, voice id).
pub fn polly_voice(lang: Language) -> Option<(&'static str, &'static str)> {
    match lang {
        Language::En => Some(("en-US", "Joanna")),
        Language::Es => Some(("es-US", "Lupe")),
        Language::Hi => Some(("hi-IN", "Kajal")),
        Language::Ja => Some(("ja-JP", "Kazuha")),
        Language::Ko => Some(("ko-KR", "Seoyeon")),
        Language::Zh | Language::Km | Language::Tl | Language::Th | Language::Vi => None,
    }
}

/// The messages a call speaks as recorded where Polly cannot: ballot news (reminders included) and
/// the notice of a move (codes are read in English; confirmations never go by call).
pub(crate) fn called(kind: MessageKind) -> bool {
    kind.is_ballot_news() || kind == MessageKind::MovedCounty
}

/// How one call will speak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum VoiceRendering {
    /// Play the recorded prompt (its Amazon Connect prompt's id or ARN, as the flow plays it).
    Prompt { prompt: String },
    /// Read the text with Polly.
    Polly { language_code: String, voice_id: String },
}

impl VoiceRendering {
    /// Polly's voice for the language, if Polly speaks it.
    pub fn polly(lang: Language) -> Option<VoiceRendering> {
        polly_voice(lang).map(|(code, voice)| VoiceRendering::Polly { language_code: code.into(), voice_id: voice.into() })
    }
}

/// The recording of what a call says after its listener pressed 9 (`[web] voice_stopped`): not a
/// message, a key of its own in `voice-prompts.toml`.
pub const CALL_STOPPED: &str = "call_stopped";

/// The recorded prompts that exist, as `voice-prompts.toml` lists them, and what each was
/// recorded from:
///
/// ```toml
/// [prompts.km]
/// outbound = "7f3e0a52-2c1b-4c8e-9d0a-5b6f1e2d3c4a"   # the Amazon Connect prompt's id (or ARN)
/// call_stopped = "0b9d7c6e-5f4a-4e3b-8c2d-1a0f9e8d7c6b"   # said after the listener pressed 9
///
/// [recorded_from.km]
/// outbound = "9c1d2e3f4a5b6c7d"   # the fingerprint of the script it was recorded from
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoicePlan {
    #[serde(default)]
    pub prompts: BTreeMap<Language, BTreeMap<String, String>>,
    /// The fingerprint of the script each recording was made from
    /// ([`crate::recording_scripts::fingerprint`]): a recording whose script has changed since
    /// still plays, and `render --voice-plan` lists it to be recorded again. Advice only: a value
    /// written wrong lists its recording too, and never refuses the file (a refused file would
    /// silence every recorded call).
    #[serde(default)]
    pub recorded_from: BTreeMap<Language, BTreeMap<String, String>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}: {reason}")]
pub struct VoicePlanError {
    pub file: String,
    pub reason: String,
}

/// An Amazon Connect prompt as a flow plays it: its id (a UUID), or its ARN
/// (`arn:<partition>:connect:<region>:<account>:instance/<id>/prompt/<id>`).
pub fn is_prompt_ref(value: &str) -> bool {
    fn uuid(s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
    }
    if uuid(value) {
        return true;
    }
    let fields: Vec<&str> = value.splitn(6, ':').collect();
    match fields.as_slice() {
        ["arn", _, "connect", _, _, resource] => matches!(resource.split('/').collect::<Vec<_>>().as_slice(), ["instance", i, "prompt", p] if uuid(i) && uuid(p)),
        _ => false,
    }
}

/// A prompt id made from a name, for tests and samples (the id of no real prompt).
pub fn sample_prompt_id(name: &str) -> String {
    let h = crate::notify::fnv1a(name.as_bytes());
    format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", h >> 32, (h >> 16) & 0xffff, (h >> 4) & 0xfff, h & 0xfff, h & 0xffff_ffff_ffff)
}

impl VoicePlan {
    pub fn from_toml(file: &str, text: &str) -> Result<VoicePlan, VoicePlanError> {
        let plan: VoicePlan = toml::from_str(text).map_err(|e| VoicePlanError { file: file.into(), reason: e.to_string() })?;
        for (lang, prompts) in &plan.prompts {
            if let Some(bad) = prompts.keys().find(|k| *k != CALL_STOPPED && crate::wording::Wording::from_key(k).is_none()) {
                return Err(VoicePlanError { file: file.into(), reason: format!("prompts.{lang}.{bad} is not a message") });
            }
            // The call flow plays a recording by its id: a prompt's name would be a call that
            // hangs up without a word while the ledger says it was placed.
            if let Some((key, value)) = prompts.iter().find(|(_, v)| !is_prompt_ref(v)) {
                return Err(VoicePlanError {
                    file: file.into(),
                    reason: format!("prompts.{lang}.{key}: {value:?} is not an Amazon Connect prompt's id or ARN (the call flow plays a prompt by its id, not its name)"),
                });
            }
        }
        Ok(plan)
    }

    /// How a call of this message in this language speaks, or why it cannot be made.
    pub fn rendering(&self, lang: Language, kind: MessageKind) -> Result<VoiceRendering, String> {
        self.rendering_as(lang, crate::wording::Wording::of(kind))
    }

    /// The same for a message written with `wording`: its own recording, else the recording of
    /// the message's own texts (a stand-in not yet recorded is read as the message always was).
    /// (Where Polly speaks the language, it reads a stand-in's texts rather than play the
    /// message's own recording, which says what the stand-in is there not to say.)
    pub fn rendering_as(&self, lang: Language, wording: crate::wording::Wording) -> Result<VoiceRendering, String> {
        let kind = wording.kind;
        let prompts = self.prompts.get(&lang);
        let own = prompts.and_then(|p| p.get(wording.key));
        let stand_in = wording.key != kind.key();
        let recorded = own.or_else(|| prompts.and_then(|p| p.get(kind.key())).filter(|_| !stand_in || polly_voice(lang).is_none()));
        if let Some(prompt) = recorded {
            return Ok(VoiceRendering::Prompt { prompt: prompt.clone() });
        }
        VoiceRendering::polly(lang).ok_or_else(|| format!("no recorded prompt for {} in {lang}, and Polly does not speak {lang}", kind.key()))
    }

    /// How a call says that its calls stopped (after its listener pressed 9): the recording where
    /// there is one, else Polly's voice for the language, else nothing is said (the stop is made
    /// all the same).
    pub fn stopped_rendering(&self, lang: Language) -> Option<VoiceRendering> {
        if let Some(prompt) = self.prompts.get(&lang).and_then(|p| p.get(CALL_STOPPED)) {
            return Some(VoiceRendering::Prompt { prompt: prompt.clone() });
        }
        VoiceRendering::polly(lang)
    }

    /// Whether every call of ballot news (reminders included) can be made in this language: Polly
    /// speaks it, or every message is recorded. A sign-up for calls in a language where some
    /// cannot is refused ([`crate::refusal::Refusal::CallsUnavailable`]).
    pub fn calls_possible(&self, lang: Language) -> bool {
        MessageKind::ALL.into_iter().filter(|k| called(*k)).all(|k| self.rendering(lang, k).is_ok())
    }

    /// The languages whose calls depend on recordings, with the messages still missing one (and
    /// [`CALL_STOPPED`], the words after a 9, while it is not recorded).
    pub fn missing_recordings(&self) -> BTreeMap<Language, BTreeSet<&'static str>> {
        let mut out = BTreeMap::new();
        for lang in Language::ALL.into_iter().filter(|l| polly_voice(*l).is_none()) {
            // (A stand-in's own recording is missing too while its message's plays instead.)
            let own = |w: crate::wording::Wording| self.prompts.get(&lang).is_some_and(|p| p.contains_key(w.key));
            let missing: BTreeSet<&str> = crate::wording::Wording::all()
                .filter(|w| called(w.kind) && (self.rendering_as(lang, *w).is_err() || !own(*w)))
                .map(|w| w.key)
                .chain(self.stopped_rendering(lang).is_none().then_some(CALL_STOPPED))
                .collect();
            out.insert(lang, missing);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of `toml`, each "wmb-…" prompt name in it written as its sample id.
    fn plan_of(toml: &str) -> VoicePlan {
        let (mut out, mut rest) = (String::new(), toml);
        while let Some(i) = rest.find("\"wmb-") {
            let j = rest[i + 1..].find('"').unwrap() + i + 1;
            out.push_str(&rest[..i]);
            out.push_str(&format!("{:?}", sample_prompt_id(&rest[i + 1..j])));
            rest = &rest[j + 1..];
        }
        out.push_str(rest);
        VoicePlan::from_toml("p.toml", &out).unwrap()
    }

    fn id(name: &str) -> String {
        sample_prompt_id(name)
    }

    #[test]
    fn a_prompt_is_named_by_its_id_or_arn_never_by_its_name() {
        for good in [
            "0b9d7c6e-5f4a-4e3b-8c2d-1a0f9e8d7c6b",
            "arn:aws:connect:us-west-2:123456789012:instance/9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa/prompt/0b9d7c6e-5f4a-4e3b-8c2d-1a0f9e8d7c6b",
            &sample_prompt_id("wmb-km-accepted"),
        ] {
            assert!(is_prompt_ref(good), "{good}");
        }
        for bad in ["wmb-km-accepted", "", "0b9d7c6e-5f4a-4e3b-8c2d", "arn:aws:connect:us-west-2:123456789012:instance/9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa/prompt/wmb-km-accepted"] {
            assert!(!is_prompt_ref(bad), "{bad}");
        }
        let refused = VoicePlan::from_toml("voice-prompts.toml", "[prompts.km]\naccepted = \"wmb-km-accepted\"\n").unwrap_err();
        assert_eq!(refused.file, "voice-prompts.toml");
        assert!(refused.reason.starts_with("prompts.km.accepted: \"wmb-km-accepted\" is not an Amazon Connect prompt's id or ARN"), "{}", refused.reason);
    }

    #[test]
    fn a_call_never_reads_a_language_polly_does_not_speak() {
        let plan = VoicePlan::default();
        for lang in [Language::Km, Language::Tl, Language::Th, Language::Vi, Language::Zh] {
            let refused = plan.rendering(lang, MessageKind::Accepted).unwrap_err();
            assert!(refused.contains("no recorded prompt"), "{refused}");
        }
        assert_eq!(
            plan.rendering(Language::Es, MessageKind::Accepted).unwrap(),
            VoiceRendering::Polly { language_code: "es-US".into(), voice_id: "Lupe".into() }
        );
    }

    #[test]
    fn a_recorded_prompt_wins_over_polly_and_fills_a_gap() {
        let plan = plan_of("[prompts.km]\naccepted = \"wmb-km-accepted\"\n[prompts.es]\naccepted = \"wmb-es-accepted\"\n");
        assert_eq!(plan.rendering(Language::Km, MessageKind::Accepted).unwrap(), VoiceRendering::Prompt { prompt: id("wmb-km-accepted") });
        assert_eq!(plan.rendering(Language::Es, MessageKind::Accepted).unwrap(), VoiceRendering::Prompt { prompt: id("wmb-es-accepted") });
        assert!(plan.rendering(Language::Km, MessageKind::Outbound).is_err());
        assert!(plan.missing_recordings()[&Language::Km].contains("outbound"));
        assert!(!plan.missing_recordings()[&Language::Km].contains("accepted"));
        assert!(plan.missing_recordings()[&Language::Km].contains(CALL_STOPPED), "the words after a 9 are recorded too");
        assert_eq!(plan.stopped_rendering(Language::Km), None);
        assert_eq!(plan.stopped_rendering(Language::Ko), Some(VoiceRendering::Polly { language_code: "ko-KR".into(), voice_id: "Seoyeon".into() }));
        let recorded = plan_of("[prompts.km]\ncall_stopped = \"wmb-km-stopped\"\n");
        assert_eq!(recorded.stopped_rendering(Language::Km), Some(VoiceRendering::Prompt { prompt: id("wmb-km-stopped") }));
        assert!(!recorded.missing_recordings()[&Language::Km].contains(CALL_STOPPED));
        assert!(VoicePlan::from_toml("p.toml", "[prompts.km]\nlost = \"x\"\n").unwrap_err().reason.contains("lost"));
        // Not accepted after the polls closed: its own recording once there is one, until then
        // the message's own.
        let after = crate::wording::NOT_ACCEPTED_AFTER_ELECTION;
        let plan = plan_of("[prompts.km]\nnot_accepted = \"wmb-km-na\"\n");
        assert_eq!(plan.rendering_as(Language::Km, after).unwrap(), VoiceRendering::Prompt { prompt: id("wmb-km-na") });
        assert!(plan.missing_recordings()[&Language::Km].contains("not_accepted_after_election"), "listed as missing while the other plays");
        let plan = plan_of("[prompts.km]\nnot_accepted = \"wmb-km-na\"\nnot_accepted_after_election = \"wmb-km-na-after\"\n");
        assert_eq!(plan.rendering_as(Language::Km, after).unwrap(), VoiceRendering::Prompt { prompt: id("wmb-km-na-after") });
        assert!(!plan.missing_recordings()[&Language::Km].contains("not_accepted_after_election"));
        // In a language Polly speaks, Polly reads the texts for after the polls rather than play
        // a recording of the usual ones.
        let plan = plan_of("[prompts.es]\nnot_accepted = \"wmb-es-na\"\n");
        assert_eq!(plan.rendering_as(Language::Es, after).unwrap(), VoiceRendering::Polly { language_code: "es-US".into(), voice_id: "Lupe".into() });
        assert_eq!(plan.rendering(Language::Es, MessageKind::NotAccepted).unwrap(), VoiceRendering::Prompt { prompt: id("wmb-es-na") });
    }
}
