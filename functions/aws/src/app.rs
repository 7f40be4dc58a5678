//! Everything a function needs, built once per cold start: clients, settings, the templates,
//! and the configuration (the election definitions, the counties' enrolments and the voice plan,
//! from `config/` in the bucket), which is read again once it is a minute old.

use crate::dynamo::DynamoStore;
use crate::events::EventBus;
use crate::queue::SqsQueues;
use crate::settings::Settings;
use std::collections::BTreeMap;
use std::sync::Arc;
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
    /// The configuration, and when it was read.
    config: std::sync::RwLock<(std::time::Instant, Arc<Config>)>,
    pub access: wmb_core::access::AccessKeys,
}

/// What `config/` in the bucket says: the elections (with the counties' enrolments applied) and
/// the voice plan.
pub struct Config {
    pub elections: BTreeMap<String, Election>,
    pub voice: VoicePlan,
    /// Which file (its key) each election was read from: a file edited into one that is refused
    /// keeps the election as read before.
    pub sources: BTreeMap<String, String>,
    /// The voice plan's recordings made from words the language files have changed since (or
    /// whose words it does not note), by language: they still play, and `render --voice-plan`
    /// lists them to be made again.
    pub stale_recordings: StaleRecordings,
}

/// Recordings by language: their keys.
pub type StaleRecordings = BTreeMap<wmb_core::status::Language, std::collections::BTreeSet<String>>;


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
        let (config, refused) = crate::s3io::load_config(&s3, &settings.bucket, &settings.config_prefix, &catalog, None).await?;
        let elections = &config.elections;
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
        store.expiry = std::sync::RwLock::new(Arc::new(wmb_core::retention::Expiry::new(elections.values())));
        // Functions that never sign or name a contact (fan-out, release, voice and text
        // delivery) get a key of their own; the API, inbound texts, receipts, ingest (signups
        // files) and email delivery read it from its secret, and check at start that they did.
        let signing = match &settings.signing_key_secret_arn {
            Some(arn) => crate::secrets::signing_key(&aws_sdk_secretsmanager::Client::from_conf(client!(aws_sdk_secretsmanager).build()), arn).await?,
            None => wmb_core::access::SigningKey::new(&os_random()).expect("16 bytes"),
        };
        let access = wmb_core::access::AccessKeys { signing, random: os_random, public_url: settings.public_api_url.clone() };
        let stale_at_start = config.stale_recordings.clone();
        let app = App {
            access,
            clock,
            store,
            queues: SqsQueues::new(aws_sdk_sqs::Client::from_conf(client!(aws_sdk_sqs).build()), &settings),
            events: EventBus::new(aws_sdk_eventbridge::Client::from_conf(client!(aws_sdk_eventbridge).build()), &settings.event_bus_name),
            metrics: crate::metrics::Metrics::new(&settings.metrics_namespace),
            s3,
            catalog,
            config: std::sync::RwLock::new((std::time::Instant::now(), Arc::new(config))),
            settings,
            sdk,
        };
        app.count_refused(&refused);
        app.count_stale_recordings(&stale_at_start, None);
        Ok(app)
    }

    /// Counts the configuration files refused at a reading (`ConfigFilesRefused`, alarmed).
    fn count_refused(&self, refused: &[String]) {
        if !refused.is_empty() {
            self.metrics.emit(self.now().timestamp_millis(), &[], &[&[]], &[("ConfigFilesRefused", crate::metrics::count(refused.len() as u64))]);
        }
    }

    /// Counts the recordings that say older words (`RecordingsStale`, at every reading: the
    /// dashboard shows it), and logs which languages' recordings they are when that changes (at
    /// an instance's start, or when a new plan is uploaded).
    fn count_stale_recordings(&self, now: &StaleRecordings, before: Option<&StaleRecordings>) {
        let stale: usize = now.values().map(|keys| keys.len()).sum();
        let changed = before.is_none_or(|b| b != now);
        // Nothing to count at a start with none, nor at a reading that finds none again.
        if stale == 0 && (before.is_none() || !changed) {
            return;
        }
        self.metrics.emit(self.now().timestamp_millis(), &[], &[&[]], &[("RecordingsStale", crate::metrics::count(stale as u64))]);
        if changed && stale > 0 {
            let languages = now.keys().map(|l| l.code()).collect::<Vec<_>>().join(",");
            tracing::warn!(recordings = stale, languages = %languages, "recordings made from words changed since still play; render --voice-plan lists them to be made again");
        } else if changed {
            tracing::info!("every recording now says the language files' words");
        }
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

    /// The configuration for an invocation: as read, or read again when over a minute old. If
    /// the bucket cannot be read then, the one held serves another minute (and the error is
    /// logged).
    pub async fn config(&self) -> Arc<Config> {
        let (read_at, held) = {
            let c = self.config.read().expect("config lock");
            (c.0, c.1.clone())
        };
        // An election defined or a county enrolled reaches every warm instance within this
        // (`CONFIG_MAX_AGE_SECONDS`, a minute: before, only at an instance's next start, and one
        // started earlier took a newly enrolled county's news for a county's not enrolled). A
        // few S3 requests a minute for each busy instance.
        if read_at.elapsed() < std::time::Duration::from_secs(self.settings.config_max_age_seconds) {
            return held;
        }
        let fresh = match crate::s3io::load_config(&self.s3, &self.settings.bucket, &self.settings.config_prefix, &self.catalog, Some(&held)).await {
            Ok((config, refused)) => {
                self.count_refused(&refused);
                self.count_stale_recordings(&config.stale_recordings, Some(&held.stale_recordings));
                if let Ok(mut expiry) = self.store.expiry.write() {
                    *expiry = Arc::new(wmb_core::retention::Expiry::new(config.elections.values()));
                }
                Arc::new(config)
            }
            Err(e) => {
                tracing::error!(error = %e, "the configuration could not be read again; the one held serves on");
                held
            }
        };
        *self.config.write().expect("config lock") = (std::time::Instant::now(), fresh.clone());
        fresh
    }

    /// The core's pipeline over these adapters, with the invocation's configuration and a
    /// dispatcher for the channel being sent.
    pub fn pipeline<'a, D: wmb_core::ports::Dispatcher>(&'a self, config: &'a Config, dispatcher: &'a D) -> wmb_core::pipeline::Pipeline<'a, DynamoStore, D, SqsQueues> {
        wmb_core::pipeline::Pipeline {
            store: &self.store,
            dispatcher,
            queue: &self.queues,
            catalog: &self.catalog,
            elections: &config.elections,
            voice: &config.voice,
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
