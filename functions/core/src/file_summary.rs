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

    /// Reads back what `to_csv` wrote (a piece of a file read in several invocations); None if it
    /// is not such a summary.
    pub fn from_csv(text: &str) -> Option<FileSummary> {
        let mut s = FileSummary::default();
        for row in text.lines().skip(1) {
            let mut fields = row.splitn(3, ',');
            let (what, message, count) = (fields.next()?, fields.next()?, fields.next()?.parse::<u64>().ok()?);
            match what {
                "file_unreadable" => s.unreadable = count > 0,
                "rows_read" => {}
                "accepted" => s.accepted = count,
                "rejected" => s.rejected = count,
                "refused" => s.refused = count,
                "not_used" => s.not_used = Some(count),
                "kept_until_signup" => s.kept = Some(count),
                "milestones" => {
                    s.milestones.insert(message.to_string(), count);
                }
                _ => return None,
            }
        }
        Some(s)
    }

    /// The summary on one line (`what,message,count` rows joined by `;`), as an S3 object's
    /// metadata carries it.
    pub fn to_line(&self) -> String {
        self.to_csv().trim_end().replace('\n', ";")
    }

    /// Reads back what `to_line` wrote.
    pub fn from_line(line: &str) -> Option<FileSummary> {
        FileSummary::from_csv(&line.replace(';', "\n"))
    }

    /// Adds the counts of another piece of the same file.
    pub fn add(&mut self, other: &FileSummary) {
        fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            }
        }
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.refused += other.refused;
        self.not_used = sum(self.not_used, other.not_used);
        self.kept = sum(self.kept, other.kept);
        for (message, count) in &other.milestones {
            *self.milestones.entry(message.clone()).or_default() += count;
        }
        self.unreadable |= other.unreadable;
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
        // Pieces of a file read in several invocations add up to the file's summary.
        let mut whole = FileSummary::from_csv(&s.to_csv()).unwrap();
        assert_eq!(whole, s);
        assert_eq!(FileSummary::from_line(&s.to_line()).unwrap(), s);
        assert!(!s.to_line().contains('\n'));
        whole.add(&FileSummary { accepted: 2, rejected: 1, kept: None, not_used: Some(3), milestones: BTreeMap::from([("outbound".into(), 1), ("accepted".into(), 2)]), ..Default::default() });
        assert_eq!(whole.to_csv(), "what,message,count\nfile_unreadable,,0\nrows_read,,124\naccepted,,120\nrejected,,3\nrefused,,1\nnot_used,,3\nkept_until_signup,,80\nmilestones,accepted,2\nmilestones,outbound,31\n");
        assert_eq!(FileSummary::from_csv("what,message,count\nsomething,,1\n"), None);
    }
}
