//! The voters' API: any body (and query) on every route, against the in-memory store with the
//! sample's voters. Never a panic; every answer has an HTTP status, and a JSON answer parses.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use wmb_core::access::{AccessKeys, SigningKey, LOCAL_SIGNING_KEY};
use wmb_core::api::ApiRequest;
use wmb_core::election::Election;
use wmb_core::formats::{read_rows, VoterRecord};
use wmb_core::ports::VoterRoll;
use wmb_core::memory::{MemoryStore, RecordingDispatcher};
use wmb_core::pipeline::{Pipeline, Tally};
use wmb_core::ports::Inline;
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;

static VOTERS: LazyLock<Vec<VoterRecord>> = LazyLock::new(|| {
    let text = include_str!("../../../../events/sample-election/voters.csv");
    read_rows::<_, VoterRecord>("voters.csv", text.as_bytes()).unwrap().filter_map(|r| r.ok().map(|l| l.row)).collect()
});
static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::embedded().unwrap());
static ELECTIONS: LazyLock<BTreeMap<String, Election>> = LazyLock::new(|| {
    let text = include_str!("../../../../events/sample-election/election.toml");
    let e = Election::from_toml("election.toml", text).unwrap();
    BTreeMap::from([(e.id().to_string(), e)])
});

const ROUTES: [(&str, &str); 8] = [
    ("POST", "/signup"),
    ("POST", "/optout"),
    ("POST", "/verify"),
    ("POST", "/ballot"),
    ("POST", "/ballot/view"),
    ("GET", "/unsubscribe"),
    ("POST", "/unsubscribe"),
    ("PUT", "/signup"),
];

fn random() -> [u8; 16] {
    [9; 16]
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let (method, path) = ROUTES[pick as usize % ROUTES.len()];
    let query = format!("token={}", String::from_utf8_lossy(body));
    let store = MemoryStore::default();
    for v in VOTERS.iter() {
        futures::executor::block_on(store.put_voter(v)).unwrap();
    }
    let sent = RecordingDispatcher::default();
    let voice = VoicePlan::default();
    let access = AccessKeys { signing: SigningKey::new(LOCAL_SIGNING_KEY).unwrap(), random, public_url: Some("http://127.0.0.1:8080".into()) };
    let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &CATALOG, elections: &ELECTIONS, voice: &voice, access: &access };
    let now = chrono::DateTime::parse_from_rfc3339("2026-10-07T10:00:00-07:00").unwrap().with_timezone(&chrono::Utc);
    let req = ApiRequest { method, path, query: &query, body, client: "203.0.113.9" };
    let answer = futures::executor::block_on(p.answer(req, now, &mut Tally::default()));
    assert!((200..600).contains(&answer.status));
    if answer.content_type.starts_with("application/json") {
        let _: serde_json::Value = serde_json::from_str(&answer.body).expect("a JSON answer parses");
    }
});
