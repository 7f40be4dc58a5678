//! Lambda: ingest county files (S3 ObjectCreated, and its own continuations for large files).

use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    // A signups file names its contacts in the contact index.
    app.settings.require_access()?;
    run(service_fn(|event| wmb_aws::handlers::ingest::handle(&app, event))).await
}
