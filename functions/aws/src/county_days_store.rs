//! The counties' daily counts in the ledger table: one item per county and Pacific day
//! (`daily#<date>#<NN>`), each counter an attribute added to atomically, once per invocation —
//! for what is rare (sign-ups, stops, failed deliveries). Messages, which are many, are counted
//! from the ledger's own outcomes by the morning job: a send costs no extra write.

use crate::dynamo::{n, s, sdk_error, DynamoStore};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use wmb_core::daily::{is_counter_name, CountyDays};
use wmb_core::ports::StoreError;
use wmb_core::CountyCode;

/// How long a day's counts are kept after the day (its CSV in `reports/` is the lasting record).
pub const DAYS_KEPT: i64 = 35;

fn day_key(date: NaiveDate, county: CountyCode) -> String {
    format!("daily#{date}#{}", county.code())
}

impl DynamoStore {
    /// Adds one county's counts of one day in one update.
    pub async fn add_county_day(&self, date: NaiveDate, county: CountyCode, counts: &BTreeMap<String, u64>) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let expires = (date + chrono::Duration::days(DAYS_KEPT)).and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp());
        let mut update = self.client.update_item().table_name(&self.tables.ledger).key("pk", s(day_key(date, county))).expression_attribute_values(":exp", n(expires));
        let mut adds = vec![];
        for (i, (name, value)) in counts.iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            update = update.expression_attribute_names(format!("#c{i}"), name).expression_attribute_values(format!(":c{i}"), n(*value as i64));
        }
        update.update_expression(format!("ADD {} SET expires_at = if_not_exists(expires_at, :exp)", adds.join(", "))).send().await.map_err(sdk_error)?;
        Ok(())
    }

    /// Adds an invocation's counts, each county and day tried three times; what still fails is
    /// logged (counts describe the work: they never fail it, and adding twice would count twice).
    pub async fn add_county_days(&self, days: &CountyDays) {
        for (date, county, counts) in days.iter() {
            for attempt in 1..=3 {
                match self.add_county_day(date, county, counts).await {
                    Ok(()) => break,
                    Err(e) if attempt == 3 => tracing::warn!(error = %e, county = %county.code(), %date, "a county's daily counts were not added"),
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await,
                }
            }
        }
    }

    /// The messages sent and failed on a Pacific day, by county, message and channel, from the
    /// outcomes the ledger keeps (a parallel scan of the table, once a day).
    pub async fn ledger_day_counts(&self, date: NaiveDate) -> Result<CountyDays, StoreError> {
        const SEGMENTS: i32 = 8;
        let (start, end) = (wmb_core::time::pacific_start_of_day(date), wmb_core::time::pacific_start_of_day(date + chrono::Duration::days(1)));
        // (A second either side: a time with fractional seconds sorts before the same second's
        // whole form. The exact day is checked on each item.)
        let text = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let (from, to) = (text(start - chrono::Duration::seconds(1)), text(end + chrono::Duration::seconds(1)));
        let segments = (0..SEGMENTS).map(|segment| {
            let (from, to) = (from.clone(), to.clone());
            async move {
                let pages: Vec<_> = self
                    .client
                    .scan()
                    .table_name(&self.tables.ledger)
                    .segment(segment)
                    .total_segments(SEGMENTS)
                    .filter_expression("attribute_exists(outcome.counted) AND outcome.#at BETWEEN :from AND :to")
                    .projection_expression("outcome")
                    .expression_attribute_names("#at", "at")
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":to", s(to))
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await
                    .map_err(sdk_error)?;
                let mut days = CountyDays::default();
                for item in pages.into_iter().flat_map(|p| p.items.unwrap_or_default()) {
                    let Some(value) = item.get("outcome") else { continue };
                    let Ok(outcome) = serde_dynamo::from_attribute_value::<_, wmb_core::ports::DeliveryOutcome>(value.clone()) else { continue };
                    if let Some((at, county, what)) = outcome.counted().filter(|(at, _, _)| wmb_core::time::pacific_date(*at) == date) {
                        days.count(at, county, what);
                    }
                }
                Ok::<_, StoreError>(days)
            }
        });
        let mut all = CountyDays::default();
        for days in futures::future::try_join_all(segments).await? {
            all.merge(days);
        }
        Ok(all)
    }

    /// The counts of each of these counties on a day (a county with none is left out).
    pub async fn county_days(&self, date: NaiveDate, counties: &[CountyCode]) -> Result<BTreeMap<CountyCode, BTreeMap<String, u64>>, StoreError> {
        let mut out = BTreeMap::new();
        for chunk in counties.chunks(100) {
            let keys = chunk.iter().map(|c| std::collections::HashMap::from([("pk".to_string(), s(day_key(date, *c)))])).collect();
            let mut request = Some(aws_sdk_dynamodb::types::KeysAndAttributes::builder().set_keys(Some(keys)).build().map_err(crate::dynamo::unavailable)?);
            while let Some(keys) = request.take() {
                let got = self.client.batch_get_item().request_items(&self.tables.ledger, keys).send().await.map_err(sdk_error)?;
                for item in got.responses.unwrap_or_default().remove(&self.tables.ledger).unwrap_or_default() {
                    let Some(county) = item.get("pk").and_then(|v| v.as_s().ok()).and_then(|k| k.rsplit('#').next()).and_then(CountyCode::parse) else { continue };
                    let counts: BTreeMap<String, u64> = item
                        .iter()
                        .filter(|(k, _)| is_counter_name(k))
                        .filter_map(|(k, v)| match v {
                            AttributeValue::N(x) => x.parse().ok().map(|x| (k.clone(), x)),
                            _ => None,
                        })
                        .collect();
                    out.insert(county, counts);
                }
                request = got.unprocessed_keys.and_then(|mut u| u.remove(&self.tables.ledger)).filter(|k| !k.keys.is_empty());
            }
        }
        Ok(out)
    }
}
