//! What each function's role must allow, read from the requests its handler made in a test, and
//! checked against that function's policy in infra/template.yaml. Moto does not enforce IAM: a
//! call the template does not grant passes every test on moto and fails in AWS with AccessDenied
//! (a duplicate receipt sent to the dead-letter queue, a roll upload that writes nothing). Every
//! world checks what its functions did when it is dropped.
//!
//! The model covers what the policies here use: actions and resources with `*` wildcards, Deny
//! before Allow, and the conditions `dynamodb:LeadingKeys`, `dynamodb:Select`,
//! `dynamodb:Attributes` and `s3:prefix`. Other conditions (`kms:ViaService`,
//! `aws:RequestedRegion`, `iam:PassedToService`) are taken to hold: they are about how a request
//! arrives, which a test does not change.

use serde_json::Value as Json;
use serde_yaml_ng::Value;
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

/// A partition key cut to its kind.
fn kind_of_key(key: &str) -> String {
    key.split_once('#').map_or_else(|| "…".to_string(), |(kind, _)| format!("{kind}#…"))
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
            let topic = form.split('&').find_map(|p| p.strip_prefix("TopicArn=")).map(percent_decode);
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
    let decode = |p: &str| percent_decode(p);
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The template's statements for a function (its logical ID).
fn statements(template: &Value, function: &str) -> Vec<Value> {
    template["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
        .collect()
}

/// A value without its CloudFormation tag (`!Sub`, `!GetAtt` …), as text.
pub fn text(v: &Value) -> String {
    match v {
        Value::Tagged(t) => text(&t.value),
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other).unwrap_or_default(),
    }
}

/// A value that may be one item or a list of them, as a list of texts.
pub fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().map(text).collect(),
        Value::Null => vec![],
        one => vec![text(one)],
    }
}

/// Whether an IAM pattern (`*` and `?` wildcards; case-insensitive for actions) matches.
pub fn matches(pattern: &str, value: &str, fold_case: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if fold_case { (pattern.to_lowercase().chars().collect(), value.to_lowercase().chars().collect()) } else { (pattern.chars().collect(), value.chars().collect()) };
    // Classic wildcard matching with backtracking over the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// A policy's resource in the template's terms (see [`Needed::resource`]).
fn canonical(resource: &str) -> String {
    if resource == "*" {
        return resource.into();
    }
    // The bucket is `s3`, an object `s3:<key>`: `bucket/*` covers every object, not the bucket.
    for bucket in ["wmb-incoming-${AWS::AccountId}-${AWS::Region}-${Stage}", "${IncomingBucket.Arn}", "IncomingBucket.Arn"] {
        if let Some((_, rest)) = resource.split_once(bucket) {
            return rest.strip_prefix('/').map_or_else(|| if rest.is_empty() { "s3".to_string() } else { format!("s3{rest}") }, |key| format!("s3:{key}"));
        }
    }
    if let Some((_, rest)) = resource.split_once(":schedule/") {
        return rest.replace("${", "").replace('}', "");
    }
    if let Some(id) = resource.strip_suffix(".Arn") {
        return id.into();
    }
    // Any other ARN, as the tests' account and Region would spell it.
    let arn = resource.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "us-east-1").replace("${AWS::AccountId}", "123456789012");
    arn.replace(".Arn}", "").replace("${", "").replace('}', "")
}

/// Whether a statement's conditions hold for a request. A condition this model does not know
/// (another key, another operator) does not let an Allow apply, and lets a Deny apply.
fn condition_holds(condition: &Value, n: &Needed, allow: bool) -> bool {
    let Some(operators) = condition.as_mapping() else { return true };
    operators.iter().all(|(op, keys)| {
        let op = text(op);
        let (set, base) = op.split_once(':').map_or((None, op.as_str()), |(q, o)| (Some(q), o));
        keys.as_mapping().into_iter().flatten().all(|(key, values)| {
            let key = text(key);
            // About how a request arrives, which the tests do not change.
            if matches!(key.as_str(), "kms:ViaService" | "aws:RequestedRegion" | "iam:PassedToService") {
                return true;
            }
            let values = list(values);
            let fits = |v: &str| match base {
                "StringEquals" => values.iter().any(|p| p == v),
                "StringLike" => values.iter().any(|p| matches(p, v, false)),
                _ => false,
            };
            if !matches!(base, "StringEquals" | "StringLike") || !matches!(set, None | Some("ForAllValues") | Some("ForAnyValue")) {
                return !allow;
            }
            let many = |items: Vec<&String>| match set {
                Some("ForAllValues") => items.iter().all(|v| fits(v)),
                Some("ForAnyValue") => items.iter().any(|v| fits(v)),
                _ => items.len() == 1 && fits(items[0]),
            };
            match key.as_str() {
                "dynamodb:LeadingKeys" => many(n.leading_keys.iter().collect()),
                "dynamodb:Attributes" => many(n.attributes.iter().flatten().collect()),
                "dynamodb:Select" => n.select.as_ref().is_some_and(|s| fits(s)),
                "s3:prefix" => n.prefix.as_ref().is_some_and(|p| fits(p)),
                _ => !allow,
            }
        })
    })
}

/// A statement's resources; a `!Ref` of a queue or table names its URL or name, not its ARN, and
/// so names nothing here.
fn resources(v: &Value) -> Vec<String> {
    match v {
        Value::Tagged(t) if t.tag == "Ref" => vec![format!("!Ref {}", text(&t.value))],
        Value::Sequence(items) => items.iter().flat_map(resources).collect(),
        Value::Null => vec![],
        one => vec![canonical(&text(one))],
    }
}

fn applies(statement: &Value, n: &Needed) -> bool {
    let allow = text(&statement["Effect"]) == "Allow";
    // Not modelled: such an Allow is not counted on, such a Deny is.
    if !statement["NotAction"].is_null() || !statement["NotResource"].is_null() {
        return !allow;
    }
    list(&statement["Action"]).iter().any(|a| matches(a, &n.action, true))
        && resources(&statement["Resource"]).iter().any(|r| matches(r, &n.resource, false))
        && condition_holds(&statement["Condition"], n, allow)
}

/// The requests of `needed` the template's policies do not allow (an explicit Deny, or no Allow).
pub fn refused(template: &Value, needed: &BTreeSet<Needed>) -> Vec<String> {
    needed
        .iter()
        .filter(|n| {
            let st = statements(template, n.function);
            let denied = st.iter().any(|s| text(&s["Effect"]) == "Deny" && applies(s, n));
            let allowed = st.iter().any(|s| text(&s["Effect"]) == "Allow" && applies(s, n));
            denied || !allowed
        })
        .map(|n| n.to_string())
        .collect()
}

/// infra/template.yaml, parsed.
pub fn template() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(needed: Vec<Needed>) -> BTreeSet<Needed> {
        needed.into_iter().collect()
    }

    #[test]
    fn a_roll_upload_may_batch_its_reads_and_writes_of_voters() {
        let t = template();
        let write = json!({ "RequestItems": { "p-voters": [{ "PutRequest": { "Item": { "pk": { "S": "V1" } } } }] } });
        let read = json!({ "RequestItems": { "p-voters": { "Keys": [{ "pk": { "S": "V1" } }] } } });
        let mut n = one(needed("IngestFunction", "DynamoDB", "BatchWriteItem", &write, "", None));
        n.extend(needed("IngestFunction", "DynamoDB", "BatchGetItem", &read, "", None));
        assert_eq!(refused(&t, &n), Vec::<String>::new());
        // The fan-out has no business writing the roll.
        assert_eq!(refused(&t, &one(needed("FanoutFunction", "DynamoDB", "BatchWriteItem", &write, "", None))).len(), 1);
    }

    #[test]
    fn leading_keys_limit_the_ingest_function_to_the_counties_daily_counts_in_the_ledger() {
        let t = template();
        let update = |pk: &str| json!({ "TableName": "p-ledger", "Key": { "pk": { "S": pk } } });
        assert!(refused(&t, &one(needed("IngestFunction", "DynamoDB", "UpdateItem", &update("daily#2026-10-07#01"), "", None))).is_empty());
        assert_eq!(refused(&t, &one(needed("IngestFunction", "DynamoDB", "UpdateItem", &update("msg#V1#2026-11-03-GEN#mailed#sms"), "", None))).len(), 1);
    }

    #[test]
    fn a_listing_is_allowed_only_under_the_prefixes_granted() {
        let t = template();
        let list = |prefix: &str| one(needed("IngestFunction", "S3", "ListObjectsV2", &Json::Null, &format!("http://127.0.0.1:5000/p-incoming?list-type=2&prefix={prefix}"), None));
        assert!(refused(&t, &list("config%2Felections%2F")).is_empty());
        assert_eq!(refused(&t, &list("incoming%2F")).len(), 1);
    }

    #[test]
    fn an_explicit_deny_wins_over_an_allow() {
        let t = template();
        let publish = |form: &str| one(needed("DeliverSmsFunction", "SNS", "Publish", &Json::String(form.into()), "", None));
        assert_eq!(refused(&t, &publish("Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Ainbound&Message=STOP")).len(), 1, "never a topic");
        assert!(refused(&t, &publish("Action=Publish&PhoneNumber=%2B15105550101&Message=Hello")).is_empty(), "a phone number");
    }

    /// A template of one function with these statements.
    fn with_statements(statements: &str) -> Value {
        let indented: String = statements.lines().map(|l| format!("          {l}\n")).collect();
        serde_yaml_ng::from_str(&format!("Resources:\n  F:\n    Properties:\n      Policies:\n        - Statement:\n{indented}")).unwrap()
    }

    #[test]
    fn objects_are_not_their_bucket_and_a_ref_is_no_arn() {
        let list = one(needed("F", "S3", "ListObjectsV2", &Json::Null, "http://127.0.0.1:5000/p-incoming?list-type=2&prefix=config%2F", None));
        let objects = with_statements("- Effect: Allow\n  Action: s3:ListBucket\n  Resource: !Sub arn:${AWS::Partition}:s3:::wmb-incoming-${AWS::AccountId}-${AWS::Region}-${Stage}/*");
        assert_eq!(refused(&objects, &list).len(), 1, "bucket/* names the objects only");
        let bucket = with_statements("- Effect: Allow\n  Action: s3:ListBucket\n  Resource: !Sub arn:${AWS::Partition}:s3:::wmb-incoming-${AWS::AccountId}-${AWS::Region}-${Stage}");
        assert!(refused(&bucket, &list).is_empty());
        let send = one(needed("F", "SQS", "SendMessageBatch", &json!({ "QueueUrl": "http://127.0.0.1:5000/123456789012/p-sms" }), "", None));
        assert_eq!(refused(&with_statements("- Effect: Allow\n  Action: sqs:SendMessage\n  Resource: !Ref SmsQueue"), &send).len(), 1, "a queue's URL is no ARN");
        assert!(refused(&with_statements("- Effect: Allow\n  Action: sqs:SendMessage\n  Resource: !GetAtt SmsQueue.Arn"), &send).is_empty());
    }

    #[test]
    fn a_condition_the_model_does_not_know_lets_no_allow_apply_and_every_deny() {
        let get = one(needed("F", "DynamoDB", "GetItem", &json!({ "TableName": "p-voters", "Key": { "pk": { "S": "V1" } } }), "", None));
        let allow = with_statements("- Effect: Allow\n  Action: dynamodb:GetItem\n  Resource: !GetAtt VotersTable.Arn\n  Condition:\n    Bool:\n      aws:SecureTransport: true");
        assert_eq!(refused(&allow, &get).len(), 1);
        let deny = with_statements("- Effect: Allow\n  Action: dynamodb:GetItem\n  Resource: !GetAtt VotersTable.Arn\n- Effect: Deny\n  Action: dynamodb:*\n  Resource: '*'\n  Condition:\n    DateGreaterThan:\n      aws:CurrentTime: '2020-01-01T00:00:00Z'");
        assert_eq!(refused(&deny, &get).len(), 1);
    }

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(matches("dynamodb:*Item", "dynamodb:BatchGetItem", true));
        assert!(matches("s3:state/report-pieces/*", "s3:state/report-pieces/a/b", false));
        assert!(!matches("s3:config/*", "s3:incoming/config/x", false));
        assert!(matches("daily#*", "daily#…", false));
        assert!(!matches("contact#*", "…", false));
    }
}
