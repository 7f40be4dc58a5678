//! Lambda: inbound texts (SNS topic of two-way SMS): STOP, START and HELP, answered once each.

use lambda_runtime::{run, service_fn, tracing, Error};
use wmb_aws::senders::SnsSms;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    app.settings.require_access()?;
    // The SDK's own retries: a second copy of a reply does no harm (see `send_retries`).
    let replies = SnsSms { client: aws_sdk_sns::Client::new(&app.sdk), origination_number: app.settings.sms_origination_number.clone() };
    run(service_fn(|event| wmb_aws::handlers::inbound_sms::handle(&app, &replies, event))).await
}
