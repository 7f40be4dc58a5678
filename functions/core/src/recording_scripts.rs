//! What each recording should say, and whether it still does. A call in a language Polly does not
//! speak plays a recording the Secretary of State made from the language file's words. When
//! those words change (a wrong statement mended, say), the recording keeps its old words until
//! it is made again. `voice-prompts.toml` keeps, beside each prompt's id, the fingerprint of the
//! script it was recorded from (`[recorded_from.<lang>]`); a recording whose script has changed
//! since, or whose script is not known, is listed by `render --voice-plan` to be recorded again.
//! It still plays meanwhile: its old words are better than no call.

use crate::status::Language;
use crate::templates::{Catalog, Part};
use crate::voice::{called, VoicePlan, CALL_STOPPED};
use crate::wording::Wording;
use std::collections::{BTreeMap, BTreeSet};

/// Every key a recording may have: each message a call speaks (ballot news, the notice of a move,
/// the texts of a Not Accepted after the polls closed), then [`CALL_STOPPED`].
pub fn recording_keys() -> impl Iterator<Item = &'static str> {
    Wording::all().filter(|w| called(w.kind)).map(|w| w.key).chain(std::iter::once(CALL_STOPPED))
}

/// What a recording of `key` in `lang` says, as the language file writes it (its placeholders
/// unfilled): the call's opening, the message's `voice` text and, where the call offers one, its
/// "press 9"; for [`CALL_STOPPED`], `[web] voice_stopped`. None for a key no recording has.
pub fn script(catalog: &Catalog, lang: Language, key: &str) -> Option<String> {
    let t = catalog.language(lang);
    if key == CALL_STOPPED {
        return Some(t.web.voice_stopped.clone());
    }
    let wording = Wording::from_key(key).filter(|w| called(w.kind))?;
    Some(t.spoken_call(wording.kind, t.texts(wording).part(Part::Voice)))
}

/// A script's fingerprint: 16 hex digits of its FNV-1a hash (it tells a changed text from the
/// same one; it is not a secret and guards against no one).
pub fn fingerprint(script: &str) -> String {
    format!("{:016x}", crate::notify::fnv1a(script.as_bytes()))
}

/// The recordings a plan lists whose script has changed since they were made, or whose script
/// it does not say: by language, their keys.
pub fn stale_recordings(plan: &VoicePlan, catalog: &Catalog) -> BTreeMap<Language, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (lang, prompts) in &plan.prompts {
        let made_from = plan.recorded_from.get(lang);
        let stale: BTreeSet<String> = prompts
            .keys()
            .filter(|key| {
                let now = script(catalog, *lang, key).map(|s| fingerprint(&s));
                let then = made_from.and_then(|m| m.get(*key)).map(|f| f.trim().to_ascii_lowercase());
                now.is_none() || then != now
            })
            .cloned()
            .collect();
        if !stale.is_empty() {
            out.insert(*lang, stale);
        }
    }
    out
}

/// `[recorded_from.<lang>]` tables of the scripts as they are now, for every language (a language
/// Polly speaks may have recordings too): the lines to list beside the ids of the prompts
/// recorded from these words.
pub fn fingerprints_toml(catalog: &Catalog) -> String {
    let mut out = String::new();
    for lang in Language::ALL {
        out.push_str(&format!("[recorded_from.{}]\n", lang.code()));
        for key in recording_keys() {
            if let Some(s) = script(catalog, lang, key) {
                out.push_str(&format!("{key} = \"{}\"\n", fingerprint(&s)));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::sample_prompt_id;

    fn catalog() -> Catalog {
        Catalog::embedded().unwrap()
    }

    /// A plan with every Khmer recording listed, and the fingerprints of `fingerprints`.
    fn khmer_plan(fingerprints: &str) -> VoicePlan {
        let mut toml = String::from("[prompts.km]\n");
        for key in recording_keys() {
            toml.push_str(&format!("{key} = {:?}\n", sample_prompt_id(&format!("wmb-km-{key}"))));
        }
        VoicePlan::from_toml("voice-prompts.toml", &format!("{toml}\n{fingerprints}")).unwrap()
    }

    #[test]
    fn a_recording_made_from_the_current_words_is_current_and_one_made_from_older_words_is_listed_to_record_again() {
        let c = catalog();
        // GIVEN every Khmer recording listed with the fingerprints of the words as they are now
        let now = fingerprints_toml(&c);
        let khmer = now.split("\n\n").find(|t| t.starts_with("[recorded_from.km]")).unwrap();
        assert!(stale_recordings(&khmer_plan(khmer), &c).is_empty());
        // WHEN the Undeliverable text was changed after it was recorded (its fingerprint is another)
        let undeliverable = fingerprint(&script(&c, Language::Km, "undeliverable").unwrap());
        let older = khmer.replace(&format!("undeliverable = \"{undeliverable}\""), "undeliverable = \"0123456789abcdef\"");
        // THEN that recording, and only it, is to be recorded again
        let stale = stale_recordings(&khmer_plan(&older), &c);
        assert_eq!(stale.get(&Language::Km).map(|s| s.iter().map(String::as_str).collect::<Vec<_>>()), Some(vec!["undeliverable"]));
        // AND a recording whose script no one noted is listed too
        let unknown = stale_recordings(&khmer_plan(""), &c);
        assert_eq!(unknown[&Language::Km].len(), recording_keys().count());
    }

    #[test]
    fn a_script_is_the_call_as_the_language_file_writes_it() {
        let c = catalog();
        let km = c.language(Language::Km);
        let s = script(&c, Language::Km, "reissued").unwrap();
        assert!(s.starts_with(&km.web.voice_intro) && s.ends_with(&km.web.voice_stop) && s.contains("{county_phone}"), "{s}");
        assert_eq!(script(&c, Language::Km, CALL_STOPPED).as_deref(), Some(km.web.voice_stopped.as_str()));
        assert_eq!(script(&c, Language::Km, "verification_code"), None, "codes are read, never recorded");
    }

    #[test]
    fn a_fingerprint_written_wrong_lists_its_recording_and_never_refuses_the_plan() {
        // A refused plan would leave every recorded call unmade: the notes are advice only.
        let c = catalog();
        let now = fingerprints_toml(&c);
        let khmer = now.split("\n\n").find(|t| t.starts_with("[recorded_from.km]")).unwrap();
        let outbound = fingerprint(&script(&c, Language::Km, "outbound").unwrap());
        let shouted = khmer.replace(&outbound, &outbound.to_uppercase());
        assert!(stale_recordings(&khmer_plan(&shouted), &c).is_empty(), "the same digits in capitals are the same words");
        let wrong = khmer.replace(&format!("outbound = \"{outbound}\""), "outbound = \"recorded 3 Dec\"") + "\nunknown_message = \"0123456789abcdef\"\n";
        let stale = stale_recordings(&khmer_plan(&wrong), &c);
        assert_eq!(stale[&Language::Km].iter().map(String::as_str).collect::<Vec<_>>(), ["outbound"]);
    }

    #[test]
    fn a_changed_text_makes_its_recording_stale_and_a_script_is_what_the_call_says() {
        // GIVEN the Khmer file as it is, and every Khmer recording noted as made from it
        let sources: Vec<(&str, String)> = crate::templates::embedded_sources().map(|(stem, text)| (stem, text.to_string())).collect();
        let today = Catalog::from_sources(sources.iter().map(|(s, t)| (*s, t.as_str()))).unwrap();
        let khmer_now = fingerprints_toml(&today);
        let khmer = khmer_now.split("\n\n").find(|t| t.starts_with("[recorded_from.km]")).unwrap();
        let plan = khmer_plan(khmer);
        // WHEN the Khmer Reissued call's words change (a sentence added at the end of its voice text)
        let edited: Vec<(&str, String)> = sources
            .iter()
            .map(|(stem, text)| {
                if *stem != "km" {
                    return (*stem, text.clone());
                }
                let at = text.find("[messages.reissued]").unwrap();
                let voice = at + text[at..].find("\nvoice = \"").unwrap() + 1;
                let end = voice + text[voice..].find("\"\n").unwrap();
                (*stem, format!("{} {{county_phone}}{}", &text[..end], &text[end..]))
            })
            .collect();
        let later = Catalog::from_sources(edited.iter().map(|(s, t)| (*s, t.as_str()))).unwrap();
        // THEN only that recording is to be made again
        let stale = stale_recordings(&plan, &later);
        assert_eq!(stale[&Language::Km].iter().map(String::as_str).collect::<Vec<_>>(), ["reissued"]);
        // AND a script is the call as rendered with each placeholder left as its name, the texts
        // after the polls close having their own
        let named: BTreeMap<&str, String> = ["county_name", "county_phone", "election_name", "election_date", "status_date", "reason", "cure_deadline", "county_email", "county_url"]
            .into_iter()
            .map(|n| (n, format!("{{{n}}}")))
            .collect();
        for key in ["reissued", "not_accepted_after_election", "moved_county"] {
            let wording = Wording::from_key(key).unwrap();
            let call = today.render_as(Language::En, wording, crate::status::Channel::Voice, &named).unwrap().text;
            assert_eq!(script(&today, Language::En, key).unwrap(), call, "{key}");
        }
        assert_ne!(script(&today, Language::Km, "not_accepted_after_election"), script(&today, Language::Km, "not_accepted"));
    }
}
