//! Stopping messages: the keywords of inbound texts (STOP, HELP, START in the ten languages) and
//! the signed, expiring links of one-click email unsubscribe (RFC 8058).

use crate::access::SigningKey;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// What an inbound text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Stop,
    Start,
    Help,
}

/// The carriers' opt-out words (CTIA) and their equivalents in the ten languages, compared
/// without case or accents.
const STOP_WORDS: &[&str] = &[
    "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "opt out", "remove", "revoke", "arret",
    // es
    "alto", "parar", "para", "cancelar", "baja", "detener",
    // zh (Traditional and Simplified)
    "停止", "取消", "退訂", "退订",
    // hi
    "रोकें", "रोको", "बंद करें", "बंद",
    // ja
    "停止", "配信停止", "中止",
    // km
    "ឈប់",
    // ko
    "중지", "취소", "수신거부",
    // tl
    "hinto", "itigil", "tigil",
    // th
    "หยุด", "ยกเลิก",
    // vi
    "dung", "huy", "ngung", "dung lai", "ngung lai",
    // zh: the unsubscribe reply of China's texts
    "td",
];

const START_WORDS: &[&str] = &["start", "unstop", "yes", "subscribe", "resume", "iniciar", "comenzar", "開始", "开始", "शुरू", "開始する", "ចាប់ផ្តើម", "시작", "simula", "เริ่ม", "bat dau"];

const HELP_WORDS: &[&str] = &["help", "info", "ayuda", "幫助", "帮助", "मदद", "ヘルプ", "ជំនួយ", "도움", "도움말", "tulong", "ช่วยเหลือ", "giup", "tro giup"];

/// Folds a text for keyword matching: accents and case dropped, punctuation and extra spaces gone.
fn fold(text: &str) -> String {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if c == 'đ' || c == 'Đ' { 'd' } else { c })
        .collect::<String>()
        .to_lowercase();
    let cleaned: String = folded.chars().map(|c| if c.is_alphanumeric() || c.is_whitespace() { c } else { ' ' }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The keyword an inbound text carries: the whole message, ignoring case, accents and
/// punctuation ("Stop.", "STOP ALL", "Dừng"); or, for a text that says more, a request to stop
/// in the voter's own words ([`crate::stop_phrases`]: "Please stop texting me"). Anything else
/// is not a keyword.
pub fn keyword(text: &str) -> Option<Keyword> {
    let f = fold(text);
    let compact = f.replace(' ', "");
    let is = |words: &[&str]| words.iter().any(|w| fold(w) == f || fold(w).replace(' ', "") == compact);
    if is(STOP_WORDS) || compact == "stopall" {
        Some(Keyword::Stop)
    } else if is(START_WORDS) {
        Some(Keyword::Start)
    } else if is(HELP_WORDS) {
        Some(Keyword::Help)
    } else if crate::stop_phrases::asks_to_stop(text) {
        Some(Keyword::Stop)
    } else {
        None
    }
}

/// How long an unsubscribe link in an email works.
pub const UNSUBSCRIBE_LINK_DAYS: i64 = 120;

/// Why an unsubscribe link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    Invalid,
    Expired,
}

/// A short keyed name of the address a link was sent to, in links made before they carried the
/// address's name in the contact index ([`crate::keys::contact_name`]): such a link stops email
/// only while that address is still the voter's.
fn address_tag(key: &SigningKey, email: &str) -> String {
    key.name("unsubscribe-address", &email.to_lowercase())[..16].to_string()
}

/// The address's keyed name in the contact index, when the link carries it (every link made
/// now): the link then stops that address whichever voters have it, even once the voter it
/// names has moved to another address or been erased (a household's shared inbox).
pub fn link_contact(tag: &str) -> Option<&str> {
    (tag.len() == 32 && tag.bytes().all(|b| b.is_ascii_hexdigit())).then_some(tag)
}

/// The token of an email's unsubscribe link: the voter it stops email for, the keyed name of
/// the address it was sent to (as the contact index knows it), and when it expires, signed with
/// the service's key. It names the voter by VoteCal ID, never the address.
pub fn unsubscribe_token(key: &SigningKey, votecal_id: &str, email: &str, expires: DateTime<Utc>) -> String {
    let name = crate::keys::contact_name(key, crate::status::Channel::Email, email);
    let payload = format!("{votecal_id}.{name}.{}", expires.timestamp());
    let sig = key.mac(&[b"unsubscribe", payload.as_bytes()]);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}", b64.encode(payload.as_bytes()), b64.encode(&sig[..20]))
}

/// The voter an unsubscribe token names and the tag of its address, if its signature holds and
/// it has not expired.
pub fn read_unsubscribe_token(key: &SigningKey, token: &str, now: DateTime<Utc>) -> Result<(String, String), LinkError> {
    let (voter, tag, expires) = read_token(key, token)?;
    if now.timestamp() >= expires {
        return Err(LinkError::Expired);
    }
    Ok((voter, tag))
}

/// The voter a link this key signed names, expired or not (its page is then in the voter's
/// language); None for a link this key did not sign.
pub fn voter_of_link(key: &SigningKey, token: &str) -> Option<String> {
    read_token(key, token).ok().map(|(voter, _, _)| voter)
}

/// A signed link's voter, address tag and expiry.
fn read_token(key: &SigningKey, token: &str) -> Result<(String, String, i64), LinkError> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, sig) = token.trim().split_once('.').ok_or(LinkError::Invalid)?;
    let payload = b64.decode(payload).map_err(|_| LinkError::Invalid)?;
    let sig = b64.decode(sig).map_err(|_| LinkError::Invalid)?;
    let expected = key.mac(&[b"unsubscribe", &payload]);
    // Compared in full whatever differs first (no early exit to time).
    if sig.len() != 20 || sig.iter().zip(&expected[..20]).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return Err(LinkError::Invalid);
    }
    let payload = String::from_utf8(payload).map_err(|_| LinkError::Invalid)?;
    let (rest, expires) = payload.rsplit_once('.').ok_or(LinkError::Invalid)?;
    let (voter, tag) = rest.rsplit_once('.').ok_or(LinkError::Invalid)?;
    let expires: i64 = expires.parse().map_err(|_| LinkError::Invalid)?;
    Ok((voter.to_string(), tag.to_string(), expires))
}

/// Whether a link's address tag is this address's.
pub fn link_is_for(key: &SigningKey, tag: &str, email: &str) -> bool {
    match link_contact(tag) {
        Some(name) => crate::keys::contact_name(key, crate::status::Channel::Email, email) == name,
        None => address_tag(key, email) == tag,
    }
}

/// The link an email carries: `<public url>/unsubscribe?token=…`.
pub fn unsubscribe_url(base: &str, key: &SigningKey, votecal_id: &str, email: &str, now: DateTime<Utc>) -> String {
    // Expiring at a day's end: every email of a day carries the same link.
    let day = chrono::DurationRound::duration_trunc(now, Duration::days(1)).unwrap_or(now);
    let token = unsubscribe_token(key, votecal_id, email, day + Duration::days(UNSUBSCRIBE_LINK_DAYS + 1));
    format!("{}/unsubscribe?token={token}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_in_every_form_stop_and_other_texts_do_not() {
        for text in ["STOP", "stop", " Stop. ", "STOPALL", "Stop all", "UNSUBSCRIBE", "cancel", "END", "quit", "Alto", "Dừng", "DUNG", "停止", "退訂", "중지", "หยุด", "ឈប់", "रोकें", "Hinto"] {
            assert_eq!(keyword(text), Some(Keyword::Stop), "{text}");
        }
        for text in ["START", "unstop", "Yes"] {
            assert_eq!(keyword(text), Some(Keyword::Start), "{text}");
        }
        for text in ["HELP", "help?", "Ayuda", "INFO", "도움"] {
            assert_eq!(keyword(text), Some(Keyword::Help), "{text}");
        }
        // A text that asks to stop in the voter's own words stops too (FCC 24-24: any reply a
        // reasonable person reads as a request to stop); a word that asks to stop only as the whole
        // reply ("end") does not, in a sentence.
        for text in ["stop sending me the wrong county", "Please stop texting me", "请停止发送短信"] {
            assert_eq!(keyword(text), Some(Keyword::Stop), "{text}");
        }
        for text in ["Where is my ballot?", "", "🙂", "When does it end?"] {
            assert_eq!(keyword(text), None, "{text}");
        }
    }

    #[test]
    fn an_unsubscribe_link_works_until_it_expires_and_only_as_signed() {
        let key = SigningKey::new(b"0123456789abcdef").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-10-06T19:00:00Z").unwrap().with_timezone(&Utc);
        let token = unsubscribe_token(&key, "CA000000101", "Ann@example.com", now + Duration::days(1));
        let (voter, tag) = read_unsubscribe_token(&key, &token, now).unwrap();
        assert_eq!(voter, "CA000000101");
        assert!(link_is_for(&key, &tag, "ann@example.com") && !link_is_for(&key, &tag, "new@example.com"), "a link is for its address");
        assert_eq!(read_unsubscribe_token(&key, &token, now + Duration::days(2)), Err(LinkError::Expired));
        let other = SigningKey::new(b"fedcba9876543210").unwrap();
        assert_eq!(read_unsubscribe_token(&other, &token, now), Err(LinkError::Invalid));
        let forged = unsubscribe_token(&other, "CA000000102", "ann@example.com", now + Duration::days(1));
        assert_eq!(read_unsubscribe_token(&key, &forged, now), Err(LinkError::Invalid));
        assert_eq!(read_unsubscribe_token(&key, "garbage", now), Err(LinkError::Invalid));
        let url = unsubscribe_url("https://api.example.gov/", &key, "CA000000101", "ann@example.com", now);
        let token = url.strip_prefix("https://api.example.gov/unsubscribe?token=").expect("one slash, then the route");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "no escaping needed: {token}");
        assert!(!url.contains("@"), "no address in the link");
        // A link made before links carried the contact's name still works for its address
        let payload = format!("CA000000101.{}.{}", address_tag(&key, "ann@example.com"), (now + Duration::days(1)).timestamp());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let old = format!("{}.{}", b64.encode(&payload), b64.encode(&key.mac(&[b"unsubscribe", payload.as_bytes()])[..20]));
        let (_, tag) = read_unsubscribe_token(&key, &old, now).unwrap();
        assert!(link_contact(&tag).is_none() && link_is_for(&key, &tag, "Ann@example.com") && !link_is_for(&key, &tag, "new@example.com"));
    }
}
