//! Faults injected into the Lambdas' run on moto, each counted as messages lost and messages
//! sent twice against the local pipeline's outbox: providers that throttle or fail with a 5xx,
//! DynamoDB throttling every function, DynamoDB failures reported in batches, schedules late and
//! twice, stream batches retried and bisected, two workers at once, delivery batches out of time,
//! and a county file cut short then sent again.

use std::sync::atomic::Ordering;
use wmb_core::ports::DeliveryError;
use wmb_tests::harness::*;
use wmb_tests::world::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_that_throttle_and_fail_with_5xx_on_every_channel_lose_nothing_and_double_nothing() {
    // GIVEN the sample election, with SNS throttling the first attempt of every third text, SES
    // answering the first attempt of every second email with a 503, and Connect every second call
    // with a 500
    let mut world = World::new("faults", at("2026-09-20T06:00:00-07:00")).await;
    (world.email.every, world.email.fault) = (2, DeliveryError::Temporary("503 Service Unavailable".into()));
    (world.voice.every, world.voice.fault) = (2, DeliveryError::Temporary("500 InternalServiceException".into()));
    // WHEN its files arrive and every retry falls due
    world.replay_sample().await;
    world.release_until(at("2027-01-01T00:00:00Z")).await;
    // THEN nothing is lost and nothing is sent twice, on any channel
    let (sms, emails, calls) = sent_by_aws(&world);
    let (local_sms, local_email, local_calls) = sent_locally(&local_outbox());
    let results = [("sms", lost_and_duplicated(&local_sms, &sms)), ("email", lost_and_duplicated(&local_email, &emails)), ("voice", lost_and_duplicated(&local_calls, &calls))];
    let injected = [world.sms.failed_at.lock().unwrap().clone(), world.email.failed_at.lock().unwrap().clone(), world.voice.failed_at.lock().unwrap().clone()];
    for ((channel, (lost, duplicated)), faults) in results.iter().zip(&injected) {
        eprintln!("{channel}: {} faults injected, {lost} lost, {duplicated} duplicated", faults.len());
        assert!(faults.len() >= 10, "{channel}: the faults were exercised");
        assert_eq!((*lost, *duplicated), (0, 0), "{channel}");
    }
    // AND each failed message went out on a later attempt, a retry delay (a minute or more) after
    // its failure, and is recorded as sent in the ledger
    let ddb = world.app.store.client.clone();
    for (key, failed_at) in injected.iter().flatten() {
        let item = ddb.get_item().table_name(&world.app.settings.ledger_table).key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key.clone())).send().await.unwrap().item.unwrap();
        let outcome: wmb_core::ports::DeliveryOutcome = serde_dynamo::from_attribute_value(item["outcome"].clone()).unwrap();
        match outcome {
            wmb_core::ports::DeliveryOutcome::Sent { at, .. } => assert!(at >= *failed_at + chrono::Duration::minutes(1), "{key}: sent at {at}, failed at {failed_at}"),
            other => panic!("{key} not sent: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_cut_short_then_sent_whole_then_again_under_another_name_loses_nothing_and_doubles_nothing() {
    // GIVEN the sample election, but its first status file arrives cut off in the middle of a
    // row, then whole half an hour later, then once more under another name
    let dir = tempfile::tempdir().unwrap();
    let sample = repo_path("events/sample-election");
    for entry in std::fs::read_dir(&sample).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let whole = std::fs::read(sample.join("vbm-2026-10-06.csv")).unwrap();
    std::fs::write(dir.path().join("vbm-2026-10-06-cut.csv"), &whole[..whole.len() * 2 / 3]).unwrap();
    std::fs::write(dir.path().join("vbm-2026-10-06-again.csv"), &whole).unwrap();
    let timeline = std::fs::read_to_string(sample.join("timeline.csv")).unwrap().replace(
        "2026-10-06T12:00:00-07:00,vbm,vbm-2026-10-06.csv",
        "2026-10-06T12:00:00-07:00,vbm,vbm-2026-10-06-cut.csv\n2026-10-06T12:30:00-07:00,vbm,vbm-2026-10-06.csv\n2026-10-06T13:00:00-07:00,vbm,vbm-2026-10-06-again.csv",
    );
    assert!(timeline.contains("-cut.csv"));
    std::fs::write(dir.path().join("timeline.csv"), timeline).unwrap();
    let mut world = World::of("cut", at("2026-09-20T06:00:00-07:00"), dir.path()).await;
    world.sms.every = 0;
    // WHEN it is all replayed through the Lambdas
    world.replay_sample().await;
    // THEN every voter gets what the sample's voters get, once: nothing lost, nothing doubled
    assert_sends_as_locally(&world);
    // AND the cut file's report names its broken last row
    let report = wmb_aws::s3io::get_text(&world.s3, &world.app.settings.bucket, "reports/votecal/vbm/vbm-2026-10-06-cut.csv.errors.csv").await.unwrap().unwrap();
    assert!(report.lines().count() >= 2, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_throttling_every_functions_requests_loses_nothing_and_doubles_nothing() {
    // GIVEN the sample election, with every 25th DynamoDB request of every function throttled
    // (ProvisionedThroughputExceededException: the request does nothing; the SDK retries it)
    let mut world = World::new("ddbthrottle", at("2026-09-20T06:00:00-07:00")).await;
    world.sms.every = 0;
    world.counter.throttle_dynamodb_every.store(25, Ordering::Relaxed);
    // WHEN it is all replayed through the Lambdas
    world.replay_sample().await;
    world.counter.throttle_dynamodb_every.store(0, Ordering::Relaxed);
    // THEN nothing is lost and nothing is sent twice
    let throttled = world.counter.dynamodb_throttled.load(Ordering::Relaxed);
    let (sms, emails, calls) = sent_by_aws(&world);
    let (local_sms, local_email, local_calls) = sent_locally(&local_outbox());
    for (channel, result) in [("sms", lost_and_duplicated(&local_sms, &sms)), ("email", lost_and_duplicated(&local_email, &emails)), ("voice", lost_and_duplicated(&local_calls, &calls))] {
        eprintln!("{throttled} DynamoDB requests throttled; {channel}: lost and duplicated {result:?}");
        assert_eq!(result, (0, 0), "{channel}");
    }
    assert!(throttled >= 50, "the throttling was exercised: {throttled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_requests_that_fail_for_good_in_fanout_and_delivery_are_reported_by_batch_and_lose_nothing() {
    // GIVEN the sample election, with one DynamoDB request in 9 of the fan-out and the
    // deliverers failing for good (the SDK does not retry it: as when its retries ran out)
    let mut world = World::new("batchfail", at("2026-09-20T06:00:00-07:00")).await;
    world.sms.every = 0;
    world.fail_dynamodb_every_in_batches = 9;
    // WHEN it is all replayed through the Lambdas, each function reporting what failed in its
    // batch and the event sources handing exactly that out again (the stream from the record
    // named, SQS the messages named)
    world.replay_sample().await;
    // THEN failures were reported by both, and nothing is lost and nothing is sent twice
    let failed = world.counter.dynamodb_failed.load(Ordering::Relaxed);
    let (fanout, delivery) = world.reported_failures;
    eprintln!("{failed} DynamoDB requests failed; reported in batches: fan-out {fanout}, delivery {delivery}");
    assert!(fanout >= 5 && delivery >= 5, "both reported failures: fan-out {fanout}, delivery {delivery}");
    let (sms, emails, calls) = sent_by_aws(&world);
    let (local_sms, local_email, local_calls) = sent_locally(&local_outbox());
    for (channel, result) in [("sms", lost_and_duplicated(&local_sms, &sms)), ("email", lost_and_duplicated(&local_email, &emails)), ("voice", lost_and_duplicated(&local_calls, &calls))] {
        eprintln!("failed for good in batches; {channel}: lost and duplicated {result:?}");
        assert_eq!(result, (0, 0), "{channel}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_schedules_that_fire_two_hours_late_and_twice_lose_nothing_and_double_nothing() {
    // GIVEN the sample election, with every release schedule firing two hours after its time
    // (or when the next file arrives, if sooner) and then firing again
    let mut world = World::new("latetwice", at("2026-09-20T06:00:00-07:00")).await;
    world.sms.every = 0;
    world.schedules_late_by = chrono::Duration::hours(2);
    world.schedules_fire_twice = true;
    // WHEN it is all replayed through the Lambdas
    world.replay_sample().await;
    // THEN every message still goes out, once: late, never lost, never doubled
    let (sms, emails, calls) = sent_by_aws(&world);
    let (local_sms, local_email, local_calls) = sent_locally(&local_outbox());
    for (channel, result) in [("sms", lost_and_duplicated(&local_sms, &sms)), ("email", lost_and_duplicated(&local_email, &emails)), ("voice", lost_and_duplicated(&local_calls, &calls))] {
        eprintln!("late and twice; {channel}: lost and duplicated {result:?}");
        assert_eq!(result, (0, 0), "{channel}");
    }
    // AND the release lag metric shows how late they left
    let lag = wmb_aws::metrics::sum(&world.app.metrics.recent(), "ReleaseLagSeconds", &[]);
    assert!(lag > 3600.0, "release lag counted: {lag}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_batches_handled_again_whole_and_in_halves_lose_nothing_and_double_nothing() {
    // GIVEN the sample election, with every batch of journey changes handed to the fan-out, then
    // again whole, then again in halves (the event source mapping's retry and bisection)
    let mut world = World::new("bisect", at("2026-09-20T06:00:00-07:00")).await;
    world.sms.every = 0;
    world.stream_batches_retried_and_bisected = true;
    // WHEN it is all replayed through the Lambdas
    world.replay_sample().await;
    // THEN nothing is lost and nothing is sent twice
    let (sms, emails, calls) = sent_by_aws(&world);
    let (local_sms, local_email, local_calls) = sent_locally(&local_outbox());
    for (channel, result) in [("sms", lost_and_duplicated(&local_sms, &sms)), ("email", lost_and_duplicated(&local_email, &emails)), ("voice", lost_and_duplicated(&local_calls, &calls))] {
        eprintln!("bisected; {channel}: lost and duplicated {result:?}");
        assert_eq!(result, (0, 0), "{channel}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_at_once_on_every_queue_batch_and_every_schedule_lose_nothing_and_double_nothing() {
    // GIVEN the sample election, with every queue batch and every release schedule handled by two
    // workers at the same time (a redelivery while the first is still sending)
    let mut world = World::new("raced", at("2026-09-20T06:00:00-07:00")).await;
    world.sms.every = 0;
    world.raced = true;
    // WHEN it is all replayed through the Lambdas
    world.replay_sample().await;
    // THEN nothing is lost and nothing is sent twice
    let (sms, emails, calls) = sent_by_aws(&world);
    let (local_sms, local_email, local_calls) = sent_locally(&local_outbox());
    for (channel, result) in [("sms", lost_and_duplicated(&local_sms, &sms)), ("email", lost_and_duplicated(&local_email, &emails)), ("voice", lost_and_duplicated(&local_calls, &calls))] {
        eprintln!("raced; {channel}: lost and duplicated {result:?}");
        assert_eq!(result, (0, 0), "{channel}");
    }
    // AND the race was real: for every message sent, the other worker found it taken or done
    let emf = world.app.metrics.recent();
    let (sent, skipped) = (wmb_aws::metrics::sum(&emf, "MessagesSent", &[]), wmb_aws::metrics::sum(&emf, "MessagesSkipped", &[]));
    eprintln!("raced: {sent} sent, {skipped} skipped by the other worker or its retry");
    assert!(sent >= 140.0 && skipped >= sent, "{sent} sent, {skipped} skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_batches_that_run_out_of_time_put_their_messages_back_and_lose_nothing_and_double_nothing() {
    // GIVEN the sample election, with every second delivery batch starting five seconds before
    // its deadline (a channel's rate spread over many instances makes a batch of ten that slow)
    let mut world = World::new("late", at("2026-09-20T06:00:00-07:00")).await;
    world.deliveries_out_of_time_every = 2;
    // WHEN its files arrive and every schedule falls due
    world.replay_sample().await;
    world.release_until(at("2027-01-01T00:00:00Z")).await;
    // THEN those batches sent nothing and reported no failure (no receive counted against a
    // message), and every message went out once, later
    assert!(world.deliveries >= 20, "{} delivery batches", world.deliveries);
    assert_eq!(world.reported_failures.1, 0);
    let mut seen = std::collections::HashMap::new();
    for body in &world.delivered_bodies {
        *seen.entry(body).or_insert(0) += 1;
    }
    let put_back = seen.values().filter(|n| **n > 1).count();
    assert!(put_back >= 10, "messages handed out again as they were: {put_back}");
    assert_sends_as_locally(&world);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_whose_dynamodb_requests_fail_run_again_on_their_own_and_lose_nothing_and_double_nothing() {
    // GIVEN the sample election, with one DynamoDB request in 40 of every release failing for good
    // (a morning's release runs 33 shard queries and a delete a page: most runs meet one)
    let mut world = World::new("relfail", at("2026-09-20T06:00:00-07:00")).await;
    world.fail_dynamodb_every_in_releases = 40;
    // WHEN its files arrive and every schedule falls due
    world.replay_sample().await;
    world.release_until(at("2027-01-01T00:00:00Z")).await;
    // THEN no release was left to the dead-letter queue, and every message went out once
    assert_eq!(world.releases_to_dead_letters, 0);
    assert_sends_as_locally(&world);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_election_file_is_refused_and_alarmed_without_stopping_the_functions() {
    // GIVEN functions running with the sample election (reading config/ again at once)
    let world = World::with("badconfig", at("2026-10-06T12:00:00-07:00"), &repo_path("events/sample-election"), |s| s.config_max_age_seconds = 0).await;
    assert!(world.app.config().await.elections.contains_key("2026-11-03-GEN"));
    // WHEN the deployer uploads its definition edited into one that cannot be read, and a new
    // election's file that cannot either
    let bucket = world.app.settings.bucket.clone();
    let put = |key: &'static str, body: &'static str| world.s3.put_object().bucket(&bucket).key(key).body(body.as_bytes().to_vec().into()).send();
    put("config/elections/2026-11-03-GEN.toml", "id = \"2026-11-03-GEN\"\nname = \"2026 General Election\"\ndate = \"the third\"\n").await.unwrap();
    put("config/elections/2027-03-09-SPL.toml", "this is not toml").await.unwrap();
    // THEN a running function keeps the election as it read it before, and counts both files
    // refused (ConfigFilesRefused: the alarm)
    let config = world.app.config().await;
    assert_eq!(config.elections.keys().collect::<Vec<_>>(), ["2026-11-03-GEN"]);
    assert_eq!(config.elections["2026-11-03-GEN"].def.date, chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap());
    assert_eq!(wmb_aws::metrics::sum(&world.app.metrics.recent(), "ConfigFilesRefused", &[]), 2.0);
    // AND a function that starts now still starts (to answer STOP, sign-ups, other elections),
    // without the elections it cannot read, and counts them
    let fresh = wmb_aws::app::App::new(world.app.settings.clone(), world.sdk.clone(), wmb_aws::app::AppOptions { interceptor: None, fixed_clock: Some(world.app.now()) }).await.expect("a new instance starts");
    assert_eq!(wmb_aws::metrics::sum(&fresh.metrics.recent(), "ConfigFilesRefused", &[]), 2.0, "counted at its start");
    assert!(fresh.config().await.elections.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_made_from_older_words_is_counted_on_aws_and_still_plays() {
    // GIVEN functions running with the sample's voice plan, every recording noted as made from
    // today's words (reading config/ again at once)
    let world = World::with("stalerec", at("2026-10-06T12:00:00-07:00"), &repo_path("events/sample-election"), |s| s.config_max_age_seconds = 0).await;
    let stale = |app: &wmb_aws::app::App| wmb_aws::metrics::sum(&app.metrics.recent(), "RecordingsStale", &[]);
    assert!(world.app.config().await.stale_recordings.is_empty());
    assert_eq!(stale(&world.app), 0.0, "nothing counted while every recording is current");
    // WHEN the deployer uploads the plan with Khmer's "undeliverable" noted as recorded from
    // other words (the words changed since it was made)
    let sample = std::fs::read_to_string(repo_path("events/sample-election/voice-prompts.toml")).unwrap();
    let km = sample.find("[recorded_from.km]").expect("the sample notes Khmer's words");
    let at_line = km + sample[km..].find("undeliverable = \"").unwrap();
    let older = format!("{}undeliverable = \"0000000000000000\"{}", &sample[..at_line], &sample[at_line + sample[at_line..].find('\n').unwrap()..]);
    let bucket = world.app.settings.bucket.clone();
    let put = |body: String| world.s3.put_object().bucket(&bucket).key("config/voice-prompts.toml").body(body.into_bytes().into()).send();
    put(older).await.unwrap();
    // THEN a running function counts that one recording (RecordingsStale), and still plays it
    let config = world.app.config().await;
    let km = wmb_core::status::Language::Km;
    assert_eq!(config.stale_recordings.get(&km).map(|keys| keys.iter().map(String::as_str).collect::<Vec<_>>()), Some(vec!["undeliverable"]));
    assert_eq!(config.stale_recordings.len(), 1, "only Khmer's");
    assert!(config.voice.prompts[&km].contains_key("undeliverable"), "the recording still plays");
    assert_eq!(stale(&world.app), 1.0);
    // AND a function that starts now counts it too
    let fresh = wmb_aws::app::App::new(world.app.settings.clone(), world.sdk.clone(), wmb_aws::app::AppOptions { interceptor: None, fixed_clock: Some(world.app.now()) }).await.expect("a new instance starts");
    assert_eq!(stale(&fresh), 1.0, "counted at its start");
    // WHEN the recording is made again and its words noted, THEN the count falls to none
    put(sample).await.unwrap();
    assert!(world.app.config().await.stale_recordings.is_empty());
    let lines = world.app.metrics.recent();
    let last = lines.iter().rev().find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok().and_then(|d| d["RecordingsStale"].as_f64()));
    assert_eq!(last, Some(0.0), "the dashboard sees it fall to none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_that_signs_reads_its_key_from_its_secret_and_does_not_start_on_a_bad_one() {
    // GIVEN the functions' world, the signing key in its secret (as the template keeps it: the
    // functions' environment holds only the secret's ARN)
    let world = World::new("secretkey", at("2026-10-06T12:00:00-07:00")).await;
    let start = |arn: Option<String>| {
        let mut settings = world.app.settings.clone();
        settings.signing_key_secret_arn = arn;
        wmb_aws::app::App::new(settings, world.sdk.clone(), wmb_aws::app::AppOptions { interceptor: None, fixed_clock: Some(world.app.now()) })
    };
    let arn = world.app.settings.signing_key_secret_arn.clone().expect("the harness keeps the key in a secret");
    let local = wmb_core::access::SigningKey::new(wmb_core::access::LOCAL_SIGNING_KEY).unwrap();
    // THEN an instance that starts signs with the secret's key (it names a contact as the local
    // pipeline does), and one given no secret (a function that never signs) with a key of its own
    let signs = start(Some(arn.clone())).await.expect("it starts");
    assert_eq!(signs.access.signing.name("phone", "+15105550100"), local.name("phone", "+15105550100"));
    let never_signs = start(None).await.expect("it starts");
    assert_ne!(never_signs.access.signing.name("phone", "+15105550100"), local.name("phone", "+15105550100"));
    // WHEN the secret names no secret, or holds a key too short to be one
    let missing = start(Some(arn.replace("-signing-key", "-no-such-key"))).await.err().expect("it does not start").to_string();
    let secrets = aws_sdk_secretsmanager::Client::new(&world.sdk);
    secrets.put_secret_value().secret_id(&arn).secret_string("sh0rt-s3cret").send().await.unwrap();
    let short = start(Some(arn)).await.err().expect("it does not start").to_string();
    // THEN the function does not start, and says why, naming the variable and never the value
    assert!(missing.contains("SIGNING_KEY_SECRET_ARN") && missing.contains("ResourceNotFound"), "{missing}");
    assert!(short.contains("SIGNING_KEY_SECRET_ARN") && short.contains("shorter than 16"), "{short}");
    assert!(!short.contains("sh0rt-s3cret"), "{short}");
}
