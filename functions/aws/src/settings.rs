//! Configuration from the environment, read once per cold start into one typed struct.

/// A missing or malformed environment variable, named.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct SettingsError {
    pub name: &'static str,
    pub problem: &'static str,
}

/// Every name the functions read (the SAM template sets them).
#[derive(Debug, Clone)]
pub struct Settings {
    pub voters_table: String,
    pub subscriptions_table: String,
    pub journeys_table: String,
    pub ledger_table: String,
    pub held_table: String,
    pub imb_table: String,
    pub sms_queue_url: String,
    pub email_queue_url: String,
    pub voice_queue_url: String,
    pub bucket: String,
    pub config_prefix: String,
    pub event_bus_name: String,
    pub schedule_group: String,
    pub scheduler_role_arn: String,
    /// Only for functions that hold messages (they create release schedules).
    pub release_function_arn: Option<String>,
    pub release_dlq_arn: Option<String>,
    pub email_from: String,
    pub sms_origination_number: Option<String>,
    /// The SES configuration set whose event destination publishes delivery, bounce and
    /// complaint events (the receipts function reads them).
    pub ses_configuration_set: Option<String>,
    pub connect_instance_id: Option<String>,
    pub connect_contact_flow_id: Option<String>,
    pub connect_source_phone_number: Option<String>,
    /// The ingest function's own continuation queue (large files).
    pub ingest_continue_queue_url: Option<String>,
    /// Pending changes, abuse counters and the contact index (the API and inbound texts).
    pub access_table: Option<String>,
    /// Facts of voters not signed up, and sign-up marks (`kept#`, `joined#` keys). Unset: every
    /// row takes the journey path, as before.
    pub kept_table: Option<String>,
    /// How many shards kept facts are filed under (KEPT_SHARDS, default 16,384).
    pub kept_shards: u32,
    /// A file larger than this is read in parts of about this size, in parallel
    /// (INGEST_PART_BYTES, default 32 MiB).
    pub ingest_part_bytes: u64,
    /// The secret holding the HMAC key of codes, unsubscribe links and contact names
    /// (SIGNING_KEY_SECRET_ARN): the functions that hash, sign or check read the key from it once
    /// at cold start (`crate::secrets`). The key itself is never in the environment or here.
    pub signing_key_secret_arn: Option<String>,
    /// The CloudWatch namespace of the functions' metrics (METRICS_NAMESPACE; the template gives
    /// each stage its own, default [`crate::metrics::NAMESPACE`]).
    pub metrics_namespace: String,
    /// The API's public base URL: the unsubscribe links in emails point there.
    pub public_api_url: Option<String>,
    /// The secret CloudFront sends the API in its origin header (the API function only).
    pub origin_header_secret: Option<String>,
    /// How old the configuration from `config/` may grow before it is read again
    /// (CONFIG_MAX_AGE_SECONDS, default 60).
    pub config_max_age_seconds: u64,
    /// The least time the API takes to answer a request naming a voter (ANSWER_FLOOR_MS,
    /// default [`wmb_core::api::ANSWER_FLOOR_MS`]): a signed-up voter's answer, which waits for
    /// their codes to go out, looks like anyone's.
    pub answer_floor_ms: u64,
}

fn required(name: &'static str) -> Result<String, SettingsError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        Ok(_) => Err(SettingsError { name, problem: "is empty" }),
        Err(_) => Err(SettingsError { name, problem: "is not set" }),
    }
}

fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    pub fn from_env() -> Result<Settings, SettingsError> {
        Ok(Settings {
            voters_table: required("VOTERS_TABLE")?,
            subscriptions_table: required("SUBSCRIPTIONS_TABLE")?,
            journeys_table: required("JOURNEYS_TABLE")?,
            ledger_table: required("LEDGER_TABLE")?,
            held_table: required("HELD_TABLE")?,
            imb_table: required("IMB_TABLE")?,
            sms_queue_url: required("SMS_QUEUE_URL")?,
            email_queue_url: required("EMAIL_QUEUE_URL")?,
            voice_queue_url: required("VOICE_QUEUE_URL")?,
            bucket: required("BUCKET")?,
            config_prefix: optional("CONFIG_PREFIX").unwrap_or_else(|| "config/".into()),
            event_bus_name: required("EVENT_BUS_NAME")?,
            schedule_group: required("SCHEDULE_GROUP")?,
            scheduler_role_arn: required("SCHEDULER_ROLE_ARN")?,
            release_function_arn: optional("RELEASE_FUNCTION_ARN"),
            release_dlq_arn: optional("RELEASE_DLQ_ARN"),
            email_from: optional("EMAIL_FROM").unwrap_or_default(),
            sms_origination_number: optional("SMS_ORIGINATION_NUMBER"),
            ses_configuration_set: optional("SES_CONFIGURATION_SET"),
            connect_instance_id: optional("CONNECT_INSTANCE_ID"),
            connect_contact_flow_id: optional("CONNECT_CONTACT_FLOW_ID"),
            connect_source_phone_number: optional("CONNECT_SOURCE_PHONE_NUMBER"),
            ingest_continue_queue_url: optional("INGEST_CONTINUE_QUEUE_URL"),
            access_table: optional("ACCESS_TABLE"),
            kept_table: optional("KEPT_TABLE"),
            ingest_part_bytes: match optional("INGEST_PART_BYTES") {
                None => 32 << 20,
                Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or(SettingsError { name: "INGEST_PART_BYTES", problem: "is not a positive whole number" })?,
            },
            kept_shards: match optional("KEPT_SHARDS") {
                None => crate::kept_store::DEFAULT_SHARDS,
                Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or(SettingsError { name: "KEPT_SHARDS", problem: "is not a positive whole number" })?,
            },
            signing_key_secret_arn: optional("SIGNING_KEY_SECRET_ARN"),
            metrics_namespace: optional("METRICS_NAMESPACE").unwrap_or_else(|| crate::metrics::NAMESPACE.into()),
            public_api_url: optional("PUBLIC_API_URL"),
            origin_header_secret: optional("ORIGIN_HEADER_SECRET"),
            config_max_age_seconds: match optional("CONFIG_MAX_AGE_SECONDS") {
                None => 60,
                Some(v) => v.parse().map_err(|_| SettingsError { name: "CONFIG_MAX_AGE_SECONDS", problem: "is not a whole number of seconds" })?,
            },
            answer_floor_ms: match optional("ANSWER_FLOOR_MS") {
                None => wmb_core::api::ANSWER_FLOOR_MS,
                Some(v) => v.parse().map_err(|_| SettingsError { name: "ANSWER_FLOOR_MS", problem: "is not a whole number of milliseconds" })?,
            },
        })
    }

    /// What the API, inbound texts and email delivery need: the access table and the key's secret
    /// (read, and its key checked, when the app was built).
    pub fn require_access(&self) -> Result<(), SettingsError> {
        if self.access_table.is_none() {
            return Err(SettingsError { name: "ACCESS_TABLE", problem: "is not set" });
        }
        if self.signing_key_secret_arn.is_none() {
            return Err(SettingsError { name: "SIGNING_KEY_SECRET_ARN", problem: "is not set" });
        }
        Ok(())
    }

    /// A number from the environment (e.g. SEND_RATE_PER_SECOND), which may have a fraction.
    pub fn number(name: &'static str) -> Result<f64, SettingsError> {
        required(name)?.trim().parse::<f64>().ok().filter(|v| *v > 0.0).ok_or(SettingsError { name, problem: "is not a positive number" })
    }
}
