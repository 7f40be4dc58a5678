//! Lambda: the journeys table's stream → messages on each chosen channel, now or held.

use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    run(service_fn(|event| wmb_aws::handlers::fanout::handle(&app, event))).await
}
