//! Calls on AWS: a listener's 9 during a ballot call, through the call-stop handler with the
//! contact flow's invocation as Amazon Connect sends it (Connect, which moto lacks, is mocked for
//! the calls placed; the flow itself is held to the Flow language in template_operations.rs).

use lambda_runtime::{Context, LambdaEvent};
use wmb_tests::harness::*;
use wmb_tests::permissions::acting;
use wmb_tests::world::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoever_presses_9_on_a_ballot_call_gets_no_more_calls_at_that_phone_and_the_texts_go_on() {
    use aws_lambda_events::event::connect::ConnectEvent;
    use wmb_aws::handlers::call_stop;
    use wmb_tests::scenario::VoterService;
    const INSTANCE: &str = "9308c2a1-9bc6-4cea-8290-6c0b4a6d38fa";
    // GIVEN Ana Torres (Spanish), who takes texts and calls at one phone, called and texted that
    // her ballot was mailed
    let sample = repo_path("events/sample-election");
    let mut world = World::with("press9", at("2026-09-20T06:00:00-07:00"), &sample, |s| s.connect_instance_id = Some(INSTANCE.into())).await;
    for (kind, file, when) in [("voters", "voters.csv", "2026-09-20T06:00:00-07:00"), ("signups", "signups.csv", "2026-09-25T10:00:00-07:00"), ("vbm", "vbm-2026-10-06.csv", "2026-10-06T12:00:00-07:00")] {
        world.settle(at(when)).await;
        world.arrive(kind, file, at(when)).await;
    }
    world.settle(at("2026-10-07T12:00:00-07:00")).await;
    let ana = "+17605550120";
    let calls_to = |world: &World| world.calls.lock().unwrap().iter().filter(|(to, _, _)| to == ana).map(|(_, kind, _)| kind.clone()).collect::<Vec<_>>();
    assert_eq!(calls_to(&world), ["outbound"], "called once");
    let texts = world.texts_to(ana).len();
    assert!(texts > 0);

    let event: ConnectEvent = serde_json::from_str(&std::fs::read_to_string(repo_path("events/lambda/connect-press-9.json")).unwrap()).unwrap();
    let press = |event: ConnectEvent| acting("CallStopFunction", call_stop::handle(&world.app, LambdaEvent::new(event, Context::default())));
    // AND a 9 on an inbound call claiming her number (a caller id anyone can forge), or on a code
    // call, is answered with silence and stops nothing
    let mut inbound = event.clone();
    inbound.details.contact_data.initiation_method = Some("INBOUND".into());
    let mut code_call = event.clone();
    code_call.details.contact_data.attributes.insert("wmb_message".into(), "verification_code".into());
    for refused in [inbound, code_call] {
        let answer = press(refused).await.expect("answered");
        assert_eq!(answer.get("wmb_mode").map(String::as_str), Some("none"), "{answer:?}");
    }
    use wmb_core::ports::SubscriptionStore;
    let her_calls = |sub: Option<wmb_core::signup::Subscription>| sub.and_then(|s| s.address(wmb_core::status::Channel::Voice).map(str::to_string));
    assert_eq!(her_calls(world.app.store.subscription("CA000000120").await.unwrap()).as_deref(), Some(ana), "not stopped by either");

    // WHEN she presses 9 during a ballot call (the contact flow's invocation, as Connect sends it)
    let answer = press(event.clone()).await.expect("the stop is made");

    // THEN the call tells her so in Spanish, in Polly's voice, and says nothing personal
    assert_eq!((answer["wmb_mode"].as_str(), answer["wmb_voice"].as_str()), ("polly", "Lupe"));
    assert_eq!(her_calls(world.app.store.subscription("CA000000120").await.unwrap()), None);
    let spanish = wmb_core::templates::Catalog::embedded().unwrap().language(wmb_core::status::Language::Es).web.voice_stopped.clone();
    assert_eq!(answer["wmb_said"], spanish);
    assert!(answer.values().all(|v| !v.contains("5550120")));
    // AND pressing 9 again is answered the same
    assert_eq!(press(event.clone()).await.expect("again")["wmb_said"], spanish);
    // AND her reminder to send her ballot back (27 Oct) is texted, not called
    world.settle(at("2026-10-28T12:00:00-07:00")).await;
    assert_eq!(calls_to(&world), ["outbound"], "no call after her 9");
    assert!(world.texts_to(ana)[texts..].iter().any(|t| t.contains("boleta")), "the texts go on: {:?}", &world.texts_to(ana)[texts..]);
    // AND San Diego's summary counts one voter's calls stopped that day
    let path = "37/daily/2026-10-07.csv".to_string();
    let summary = world.daily_summaries([&path]).await.remove(&path).unwrap();
    assert!(summary.lines().any(|l| l.starts_with("2026-10-07,37,opt_outs,,voice,1")), "{summary}");
}
