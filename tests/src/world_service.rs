//! The world as the voters and the counties meet it: the API's requests and inbound texts through
//! the Lambda handlers (the [`VoterService`] the voters' story is told against), what reached
//! each phone and inbox, and the counties' daily summaries.

use crate::harness::repo_path;
use crate::permissions::acting;
use crate::scenario::{Answer, Email, VoterService};
use crate::world::World;
use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use std::collections::BTreeMap;

impl World {
    /// Runs the morning job for each of these days (`NN/daily/<date>.csv` paths) and reads back
    /// what it wrote at those paths.
    pub async fn daily_summaries<'a>(&self, paths: impl IntoIterator<Item = &'a String>) -> BTreeMap<String, String> {
        let paths: Vec<&String> = paths.into_iter().collect();
        let dates: std::collections::BTreeSet<&str> = paths.iter().filter_map(|p| p.rsplit('/').next()?.strip_suffix(".csv")).collect();
        for date in dates {
            let event = wmb_aws::handlers::daily_summary::DailySummaryEvent { date: Some(date.parse().unwrap()) };
            acting("DailySummaryFunction", wmb_aws::handlers::daily_summary::handle(&self.app, LambdaEvent::new(event, Context::default()))).await.expect("daily summary");
        }
        self.reports(paths).await
    }

    /// These reports (paths under `reports/`) as they are in the bucket now; empty if missing.
    pub async fn reports<'a>(&self, paths: impl IntoIterator<Item = &'a String>) -> BTreeMap<String, String> {
        let mut got = BTreeMap::new();
        for p in paths {
            let text = wmb_aws::s3io::get_text(&self.s3, &self.app.settings.bucket, &format!("reports/{p}")).await.unwrap().unwrap_or_default();
            got.insert(p.clone(), text);
        }
        got
    }
}

impl VoterService for World {
    async fn call(&mut self, method: &str, path: &str, query: &str, body: &str) -> Answer {
        let mut event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(repo_path("events/lambda/signup-apigw.json")).unwrap()).unwrap();
        event["body"] = body.into();
        event["rawPath"] = path.into();
        event["rawQueryString"] = query.into();
        event["routeKey"] = format!("{method} {path}").into();
        event["requestContext"]["http"]["method"] = method.into();
        event["requestContext"]["http"]["path"] = path.into();
        let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway HTTP API event");
        let response = acting("SignupFunction", wmb_aws::handlers::signup::handle(&self.app, &self.codes, request)).await.expect("the API answers");
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let body = match response.body() {
            lambda_http::Body::Text(t) => t.clone(),
            other => String::from_utf8_lossy(other.as_ref()).into_owned(),
        };
        let answer = Answer { method: method.into(), path: path.into(), status: response.status().as_u16(), content_type, body };
        self.answers.push(answer.clone());
        answer
    }

    async fn text_in(&mut self, from: &str, body: &str, message_id: &str) {
        let event = inbound_text_event(from, body, message_id, self.app.now());
        acting("InboundSmsFunction", wmb_aws::handlers::inbound_sms::handle(&self.app, &self.codes.sms, LambdaEvent::new(event, Context::default()))).await.expect("inbound text handled");
    }

    async fn arrive(&mut self, kind: &str, file: &str, when: DateTime<Utc>) -> Vec<String> {
        World::arrive(self, kind, file, when).await;
        let report = format!("{}/{kind}/{file}", crate::world::source_of(kind));
        let text = wmb_aws::s3io::get_text(&self.s3, &self.app.settings.bucket, &wmb_aws::s3io::report_key(&report)).await.unwrap().expect("the file's report");
        text.lines().skip(1).map(|l| l.splitn(3, ',').take(2).collect::<Vec<_>>().join(",")).collect()
    }

    async fn settle(&mut self, until: DateTime<Utc>) {
        self.pump().await;
        self.release_until(until).await;
        self.app.set_now(until.max(self.app.now()));
        self.pump().await;
    }

    fn set_now(&mut self, when: DateTime<Utc>) {
        self.app.set_now(when);
    }

    fn texts_to(&self, phone: &str) -> Vec<String> {
        self.moto.sms().into_iter().filter(|(to, _)| to == phone).map(|(_, m)| m).collect()
    }

    fn emails_to(&self, address: &str) -> Vec<Email> {
        self.moto.emails().into_iter().filter(|(to, _, _)| to == address).map(|(_, subject, html)| Email { subject, html, list_unsubscribe: None }).collect()
    }

    fn answers(&self) -> Vec<Answer> {
        self.answers.clone()
    }
}

/// The SNS event of a text `from` a phone, as two-way SMS publishes it (`events/lambda/inbound-sms-sns.json`),
/// published at `sent`.
fn inbound_text_event(from: &str, body: &str, message_id: &str, sent: DateTime<Utc>) -> aws_lambda_events::event::sns::SnsEvent {
    let mut event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(repo_path("events/lambda/inbound-sms-sns.json")).unwrap()).unwrap();
    let mut message: serde_json::Value = serde_json::from_str(event["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    message["originationNumber"] = from.into();
    message["messageBody"] = body.into();
    message["inboundMessageId"] = message_id.into();
    event["Records"][0]["Sns"]["Message"] = message.to_string().into();
    event["Records"][0]["Sns"]["Timestamp"] = sent.to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into();
    serde_json::from_value(event).unwrap()
}
