//! What voters text in (STOP, START, HELP in any form) and the message renderer with hostile
//! values: never a panic, and a value never reaches an email's HTML unescaped.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use wmb_core::status::{Channel, Language, MessageKind};
use wmb_core::templates::Catalog;

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::embedded().unwrap());

const KEYS: [&str; 12] =
    ["county_email", "county_name", "county_phone", "county_url", "cure_deadline", "election_date", "election_name", "notify_from", "notify_until", "reason", "statewide", "status_date"];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = wmb_core::optout::keyword(&text);
    let Some((&pick, _)) = data.split_first() else { return };
    let language = Language::ALL[pick as usize % Language::ALL.len()];
    let kind = MessageKind::ALL[(pick as usize / 10) % MessageKind::ALL.len()];
    // Every value is the fuzzer's text behind a marker no template has.
    let hostile = format!("<zq{text}");
    let values: BTreeMap<&str, String> = KEYS.iter().map(|k| (*k, hostile.clone())).collect();
    for channel in Channel::ALL {
        if let Ok(rendered) = CATALOG.render(language, kind, channel, &values) {
            if let Some(html) = rendered.html {
                assert!(!html.contains("<zq"), "a value reached the HTML unescaped");
            }
        }
    }
});
