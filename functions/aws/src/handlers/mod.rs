//! The Lambda handlers: decode the event, call the core through the ports, encode the response
//! (partial batch failures where the source supports them).

pub mod call_stop;
pub mod daily_summary;
pub mod deliver;
pub mod fanout;
pub mod inbound_sms;
pub mod ingest;
mod ingest_files;
mod ingest_parts;
mod ingest_report;
pub mod receipts;
pub mod release;
pub mod signup;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time left before the invocation's deadline (milliseconds since the epoch, as Lambda gives it).
pub fn time_left(deadline_ms: u64) -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
    Duration::from_millis(deadline_ms.saturating_sub(now))
}
