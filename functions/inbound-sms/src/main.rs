//! Lambda: inbound texts (SNS topic of two-way SMS): STOP, START and HELP, answered once each.

use lambda_runtime::{run, service_fn, tracing, Error};
use wmb_aws::senders::SnsSms;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    app.settings.require_access()?;
    let replies = SnsSms { client: wmb_aws::send_retries::sns_client(&app.sdk), origination_number: app.settings.sms_origination_number.clone() };
    run(service_fn(|event| wmb_aws::handlers::inbound_sms::handle(&app, &replies, event))).await
}
