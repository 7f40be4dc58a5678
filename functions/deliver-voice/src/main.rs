//! Lambda: deliver voice calls (Amazon Connect) from the voice queue, at the configured rate.

use lambda_runtime::{run, service_fn, tracing, Error};
use wmb_aws::handlers::deliver::{handle, Pacer};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    let caller = wmb_voice::ConnectVoice::from_app(&app)?;
    let pacer = Pacer::from_env()?;
    run(service_fn(|event| handle(&app, &caller, &pacer, event))).await
}
