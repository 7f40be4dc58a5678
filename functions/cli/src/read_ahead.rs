//! Read-ahead: an iterator's items produced on a thread of their own, a batch at a time, while
//! the caller works on the ones before. `simulate` reads and parses a county file's rows so,
//! leaving its own thread to the pipeline. Memory stays flat: at most [`BATCHES_IN_FLIGHT`]
//! batches wait.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use wmb_core::formats::{FileError, Line, RowError};
use wmb_core::usps::{read_scans, PieceScan};

/// Items sent to the caller at a time.
pub const BATCH: usize = 512;
/// Batches that may wait for the caller.
pub const BATCHES_IN_FLIGHT: usize = 8;

pub struct ReadAhead<T> {
    batches: Receiver<Vec<T>>,
    batch: std::vec::IntoIter<T>,
    producer: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> ReadAhead<T> {
    /// Starts producing `items` on a new thread. Should the caller stop early (drop this), the
    /// thread stops at its next batch.
    pub fn new<I>(items: I) -> ReadAhead<T>
    where
        I: Iterator<Item = T> + Send + 'static,
    {
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        let producer = std::thread::spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            for item in items {
                batch.push(item);
                if batch.len() == BATCH && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                    return;
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
        });
        ReadAhead { batches: rx, batch: Vec::new().into_iter(), producer: Some(producer) }
    }
}

impl<T> Drop for ReadAhead<T> {
    /// Closes the channel (a producer waiting to send stops) and waits for the producer: no
    /// thread outlives the reading it was started for.
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.batches, sync_channel(0).1));
        if let Some(producer) = self.producer.take() {
            let _ = producer.join();
        }
    }
}

impl<T> Iterator for ReadAhead<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.batch.next() {
                return Some(item);
            }
            match self.batches.recv() {
                Ok(batch) => self.batch = batch.into_iter(),
                Err(_) => {
                    // The producer is done, or died: a panic there is a panic here, never a file
                    // that silently ends early.
                    if let Some(Err(panic)) = self.producer.take().map(JoinHandle::join) {
                        std::panic::resume_unwind(panic);
                    }
                    return None;
                }
            }
        }
    }
}

/// A scan feed's records as its reader sends them: each scan, or why its line was refused.
pub type ScanRecords = Receiver<Result<Line<PieceScan>, RowError>>;

/// A scan feed read and parsed on a thread of its own, each record sent as it is read (a feed of
/// millions of scans is never held in memory). Should the caller stop taking records (drop the
/// receiver), the reader stops at its next block of the file: a stopped replay does not parse
/// the rest of a statewide feed first.
pub struct ScanFeed {
    reader: JoinHandle<Result<(), FileError>>,
    name: String,
}

impl ScanFeed {
    /// The feed at `path` (called `name` in reports), as [`ScanFeed::start`] reads it, or why it
    /// cannot be read, for the file's report.
    pub fn open(path: &std::path::Path, name: &str) -> Result<(ScanRecords, ScanFeed), String> {
        let file = File::open(path).map_err(|e| format!("{name}: cannot be read: {e}"))?;
        Ok(ScanFeed::start(name, file))
    }

    /// The feed's records, and the reader to [`ScanFeed::finish`] once they are taken or dropped.
    pub fn start(name: &str, file: File) -> (ScanRecords, ScanFeed) {
        let (tx, records) = sync_channel(4096);
        let stopped = Arc::new(AtomicBool::new(false));
        let input = UntilStopped { inner: file, stopped: stopped.clone() };
        let owned = name.to_string();
        let reader = std::thread::spawn(move || {
            read_scans(&owned, input, |r| {
                if tx.send(r).is_err() {
                    stopped.store(true, Ordering::Relaxed);
                }
            })
        });
        (records, ScanFeed { reader, name: name.to_string() })
    }

    /// Why the feed could not be read to its end, if it could not (a header that does not
    /// match: no record; a file that stops part-way: the records before it were sent).
    pub fn finish(self) -> Option<String> {
        match self.reader.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("{}: the reader stopped", self.name)),
        }
    }
}

/// A file that reads as ended once `stopped` is set.
struct UntilStopped {
    inner: File,
    stopped: Arc<AtomicBool>,
}

impl Read for UntilStopped {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stopped.load(Ordering::Relaxed) {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_comes_through_in_order_across_batches() {
        let n = BATCH * 3 + 7;
        let got: Vec<usize> = ReadAhead::new(0..n).collect();
        assert_eq!(got, (0..n).collect::<Vec<_>>());
        assert_eq!(ReadAhead::new(std::iter::empty::<u8>()).count(), 0);
    }

    #[test]
    fn a_producer_that_panics_is_not_taken_for_the_end_of_the_file() {
        let items = (0..BATCH * 2).map(|i| if i == BATCH + 3 { panic!("parser bug") } else { i });
        let read = std::panic::catch_unwind(|| ReadAhead::new(items).count());
        assert!(read.is_err(), "the panic reaches the caller");
    }

    #[test]
    fn a_caller_that_stops_early_stops_the_producer() {
        let mut items = ReadAhead::new(0..usize::MAX);
        assert_eq!(items.next(), Some(0));
        drop(items); // waits for the producer: it would never return if the producer ran on
    }
}
