//! `bench`: rows per second and peak memory of `check` on statewide-sized VBM files.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn run(sizes: &[u64], dir: &Path, keep: bool) -> Result<()> {
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
    Ok(())
}
