//! The API answers a request that names a voter no sooner than its floor, whether or not the
//! voter signed up: the codes a signed-up voter's contacts are sent before the answer do not make
//! it later than a stranger's. (Through the API Lambda's handler on moto.)

use wmb_tests::scenario::{at, code_in, VoterService};
use wmb_tests::world::World;

const FLOOR_MS: u64 = 1200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_up_voter_and_one_who_never_signed_up_are_answered_after_the_same_floor() {
    let dir = wmb_tests::harness::repo_path("events/sample-election");
    let mut world = World::with("floor", at("2026-09-20T06:00:00-07:00"), &dir, |s| s.answer_floor_ms = FLOOR_MS).await;
    world.arrive("voters", "voters.csv", at("2026-09-20T06:00:00-07:00")).await;
    // GIVEN Emily signed up with her phone
    world.set_now(at("2026-10-07T10:00:00-07:00"));
    let emily = serde_json::json!({"first_name": "Emily", "last_name": "Chen", "date_of_birth": "03-14-1985", "zip": "94612", "language": "en", "sms": "+15105550101"});
    let a = world.call("POST", "/signup", "", &emily.to_string()).await;
    let change = a.json()["change_id"].as_str().unwrap().to_string();
    let code = code_in(world.texts_to("+15105550101").last().unwrap());
    let a = world.call("POST", "/verify", "", &serde_json::json!({"change_id": change, "code": code}).to_string()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // WHEN someone asks for her ballot, and for that of Samuel, who never signed up
    let mut took = vec![];
    for who in [("Emily", "Chen", "1985-03-14", "94612"), ("Samuel", "Wright", "1947-06-28", "94501")] {
        let texts = world.texts_to("+15105550101").len();
        let body = serde_json::json!({"first_name": who.0, "last_name": who.1, "date_of_birth": who.2, "zip": who.3}).to_string();
        let started = std::time::Instant::now();
        let a = world.call("POST", "/ballot", "", &body).await;
        took.push((who.0, started.elapsed(), world.texts_to("+15105550101").len() - texts));
        assert_eq!((a.status, a.json()["status"].as_str()), (202, Some("codes_sent")));
    }
    // THEN both answers are the same, and neither came before the floor, though only Emily's
    // phone was sent a code
    let codes: Vec<usize> = took.iter().map(|t| t.2).collect();
    assert_eq!(codes, [1, 0], "{took:?}");
    for (who, elapsed, _) in &took {
        assert!(*elapsed >= std::time::Duration::from_millis(FLOOR_MS), "{who} answered after {elapsed:?}");
    }
}
