//! The summary written beside each county file's error report (`<file>.summary.csv`): how many
//! rows were read, accepted, rejected and refused, and what they decided. Counts only.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    pub accepted: u64,
    /// Rows rejected (each is in the error report with its line, field and reason).
    pub rejected: u64,
    /// Sign-ups well formed but refused (also in the error report).
    pub refused: u64,
    /// Scans accepted but not used (the county does not use IMbs for that direction), where
    /// the pipeline knows it at ingest.
    pub not_used: Option<u64>,
    /// Rows of voters not signed up, kept where a later sign-up finds them (where the pipeline
    /// knows it at ingest).
    pub kept: Option<u64>,
    /// Milestones the file decided, by message (where decided while the file is read; on AWS
    /// the fan-out decides them after, and the county's daily summary counts the messages).
    pub milestones: BTreeMap<String, u64>,
    /// The file could not be read at all.
    pub unreadable: bool,
}

impl FileSummary {
    /// `what,message,count`, one row per count, always in the same order.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("what,message,count\n");
        let mut row = |what: &str, message: &str, count: u64| out.push_str(&format!("{what},{message},{count}\n"));
        row("file_unreadable", "", u64::from(self.unreadable));
        row("rows_read", "", self.accepted + self.rejected + self.refused);
        row("accepted", "", self.accepted);
        row("rejected", "", self.rejected);
        row("refused", "", self.refused);
        if let Some(not_used) = self.not_used {
            row("not_used", "", not_used);
        }
        if let Some(kept) = self.kept {
            row("kept_until_signup", "", kept);
        }
        for (message, count) in &self.milestones {
            row("milestones", message, *count);
        }
        out
    }
}

/// The summary's name beside an error report's (`x.errors.csv` → `x.summary.csv`).
pub fn summary_name(errors_report: &str) -> String {
    match errors_report.strip_suffix(".errors.csv") {
        Some(stem) => format!("{stem}.summary.csv"),
        None => format!("{errors_report}.summary.csv"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_counts_every_row_once_and_sits_beside_the_error_report() {
        let s = FileSummary { accepted: 118, rejected: 2, refused: 1, not_used: Some(0), kept: Some(80), milestones: BTreeMap::from([("outbound".into(), 30)]), unreadable: false };
        assert_eq!(
            s.to_csv(),
            "what,message,count\nfile_unreadable,,0\nrows_read,,121\naccepted,,118\nrejected,,2\nrefused,,1\nnot_used,,0\nkept_until_signup,,80\nmilestones,outbound,30\n"
        );
        assert_eq!(summary_name("reports/19/vbm/a.csv.errors.csv"), "reports/19/vbm/a.csv.summary.csv");
        assert_eq!(summary_name("reports/19/vbm/a.csv.part0002.errors.csv"), "reports/19/vbm/a.csv.part0002.summary.csv");
    }
}
