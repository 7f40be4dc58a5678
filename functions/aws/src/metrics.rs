//! CloudWatch metrics in Embedded Metric Format: one JSON document a line on standard output,
//! which CloudWatch Logs turns into metrics (no PutMetricData call, no cost per request). A
//! document carries counts and their dimensions (function, kind of file, milestone, channel,
//! language, reason), never a voter, a contact or a status of a named voter.
//!
//! Written here rather than with a metrics-facade crate: the facade's recorder is one per
//! process, and the tests run every function's handler in one process.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// The namespace of the metrics when no stage names its own (METRICS_NAMESPACE). The template
/// gives each stage `WheresMyBallot/<stage>`, and its dashboard and alarms read that one, so a
/// test stage's traffic in the same account never reaches production's alarms.
pub const NAMESPACE: &str = "WheresMyBallot";

/// How many recent documents a [`Metrics`] keeps in memory (for the tests, and for a look from a
/// debugger); the documents themselves go to standard output.
const KEEP: usize = 2000;

/// One metric value in a document.
#[derive(Debug, Clone, Copy)]
pub struct Value64 {
    pub value: f64,
    pub unit: &'static str,
}

pub fn count(n: u64) -> Value64 {
    Value64 { value: n as f64, unit: "Count" }
}

pub fn seconds(s: f64) -> Value64 {
    Value64 { value: s, unit: "Seconds" }
}

/// Writes EMF documents to standard output and keeps the latest ones.
pub struct Metrics {
    namespace: String,
    recent: Mutex<VecDeque<String>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new(NAMESPACE)
    }
}

impl Metrics {
    /// Metrics under `namespace` (the stage's: METRICS_NAMESPACE).
    pub fn new(namespace: &str) -> Metrics {
        Metrics { namespace: namespace.to_string(), recent: Mutex::default() }
    }

    /// One document: the metrics under every dimension set given (each set a list of dimension
    /// names, all of them in `dimensions`; the empty set aggregates over everything).
    pub fn emit(&self, at_ms: i64, dimensions: &[(&str, &str)], sets: &[&[&str]], metrics: &[(&str, Value64)]) {
        if metrics.is_empty() {
            return;
        }
        let line = document(&self.namespace, at_ms, dimensions, sets, metrics).to_string();
        println!("{line}");
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == KEEP {
                recent.pop_front();
            }
            recent.push_back(line);
        }
    }

    /// Counts by key, one document per key: `key` gives the dimension values of an item.
    pub fn emit_counts<K: Ord + Clone>(&self, at_ms: i64, names: &[&str], sets: &[&[&str]], metric: &str, items: impl IntoIterator<Item = K>, key: impl Fn(&K) -> Vec<String>) {
        let mut counts: BTreeMap<K, u64> = BTreeMap::new();
        for item in items {
            *counts.entry(item).or_default() += 1;
        }
        for (k, n) in counts {
            let values = key(&k);
            let dims: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().map(String::as_str)).collect();
            self.emit(at_ms, &dims, sets, &[(metric, count(n))]);
        }
    }

    /// The latest documents, oldest first.
    pub fn recent(&self) -> Vec<String> {
        self.recent.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }
}

/// An EMF document (the `_aws` metadata, then each dimension and metric as a member).
pub fn document(namespace: &str, at_ms: i64, dimensions: &[(&str, &str)], sets: &[&[&str]], metrics: &[(&str, Value64)]) -> Value {
    let mut root = Map::new();
    let definitions: Vec<Value> = metrics.iter().map(|(name, v)| json!({ "Name": name, "Unit": v.unit })).collect();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{ "Namespace": namespace, "Dimensions": sets, "Metrics": definitions }]
        }),
    );
    for (name, value) in dimensions {
        root.insert((*name).into(), json!(value));
    }
    for (name, v) in metrics {
        root.insert((*name).into(), json!(v.value));
    }
    Value::Object(root)
}

/// The documents' values of a metric, summed, for those whose dimensions include `filter`.
pub fn sum(lines: &[String], metric: &str, filter: &[(&str, &str)]) -> f64 {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|d| filter.iter().all(|(k, v)| d[*k].as_str() == Some(*v)))
        .filter_map(|d| d[metric].as_f64())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_what_cloudwatch_reads_as_embedded_metrics() {
        let m = Metrics::new("WheresMyBallot/prod");
        m.emit(1_790_000_000_000, &[("Function", "deliver"), ("Channel", "sms"), ("Language", "es")], &[&["Function", "Channel"], &["Function", "Channel", "Language"]], &[("MessagesSent", count(3)), ("SendsRetried", count(1))]);
        let lines = m.recent();
        let d: Value = serde_json::from_str(&lines[0]).unwrap();
        let meta = &d["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(d["_aws"]["Timestamp"], 1_790_000_000_000i64);
        assert_eq!(meta["Namespace"], "WheresMyBallot/prod", "the stage's own namespace");
        assert_eq!(meta["Dimensions"], json!([["Function", "Channel"], ["Function", "Channel", "Language"]]));
        assert_eq!(meta["Metrics"], json!([{"Name": "MessagesSent", "Unit": "Count"}, {"Name": "SendsRetried", "Unit": "Count"}]));
        // Every dimension a set names, and every metric defined, is a member of the document.
        for set in meta["Dimensions"].as_array().unwrap() {
            for name in set.as_array().unwrap() {
                assert!(d[name.as_str().unwrap()].is_string(), "{name}");
            }
        }
        assert_eq!((d["MessagesSent"].as_f64(), d["Language"].as_str()), (Some(3.0), Some("es")));
        assert_eq!(sum(&lines, "MessagesSent", &[("Channel", "sms")]), 3.0);
        assert_eq!(sum(&lines, "MessagesSent", &[("Channel", "email")]), 0.0);
    }

    #[test]
    fn counts_are_grouped_into_one_document_per_key_and_nothing_is_emitted_for_nothing() {
        let m = Metrics::default();
        m.emit_counts(0, &["Milestone"], &[&["Milestone"]], "MilestonesDecided", ["outbound", "accepted", "outbound"], |k| vec![k.to_string()]);
        m.emit(0, &[], &[&[]], &[]);
        let lines = m.recent();
        assert_eq!(lines.len(), 2);
        assert_eq!(sum(&lines, "MilestonesDecided", &[("Milestone", "outbound")]), 2.0);
        assert_eq!(sum(&lines, "MilestonesDecided", &[]), 3.0);
    }
}
