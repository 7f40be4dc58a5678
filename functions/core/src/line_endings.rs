//! Line numbers of county files as a county counts them. The CSV reader places a record where
//! its parse began: after a Windows spreadsheet's CR LF one byte and one line early, after blank
//! lines at the first blank one, and it counts only LF, so a file saved with CR alone (an old
//! Mac export) is all "line 1". [`LineEndings`] passes the file through, noting where each line
//! that is not empty starts (CR LF, LF and CR each end a line), and
//! [`LineEndings::record_start`] puts a record at the first of those at or after the reader's
//! place.

use std::collections::VecDeque;
use std::io::Read;

/// How far behind the bytes read a record's start is still looked up: more than a part of a large
/// file (32 MiB), so a row that a quote left open stretches over a whole part is still placed
/// right. (A record longer still falls back to the reader's own count.) About 16 bytes a line.
const WINDOW: u64 = 64 << 20;

/// Passes a file through, noting where its lines start.
pub struct LineEndings<R> {
    inner: R,
    /// Bytes passed so far.
    read: u64,
    /// The line the next byte is on (the first line is 1).
    line: u64,
    /// The last byte was CR (an LF right after it ends no other line).
    after_cr: bool,
    /// The next byte starts a line.
    at_line_start: bool,
    /// (byte, line) where each recent line that is not empty starts, oldest first.
    starts: VecDeque<(u64, u64)>,
    /// Starts before this byte were forgotten.
    forgotten_below: u64,
    window: u64,
}

impl<R> LineEndings<R> {
    pub fn new(inner: R) -> Self {
        Self::with_window(inner, WINDOW)
    }

    fn with_window(inner: R, window: u64) -> Self {
        LineEndings { inner, read: 0, line: 1, after_cr: false, at_line_start: true, starts: VecDeque::new(), forgotten_below: 0, window }
    }

    /// Where a record the CSV reader placed at `pos` starts: (byte, line).
    pub fn record_start(&self, pos: &csv::Position) -> (u64, u64) {
        self.start_at(pos.byte()).unwrap_or((pos.byte(), pos.line()))
    }

    /// The first line that is not empty starting at or after `byte`, read so far: (byte, line).
    pub fn start_at(&self, byte: u64) -> Option<(u64, u64)> {
        if byte < self.forgotten_below {
            return None;
        }
        self.starts.get(self.starts.partition_point(|(b, _)| *b < byte)).copied()
    }

    fn note(&mut self, buf: &[u8]) {
        let mut i = 0;
        while i < buf.len() {
            match buf[i] {
                b'\n' if self.after_cr => {
                    self.after_cr = false;
                }
                b @ (b'\n' | b'\r') => {
                    self.line += 1;
                    self.at_line_start = true;
                    self.after_cr = b == b'\r';
                }
                _ => {
                    if self.at_line_start {
                        self.starts.push_back((self.read + i as u64, self.line));
                        self.at_line_start = false;
                    }
                    self.after_cr = false;
                    // The rest of the line says nothing.
                    i = memchr::memchr2(b'\n', b'\r', &buf[i..]).map_or(buf.len(), |k| i + k);
                    continue;
                }
            }
            i += 1;
        }
        self.read += buf.len() as u64;
        while self.starts.front().is_some_and(|(b, _)| b + self.window < self.read) && self.starts.len() > 1 {
            let (b, _) = self.starts.pop_front().expect("not empty");
            self.forgotten_below = b + 1;
        }
    }
}

impl<R: Read> Read for LineEndings<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.note(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line each record of a CSV file starts on, as the reader reports it through
    /// [`LineEndings`] (blank records skipped, as the row readers do).
    fn lines(file: &[u8]) -> Vec<u64> {
        lines_within(file, WINDOW)
    }

    fn lines_within(file: &[u8], window: u64) -> Vec<u64> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(64).from_reader(LineEndings::with_window(file, window));
        let mut record = csv::ByteRecord::new();
        let mut out = vec![];
        while reader.read_byte_record(&mut record).unwrap() {
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            out.push(reader.get_ref().record_start(record.position().unwrap()).1);
        }
        out
    }

    #[test]
    fn rows_are_placed_on_their_own_lines_whatever_ends_the_lines() {
        assert_eq!(lines(b"h,h\na,1\nb,2\n"), [1, 2, 3], "LF");
        assert_eq!(lines(b"h,h\r\na,1\r\nb,2\r\n"), [1, 2, 3], "CR LF");
        assert_eq!(lines(b"h,h\ra,1\rb,2\r"), [1, 2, 3], "CR alone");
        assert_eq!(lines(b"h,h\na,1\r\nb,2\r\n"), [1, 2, 3], "an LF header over CR LF rows");
        assert_eq!(lines(b"h,h\n\na,1\n\n\nb,2\n"), [1, 3, 6], "blank lines");
        assert_eq!(lines(b"h,h\r\n\r\na,1\r\n\r\n\r\nb,2"), [1, 3, 6], "blank lines, CR LF");
        assert_eq!(lines(b"h,h\na,\"two\nlines\"\nb,2\n"), [1, 2, 4], "a quoted line break");
        // Long files: past the window, still right
        let mut long = b"h,h\n".to_vec();
        for i in 0..40_000 {
            long.extend_from_slice(format!("row{i},{}\r\n", "x".repeat(40)).as_bytes());
        }
        let got = lines_within(&long, 4096);
        assert_eq!((got.len(), got[40_000]), (40_001, 40_001), "what is kept stays within the window");
    }
}
