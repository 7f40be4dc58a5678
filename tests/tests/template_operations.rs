//! What the cloud team relies on when it runs an election on the stack, read from
//! infra/template.yaml: alarms that reach someone, a morning release that is not slowed by its
//! own timeout, a texting rate that is not above the number's, a scheduler role that only
//! the release schedules can use, and a call flow whose 9 reaches the function that stops calls.

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

#[test]
fn the_call_flow_reads_what_the_deliverer_sets_and_its_9_stops_calls_and_says_so() {
    // Amazon Connect is not emulated here: the flow is held to the Flow language's rules that
    // can be read (every transition to an action that exists, an error path out of every action
    // that can fail, a single-key condition) and to the names the functions use.
    let t = template();
    let flow = &t["Resources"]["CallFlow"];
    assert_eq!(text(&flow["Condition"]), "CreateCallFlow");
    let content: serde_json::Value = serde_json::from_str(&text(&flow["Properties"]["Content"])).expect("the flow is JSON");
    assert_eq!(content["Version"], "2019-10-30");
    let actions = content["Actions"].as_array().unwrap();
    let ids: Vec<&str> = actions.iter().map(|a| a["Identifier"].as_str().unwrap()).collect();
    assert!(ids.contains(&content["StartAction"].as_str().unwrap()));
    for id in &ids {
        assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "{id} twice");
        assert!(id.len() <= 50 && !id.contains(['%', ':', '(', '\\', '/', ')', '=', '$', ',', ';', '[', ']', '{', '}']), "{id}");
    }
    let by_id = |id: &str| actions.iter().find(|a| a["Identifier"] == id).unwrap_or_else(|| panic!("no action {id}"));
    for a in actions {
        let tr = &a["Transitions"];
        let mut next: Vec<&str> = tr["NextAction"].as_str().into_iter().collect();
        for list in [&tr["Errors"], &tr["Conditions"]] {
            next.extend(list.as_array().into_iter().flatten().map(|e| e["NextAction"].as_str().unwrap()));
        }
        for n in next {
            by_id(n);
        }
        let errors: Vec<&str> = tr["Errors"].as_array().into_iter().flatten().map(|e| e["ErrorType"].as_str().unwrap()).collect();
        match a["Type"].as_str().unwrap() {
            "DisconnectParticipant" => assert_eq!(tr, &serde_json::json!({})),
            "UpdateFlowLoggingBehavior" => assert!(tr["Errors"].is_null(), "{a}"),
            "Compare" => assert!(errors.contains(&"NoMatchingCondition"), "{a}"),
            _ => assert!(errors.contains(&"NoMatchingError"), "{a}"),
        }
    }
    // No flow logs: a call's text names the voter's ballot and county
    assert_eq!(by_id(content["StartAction"].as_str().unwrap())["Parameters"]["FlowLoggingBehavior"], "Disabled");
    // A code call is read and offers no stop: neither of the code kinds reaches a listening action
    let kind = actions.iter().find(|a| a["Parameters"]["ComparisonValue"] == "$.Attributes.wmb_message").expect("calls told apart by their message");
    for code in ["verification_code", "account_code"] {
        let branch = kind["Transitions"]["Conditions"].as_array().unwrap().iter().find(|c| c["Condition"]["Operands"] == serde_json::json!([code])).expect(code);
        let said = by_id(branch["NextAction"].as_str().unwrap());
        assert_eq!((said["Type"].as_str(), said["Transitions"]["NextAction"].as_str()), (Some("MessageParticipant"), Some("hang up")), "{code}");
    }
    // The call is read or played while the keys are listened for (once more after another key),
    // and its 9 invokes the function
    // (The code's own lines, not its tests': a test naming an attribute proves nothing.)
    let code_of = |text: String| text.split("#[cfg(test)]").next().unwrap().to_string();
    let deliverer = code_of(std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/deliver-voice/src/lib.rs")).unwrap());
    let listening: Vec<&serde_json::Value> = actions.iter().filter(|a| a["Type"] == "GetParticipantInput").collect();
    assert_eq!(listening.len(), 4, "a read call and a recorded one, each twice at most");
    for a in &listening {
        let said = a["Parameters"]["Text"].as_str().or(a["Parameters"]["PromptId"].as_str()).unwrap();
        let attribute = said.strip_prefix("$.Attributes.").unwrap();
        assert!(deliverer.contains(&format!("\"{attribute}\"")), "the deliverer sets no {attribute}");
        let on_9 = a["Transitions"]["Conditions"].as_array().unwrap().iter().find(|c| c["Condition"]["Operands"] == serde_json::json!(["9"])).expect("a 9");
        let invoke = by_id(on_9["NextAction"].as_str().unwrap());
        assert_eq!((invoke["Type"].as_str(), invoke["Parameters"]["LambdaFunctionARN"].as_str()), (Some("InvokeLambdaFunction"), Some("${CallStopFunction.Arn}")));
        assert!(invoke["Parameters"]["InvocationTimeLimitSeconds"].as_str().unwrap().parse::<u32>().unwrap() <= 8);
    }
    // A voice from Polly's neural engine (the voices named for Hindi and Japanese have no other)
    for a in actions.iter().filter(|a| a["Type"] == "UpdateContactTextToSpeechVoice") {
        assert_eq!(a["Parameters"]["TextToSpeechEngine"], "Neural", "{a}");
    }
    for attribute in ["wmb_mode", "wmb_voice", "wmb_message"] {
        assert!(deliverer.contains(&format!("\"{attribute}\"")), "the deliverer sets no {attribute}");
    }
    // What the call says after a 9 is what the function answers
    let handler = code_of(std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions/aws/src/handlers/call_stop.rs")).unwrap());
    let raw = text(&flow["Properties"]["Content"]);
    for answer in raw.split("$.External.").skip(1).map(|rest| rest.split('"').next().unwrap()) {
        assert!(handler.contains(&format!("\"{answer}\"")), "the function answers no {answer}");
    }
    // The function may be invoked by this instance's flows only, and gets no more time than Connect waits
    let permission = &t["Resources"]["CallStopConnectPermission"]["Properties"];
    assert_eq!(text(&permission["Principal"]), "connect.amazonaws.com");
    assert!(text(&permission["SourceArn"]).ends_with(":instance/${ConnectInstanceId}"));
    assert!(number(&t["Resources"]["CallStopFunction"]["Properties"]["Timeout"]) <= 8);
}
