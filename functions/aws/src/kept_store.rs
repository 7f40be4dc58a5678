//! Kept facts and the roster of signed-up voters, on DynamoDB and S3 (see `wmb_core::kept`).
//!
//! - Kept facts: a file chunk's facts of voters not signed up, grouped by shard of the VoteCal
//!   ID, one item per shard touched (`pk = kept#<shard>`, `sk = <chunk tag>#<part>`): a statewide
//!   file's rows cost a fraction of a write unit each. A sign-up's catch-up reads its shard with
//!   one query.
//! - Sign-up marks: one small item per subscription written (`pk = joined#<day>`,
//!   `sk = <time>#<VoteCal ID>`), written before the subscription itself.
//! - The roster: `state/roster.bin` in the bucket, sorted hashes of signed-up voters as of a time;
//!   marks since then complete it. Built from the subscriptions table when missing or unreadable,
//!   and rewritten with the marks merged in when over an hour old. If it cannot be read or built,
//!   the invocation fails and its file is retried (a roster is never guessed). A subscription
//!   written other than through the functions (a table restore, an import) writes no mark:
//!   delete `state/roster.bin` afterwards, and the next file rebuilds it from the table.

use crate::dynamo::{from_item, s, sdk_error, to_item, unavailable, DynamoStore};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use wmb_core::kept::{shard, KeptFact, Roster};
use wmb_core::ports::{KeptFacts, StoreError};

/// Shards of kept facts by default: a statewide file read in 64 ranges puts about 17 rows in an
/// item (1 write unit), and a sign-up's catch-up reads about 220 KB of one shard per election.
pub const DEFAULT_SHARDS: u32 = 16_384;
/// Where the roster is kept in the bucket.
pub const ROSTER_KEY: &str = "state/roster.bin";
/// Kept facts and marks outlive any tracking window.
const KEEP_DAYS: i64 = 400;
/// Items stay well under DynamoDB's 400 KB.
const MAX_ITEM_BYTES: usize = 300_000;
/// A roster read from the bucket is used this long before it is read again.
const ROSTER_CACHE_MINUTES: i64 = 15;
/// A roster older than this is rewritten with the marks merged in.
const ROSTER_REWRITE_MINUTES: i64 = 60;

pub struct KeptState {
    shards: u32,
    /// The facts kept since the last [`DynamoStore::write_kept`].
    buffer: Mutex<Vec<KeptFact>>,
    /// The roster with the marks read since, and when its base was read from the bucket.
    roster: Mutex<Option<(Roster, DateTime<Utc>)>>,
}

impl KeptState {
    pub fn new(shards: u32) -> Self {
        KeptState { shards: shards.max(1), buffer: Mutex::new(vec![]), roster: Mutex::new(None) }
    }
}

#[derive(Serialize, Deserialize)]
struct KeptItem {
    pk: String,
    sk: String,
    /// The facts, one [`KeptFact::to_line`] a line (one attribute: far smaller than a list of maps).
    facts: String,
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct MarkItem {
    pk: String,
    sk: String,
    expires_at: i64,
}

fn day_key(t: DateTime<Utc>) -> String {
    format!("joined#{}", t.format("%Y-%m-%d"))
}

impl DynamoStore {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.scheduling.now)()
    }

    /// The partition of a voter's kept facts: the shard count is in the key, so facts kept
    /// under another KEPT_SHARDS are never looked for in the wrong place (change it only
    /// between elections: facts kept before are then found by no catch-up).
    fn kept_key(&self, votecal_id: &str) -> String {
        format!("kept#{}#{}", self.kept.shards, shard(votecal_id, self.kept.shards))
    }

    /// Forgets facts kept by an invocation that failed (its file is read again).
    pub fn clear_kept(&self) -> Result<(), StoreError> {
        self.kept.buffer.lock().map_err(unavailable)?.clear();
        Ok(())
    }

    /// Marks a voter as joined (before their subscription is written), and adds them to this
    /// instance's roster.
    pub async fn mark_joined(&self, votecal_id: &str) -> Result<(), StoreError> {
        let Some(table) = &self.tables.kept else { return Ok(()) };
        let now = self.now();
        let item = MarkItem { pk: day_key(now), sk: format!("{}#{votecal_id}", now.format("%Y-%m-%dT%H:%M:%SZ")), expires_at: (now + Duration::days(KEEP_DAYS)).timestamp() };
        self.client.put_item().table_name(table).set_item(Some(to_item(&item)?)).send().await.map_err(sdk_error)?;
        if let Some((roster, _)) = self.kept.roster.lock().map_err(unavailable)?.as_mut() {
            roster.add([votecal_id]);
        }
        Ok(())
    }

    /// The voters marked as joined at or after `since`.
    pub async fn joined_since(&self, since: DateTime<Utc>) -> Result<BTreeSet<String>, StoreError> {
        let Some(table) = &self.tables.kept else { return Ok(BTreeSet::new()) };
        let now = self.now();
        let from = since.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut out = BTreeSet::new();
        let mut day = since;
        while day.date_naive() <= now.date_naive() {
            let marks = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("pk = :d AND sk >= :t")
                .expression_attribute_values(":d", s(day_key(day)))
                .expression_attribute_values(":t", s(&from))
                .consistent_read(true)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(sdk_error)?;
            for item in marks {
                let mark: MarkItem = from_item(item)?;
                if let Some((_, id)) = mark.sk.split_once('#') {
                    out.insert(id.to_string());
                }
            }
            day += Duration::days(1);
        }
        Ok(out)
    }

    /// Makes sure this instance knows who may have signed up: the roster from the bucket (built
    /// from the subscriptions when missing or damaged), completed with the marks since.
    pub async fn refresh_roster(&self, s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), StoreError> {
        if self.tables.kept.is_none() {
            return Ok(());
        }
        let now = self.now();
        let cached = self.kept.roster.lock().map_err(unavailable)?.clone();
        let (mut roster, read_at) = match cached {
            Some((r, at)) if now - at < Duration::minutes(ROSTER_CACHE_MINUTES) => (r, at),
            _ => (self.stored_roster(s3, bucket).await?, now),
        };
        let marks = self.joined_since(roster.marks_from()).await?;
        let stale = now - roster.as_of > Duration::minutes(ROSTER_REWRITE_MINUTES);
        roster.add(&marks);
        if stale {
            // Every mark up to the query's start is in: the roster now holds as of then (and
            // the next refresh reads marks of the last hour, not of every day since).
            roster.as_of = now;
            put_roster(s3, bucket, &roster).await?;
        }
        tracing::info!(voters = roster.len(), marks = marks.len(), "roster of signed-up voters ready");
        *self.kept.roster.lock().map_err(unavailable)? = Some((roster, read_at));
        Ok(())
    }

    async fn stored_roster(&self, s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Roster, StoreError> {
        let got = s3.get_object().bucket(bucket).key(ROSTER_KEY).send().await;
        match got {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(unavailable)?.into_bytes();
                match Roster::from_bytes(&bytes) {
                    Ok(r) => return Ok(r),
                    Err(e) => tracing::warn!(error = %e, "rebuilding the roster from the subscriptions"),
                }
            }
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {}
            Err(e) => return Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
        let roster = self.roster_from_subscriptions().await?;
        put_roster(s3, bucket, &roster).await?;
        Ok(roster)
    }

    /// Every VoteCal ID in the subscriptions table (a scan of the keys), as of the scan's start.
    async fn roster_from_subscriptions(&self) -> Result<Roster, StoreError> {
        let as_of = self.now();
        let keys = self
            .client
            .scan()
            .table_name(&self.tables.subscriptions)
            // Keys only (the template allows no other scan of this table).
            .select(aws_sdk_dynamodb::types::Select::SpecificAttributes)
            .projection_expression("pk")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error)?;
        let ids: Vec<String> = keys
            .into_iter()
            .filter_map(|item| match item.get("pk") {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            })
            .collect();
        Ok(Roster::new(ids, as_of))
    }

    /// Writes the facts kept since the last call, one item per shard (split when large), under
    /// `tag` (the chunk of the file: the same chunk again overwrites its items). Returns them.
    pub async fn write_kept(&self, tag: &str) -> Result<Vec<KeptFact>, StoreError> {
        let facts = std::mem::take(&mut *self.kept.buffer.lock().map_err(unavailable)?);
        let Some(table) = &self.tables.kept else { return Ok(facts) };
        let mut by_shard: BTreeMap<String, Vec<&KeptFact>> = BTreeMap::new();
        for f in &facts {
            by_shard.entry(self.kept_key(&f.votecal_id)).or_default().push(f);
        }
        let now = self.now();
        // An item expires with the latest election among its facts (`wmb_core::retention`).
        let expiry = self.expiry();
        let expires = |facts: &[&KeptFact]| facts.iter().map(|f| expiry.of_election(&f.election_id, now)).max().unwrap_or(now).timestamp();
        let mut items = vec![];
        for (shard, group) in by_shard {
            let expires_at = expires(&group);
            let mut part = 0;
            let mut pending: Vec<String> = vec![];
            let mut size = 0;
            for f in group {
                let json = f.to_line();
                if size + json.len() > MAX_ITEM_BYTES && !pending.is_empty() {
                    items.push(KeptItem { pk: shard.clone(), sk: format!("{tag}#{part}"), facts: pending.join("\n"), expires_at });
                    pending.clear();
                    size = 0;
                    part += 1;
                }
                size += json.len() + 1;
                pending.push(json);
            }
            items.push(KeptItem { pk: shard, sk: format!("{tag}#{part}"), facts: pending.join("\n"), expires_at });
        }
        let requests = items.iter().map(Self::put_request).collect::<Result<Vec<_>, StoreError>>()?;
        self.write_all(table, requests).await?;
        Ok(facts)
    }
}

async fn put_roster(s3: &aws_sdk_s3::Client, bucket: &str, roster: &Roster) -> Result<(), StoreError> {
    s3.put_object()
        .bucket(bucket)
        .key(ROSTER_KEY)
        .body(roster.to_bytes().into())
        .send()
        .await
        .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
    Ok(())
}

impl KeptFacts for DynamoStore {
    fn may_be_subscribed(&self, votecal_id: &str) -> bool {
        if self.tables.kept.is_none() {
            return true;
        }
        match self.kept.roster.lock() {
            Ok(guard) => guard.as_ref().is_none_or(|(r, _)| r.may_contain(votecal_id)),
            Err(_) => true,
        }
    }

    async fn keep(&self, fact: KeptFact) -> Result<(), StoreError> {
        self.kept.buffer.lock().map_err(unavailable)?.push(fact);
        Ok(())
    }

    async fn kept_facts(&self, votecal_id: &str) -> Result<Vec<KeptFact>, StoreError> {
        let Some(table) = &self.tables.kept else { return Ok(vec![]) };
        let items = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s(self.kept_key(votecal_id)))
            // Strongly consistent: a fact written just before the voter's mark must be seen
            // (see wmb_core::kept on why no fact is missed).
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_error)?;
        let mut out = vec![];
        for item in items {
            let item: KeptItem = from_item(item)?;
            for line in item.facts.lines() {
                let fact = KeptFact::from_line(line).ok_or_else(|| unavailable("a kept-facts item holds a line that is not a kept fact"))?;
                if fact.votecal_id == votecal_id {
                    out.push(fact);
                }
            }
        }
        Ok(out)
    }
}
