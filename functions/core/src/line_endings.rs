//! Line endings of county files: a Windows spreadsheet saves CR LF, which the CSV reader counts
//! one line late.

use std::io::Read;

/// Passes a file through, noting whether its first line ends with CR LF (what a Windows
/// spreadsheet saves). The CSV reader places a record after a CR LF at the LF before it, one
/// byte and one line early: [`LineEndings::record_start`] puts it where it is.
pub struct LineEndings<R> {
    inner: R,
    /// Known once the first LF has passed.
    crlf: Option<bool>,
    last: u8,
}

impl<R> LineEndings<R> {
    pub fn new(inner: R) -> Self {
        LineEndings { inner, crlf: None, last: 0 }
    }

    /// Where a record the CSV reader placed at `pos` starts: (byte, line).
    pub fn record_start(&self, pos: &csv::Position) -> (u64, u64) {
        let shift = (self.crlf == Some(true) && pos.byte() > 0) as u64;
        (pos.byte() + shift, pos.line() + shift)
    }
}

impl<R: Read> Read for LineEndings<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.crlf.is_none() {
            for &b in &buf[..n] {
                if b == b'\n' {
                    self.crlf = Some(self.last == b'\r');
                    break;
                }
                self.last = b;
            }
        }
        Ok(n)
    }
}
