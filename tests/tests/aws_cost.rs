//! What the Lambdas ask of AWS, billed as AWS bills it (a generated election at the real mix, run
//! through the handlers on moto and compared with the local pipeline), and the delivery receipts
//! that close each message: found by their tag or the provider's id, recorded once, and stopping
//! a dead contact.

use ballot_tracking::outbox::OutboxLine;
use lambda_runtime::{Context, LambdaEvent};
use std::collections::BTreeMap;
use wmb_tests::harness::*;
use wmb_tests::world::*;
use wmb_tests::permissions::acting;

/// Voters in the generated election of the cost test: about a fifth sign up, four status rows
/// per ballot, IMb scans in two counties. (`WMB_COST_VOTERS` measures a larger one.)
fn cost_voters() -> u64 {
    std::env::var("WMB_COST_VOTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_500)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_realistic_mix_the_lambdas_send_what_the_local_pipeline_sends_and_bill_little_per_message() {
    // GIVEN a generated statewide election with the real mix: about 20 % of voters signed up
    let dir = tempfile::tempdir().unwrap();
    ballot_tracking::generate::generate(dir.path(), cost_voters(), 7).unwrap();
    let mut world = World::of("mix", at("2026-09-20T06:00:00-07:00"), dir.path()).await;
    // (The steady state: no provider throttling, which the sample's test exercises.)
    world.sms.every = 0;
    // AND the voter roll loaded before the election (the roll stays between elections: its first
    // load is billed once, not per election)
    world.arrive("voters", "voters.csv", at("2026-09-01T06:00:00-07:00")).await;
    let first_load = world.counter.bill();
    world.counter.reset();
    // WHEN the election's files arrive as its timeline says, through the Lambda handlers
    world.replay_sample().await;
    let (sms, emails, calls) = sent_by_aws(&world);
    // AND every text and email delivered, as SES's events and SNS's delivery logs report it
    let sends = world.counter.bill();
    eprintln!("by operation, sending: {:?}", world.counter.by_operation());
    let sent = wmb_tests::receipts::sent_texts_and_emails(&world).await;
    world.counter.reset();
    wmb_tests::receipts::all_delivered(&world, &sent).await;
    eprintln!("by operation, receipts of {} texts and emails: {:?}", sent.len(), world.counter.by_operation());
    let receipts = world.counter.bill();

    // THEN every voter gets what the local pipeline sends them, once
    let out = tempfile::tempdir().unwrap();
    ballot_tracking::simulate::Simulation { dir: dir.path(), out: out.path() }.run().unwrap();
    let local: Vec<OutboxLine> = std::fs::read_to_string(out.path().join("outbox.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let local_sms = counted(local.iter().filter(|m| m.channel == "sms").map(|m| (m.to.clone(), m.body.clone())));
    let local_email = counted(local.iter().filter(|m| m.channel == "email").map(|m| (m.to.clone(), m.subject.clone().unwrap(), m.html.clone().unwrap())));
    assert_eq!(sms, local_sms, "SMS differ");
    assert_eq!(emails, local_email, "emails differ");
    assert_eq!(calls.values().sum::<usize>(), local.iter().filter(|m| m.channel == "voice").count(), "calls differ");
    let delivered = (sms.values().sum::<usize>() + emails.values().sum::<usize>() + calls.values().sum::<usize>()) as f64;
    assert!(delivered > cost_voters() as f64 / 2.0, "a fifth of the voters, about four messages each: {delivered}");

    // AND what AWS bills for it, per delivered message (beyond the sends themselves)
    let bill = sends.plus(&receipts);
    let per = |x: f64| x / delivered;
    eprintln!("of which receipts: {:.2} WRU + {:.2} RRU per message", per(receipts.wru), per(receipts.rru));
    eprintln!("the roll's first load: {:.2} write units per voter", first_load.wru / cost_voters() as f64);
    // Per row, for the statewide model: rows of voters signed up (journeys) and of the others
    // (kept), told apart by the roster the functions built.
    let roster = world.s3.get_object().bucket(&world.app.settings.bucket).key(wmb_aws::kept_store::ROSTER_KEY).send().await.unwrap();
    let roster = wmb_core::kept::Roster::from_bytes(&roster.body.collect().await.unwrap().into_bytes()).unwrap();
    let (journey_rows, kept_rows) = rows_by_roster(dir.path(), &roster);
    eprintln!(
        "per row: {journey_rows} rows of signed-up voters, {:.2} WRU + {:.2} RRU each on journeys; {kept_rows} rows of the others, {:.3} WRU each on kept facts",
        bill.wru_by_table.get("journeys").copied().unwrap_or(0.0) / journey_rows as f64,
        bill.rru_by_table.get("journeys").copied().unwrap_or(0.0) / journey_rows as f64,
        bill.wru_by_table.get("kept").copied().unwrap_or(0.0) / kept_rows as f64
    );
    assert!(kept_rows > 3 * journey_rows, "most rows are of voters who never signed up");
    assert!(bill.wru_by_table.get("kept").copied().unwrap_or(0.0) < 0.25 * kept_rows as f64, "a kept row costs a fraction of a write");
    eprintln!("write units by table: {:?}; read units by table: {:?}", bill.wru_by_table, bill.rru_by_table);
    // AND the items the functions update or delete are within the one write unit each such
    // request is billed (AWS bills the larger of the item's sizes before and after)
    let s = &world.app.settings;
    let ddb = world.app.store.client.clone();
    // (Held items are deleted too, but each was billed by its size when put: all one unit.)
    let updated = [("ledger", s.ledger_table.clone()), ("access", s.access_table.clone().unwrap())];
    for (name, table) in updated {
        let largest = wmb_tests::billing::largest_item(&ddb, &table).await;
        eprintln!("largest {name} item: {largest} bytes");
        assert!(largest <= 1024, "a {name} item of {largest} bytes: its updates and deletes bill more than one unit");
    }
    eprintln!(
        "{} voters, {delivered} messages; per message: {:.2} billable requests = {:.2} WRU + {:.2} RRU + {:.2} SQS + {:.2} events + {:.2} Scheduler + {:.3} S3 PUT + {:.3} S3 GET; ${:.2} per million messages",
        cost_voters(),
        per(bill.requests()),
        per(bill.wru),
        per(bill.rru),
        per(bill.sqs),
        per(bill.events),
        per(bill.scheduler),
        per(bill.s3_put),
        per(bill.s3_get),
        per(bill.dollars()) * 1e6
    );
}

/// Status, participation and scan rows of a generated election: (of voters in the roster, of the
/// others).
fn rows_by_roster(dir: &std::path::Path, roster: &wmb_core::kept::Roster) -> (u64, u64) {
    let mut voters_of_imb: BTreeMap<String, String> = BTreeMap::new();
    for line in std::fs::read_to_string(dir.join("imb-crosswalk.csv")).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        voters_of_imb.insert(f[0].to_string(), f[2].to_string());
    }
    let mut ids: Vec<String> = vec![];
    for file in ["vbm-issued.csv", "vbm-returns.csv", "vbm-results.csv", "vbm-snapshot.csv", "vph.csv"] {
        ids.extend(std::fs::read_to_string(dir.join(file)).unwrap().lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()));
    }
    for file in ["iv-scans-outbound.jsonl", "iv-scans-return.jsonl"] {
        for line in std::fs::read_to_string(dir.join(file)).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let imb = v["imb"].as_str().unwrap();
            ids.extend(voters_of_imb.get(&imb[..20]).cloned());
        }
    }
    let signed = ids.iter().filter(|id| roster.may_contain(id)).count() as u64;
    (signed, ids.len() as u64 - signed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_bounce_and_a_dead_number_are_recorded_in_the_ledger_and_stop_their_channel() {
    // GIVEN Emily Chen, signed up by text, email and voice, sent Outbound on all three
    let mut world = World::new("receipts", at("2026-09-20T06:00:00-07:00")).await;
    world.sms.every = 0; // (no provider throttling here: the sample's test exercises it)
    // (the tags each email goes to SES with, as SES hands them back in its events: read from
    // the requests the email sender makes)
    let email_tags: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let (seen, watch) = (email_tags.clone(), RequestCounter::default());
    *watch.hook.0.lock().unwrap() = Some(Box::new(move |_service: &str, operation: &str, request: &serde_json::Value| {
        if operation == "SendEmail" {
            seen.lock().unwrap().extend(request["EmailTags"].as_array().into_iter().flatten().filter(|t| t["Name"] == "wmb-message").filter_map(|t| t["Value"].as_str().map(str::to_string)));
        }
    }));
    world.email.inner.client = aws_sdk_sesv2::Client::from_conf(aws_sdk_sesv2::config::Builder::from(&world.sdk).interceptor(watch).build());
    for (kind, file, when) in [("voters", "voters.csv", "2026-09-20T06:00:00-07:00"), ("signups", "signups.csv", "2026-09-25T10:00:00-07:00"), ("vbm", "vbm-2026-10-06.csv", "2026-10-06T12:00:00-07:00")] {
        world.release_until(at(when)).await;
        world.arrive(kind, file, at(when)).await;
    }
    world.release_until(at("2026-10-06T12:05:00-07:00")).await;
    let ddb = world.app.store.client.clone();
    let ledger = |key: &str| {
        let (ddb, table, key) = (ddb.clone(), world.app.settings.ledger_table.clone(), key.to_string());
        async move { ddb.get_item().table_name(table).key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key)).send().await.unwrap().item.unwrap() }
    };
    let (email_key, sms_key) = ("2026-11-03-GEN#CA000000101#01-000101-1#outbound#email", "2026-11-03-GEN#CA000000101#01-000101-1#outbound#sms");
    // (a text is found by the provider's id, indexed; an email by the tag it was sent with, its
    // provider id kept in its outcome only)
    let sms_id = ledger(sms_key).await["provider_id"].as_s().unwrap().clone();
    let email = ledger(email_key).await;
    assert!(!email.contains_key("provider_id"), "an email is not indexed by the provider's id");
    let email_id = email["outcome"].as_m().unwrap()["provider_id"].as_s().unwrap().clone();
    let email_tag = email_tags.lock().unwrap().iter().find(|t| wmb_core::receipts::key_from_tag(t).as_deref() == Some(email_key)).cloned().expect("the email was tagged with its key");

    // WHEN SES reports a hard bounce of the email (the configuration set's SNS event) and SNS's
    // delivery log says the phone number is opted out at the carrier
    let ses = std::fs::read_to_string(repo_path("events/lambda/ses-bounce-sns.json")).unwrap().replace("MESSAGE_ID", &email_id).replace("MESSAGE_TAG", &email_tag);
    let event: serde_json::Value = serde_json::from_str(&ses).unwrap();
    acting("ReceiptsFunction", wmb_aws::handlers::receipts::handle(&world.app, LambdaEvent::new(event.clone(), Context::default()))).await.unwrap();
    let dead = wmb_tests::receipts::sms_status(&sms_id, "+15105550101", false, "Phone number is opted out");
    let logs = wmb_tests::receipts::sms_status_logs(&[dead], at("2026-10-06T12:00:10-07:00").timestamp_millis());
    acting("ReceiptsFunction", wmb_aws::handlers::receipts::handle(&world.app, LambdaEvent::new(logs, Context::default()))).await.unwrap();
    // (SNS delivers at least once: the same event again changes nothing)
    acting("ReceiptsFunction", wmb_aws::handlers::receipts::handle(&world.app, LambdaEvent::new(event, Context::default()))).await.unwrap();

    // THEN each message ends in the ledger as failed for good, with the reason
    assert_eq!(ledger(email_key).await["receipt"].as_m().unwrap()["reason"].as_s().unwrap(), "bounce: Permanent/General");
    assert!(ledger(sms_key).await["receipt"].as_m().unwrap()["reason"].as_s().unwrap().contains("opted out"));
    // AND the email and text channels are stopped; the calls go on
    use wmb_core::ports::SubscriptionStore;
    use wmb_core::status::Channel;
    let sub = world.app.store.subscription("CA000000101").await.unwrap().unwrap();
    assert_eq!((sub.address(Channel::Email), sub.address(Channel::Sms)), (None, None));
    assert!(sub.address(Channel::Voice).is_some());
    // AND the carrier's opt-out is remembered on the phone, as a STOP is (a signups file naming
    // it again after her number is erased does not restart texts); the bounce is not
    use wmb_core::ports::ContactIndex;
    let keys = wmb_core::access::SigningKey::new(wmb_core::access::LOCAL_SIGNING_KEY).unwrap();
    let contact = |c, a: &str| wmb_core::access::contact_name(&keys, c, a);
    assert!(world.app.store.contact(&contact(Channel::Sms, "+15105550101")).await.unwrap().stopped);
    assert!(!world.app.store.contact(&contact(Channel::Email, "emily.chen@example.com")).await.unwrap().stopped);
    // AND her next news (Received, 21 Oct) goes by voice only
    let before = sent_by_aws(&world);
    world.arrive("vbm", "vbm-2026-10-20.csv", at("2026-10-20T23:45:00-07:00")).await;
    world.release_until(at("2026-10-21T12:00:00-07:00")).await;
    let after = sent_by_aws(&world);
    let to = |m: &std::collections::BTreeMap<(String, String), usize>, who: &str| m.iter().filter(|((t, _), _)| t == who).map(|(_, n)| n).sum::<usize>();
    assert_eq!(to(&after.0, "+15105550101"), to(&before.0, "+15105550101"), "no text to the dead number");
    assert_eq!(after.1.keys().filter(|(t, _, _)| t == "emily.chen@example.com").count(), before.1.keys().filter(|(t, _, _)| t == "emily.chen@example.com").count(), "no email to the bounced address");
    assert!(after.2.keys().filter(|(t, m, _)| t == "+15105550191" && m == "received").count() == 1, "the call goes on");
    // AND the metrics count it
    let emf = world.app.metrics.recent();
    assert_eq!(wmb_aws::metrics::sum(&emf, "ChannelsStopped", &[]), 2.0);
    // AND Alameda's summary of 6 October counts the two failed deliveries and the two stopped
    // channels once each, though SNS delivered the bounce twice
    let day = "01/daily/2026-10-06.csv".to_string();
    let summary = world.daily_summaries([&day]).await.remove(&day).unwrap();
    for row in ["delivery_failures,outbound,email,1", "delivery_failures,outbound,sms,1", "suspended,,email,1", "suspended,,sms,1"] {
        assert!(summary.contains(&format!("2026-10-06,01,{row}\n")), "{row} in {summary}");
    }
}
