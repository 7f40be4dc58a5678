//! Where's My Ballot on AWS: the core's ports over DynamoDB, SQS, SES v2, SNS, EventBridge,
//! EventBridge Scheduler and S3, and the Lambda handlers. Adapters translate; the core decides.

pub mod access_store;
pub mod app;
pub mod county_days_store;
pub mod dynamo;
pub mod events;
pub mod handlers;
pub mod held_store;
pub mod kept_store;
pub mod ledger_store;
pub mod metrics;
pub mod queue;
pub mod s3io;
pub mod secrets;
pub mod send_retries;
pub mod senders;
pub mod settings;

pub use app::App;
