//! Lambda: deliver voice calls (Amazon Connect) from the voice queue, at the configured rate.

use lambda_runtime::{run, service_fn, tracing, Error};
use wmb_aws::handlers::deliver::{handle, Pacer};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    // Without Connect (no CONNECT_INSTANCE_ID), each call is recorded as failed, with the
    // reason, instead of every message going to the dead-letter queue.
    let caller = wmb_voice::MaybeVoice::from_app(&app);
    let pacer = Pacer::from_env()?;
    run(service_fn(|event| handle(&app, &caller, &pacer, event))).await
}
