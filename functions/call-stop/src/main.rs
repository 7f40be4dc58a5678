//! Lambda: pressing 9 during a ballot call stops calls to that phone (invoked by the contact flow).

use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    app.settings.require_access()?;
    run(service_fn(|event| wmb_aws::handlers::call_stop::handle(&app, event))).await
}
