//! Domain events on an EventBridge bus, for county dashboards, analytics and audit. They carry
//! ids and counts, never names, birth dates, phone numbers or email addresses.

use serde::Serialize;
use std::sync::Mutex;

pub const SOURCE: &str = "wheres-my-ballot";

pub struct EventBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    pending: Mutex<Vec<(String, String)>>,
}

impl EventBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: &str) -> Self {
        EventBus { client, bus: bus.to_string(), pending: Mutex::new(vec![]) }
    }

    /// Queues an event (detail-type, detail); [`EventBus::flush`] sends them ten to a request.
    pub fn publish(&self, detail_type: &str, detail: &impl Serialize) {
        if let (Ok(json), Ok(mut pending)) = (serde_json::to_string(detail), self.pending.lock()) {
            pending.push((detail_type.to_string(), json));
        }
    }

    /// Sends what was published. Events are for observers: a failure is logged with its count
    /// and the events are kept for the next flush, never failing the work they describe.
    pub async fn flush(&self) {
        let pending: Vec<(String, String)> = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return,
        };
        let mut unsent = vec![];
        for chunk in pending.chunks(10) {
            let entries = chunk
                .iter()
                .map(|(t, d)| {
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(t)
                        .detail(d)
                        .build()
                })
                .collect();
            match self.client.put_events().set_entries(Some(entries)).send().await {
                Ok(out) if out.failed_entry_count == 0 => {}
                Ok(out) => {
                    for (entry, sent) in chunk.iter().zip(out.entries.unwrap_or_default()) {
                        if sent.error_code.is_some() {
                            unsent.push(entry.clone());
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(events = chunk.len(), error = %aws_sdk_eventbridge::error::DisplayErrorContext(e), "domain events not sent; kept for the next flush");
                    unsent.extend_from_slice(chunk);
                }
            }
        }
        if !unsent.is_empty() {
            tracing::warn!(events = unsent.len(), "domain events kept for the next flush");
            if let Ok(mut p) = self.pending.lock() {
                p.extend(unsent);
            }
        }
    }
}

#[derive(Serialize)]
pub struct FileIngested<'a> {
    /// The file as the logs name it (`s3io::log_name`: its folder and a hash of its name; a
    /// county chooses its file names, and one could carry a voter's name).
    pub file: &'a str,
    pub kind: &'a str,
    pub accepted: u64,
    pub rejected: u64,
    /// Rows of voters not signed up, kept for a later sign-up.
    pub kept: u64,
    /// Its report, named the same way (the report lies beside the file's name under reports/).
    pub report: &'a str,
    pub complete: bool,
}

/// Milestones one fan-out invocation decided, counted by county and milestone (never a voter),
/// and what became of them.
#[derive(Serialize, Default)]
pub struct MilestonesDecided {
    /// (county, milestone) → how many.
    pub milestones: Vec<MilestoneCount>,
    /// Put on the channel queues to go out now.
    pub queued: u64,
    /// Held for the voters' hours, the tracking start or settling.
    pub held: u64,
    /// Not sent: after the tracking window.
    pub too_late: u64,
    pub not_subscribed: u64,
    pub moved_county: u64,
    pub not_enrolled: u64,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct MilestoneCount {
    pub county: String,
    pub milestone: &'static str,
    pub count: u64,
}

/// What one delivery invocation did, counted by channel, message and outcome.
#[derive(Serialize, Default)]
pub struct MessagesDelivered {
    pub deliveries: Vec<DeliveryCount>,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct DeliveryCount {
    pub channel: &'static str,
    pub message: &'static str,
    /// sent, failed, held (retried later) or skipped (superseded, stopped, sent before).
    pub outcome: &'static str,
    pub count: u64,
}

/// Counts of equal keys, turned into an event's list.
pub fn counted<K: Ord, T>(items: impl IntoIterator<Item = K>, make: impl Fn(K, u64) -> T) -> Vec<T> {
    let mut m = std::collections::BTreeMap::new();
    for k in items {
        *m.entry(k).or_insert(0u64) += 1;
    }
    m.into_iter().map(|(k, n)| make(k, n)).collect()
}
