//! `bench`: rows per second and peak memory of `check` on statewide-sized VBM files.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn run(sizes: &[u64], scans: &[u64], dir: &Path, keep: bool) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let exe = std::env::current_exe()?;
    println!("| rows | file size | check time | rows/s (one core) | MB/s | peak memory |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for &rows in sizes {
        let path = dir.join(format!("vbm-{rows}.csv"));
        let started = Instant::now();
        crate::generate::write_vbm(&path, rows, 2026)?;
        let generated = started.elapsed();
        let bytes = std::fs::metadata(&path)?.len();
        // Each check runs in a process of its own, so its peak memory is its own.
        let output = Command::new(&exe).args(["check", "--json"]).arg(&path).output()?;
        if !output.status.success() && output.stdout.is_empty() {
            bail!("check failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).context("check --json output")?;
        let secs = report["seconds"].as_f64().unwrap_or(0.0);
        let rss = report["peak_rss_kib"].as_u64().unwrap_or(0);
        if report["rejected"].as_u64() != Some(0) || report["rows"].as_u64() != Some(rows) {
            bail!("the generated file did not check clean: {report}");
        }
        println!(
            "| {rows} | {:.0} MB | {secs:.2} s | {:.2} M | {:.0} | {:.1} MiB |",
            bytes as f64 / 1e6,
            rows as f64 / secs / 1e6,
            bytes as f64 / secs / 1e6,
            rss as f64 / 1024.0
        );
        eprintln!("(generated {rows} rows in {:.1} s)", generated.as_secs_f64());
        if !keep {
            std::fs::remove_file(&path)?;
        }
    }
    scan_bench(scans, dir, keep)
}

/// Scans per second: parse the JSON, validate the IMb, match it to the crosswalk.
fn scan_bench(sizes: &[u64], dir: &Path, keep: bool) -> Result<()> {
    if sizes.is_empty() {
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let crosswalk = dir.join("crosswalk.csv");
    let envelopes = 1_000_000;
    crate::generate::write_crosswalk(&crosswalk, envelopes)?;
    println!();
    println!("| scans (JSON Lines) | crosswalk | file size | check time | scans/s (one core) | peak memory |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for &n in sizes {
        let path = dir.join(format!("scans-{n}.jsonl"));
        crate::generate::write_scans(&path, n, envelopes, 2026)?;
        let bytes = std::fs::metadata(&path)?.len();
        let output = Command::new(&exe).args(["check", "--json", "--arrived", "2026-10-07T00:00:00Z", "--crosswalk"]).arg(&crosswalk).arg(&path).output()?;
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).context("check --json output")?;
        if report["rows"].as_u64() != Some(n) || report["rejected"].as_u64() != Some(0) {
            bail!("the generated scans did not check clean: {report}");
        }
        let secs = report["seconds"].as_f64().unwrap_or(0.0);
        println!(
            "| {n} | {envelopes} envelopes | {:.0} MB | {secs:.2} s | {:.2} M | {:.1} MiB |",
            bytes as f64 / 1e6,
            n as f64 / secs / 1e6,
            report["peak_rss_kib"].as_u64().unwrap_or(0) as f64 / 1024.0
        );
        if !keep {
            std::fs::remove_file(&path)?;
        }
    }
    if !keep {
        std::fs::remove_file(&crosswalk)?;
    }
    Ok(())
}
