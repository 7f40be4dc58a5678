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
/// compared as whole words without case or accents (`fold_latin`: "đ" stays "đ", so Vietnamese
/// typed without marks is here too).
const SPACED: &[&str] = &[
    // en
    "unsubscribe", "unsub", "optout", "revoke consent", "revoke my consent", "remove me", "remove my number", "take me off", "take my number off",
    "no more texts", "no more text", "no more txts", "no more messages", "dont text", "do not text", "dont txt", "dont message", "do not message",
    "dont send me any", "do not send me any", "dont contact", "do not contact", "leave me alone",
    // es
    "dar de baja", "darme de baja", "me den de baja", "denme de baja", "dame de baja", "cancelar suscripcion", "no mas mensajes", "no mas mensages",
    "no mas textos", "no quiero recibir mensajes", "no quiero recibir textos", "no quiero recibir mas mensajes", "no quiero recibir estos mensajes",
    "dejen de enviarme", "dejen de mandarme", "deje de enviarme", "deje de mandarme", "dejar de enviarme", "dejar de mandarme", "no me manden mas",
    "no me envien mas",
    // hi (in Latin letters)
    "mat bhejo", "mat bhejiye", "band karo", "band karein", "band kar do",
    // tl
    "wag nyo na ako", "huwag nyo na ako", "ayoko na ng text", "ayaw ko na ng text",
    // vi (typed without marks)
    "dung gui", "ngung gui", "dung nhan tin", "ngung nhan tin",
];

/// Verbs (and a verb's phrase) that ask to stop something, not always the messages ("stop
/// texting me"; "when do you stop counting?", "can I opt out of vote by mail?"): in a question,
/// they ask to stop the messages only when one of [`MESSAGES`] follows within three words.
const STOP_VERBS: &[&str] = &["stop", "stopall", "opt out", "paren", "detengan", "itigil", "tigil", "tigilan", "ihinto", "tumigil", "hinto"];

/// Verbs that end many things ("cancel my ballot", "when does it end"): they ask to stop when
/// one of [`MESSAGES`] follows within three words.
const OBJECT_VERBS: &[&str] = &["cancel", "end", "quit", "block", "cancelar", "cancelen"];

/// Words that may follow a stop verb in a question that asks for nothing else ("can you stop
/// now?", "why won't you stop already?").
const FILLERS: &[&str] = &["please", "pls", "plz", "now", "already", "it", "yet", "por", "favor", "ya"];

/// What a stop verb stops when it is the messages.
const MESSAGES: &[&str] = &["text", "texts", "texting", "txt", "txts", "message", "messages", "messaging", "alerts", "notifications", "subscription", "these", "them", "mensajes", "mensaje", "mensages", "textos", "enviar", "enviarme", "mandar", "mandarme", "mensahe", "pagtext", "na"];

/// Words before a stop verb in a question that ask about a stop already made ("why did you
/// stop texting me?", "¿por qué dejaron…?" has no stop verb).
const PAST: &[&str] = &["did", "didnt", "has", "have", "had"];

/// Words before a stop verb that make it no request to stop ("don't stop", "I can't stop by").
const NEGATIONS: &[&str] = &["dont", "do not", "never", "cant", "cannot", "wont", "not"];

/// Words around "stop" that make it a place or a visit: "the bus stop", "I'll stop by".
const NOT_A_VERB_BEFORE: &[&str] = &["bus", "the", "a", "last", "next"];
const NOT_A_VERB_AFTER: &[&str] = &["by"];

/// Phrases of languages written without spaces between words (or whose words take endings and
/// particles: Korean, Hindi), and of Vietnamese, whose words tell apart only by their marks
/// ("dừng", stop; "dùng", use): found anywhere in the text, compared as written, without case.
/// Each says what it stops (the messages, the sending); those that do not ([`UNSPACED_VERBS`])
/// count only in a text that asks no question.
const UNSPACED: &[&str] = &[
    // zh (Simplified, then Traditional)
    "退订", "取消订阅", "停止发送", "停止发短信", "不要再发了", "不要再发短信", "不要再发信息", "不要再发消息", "不要再发给我", "不要再给我发", "别再发了",
    "别再发短信", "别再发信息", "别再发消息", "别再发给我", "别给我发", "不要再传",
    "退訂", "取消訂閱", "停止發送", "停止發簡訊", "不要再發了", "不要再發簡訊", "不要再發訊息", "不要再發給我", "不要再給我發", "別再發了", "別再發簡訊",
    "別再發訊息", "別再發給我", "別給我發", "不要再傳",
    // ja
    "配信停止", "配信を停止", "配信中止", "送信中止", "配信解除", "もう送らないで", "メッセージを送らないで", "送ってこないで",
    // ko
    "수신거부", "수신 거부", "수신 중지", "수신차단", "문자 중지", "문자중지", "그만 보내", "그만보내", "문자 보내지 마", "문자 보내지마", "구독 취소",
    // hi
    "मैसेज मत भेज", "मेसेज मत भेज", "संदेश मत भेज", "संदेश बंद",
    // km
    "ឈប់ផ្ញើ", "កុំផ្ញើ", "បញ្ឈប់ការផ្ញើ",
    // th
    "หยุดส่งข้อความ", "หยุดส่งมา", "กรุณาหยุดส่ง", "ไม่ต้องส่งมาอีก", "ไม่ต้องส่งข้อความ", "เลิกส่งมา", "เลิกส่งข้อความ", "อย่าส่งมาอีก",
    "ไม่ต้องการรับข้อความ", "ยกเลิกการรับข้อความ",
    // vi
    "hủy đăng ký nhận tin", "huỷ đăng ký nhận tin", "đừng gửi", "đừng nhắn", "dừng gửi", "dừng nhắn", "ngừng gửi", "ngừng nhắn", "ngưng gửi",
    "ngưng nhắn", "không muốn nhận tin",
];

/// Phrases that ask to stop without saying what: outside a question, they are read as asking
/// to stop the messages.
const UNSPACED_VERBS: &[&str] = &[
    "请停止", "請停止", "停止してください", "やめてください", "중지해 주세요", "중지해주세요", "रोकें", "रोको", "रोक दो", "रोक दें", "बंद करें", "बंद करो", "बंद कर दो",
    "बंद कर दें", "बंद कीजिए", "សូមឈប់",
];

/// Whether a text asks to stop in words of its own: whether one of its sentences does ("Who is
/// this? Stop." asks to stop; its question does not hide its stop).
pub fn asks_to_stop(text: &str) -> bool {
    // (Khmer keyboards put zero-width spaces between words.)
    let text: String = text.nfc().filter(|c| *c != '\u{200b}').collect();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let end = rest.find(|c: char| ".!?。！？\n".contains(c)).map_or(rest.len(), |i| i + rest[i..].chars().next().map_or(1, char::len_utf8));
        let (sentence, after) = rest.split_at(end);
        // A question: it ends with a question mark, or opens with Spanish's.
        if sentence_asks_to_stop(sentence, sentence.ends_with(['?', '？']) || sentence.contains('¿')) {
            return true;
        }
        rest = after;
    }
    false
}

/// Whether one sentence asks to stop; `question`: it asks something.
fn sentence_asks_to_stop(sentence: &str, question: bool) -> bool {
    let latin = fold_latin(sentence);
    let words: Vec<&str> = latin.split_whitespace().collect();
    let at = |i: usize, phrase: &str| {
        let n = phrase.split(' ').count();
        words.get(i..i + n).is_some_and(|w| w.join(" ") == phrase).then(|| words.get(i + n..).unwrap_or_default())
    };
    let negated = |i: usize| {
        let before = words[..i].join(" ");
        NEGATIONS.iter().any(|neg| before == *neg || before.ends_with(&format!(" {neg}")))
    };
    let of_messages = |after: &[&str]| after.iter().take(3).any(|w| MESSAGES.contains(w));
    // A question about a stop that happened ("why did you stop texting me?") asks for none.
    let asked_about = |before: &[&str]| before.iter().rev().take(2).any(|w| PAST.contains(w));
    let found = (0..words.len()).any(|i| {
        // A phrase that says what it stops: "unsubscribe me", "no more texts" (not "don't
        // unsubscribe me").
        SPACED.iter().any(|p| at(i, p).is_some()) && !negated(i)
            // A verb that stops something: the messages, when it is said outright ("Stop!",
            // "please stop texting me") or asked with nothing else to stop ("can you stop?",
            // "how do I opt out?"), or asked of the messages ("can you stop these texts?").
            || STOP_VERBS.iter().any(|v| {
                at(i, v).is_some_and(|after| {
                    !negated(i)
                        && !words[..i].last().is_some_and(|w| NOT_A_VERB_BEFORE.contains(w))
                        && !after.first().is_some_and(|w| NOT_A_VERB_AFTER.contains(w))
                        && (!question || ((of_messages(after) || after.iter().all(|w| FILLERS.contains(w))) && !asked_about(&words[..i])))
                })
            })
            // A verb that ends many things, when what it ends is the messages ("cancel these
            // texts"; not "cancel my ballot").
            || OBJECT_VERBS.iter().any(|v| at(i, v).is_some_and(|after| !negated(i) && of_messages(after)))
    });
    let written = sentence.to_lowercase();
    // (Thai writes "holiday" as วัน + หยุด: "วันหยุดส่งได้ไหม" asks about sending on a holiday.)
    let holiday = |w: &str| written.match_indices(w).all(|(i, _)| written[..i].ends_with("วัน"));
    let unspaced = UNSPACED.iter().any(|w| written.contains(w) && !holiday(w)) || (!question && UNSPACED_VERBS.iter().any(|w| written.contains(w)));
    found || unspaced
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
            "Paren los mensajes por favor",
            "dejen de enviarme mensajes",
            "Tigilan nyo na ako",
            "Xin dung gui tin nhan",
            "Ngưng gửi tin nhắn giùm",
            "配信を停止してください",
            "그만 보내세요",
            "मैसेज मत भेजो",
            "សូម\u{200b}ឈប់\u{200b}ផ្ញើ\u{200b}សារ",
            "Can I opt out of these texts?",
            "STOP. Who is this?",
            "Who is this? Stop",
            "Wrong number? Stop",
            "How do I opt out?",
            "Can you stop?",
            "Can you stop texting me?",
            "Why won't you stop already?",
            "请停止。你是谁？",
            "Cancel these texts",
            "end these messages please",
            "cancel my subscription",
            "quit texting me",
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
            "Why did you stop sending updates?",
            "Why did you stop texting me?",
            "Did you stop sending messages?",
            "Please don't remove me",
            "don't unsubscribe me, I want the texts",
            "I want to cancel my ballot",
            "วันหยุดส่งมาได้ไหม",
            "अपना मत भेजें?",
            "How do I stop this from happening?",
            "Will they stop me from voting?",
            "I can't stop by until Friday",
            "I'll stop by the office to fix my signature",
            "The drop box at the bus stop",
            "Can I opt out of vote by mail?",
            "Can the county revoke my registration?",
            "I live in Palo Alto now",
            "No quiero recibir mi boleta por correo",
            "Voy a parar en la oficina",
            "不要再发生这种事",
            "我的选票状态停止更新了",
            "古い住所に送らないでください",
            "郵便投票を中止して投票所で投票したい",
            "ថ្ងៃឈប់សម្រាក",
            "ไม่ต้องส่งบัตรคืนใช่ไหม",
            "วันหยุดส่งได้ไหม",
            "Khi nào ngừng nhận phiếu",
            "tama na ang address ko",
            "मुझे अपना मत भेजना है",
            "投票什么时候停止？",
            "สำนักงานเปิดวันหยุดไหม",
            "",
        ] {
            assert!(!asks_to_stop(text), "{text}");
        }
    }
}
