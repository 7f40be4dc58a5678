//! Delivery: a channel queue's messages → still current? already sent? → the provider, at the
//! configured rate. A throttled or failing send is held and retried with backoff; a permanent
//! failure is recorded with its reason; a message that cannot be handled at all is reported as
//! a batch item failure, so SQS retries it and, in the end, moves it to the dead-letter queue.

use crate::app::{App, BoxError};
use crate::events::{counted, DeliveryCount, MessagesDelivered};
use crate::settings::Settings;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use std::sync::Mutex;
use std::time::Instant;
use wmb_core::notify::Notification;
use wmb_core::pacing::TokenBucket;
use wmb_core::pipeline::Tally;
use wmb_core::ports::{DeliveryError, Dispatcher, NotificationQueue, OutgoingMessage};
use wmb_core::status::Channel;
use wmb_core::templates::sms_segments;

/// Paces sends to this instance's share of the provider's rate.
pub struct Pacer {
    bucket: Mutex<TokenBucket>,
    start: Instant,
}

impl Pacer {
    /// `rate` sends (SMS parts) per second for this instance.
    pub fn new(rate: f64) -> Self {
        Pacer { bucket: Mutex::new(TokenBucket::new(rate, 1.0)), start: Instant::now() }
    }

    /// SEND_RATE_PER_SECOND shared among DELIVERY_CONCURRENCY instances.
    pub fn from_env() -> Result<Pacer, BoxError> {
        let rate = Settings::number("SEND_RATE_PER_SECOND")?;
        let concurrency = Settings::number("DELIVERY_CONCURRENCY").unwrap_or(1.0);
        Ok(Pacer::new(rate / concurrency))
    }

    pub async fn wait(&self, cost: f64) {
        let delay = {
            let mut b = self.bucket.lock().expect("pacer poisoned");
            b.take(self.start.elapsed().as_secs_f64(), cost)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// A dispatcher that waits its turn before each send (an SMS costs its segments), and notes
/// what became of each send: (channel, language, "sent" | "throttled" | "failed").
pub struct Paced<'a, D> {
    pub inner: &'a D,
    pub pacer: &'a Pacer,
    pub sends: Mutex<Vec<(&'static str, &'static str, &'static str)>>,
}

impl<D: Dispatcher> Dispatcher for Paced<'_, D> {
    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        let cost = match msg.channel {
            Channel::Sms => sms_segments(&msg.rendered.text).1.max(1) as f64,
            _ => 1.0,
        };
        self.pacer.wait(cost).await;
        let result = self.inner.dispatch(msg).await;
        let outcome = match &result {
            Ok(_) => "sent",
            Err(DeliveryError::Throttled) => "throttled",
            Err(_) => "failed",
        };
        if let Ok(mut sends) = self.sends.lock() {
            sends.push((msg.channel.as_str(), msg.language.code(), outcome));
        }
        result
    }

    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool {
        self.inner.receipts_find_it_by_id(msg)
    }
}

/// Time kept back at the end of an invocation (the function's timeout is 60 s): a message not
/// started by then goes back to its queue.
const STOP_MARGIN: std::time::Duration = std::time::Duration::from_secs(15);

pub async fn handle<D: Dispatcher>(app: &App, sender: &D, pacer: &Pacer, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, BoxError> {
    let paced = Paced { inner: sender, pacer, sends: Mutex::new(vec![]) };
    let config = app.config().await;
    let pipeline = app.pipeline(&config, &paced);
    let mut tally = Tally::default();
    let mut response = SqsBatchResponse::default();
    let mut outcomes: Vec<(&'static str, &'static str, &'static str)> = vec![];
    let deadline = event.context.deadline;
    let out_of_time = || deadline > 0 && super::time_left(deadline) < STOP_MARGIN;
    let mut put_back = vec![];
    for message in event.payload.records {
        let id = message.message_id.clone().unwrap_or_default();
        if out_of_time() {
            put_back.push(message);
            continue;
        }
        let span = tracing::info_span!("message", message_id = %id);
        let _guard = span.enter();
        let before = tally.clone();
        let result: Result<Option<Notification>, BoxError> = async {
            let body = message.body.as_deref().ok_or("an SQS message without a body")?;
            let n: Notification = serde_json::from_str(body)?;
            pipeline.deliver(n.clone(), app.now(), &mut tally).await?;
            Ok(Some(n))
        }
        .await;
        match result {
            Ok(Some(n)) => {
                let outcome = if tally.sent != before.sent {
                    "sent"
                } else if tally.failed != before.failed {
                    "failed"
                } else if tally.retried != before.retried || tally.held != before.held {
                    "held"
                } else {
                    "skipped"
                };
                outcomes.push((n.channel.as_str(), n.kind.key(), outcome));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "delivery failed; SQS retries the message");
                response.batch_item_failures.push(failure_of(id));
            }
        }
    }
    // Messages a slow batch (a channel's share of its rate spread thin) had no time for go back
    // to their queue as new messages, acknowledged here: reported as failures they would count a
    // receive each time, and the fifth would send them to the dead-letter queue unsent. The
    // ledger keeps any from going twice.
    let mut requeued = vec![];
    for message in put_back {
        let id = message.message_id.clone().unwrap_or_default();
        let notification: Option<Notification> = message.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
        match notification {
            Some(n) if app.queues.enqueue(&n).await.is_ok() => requeued.push(id),
            _ => response.batch_item_failures.push(failure_of(id)),
        }
    }
    if !requeued.is_empty() {
        match app.queues.flush().await {
            Ok(_) => tracing::info!(messages = requeued.len(), "out of time: messages put back on their queue"),
            Err(e) => {
                tracing::error!(error = %e, "out of time, and the queue refused them: SQS retries them");
                response.batch_item_failures.extend(requeued.into_iter().map(failure_of));
            }
        }
    }
    // One event per invocation, with counts: no message key, no voter.
    if !outcomes.is_empty() {
        let deliveries = counted(outcomes.clone(), |(channel, message, outcome), count| DeliveryCount { channel, message, outcome, count });
        app.events.publish("MessagesDelivered", &MessagesDelivered { deliveries });
    }
    // Metrics: sends by channel and language, throttles by channel, and what became of each message.
    let at = app.now().timestamp_millis();
    let sends = paced.sends.lock().map(|s| s.clone()).unwrap_or_default();
    app.metrics.emit_counts(at, &["Channel", "Language"], &[&["Channel"], &["Channel", "Language"]], "MessagesSent", sends.iter().filter(|s| s.2 == "sent").map(|s| (s.0, s.1)), |(c, l)| vec![c.to_string(), l.to_string()]);
    app.metrics.emit_counts(at, &["Channel"], &[&["Channel"]], "ProviderThrottles", sends.iter().filter(|s| s.2 == "throttled").map(|s| s.0), |c| vec![c.to_string()]);
    for (outcome, metric) in [("failed", "MessagesFailed"), ("held", "MessagesRetried"), ("skipped", "MessagesSkipped")] {
        app.metrics.emit_counts(at, &["Channel"], &[&["Channel"]], metric, outcomes.iter().filter(|o| o.2 == outcome).map(|o| o.0), |c| vec![c.to_string()]);
    }
    // The messages' counts for the counties' summaries are in their ledger outcomes; news that
    // reached no one (a held notice that found every channel stopped) is counted here.
    let mut not_reached = tally.county_days.take();
    not_reached.retain(|name| name.starts_with("not_reached/"));
    if !not_reached.is_empty() {
        app.store.add_county_days(&not_reached).await;
    }
    app.events.flush().await;
    tracing::info!(sent = ?tally.sent, failed = tally.failed, retried = tally.retried, duplicates = tally.duplicates, superseded = tally.superseded, "delivery done");
    Ok(response)
}

fn failure_of(message_id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = message_id;
    failure
}
