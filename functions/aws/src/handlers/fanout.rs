//! Fan-out: each journey the stream shows changed → the milestones it newly decided → one
//! notification per chosen channel, queued now or held for the voter's hours.
//!
//! Records are handled in order; the first that fails is reported by sequence number, so the
//! stream retries from there (what came before it is done). Re-delivered records decide nothing
//! new that was not already queued, and the ledger keeps any message from going out twice.

use crate::app::{App, BoxError, NoSends};
use crate::dynamo::JourneyItem;
use crate::events::{counted, MilestoneCount, MilestonesDecided};
use crate::metrics::count;
use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::LambdaEvent;
use wmb_core::pipeline::Tally;
use wmb_core::status::MessageKind;

fn image(item: serde_dynamo::Item) -> Result<Option<JourneyItem>, BoxError> {
    if item.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_dynamo::from_item(item)?))
}

pub async fn handle(app: &App, event: LambdaEvent<Event>) -> Result<DynamoDbEventResponse, BoxError> {
    let config = app.config().await;
    let pipeline = app.pipeline(&config, &NoSends);
    let mut tally = Tally::default();
    let mut response = DynamoDbEventResponse::default();
    let mut done = 0usize;
    let mut decided_here: Vec<(String, &'static str)> = vec![];
    for record in event.payload.records {
        let sequence = record.change.sequence_number.clone();
        let span = tracing::info_span!("record", sequence = sequence.as_deref().unwrap_or("-"));
        let _guard = span.enter();
        let result: Result<(), BoxError> = async {
            if record.event_name == "REMOVE" {
                return Ok(());
            }
            let Some(new) = image(record.change.new_image)? else { return Ok(()) };
            // A write that decided nothing (the event source's filter drops these too).
            if new.decided == Some(0) {
                return Ok(());
            }
            let old = image(record.change.old_image)?;
            let decided = new.journey.new_since(old.as_ref().map(|o| &o.journey));
            decided_here.extend(decided.iter().map(|d| (new.journey.county.code(), MessageKind::from(d.milestone).key())));
            // The time of this record's handling (a batch can take a while).
            pipeline.fan_out(&new.journey, decided, app.now(), &mut tally).await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "fan-out failed; the stream retries from this record");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence;
            response.batch_item_failures.push(failure);
            break;
        }
        done += 1;
    }
    // News that reached no one, counted for its county (whether or not the batch is retried:
    // each milestone counts once, so a retry would not count it again).
    app.store.add_county_days(&tally.county_days.take()).await;
    // What is reported done must be on its queue before we answer.
    if let Err(e) = app.queues.flush().await {
        tracing::error!(error = %e, "queueing failed; the whole batch is retried");
        return Err(e.into());
    }
    // The bus hears counts, never a voter's status.
    if !decided_here.is_empty() {
        app.events.publish(
            "MilestonesDecided",
            &MilestonesDecided {
                milestones: counted(decided_here.clone(), |(county, milestone), count| MilestoneCount { county, milestone, count }),
                queued: tally.queued,
                held: tally.held,
                too_late: tally.too_late,
                not_subscribed: tally.not_subscribed,
                moved_county: tally.moved_county,
                not_enrolled: tally.not_enrolled,
            },
        );
    }
    let at = app.now().timestamp_millis();
    app.metrics.emit_counts(at, &["Milestone"], &[&["Milestone"], &[]], "MilestonesDecided", decided_here.iter().map(|(_, m)| *m), |m| vec![m.to_string()]);
    app.metrics.emit(at, &[], &[&[]], &[("MessagesQueued", count(tally.queued)), ("MessagesHeld", count(tally.held)), ("MessagesTooLate", count(tally.too_late))]);
    app.events.flush().await;
    tracing::info!(records = done, queued = tally.queued, held = tally.held, not_subscribed = tally.not_subscribed, "fan-out done");
    Ok(response)
}
