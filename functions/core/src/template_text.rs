//! A template text's placeholders, and its values written into it: as they are, escaped for
//! HTML, or in their GSM-7 letters.

use crate::sms_budget::gsm7_fallback;
use std::collections::BTreeMap;

/// The placeholders a text uses, in order of first use.
pub fn placeholders(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = vec![];
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| "a '{' is not closed".to_string())?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(format!("'{{{name}}}' is not a placeholder name"));
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("a '}' has no '{'".into());
    }
    Ok(out)
}

/// How a value is written into a text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Plain,
    /// Escaped for HTML.
    Html,
    /// In the GSM-7 form of its letters (a GSM-7 text stays GSM-7).
    Gsm7,
}

pub(crate) fn substitute(text: &str, values: &BTreeMap<&str, String>, form: Form) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| "unclosed".to_string())?;
        let name = &after[..close];
        let value = values.get(name).ok_or_else(|| name.to_string())?;
        match form {
            Form::Plain => out.push_str(value),
            Form::Html => push_html_escaped(&mut out, value),
            Form::Gsm7 => out.push_str(&gsm7_fallback(value)),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_html_escaped(&mut out, s);
    out
}

fn push_html_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..at]);
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_malformed_ones_refused() {
        assert_eq!(placeholders("Hi {county_name}, {reason}. {county_name}").unwrap(), ["county_name", "reason"]);
        assert!(placeholders("{unclosed").is_err());
        assert!(placeholders("{Bad Name}").is_err());
        assert!(placeholders("stray }").is_err());
    }



    #[test]
    fn html_values_are_escaped() {
        let mut v = BTreeMap::new();
        v.insert("county_name", "<b>&</b>".to_string());
        v.insert("reason", "\"Tom's\" ballot".to_string());
        assert_eq!(substitute("<p>{county_name}</p>", &v, Form::Html).unwrap(), "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>");
        assert_eq!(substitute("<p title=\"{reason}\">", &v, Form::Html).unwrap(), "<p title=\"&quot;Tom&#39;s&quot; ballot\">");
        assert_eq!(html_escape("plain, nothing to escape"), "plain, nothing to escape");
        assert_eq!(substitute("{nope}", &v, Form::Plain).unwrap_err(), "nope");
    }
}
