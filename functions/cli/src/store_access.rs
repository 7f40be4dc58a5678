//! The embedded store's side of "voters in control": pending changes, abuse counters and the
//! contact index, on the same SQLite file (tables in `store.rs`'s schema).

use crate::store::{from_json, to_json, unavailable, SqliteStore};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use wmb_core::access::PendingChange;
use wmb_core::ports::*;

impl PendingChanges for SqliteStore {
    async fn change(&self, id: &str) -> Result<Option<Versioned<PendingChange>>, StoreError> {
        let row: Option<(String, i64)> = self.with(|c| {
            c.prepare_cached("SELECT record, version FROM changes WHERE id = ?1")?.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()
        })?;
        row.map(|(j, v)| Ok(Versioned { value: from_json(&j)?, version: v as u64 })).transpose()
    }

    async fn put_change(&self, change: &PendingChange, expected: Option<u64>) -> Result<u64, StoreError> {
        let record = to_json(change)?;
        let written = self.with(|c| match expected {
            None => c.prepare_cached("INSERT OR IGNORE INTO changes (id, version, record) VALUES (?1, 1, ?2)")?.execute(params![change.id, record]),
            Some(v) => c
                .prepare_cached("UPDATE changes SET version = version + 1, record = ?2 WHERE id = ?1 AND version = ?3")?
                .execute(params![change.id, record, v as i64]),
        })?;
        if written == 0 {
            return Err(StoreError::Conflict("a pending change".into()));
        }
        Ok(expected.map_or(1, |v| v + 1))
    }
}

impl Counters for SqliteStore {
    async fn bump(&self, key: &str, expires_at: DateTime<Utc>) -> Result<u64, StoreError> {
        let n: i64 = self.with(|c| {
            c.prepare_cached(
                "INSERT INTO counters (key, n, expires_at) VALUES (?1, 1, ?2)
                 ON CONFLICT(key) DO UPDATE SET n = n + 1 RETURNING n",
            )?
            .query_row(params![key, expires_at.timestamp()], |r| r.get(0))
        })?;
        Ok(n as u64)
    }

    async fn count(&self, key: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let n: Option<i64> = self.with(|c| {
            c.prepare_cached("SELECT n FROM counters WHERE key = ?1 AND expires_at > ?2")?.query_row(params![key, now.timestamp()], |r| r.get(0)).optional()
        })?;
        Ok(n.unwrap_or(0) as u64)
    }
}

impl SqliteStore {
    fn update_contact(&self, name: &str, f: impl FnOnce(&mut ContactEntry) -> bool) -> Result<bool, StoreError> {
        // Read, change and write under one hold of the connection's lock: one step, whichever
        // thread asks.
        self.with_lock(|c| {
            let read = || c.prepare_cached("SELECT record FROM contacts WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional();
            let json: Option<String> = read().map_err(unavailable)?;
            let mut entry: ContactEntry = json.map(|j| from_json(&j)).transpose()?.unwrap_or_default();
            let result = f(&mut entry);
            let record = to_json(&entry)?;
            let write = || c.prepare_cached("INSERT INTO contacts (name, record) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET record = excluded.record")?.execute(params![name, record]);
            write().map_err(unavailable)?;
            Ok(result)
        })
    }
}

impl ContactIndex for SqliteStore {
    async fn contact(&self, name: &str) -> Result<ContactEntry, StoreError> {
        let json: Option<String> = self.with(|c| c.prepare_cached("SELECT record FROM contacts WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional())?;
        Ok(json.map(|j| from_json(&j)).transpose()?.unwrap_or_default())
    }

    async fn link_contact(&self, name: &str, votecal_id: &str, max: usize) -> Result<bool, StoreError> {
        self.update_contact(name, |e| e.link(votecal_id, max))
    }

    async fn unlink_contact(&self, name: &str, votecal_id: &str) -> Result<(), StoreError> {
        self.update_contact(name, |e| {
            e.voters.retain(|v| v != votecal_id);
            true
        })?;
        Ok(())
    }

    async fn set_stopped(&self, name: &str, stopped: bool) -> Result<(), StoreError> {
        self.update_contact(name, |e| {
            e.stopped = stopped;
            true
        })?;
        Ok(())
    }

    async fn stop_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.update_contact(name, |e| {
            e.stop_sent_at = e.stop_sent_at.max(Some(at_ms));
            true
        })?;
        Ok(())
    }

    async fn start_sent_at(&self, name: &str, at_ms: i64) -> Result<(), StoreError> {
        self.update_contact(name, |e| {
            e.start_sent_at = e.start_sent_at.max(Some(at_ms));
            true
        })?;
        Ok(())
    }

    async fn mark_stop(&self, name: &str, mark: &str, stopped: bool) -> Result<(), StoreError> {
        self.update_contact(name, |e| {
            e.mark(mark, stopped);
            true
        })?;
        Ok(())
    }
}
