//! The template's access rules as a county and the cloud team rely on them, read from
//! infra/template.yaml: a county's role writes only its own `incoming/<county>/` and reads only
//! its own reports; nobody but the deployer writes `config/`; the data key's administrators do not
//! use it, and it is used only through the AWS services that keep data under it.

use serde_yaml_ng::Value;
use wmb_tests::policy::{list, template, text};

/// Whether an IAM action pattern matches an action or a name (case-insensitive, as IAM's actions).
fn matches(pattern: &str, action: &str) -> bool {
    wmb_tests::policy::matches(pattern, action, true)
}

/// The KMS actions that use a key (or hand its use to someone else).
const KEY_USE: [&str; 8] = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:CreateGrant",
];

fn data_key_policy(t: &Value) -> Vec<Value> {
    t["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"].as_sequence().unwrap().clone()
}

/// The KMS actions a policy allows on the data key through SQS.
fn data_key_through_sqs(statements: &[Value]) -> Vec<String> {
    statements
        .iter()
        .filter(|s| text(&s["Condition"]["StringEquals"]["kms:ViaService"]) == "sqs.${AWS::Region}.amazonaws.com" && text(&s["Resource"]).contains("DataKey.Arn"))
        .flat_map(|s| list(&s["Action"]))
        .collect()
}

#[test]
fn a_county_role_writes_only_its_own_incoming_folder_and_reads_only_its_own_reports() {
    let t = template();
    let each = &t["Resources"]["Fn::ForEach::CountyUploads"];
    assert_eq!(text(&each[0]), "County");
    assert_eq!(text(&each[1]), "UploadCounties", "one role per county listed in the parameter");
    let role = &each[2]["CountyUploadRole${County}"];
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_sequence().unwrap();
    let bucket = "arn:${AWS::Partition}:s3:::wmb-incoming-${AWS::AccountId}-${AWS::Region}-${Stage}";
    for s in statements {
        assert_eq!(text(&s["Effect"]), "Allow");
        let actions = list(&s["Action"]);
        let resources = list(&s["Resource"]);
        for action in &actions {
            match action.as_str() {
                "s3:PutObject" => assert_eq!(resources, [format!("{bucket}/incoming/${{County}}/*")], "writes only its own folder"),
                "s3:GetObject" => assert_eq!(resources, [format!("{bucket}/reports/${{County}}/*")], "reads only its own reports"),
                "s3:ListBucket" => {
                    let prefixes = list(&s["Condition"]["StringLike"]["s3:prefix"]);
                    assert!(prefixes.iter().all(|p| p.starts_with("incoming/${County}") || p.starts_with("reports/${County}")), "{prefixes:?}");
                }
                "kms:GenerateDataKey" | "kms:Decrypt" => assert_eq!(text(&s["Condition"]["StringEquals"]["kms:ViaService"]), "s3.${AWS::Region}.amazonaws.com"),
                other => panic!("a county role may not {other}"),
            }
        }
        assert!(!actions.iter().any(|a| a.contains('*')), "no wildcard action: {actions:?}");
    }
    // Another county's folder or config/ is in no resource it is allowed
    let all = serde_yaml_ng::to_string(role).unwrap();
    assert!(!all.contains("config/") && !all.contains("incoming/*"), "{all}");
}

#[test]
fn nobody_but_the_deployer_writes_config() {
    let t = template();
    let statements = t["Resources"]["IncomingBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"].as_sequence().unwrap().clone();
    let sid = |name: &str| statements.iter().find(|s| text(&s["Sid"]) == name).unwrap_or_else(|| panic!("no {name}")).clone();
    // Every function role is denied writes to config/
    let functions = sid("DenyConfigWritesByFunctions");
    assert_eq!(text(&functions["Effect"]), "Deny");
    assert!(text(&functions["Resource"]).ends_with("/config/*"));
    let denied = list(&functions["Condition"]["ArnEquals"]["aws:PrincipalArn"]);
    let roles: Vec<String> = t["Resources"].as_mapping().unwrap().iter().filter(|(_, r)| text(&r["Type"]) == "AWS::Serverless::Function").map(|(name, _)| format!("{}Role.Arn", text(name))).collect();
    assert!(roles.len() >= 9, "{roles:?}");
    for role in &roles {
        assert!(denied.contains(role), "{role} may write config/: {denied:?}");
    }
    // County roles are denied every write outside incoming/, whatever is attached to them later
    let counties = sid("DenyCountyWritesOutsideIncoming");
    assert_eq!(text(&counties["Effect"]), "Deny");
    assert!(text(&counties["NotResource"]).ends_with("/incoming/*"));
    assert!(text(&counties["Condition"]["ArnLike"]["aws:PrincipalArn"]).ends_with(":role/wmb-${Stage}-${AWS::Region}-county-*-upload"));
    // And the bucket's access log records who read or wrote what
    assert!(!text(&t["Resources"]["IncomingBucket"]["Properties"]["LoggingConfiguration"]["DestinationBucketName"]).is_empty());
}

#[test]
fn a_flood_on_the_public_api_cannot_take_the_concurrency_the_senders_need() {
    // The sign-up function's instances are reserved and capped (SignupConcurrency, 100 by default,
    // as a sign-up waits out the answer floor; 0 leaves it unreserved for accounts with a small
    // limit).
    let t = template();
    let reserved = text(&t["Resources"]["SignupFunction"]["Properties"]["ReservedConcurrentExecutions"]);
    assert!(reserved.contains("ReserveSignupConcurrency") && reserved.contains("SignupConcurrency"), "{reserved}");
    assert_eq!(text(&t["Parameters"]["SignupConcurrency"]["Default"]).trim(), "100");
    assert!(text(&t["Conditions"]["ReserveSignupConcurrency"]).contains("SignupConcurrency"));
}

#[test]
fn the_data_keys_administrators_do_not_use_it_and_nobody_decrypts_outside_a_service() {
    // Administration (KeyAdministratorArns, else the account root) without any use of the key;
    // use by the account's IAM principals only through the services (kms:ViaService), by service
    // principals only for this account's resources. No kms:* anywhere: nobody, an administrator
    // included, can call Decrypt on the key directly.
    let t = template();
    let statements = data_key_policy(&t);
    let admin = statements.iter().find(|s| text(&s["Sid"]) == "KeyAdministration").expect("a key administration statement");
    let admins = text(&admin["Principal"]["AWS"]);
    assert!(admins.contains("KeyAdministratorArns") && admins.contains(":root"), "{admins}");
    for s in &statements {
        assert_eq!(text(&s["Effect"]), "Allow");
        let sid = text(&s["Sid"]);
        let actions = list(&s["Action"]);
        assert!(!actions.iter().any(|a| a == "*" || a.eq_ignore_ascii_case("kms:*")), "{sid}: {actions:?}");
        let uses: Vec<&str> = KEY_USE.iter().copied().filter(|u| actions.iter().any(|a| matches(a, u))).collect();
        if sid == "KeyAdministration" {
            assert!(uses.is_empty(), "the administrators may {uses:?}");
            continue;
        }
        if uses.is_empty() {
            continue;
        }
        let condition = &s["Condition"];
        if !s["Principal"]["AWS"].is_null() {
            assert_eq!(text(&s["Principal"]["AWS"]), "arn:${AWS::Partition}:iam::${AWS::AccountId}:root", "{sid}");
            let via = list(&condition["StringEquals"]["kms:ViaService"]);
            assert!(!via.is_empty() && via.iter().all(|v| v.ends_with(".${AWS::Region}.amazonaws.com")), "{sid}: {via:?}");
            assert_eq!(text(&condition["StringEquals"]["kms:CallerAccount"]), "AWS::AccountId", "{sid}");
        } else {
            assert!(!s["Principal"]["Service"].is_null(), "{sid}: a service or the account root only");
            let named = serde_yaml_ng::to_string(condition).unwrap();
            assert!(!condition.is_null() && named.contains("AWS::AccountId"), "{sid} is not held to this account: {named}");
        }
        if uses.contains(&"kms:CreateGrant") {
            assert_eq!(condition["Bool"]["kms:GrantIsForAWSResource"].as_bool(), Some(true), "{sid}: grants only for AWS resources");
        }
    }
}

#[test]
fn every_queue_log_group_topic_and_the_bus_are_on_the_data_key() {
    // The same key as the tables and the bucket (DataKey, or the one in VoterDataKmsKeyArn), and
    // CloudWatch Logs may use it for every log group.
    let t = template();
    let logs = data_key_policy(&t).into_iter().find(|s| text(&s["Principal"]["Service"]).starts_with("logs.")).expect("a statement for CloudWatch Logs");
    let groups: Vec<String> = list(&logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]).iter().map(|a| a.split("log-group:").nth(1).unwrap_or_default().to_string()).collect();
    let mut counts = std::collections::HashMap::new();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        let (name, kind, p) = (text(name), text(&r["Type"]), &r["Properties"]);
        let key = match kind.as_str() {
            "AWS::SQS::Queue" => {
                assert!(p["SqsManagedSseEnabled"].is_null(), "{name}");
                &p["KmsMasterKeyId"]
            }
            "AWS::Logs::LogGroup" => {
                let group = text(&p["LogGroupName"]);
                assert!(groups.iter().any(|g| matches(g, &group)), "CloudWatch Logs may not use the key for {group}: {groups:?}");
                &p["KmsKeyId"]
            }
            "AWS::SNS::Topic" => &p["KmsMasterKeyId"],
            "AWS::Events::EventBus" => &p["KmsKeyIdentifier"],
            _ => continue,
        };
        let named = text(key);
        assert!(named.contains("CreateDataKey") && named.contains("DataKey.Arn") && named.contains("VoterDataKmsKeyArn"), "{name} is not on the data key: {named}");
        *counts.entry(kind).or_insert(0) += 1;
    }
    assert!(counts["AWS::SQS::Queue"] >= 14 && counts["AWS::Logs::LogGroup"] >= 14 && counts["AWS::SNS::Topic"] >= 3, "{counts:?}");
    assert_eq!(counts["AWS::Events::EventBus"], 1);
}

#[test]
fn whoever_sends_to_or_reads_a_queue_may_use_the_data_key_through_sqs() {
    // A function that reads a queue (an SQS event) needs Decrypt; one that sends (its own
    // SendMessage, or Lambda's on-failure destinations, sent under its role) GenerateDataKey too;
    // and so does SchedulerRole, under which Scheduler sends the schedules' dead letters.
    let t = template();
    let mut functions = 0;
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if text(&r["Type"]) != "AWS::Serverless::Function" {
            continue;
        }
        functions += 1;
        let (name, p) = (text(name), &r["Properties"]);
        let statements = p["Policies"][0]["Statement"].as_sequence().unwrap();
        let events: Vec<&Value> = p["Events"].as_mapping().map(|m| m.values().collect()).unwrap_or_default();
        let reads = events.iter().any(|e| text(&e["Type"]) == "SQS");
        let sends = statements.iter().any(|s| list(&s["Action"]).iter().any(|a| a == "sqs:SendMessage"))
            || text(&p["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"]) == "SQS"
            || events.iter().any(|e| text(&e["Properties"]["DestinationConfig"]["OnFailure"]["Type"]) == "SQS");
        let granted = data_key_through_sqs(statements);
        if reads || sends {
            assert!(granted.iter().any(|a| a == "kms:Decrypt"), "{name}: {granted:?}");
        }
        if sends {
            assert!(granted.iter().any(|a| a == "kms:GenerateDataKey"), "{name}: {granted:?}");
        }
    }
    assert!(functions >= 10, "{functions}");
    let scheduler = data_key_through_sqs(t["Resources"]["SchedulerRolePolicy"]["Properties"]["PolicyDocument"]["Statement"].as_sequence().unwrap());
    assert!(scheduler.iter().any(|a| a == "kms:GenerateDataKey") && scheduler.iter().any(|a| a == "kms:Decrypt"), "{scheduler:?}");
}

/// The statements of a function's inline policies.
fn statements_of(function: &Value) -> Vec<Value> {
    function["Properties"]["Policies"].as_sequence().into_iter().flatten().filter_map(|p| p["Statement"].as_sequence()).flatten().cloned().collect()
}

#[test]
fn every_function_that_names_contacts_gets_the_access_table_and_the_signing_key() {
    // A function whose code needs the contact index and the signing key at start
    // (`require_access`), and the email deliverer (the API checks its links), gets both from the
    // template, and may read the contact index. The end-to-end tests give every function every
    // setting, so only this test sees a function the template leaves without them: a signups
    // file, for one, names its contacts in the index, with the key every other function uses.
    let t = template();
    let mut checked = vec![];
    for (name, f) in t["Resources"].as_mapping().unwrap() {
        if text(&f["Type"]) != "AWS::Serverless::Function" {
            continue;
        }
        let name = text(name);
        let binary = text(&f["Metadata"]["BuildProperties"]["Binary"]);
        let main = std::fs::read_to_string(format!("{}/../functions/{binary}/src/main.rs", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let vars = &f["Properties"]["Environment"]["Variables"];
        let reads_index = main.contains("require_access()");
        if !reads_index && text(&vars["CHANNEL"]) != "email" {
            continue;
        }
        assert!(text(&vars["ACCESS_TABLE"]).contains("AccessTable"), "{name}: ACCESS_TABLE");
        assert_eq!(text(&vars["SIGNING_KEY_SECRET_ARN"]), "SigningKeySecret", "{name}: SIGNING_KEY_SECRET_ARN");
        let allowed = |action: &str, resource: &str| {
            statements_of(f).iter().any(|s| text(&s["Effect"]) == "Allow" && text(&s["Resource"]).contains(resource) && list(&s["Action"]).iter().any(|a| matches(a, action)))
        };
        assert!(allowed("secretsmanager:GetSecretValue", "SigningKeySecret"), "{name} may not read the signing key's secret");
        // The secret is on the data key: reading it decrypts through Secrets Manager.
        let decrypts = statements_of(f).iter().any(|s| {
            text(&s["Effect"]) == "Allow"
                && list(&s["Action"]).iter().any(|a| matches(a, "kms:Decrypt"))
                && serde_yaml_ng::to_string(&s["Condition"]).unwrap().contains("secretsmanager.")
        });
        assert!(decrypts, "{name} may not decrypt the secret through Secrets Manager");
        if reads_index {
            let reads = statements_of(f).iter().any(|s| {
                text(&s["Effect"]) == "Allow" && text(&s["Resource"]).contains("AccessTable.Arn") && list(&s["Action"]).iter().any(|a| matches(a, "dynamodb:GetItem"))
            });
            assert!(reads, "{name} may not read the contact index");
        }
        checked.push(name);
    }
    checked.sort();
    assert_eq!(checked, ["CallStopFunction", "DeliverEmailFunction", "InboundSmsFunction", "IngestFunction", "ReceiptsFunction", "SignupFunction"]);
}

#[test]
fn the_signing_key_is_in_no_environment_and_only_the_functions_that_sign_may_read_it() {
    // Whoever may read a function's configuration (lambda:GetFunctionConfiguration) sees its
    // environment: the key is read from its secret at cold start, and no variable resolves it.
    let raw = std::fs::read_to_string(format!("{}/../infra/template.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    assert!(!raw.contains("{{resolve:secretsmanager:${SigningKeySecret}"), "the signing key is resolved into the template somewhere");
    let t = template();
    let mut readers = vec![];
    for (name, f) in t["Resources"].as_mapping().unwrap() {
        let reads = statements_of(f).iter().any(|s| text(&s["Effect"]) == "Allow" && list(&s["Action"]).iter().any(|a| a.starts_with("secretsmanager:")));
        if reads {
            readers.push(text(name));
        }
    }
    readers.sort();
    assert_eq!(readers, ["CallStopFunction", "DeliverEmailFunction", "InboundSmsFunction", "IngestFunction", "ReceiptsFunction", "SignupFunction"]);
}

#[test]
fn every_function_granted_the_access_table_is_told_its_name() {
    // The end-to-end tests give every function every setting; on AWS a function granted the
    // access table (its counters, marks or contact index) without ACCESS_TABLE would fail each
    // call (the fan-out's marks of news that reached no one, for one, would stop its stream).
    let t = template();
    let mut granted = vec![];
    for (name, f) in t["Resources"].as_mapping().unwrap() {
        if text(&f["Type"]) != "AWS::Serverless::Function" {
            continue;
        }
        if statements_of(f).iter().any(|s| text(&s["Effect"]) == "Allow" && text(&s["Resource"]).contains("AccessTable.Arn")) {
            let name = text(name);
            assert!(text(&f["Properties"]["Environment"]["Variables"]["ACCESS_TABLE"]).contains("AccessTable"), "{name}: ACCESS_TABLE");
            granted.push(name);
        }
    }
    assert!(granted.iter().any(|n| n == "FanoutFunction"), "{granted:?}");
}

#[test]
fn every_function_that_schedules_a_release_names_the_schedules_dead_letter_queue() {
    // A schedule with no dead-letter queue that fails 185 times for a day is dropped without a
    // trace: its held messages would wait unseen (ReleaseDeadLetterQueue is alarmed).
    let t = template();
    let mut scheduling = vec![];
    for (name, f) in t["Resources"].as_mapping().unwrap() {
        let creates = statements_of(f).iter().any(|s| text(&s["Effect"]) == "Allow" && list(&s["Action"]).iter().any(|a| matches(a, "scheduler:CreateSchedule")));
        if text(&f["Type"]) != "AWS::Serverless::Function" || !creates {
            continue;
        }
        let name = text(name);
        assert!(text(&f["Properties"]["Environment"]["Variables"]["RELEASE_DLQ_ARN"]).contains("ReleaseDeadLetterQueue.Arn"), "{name}: RELEASE_DLQ_ARN");
        scheduling.push(name);
    }
    assert!(scheduling.iter().any(|n| n == "ReleaseFunction"), "{scheduling:?}");
}

#[test]
fn only_a_request_through_cloudfront_can_name_the_client_the_api_counts() {
    // CloudFront sends the API a secret header with every request, and the API function gets
    // the same secret: it believes CloudFront-Viewer-Address only next to it.
    let t = template();
    let origins = t["Resources"]["PageDistribution"]["Properties"]["DistributionConfig"]["Origins"].as_sequence().unwrap().clone();
    let api = origins.iter().find(|o| text(&o["Id"]) == "HttpApi").expect("the API origin");
    let header = api["OriginCustomHeaders"].as_sequence().and_then(|h| h.iter().find(|h| text(&h["HeaderName"]) == "X-Wmb-Origin")).expect("the origin header");
    let secret = "{{resolve:secretsmanager:${OriginHeaderSecret}:SecretString}}";
    assert_eq!(text(&header["HeaderValue"]), secret);
    assert_eq!(text(&t["Resources"]["SignupFunction"]["Properties"]["Environment"]["Variables"]["ORIGIN_HEADER_SECRET"]), secret);
    assert_eq!(text(&t["Resources"]["OriginHeaderSecret"]["Type"]), "AWS::SecretsManager::Secret");
}

#[test]
fn the_fan_out_never_gives_up_a_record_the_stream_still_holds() {
    // A journey write's milestone is announced only from its stream record: a record that fails is
    // retried until the stream drops it (24 h), and an alarm calls when the fan-out is an hour behind.
    let t = template();
    let stream = &t["Resources"]["FanoutFunction"]["Properties"]["Events"]["Stream"]["Properties"];
    assert_eq!(text(&stream["MaximumRetryAttempts"]).trim(), "-1");
    assert_eq!(text(&stream["MaximumRecordAgeInSeconds"]).trim(), "86400");
    let alarm = &t["Resources"]["FanoutIteratorAgeAlarm"]["Properties"];
    assert_eq!((text(&alarm["MetricName"]).as_str(), text(&alarm["Threshold"]).trim()), ("IteratorAge", "3600000"));
}

/// Every Rust source of the functions, as one text (to find the metric names they write).
fn functions_source() -> String {
    fn walk(dir: &std::path::Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("target") && !path.ends_with("fuzz") {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = String::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions"), &mut out);
    out
}

#[test]
fn each_stage_alarms_on_its_own_metrics_and_every_alarm_reads_a_metric_the_functions_write() {
    // Two stages in one account (a test stage beside production) write the same metric names:
    // each stage's functions write under a namespace of their own, which its alarms and dashboard
    // read, so a load test alarms nobody and production's alarms miss nothing. And an alarm on a
    // name no function writes never fires: every name must be one the code writes.
    let t = template();
    let namespace = text(&t["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"]);
    assert_eq!(namespace, "WheresMyBallot/${Stage}");
    let code = functions_source();
    let written = |name: &str| code.contains(&format!("\"{name}\""));
    let mut ours = 0;
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if text(&r["Type"]) != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let p = &r["Properties"];
        // One metric, or a formula's metrics.
        let mut read: Vec<&Value> = vec![p];
        read.extend(p["Metrics"].as_sequence().into_iter().flatten().map(|m| &m["MetricStat"]["Metric"]).filter(|m| !m.is_null()));
        let read = read.into_iter().filter(|m| !m["Namespace"].is_null()).map(|m| (text(&m["Namespace"]), text(&m["MetricName"])));
        for (ns, metric) in read.filter(|(ns, _)| !ns.starts_with("AWS/")) {
            assert_eq!(ns, namespace, "{}: {metric} in another namespace", text(name));
            assert!(written(&metric), "{}: no function writes {metric}", text(name));
            ours += 1;
        }
    }
    assert!(ours >= 9, "the alarms on the functions' own metrics were found ({ours})");
    // The dashboard: each of its rows of ours names the stage's namespace ("." repeats it).
    let body = text(&t["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]);
    assert!(!body.contains("[\"WheresMyBallot\""), "the dashboard reads a namespace of no stage");
    let (mut shown, mut current) = (0, String::new());
    for row in body.split('[').skip(1) {
        // A metric row: its namespace ("." for the row before's) and its name. ("..." repeats the
        // row before's name too.)
        let mut fields = row.split('"').skip(1).step_by(2);
        let (Some(ns), Some(metric)) = (fields.next(), fields.next()) else { continue };
        if ns != "." && ns != "..." {
            current = ns.to_string();
        }
        if current == namespace && ns != "..." {
            assert!(written(metric), "the dashboard shows {metric}, which no function writes");
            shown += 1;
        }
    }
    assert!(shown >= 10, "the dashboard's metrics were found ({shown})");
}
