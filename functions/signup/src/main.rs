//! Lambda: the voters' API (API Gateway HTTP API): sign up, change, stop, codes, unsubscribe.

use lambda_http::{run, service_fn, tracing, Error};
use wmb_aws::senders::ByChannel;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    app.settings.require_access()?;
    let codes = ByChannel::from_app(&app, wmb_voice::MaybeVoice::from_app(&app));
    run(service_fn(|request| wmb_aws::handlers::signup::handle(&app, &codes, request))).await
}
