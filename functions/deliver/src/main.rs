//! Lambda: deliver SMS (SNS) or email (SES v2) from the channel's queue, at the configured rate.

use lambda_runtime::{run, service_fn, tracing, Error};
use wmb_aws::handlers::deliver::{handle, Pacer};
use wmb_aws::senders::ChannelSender;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    let sender = ChannelSender::from_app(&app)?;
    let pacer = Pacer::from_env()?;
    run(service_fn(|event| handle(&app, &sender, &pacer, event))).await
}
