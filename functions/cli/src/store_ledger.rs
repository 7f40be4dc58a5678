//! The embedded store's message ledger: a claim before each send and its outcome after it, the
//! provider's id of a send whose receipts name only that (`sent`), and the receipts recorded
//! against the send they name (tables in `store.rs`'s schema).

use crate::outcome_line;
use crate::store::{to_json, unavailable, SqliteStore};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use wmb_core::ports::*;

impl SqliteStore {
    /// Failed sends with their reasons, for the summary.
    pub fn failures(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.with(|c| {
            let mut q = c.prepare("SELECT key, outcome FROM ledger WHERE outcome LIKE 'f|%' ORDER BY key")?;
            let rows = q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?.collect::<Result<Vec<_>, _>>();
            rows
        })?;
        rows.into_iter()
            .map(|(k, o)| match read_outcome(&o)? {
                DeliveryOutcome::Failed { reason, .. } => Ok((k, reason)),
                DeliveryOutcome::Sent { .. } => Ok((k, String::new())),
            })
            .collect()
    }
}

/// A send's outcome as the ledger keeps it (`outcome_line.rs`).
fn read_outcome(line: &str) -> Result<DeliveryOutcome, StoreError> {
    outcome_line::from_line(line).ok_or_else(|| unavailable("a message's outcome in the ledger cannot be read"))
}

impl MessageLedger for SqliteStore {
    async fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<Claim, StoreError> {
        self.with(|c| {
            // New, or claimed by a worker that never finished within the expiry: this caller's.
            let stale = now.timestamp() - wmb_core::ports::CLAIM_EXPIRY_MINUTES * 60;
            let inserted = c
                .prepare_cached(
                    "INSERT INTO ledger (key, claimed_at, outcome) VALUES (?1, ?2, NULL) \
                     ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at WHERE outcome IS NULL AND claimed_at < ?3",
                )?
                .execute(params![key, now.timestamp(), stale])?;
            if inserted == 1 {
                return Ok(Claim::Claimed);
            }
            let outcome: Option<String> =
                c.prepare_cached("SELECT outcome FROM ledger WHERE key = ?1")?.query_row([key], |r| r.get(0))?;
            Ok(if outcome.is_some() { Claim::Done } else { Claim::InProgress })
        })
    }

    async fn complete(&self, key: &str, outcome: &DeliveryOutcome) -> Result<(), StoreError> {
        let line = outcome_line::to_line(outcome);
        self.with(|c| c.prepare_cached("UPDATE ledger SET outcome = ?2 WHERE key = ?1")?.execute(params![key, line]))?;
        if let DeliveryOutcome::Sent { provider_id, indexed: true, .. } = outcome {
            self.with(|c| c.prepare_cached("INSERT OR REPLACE INTO sent (provider_id, key) VALUES (?1, ?2)")?.execute(params![provider_id, key]))?;
        }
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.with(|c| c.prepare_cached("DELETE FROM ledger WHERE key = ?1 AND outcome IS NULL")?.execute([key]))?;
        Ok(())
    }
}

impl wmb_core::ports::ReceiptLedger for SqliteStore {
    async fn sent_key(&self, provider_id: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| c.prepare_cached("SELECT key FROM sent WHERE provider_id = ?1")?.query_row([provider_id], |r| r.get(0)).optional())
    }

    async fn record_delivery(&self, key: &str, provider_id: &str, delivery: &wmb_core::receipts::Delivery) -> Result<Recorded, StoreError> {
        let outcome: Option<Option<String>> = self.with(|c| c.prepare_cached("SELECT outcome FROM ledger WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional())?;
        let sent = match outcome.flatten() {
            Some(line) => Some(read_outcome(&line)?).filter(|o| o.sent_as(provider_id)),
            None => None,
        };
        let Some(sent) = sent else { return Ok(Recorded::Unknown) };
        let json = to_json(delivery)?;
        let changed = self.with(|c| c.prepare_cached("INSERT INTO deliveries (key, record) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET record = excluded.record WHERE record <> excluded.record")?.execute(params![key, json]))?;
        Ok(if changed > 0 { Recorded::New(sent.tag()) } else { Recorded::Again })
    }
}
