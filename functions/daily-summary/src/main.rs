//! Lambda: each morning (a Scheduler cron), each county's summary of the day before, written to
//! `reports/<NN>/daily/<date>.csv`.

use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    run(service_fn(|event| wmb_aws::handlers::daily_summary::handle(&app, event))).await
}
