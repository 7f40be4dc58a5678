//! Per-file reports: what was accepted, and every rejected row with its line, field and reason.

use anyhow::Result;
use serde::Serialize;
use std::path::Path;
use wmb_core::file_summary::FileSummary;
use wmb_core::formats::{FileKind, RowError};
use wmb_core::signup::Refusal;

/// The report of one county file, written as `<file>.errors.csv` and summarised in summary.json.
#[derive(Debug, Serialize, Clone)]
pub struct FileReport {
    pub file: String,
    pub kind: FileKind,
    pub accepted: u64,
    pub rejected: u64,
    /// Sign-ups that were well formed but refused (no match, needs VoteCal ID, not active).
    pub refused: u64,
    /// Scans accepted but not used: the county does not use IMbs for that direction.
    pub not_used: u64,
    /// The whole file could not be read (bad header, unreadable): nothing in it was used.
    pub file_error: Option<String>,
    /// Milestones the file decided, by message.
    pub milestones: std::collections::BTreeMap<String, u64>,
    #[serde(skip)]
    pub errors: Vec<RowError>,
}

impl FileReport {
    pub fn new(file: &str, kind: FileKind) -> Self {
        FileReport { file: file.to_string(), kind, accepted: 0, rejected: 0, refused: 0, not_used: 0, file_error: None, milestones: Default::default(), errors: vec![] }
    }

    pub fn reject(&mut self, e: RowError) {
        self.rejected += 1;
        self.errors.push(e);
    }

    pub fn reject_field(&mut self, line: u64, field: &str, reason: String) {
        self.reject(RowError { line, field: field.to_string(), reason });
    }

    pub fn refuse(&mut self, line: u64, refusal: Refusal) {
        self.refused += 1;
        self.errors.push(RowError { line, field: "signup".into(), reason: refusal.report_reason() });
    }

    /// Writes `<dir>/<file>.errors.csv` (line,field,reason), header only when all is well, and
    /// `<dir>/<file>.summary.csv` beside it.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let name = self.file.replace(['/', '\\'], "_");
        let summary = FileSummary {
            accepted: self.accepted,
            rejected: self.rejected,
            refused: self.refused,
            not_used: Some(self.not_used),
            kept: None,
            milestones: self.milestones.clone(),
            unreadable: self.file_error.is_some(),
        };
        std::fs::write(dir.join(format!("{name}.summary.csv")), summary.to_csv())?;
        let mut w = csv::Writer::from_path(dir.join(format!("{name}.errors.csv")))?;
        w.write_record(["line", "field", "reason"])?;
        if let Some(e) = &self.file_error {
            w.write_record(["1", "file", e.as_str()])?;
        }
        let mut errors: Vec<&RowError> = self.errors.iter().collect();
        errors.sort_by_key(|e| e.line);
        for e in errors {
            w.write_record([e.line.to_string().as_str(), e.field.as_str(), e.reason.as_str()])?;
        }
        w.flush()?;
        Ok(())
    }
}
