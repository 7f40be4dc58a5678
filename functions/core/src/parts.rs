//! A large county file read in parts: byte ranges that start at a record boundary, each with the
//! line number its first record has in the file, so that parts can be read in parallel and every
//! rejected row is still reported at its own line.
//!
//! A part is read as the file's header (its first `header_len` bytes) followed by the bytes
//! `start..end`. Delimited files (every CSV kind, and scans with a header) are cut where the CSV
//! reader starts a record, so a quoted line break never splits a row; JSON Lines are cut at line
//! starts. A scan feed written as one JSON array cannot be cut and is read whole.

use crate::formats::{FileError, FileKind};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read};

/// One part of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// 0, 1, 2 … in file order.
    pub index: u32,
    /// The first byte of the part's first record.
    pub start: u64,
    /// One past the part's last byte.
    pub end: u64,
    /// The line (in the file, the header is line 1) where the part's first record starts.
    pub first_line: u64,
    /// The header: bytes `0..header_len`, read before the part (0 for JSON Lines).
    pub header_len: u64,
    /// The line where the file's first record starts (what a reader of header + part sees).
    pub data_line: u64,
}

impl Part {
    /// What to add to a line number seen reading header + part to get the file's line number.
    pub fn line_offset(&self) -> u64 {
        // (Saturating: a record whose start the reader could not place, see LineEndings.)
        self.first_line.saturating_sub(self.data_line)
    }
}

/// A row longer than this is a quote left open (rows are a few hundred bytes): planning refuses
/// the file, naming the line, rather than reading the rest of it as one row.
pub const RUNAWAY_RECORD_BYTES: u64 = 1 << 20;

/// How a file's records are delimited, from its kind and first bytes.
fn shape(kind: FileKind, head: &[u8]) -> Option<Option<u8>> {
    let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = start.iter().find(|b| !b.is_ascii_whitespace());
    match (kind, first) {
        (FileKind::Scans, Some(b'[')) => None,
        (FileKind::Scans, Some(b'{')) => Some(None),
        (FileKind::Scans, _) => {
            let header = start.split(|b| *b == b'\n').next().unwrap_or_default();
            Some(Some(if header.contains(&b'|') { b'|' } else { b',' }))
        }
        _ => Some(Some(b',')),
    }
}

/// Whether a file of this kind, beginning with `head`, can be read in parts.
pub fn splittable(kind: FileKind, head: &[u8]) -> bool {
    shape(kind, head).is_some()
}

/// Plans the parts of a file of `total` bytes, each about `part_bytes` long (one part for a small
/// file, or one that cannot be cut). Reads the whole file once, keeping nothing of it.
pub fn plan(file: &str, kind: FileKind, head: &[u8], input: impl Read, total: u64, part_bytes: u64) -> Result<Vec<Part>, FileError> {
    let unreadable = |e: &dyn std::fmt::Display| FileError::Unreadable { file: file.to_string(), reason: e.to_string() };
    let part_bytes = part_bytes.max(1);
    // Record starts: (byte, line), in order.
    let mut starts: Vec<(u64, u64)> = vec![];
    let mut next_cut = 0u64;
    let mut header_len = 0u64;
    let mut data_line = 1u64;
    let mut keep = |byte: u64, line: u64, starts: &mut Vec<(u64, u64)>| {
        if byte >= next_cut {
            starts.push((byte, line));
            next_cut = byte + part_bytes;
        }
    };
    match shape(kind, head) {
        None => return Ok(vec![Part { index: 0, start: 0, end: total, first_line: 1, header_len: 0, data_line: 1 }]),
        Some(None) => {
            let mut reader = BufReader::with_capacity(1 << 16, input);
            let (mut byte, mut line) = (0u64, 1u64);
            let mut buf = vec![];
            loop {
                buf.clear();
                let n = reader.read_until(b'\n', &mut buf).map_err(|e| unreadable(&e))? as u64;
                if n == 0 {
                    break;
                }
                keep(byte, line, &mut starts);
                byte += n;
                line += 1;
            }
        }
        Some(Some(delimiter)) => {
            // Only where records start is wanted, not their fields: the CSV parser's own core
            // keeps nothing of a record, so a quote left open cannot make it hold the rest of a
            // statewide file; such a record is refused once it passes RUNAWAY_RECORD_BYTES.
            let mut input = crate::line_endings::LineEndings::new(input);
            let mut csv = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
            let (mut buf, mut output, mut ends) = (vec![0u8; 1 << 16], vec![0u8; 1 << 12], vec![0usize; 64]);
            let (mut filled, mut at, mut offset, mut record_began, mut records) = (0usize, 0usize, 0u64, 0u64, 0u64);
            loop {
                if at == filled {
                    filled = input.read(&mut buf).map_err(|e| unreadable(&e))?;
                    at = 0;
                }
                let (result, nin, _, _) = csv.read_record(&buf[at..filled], &mut output, &mut ends);
                at += nin;
                offset += nin as u64;
                match result {
                    csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {
                        if offset - record_began > RUNAWAY_RECORD_BYTES {
                            let line = input.start_at(record_began).map_or(0, |(_, l)| l);
                            return Err(FileError::RowTooLong { file: file.to_string(), line, mib: RUNAWAY_RECORD_BYTES >> 20 });
                        }
                    }
                    csv_core::ReadRecordResult::Record => {
                        if let Some((byte, line)) = input.start_at(record_began) {
                            if records == 1 && header_len == 0 {
                                header_len = byte;
                                data_line = line;
                            }
                            if records >= 1 {
                                keep(byte, line, &mut starts);
                            }
                        }
                        records += 1;
                        record_began = offset;
                    }
                    csv_core::ReadRecordResult::End => break,
                }
            }
        }
    }
    if starts.is_empty() {
        return Ok(vec![Part { index: 0, start: header_len, end: total, first_line: data_line, header_len, data_line }]);
    }
    if header_len == 0 && !matches!(shape(kind, head), Some(None)) {
        header_len = starts[0].0;
    }
    let ends: Vec<u64> = starts.iter().skip(1).map(|(b, _)| *b).chain([total]).collect();
    Ok(starts
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(i, (&(start, first_line), end))| Part { index: i as u32, start, end, first_line, header_len, data_line })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{read_rows, VbmStatus};

    /// Reads every part as a reader of it would (header + range) and returns (line, votecal_id)
    /// of each row, and each rejected row's line.
    fn read_in_parts(file: &[u8], part_bytes: u64) -> (Vec<Part>, Vec<(u64, String)>, Vec<u64>) {
        let parts = plan("f.csv", FileKind::Vbm, &file[..file.len().min(4096)], file, file.len() as u64, part_bytes).unwrap();
        let (mut rows, mut bad) = (vec![], vec![]);
        for p in &parts {
            let mut bytes = file[..p.header_len as usize].to_vec();
            bytes.extend_from_slice(&file[p.start as usize..p.end as usize]);
            for r in read_rows::<_, VbmStatus>("f.csv", &bytes[..]).unwrap() {
                match r {
                    Ok(l) => rows.push((l.line + p.line_offset(), l.row.votecal_id)),
                    Err(e) => bad.push(e.line + p.line_offset()),
                }
            }
        }
        (parts, rows, bad)
    }

    #[test]
    fn parts_cover_every_row_once_and_report_rows_at_their_own_lines_whatever_the_line_endings() {
        for newline in ["\n", "\r\n"] {
            let mut file = format!("\u{feff}votecal_id,county_code,election_id,ballot_id,status_code,status_time{newline}");
            for i in 0..200 {
                // Row 57 spans two lines (a quoted line break in a ballot id); row 120 is bad.
                let ballot = if i == 57 { "\"B\nX\"".to_string() } else { format!("B{i}") };
                let code = if i == 120 { "MAILED" } else { "ISSUED" };
                file.push_str(&format!("CA{i:09},19,2026-11-03-GEN,{ballot},{code},2026-10-05T09:00:00-07:00{newline}"));
            }
            let whole = read_in_parts(file.as_bytes(), 1 << 30);
            assert_eq!(whole.0.len(), 1);
            for part_bytes in [1, 100, 777, 4096] {
                let (parts, rows, bad) = read_in_parts(file.as_bytes(), part_bytes);
                assert!(parts.len() > 1 || part_bytes == 4096, "{part_bytes}: {}", parts.len());
                assert_eq!((&rows, &bad), (&whole.1, &whole.2), "{part_bytes} bytes a part, {newline:?}");
            }
            assert_eq!(whole.1.len(), 198);
            assert_eq!(whole.1[0], (2, "CA000000000".to_string()), "{newline:?}");
            // Row 57 (a ballot id with a line break) is refused at its line; row 120 is on line
            // 123, after the header and the two lines of row 57.
            assert_eq!(whole.2, vec![59, 123]);
        }
    }

    #[test]
    fn a_quote_left_open_in_a_large_file_is_refused_at_its_line_without_reading_the_rest_as_one_row() {
        let mut file = "votecal_id,county_code,election_id,ballot_id,status_code,status_time\r\n".to_string();
        file.push_str("CA1,19,2026-11-03-GEN,B1,ISSUED,2026-10-05T09:00:00-07:00\r\n");
        file.push_str("CA2,19,2026-11-03-GEN,\"B2,ISSUED,2026-10-05T09:00:00-07:00\r\n");
        while file.len() < 3 << 20 {
            file.push_str("CA3,19,2026-11-03-GEN,B3,ISSUED,2026-10-05T09:00:00-07:00\r\n");
        }
        let err = plan("f.csv", FileKind::Vbm, &file.as_bytes()[..4096], file.as_bytes(), file.len() as u64, 1 << 20).unwrap_err();
        assert!(matches!(err, FileError::RowTooLong { line: 3, mib: 1, .. }), "{err}");
        assert!(err.to_string().contains("line 3: a row runs on"), "{err}");
    }

    #[test]
    fn json_lines_are_cut_at_line_starts_and_a_json_array_is_read_whole() {
        let file = b"{\"imb\":\"1\"}\n{\"imb\":\"2\"}\n\n{\"imb\":\"3\"}\n";
        let parts = plan("s.jsonl", FileKind::Scans, file, &file[..], file.len() as u64, 1).unwrap();
        assert_eq!(parts.iter().map(|p| (p.start, p.first_line, p.line_offset())).collect::<Vec<_>>(), vec![(0, 1, 0), (12, 2, 1), (24, 3, 2), (25, 4, 3)]);
        assert_eq!(parts.last().unwrap().end, file.len() as u64);
        let array = b"[{\"imb\":\"1\"},{\"imb\":\"2\"}]";
        assert_eq!(plan("s.json", FileKind::Scans, array, &array[..], 26, 1).unwrap().len(), 1);
        assert!(!splittable(FileKind::Scans, array));
    }
}
