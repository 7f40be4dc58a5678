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

/// The time handlers see: the system clock, or a fixed one that tests move by hand.
pub enum Clock {
    System,
    Fixed(std::sync::Arc<std::sync::Mutex<chrono::DateTime<chrono::Utc>>>),
}

impl Clock {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match self {
            Clock::System => chrono::Utc::now(),
            Clock::Fixed(t) => *t.lock().expect("clock"),
        }
    }
}

/// Options for building an app (tests: a fixed clock, a request counter).
#[derive(Default)]
pub struct AppOptions {
    pub interceptor: Option<aws_smithy_runtime_api::client::interceptors::SharedInterceptor>,
    pub fixed_clock: Option<chrono::DateTime<chrono::Utc>>,
}

pub struct App {
    pub clock: Clock,
    pub settings: Settings,
    pub sdk: aws_config::SdkConfig,
    pub store: DynamoStore,
    pub queues: SqsQueues,
    pub events: EventBus,
    /// Counts for CloudWatch, in Embedded Metric Format on standard output.
    pub metrics: crate::metrics::Metrics,
    pub s3: aws_sdk_s3::Client,
    pub catalog: Catalog,
    pub elections: BTreeMap<String, Election>,
    pub voice: VoicePlan,
    pub access: wmb_core::access::AccessKeys,
}

/// Random bytes from the operating system (codes and change ids).
pub fn os_random() -> [u8; 16] {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system gives random bytes");
    b
}

impl App {
    /// Reads the environment (the SDK honours AWS_ENDPOINT_URL: no local switches here).
    pub async fn from_env() -> Result<App, BoxError> {
        let settings = Settings::from_env()?;
        // Adaptive retries: a throttled request is retried up to 10 times, and the client slows
        // down while throttled (a statewide file's parts can ask more of a table than it gives).
        let retry = aws_config::retry::RetryConfig::adaptive().with_max_attempts(10);
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).retry_config(retry).load().await;
        Self::new(settings, sdk, AppOptions::default()).await
    }

    pub async fn new(settings: Settings, sdk: aws_config::SdkConfig, options: AppOptions) -> Result<App, BoxError> {
        macro_rules! client {
            ($krate:ident) => {{
                let mut b = $krate::config::Builder::from(&sdk);
                if let Some(i) = &options.interceptor {
                    b = b.interceptor(i.clone());
                }
                b
            }};
        }
        // S3 through a local endpoint needs path-style addressing; AWS accepts it too.
        let local = sdk.endpoint_url().is_some() || std::env::var("AWS_ENDPOINT_URL").is_ok();
        let s3 = aws_sdk_s3::Client::from_conf(client!(aws_sdk_s3).force_path_style(local).build());
        let catalog = Catalog::embedded()?;
        let (elections, voice) = crate::s3io::load_config(&s3, &settings.bucket, &settings.config_prefix, &catalog).await?;
        let (clock, store_clock): (Clock, crate::dynamo::NowFn) = match options.fixed_clock {
            Some(t) => {
                let shared = std::sync::Arc::new(std::sync::Mutex::new(t));
                let for_store = shared.clone();
                (Clock::Fixed(shared), std::sync::Arc::new(move || *for_store.lock().expect("clock")))
            }
            None => (Clock::System, std::sync::Arc::new(chrono::Utc::now)),
        };
        let mut store = DynamoStore::new(
            aws_sdk_dynamodb::Client::from_conf(client!(aws_sdk_dynamodb).build()),
            &settings,
            aws_sdk_scheduler::Client::from_conf(client!(aws_sdk_scheduler).build()),
        );
        store.scheduling.now = store_clock;
        store.expiry = wmb_core::retention::Expiry::new(elections.values());
        // Functions that never sign or name a contact (fan-out, release, voice and text
        // delivery) get a key of their own; the API, inbound texts, receipts, ingest (signups
        // files) and email delivery check at start that SIGNING_KEY is set.
        let signing = match &settings.signing_key {
            Some(k) => wmb_core::access::SigningKey::new(k.as_bytes()).ok_or("environment variable SIGNING_KEY: is shorter than 16 characters")?,
            None => wmb_core::access::SigningKey::new(&os_random()).expect("16 bytes"),
        };
        let access = wmb_core::access::AccessKeys { signing, random: os_random, public_url: settings.public_api_url.clone() };
        Ok(App {
            access,
            clock,
            store,
            queues: SqsQueues::new(aws_sdk_sqs::Client::from_conf(client!(aws_sdk_sqs).build()), &settings),
            events: EventBus::new(aws_sdk_eventbridge::Client::from_conf(client!(aws_sdk_eventbridge).build()), &settings.event_bus_name),
            metrics: Default::default(),
            s3,
            catalog,
            elections,
            voice,
            settings,
            sdk,
        })
    }

    /// Now, by the app's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Moves a fixed clock (tests); the system clock cannot be moved.
    pub fn set_now(&self, at: chrono::DateTime<chrono::Utc>) {
        if let Clock::Fixed(t) = &self.clock {
            *t.lock().expect("clock") = at;
        }
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
            access: &self.access,
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

    fn receipts_find_it_by_id(&self, _msg: &wmb_core::ports::OutgoingMessage) -> bool {
        false
    }
}
