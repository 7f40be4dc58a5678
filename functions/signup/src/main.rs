//! Lambda: POST /signup (API Gateway HTTP API).

use lambda_http::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = wmb_aws::App::from_env().await?;
    run(service_fn(|request| wmb_aws::handlers::signup::handle(&app, request))).await
}
