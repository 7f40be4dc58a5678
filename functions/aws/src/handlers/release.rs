//! Release: EventBridge Scheduler fires one schedule per release bucket (a minute); the messages
//! held for that minute go to their channel queues, then leave the held table. A bucket too big
//! for one invocation continues under a new schedule a minute later.

use crate::app::{App, BoxError};
use crate::held_store::{keys_of_bucket, parse_bucket, schedule_name};
use futures::StreamExt;
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a release schedule sends: one bucket; or, invoked by an operator (no schedule sends it),
/// "every bucket of the last N minutes", to release minutes whose schedule was lost.
#[derive(Debug, Deserialize, Serialize, Default)]
pub struct ReleaseEvent {
    /// The release bucket, e.g. `2026-10-21T15:00Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_minutes: Option<i64>,
    /// A release run again after a failure: the how-manyth time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
}

#[derive(Debug, Serialize, Default, PartialEq, Eq)]
pub struct ReleaseOutcome {
    pub released: usize,
    pub complete: bool,
}

pub async fn handle(app: &App, event: LambdaEvent<ReleaseEvent>) -> Result<ReleaseOutcome, BoxError> {
    let (payload, context) = (event.payload, event.context);
    if let Some(bucket) = payload.bucket {
        return release_bucket(app, bucket, payload.retry.unwrap_or(0), &context).await;
    }
    let minutes = payload.sweep_minutes.ok_or("a release event names a bucket or sweep_minutes")?;
    let now = app.now();
    let mut total = ReleaseOutcome { released: 0, complete: true };
    for m in (0..=minutes).rev() {
        let bucket = crate::held_store::release_bucket(now - chrono::Duration::minutes(m + 1));
        let outcome = release_bucket(app, bucket, 0, &context).await?;
        total.released += outcome.released;
        total.complete &= outcome.complete;
    }
    if total.released > 0 {
        tracing::warn!(released = total.released, "the sweep released messages whose schedule was lost");
    }
    Ok(total)
}

async fn release_bucket(app: &App, bucket: String, retry: u32, context: &lambda_runtime::Context) -> Result<ReleaseOutcome, BoxError> {
    parse_bucket(&bucket).ok_or_else(|| format!("'{bucket}' is not a release bucket"))?;
    let deadline = context.deadline;
    let out_of_time = || deadline > 0 && super::time_left(deadline) < Duration::from_secs(30);
    // The shards of the minute, eight at a time; each a page at a time: queued, then deleted (a
    // crash between the two re-queues the page on the next run; the ledger keeps those messages
    // from going out twice).
    // (and the minute's unsharded key, where messages held before shards existed wait).
    let keys = keys_of_bucket(&bucket);
    let results: Vec<Result<(usize, bool), BoxError>> = futures::stream::iter(keys)
        .map(|key| {
            async move {
                // A queue of its own: what one shard deletes must be what it put on the queues.
                let queues = crate::queue::SqsQueues::new(app.queues.client.clone(), &app.settings);
                let mut released = 0;
                loop {
                    let page = app.store.held_page(&key, 500).await?;
                    if page.is_empty() {
                        return Ok((released, true));
                    }
                    for item in &page {
                        use wmb_core::ports::NotificationQueue;
                        queues.enqueue(&item.notification).await?;
                    }
                    queues.flush().await?;
                    app.store.forget_held(&page).await?;
                    released += page.len();
                    if out_of_time() {
                        return Ok((released, false));
                    }
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut released = 0;
    let mut complete = true;
    let mut failed = None;
    for r in results {
        match r {
            Ok((n, done)) => {
                released += n;
                complete &= done;
            }
            Err(e) => failed = Some(e),
        }
    }
    // A shard that failed (DynamoDB or SQS throttled through the SDK's retries at 08:00, say)
    // is released again by a schedule of its own, backing off: Lambda's own two retries come
    // within two minutes, and would leave the minute's messages to an operator's sweep.
    if let Some(e) = failed {
        if let Some(after) = wmb_core::hours::release_retry_after(retry) {
            continue_later(app, &bucket, &context.invoked_function_arn, after, retry + 1, true).await?;
            tracing::warn!(bucket = %bucket, released, retry = retry + 1, error = %e, "release failed in part; it runs again under a new schedule");
            return Ok(ReleaseOutcome { released, complete: false });
        }
        return Err(e);
    }
    // How late the minute's messages left: the alarm on ReleaseLagSeconds watches the maximum.
    if let Some(minute) = parse_bucket(&bucket) {
        let lag = (app.now() - minute).num_milliseconds().max(0) as f64 / 1000.0;
        app.metrics.emit(app.now().timestamp_millis(), &[], &[&[]], &[("ReleaseLagSeconds", crate::metrics::seconds(lag)), ("MessagesReleased", crate::metrics::count(released as u64))]);
    }
    if !complete {
        continue_later(app, &bucket, &context.invoked_function_arn, chrono::Duration::minutes(1), retry, false).await?;
        tracing::info!(bucket = %bucket, released, "release continues under a new schedule");
    } else {
        tracing::info!(bucket = %bucket, released, "release done");
    }
    Ok(ReleaseOutcome { released, complete })
}

/// Schedules the bucket's release again `after` from now: a retry after a failure (named by its
/// number, `is_retry`), or the rest of a bucket too big for one run; either carries the count of
/// retries so far, so a retry's number is never used twice for a bucket.
async fn continue_later(app: &App, bucket: &str, own_arn: &str, after: chrono::Duration, retry: u32, is_retry: bool) -> Result<(), BoxError> {
    let sch = &app.store.scheduling;
    let at = app.now() + after;
    // A retry is named by its number: a failed run delivered twice schedules it once.
    let name = match is_retry {
        true => format!("{}-r{retry}", schedule_name(bucket)),
        false => format!("{}-c{}", schedule_name(bucket), at.timestamp()),
    };
    let retry = (retry > 0).then_some(retry);
    let mut target = aws_sdk_scheduler::types::Target::builder()
        .arn(own_arn)
        .role_arn(&sch.role_arn)
        .input(serde_json::to_string(&ReleaseEvent { bucket: Some(bucket.to_string()), sweep_minutes: None, retry })?)
        .retry_policy(aws_sdk_scheduler::types::RetryPolicy::builder().maximum_retry_attempts(185).maximum_event_age_in_seconds(86_400).build());
    if let Some(dlq) = &sch.dlq_arn {
        target = target.dead_letter_config(aws_sdk_scheduler::types::DeadLetterConfig::builder().arn(dlq).build());
    }
    let target = target.build()?;
    let created = sch
        .client
        .create_schedule()
        .name(name)
        .group_name(&sch.group)
        .schedule_expression(format!("at({})", at.format("%Y-%m-%dT%H:%M:%S")))
        .schedule_expression_timezone("UTC")
        .flexible_time_window(aws_sdk_scheduler::types::FlexibleTimeWindow::builder().mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off).build()?)
        .action_after_completion(aws_sdk_scheduler::types::ActionAfterCompletion::Delete)
        .target(target)
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        // Another worker on the same minute (a schedule fired twice) scheduled it already.
        Err(e) if e.as_service_error().is_some_and(|se| se.is_conflict_exception()) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
