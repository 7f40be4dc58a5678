//! The template's access rules as a county and the cloud team rely on them, read from
//! infra/template.yaml: a county's role writes only its own `incoming/<county>/` and reads only
//! its own reports; nobody but the deployer writes `config/`.

use serde_yaml_ng::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// A value without its CloudFormation tag (`!Sub`, `!Ref` …), as text.
fn text(v: &Value) -> String {
    match v {
        Value::Tagged(t) => text(&t.value),
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other).unwrap(),
    }
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().map(text).collect(),
        Value::Null => vec![],
        one => vec![text(one)],
    }
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
    // The sign-up function's instances are reserved and capped (SignupConcurrency, 50 by default;
    // 0 leaves it unreserved for accounts with a small limit).
    let t = template();
    let reserved = text(&t["Resources"]["SignupFunction"]["Properties"]["ReservedConcurrentExecutions"]);
    assert!(reserved.contains("ReserveSignupConcurrency") && reserved.contains("SignupConcurrency"), "{reserved}");
    assert_eq!(text(&t["Parameters"]["SignupConcurrency"]["Default"]).trim(), "50");
    assert!(text(&t["Conditions"]["ReserveSignupConcurrency"]).contains("SignupConcurrency"));
}
