//! Lambda: delivery receipts. SES's delivery, bounce and complaint events (through an SNS topic)
//! and SNS's SMS delivery status logs (a CloudWatch Logs subscription) go into the ledger; a hard
//! bounce, a complaint or a dead number stops that channel.

use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    app.settings.require_access()?;
    run(service_fn(|event| wmb_aws::handlers::receipts::handle(&app, event))).await
}
