//! What the cloud team relies on when it runs an election on the stack, read from
//! infra/template.yaml: alarms that reach someone, a morning release that is not slowed by its
//! own timeout, a texting rate that is not above the number's, and a scheduler role that only
//! the release schedules can use.

use wmb_tests::policy::{list, template, text};

fn number(v: &serde_yaml_ng::Value) -> u64 {
    text(v).trim().parse().unwrap_or_else(|_| panic!("not a number: {v:?}"))
}

#[test]
fn a_stack_cannot_be_deployed_with_alarms_that_reach_no_one() {
    let t = template();
    let email = &t["Parameters"]["AlarmEmail"];
    assert!(email.get("Default").is_none(), "AlarmEmail must be asked for at deploy: {email:?}");
    // The same rule as the sender's address, which cannot be empty.
    assert_eq!(text(&email["AllowedPattern"]), text(&t["Parameters"]["EmailSender"]["AllowedPattern"]));
    let subscription = &t["Resources"]["AlarmEmailSubscription"];
    assert!(subscription.get("Condition").is_none(), "the alarm topic always has its subscriber");
    assert_eq!(text(&subscription["Properties"]["Endpoint"]).trim(), "AlarmEmail");
    assert_eq!(text(&subscription["Properties"]["TopicArn"]).trim(), "AlarmTopic");
}

#[test]
fn a_morning_release_queues_for_most_of_each_run() {
    // A release run stops 30 s before its end (functions/aws/src/handlers/release.rs) and
    // continues under a schedule a minute later: the share of time spent queueing is
    // (timeout - 30) / (timeout + 60).
    let t = template();
    let global = number(&t["Globals"]["Function"]["Timeout"]);
    let release = t["Resources"]["ReleaseFunction"]["Properties"].get("Timeout").map(number).unwrap_or(global);
    let share = (release as f64 - 30.0) / (release as f64 + 60.0);
    assert!(share > 0.9, "the release queues {:.0} % of the time with a {release} s timeout", share * 100.0);
    let handler = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/aws/src/handlers/release.rs")).unwrap();
    assert!(handler.contains("Duration::from_secs(30)"), "the margin this test assumes");
}

#[test]
fn the_sms_rate_left_at_its_default_is_not_above_any_registered_numbers() {
    // A toll-free number sends 3 parts a second; paced above its rate, texts are throttled.
    let t = template();
    assert!(number(&t["Parameters"]["SmsPartsPerSecond"]["Default"]) <= 3);
}

#[test]
fn only_the_release_groups_schedules_can_act_as_the_scheduler_role() {
    let t = template();
    let trust = &t["Resources"]["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(text(&trust["Principal"]["Service"]), "scheduler.amazonaws.com");
    let conditions = &trust["Condition"]["StringEquals"];
    assert_eq!(text(&conditions["aws:SourceAccount"]).trim(), "AWS::AccountId");
    assert_eq!(list(&conditions["aws:SourceArn"]), ["ReleaseScheduleGroup.Arn"]);
    // And every schedule the functions create is in that group (the role is passed to no other).
    let functions: Vec<_> = t["Resources"].as_mapping().unwrap().iter().filter(|(_, r)| text(&r["Type"]) == "AWS::Serverless::Function").collect();
    let mut creating = 0;
    for (name, f) in functions {
        for s in f["Properties"]["Policies"][0]["Statement"].as_sequence().into_iter().flatten() {
            if list(&s["Action"]).iter().any(|a| a == "scheduler:CreateSchedule") {
                creating += 1;
                let resource = text(&s["Resource"]);
                assert!(resource.contains(":schedule/${ReleaseScheduleGroup}/"), "{name:?}: {resource}");
            }
        }
    }
    assert!(creating >= 3, "the functions that hold messages create release schedules: {creating}");
}
