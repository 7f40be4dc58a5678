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
fn called(kind: MessageKind) -> bool {
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

/// The recording of what a call says after its listener pressed 9 (`[web] voice_stopped`): not a
/// message, a key of its own in `voice-prompts.toml`.
pub const CALL_STOPPED: &str = "call_stopped";

/// The recorded prompts that exist, as `voice-prompts.toml` lists them:
///
/// ```toml
/// [prompts.km]
/// outbound = "wmb-km-outbound"      # the Amazon Connect prompt (its ARN or id)
/// call_stopped = "wmb-km-stopped"   # said after the listener pressed 9
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoicePlan {
    #[serde(default)]
    pub prompts: BTreeMap<Language, BTreeMap<String, String>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}: {reason}")]
pub struct VoicePlanError {
    pub file: String,
    pub reason: String,
}

impl VoicePlan {
    pub fn from_toml(file: &str, text: &str) -> Result<VoicePlan, VoicePlanError> {
        let plan: VoicePlan = toml::from_str(text).map_err(|e| VoicePlanError { file: file.into(), reason: e.to_string() })?;
        for (lang, prompts) in &plan.prompts {
            if let Some(bad) = prompts.keys().find(|k| *k != CALL_STOPPED && crate::wording::Wording::from_key(k).is_none()) {
                return Err(VoicePlanError { file: file.into(), reason: format!("prompts.{lang}.{bad} is not a message") });
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
        match polly_voice(lang) {
            Some((code, voice)) => Ok(VoiceRendering::Polly { language_code: code.into(), voice_id: voice.into() }),
            None => Err(format!("no recorded prompt for {} in {lang}, and Polly does not speak {lang}", kind.key())),
        }
    }

    /// How a call says that its calls stopped (after its listener pressed 9): the recording where
    /// there is one, else Polly's voice for the language, else nothing is said (the stop is made
    /// all the same).
    pub fn stopped_rendering(&self, lang: Language) -> Option<VoiceRendering> {
        if let Some(prompt) = self.prompts.get(&lang).and_then(|p| p.get(CALL_STOPPED)) {
            return Some(VoiceRendering::Prompt { prompt: prompt.clone() });
        }
        polly_voice(lang).map(|(code, voice)| VoiceRendering::Polly { language_code: code.into(), voice_id: voice.into() })
    }

    /// Whether every call of ballot news (reminders included) can be made in this language: Polly
    /// speaks it, or every message is recorded. A sign-up for calls in a language where some
    /// cannot is refused ([`crate::refusal::Refusal::CallsUnavailable`]).
    pub fn calls_possible(&self, lang: Language) -> bool {
        MessageKind::ALL.into_iter().filter(|k| called(*k)).all(|k| self.rendering(lang, k).is_ok())
    }

    /// The languages whose calls depend on recordings, with the messages still missing one.
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
        let plan = VoicePlan::from_toml("p.toml", "[prompts.km]\naccepted = \"wmb-km-accepted\"\n[prompts.es]\naccepted = \"wmb-es-accepted\"\n").unwrap();
        assert_eq!(plan.rendering(Language::Km, MessageKind::Accepted).unwrap(), VoiceRendering::Prompt { prompt: "wmb-km-accepted".into() });
        assert_eq!(plan.rendering(Language::Es, MessageKind::Accepted).unwrap(), VoiceRendering::Prompt { prompt: "wmb-es-accepted".into() });
        assert!(plan.rendering(Language::Km, MessageKind::Outbound).is_err());
        assert!(plan.missing_recordings()[&Language::Km].contains("outbound"));
        assert!(!plan.missing_recordings()[&Language::Km].contains("accepted"));
        assert!(plan.missing_recordings()[&Language::Km].contains(CALL_STOPPED), "the words after a 9 are recorded too");
        assert_eq!(plan.stopped_rendering(Language::Km), None);
        assert_eq!(plan.stopped_rendering(Language::Ko), Some(VoiceRendering::Polly { language_code: "ko-KR".into(), voice_id: "Seoyeon".into() }));
        let recorded = VoicePlan::from_toml("p.toml", "[prompts.km]\ncall_stopped = \"wmb-km-stopped\"\n").unwrap();
        assert_eq!(recorded.stopped_rendering(Language::Km), Some(VoiceRendering::Prompt { prompt: "wmb-km-stopped".into() }));
        assert!(!recorded.missing_recordings()[&Language::Km].contains(CALL_STOPPED));
        assert!(VoicePlan::from_toml("p.toml", "[prompts.km]\nlost = \"x\"\n").unwrap_err().reason.contains("lost"));
        // Not accepted after the polls closed: its own recording once there is one, until then
        // the message's own.
        let after = crate::wording::NOT_ACCEPTED_AFTER_ELECTION;
        let plan = VoicePlan::from_toml("p.toml", "[prompts.km]\nnot_accepted = \"wmb-km-na\"\n").unwrap();
        assert_eq!(plan.rendering_as(Language::Km, after).unwrap(), VoiceRendering::Prompt { prompt: "wmb-km-na".into() });
        assert!(plan.missing_recordings()[&Language::Km].contains("not_accepted_after_election"), "listed as missing while the other plays");
        let plan = VoicePlan::from_toml("p.toml", "[prompts.km]\nnot_accepted = \"wmb-km-na\"\nnot_accepted_after_election = \"wmb-km-na-after\"\n").unwrap();
        assert_eq!(plan.rendering_as(Language::Km, after).unwrap(), VoiceRendering::Prompt { prompt: "wmb-km-na-after".into() });
        assert!(!plan.missing_recordings()[&Language::Km].contains("not_accepted_after_election"));
        // In a language Polly speaks, Polly reads the texts for after the polls rather than play
        // a recording of the usual ones.
        let plan = VoicePlan::from_toml("p.toml", "[prompts.es]\nnot_accepted = \"wmb-es-na\"\n").unwrap();
        assert_eq!(plan.rendering_as(Language::Es, after).unwrap(), VoiceRendering::Polly { language_code: "es-US".into(), voice_id: "Lupe".into() });
        assert_eq!(plan.rendering(Language::Es, MessageKind::NotAccepted).unwrap(), VoiceRendering::Prompt { prompt: "wmb-es-na".into() });
    }
}
