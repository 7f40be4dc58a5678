//! The Lambdas end to end on a local AWS emulator (moto): county files uploaded to S3, the
//! ingest handler invoked with the S3 events, the journeys' stream records handed to the fan-out
//! handler, the channel queues drained by the delivery handlers, the release schedules fired by
//! hand (moto does not fire them), and what moto recorded as sent compared with what the sample
//! election's golden files expect (and the local pipeline sends). Connect, which moto lacks, is
//! mocked.

use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use std::collections::BTreeMap;
use wmb_aws::app::{App, AppOptions};
use wmb_aws::handlers::{fanout, ingest, release};
use wmb_tests::harness::*;
use wmb_tests::permissions::acting;
use wmb_tests::scenario::{check_against_openapi, voters_in_control};
use wmb_tests::world::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambdas_send_exactly_what_the_local_pipeline_sends_and_nothing_twice() {
    // GIVEN the sample election's files arriving in S3 as its timeline says (the functions' logs
    // captured as Lambda writes them)
    wmb_tests::harness::logs::capture();
    wmb_tests::harness::logs::take();
    let mut world = World::new("e2e", at("2026-09-20T06:00:00-07:00")).await;
    world.replay_sample().await;
    let (sms, emails, calls) = sent_by_aws(&world);

    // THEN every SMS, email and call is the one events/sample-election/expected-bodies.txt
    // gives, word for word, once (the local pipeline's test holds its outbox to the same file)
    let (golden_sms, golden_email, golden_calls) = wmb_tests::golden::by_provider(&wmb_tests::golden::expected());
    let hashed = |emails: &BTreeMap<(String, String, String), usize>| -> BTreeMap<(String, String, String), usize> {
        emails.iter().map(|((to, subject, html), n)| ((to.clone(), subject.clone(), wmb_tests::golden::sha256_hex(html)), *n)).collect()
    };
    assert_eq!(sms, golden_sms, "SMS differ");
    assert_eq!(hashed(&emails), golden_email, "emails differ");
    assert_eq!(calls, golden_calls, "voice calls differ");
    let local = local_outbox();
    // AND each county's daily summaries are those the local pipeline writes
    let (local_settings, local_daily): (BTreeMap<_, _>, BTreeMap<_, _>) = local_run().1.into_iter().partition(|(path, _)| path.contains("/settings/"));
    assert!(local_daily.len() > 20, "{local_daily:?}");
    assert_eq!(world.daily_summaries(local_daily.keys()).await, local_daily, "daily summaries differ");
    // (and beside them each county's sheet of what its voters are told, as the local pipeline's)
    assert_eq!(local_settings.len(), 57, "every county but Sierra, which opted out");
    assert_eq!(world.reports(local_settings.keys()).await, local_settings, "settings sheets differ");
    let summary = wmb_aws::s3io::get_text(&world.s3, &world.app.settings.bucket, "reports/votecal/vbm/vbm-2026-11-05.csv.summary.csv").await.unwrap().unwrap();
    assert!(summary.contains("\nrejected,,2\n") && summary.contains("\nkept_until_signup,,"), "{summary}");
    // (as many as events/sample-election/expected-messages.csv lists: 145, reminders included)
    let expected_total = std::fs::read_to_string(repo_path("events/sample-election/expected-messages.csv")).unwrap().lines().skip(1).count();
    assert_eq!(sms.values().sum::<usize>() + emails.values().sum::<usize>() + calls.values().sum::<usize>(), expected_total);
    // ... although a third of the SMS were throttled on their first attempt and retried later
    assert!(world.sms.throttled.lock().unwrap().len() >= 10, "throttling was exercised");

    // AND the counties got their reports of rejected rows beside their files
    let report = wmb_aws::s3io::get_text(&world.s3, &world.app.settings.bucket, "reports/votecal/vbm/vbm-2026-11-05.csv.errors.csv").await.unwrap().unwrap();
    assert!(report.contains("14,status_time,") && report.contains("18,ballot_id,is empty"), "{report}");
    let scans = wmb_aws::s3io::get_text(&world.s3, &world.app.settings.bucket, "reports/usps/scans/iv-scans-2026-10-06.jsonl.errors.csv").await.unwrap().unwrap();
    assert!(scans.contains("6,imb,IMb 00700123456000999001 is in no crosswalk"), "{scans}");
    // (every rejected row of every file, with the line, field and reason expected-rejects.csv gives)
    let mut rejected = std::collections::BTreeSet::new();
    let mut timeline = csv::Reader::from_path(repo_path("events/sample-election/timeline.csv")).unwrap();
    for arrival in timeline.records().map(|r| r.unwrap()) {
        let key = format!("reports/{}/{}/{}.errors.csv", source_of(&arrival[1]), &arrival[1], &arrival[2]);
        if let Some(report) = wmb_aws::s3io::get_text(&world.s3, &world.app.settings.bucket, &key).await.unwrap() {
            rejected.extend(wmb_tests::golden::rejects_in_report(&arrival[2], &report));
        }
    }
    assert_eq!(rejected, wmb_tests::golden::expected_rejects(), "the counties' reports of rejected rows");

    // Cost: AWS requests (beyond the sends themselves) per delivered message
    let delivered = expected_total as f64;
    let by_service = world.counter.by_service();
    let billable: u64 = ["DynamoDB", "SQS", "Scheduler"].iter().map(|s| by_service.get(*s).copied().unwrap_or(0)).sum();
    eprintln!("AWS requests by service for the sample election: {by_service:?}");
    eprintln!("DynamoDB+SQS+Scheduler requests per delivered message: {:.2}", billable as f64 / delivered);

    // AND the functions' CloudWatch metrics (Embedded Metric Format, read back from their lines)
    // count what the voters received, by channel and language, and the files and rows read
    let emf = world.app.metrics.recent();
    let sent = |filter: &[(&str, &str)]| wmb_aws::metrics::sum(&emf, "MessagesSent", filter) as usize;
    assert_eq!(sent(&[]), expected_total, "every message sent is counted once");
    assert_eq!(sent(&[("Channel", "sms")]), sms.values().sum::<usize>());
    assert_eq!(sent(&[("Channel", "voice"), ("Language", "km")]), local.iter().filter(|m| m.channel == "voice" && m.language == "km").count());
    assert!(wmb_aws::metrics::sum(&emf, "ProviderThrottles", &[("Channel", "sms")]) >= 10.0, "the throttled SMS attempts are counted");
    assert_eq!(wmb_aws::metrics::sum(&emf, "RowsRejected", &[("Kind", "vbm")]), 5.0, "the vbm files' bad rows");
    assert!(wmb_aws::metrics::sum(&emf, "ReleaseLagSeconds", &[]) >= 0.0 && emf.iter().any(|l| l.contains("ReleaseLagSeconds")));
    for line in &emf {
        assert!(!line.contains("CA0000") && !line.contains("@example") && !line.contains("+1"), "no voter in a metric: {line}");
    }

    // AND what it stored about the voters expires 90 days after the election's tracking end
    // (3 Dec 2026): the journey and the record of each message (README "Retention")
    let ddb = &world.app.store.client;
    let expires = at("2027-03-04T00:00:00-08:00").timestamp().to_string();
    let key = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), aws_sdk_dynamodb::types::AttributeValue::S(v.to_string()))).collect::<std::collections::HashMap<_, _>>();
    let journey = ddb.get_item().table_name(&world.app.settings.journeys_table).set_key(Some(key(&[("pk", "CA000000101"), ("sk", "2026-11-03-GEN")]))).send().await.unwrap().item.unwrap();
    assert_eq!(journey["expires_at"].as_n().unwrap(), &expires);
    let sent = ddb.get_item().table_name(&world.app.settings.ledger_table).set_key(Some(key(&[("pk", "2026-11-03-GEN#CA000000101#01-000101-1#outbound#sms")]))).send().await.unwrap().item.unwrap();
    assert_eq!(sent["expires_at"].as_n().unwrap(), &expires);

    // WHEN every event of every kind is delivered again: the S3 events, the stream records,
    // the queue messages and the release schedules
    world.counter.reset();
    for event in world.s3_events.clone() {
        acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(event, Context::default()))).await.expect("ingest again");
    }
    let records = world.stream_log.clone();
    for chunk in records.chunks(100) {
        let event: aws_lambda_events::event::dynamodb::Event = serde_json::from_value(serde_json::json!({ "Records": chunk })).unwrap();
        acting("FanoutFunction", fanout::handle(&world.app, LambdaEvent::new(event, Context::default()))).await.expect("fan-out again");
    }
    for (channel, body) in world.delivered_bodies.clone() {
        let url = world.app.queues.url(wmb_core::Channel::parse(&channel).unwrap()).to_string();
        world.sqs.send_message().queue_url(url).message_body(body).send().await.unwrap();
    }
    acting("ReleaseFunction", release::handle(&world.app, LambdaEvent::new(release::ReleaseEvent { bucket: Some("2026-10-21T15:00Z".into()), sweep_minutes: None, retry: None }, Context::default()))).await.expect("release again");
    world.pump().await;
    world.release_until(at("2027-01-01T00:00:00Z")).await;
    // THEN nobody gets anything a second time
    let (sms2, emails2, calls2) = sent_by_aws(&world);
    let extra_sms: Vec<_> = sms2.iter().filter(|(k, n)| sms.get(*k) != Some(n)).collect();
    let extra_email: Vec<_> = emails2.iter().filter(|(k, n)| emails.get(*k) != Some(n)).map(|((to, subject, _), n)| (to, subject, n)).collect();
    let extra_calls: Vec<_> = calls2.iter().filter(|(k, n)| calls.get(*k) != Some(n)).collect();
    assert!(extra_sms.is_empty() && extra_email.is_empty() && extra_calls.is_empty(), "sent again: {extra_sms:?} {extra_email:?} {extra_calls:?}");
    // AND nothing is counted twice in the counties' daily summaries
    assert_eq!(world.daily_summaries(local_daily.keys()).await, local_daily, "daily summaries changed by the re-delivery");

    // AND no log line of any function names a voter, a birth date, a phone or an email address
    let logs = wmb_tests::harness::logs::take();
    assert!(logs.contains("file ingested") && logs.contains("delivery done") && logs.lines().count() > 100, "the functions' logs were captured");
    let personal = personal_values();
    assert!(personal.len() > 150, "{personal:?}");
    let found: Vec<&String> = personal.iter().filter(|v| logs.contains(v.as_str())).collect();
    assert!(found.is_empty(), "personal data in the logs: {found:?}");
}

/// Every name, birth date, phone number and email address of the sample election's voters, in
/// the forms a log could repeat them (a phone as typed and in E.164).
fn personal_values() -> std::collections::BTreeSet<String> {
    let mut values = std::collections::BTreeSet::new();
    for (file, columns) in [("voters.csv", &["first_name", "last_name", "date_of_birth"][..]), ("voters-update-2026-10-15.csv", &["first_name", "last_name", "date_of_birth"][..]), ("signups.csv", &["first_name", "last_name", "date_of_birth", "sms", "email", "voice"][..])] {
        let mut r = csv::Reader::from_path(repo_path(&format!("events/sample-election/{file}"))).unwrap();
        let header = r.headers().unwrap().clone();
        for rec in r.records() {
            let rec = rec.unwrap();
            for c in columns {
                let i = header.iter().position(|h| h == *c).unwrap();
                let v = rec[i].trim();
                if v.len() >= 3 {
                    values.insert(v.to_string());
                    if let Some(digits) = v.strip_prefix('+') {
                        values.insert(digits.to_string());
                    }
                }
            }
        }
    }
    values
}

#[test]
fn voters_prove_their_contacts_and_stop_means_stop_through_the_lambdas() {
    // The same story as through `serve` (tests/src/scenario.rs), through the API, inbound-SMS,
    // ingest, fan-out, delivery and release handlers on moto. (A thread of its own: the story's
    // future is deeper than a test thread's stack in a debug build.)
    on_a_deep_stack(|| async {
        let mut world = World::new("voters", at("2026-09-20T06:00:00-07:00")).await;
        voters_in_control(&mut world).await;
        check_against_openapi(&world.answers);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_too_large_for_one_invocation_continues_where_it_stopped_and_loses_no_row() {
    let world = World::new("chunks", at("2026-10-06T12:00:00-07:00")).await;
    let bucket = world.app.settings.bucket.clone();
    let body = std::fs::read(repo_path("events/sample-election/vbm-2026-10-06.csv")).unwrap();
    let key = "incoming/votecal/vbm/vbm-2026-10-06.csv";
    world.s3.put_object().bucket(&bucket).key(key).body(body.into()).send().await.unwrap();
    // GIVEN an invocation that is always about to run out of time (30 s left, under the margin)
    let first = acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, 100), nearly_out_of_time()))).await.unwrap();
    assert_eq!(first[0]["complete"], false, "{first}");
    // WHEN each continuation the ingest function queues is handed back to it, as SQS would, and
    // SQS delivers the first one twice
    let invocations = 1 + world.drain_continuations(true).await;
    // THEN every good row of the file is stored, over several invocations, and the county gets
    // one report and one summary of the whole file, as if it had been read once, at once
    assert!(invocations > 3, "it took {invocations} invocations");
    let mut stored = 0;
    let rows = std::fs::read_to_string(repo_path("events/sample-election/vbm-2026-10-06.csv")).unwrap();
    for line in rows.lines().skip(1).filter(|l| l.contains(",ISSUED,")) {
        let id = line.split(',').next().unwrap();
        stored += world.knows(id).await as usize;
    }
    assert_eq!(stored, 37);
    let (report, summary) = the_one_report(&world, key).await;
    assert_eq!(report, "line,field,reason\n21,status_code,'MAILED' is not a VBM ballot status code\n");
    assert!(summary.contains("\nrows_read,,38\naccepted,,37\nrejected,,1\nrefused,,0\n"), "{summary}");
    // AND the operators' metrics count the file once, when its report was joined (here in an
    // invocation of its own: 30 s is too little to join in)
    assert_eq!(wmb_aws::metrics::sum(&world.app.metrics.recent(), "FilesIngested", &[("Kind", "vbm")]), 1.0);
}

/// What a county finds in the file's report folder: exactly one error report and one summary
/// for the file, however many invocations read it (returned).
async fn the_one_report(world: &World, key: &str) -> (String, String) {
    let bucket = world.app.settings.bucket.clone();
    let report = wmb_aws::s3io::report_key(key);
    let folder = report.rsplit_once('/').unwrap().0;
    let listed = world.s3.list_objects_v2().bucket(&bucket).prefix(format!("{folder}/")).send().await.unwrap();
    let found: Vec<String> = listed.contents().iter().filter_map(|o| o.key.clone()).collect();
    let summary = wmb_core::file_summary::summary_name(&report);
    assert_eq!(found, vec![report.clone(), summary.clone()], "one report and one summary, no report per part or chunk");
    let text = |k: String| {
        let (s3, bucket) = (world.s3.clone(), bucket.clone());
        async move { wmb_aws::s3io::get_text(&s3, &bucket, &k).await.unwrap().unwrap() }
    };
    (text(report).await, text(summary).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_due_in_seconds_is_held_in_a_minute_whose_schedule_has_not_fired_and_the_morning_is_spread_over_shards() {
    let mut world = World::new("hold", at("2026-10-06T12:00:00-07:00")).await;
    world.arrive("voters", "voters.csv", at("2026-10-06T12:00:00-07:00")).await;
    world.arrive("signups", "signups.csv", at("2026-10-06T12:00:00-07:00")).await;
    world.release_until(at("2026-10-06T13:00:00-07:00")).await;
    let before = world.moto.sms().len();
    let note = |key: &str, release_at: DateTime<Utc>| wmb_core::notify::Notification {
        key: key.into(),
        election_id: None,
        votecal_id: "CA000000101".into(),
        county: wmb_core::CountyCode::parse("01").unwrap(),
        kind: wmb_core::MessageKind::SignupConfirmation,
        channel: wmb_core::Channel::Sms,
        decision: None,
        release_at,
        attempts: 0,
        throttled: 0,
        reminder_days: None,
        verdict: false,
    };
    // GIVEN at 12:59:50 a message is held until 12:59:55, five seconds away
    use wmb_core::ports::HoldQueue;
    world.app.set_now(at("2026-10-06T12:59:50-07:00"));
    world.app.store.hold(&note("signup#CA000000101#1#sms", at("2026-10-06T12:59:55-07:00"))).await.unwrap();
    // THEN it is filed at least two minutes ahead, where a schedule waits for it (no sweeper)
    let next = next_schedule(&world.sdk, &world.app.settings.schedule_group).await.unwrap().unwrap();
    assert_eq!(next, at("2026-10-06T13:02:00-07:00"));
    world.release_until(at("2026-10-06T13:05:00-07:00")).await;
    assert_eq!(world.moto.sms().len(), before + 1, "released by its minute's schedule");

    // GIVEN two hundred messages held for 08:00 the next morning
    world.app.set_now(at("2026-10-06T22:00:00-07:00"));
    for i in 0..200 {
        world.app.store.hold(&note(&format!("m#{i}"), at("2026-10-07T08:00:00-07:00"))).await.unwrap();
    }
    // THEN they are spread over the minute's shards (no partition takes them all)
    let ddb = aws_sdk_dynamodb::Client::new(&world.sdk);
    let items = ddb.scan().table_name(&world.app.settings.held_table).send().await.unwrap().items.unwrap_or_default();
    let mut per_key: BTreeMap<String, usize> = BTreeMap::new();
    for i in &items {
        *per_key.entry(i["pk"].as_s().unwrap().clone()).or_default() += 1;
    }
    assert!(per_key.len() >= 24 && per_key.values().all(|&n| n <= 20), "{per_key:?}");
    // AND one schedule releases every shard of the minute
    let outcome = acting("ReleaseFunction", release::handle(&world.app, LambdaEvent::new(release::ReleaseEvent { bucket: Some("2026-10-07T15:00Z".into()), sweep_minutes: None, retry: None }, Context::default()))).await.unwrap();
    assert_eq!(outcome, release::ReleaseOutcome { released: 200, complete: true });
    let left: Vec<_> = ddb.scan().table_name(&world.app.settings.held_table).send().await.unwrap().items.unwrap_or_default().into_iter().filter(|i| i["pk"].as_s().unwrap().starts_with("2026-10-07T15:00Z")).collect();
    assert!(left.is_empty(), "{:?}", left.iter().map(|i| (i["pk"].as_s().unwrap().clone(), i["sk"].as_s().unwrap().clone())).collect::<Vec<_>>());

    // AND an operator's sweep still finds what a lost schedule left behind
    let n = note("signup#CA000000101#2#sms", at("2026-10-06T12:59:00-07:00"));
    let pk = wmb_aws::held_store::held_key(&wmb_aws::held_store::release_bucket(n.release_at), wmb_aws::held_store::hold_shard(&n.key));
    let item = wmb_aws::held_store::HeldItem { pk, sk: format!("{}#0", n.key), notification: n, expires_at: 0 };
    ddb.put_item().table_name(&world.app.settings.held_table).set_item(Some(serde_dynamo::to_item(&item).unwrap())).send().await.unwrap();
    world.app.set_now(at("2026-10-06T13:05:00-07:00"));
    let event = release::ReleaseEvent { bucket: None, sweep_minutes: Some(30), retry: None };
    let outcome = acting("ReleaseFunction", release::handle(&world.app, LambdaEvent::new(event, Context::default()))).await.unwrap();
    assert_eq!(outcome.released, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voter_who_signs_up_while_a_file_is_read_still_hears_about_their_ballot_once() {
    let mut world = World::new("race", at("2026-10-06T11:00:00-07:00")).await;
    world.arrive("voters", "voters.csv", at("2026-10-06T11:00:00-07:00")).await;
    world.arrive("signups", "signups.csv", at("2026-10-06T11:00:00-07:00")).await;
    let phone = "+14155550133";
    // GIVEN David Cohen has not signed up, and the status file with his ballot's ISSUED row is
    // being read: ingest has loaded the roster (he is not in it) and is about to write the facts
    // it kept for voters not signed up.
    // WHEN at that very moment he signs up (another function: its own instance)
    let (settings, sdk) = (world.app.settings.clone(), world.sdk.clone());
    let kept_table = settings.kept_table.clone().unwrap();
    let mut fired = false;
    *world.counter.hook.0.lock().unwrap() = Some(Box::new(move |service: &str, operation: &str, request: &serde_json::Value| {
        if fired || service != "DynamoDB" || operation != "BatchWriteItem" || request["RequestItems"].get(&kept_table).is_none() {
            return;
        }
        fired = true;
        let (settings, sdk) = (settings.clone(), sdk.clone());
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async move {
                let now = at("2026-10-06T12:00:00-07:00");
                let api = App::new(settings, sdk, AppOptions { fixed_clock: Some(now), ..Default::default() }).await.unwrap();
                let request = wmb_core::signup::SignupRequest {
                    first_name: "David".into(),
                    last_name: "Cohen".into(),
                    date_of_birth: chrono::NaiveDate::from_ymd_opt(1968, 8, 31).unwrap(),
                    zip: "94110".into(),
                    votecal_id: None,
                    language: wmb_core::Language::En,
                    sms: Some("+14155550133".into()),
                    email: None,
                    voice: None,
                    hours: Default::default(),
                };
                let mut tally = wmb_core::pipeline::Tally::default();
                let config = api.config().await;
                api.pipeline(&config, &wmb_aws::app::NoSends).signup(&request, now, &mut tally).await.unwrap().expect("signed up");
                api.queues.flush().await.unwrap();
            })
        })
        .join()
        .unwrap();
    }));
    world.arrive("vbm", "vbm-2026-10-06.csv", at("2026-10-06T12:00:00-07:00")).await;
    assert!(world.counter.hook.0.lock().unwrap().take().is_some());
    world.release_until(at("2026-10-08T00:00:00-07:00")).await;
    // THEN he gets his confirmation and the news that his ballot is in the mail, once each
    let to_him: Vec<String> = world.moto.sms().into_iter().filter(|(to, _)| to == phone).map(|(_, text)| text).collect();
    assert_eq!(to_him.len(), 2, "{to_him:#?}");
    assert!(to_him.iter().any(|t| t.contains("San Francisco County mailed your ballot")), "{to_him:#?}");
    // AND delivering every stream record and queue message again sends nothing more
    for chunk in world.stream_log.clone().chunks(100) {
        let event: aws_lambda_events::event::dynamodb::Event = serde_json::from_value(serde_json::json!({ "Records": chunk })).unwrap();
        acting("FanoutFunction", fanout::handle(&world.app, LambdaEvent::new(event, Context::default()))).await.unwrap();
    }
    world.pump().await;
    world.release_until(at("2026-10-09T00:00:00-07:00")).await;
    assert_eq!(world.moto.sms().into_iter().filter(|(to, _)| to == phone).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_read_in_parallel_parts_each_row_once_and_each_rejected_row_at_its_own_line() {
    // GIVEN parts of 300 bytes, and a status file saved by a Windows spreadsheet (CR LF)
    let mut world = World::with("parts", at("2026-10-06T12:00:00-07:00"), &repo_path("events/sample-election"), |s| s.ingest_part_bytes = 300).await;
    world.arrive("voters", "voters.csv", at("2026-10-06T12:00:00-07:00")).await;
    let bucket = world.app.settings.bucket.clone();
    let rows = std::fs::read_to_string(repo_path("events/sample-election/vbm-2026-10-06.csv")).unwrap();
    let body = rows.replace('\n', "\r\n");
    let key = "incoming/votecal/vbm/vbm-2026-10-06.csv";
    world.s3.put_object().bucket(&bucket).key(key).body(body.as_bytes().to_vec().into()).send().await.unwrap();
    // WHEN it lands: the first invocation plans the parts and queues them
    let first = acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, body.len()), Context::default()))).await.unwrap();
    assert_eq!(first[0]["accepted"], 0, "{first}");
    let queue = world.app.settings.ingest_continue_queue_url.clone().unwrap();
    let queued: usize = receive_all(&world.sqs, &queue).await.unwrap().iter().map(|(e, _)| e["Records"].as_array().unwrap().len()).sum();
    assert!(queued >= body.len() / 300, "{queued} parts of {} bytes", body.len());
    // (received above without deleting: visible again for the event source)
    world.sqs.purge_queue().queue_url(&queue).send().await.unwrap();
    acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, body.len()), Context::default()))).await.unwrap();
    world.pump().await;
    // THEN every good row is stored once (the file's status rows decide one milestone each)
    for line in rows.lines().skip(1).filter(|l| l.contains(",ISSUED,")) {
        assert!(world.knows(line.split(',').next().unwrap()).await, "{line}");
    }
    // AND the county gets one report of the whole file, the bad row at its own line (21), and
    // one summary counting every row once
    let (reports, summary) = the_one_report(&world, key).await;
    assert!(reports.contains("21,status_code,'MAILED'"), "{reports}");
    assert!(summary.contains("\nrows_read,,38\naccepted,,37\nrejected,,1\nrefused,,0\n"), "{summary}");
    let whole = std::fs::read_to_string(repo_path("events/sample-election/expected-rejects.csv")).unwrap();
    let expected: Vec<String> = whole.lines().filter(|l| l.starts_with("vbm-2026-10-06.csv,")).map(|l| l.split(',').skip(1).take(2).collect::<Vec<_>>().join(",")).collect();
    let found: Vec<String> = reports.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).map(|l| l.split(',').take(2).collect::<Vec<_>>().join(",")).collect();
    assert_eq!(found, expected, "the rejected rows, at the lines the whole file has them");
    // AND the operators' metrics count one file, not one a part
    assert_eq!(wmb_aws::metrics::sum(&world.app.metrics.recent(), "FilesIngested", &[("Kind", "vbm")]), 1.0, "{queued} parts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counties_enrol_by_files_in_the_bucket_and_a_late_enrolment_in_a_special_election_is_refused() {
    // GIVEN the statewide sample election and a special election on 9 March 2027
    let world = World::new("enrol", at("2026-11-20T09:00:00-08:00")).await;
    let bucket = world.app.settings.bucket.clone();
    let put = |key: &'static str, body: &'static str| world.s3.put_object().bucket(&bucket).key(key).body(body.as_bytes().to_vec().into()).send();
    put("config/elections/2027-03-09-SPL.toml", "id = \"2027-03-09-SPL\"\nname = \"Special Election\"\ndate = \"2027-03-09\"\nkind = \"special\"\nenrolled = [\"01\"]\n[default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n").await.unwrap();
    // WHEN Los Angeles asked 90 days before, San Diego 89 days before, and Alameda opts out of the statewide one
    put("config/enrolments/2027-03-09-SPL/19.toml", "election_id = \"2027-03-09-SPL\"\ncounty = \"19\"\ndecision = \"enrol\"\nrequested = \"2026-12-09\"\nimb = \"both\"\nphone = \"(800) 555-0119\"\n").await.unwrap();
    put("config/enrolments/2027-03-09-SPL/37.toml", "election_id = \"2027-03-09-SPL\"\ncounty = \"37\"\ndecision = \"enrol\"\nrequested = \"2026-12-10\"\n").await.unwrap();
    put("config/enrolments/2026-11-03-GEN/01.toml", "election_id = \"2026-11-03-GEN\"\ncounty = \"01\"\ndecision = \"opt-out\"\nrequested = \"2026-09-01\"\n").await.unwrap();
    // THEN the functions, when they next read config/, load the enrolments that keep the rules and leave out the late one
    let elections = wmb_aws::s3io::load_config(&world.s3, &bucket, "config/", &world.app.catalog, None).await.unwrap().0.elections;
    let county = |c: &str| wmb_core::CountyCode::parse(c).unwrap();
    let special = &elections["2027-03-09-SPL"];
    assert!(special.is_enrolled(county("19")) && special.is_enrolled(county("01")));
    assert_eq!((special.imb_use(county("19")), special.contact(county("19")).phone.as_str()), (wmb_core::election::ImbUse::Both, "(800) 555-0119"));
    assert!(!special.is_enrolled(county("37")), "asked 89 days before: refused");
    assert!(!elections["2026-11-03-GEN"].is_enrolled(county("01")), "a statewide election takes an opt-out");
    assert!(elections["2026-11-03-GEN"].is_enrolled(county("37")));
    // AND each enrolment is checked as it lands, with a report beside the counties' others
    for key in ["config/enrolments/2027-03-09-SPL/19.toml", "config/enrolments/2027-03-09-SPL/37.toml"] {
        acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, 100), Context::default()))).await.expect("enrolment checked");
    }
    let report = |key: &str| {
        let (s3, bucket, key) = (world.s3.clone(), bucket.clone(), key.to_string());
        async move { wmb_aws::s3io::get_text(&s3, &bucket, &key).await.unwrap().unwrap() }
    };
    assert_eq!(report("reports/config/enrolments/2027-03-09-SPL/19.toml.errors.csv").await, "line,field,reason\n");
    let late = report("reports/config/enrolments/2027-03-09-SPL/37.toml.errors.csv").await;
    assert!(late.starts_with("line,field,reason\n1,requested,2026-12-10 is 89 days before election day"), "{late}");
    assert!(report("reports/config/enrolments/2027-03-09-SPL/37.toml.summary.csv").await.contains("\naccepted,,0\nrejected,,1\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_election_defined_after_the_functions_started_reaches_them_without_a_restart() {
    // GIVEN functions that started before the sample election was defined (they read config/
    // again once it is older than CONFIG_MAX_AGE_SECONDS: a minute, here at once)
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo_path("events/sample-election")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "election.toml" {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut world = World::with("lateconfig", at("2026-09-20T06:00:00-07:00"), dir.path(), |s| s.config_max_age_seconds = 0).await;
    assert!(world.app.config().await.elections.is_empty());
    // WHEN the deployer uploads its definition, and its files arrive
    let definition = std::fs::read(repo_path("events/sample-election/election.toml")).unwrap();
    world.s3.put_object().bucket(&world.app.settings.bucket).key("config/elections/2026-11-03-GEN.toml").body(definition.into()).send().await.unwrap();
    world.replay_sample().await;
    // THEN every message goes out, as the local pipeline sends them
    assert_sends_as_locally(&world);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_held_overnight_for_a_voter_who_then_stops_every_channel_is_counted_for_her_county_as_reaching_no_one() {
    use wmb_tests::scenario::VoterService;
    // GIVEN José, signed up by text only, whose ballot's receipt (the file of 20 Oct, 23:45) is
    // held for his morning
    let mut world = World::new("unreached", at("2026-09-20T06:00:00-07:00")).await;
    for (kind, file, when) in [("voters", "voters.csv", "2026-09-20T06:00:00-07:00"), ("signups", "signups.csv", "2026-09-25T10:00:00-07:00"), ("vbm", "vbm-2026-10-06.csv", "2026-10-06T12:00:00-07:00"), ("vbm", "vbm-2026-10-20.csv", "2026-10-20T23:45:00-07:00")] {
        world.settle(at(when)).await;
        world.arrive(kind, file, at(when)).await;
    }
    let jose = "+15105550103";
    let before = world.texts_to(jose).len();
    // WHEN he texts STOP before morning, and the morning comes
    world.set_now(at("2026-10-21T06:30:00-07:00"));
    world.text_in(jose, "STOP", "in-jose").await;
    world.settle(at("2026-10-21T09:00:00-07:00")).await;
    // THEN he gets only STOP's confirmation, and Alameda's summary of 21 Oct counts the news
    // as reaching no one (the delivery function counted it: its role may, which the world checks
    // when it is dropped)
    assert_eq!(world.texts_to(jose).len(), before + 1, "{:?}", &world.texts_to(jose)[before..]);
    let path = "01/daily/2026-10-21.csv".to_string();
    let summary = world.daily_summaries([&path]).await.remove(&path).unwrap();
    assert!(summary.lines().any(|l| l.starts_with("2026-10-21,01,not_reached,received,") && l.ends_with(",1")), "{summary}");
}
