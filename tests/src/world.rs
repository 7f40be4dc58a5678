//! The moto "world" the end-to-end tests run the Lambdas in: the emulator, the handlers with
//! their clients, the stream read as the event source mapping reads it, the queues drained by the
//! delivery handlers, the release schedules fired by hand, and providers that fail on purpose.

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use wmb_aws::app::{App, AppOptions};
use wmb_aws::handlers::{deliver, fanout, ingest, release};
use wmb_aws::senders::{ByChannel, SesEmail, SnsSms};
use crate::scenario::Answer;
use wmb_core::ports::{DeliveryError, Dispatcher, OutgoingMessage};
use crate::harness::*;
use crate::permissions::acting;
pub use crate::compare::*;

pub type Calls = Arc<Mutex<Vec<(String, String, String)>>>;

/// Runs a test's story in a world on a thread of 64 MiB with a runtime of its own: a story
/// through many handlers builds a future deeper, in a debug build, than a test thread's 2 MiB.
pub fn on_a_deep_stack<Story: std::future::Future<Output = ()>>(story: impl FnOnce() -> Story + Send + 'static) {
    let thread = std::thread::Builder::new().stack_size(64 << 20).spawn(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(story());
    });
    if let Err(panic) = thread.unwrap().join() {
        std::panic::resume_unwind(panic);
    }
}

/// A provider that fails the first attempt of every n-th message (throttling by default, or a
/// 5xx): failed sends must be retried later, never lost and never doubled.
pub struct Throttling<D> {
    pub inner: D,
    /// Fail the first attempt of every n-th message (0: never).
    pub every: u64,
    /// The failure: a throttle, or a passing error such as a 5xx.
    pub fault: DeliveryError,
    pub seen: AtomicU64,
    /// The messages failed (key) and when.
    pub throttled: Mutex<Vec<String>>,
    pub failed_at: Mutex<Vec<(String, DateTime<Utc>)>>,
}

impl<D> Throttling<D> {
    pub fn new(inner: D, every: u64, fault: DeliveryError) -> Self {
        Throttling { inner, every, fault, seen: AtomicU64::new(0), throttled: Mutex::default(), failed_at: Mutex::default() }
    }
}

impl<D: Dispatcher> Dispatcher for Throttling<D> {
    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        let first_time = !self.throttled.lock().unwrap().contains(&msg.key);
        if self.every > 0 && n.is_multiple_of(self.every) && first_time {
            self.throttled.lock().unwrap().push(msg.key.clone());
            self.failed_at.lock().unwrap().push((msg.key.clone(), msg.send_at));
            return Err(self.fault.clone());
        }
        self.inner.dispatch(msg).await
    }

    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool {
        self.inner.receipts_find_it_by_id(msg)
    }
}

pub struct World {
    /// The election's folder (its files, timeline and configuration).
    pub dir: std::path::PathBuf,
    pub moto: Moto,
    pub sdk: aws_config::SdkConfig,
    pub app: App,
    pub stream: StreamReader,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub counter: RequestCounter,
    pub sms: Throttling<SnsSms>,
    pub email: Throttling<SesEmail>,
    pub voice: Throttling<wmb_voice::ConnectVoice>,
    pub calls: Calls,
    pub pacer: deliver::Pacer,
    pub stream_log: Vec<serde_json::Value>,
    pub delivered_bodies: Vec<(String, String)>,
    pub s3_events: Vec<serde_json::Value>,
    /// What the API sends at once (codes), and answers texts with.
    pub codes: ByChannel<wmb_voice::MaybeVoice>,
    pub answers: Vec<Answer>,
    /// Fault injection: each release schedule fires this much after its time (at most until the
    /// next thing happens), and, if set, twice.
    pub schedules_late_by: chrono::Duration,
    pub schedules_fire_twice: bool,
    /// Fault injection: each stream batch is handled, then again whole and again in halves, as
    /// the event source mapping does after an error with BisectBatchOnFunctionError.
    pub stream_batches_retried_and_bisected: bool,
    /// Fault injection: each queue batch and each release schedule is handled by two workers at
    /// once (SQS and Scheduler delivering again while the first is still at work).
    pub raced: bool,
    /// Fault injection: one DynamoDB request in n of the fan-out and the deliverers (0: none)
    /// fails for good; their batch failure reports are honoured as the event sources do (the
    /// stream retries from the record named, SQS hands the named messages out again).
    pub fail_dynamodb_every_in_batches: u64,
    /// Failures the fan-out and the deliverers reported, in that order.
    pub reported_failures: (usize, usize),
    /// Fault injection: one delivery invocation in n (0: none) starts with seconds to spare
    /// before its deadline, as a batch that waited long on its pacing would.
    pub deliveries_out_of_time_every: usize,
    /// Delivery invocations so far.
    pub deliveries: usize,
    /// Fault injection: one DynamoDB request in n of the release function (0: none) fails for
    /// good. A release that answers with an error is retried twice, as Lambda retries an
    /// asynchronous invocation, then left to the dead-letter queue (counted here).
    pub fail_dynamodb_every_in_releases: u64,
    pub releases_to_dead_letters: usize,
}

impl Drop for World {
    /// Every request the world's functions made is one their roles in infra/template.yaml allow
    /// (moto allows everything; AWS would answer AccessDenied).
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let refused = crate::policy::refused(&crate::policy::template(), &self.counter.made.0.lock().unwrap());
        assert!(refused.is_empty(), "requests that infra/template.yaml does not allow the function making them (AccessDenied in AWS):\n{}", refused.join("\n"));
    }
}

/// A Lambda context with 30 s left, under ingest's safety margin: each invocation reads one row
/// (every invocation takes at least one) and queues the rest as a continuation.
pub fn nearly_out_of_time() -> Context {
    let mut ctx = Context::default();
    ctx.deadline = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000) as u64;
    ctx
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn source_of(kind: &str) -> &'static str {
    match kind {
        "signups" | "stops" => "sos",
        "imb" => "vendor",
        "scans" => "usps",
        _ => "votecal",
    }
}

impl World {
    pub async fn new(prefix: &str, start: DateTime<Utc>) -> World {
        Self::of(prefix, start, &repo_path("events/sample-election")).await
    }

    pub async fn of(prefix: &str, start: DateTime<Utc>, dir: &std::path::Path) -> World {
        Self::with(prefix, start, dir, |_| {}).await
    }

    /// A world whose functions run with settings changed by `tweak`.
    pub async fn with(prefix: &str, start: DateTime<Utc>, dir: &std::path::Path, tweak: impl FnOnce(&mut wmb_aws::settings::Settings)) -> World {
        let moto = Moto::start();
        let sdk = sdk_config(&moto.url()).await;
        let mut settings = provision(&sdk, prefix).await.expect("resources created");
        tweak(&mut settings);
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        for (file, key) in [("election.toml", "config/elections/2026-11-03-GEN.toml"), ("voice-prompts.toml", "config/voice-prompts.toml")] {
            let Ok(body) = std::fs::read(dir.join(file)) else { continue };
            s3.put_object().bucket(&settings.bucket).key(key).body(body.into()).send().await.unwrap();
        }
        let counter = RequestCounter::default();
        let options = AppOptions {
            interceptor: Some(aws_smithy_runtime_api::client::interceptors::SharedInterceptor::new(counter.clone())),
            fixed_clock: Some(start),
        };
        let app = App::new(settings.clone(), sdk.clone(), options).await.expect("app built");
        let stream = StreamReader::new(&sdk, &settings.journeys_table).await.unwrap();
        let calls: Calls = Arc::default();
        let recorded = calls.clone();
        let rule = mock!(aws_sdk_connect::Client::start_outbound_voice_contact)
            .match_requests(move |r| {
                let a = r.attributes().cloned().unwrap_or_default();
                let how = a.get("wmb_prompt").or(a.get("wmb_voice")).cloned().unwrap_or_default();
                recorded.lock().unwrap().push((r.destination_phone_number().unwrap_or_default().to_string(), a.get("wmb_message").cloned().unwrap_or_default(), how));
                true
            })
            .sequence()
            .output(|| aws_sdk_connect::operation::start_outbound_voice_contact::StartOutboundVoiceContactOutput::builder().contact_id("c").build())
            .repeatedly()
            .build();
        let connect = mock_client!(aws_sdk_connect, RuleMode::MatchAny, [&rule]);
        // The providers' clients as the delivery functions build them (only a throttle retried by
        // the SDK), whose requests are checked against the roles too (not billed).
        let recorder = counter.made.clone();
        let sns = || aws_sdk_sns::Client::from_conf(wmb_aws::send_retries::sns_config(aws_sdk_sns::config::Builder::from(&sdk).interceptor(recorder.clone())).build());
        let ses = || aws_sdk_sesv2::Client::from_conf(wmb_aws::send_retries::ses_config(aws_sdk_sesv2::config::Builder::from(&sdk).interceptor(recorder.clone())).build());
        // Codes keep the SDK's own retries, as the sign-up function's clients do.
        let codes = ByChannel {
            sms: SnsSms { client: aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(&sdk).interceptor(recorder.clone()).build()), origination_number: None },
            email: SesEmail { client: aws_sdk_sesv2::Client::from_conf(aws_sdk_sesv2::config::Builder::from(&sdk).interceptor(recorder.clone()).build()), from: "notify@example.gov".into(), configuration_set: None },
            voice: wmb_voice::MaybeVoice(None),
        };
        World {
            dir: dir.to_path_buf(),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sms: Throttling::new(SnsSms { client: sns(), origination_number: None }, 3, DeliveryError::Throttled),
            email: Throttling::new(SesEmail { client: ses(), from: "notify@example.gov".into(), configuration_set: None }, 0, DeliveryError::Throttled),
            voice: Throttling::new(
                wmb_voice::ConnectVoice { client: connect, instance_id: "i".into(), contact_flow_id: "f".into(), source_phone_number: "+18005550100".into() },
                0,
                DeliveryError::Throttled,
            ),
            calls,
            pacer: deliver::Pacer::new(10_000.0),
            moto,
            sdk,
            app,
            stream,
            s3,
            counter,
            stream_log: vec![],
            delivered_bodies: vec![],
            s3_events: vec![],
            codes,
            answers: vec![],
            schedules_late_by: chrono::Duration::zero(),
            schedules_fire_twice: false,
            stream_batches_retried_and_bisected: false,
            raced: false,
            fail_dynamodb_every_in_batches: 0,
            reported_failures: (0, 0),
            deliveries_out_of_time_every: 0,
            deliveries: 0,
            fail_dynamodb_every_in_releases: 0,
            releases_to_dead_letters: 0,
        }
    }

    /// Whether the store knows anything of the voter's ballot: a journey (signed up) or facts kept
    /// for a later sign-up.
    pub async fn knows(&self, votecal_id: &str) -> bool {
        let config = self.app.config().await;
        !self.app.pipeline(&config, &wmb_aws::app::NoSends).current_journeys(votecal_id).await.unwrap().is_empty()
    }

    /// A file arrives: uploaded, and the ingest function invoked with its S3 event.
    pub async fn arrive(&mut self, kind: &str, file: &str, when: DateTime<Utc>) {
        self.app.set_now(when);
        let body = std::fs::read(self.dir.join(file)).unwrap();
        let key = format!("incoming/{}/{kind}/{file}", source_of(kind));
        self.s3.put_object().bucket(&self.app.settings.bucket).key(&key).body(body.clone().into()).send().await.unwrap();
        let event = s3_event(&self.app.settings.bucket, &key, body.len());
        self.s3_events.push(event.clone());
        acting("IngestFunction", ingest::handle(&self.app, LambdaEvent::new(event, Context::default()))).await.expect("ingest");
        self.pump().await;
    }

    /// Hands every continuation the ingest function queues back to it, as SQS would, each
    /// invocation [`nearly_out_of_time`] (one row each), until none is left; with `first_twice`,
    /// SQS delivers the first batch twice. Returns how many batches were handled.
    pub async fn drain_continuations(&self, first_twice: bool) -> usize {
        let queue = self.app.settings.ingest_continue_queue_url.clone().unwrap();
        let mut handled = 0;
        loop {
            let batches = receive_all(&self.sqs, &queue).await.unwrap();
            if batches.is_empty() {
                return handled;
            }
            for (event, handles) in batches {
                if first_twice && handled == 0 {
                    acting("IngestFunction", ingest::handle(&self.app, LambdaEvent::new(event.clone(), nearly_out_of_time()))).await.unwrap();
                }
                let response = acting("IngestFunction", ingest::handle(&self.app, LambdaEvent::new(event, nearly_out_of_time()))).await.unwrap();
                assert_eq!(response["batchItemFailures"].as_array().map(Vec::len), Some(0), "{response}");
                for (_, h) in handles {
                    self.sqs.delete_message().queue_url(&queue).receipt_handle(h).send().await.unwrap();
                }
                handled += 1;
            }
            assert!(handled < 400, "the file never finished");
        }
    }

    /// What AWS does between the functions: stream → fan-out, queues → delivery.
    pub async fn pump(&mut self) {
        loop {
            // The parts of a large file (and continuations), one message an invocation.
            let continued = self.app.settings.ingest_continue_queue_url.clone().unwrap();
            for (event, handles) in receive_all(&self.sqs, &continued).await.unwrap() {
                for record in event["Records"].as_array().unwrap() {
                    let one = serde_json::json!({ "Records": [record] });
                    self.counter.add_unseen(|b| b.sqs += 2.0);
                    let response = acting("IngestFunction", ingest::handle(&self.app, LambdaEvent::new(one, Context::default()))).await.expect("ingest of a part");
                    assert_eq!(response["batchItemFailures"].as_array().map(Vec::len), Some(0), "{response}");
                }
                for (_, h) in handles {
                    self.sqs.delete_message().queue_url(&continued).receipt_handle(h).send().await.unwrap();
                }
            }
            let records = self.stream.read().await.unwrap();
            // The event source mapping's filter (infra/template.yaml): only writes that decided
            // a milestone reach the fan-out.
            let passed: Vec<serde_json::Value> = records.iter().filter(|r| decided_something(r)).cloned().collect();
            for chunk in passed.chunks(100) {
                let half = chunk.len().div_ceil(2);
                let retries: Vec<&[serde_json::Value]> = if self.stream_batches_retried_and_bisected { vec![chunk, &chunk[..half], &chunk[half..]] } else { vec![] };
                for batch in std::iter::once(chunk).chain(retries).filter(|b| !b.is_empty()) {
                    let mut batch = batch.to_vec();
                    for attempt in 0.. {
                        assert!(attempt < 100, "fan-out never got through its batch");
                        let event: aws_lambda_events::event::dynamodb::Event = serde_json::from_value(serde_json::json!({ "Records": batch })).unwrap();
                        self.faults_in_batches(true);
                        let response = acting("FanoutFunction", fanout::handle(&self.app, LambdaEvent::new(event, Context::default()))).await.expect("fan-out");
                        self.faults_in_batches(false);
                        let Some(failed) = response.batch_item_failures.first() else { break };
                        assert!(self.fail_dynamodb_every_in_batches > 0, "fan-out reported failures");
                        self.reported_failures.0 += 1;
                        // The stream hands the batch out again from the record that failed.
                        let from = batch.iter().position(|r| r["dynamodb"]["SequenceNumber"].as_str() == failed.item_identifier.as_deref()).expect("the failure names a record of the batch");
                        batch.drain(..from);
                    }
                }
            }
            self.stream_log.extend(records.iter().cloned());
            let mut delivered = 0;
            for channel in ["sms", "email", "voice"] {
                let url = self.app.queues.url(wmb_core::Channel::parse(channel).unwrap()).to_string();
                for (event, handles) in receive_all(&self.sqs, &url).await.unwrap() {
                    // What the event source bills: a receive and a batch delete per batch.
                    self.counter.add_unseen(|b| b.sqs += 2.0);
                    for record in event["Records"].as_array().unwrap() {
                        self.delivered_bodies.push((channel.to_string(), record["body"].as_str().unwrap().to_string()));
                    }
                    let event: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(event).unwrap();
                    self.deliveries += 1;
                    let mut context = Context::default();
                    if self.deliveries_out_of_time_every > 0 && self.deliveries.is_multiple_of(self.deliveries_out_of_time_every) {
                        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
                        context.deadline = now + 5_000;
                    }
                    let ctx = || LambdaEvent::new(event.clone(), context.clone());
                    let worker = || async {
                        match channel {
                            "sms" => acting("DeliverSmsFunction", deliver::handle(&self.app, &self.sms, &self.pacer, ctx())).await,
                            "email" => acting("DeliverEmailFunction", deliver::handle(&self.app, &self.email, &self.pacer, ctx())).await,
                            _ => acting("DeliverVoiceFunction", deliver::handle(&self.app, &self.voice, &self.pacer, ctx())).await,
                        }
                        .expect("delivery")
                    };
                    self.faults_in_batches(true);
                    let response = if self.raced {
                        let (first, second) = futures::join!(worker(), worker());
                        assert!(second.batch_item_failures.is_empty(), "the second worker reported failures");
                        first
                    } else {
                        worker().await
                    };
                    self.faults_in_batches(false);
                    let failed: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
                    assert!(failed.is_empty() || self.fail_dynamodb_every_in_batches > 0, "delivery reported failures: {failed:?}");
                    self.reported_failures.1 += failed.len();
                    for (id, handle) in handles {
                        if failed.contains(&id) {
                            // Not deleted: SQS hands it out again once its visibility ends (now).
                            self.sqs.change_message_visibility().queue_url(&url).receipt_handle(handle).visibility_timeout(0).send().await.unwrap();
                        } else {
                            self.sqs.delete_message().queue_url(&url).receipt_handle(handle).send().await.unwrap();
                        }
                        delivered += 1;
                    }
                }
            }
            if records.is_empty() && delivered == 0 {
                return;
            }
        }
    }

    /// Fires every release schedule due by `until`, in time order, as EventBridge Scheduler would.
    pub async fn release_until(&mut self, until: DateTime<Utc>) {
        let group = self.app.settings.schedule_group.clone();
        loop {
            let due = due_schedules(&self.sdk, &group, until).await.unwrap();
            let Some((name, when, input)) = due.into_iter().next() else { return };
            self.app.set_now((when + self.schedules_late_by).min(until).max(when).max(self.app.now()));
            for _ in 0..if self.schedules_fire_twice { 2 } else { 1 } {
                self.counter.add_unseen(|b| b.scheduler += 1.0);
                let fire = || acting("ReleaseFunction", release::handle(&self.app, LambdaEvent::new(serde_json::from_str::<release::ReleaseEvent>(&input).unwrap(), Context::default())));
                if self.raced {
                    let (first, second) = futures::join!(fire(), fire());
                    first.expect("release");
                    second.expect("release, again at once");
                } else if self.fail_dynamodb_every_in_releases > 0 {
                    self.counter.fail_dynamodb_every.store(self.fail_dynamodb_every_in_releases, std::sync::atomic::Ordering::Relaxed);
                    let mut ok = false;
                    for _ in 0..3 {
                        if fire().await.is_ok() {
                            ok = true;
                            break;
                        }
                    }
                    self.counter.fail_dynamodb_every.store(0, std::sync::atomic::Ordering::Relaxed);
                    if !ok {
                        self.releases_to_dead_letters += 1;
                    }
                } else {
                    fire().await.expect("release");
                }
            }
            // ActionAfterCompletion DELETE: the schedule is gone once it has run.
            aws_sdk_scheduler::Client::new(&self.sdk).delete_schedule().group_name(&group).name(&name).send().await.unwrap();
            self.pump().await;
        }
    }

    /// Turns the injected DynamoDB failures of the fan-out and the deliverers on or off.
    fn faults_in_batches(&self, on: bool) {
        let every = if on { self.fail_dynamodb_every_in_batches } else { 0 };
        self.counter.fail_dynamodb_every.store(every, std::sync::atomic::Ordering::Relaxed);
    }

    /// The whole sample election, file by file, as its timeline says.
    pub async fn replay_sample(&mut self) {
        let mut timeline = csv::Reader::from_path(self.dir.join("timeline.csv")).unwrap();
        let mut arrivals: Vec<(DateTime<Utc>, String, String)> =
            timeline.records().map(|r| r.unwrap()).map(|r| (at(&r[0]), r[1].to_string(), r[2].to_string())).collect();
        arrivals.sort_by_key(|a| a.0);
        for (when, kind, file) in arrivals {
            self.release_until(when).await;
            self.arrive(&kind, &file, when).await;
        }
        self.release_until(at("2027-01-01T00:00:00Z")).await;
    }
}

/// The stream filter of infra/template.yaml: an insert or a change whose `NewImage.decided.N` is
/// anything but "0", or absent (a TTL deletion passes neither pattern).
pub fn decided_something(record: &serde_json::Value) -> bool {
    matches!(record["eventName"].as_str(), Some("INSERT" | "MODIFY")) && record["dynamodb"]["NewImage"]["decided"]["N"].as_str() != Some("0")
}
