//! Lambda: release the messages held for a release time (invoked by EventBridge Scheduler).

use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    run(service_fn(|event| wmb_aws::handlers::release::handle(&app, event))).await
}
