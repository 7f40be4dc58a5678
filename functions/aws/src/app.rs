//! Everything a function needs, built once per cold start: clients, settings, the templates,
//! the election definitions and the voice plan (from `config/` in the bucket).

use crate::dynamo::DynamoStore;
use crate::events::EventBus;
use crate::queue::SqsQueues;
use crate::settings::Settings;
use std::collections::BTreeMap;
use wmb_core::election::Election;
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct App {
    pub settings: Settings,
    pub sdk: aws_config::SdkConfig,
    pub store: DynamoStore,
    pub queues: SqsQueues,
    pub events: EventBus,
    pub s3: aws_sdk_s3::Client,
    pub catalog: Catalog,
    pub elections: BTreeMap<String, Election>,
    pub voice: VoicePlan,
}

impl App {
    /// Reads the environment (the SDK honours AWS_ENDPOINT_URL: no local switches here).
    pub async fn from_env() -> Result<App, BoxError> {
        let settings = Settings::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(settings, sdk).await
    }

    pub async fn new(settings: Settings, sdk: aws_config::SdkConfig) -> Result<App, BoxError> {
        // S3 through a local endpoint needs path-style addressing; AWS accepts it too.
        let s3_config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(std::env::var("AWS_ENDPOINT_URL").is_ok()).build();
        let s3 = aws_sdk_s3::Client::from_conf(s3_config);
        let catalog = Catalog::embedded()?;
        let (elections, voice) = crate::s3io::load_config(&s3, &settings.bucket, &settings.config_prefix, &catalog).await?;
        Ok(App {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &settings, aws_sdk_scheduler::Client::new(&sdk)),
            queues: SqsQueues::new(aws_sdk_sqs::Client::new(&sdk), &settings),
            events: EventBus::new(aws_sdk_eventbridge::Client::new(&sdk), &settings.event_bus_name),
            s3,
            catalog,
            elections,
            voice,
            settings,
            sdk,
        })
    }

    /// The core's pipeline over these adapters, with a dispatcher for the channel being sent.
    pub fn pipeline<'a, D: wmb_core::ports::Dispatcher>(&'a self, dispatcher: &'a D) -> wmb_core::pipeline::Pipeline<'a, DynamoStore, D, SqsQueues> {
        wmb_core::pipeline::Pipeline {
            store: &self.store,
            dispatcher,
            queue: &self.queues,
            catalog: &self.catalog,
            elections: &self.elections,
            voice: &self.voice,
        }
    }
}

/// A dispatcher for functions that never send (ingest, fan-out, release, sign-up): everything
/// due now goes to a queue, so reaching it is a bug, reported as a permanent failure.
pub struct NoSends;

impl wmb_core::ports::Dispatcher for NoSends {
    async fn dispatch(&self, _msg: &wmb_core::ports::OutgoingMessage) -> Result<String, wmb_core::ports::DeliveryError> {
        Err(wmb_core::ports::DeliveryError::Permanent("this function does not send; the message should have been queued".into()))
    }
}
