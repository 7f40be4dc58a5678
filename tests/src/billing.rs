//! What AWS bills for the requests the functions make, counted from the wire as an SDK
//! interceptor sees it: DynamoDB read and write units from item sizes (not calls), SQS requests
//! in 64 KB chunks, EventBridge entries, S3 requests by class. What the SDK does not call but AWS
//! bills (the SQS event source's receives and deletes, Scheduler invocations) the harness adds.
//!
//! Item sizes follow DynamoDB's rules: attribute names plus values (strings by UTF-8 length,
//! numbers about one byte per two digits plus one, maps and lists 3 bytes plus one per element).
//! Writes bill 1 unit per started KB of the item written; reads 1 unit per started 4 KB, half for
//! an eventually consistent read; a query sums its items before rounding. An update or delete
//! bills the item it touches, which the request does not show: counted as one unit (every item
//! this service updates or deletes is under 1 KB).

use serde_json::Value;
use std::collections::BTreeMap;

/// On-demand prices in us-east-1 (USD per million), as of November 2026.
pub const PRICE_WRU: f64 = 0.625;
pub const PRICE_RRU: f64 = 0.125;
pub const PRICE_SQS: f64 = 0.40;
pub const PRICE_EVENT: f64 = 1.00;
pub const PRICE_SCHEDULER: f64 = 1.00;
pub const PRICE_S3_PUT: f64 = 5.00;
pub const PRICE_S3_GET: f64 = 0.40;

/// Billed units, by what they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bill {
    /// DynamoDB write request units (global secondary index writes included).
    pub wru: f64,
    /// DynamoDB read request units.
    pub rru: f64,
    /// SQS requests (each 64 KB of a payload is one).
    pub sqs: f64,
    /// EventBridge entries (each 64 KB is one).
    pub events: f64,
    /// EventBridge Scheduler invocations.
    pub scheduler: f64,
    /// S3 PUT, COPY, POST and LIST requests.
    pub s3_put: f64,
    /// S3 GET and HEAD requests.
    pub s3_get: f64,
    /// Write units by table, to see where they go.
    pub wru_by_table: BTreeMap<String, f64>,
    pub rru_by_table: BTreeMap<String, f64>,
}

impl Bill {
    /// Every billed unit, summed: the "billable requests" of the README.
    pub fn requests(&self) -> f64 {
        self.wru + self.rru + self.sqs + self.events + self.scheduler + self.s3_put + self.s3_get
    }

    /// USD at on-demand prices.
    pub fn dollars(&self) -> f64 {
        (self.wru * PRICE_WRU
            + self.rru * PRICE_RRU
            + self.sqs * PRICE_SQS
            + self.events * PRICE_EVENT
            + self.scheduler * PRICE_SCHEDULER
            + self.s3_put * PRICE_S3_PUT
            + self.s3_get * PRICE_S3_GET)
            / 1e6
    }

    /// This bill and another, added up.
    pub fn plus(&self, other: &Bill) -> Bill {
        let mut sum = self.clone();
        sum.wru += other.wru;
        sum.rru += other.rru;
        sum.sqs += other.sqs;
        sum.events += other.events;
        sum.scheduler += other.scheduler;
        sum.s3_put += other.s3_put;
        sum.s3_get += other.s3_get;
        for (table, units) in &other.wru_by_table {
            *sum.wru_by_table.entry(table.clone()).or_default() += units;
        }
        for (table, units) in &other.rru_by_table {
            *sum.rru_by_table.entry(table.clone()).or_default() += units;
        }
        sum
    }

    fn write(&mut self, table: &str, units: f64) {
        self.wru += units;
        *self.wru_by_table.entry(short(table)).or_default() += units;
    }

    fn read(&mut self, table: &str, units: f64) {
        self.rru += units;
        *self.rru_by_table.entry(short(table)).or_default() += units;
    }

    /// Bills one request: `request` and `response` are the JSON bodies (empty for S3).
    pub fn add(&mut self, service: &str, operation: &str, request: &Value, response: &Value) {
        match service {
            "DynamoDB" => self.dynamodb(operation, request, response),
            "SQS" => {
                let bytes = serde_json::to_vec(request).map_or(0, |b| b.len());
                self.sqs += bytes.div_ceil(65_536).max(1) as f64;
            }
            "EventBridge" => {
                let entries = request["Entries"].as_array().map_or(0, |e| e.len());
                self.events += entries as f64;
            }
            "S3" => match operation {
                "GetObject" | "HeadObject" => self.s3_get += 1.0,
                "DeleteObject" | "DeleteObjects" => {}
                _ => self.s3_put += 1.0,
            },
            _ => {}
        }
    }

    fn dynamodb(&mut self, operation: &str, request: &Value, response: &Value) {
        let table = request["TableName"].as_str().unwrap_or_default();
        let factor = |req: &Value| {
            if req["ConsistentRead"].as_bool() == Some(true) {
                1.0
            } else {
                0.5
            }
        };
        match operation {
            "PutItem" => {
                let units = write_units(&request["Item"]);
                self.write(table, units * index_copies(table));
            }
            // (A sent message's ledger update sets provider_id, the key of the by_provider
            // index: the index's copy is billed too.)
            "UpdateItem" if table.ends_with("-ledger") && request["UpdateExpression"].as_str().is_some_and(|e| e.contains("provider_id =")) => self.write(table, 2.0),
            "UpdateItem" | "DeleteItem" => self.write(table, 1.0),
            "GetItem" => {
                let size = item_size(&response["Item"]);
                self.read(table, read_units(size) * factor(request));
            }
            "Query" | "Scan" => {
                let size: u64 = response["Items"]
                    .as_array()
                    .map_or(0, |items| items.iter().map(item_size).sum());
                self.read(table, read_units(size) * factor(request));
            }
            "BatchGetItem" => {
                for (table, ask) in request["RequestItems"].as_object().into_iter().flatten() {
                    let got = response["Responses"][table]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    let asked = ask["Keys"].as_array().map_or(0, |k| k.len());
                    let unprocessed = response["UnprocessedKeys"][table]["Keys"]
                        .as_array()
                        .map_or(0, |k| k.len());
                    let mut units: f64 = got.iter().map(|i| read_units(item_size(i))).sum();
                    // A key that found nothing still bills the smallest read.
                    units += asked.saturating_sub(got.len() + unprocessed) as f64;
                    self.read(table, units * factor(ask));
                }
            }
            "BatchWriteItem" => {
                for (table, requests) in request["RequestItems"].as_object().into_iter().flatten() {
                    let unprocessed = response["UnprocessedItems"][table]
                        .as_array()
                        .map_or(0, |u| u.len());
                    let mut units = 0.0;
                    for r in requests.as_array().into_iter().flatten() {
                        units += if r["PutRequest"].is_object() {
                            write_units(&r["PutRequest"]["Item"]) * index_copies(table)
                        } else {
                            1.0
                        };
                    }
                    // Unprocessed requests are retried and billed then (approximately: as 1 unit).
                    self.write(table, (units - unprocessed as f64).max(0.0));
                }
            }
            "TransactWriteItems" => {
                for item in request["TransactItems"].as_array().into_iter().flatten() {
                    let Some((op, body)) = item.as_object().and_then(|o| o.iter().next()) else {
                        continue;
                    };
                    let units = if op == "Put" {
                        write_units(&body["Item"])
                    } else {
                        1.0
                    };
                    self.write(body["TableName"].as_str().unwrap_or_default(), 2.0 * units);
                }
            }
            _ => {}
        }
    }
}

/// The voter roll's table keeps a global secondary index (identity, all attributes): every
/// write to it is billed twice.
fn index_copies(table: &str) -> f64 {
    if table.ends_with("-voters") {
        2.0
    } else {
        1.0
    }
}

fn short(table: &str) -> String {
    table.rsplit('-').next().unwrap_or(table).to_string()
}

fn write_units(item: &Value) -> f64 {
    item_size(item).div_ceil(1024).max(1) as f64
}

fn read_units(size: u64) -> f64 {
    size.div_ceil(4096).max(1) as f64
}

/// The size DynamoDB bills for an item given in its JSON wire form.
pub fn item_size(item: &Value) -> u64 {
    item.as_object().map_or(0, |attrs| {
        attrs
            .iter()
            .map(|(name, v)| name.len() as u64 + value_size(v))
            .sum()
    })
}

/// A number's billed size: one byte per two significant digits, and one more.
fn number_size(n: &str) -> u64 {
    (n.trim_start_matches('-').replace('.', "").len() as u64).div_ceil(2) + 1
}

fn value_size(v: &Value) -> u64 {
    let Some((kind, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, |s| s.len() as u64),
        "N" => inner.as_str().map_or(1, number_size),
        "B" => inner.as_str().map_or(0, |b| b.len() as u64 * 3 / 4),
        "BOOL" | "NULL" => 1,
        "M" => {
            3 + inner.as_object().map_or(0, |m| {
                m.iter().map(|(k, v)| k.len() as u64 + value_size(v)).sum()
            })
        }
        "L" => {
            3 + inner
                .as_array()
                .map_or(0, |l| l.iter().map(|v| 1 + value_size(v)).sum())
        }
        "SS" => inner.as_array().map_or(0, |l| {
            l.iter()
                .map(|s| s.as_str().map_or(0, |s| s.len() as u64))
                .sum()
        }),
        _ => 0,
    }
}

/// The largest item in a table, in the bytes DynamoDB bills (a scan, for the tests: an update
/// or delete is billed by the item's size before and after it, which the interceptor does not
/// see, so it bills them as one unit and the test checks that the items are that small).
pub async fn largest_item(ddb: &aws_sdk_dynamodb::Client, table: &str) -> u64 {
    let pages: Vec<_> = ddb.scan().table_name(table).into_paginator().send().try_collect().await.expect("scan");
    pages.into_iter().flat_map(|p| p.items.unwrap_or_default()).map(|item| item.iter().map(|(k, v)| k.len() as u64 + attribute_size(v)).sum()).max().unwrap_or(0)
}

fn attribute_size(v: &aws_sdk_dynamodb::types::AttributeValue) -> u64 {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    match v {
        A::S(s) => s.len() as u64,
        A::N(n) => number_size(n),
        A::B(b) => b.as_ref().len() as u64,
        A::Bool(_) | A::Null(_) => 1,
        A::M(m) => 3 + m.iter().map(|(k, v)| k.len() as u64 + attribute_size(v)).sum::<u64>(),
        A::L(l) => 3 + l.iter().map(|v| 1 + attribute_size(v)).sum::<u64>(),
        A::Ss(l) => l.iter().map(|s| s.len() as u64).sum(),
        A::Ns(l) => l.iter().map(|n| number_size(n)).sum(),
        A::Bs(l) => l.iter().map(|b| b.as_ref().len() as u64).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_1_2_kb_item_bills_two_write_units_and_an_eventually_consistent_read_half() {
        let item = json!({ "pk": { "S": "CA1" }, "body": { "S": "x".repeat(1200) } });
        let mut bill = Bill::default();
        bill.add(
            "DynamoDB",
            "PutItem",
            &json!({ "TableName": "p-journeys", "Item": item }),
            &json!({}),
        );
        assert_eq!(bill.wru, 2.0);
        bill.add(
            "DynamoDB",
            "GetItem",
            &json!({ "TableName": "p-journeys" }),
            &json!({ "Item": item }),
        );
        assert_eq!(bill.rru, 0.5);
        bill.add(
            "DynamoDB",
            "GetItem",
            &json!({ "TableName": "p-journeys", "ConsistentRead": true }),
            &json!({}),
        );
        assert_eq!(
            bill.rru, 1.5,
            "a read that finds nothing still bills one unit"
        );
    }

    #[test]
    fn a_batch_of_25_small_puts_bills_25_and_the_roll_bills_its_index_too() {
        let put = json!({ "PutRequest": { "Item": { "pk": { "S": "CA1" } } } });
        let mut bill = Bill::default();
        bill.add(
            "DynamoDB",
            "BatchWriteItem",
            &json!({ "RequestItems": { "p-held": vec![put.clone(); 25] } }),
            &json!({}),
        );
        assert_eq!(bill.wru, 25.0);
        bill.add(
            "DynamoDB",
            "PutItem",
            &json!({ "TableName": "p-voters", "Item": { "pk": { "S": "CA1" } } }),
            &json!({}),
        );
        assert_eq!(bill.wru, 27.0);
        // A sent message's record sets the key of the ledger's by_provider index: two units.
        bill.add("DynamoDB", "UpdateItem", &json!({ "TableName": "p-ledger", "UpdateExpression": "SET #s = :done, outcome = :o, provider_id = :p" }), &json!({}));
        bill.add("DynamoDB", "UpdateItem", &json!({ "TableName": "p-ledger", "UpdateExpression": "SET #s = :done, outcome = :o" }), &json!({}));
        assert_eq!(bill.wru, 30.0);
    }

    #[test]
    fn events_bill_per_entry_not_per_call() {
        let mut bill = Bill::default();
        bill.add(
            "EventBridge",
            "PutEvents",
            &json!({ "Entries": [{}, {}, {}] }),
            &json!({}),
        );
        assert_eq!(bill.events, 3.0);
    }
}
