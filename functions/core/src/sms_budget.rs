//! The SMS budget: segments counted as carriers count them, the GSM-7 form of values, and every
//! message's worst case in every language (no SMS may take more than 3 segments).

use crate::status::{Channel, Language, StatusCode};
use crate::templates::{Catalog, TemplateError, Wording};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// How an SMS is encoded by carriers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

/// How many septets a character takes in GSM-7: 1 in the basic table, 2 in the extension
/// table, None outside GSM-7. ASCII (nearly every character of an English text) is answered
/// from a table built from the two alphabets above; the rest are looked up in them.
fn gsm7_septets(c: char) -> Option<usize> {
    const ASCII: [u8; 128] = {
        let mut table = [0u8; 128];
        let (basic, extension) = (GSM7_BASIC.as_bytes(), GSM7_EXTENSION.as_bytes());
        let mut i = 0;
        while i < basic.len() {
            if basic[i] < 128 {
                table[basic[i] as usize] = 1;
            }
            i += 1;
        }
        let mut i = 0;
        while i < extension.len() {
            if extension[i] < 128 {
                table[extension[i] as usize] = 2;
            }
            i += 1;
        }
        table
    };
    if c.is_ascii() {
        return match ASCII[c as usize] {
            0 => None,
            n => Some(n as usize),
        };
    }
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Counts the segments an SMS takes, as carriers count them: GSM-7 (extension-table characters
/// take two septets; 160 septets in one segment, 153 per segment when split) when every character
/// is in the GSM-7 alphabet, otherwise UCS-2 (70 UTF-16 units, 67 per segment when split). A
/// character is never split across segments.
pub fn sms_segments(text: &str) -> (SmsEncoding, usize) {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    let (encoding, costs, single, multi): (_, Vec<usize>, usize, usize) = if let Some(septets) = gsm {
        (SmsEncoding::Gsm7, septets, 160, 153)
    } else {
        (SmsEncoding::Ucs2, text.chars().map(char::len_utf16).collect(), 70, 67)
    };
    let total: usize = costs.iter().sum();
    if total <= single {
        return (encoding, usize::from(total > 0));
    }
    let (mut segments, mut used) = (1, 0);
    for cost in costs {
        if used + cost > multi {
            segments += 1;
            used = 0;
        }
        used += cost;
    }
    (encoding, segments)
}

/// The GSM-7 form of a value going into a GSM-7 text, so that one accented letter in an election
/// name does not turn a whole Spanish text into UCS-2 (3 segments hold 459 GSM-7 characters but
/// only 201 UCS-2 ones): letters outside GSM-7 lose their accents (`ó` → `o`; `é`, `ñ`, `ü` are
/// GSM-7 and stay), typographic quotes and dashes become plain ones. Anything else stays as it is
/// (and the election's names are checked against the budget when it is loaded).
pub fn gsm7_fallback(value: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let in_gsm = |c: char| gsm7_septets(c).is_some();
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if in_gsm(c) {
            out.push(c);
            continue;
        }
        match c {
            '\u{2018}' | '\u{2019}' | '\u{02BC}' => out.push('\''),
            '\u{201C}' | '\u{201D}' => out.push('"'),
            '\u{2013}' | '\u{2014}' => out.push('-'),
            '\u{00A0}' => out.push(' '),
            _ => {
                let base: String = c.to_string().nfd().filter(|d| !unicode_normalization::char::is_combining_mark(*d)).collect();
                if !base.is_empty() && base.chars().all(in_gsm) {
                    out.push_str(&base);
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// The worst-case placeholder values: each at the longest a real message can carry.
pub fn longest_values(catalog: &Catalog, lang: Language, election_name: &str) -> BTreeMap<&'static str, String> {
    let t = catalog.language(lang);
    let longest_reason = t.reasons.values().max_by_key(|r| r.encode_utf16().count()).cloned().unwrap_or_default();
    let longest_date = (1..=12)
        .flat_map(|m| [28, 30].map(move |d| (m, d)))
        .filter_map(|(m, d)| NaiveDate::from_ymd_opt(2026, m, d))
        .map(|d| t.format_date(d))
        .max_by_key(|s| s.encode_utf16().count())
        .unwrap_or_default();
    let mut v = BTreeMap::new();
    v.insert("election_name", election_name.to_string());
    v.insert("election_date", longest_date.clone());
    v.insert("status_date", longest_date.clone());
    v.insert("cure_deadline", t.format.deadline.replace("{date}", &longest_date));
    let longest_county = t.counties.values().map(String::as_str).chain(["San Luis Obispo"]).max_by_key(|n| n.encode_utf16().count()).unwrap_or_default();
    v.insert("county_name", longest_county.to_string());
    v.insert("county_phone", "(805) 781-5228".to_string());
    v.insert("county_email", "elections-vote-by-mail@countyofsanluisobispo.example.gov".to_string());
    v.insert("county_url", "https://www.slocounty.ca.gov/departments/clerk-recorder/elections".to_string());
    v.insert("reason", longest_reason);
    v.insert("notify_from", "08:00".to_string());
    v.insert("notify_until", "20:00".to_string());
    v.insert("code", "999999".to_string());
    v
}

/// SMS segments of a message at its worst case, with an election name of 40 letters in the
/// message's own alphabet (GSM-7 letters when its text is GSM-7, others otherwise). The actual
/// names of an election are checked when it is loaded ([`election_sms_overflows`]).
pub fn worst_segments(catalog: &Catalog, lang: Language, wording: Wording) -> Result<usize, TemplateError> {
    let gsm = sms_segments(&catalog.language(lang).texts(wording).sms).0 == SmsEncoding::Gsm7;
    let name = if gsm { "W".repeat(40) } else { "á".repeat(40) };
    sms_with_name(catalog, lang, wording, &name)
}

fn sms_with_name(catalog: &Catalog, lang: Language, wording: Wording, election_name: &str) -> Result<usize, TemplateError> {
    let mut values = longest_values(catalog, lang, election_name);
    // The texts' own reasons: a final verdict's are not the others'.
    let t = catalog.language(lang);
    let reasons = StatusCode::ALL.into_iter().filter(|c| c.has_reason()).map(|c| t.reason_as(c, wording));
    values.insert("reason", reasons.max_by_key(|r| r.encode_utf16().count()).unwrap_or_default().to_string());
    Ok(sms_segments(&catalog.render_as(lang, wording, Channel::Sms, &values)?.text).1)
}

/// The messages that would take more than 3 SMS segments with these election names (one per
/// language), other values at their longest: (language, message, segments).
pub fn election_sms_overflows(catalog: &Catalog, name_in: impl Fn(Language) -> String) -> Vec<(Language, Wording, usize)> {
    let mut out = vec![];
    for lang in catalog.languages() {
        for wording in Wording::all() {
            if let Ok(n) = sms_with_name(catalog, lang, wording, &name_in(lang)) {
                if n > 3 {
                    out.push((lang, wording, n));
                }
            }
        }
    }
    out
}

/// The table of worst-case SMS segments, message × language, as Markdown.
pub fn segment_table(catalog: &Catalog) -> Result<String, TemplateError> {
    let langs: Vec<Language> = catalog.languages().collect();
    let mut out = format!("| message | {} |\n|---|{}\n", langs.iter().map(|l| l.code()).collect::<Vec<_>>().join(" | "), "---|".repeat(langs.len()));
    for wording in Wording::all() {
        let cells: Vec<String> = langs.iter().map(|l| worst_segments(catalog, *l, wording).map(|n| n.to_string())).collect::<Result<_, _>>()?;
        out.push_str(&format!("| {wording} | {} |\n", cells.join(" | ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::MessageKind;

    #[test]
    fn sms_segments_follow_carrier_counting() {
        assert_eq!(sms_segments(&"a".repeat(160)), (SmsEncoding::Gsm7, 1));
        assert_eq!(sms_segments(&"a".repeat(161)), (SmsEncoding::Gsm7, 2));
        assert_eq!(sms_segments(&"a".repeat(306)), (SmsEncoding::Gsm7, 2));
        assert_eq!(sms_segments(&"a".repeat(307)), (SmsEncoding::Gsm7, 3));
        // '€' is in the extension table: two septets each.
        assert_eq!(sms_segments(&"€".repeat(80)), (SmsEncoding::Gsm7, 1));
        assert_eq!(sms_segments(&"€".repeat(81)), (SmsEncoding::Gsm7, 2));
        // One 'á' (not in GSM-7) turns the whole message into UCS-2.
        assert_eq!(sms_segments(&format!("á{}", "a".repeat(69))), (SmsEncoding::Ucs2, 1));
        assert_eq!(sms_segments(&format!("á{}", "a".repeat(70))), (SmsEncoding::Ucs2, 2));
        assert_eq!(sms_segments(&"ก".repeat(201)), (SmsEncoding::Ucs2, 3));
        assert_eq!(sms_segments(&"ก".repeat(202)), (SmsEncoding::Ucs2, 4));
        // A typographic apostrophe is not GSM-7.
        assert_eq!(sms_segments("Where’s My Ballot").0, SmsEncoding::Ucs2);
    }

    #[test]
    fn the_ascii_table_says_what_the_alphabets_say() {
        // Every ASCII character, and a few others, as the two alphabets above list them.
        for c in (0u8..128).map(char::from).chain(['£', 'é', '€', 'Δ', 'á', '’', 'ก']) {
            let listed = if GSM7_BASIC.contains(c) { Some(1) } else if GSM7_EXTENSION.contains(c) { Some(2) } else { None };
            assert_eq!(gsm7_septets(c), listed, "{c:?}");
        }
        assert_eq!(gsm7_septets('`'), None);
        assert_eq!(gsm7_septets('['), Some(2));
        assert_eq!(gsm7_septets('\n'), Some(1));
    }

    #[test]
    fn an_election_name_that_breaks_the_sms_budget_is_found() {
        let c = Catalog::embedded().unwrap();
        assert!(election_sms_overflows(&c, |_| "2026 General Election".into()).is_empty());
        // An accented 40-letter name keeps a GSM-7 text GSM-7 (its letters lose their accents there).
        let long_accented = "Elección Primaria Estatal Consolidada 26";
        let over = election_sms_overflows(&c, |_| long_accented.into());
        assert!(over.is_empty(), "{over:?}");
        // A name in another script cannot: it turns long English SMS into UCS-2, and is found.
        let other_script = "二〇二六年加利福尼亞州全州普選";
        let over = election_sms_overflows(&c, |l| if l == Language::En { other_script.into() } else { "x".into() });
        assert!(!over.is_empty(), "a name in another script turns long English SMS into UCS-2");
        assert!(over.iter().all(|(l, _, n)| *l == Language::En && *n > 3));
    }

    #[test]
    fn values_in_a_gsm7_text_take_their_gsm7_form_and_emails_keep_every_accent() {
        assert_eq!(gsm7_fallback("Elección General de 2026"), "Eleccion General de 2026");
        assert_eq!(gsm7_fallback("Peña Ibáñez – “Núñez”’s"), "Peña Ibañez - \"Nuñez\"'s");
        assert_eq!(gsm7_fallback("2026年普選"), "2026年普選", "no GSM-7 form: left as it is");
        let c = Catalog::embedded().unwrap();
        let mut v = longest_values(&c, Language::Es, "Elección General de 2026");
        v.insert("election_name", "Elección General de 2026".into());
        let sms = c.render(Language::Es, MessageKind::Outbound, Channel::Sms, &v).unwrap().text;
        assert!(sms.contains("Eleccion General de 2026"), "{sms}");
        assert_eq!(sms_segments(&sms).0, SmsEncoding::Gsm7);
        let email = c.render(Language::Es, MessageKind::Outbound, Channel::Email, &v).unwrap();
        assert!(email.subject.unwrap().contains("Elección General de 2026"));
    }
}
