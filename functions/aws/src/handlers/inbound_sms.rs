//! Inbound texts: two-way SMS (AWS End User Messaging SMS or SNS) publishes each text a voter
//! sends to an SNS topic; this handler takes STOP, START and HELP (see
//! [`wmb_core::optout::keyword`]) and answers once per inbound message.

use crate::app::{App, BoxError};
use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use wmb_core::ports::Dispatcher;

/// The inbound message End User Messaging SMS (and SNS two-way SMS) publishes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundText {
    pub origination_number: String,
    pub message_body: String,
    #[serde(default)]
    pub inbound_message_id: String,
}

pub async fn handle<D: Dispatcher>(app: &App, replies: &D, event: LambdaEvent<SnsEvent>) -> Result<(), BoxError> {
    let mut tally = wmb_core::pipeline::Tally::default();
    for record in event.payload.records {
        // Fixed text: the message holds a phone number.
        let text: InboundText = serde_json::from_str(&record.sns.message).map_err(|_| "an inbound SMS notification is not the expected JSON")?;
        // Without the provider's id, the SNS message id makes the answer once-only.
        let id = if text.inbound_message_id.is_empty() { record.sns.message_id.clone() } else { text.inbound_message_id.clone() };
        let config = app.config().await;
        // When SNS published it (two-way SMS publishes each text as it comes): texts are handled
        // in no set order, and a START sent before a STOP does not undo it.
        let outcome = app.pipeline(&config, replies).inbound_text_sent(&text.origination_number, &text.message_body, &id, record.sns.timestamp, app.now(), &mut tally).await;
        // (What changed before a failure is counted; the retried text finds it done.)
        app.store.add_county_days(&tally.county_days.take()).await;
        let outcome = outcome?;
        tracing::info!(keyword = ?outcome.keyword, changed = outcome.changed, replied = ?outcome.replied, "inbound text");
    }
    Ok(())
}
