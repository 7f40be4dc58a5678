//! Retention as the template deploys it: every table that holds a voter's data expires it by TTL,
//! the bucket deletes county files and reports after the periods `wmb_core::retention` states,
//! and the TTL's deletions do not wake the fan-out.

use serde_yaml_ng::Value;
use wmb_tests::policy::template;
use wmb_core::retention::{INCOMING_FILE_DAYS, REPORT_DAYS};

fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => &t.value,
        v => v,
    }
}

#[test]
fn every_table_of_voter_data_expires_by_ttl() {
    let t = template();
    for table in ["JourneysTable", "LedgerTable", "HeldTable", "KeptTable", "SubscriptionsTable", "AccessTable"] {
        let ttl = &t["Resources"][table]["Properties"]["TimeToLiveSpecification"];
        assert_eq!(ttl["AttributeName"].as_str(), Some("expires_at"), "{table}");
        assert_eq!(ttl["Enabled"].as_bool(), Some(true), "{table}");
    }
}

#[test]
fn county_files_and_reports_are_deleted_after_the_stated_periods() {
    let t = template();
    let rules = t["Resources"]["IncomingBucket"]["Properties"]["LifecycleConfiguration"]["Rules"].as_sequence().unwrap().clone();
    let days = |prefix: &str| {
        rules.iter().find(|r| r["Prefix"].as_str() == Some(prefix)).and_then(|r| untagged(&r["ExpirationInDays"]).as_i64()).unwrap_or_else(|| panic!("no rule for {prefix}"))
    };
    assert_eq!(days("incoming/"), INCOMING_FILE_DAYS);
    assert_eq!(days("rejected/"), INCOMING_FILE_DAYS);
    assert_eq!(days("reports/"), REPORT_DAYS);
}

#[test]
fn ttl_deletions_of_journeys_do_not_reach_the_fan_out() {
    let t = template();
    let text = serde_yaml_ng::to_string(&t["Resources"]["FanoutFunction"]).unwrap();
    let patterns: Vec<&str> = text.lines().filter(|l| l.contains("Pattern")).collect();
    assert_eq!(patterns.len(), 2, "{text}");
    assert!(patterns.iter().all(|p| p.contains(r#""eventName": ["INSERT", "MODIFY"]"#)), "{patterns:?}");
}
