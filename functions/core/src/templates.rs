//! Message templates: one TOML file per language in `templates/` (format: templates/SCHEMA.md),
//! rendered with named placeholders.

use crate::status::{Channel, Language, MessageKind, StatusCode};
pub use crate::wording::Wording;
pub use crate::template_text::{html_escape, placeholders};
use crate::template_text::{substitute, Form};
pub use crate::sms_budget::{election_sms_overflows, gsm7_fallback, longest_values, segment_table, sms_segments, worst_segments, SmsEncoding};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_templates.rs"));
}

/// The language files built into the binary, as (file stem, TOML text).
pub(crate) fn embedded_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    embedded::EMBEDDED.iter().copied()
}

/// The texts of one message in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTexts {
    pub sms: String,
    pub email_subject: String,
    pub email_text: String,
    pub email_html: String,
    pub voice: String,
}

/// The parts of a message a channel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Sms,
    EmailSubject,
    EmailText,
    EmailHtml,
    Voice,
}

impl Part {
    pub const ALL: [Part; 5] = [Part::Sms, Part::EmailSubject, Part::EmailText, Part::EmailHtml, Part::Voice];

    pub fn key(self) -> &'static str {
        match self {
            Part::Sms => "sms",
            Part::EmailSubject => "email_subject",
            Part::EmailText => "email_text",
            Part::EmailHtml => "email_html",
            Part::Voice => "voice",
        }
    }
}

impl MessageTexts {
    pub fn part(&self, part: Part) -> &str {
        match part {
            Part::Sms => &self.sms,
            Part::EmailSubject => &self.email_subject,
            Part::EmailText => &self.email_text,
            Part::EmailHtml => &self.email_html,
            Part::Voice => &self.voice,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub language: String,
    pub name: String,
    pub dir: String,
    pub review: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateFormat {
    pub months: Vec<String>,
    pub date: String,
    /// The cure deadline: its date (`{date}`) and its hour, 5 p.m. Pacific (EC §3019), as the
    /// language says them ("5 p.m. on {date}"). A voter told only the date reads it as midnight.
    pub deadline: String,
}

/// Texts around the messages: the label every SMS starts with (who sends it), the introduction
/// every call starts with (who calls) and the sentence it ends with, the email footer (why the
/// voter gets it, how to change or stop it, how to reach the Secretary of State), and the one-click
/// unsubscribe page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebTexts {
    pub sms_label: String,
    pub voice_intro: String,
    pub voice_stop: String,
    /// Said when a call's listener pressed 9 to stop calls, before it hangs up.
    pub voice_stopped: String,
    /// Said instead when the stop could not be made.
    pub voice_stop_failed: String,
    pub email_footer: String,
    pub email_change: String,
    pub email_contact: String,
    pub unsubscribe_link: String,
    pub unsubscribe_title: String,
    pub unsubscribe_question: String,
    pub unsubscribe_button: String,
    pub unsubscribed: String,
    pub unsubscribe_invalid: String,
}

impl WebTexts {
    pub fn all(&self) -> [(&'static str, &str); 14] {
        [
            ("sms_label", &self.sms_label),
            ("voice_intro", &self.voice_intro),
            ("voice_stop", &self.voice_stop),
            ("voice_stopped", &self.voice_stopped),
            ("voice_stop_failed", &self.voice_stop_failed),
            ("email_footer", &self.email_footer),
            ("email_change", &self.email_change),
            ("email_contact", &self.email_contact),
            ("unsubscribe_link", &self.unsubscribe_link),
            ("unsubscribe_title", &self.unsubscribe_title),
            ("unsubscribe_question", &self.unsubscribe_question),
            ("unsubscribe_button", &self.unsubscribe_button),
            ("unsubscribed", &self.unsubscribed),
            ("unsubscribe_invalid", &self.unsubscribe_invalid),
        ]
    }
}

/// One language's file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageTemplates {
    pub meta: Meta,
    pub format: DateFormat,
    pub reasons: BTreeMap<String, String>,
    /// The phrases a Not Accepted sent after the polls closed gives where the `[reasons]` one
    /// would ask the voter to act ([`LanguageTemplates::reason_as`]): at least [`crate::wording::FINAL_REASONS`].
    #[serde(default)]
    pub reasons_after_election: BTreeMap<String, String>,
    pub messages: BTreeMap<String, MessageTexts>,
    pub web: WebTexts,
    /// County names as the language writes them, by county code; a county not listed keeps its
    /// English name.
    #[serde(default)]
    pub counties: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("templates/{file}.toml: {reason}")]
    Invalid { file: String, reason: String },
    #[error("no templates for language '{0}'")]
    NoLanguage(String),
    #[error("template {lang}/{message}/{part}: placeholder {{{name}}} has no value")]
    MissingValue { lang: String, message: String, part: String, name: String },
}

/// A message ready to send on one channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rendered {
    /// Email only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The SMS text, the plain-text email body, or the voice script.
    pub text: String,
    /// Email only: a whole HTML document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// Every language's templates, checked when loaded.
#[derive(Debug, Clone)]
pub struct Catalog {
    languages: BTreeMap<Language, LanguageTemplates>,
}

impl LanguageTemplates {
    /// A call as it is spoken: who calls, the message's own words (`body`: its `voice` text,
    /// filled or not), and, on every call that offers one, how to stop calls ("press 9"). The
    /// renderer and a recording's script ([`crate::recording_scripts::script`]) both use it.
    pub fn spoken_call(&self, kind: MessageKind, body: &str) -> String {
        if kind.call_offers_stop() {
            format!("{} {body} {}", self.web.voice_intro, self.web.voice_stop)
        } else {
            format!("{} {body}", self.web.voice_intro)
        }
    }

    /// Formats a date as this language writes it.
    /// The cure deadline of `date`: the day and its hour, written with `[format].deadline`.
    pub fn format_deadline(&self, date: NaiveDate) -> String {
        self.format.deadline.replace("{date}", &self.format_date(date))
    }

    pub fn format_date(&self, date: NaiveDate) -> String {
        use std::fmt::Write;
        const PARTS: [&str; 4] = ["{month_num}", "{month}", "{day}", "{year}"];
        let month = self.format.months.get(date.month0() as usize).map(String::as_str).unwrap_or_default();
        let mut out = String::with_capacity(self.format.date.len() + month.len());
        let mut rest = self.format.date.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            rest = &rest[open..];
            let Some(part) = PARTS.iter().position(|p| rest.starts_with(p)) else {
                out.push('{');
                rest = &rest[1..];
                continue;
            };
            // Written into a String, which cannot fail.
            let _ = match part {
                0 => write!(out, "{}", date.month()),
                1 => write!(out, "{month}"),
                2 => write!(out, "{}", date.day()),
                _ => write!(out, "{}", date.year()),
            };
            rest = &rest[PARTS[part].len()..];
        }
        out.push_str(rest);
        out
    }

    pub fn message(&self, kind: MessageKind) -> &MessageTexts {
        &self.messages[kind.key()]
    }

    /// One set of texts: a message's own or one standing in for it ([`Wording`]).
    pub fn texts(&self, wording: Wording) -> &MessageTexts {
        &self.messages[wording.key]
    }

    /// The county's name as this language writes it.
    pub fn county_name(&self, county: crate::county::CountyCode) -> &str {
        self.counties.get(&county.code()).map(String::as_str).unwrap_or(county.name())
    }

    pub fn reason(&self, code: StatusCode) -> &str {
        self.reasons.get(code.as_str()).map(String::as_str).unwrap_or_default()
    }

    /// The reason phrase in the texts `wording` names: a final verdict's own phrase where it has
    /// one, else the `[reasons]` phrase.
    pub fn reason_as(&self, code: StatusCode, wording: Wording) -> &str {
        match wording.has_final_reasons() {
            true => self.reasons_after_election.get(code.as_str()).map_or_else(|| self.reason(code), String::as_str),
            false => self.reason(code),
        }
    }

    fn check(&self, file: &str) -> Result<(), TemplateError> {
        let invalid = |reason: String| TemplateError::Invalid { file: file.to_string(), reason };
        if self.meta.language != file {
            return Err(invalid(format!("meta.language is '{}' but the file is {file}.toml", self.meta.language)));
        }
        if !matches!(self.meta.dir.as_str(), "ltr" | "rtl") {
            return Err(invalid("meta.dir must be ltr or rtl".into()));
        }
        if !matches!(self.meta.review.as_str(), "final" | "needs-native-review") {
            return Err(invalid("meta.review must be final or needs-native-review".into()));
        }
        if self.format.months.len() != 12 {
            return Err(invalid(format!("format.months has {} names, not 12", self.format.months.len())));
        }
        for wording in Wording::all() {
            let Some(texts) = self.messages.get(wording.key) else {
                return Err(invalid(format!("messages.{wording} is missing")));
            };
            for part in Part::ALL {
                placeholders(texts.part(part)).map_err(|e| invalid(format!("messages.{wording}.{}: {e}", part.key())))?;
            }
        }
        if let Some(extra) = self.messages.keys().find(|k| Wording::from_key(k).is_none()) {
            return Err(invalid(format!("messages.{extra} is not a message this system sends")));
        }
        if let Some((key, _)) = self.web.all().into_iter().find(|(_, v)| v.trim().is_empty() || v.contains(['{', '}'])) {
            return Err(invalid(format!("web.{key} is empty or has a placeholder")));
        }
        for code in StatusCode::ALL.into_iter().filter(|c| c.has_reason()) {
            if self.reasons.get(code.as_str()).is_none_or(|r| r.trim().is_empty()) {
                return Err(invalid(format!("reasons.{} is missing", code.as_str())));
            }
        }
        for code in crate::wording::FINAL_REASONS {
            if self.reasons_after_election.get(code.as_str()).is_none_or(|r| r.trim().is_empty()) {
                return Err(invalid(format!("reasons_after_election.{} is missing", code.as_str())));
            }
        }
        if let Some(extra) = self.reasons_after_election.keys().find(|k| StatusCode::parse(k).is_none_or(|c| !c.has_reason())) {
            return Err(invalid(format!("reasons_after_election.{extra} is not a status code with a reason")));
        }
        for (code, name) in &self.counties {
            if crate::county::CountyCode::parse(code).is_none() {
                return Err(invalid(format!("counties.{code} is not a county code 01-58")));
            }
            if name.trim().is_empty() || name.contains(['{', '}']) {
                return Err(invalid(format!("counties.{code} is empty or has a placeholder")));
            }
        }
        Ok(())
    }
}

impl Catalog {
    /// The templates built into the binary from `templates/`.
    pub fn embedded() -> Result<Catalog, TemplateError> {
        Self::from_sources(embedded_sources())
    }

    /// Loads templates from (file stem, TOML text) pairs; English must be among them.
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Catalog, TemplateError> {
        let mut languages = BTreeMap::new();
        for (stem, text) in sources {
            let invalid = |reason: String| TemplateError::Invalid { file: stem.to_string(), reason };
            let lang = Language::parse(stem).ok_or_else(|| invalid(format!("'{stem}' is not a language code")))?;
            let parsed: LanguageTemplates = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
            parsed.check(stem)?;
            languages.insert(lang, parsed);
        }
        if !languages.contains_key(&Language::En) {
            return Err(TemplateError::NoLanguage("en".into()));
        }
        Ok(Catalog { languages })
    }

    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        self.languages.keys().copied()
    }

    /// A language's templates; a language without a file falls back to English.
    pub fn language(&self, lang: Language) -> &LanguageTemplates {
        self.languages.get(&lang).unwrap_or_else(|| &self.languages[&Language::En])
    }

    pub fn has(&self, lang: Language) -> bool {
        self.languages.contains_key(&lang)
    }

    /// Renders one message for one channel. `values` gives every placeholder the text uses.
    pub fn render(&self, lang: Language, kind: MessageKind, channel: Channel, values: &BTreeMap<&str, String>) -> Result<Rendered, TemplateError> {
        self.render_as(lang, Wording::of(kind), channel, values)
    }

    /// Renders one message for one channel with the texts `wording` names (its own, or one
    /// standing in for it at the time it goes: [`Wording::at`]).
    pub fn render_as(&self, lang: Language, wording: Wording, channel: Channel, values: &BTreeMap<&str, String>) -> Result<Rendered, TemplateError> {
        let t = self.language(lang);
        let texts = t.texts(wording);
        let kind = wording.kind;
        let lang_code = if self.has(lang) { lang.code() } else { "en" };
        let fill = |part: Part, html: bool| {
            substitute(texts.part(part), values, if html { Form::Html } else { Form::Plain }).map_err(|name| TemplateError::MissingValue {
                lang: lang_code.into(),
                message: wording.key.into(),
                part: part.key().into(),
                name,
            })
        };
        // Every email carries its one-click unsubscribe link when the caller gives one; calls
        // about ballots end with how to stop them.
        let unsubscribe = values.get("unsubscribe_url");
        Ok(match channel {
            // Every text says who sends it, every call who calls.
            Channel::Sms => {
                let frame = format!("{} {}", t.web.sms_label, texts.sms);
                let text = if sms_segments(&frame).0 == SmsEncoding::Gsm7 {
                    // A GSM-7 text stays GSM-7: values get the GSM-7 form of their letters.
                    substitute(&texts.sms, values, Form::Gsm7).map_err(|name| TemplateError::MissingValue {
                        lang: lang_code.into(),
                        message: wording.key.into(),
                        part: Part::Sms.key().into(),
                        name,
                    })?
                } else {
                    fill(Part::Sms, false)?
                };
                Rendered { subject: None, text: format!("{} {text}", t.web.sms_label), html: None }
            }
            Channel::Voice => {
                Rendered { subject: None, text: t.spoken_call(kind, &fill(Part::Voice, false)?), html: None }
            }
            Channel::Email => {
                let subject = fill(Part::EmailSubject, false)?;
                let body = fill(Part::EmailHtml, true)?;
                let text = fill(Part::EmailText, false)?;
                // The footer: why the voter gets it, where to change the choices, how to stop
                // (the one-click link), and how to reach the Secretary of State.
                let w = &t.web;
                let links: Vec<(&str, &String)> = [(w.email_change.as_str(), values.get("page_url")), (w.unsubscribe_link.as_str(), unsubscribe)]
                    .into_iter()
                    .filter_map(|(label, url)| url.map(|u| (label, u)))
                    .collect();
                // A code goes to an address not yet proven: it has no footer ("you signed up").
                let (text, footer) = if kind.is_code() {
                    (text, String::new())
                } else {
                    let mut text = format!("{}\n\n--\n{}\n", text.trim_end(), w.email_footer);
                    let mut footer = format!("<footer>\n<p>{}</p>\n", html_escape(&w.email_footer));
                    for (label, url) in &links {
                        text.push_str(&format!("{label}: {url}\n"));
                        footer.push_str(&format!("<p><a href=\"{}\">{}</a></p>\n", html_escape(url), html_escape(label)));
                    }
                    text.push_str(&format!("{}\n", w.email_contact));
                    footer.push_str(&format!("<p>{}</p>\n</footer>\n", html_escape(&w.email_contact)));
                    (text, footer)
                };
                let html = format!(
                    "<!DOCTYPE html>\n<html lang=\"{lang_code}\" dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
                     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n\
                     <body>\n<main>\n{body}\n</main>\n{footer}</body>\n</html>\n",
                    dir = t.meta.dir,
                    title = html_escape(&subject),
                );
                Rendered { subject: Some(subject), text, html: Some(html) }
            }
        })
    }
}

/// The placeholders of every (message, part) of a language, for comparing languages.
pub fn placeholder_sets(t: &LanguageTemplates) -> BTreeMap<(String, &'static str), BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (key, texts) in &t.messages {
        for part in Part::ALL {
            out.insert((key.clone(), part.key()), placeholders(texts.part(part)).unwrap_or_default().into_iter().collect());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gsm7_text_gets_the_gsm7_form_of_each_value_it_uses() {
        let mut v = BTreeMap::new();
        v.insert("county_name", "San Jos\u{e9} \u{2019}s \u{0175}".to_string());
        assert_eq!(substitute("{county_name}!", &v, Form::Gsm7).unwrap(), "San Jos\u{e9} 's w!");
        assert_eq!(substitute("{county_name}!", &v, Form::Plain).unwrap(), "San Jos\u{e9} \u{2019}s \u{0175}!");
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        let c = Catalog::embedded().unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        for (lang, expected) in [
            (Language::En, "November 3, 2026"),
            (Language::Es, "3 de noviembre de 2026"),
            (Language::Ja, "2026年11月3日"),
            (Language::Ko, "2026년 11월 3일"),
            (Language::Vi, "3/11/2026"),
        ] {
            assert_eq!(c.language(lang).format_date(date), expected, "{lang}");
        }
        assert_eq!(c.language(Language::En).format_date(NaiveDate::from_ymd_opt(905, 1, 31).unwrap()), "January 31, 905");
    }
}
