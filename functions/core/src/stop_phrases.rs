//! Texts that ask to stop in words of their own: "Please stop texting me", "no more texts",
//! "quiero darme de baja", "不要再发了". Since the FCC's order 24-24 (in force 11 Apr 2025), a
//! reply that a reasonable person would read as a request to stop revokes consent, whatever
//! else it says; a keyword alone ([`crate::optout::keyword`]) is only the plainest such reply.
//!
//! The words looked for are the ones that ask to stop wherever they stand. A word that asks to
//! stop only when it is the whole reply ("end", "cancel", "para", "baja", "hủy") is not looked
//! for in a sentence: "at the end", "I want to cancel my ballot and vote in person", "gracias
//! para todo" are not requests to stop. A stop read where none was meant costs the voter one
//! text that says how to start again; a request to stop not read keeps texts coming to someone
//! who asked them to end.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words and phrases of the languages written with spaces between words, in Latin letters,
/// compared as whole words without case or accents (`fold_latin`).
const SPACED: &[&str] = &[
    // en
    "unsubscribe", "optout", "opt out", "revoke", "remove me", "take me off", "no more texts", "no more text", "no more messages",
    "dont text", "do not text", "dont message", "do not message", "quit texting", "quit sending",
    // es
    "dar de baja", "darme de baja", "no mas mensajes", "no mas textos", "no quiero recibir",
];

/// Verbs that ask to stop something, not always the messages ("stop texting me"; "when do you
/// stop counting?"): in a question, they ask to stop the messages only when one of
/// [`MESSAGES`] follows within three words.
const STOP_VERBS: &[&str] = &["stop", "stopall", "parar", "detener", "alto", "itigil", "tigil", "hinto"];

/// What a stop verb stops when it is the messages.
const MESSAGES: &[&str] = &["text", "texts", "texting", "message", "messages", "messaging", "sending", "these", "this", "me", "it", "them", "all", "mensajes", "textos", "enviar", "mandar", "mensahe", "pagtext", "na"];

/// A word before a stop verb that makes it no request to stop ("don't stop", "never stop").
const NEGATIONS: &[&str] = &["dont", "do not", "never"];

/// Words of languages written without spaces between words (or whose words take endings and
/// particles: Korean, Hindi), and of Vietnamese, whose words tell apart only by their marks
/// ("dừng", stop; "dùng", use): found anywhere in the text, compared as written, without case.
/// Each says what it stops (the messages, the sending); those that do not ([`UNSPACED_VERBS`])
/// count only in a text that asks no question.
const UNSPACED: &[&str] = &[
    // zh (Traditional and Simplified)
    "退訂", "退订", "不要再發", "不要再发", "別再發", "别再发", "停止發送", "停止发送",
    // ja
    "配信停止", "送らないで",
    // ko
    "수신거부", "수신 거부", "문자 중지",
    // hi
    "मत भेजें", "मत भेजो", "संदेश बंद",
    // th
    "หยุดส่ง", "ไม่ต้องส่ง",
    // vi
    "hủy đăng ký", "đừng gửi", "dừng gửi", "ngừng gửi", "ngừng nhắn",
];

/// Words that ask to stop without saying what: outside a question, they are read as asking to
/// stop the messages.
const UNSPACED_VERBS: &[&str] = &["停止", "中止", "중지", "रोकें", "रोको", "बंद करें", "बंद करो", "ឈប់", "dừng", "ngừng"];

/// Whether a text asks to stop in words of its own.
pub fn asks_to_stop(text: &str) -> bool {
    let question = text.contains(['?', '？', '¿']);
    let latin = format!(" {} ", fold_latin(text));
    let words: Vec<&str> = latin.split_whitespace().collect();
    let negated = |i: usize| NEGATIONS.iter().any(|n| words[..i].join(" ").ends_with(&format!(" {n}")) || words[..i].join(" ") == *n);
    let phrase = SPACED.iter().any(|w| latin.contains(&format!(" {w} ")));
    let verb = words.iter().enumerate().any(|(i, w)| {
        STOP_VERBS.contains(w) && !negated(i) && (!question || words[i + 1..].iter().take(3).any(|next| MESSAGES.contains(next)))
    });
    let written: String = text.nfc().collect::<String>().to_lowercase();
    let unspaced = UNSPACED.iter().any(|w| written.contains(w)) || (!question && UNSPACED_VERBS.iter().any(|w| written.contains(w)));
    phrase || verb || unspaced
}

/// Latin letters without case or accents, apostrophes dropped ("don't" is "dont"), anything else
/// that is not a letter or digit a space, one space between words.
fn fold_latin(text: &str) -> String {
    let folded: String = text.nfd().filter(|c| !is_combining_mark(*c)).filter(|c| !matches!(c, '\'' | '’')).collect::<String>().to_lowercase();
    let cleaned: String = folded.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_to_stop_in_a_voters_own_words_is_read_in_every_language() {
        for text in [
            "Please stop texting me",
            "stop sending me these",
            "STOP!!! I already voted",
            "Can you stop these messages?",
            "Unsubscribe me please",
            "I want to opt out",
            "please remove me from this list",
            "No more texts, thanks",
            "Don't text me again",
            "do not text this number",
            "I revoke my consent",
            "No, stop texting me",
            "Por favor, quiero darme de baja",
            "no más mensajes por favor",
            "Quiero parar los mensajes",
            "pakiusap itigil na ninyo",
            "请停止发送短信",
            "不要再发了",
            "配信停止してください",
            "문자 중지해 주세요",
            "कृपया संदेश भेजना बंद करें",
            "សូមឈប់ផ្ញើសារ",
            "กรุณาหยุดส่งข้อความ",
            "Xin dừng gửi tin nhắn",
            "Làm ơn ngừng nhắn tin",
        ] {
            assert!(asks_to_stop(text), "{text}");
        }
    }

    #[test]
    fn questions_and_words_that_only_sound_like_stopping_are_not_read_as_a_stop() {
        for text in [
            "Where is my ballot?",
            "Don't stop the updates, they're great",
            "please never stop",
            "I want to cancel my ballot and vote in person",
            "When does the cure period end?",
            "Gracias para todo",
            "Tôi dùng số này",
            "sarado ba ang opisina?",
            "Thank you!",
            "Stoppage time",
            "Stopping by the office tomorrow",
            "When do you stop accepting ballots?",
            "投票什么时候停止？",
            "สำนักงานเปิดวันหยุดไหม",
            "",
        ] {
            assert!(!asks_to_stop(text), "{text}");
        }
    }
}
