//! Runs the Lambda handlers against moto the way AWS would wire them.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wmb_aws::settings::Settings;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// moto's standalone server on a free port; stopped when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts moto's server one request at a time (tests/moto_server.py says why), with the
    /// Python of `MOTO_PYTHON` (tests/run installs moto in target/test-tools) or `python3`.
    pub fn start() -> Moto {
        let python = std::env::var("MOTO_PYTHON").ok().or_else(|| {
            let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-tools/bin/python3");
            local.exists().then(|| local.display().to_string())
        });
        let python = python.unwrap_or_else(|| "python3".to_string());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("moto_server.py");
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(&python)
            .arg(&script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto ({python} {}): {e}. Run the tests with tests/run, which installs it.", script.display()));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What moto recorded: `/moto-api/data.json`.
    pub fn data(&self) -> serde_json::Value {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("moto");
        use std::io::{Read, Write};
        write!(stream, "GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        serde_json::from_str(body).expect("moto data is JSON")
    }

    /// SMS sent: (phone number, text).
    pub fn sms(&self) -> Vec<(String, String)> {
        let d = self.data();
        d["sns"]["SMS"].as_array().cloned().unwrap_or_default().iter()
            .map(|m| (m["phone_number"].as_str().unwrap_or_default().to_string(), m["message"].as_str().unwrap_or_default().to_string()))
            .collect()
    }

    /// Email sent: (recipient, subject, HTML body).
    pub fn emails(&self) -> Vec<(String, String, String)> {
        let d = self.data();
        d["ses"]["Message"].as_array().cloned().unwrap_or_default().iter()
            .map(|m| (
                m["destinations"]["ToAddresses"][0].as_str().unwrap_or_default().to_string(),
                m["subject"].as_str().unwrap_or_default().to_string(),
                m["body"].as_str().unwrap_or_default().to_string(),
            ))
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counts AWS requests by service and operation, and what AWS bills for them (an SDK
/// interceptor reading each request and response body).
#[derive(Debug, Default, Clone)]
pub struct RequestCounter {
    pub counts: Arc<Mutex<HashMap<(String, String), u64>>>,
    pub total: Arc<AtomicU64>,
    pub bill: Arc<Mutex<crate::billing::Bill>>,
    /// Called before each request goes out (service, operation, request body): a test's way to
    /// make something happen at an exact point of a handler's work.
    pub hook: HookSlot,
    /// Fault injection: every n-th DynamoDB request (0: none) is answered with a
    /// ProvisionedThroughputExceededException and does nothing, as DynamoDB's own throttling.
    pub throttle_dynamodb_every: Arc<AtomicU64>,
    dynamodb_seen: Arc<AtomicU64>,
    /// How many requests were throttled so.
    pub dynamodb_throttled: Arc<AtomicU64>,
    /// Fault injection: one DynamoDB request in n (0: none) fails for good: it does nothing and
    /// is answered with an error the SDK does not retry, as a request whose retries ran out.
    pub fail_dynamodb_every: Arc<AtomicU64>,
    /// How many requests failed so.
    pub dynamodb_failed: Arc<AtomicU64>,
    /// Fault injection: the next S3 GetObject of the object of this key (whose whole content is
    /// given), of the whole object (None) or of a range from at least this byte (a part's), is
    /// answered with the first half of what it asks for and then a connection reset, as a stream
    /// that breaks off mid-file.
    pub break_s3_read: Arc<Mutex<Option<BreakS3Read>>>,
    /// Each request a function's handler made, as IAM authorizes it (see permissions.rs).
    pub made: crate::permissions::Recorder,
}

/// See [`RequestCounter::break_s3_read`].
#[derive(Debug, Clone)]
pub struct BreakS3Read {
    pub key: String,
    pub content: Vec<u8>,
    /// None: a read of the whole object; Some(b): a range from at least byte b.
    pub from: Option<usize>,
}

/// Marks an S3 read whose answer breaks off after these bytes.
#[derive(Debug, Clone)]
struct BreakOff(Vec<u8>);

impl aws_smithy_types::config_bag::Storable for BreakOff {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// A response body that gives its bytes and then fails, as a connection reset mid-body.
struct BrokenOff(Option<bytes::Bytes>);

impl http_body::Body for BrokenOff {
    type Data = bytes::Bytes;
    type Error = aws_smithy_runtime_api::box_error::BoxError;

    fn poll_frame(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(Some(match self.0.take() {
            Some(bytes) => Ok(http_body::Frame::data(bytes)),
            None => Err("connection reset (injected by the test)".into()),
        }))
    }
}

/// A fixed scramble of a count (SplitMix64's finaliser).
fn spread(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Marks an attempt the injector throttled (true) or failed for good (false).
#[derive(Debug, Clone)]
struct Throttled(bool);

impl aws_smithy_types::config_bag::Storable for Throttled {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// A test's hook on outgoing requests (see [`RequestCounter::hook`]).
pub type Hook = Box<dyn FnMut(&str, &str, &serde_json::Value) + Send>;

#[derive(Default, Clone)]
pub struct HookSlot(pub Arc<Mutex<Option<Hook>>>);

impl std::fmt::Debug for HookSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookSlot")
    }
}

/// The request of an operation in flight, kept until its response is read.
#[derive(Debug, Clone)]
struct InFlight {
    service: String,
    operation: String,
    request: serde_json::Value,
}

impl aws_smithy_types::config_bag::Storable for InFlight {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    /// A throttled attempt must change nothing: it is turned into a harmless ListTables before it
    /// leaves, and its answer into DynamoDB's throttling error (the SDK retries it).
    fn modify_before_transmit(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        // (The markers may be left from this operation's previous attempt.)
        cfg.interceptor_state().unset::<Throttled>();
        cfg.interceptor_state().unset::<BreakOff>();
        let get_object = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>().is_some_and(|m| m.service() == "S3" && m.name() == "GetObject");
        let mut armed = self.break_s3_read.lock().unwrap();
        if get_object && armed.as_ref().is_some_and(|b| context.request().uri().split('?').next().unwrap_or_default().ends_with(b.key.as_str())) {
            let BreakS3Read { content: whole, from: ranged, .. } = armed.as_ref().expect("armed");
            // (bytes=S-E: a part's range, or the kind's detection or a part's header, from 0.)
            let asked = match context.request().headers().get("range").and_then(|r| r.strip_prefix("bytes=")).and_then(|r| r.split_once('-')) {
                None => ranged.is_none().then_some(0..whole.len()),
                Some((start, end)) => match (start.parse::<usize>(), end.parse::<usize>(), ranged) {
                    (Ok(s), Ok(e), Some(from)) if s >= *from => Some(s..(e + 1).min(whole.len())),
                    _ => None,
                },
            };
            if let Some(asked) = asked {
                let half = whole[asked.start..asked.start + asked.len() / 2].to_vec();
                armed.take();
                cfg.interceptor_state().store_put(BreakOff(half));
            }
        }
        drop(armed);
        let (throttle, fail) = (self.throttle_dynamodb_every.load(Ordering::Relaxed), self.fail_dynamodb_every.load(Ordering::Relaxed));
        let dynamodb = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>().is_some_and(|m| m.service() == "DynamoDB");
        if !dynamodb || throttle + fail == 0 {
            return Ok(());
        }
        let seen = self.dynamodb_seen.fetch_add(1, Ordering::Relaxed) + 1;
        // Throttling hits every n-th request; failures one request in n, spread by a fixed hash of
        // the count (a retry is not doomed to meet its failure at the same step again).
        let hit = if throttle > 0 { seen.is_multiple_of(throttle) } else { spread(seen).is_multiple_of(fail) };
        if !hit {
            return Ok(());
        }
        let request = context.request_mut();
        request.headers_mut().insert("x-amz-target", "DynamoDB_20120810.ListTables");
        request.headers_mut().insert("content-length", "2");
        *request.body_mut() = aws_smithy_types::body::SdkBody::from("{}");
        cfg.interceptor_state().store_put(Throttled(throttle > 0));
        if throttle > 0 {
            self.dynamodb_throttled.fetch_add(1, Ordering::Relaxed);
        } else {
            self.dynamodb_failed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let Some(BreakOff(bytes)) = cfg.load::<BreakOff>() {
            let response = context.response_mut();
            response.headers_mut().remove("content-length");
            *response.body_mut() = aws_smithy_types::body::SdkBody::from_body_1_x(BrokenOff(Some(bytes::Bytes::from(bytes.clone()))));
        }
        if let Some(Throttled(throttled)) = cfg.load::<Throttled>() {
            let body = if *throttled {
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"injected by the test"}"#
            } else {
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"injected by the test: a request that failed for good"}"#
            };
            let mut response = aws_smithy_runtime_api::http::Response::new(aws_smithy_runtime_api::http::StatusCode::try_from(400u16).unwrap(), aws_smithy_types::body::SdkBody::from(body));
            response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
            *context.response_mut() = response;
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let (service, operation) = match cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>() {
            Some(m) => (m.service().to_string(), m.name().to_string()),
            None => ("unknown".to_string(), "unknown".to_string()),
        };
        *self.counts.lock().unwrap().entry((service.clone(), operation.clone())).or_default() += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        let request = context.request().body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        // (A throttled or failed attempt went out as something else; its retry is recorded.)
        if cfg.load::<Throttled>().is_none() {
            self.made.record(context, cfg);
        }
        if let Some(hook) = self.hook.0.lock().unwrap().as_mut() {
            hook(&service, &operation, &request);
        }
        cfg.interceptor_state().store_put(InFlight { service, operation, request });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if cfg.load::<Throttled>().is_some() {
            return Ok(()); // (AWS does not bill a throttled or failed request)
        }
        if let Some(f) = cfg.load::<InFlight>() {
            let response = context.response().body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
            self.bill.lock().unwrap().add(&f.service, &f.operation, &f.request, &response);
        }
        Ok(())
    }
}

impl RequestCounter {
    pub fn by_service(&self) -> std::collections::BTreeMap<String, u64> {
        let mut out = std::collections::BTreeMap::new();
        for ((service, _), n) in self.counts.lock().unwrap().iter() {
            *out.entry(service.clone()).or_default() += n;
        }
        out
    }

    pub fn by_operation(&self) -> std::collections::BTreeMap<String, u64> {
        self.counts.lock().unwrap().iter().map(|((s, o), n)| (format!("{s}.{o}"), *n)).collect()
    }

    /// What AWS bills for the requests so far.
    pub fn bill(&self) -> crate::billing::Bill {
        self.bill.lock().unwrap().clone()
    }

    /// Adds what AWS bills without the SDK calling it (the event sources, Scheduler).
    pub fn add_unseen(&self, f: impl FnOnce(&mut crate::billing::Bill)) {
        f(&mut self.bill.lock().unwrap());
    }

    pub fn reset(&self) {
        *self.bill.lock().unwrap() = crate::billing::Bill::default();
        self.counts.lock().unwrap().clear();
        self.total.store(0, Ordering::Relaxed);
    }
}

pub async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap()
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
}

/// Creates the tables, queues, bucket, bus and schedule group as infra/template.yaml declares
/// them, named with `prefix`, and returns the functions' settings.
pub async fn provision(sdk: &aws_config::SdkConfig, prefix: &str) -> Result<Settings, BoxError> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let table = |name: &str, range: bool| {
        let mut t = ddb
            .create_table()
            .table_name(format!("{prefix}-{name}"))
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .attribute_definitions(attr("pk"));
        if range {
            t = t.key_schema(key("sk", KeyType::Range)).attribute_definitions(attr("sk"));
        }
        t
    };
    table("voters", false)
        .attribute_definitions(attr("identity"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("identity")
                .key_schema(key("identity", KeyType::Hash))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        )
        .send()
        .await?;
    for name in ["subscriptions", "imb", "access"] {
        table(name, false).send().await?;
    }
    // The ledger, with its index of sent messages by the provider's id (for delivery receipts).
    table("ledger", false)
        .attribute_definitions(attr("provider_id"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(wmb_aws::dynamo::BY_PROVIDER_INDEX)
                .key_schema(key("provider_id", KeyType::Hash))
                .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                .build()?,
        )
        .send()
        .await?;
    table("held", true).send().await?;
    table("kept", true).send().await?;
    table("journeys", true)
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewAndOldImages).build()?)
        .send()
        .await?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut urls = HashMap::new();
    for q in ["sms", "email", "voice", "ingest-continue"] {
        let out = sqs.create_queue().queue_name(format!("{prefix}-{q}")).send().await?;
        urls.insert(q, out.queue_url.unwrap_or_default());
    }
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build());
    let bucket = format!("{prefix}-incoming");
    s3.create_bucket().bucket(&bucket).send().await?;
    aws_sdk_eventbridge::Client::new(sdk).create_event_bus().name(format!("{prefix}-bus")).send().await?;
    aws_sdk_scheduler::Client::new(sdk).create_schedule_group().name(format!("{prefix}-release")).send().await?;
    aws_sdk_sesv2::Client::new(sdk).create_email_identity().email_identity("notify@example.gov").send().await?;
    // The signing key as the template keeps it: in a secret the functions read at cold start (the
    // local key, so the Lambdas' unsubscribe links match the local pipeline's).
    let secret = aws_sdk_secretsmanager::Client::new(sdk)
        .create_secret()
        .name(format!("{prefix}-signing-key"))
        .secret_string(String::from_utf8(wmb_core::access::LOCAL_SIGNING_KEY.to_vec()).unwrap())
        .send()
        .await?;
    Ok(Settings {
        voters_table: format!("{prefix}-voters"),
        subscriptions_table: format!("{prefix}-subscriptions"),
        journeys_table: format!("{prefix}-journeys"),
        ledger_table: format!("{prefix}-ledger"),
        held_table: format!("{prefix}-held"),
        imb_table: format!("{prefix}-imb"),
        sms_queue_url: urls["sms"].clone(),
        email_queue_url: urls["email"].clone(),
        voice_queue_url: urls["voice"].clone(),
        bucket,
        config_prefix: "config/".into(),
        event_bus_name: format!("{prefix}-bus"),
        schedule_group: format!("{prefix}-release"),
        scheduler_role_arn: "arn:aws:iam::123456789012:role/wmb-scheduler".into(),
        release_function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:wmb-release".into()),
        release_dlq_arn: None,
        email_from: "notify@example.gov".into(),
        sms_origination_number: None,
        ses_configuration_set: None,
        connect_instance_id: Some("instance".into()),
        connect_contact_flow_id: Some("flow".into()),
        connect_source_phone_number: Some("+18005550100".into()),
        ingest_continue_queue_url: Some(urls["ingest-continue"].clone()),
        access_table: Some(format!("{prefix}-access")),
        kept_table: Some(format!("{prefix}-kept")),
        // A statewide status file read in about 50 parts over 16,384 shards puts about 20 kept
        // rows in an item; 16 shards do the same for the parts of the tests' generated elections.
        kept_shards: 16,
        // Files over 32 KB are read in parts (the generated elections' files are).
        ingest_part_bytes: 32 << 10,
        // The local key's secret and base URL, so the Lambdas' unsubscribe links match the local
        // pipeline's.
        signing_key_secret_arn: secret.arn,
        metrics_namespace: format!("WheresMyBallot/{prefix}"),
        public_api_url: Some(wmb_core::access::LOCAL_PUBLIC_URL.into()),
        origin_header_secret: None,
        config_max_age_seconds: 60,
        // No floor under the API's answers, but in the test of it (api_answer_floor.rs).
        answer_floor_ms: 0,
    })
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The sample S3 event of events/lambda, naming another bucket and key.
pub fn s3_event(bucket: &str, key: &str, size: usize) -> serde_json::Value {
    let text = std::fs::read_to_string(repo_path("events/lambda/s3-put.json")).unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s3 = &mut event["Records"][0]["s3"];
    s3["bucket"]["name"] = bucket.into();
    s3["bucket"]["arn"] = format!("arn:aws:s3:::{bucket}").into();
    // Real S3 events URL-encode keys (spaces as '+').
    let encoded: String = key.split('/').map(|p| p.replace(' ', "+").replace(',', "%2C")).collect::<Vec<_>>().join("/");
    s3["object"]["key"] = encoded.into();
    s3["object"]["size"] = size.into();
    event
}

// The event sources as Lambda runs them: the stream reader and the queue poller.
pub use crate::event_sources::*;
