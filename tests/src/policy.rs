//! The template's policies as IAM evaluates them, for the requests `crate::permissions` records:
//! actions and resources with `*` and `?` wildcards, Deny before Allow, and the conditions the
//! policies here use (`dynamodb:LeadingKeys`, `dynamodb:Select`, `dynamodb:Attributes`,
//! `s3:prefix`, with `StringEquals`/`StringLike` and their `ForAllValues`/`ForAnyValue` forms).
//! Conditions on how a request arrives (`kms:ViaService`, `aws:RequestedRegion`,
//! `iam:PassedToService`) hold: a test does not change that. Any other condition or operator, and
//! `NotAction`/`NotResource`, let no Allow apply and let every Deny apply.

use crate::permissions::Needed;
use serde_yaml_ng::Value;
use std::collections::BTreeSet;

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
    use crate::permissions::needed;
    use serde_json::Value as Json;
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
        // A counter's key keeps its own kind: a grant of one counter is not a grant of all.
        assert!(matches("count#not-reached#*", "count#not-reached#…", false));
        assert!(!matches("count#not-reached#*", "count#fail-id#…", false));
    }
}
