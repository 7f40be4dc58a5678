//! What each function's role must allow, read from the requests its handler made in a test: each
//! request as IAM authorizes it (action, resource in the template's terms, partition keys,
//! prefix). `crate::policy` checks them against the function's policy in infra/template.yaml.
//! Moto does not enforce IAM: a call the template does not grant passes every test on moto and
//! fails in AWS with AccessDenied (a duplicate receipt sent to the dead-letter queue, a roll
//! upload that writes nothing). Every world checks what its functions did when it is dropped.

use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::future::Future;

tokio::task_local! {
    static ACTING: &'static str;
}

/// Runs a handler as the template's function `function` (its logical ID): each AWS request it
/// makes is recorded under that name. (On the heap: a handler's future is large in a debug build,
/// and the test's stack is not.)
pub fn acting<F: Future>(function: &'static str, work: F) -> std::pin::Pin<Box<impl Future<Output = F::Output>>> {
    Box::pin(ACTING.scope(function, work))
}

/// The function whose handler is making the request now, if any (a test's own requests: none).
pub fn acting_now() -> Option<&'static str> {
    ACTING.try_with(|f| *f).ok()
}

/// The requests the functions' handlers made, as IAM authorizes them. The request counter records
/// into it, and so does an interceptor of its own on the clients the counter does not see (the
/// providers' sends: SNS and SES, which are not billed here).
#[derive(Debug, Clone, Default)]
pub struct Recorder(pub std::sync::Arc<std::sync::Mutex<BTreeSet<Needed>>>);

impl Recorder {
    /// Records a request about to go out, if a handler is making it.
    pub fn record(&self, context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>, cfg: &aws_smithy_types::config_bag::ConfigBag) {
        let (Some(function), Some(m)) = (acting_now(), cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()) else { return };
        let request = context.request();
        let bytes = request.body().bytes().unwrap_or_default();
        // (SNS's body is a form, not JSON; S3's is the object, not needed.)
        let body = match m.service() {
            "SNS" => Json::String(String::from_utf8_lossy(bytes).into_owned()),
            _ => serde_json::from_slice(bytes).unwrap_or_default(),
        };
        self.0.lock().unwrap().extend(needed(function, m.service(), m.name(), &body, request.uri(), request.headers().get("x-amz-copy-source")));
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for Recorder {
    fn name(&self) -> &'static str {
        "PermissionRecorder"
    }

    fn read_before_transmit(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.record(context, cfg);
        Ok(())
    }
}

/// One request as IAM authorizes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Needed {
    pub function: &'static str,
    /// `dynamodb:GetItem`, `s3:GetObjectVersion` …
    pub action: String,
    /// In the template's terms: `VotersTable`, `VotersTable/index/identity`, `s3:config/…` (an
    /// object), `s3` (the bucket), `SmsQueue`, `EventBus`, `ReleaseScheduleGroup/…`,
    /// `SchedulerRole`, an ARN (`arn:aws:ses:…:identity/EmailSender`), `*`.
    pub resource: String,
    /// The partition keys a DynamoDB request reads or writes, each cut to its kind (`daily#…`,
    /// `contact#…`, or `…` for a key without one).
    pub leading_keys: BTreeSet<String>,
    /// A listing's prefix.
    pub prefix: Option<String>,
    /// A scan's or query's `Select` and the attributes it names.
    pub select: Option<String>,
    pub attributes: Option<BTreeSet<String>>,
}

impl std::fmt::Display for Needed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} on {}", self.function, self.action, self.resource)?;
        if !self.leading_keys.is_empty() {
            write!(f, " (keys {:?})", self.leading_keys)?;
        }
        if let Some(p) = &self.prefix {
            write!(f, " (prefix {p})")?;
        }
        if let Some(s) = &self.select {
            write!(f, " (select {s}, attributes {:?})", self.attributes)?;
        }
        Ok(())
    }
}

/// The resources the tests create (harness::provision names them `<prefix>-<suffix>`) and the
/// template's logical IDs for them.
const NAMES: [(&str, &str); 14] = [
    ("-ingest-continue", "IngestContinueQueue"),
    ("-voters", "VotersTable"),
    ("-subscriptions", "SubscriptionsTable"),
    ("-access", "AccessTable"),
    ("-journeys", "JourneysTable"),
    ("-ledger", "LedgerTable"),
    ("-held", "HeldTable"),
    ("-imb", "ImbTable"),
    ("-kept", "KeptTable"),
    ("-sms", "SmsQueue"),
    ("-email", "EmailQueue"),
    ("-voice", "VoiceQueue"),
    ("-bus", "EventBus"),
    ("-release", "ReleaseScheduleGroup"),
];

fn logical(name: &str) -> String {
    let name = name.rsplit(['/', ':']).next().unwrap_or(name);
    NAMES.iter().find(|(suffix, _)| name.ends_with(suffix)).map_or_else(|| format!("unknown resource {name}"), |(_, id)| id.to_string())
}

/// A partition key cut to its kind (a counter's to its own: `count#not-reached#…`).
fn kind_of_key(key: &str) -> String {
    match key.split_once('#') {
        None => "…".to_string(),
        Some(("count", rest)) => format!("count#{}", kind_of_key(rest)),
        Some((kind, _)) => format!("{kind}#…"),
    }
}

fn s(v: &Json) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// What a request needs, from its service, operation, JSON body (DynamoDB, SQS, EventBridge,
/// Scheduler), URI (S3, Scheduler) and S3 copy source.
pub fn needed(function: &'static str, service: &str, operation: &str, body: &Json, uri: &str, copy_source: Option<&str>) -> Vec<Needed> {
    let base = |action: String, resource: String| Needed { function, action, resource, leading_keys: BTreeSet::new(), prefix: None, select: None, attributes: None };
    match service {
        "DynamoDB" => dynamodb(operation, body).into_iter().map(|(action, table, keys, select, attributes)| Needed { leading_keys: keys, select, attributes, ..base(action, table) }).collect(),
        "SQS" => {
            let action = match operation {
                "SendMessageBatch" => "SendMessage",
                "DeleteMessageBatch" => "DeleteMessage",
                "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
                other => other,
            };
            vec![base(format!("sqs:{action}"), logical(&s(&body["QueueUrl"])))]
        }
        "EventBridge" => {
            let buses: BTreeSet<String> = body["Entries"].as_array().into_iter().flatten().map(|e| logical(&s(&e["EventBusName"]))).collect();
            buses.into_iter().map(|bus| base(format!("events:{operation}"), bus)).collect()
        }
        "Scheduler" => {
            let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
            let group = body["GroupName"].as_str().map(str::to_string).or_else(|| query.split('&').find_map(|p| p.strip_prefix("groupName=").map(str::to_string))).unwrap_or_else(|| "default".into());
            let mut out = vec![base(format!("scheduler:{operation}"), if path.contains("/schedules/") { format!("{}/…", logical(&group)) } else { "*".into() })];
            if body["Target"]["RoleArn"].is_string() {
                out.push(base("iam:PassRole".into(), "SchedulerRole".into()));
            }
            out
        }
        "S3" => s3(operation, uri, copy_source).into_iter().map(|(action, resource, prefix)| Needed { prefix, ..base(action, resource) }).collect(),
        // (A form, not JSON: the interceptor hands it over as a string.) A text to a phone number
        // is authorized against "*"; a publish to a topic against the topic.
        "SNS" => {
            let form = body.as_str().unwrap_or_default();
            let topic = form.split('&').find_map(|p| p.strip_prefix("TopicArn=")).map(wmb_aws::s3io::decode_key);
            vec![base(format!("sns:{operation}"), topic.unwrap_or_else(|| "*".into()))]
        }
        // SESv2's SendEmail is authorized as `ses:SendEmail` on the sending identity (the
        // template's EmailSender: the tests send from it) and the configuration set, if any.
        "SESv2" if operation == "SendEmail" => {
            let arn = |what: &str| format!("arn:aws:ses:us-east-1:123456789012:{what}");
            let mut out = vec![base("ses:SendEmail".into(), arn("identity/EmailSender"))];
            if body["ConfigurationSetName"].is_string() {
                out.push(base("ses:SendEmail".into(), arn("configuration-set/EmailConfigurationSet")));
            }
            out
        }
        _ => vec![base(format!("{}:{operation}", service.to_ascii_lowercase()), "unmodelled".into())],
    }
}

type DynamoNeed = (String, String, BTreeSet<String>, Option<String>, Option<BTreeSet<String>>);

fn dynamodb(operation: &str, body: &Json) -> Vec<DynamoNeed> {
    let keys_of = |items: &[&Json]| items.iter().map(|k| kind_of_key(&s(&k["pk"]["S"]))).collect::<BTreeSet<_>>();
    let table = |b: &Json| {
        let t = logical(&s(&b["TableName"]));
        match b["IndexName"].as_str() {
            Some(i) => format!("{t}/index/{i}"),
            None => t,
        }
    };
    let one = |action: &str, b: &Json, keys: BTreeSet<String>| (format!("dynamodb:{action}"), table(b), keys, None, None);
    match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => vec![one(operation, body, keys_of(&[&body["Key"]]))],
        "PutItem" => vec![one(operation, body, keys_of(&[&body["Item"]]))],
        "Query" | "Scan" => {
            let names = &body["ExpressionAttributeNames"];
            let name = |n: &str| names[n].as_str().unwrap_or(n).to_string();
            let mut keys = BTreeSet::new();
            if let Some(cond) = body["KeyConditionExpression"].as_str() {
                // The partition key's clause: the first equality of the expression.
                if let Some((_, value)) = cond.split(" AND ").chain(cond.split(" and ")).find_map(|c| c.split_once('=')) {
                    keys.insert(kind_of_key(&s(&body["ExpressionAttributeValues"][value.trim()]["S"])));
                }
            }
            let attributes = body["ProjectionExpression"].as_str().map(|p| p.split(',').map(|a| name(a.trim())).collect::<BTreeSet<_>>());
            let select = body["Select"].as_str().map(str::to_string).or_else(|| attributes.as_ref().map(|_| "SPECIFIC_ATTRIBUTES".to_string())).or(Some("ALL_ATTRIBUTES".into()));
            vec![(format!("dynamodb:{operation}"), table(body), keys, select, attributes)]
        }
        "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, r)| {
                let items: Vec<&Json> = match r {
                    Json::Array(writes) => writes.iter().map(|w| if w["PutRequest"].is_object() { &w["PutRequest"]["Item"] } else { &w["DeleteRequest"]["Key"] }).collect(),
                    keys => keys["Keys"].as_array().into_iter().flatten().collect(),
                };
                (format!("dynamodb:{operation}"), logical(name), keys_of(&items), None, None)
            })
            .collect(),
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let (action, b, key) = [("PutItem", "Put", "Item"), ("UpdateItem", "Update", "Key"), ("DeleteItem", "Delete", "Key"), ("ConditionCheckItem", "ConditionCheck", "Key")]
                    .into_iter()
                    .find_map(|(action, field, key)| t[field].is_object().then(|| (action, &t[field], key)))?;
                Some(one(action, b, keys_of(&[&b[key]])))
            })
            .collect(),
        other => vec![(format!("dynamodb:{other}"), table(body), BTreeSet::new(), None, None)],
    }
}

fn s3(operation: &str, uri: &str, copy_source: Option<&str>) -> Vec<(String, String, Option<String>)> {
    let decode = wmb_aws::s3io::decode_key;
    let after_host = uri.split_once("://").map_or(uri, |(_, rest)| rest.split_once('/').map_or("", |(_, path)| path));
    let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
    let param = |name: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{name}="))).map(decode);
    // Path-style: bucket/key.
    let key = path.split_once('/').map(|(_, k)| decode(k)).unwrap_or_default();
    let object = |k: &str| format!("s3:{k}");
    let versioned = |plain: &str, q: Option<String>| if q.is_some() { format!("s3:{plain}Version") } else { format!("s3:{plain}") };
    match operation {
        "GetObject" | "HeadObject" => vec![(versioned("GetObject", param("versionId")), object(&key), None)],
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => vec![("s3:PutObject".into(), object(&key), None)],
        "AbortMultipartUpload" => vec![("s3:AbortMultipartUpload".into(), object(&key), None)],
        "DeleteObject" => vec![(versioned("DeleteObject", param("versionId")), object(&key), None)],
        "CopyObject" => {
            let source = decode(copy_source.unwrap_or_default());
            let (source, version) = source.split_once("?versionId=").map_or((source.as_str(), None), |(s, v)| (s, Some(v.to_string())));
            let source_key = source.trim_start_matches('/').split_once('/').map(|(_, k)| k).unwrap_or_default();
            vec![("s3:PutObject".into(), object(&key), None), (versioned("GetObject", version), object(source_key), None)]
        }
        "ListObjectsV2" | "ListObjects" => vec![("s3:ListBucket".into(), "s3".into(), param("prefix"))],
        other => vec![(format!("s3:{other}"), object(&key), None)],
    }
}
