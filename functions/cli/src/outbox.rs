//! The outbox: what SES, SNS and Connect would have been asked to send, one JSON line each.
//!
//! Lines are written on a thread of their own (serialized there, and compressed there when the
//! outbox is `outbox.jsonl.zst`), so a large replay's writing runs on the second core. Once a
//! write fails, every later dispatch is refused (a temporary failure the ledger records), and
//! `flush` and `finish` return the error: `simulate` then fails rather than report messages it
//! could not write.

use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use wmb_core::ports::{DeliveryError, Dispatcher, OutgoingMessage};

/// One line of `outbox.jsonl`.
#[derive(Debug, Serialize, serde::Deserialize, Clone, PartialEq, Eq)]
pub struct OutboxLine {
    pub voter_id: String,
    pub election_id: Option<String>,
    pub ballot_id: Option<String>,
    pub message: String,
    pub channel: String,
    pub language: String,
    pub send_at: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub html: Option<String>,
    pub key: String,
    /// Voice only: how the call speaks.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub voice: Option<wmb_core::voice::VoiceRendering>,
    /// Email only: the one-click unsubscribe link its `List-Unsubscribe` header carries.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub list_unsubscribe: Option<String>,
}

/// Lines handed to the writer at a time.
const BATCH: usize = 256;

enum Job {
    Lines(Vec<OutboxLine>),
    /// Everything before this is written through to the file; the answer says whether it was.
    Flush(SyncSender<std::io::Result<()>>),
}

struct Pending {
    lines: Vec<OutboxLine>,
    count: u64,
    jobs: Option<SyncSender<Job>>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
}

pub struct Outbox {
    state: Mutex<Pending>,
    /// What a line's id starts with: `outbox-`, or `outbox-<k>-` in lane k of several.
    ids: String,
    /// Set by the writer when a write fails.
    failed: Arc<AtomicBool>,
}

/// Where the lines go: the file as it is, or a zstd stream (`*.zst`).
enum Sink {
    Plain(BufWriter<File>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

impl Sink {
    fn out(&mut self) -> &mut dyn Write {
        match self {
            Sink::Plain(w) => w,
            Sink::Zstd(w) => w,
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Zstd(w) => w.finish()?.flush(),
        }
    }
}

fn write_lines(mut sink: Sink, jobs: Receiver<Job>, flag: Arc<AtomicBool>) -> std::io::Result<()> {
    let mut failed: Option<std::io::Error> = None;
    let mut buffer = Vec::with_capacity(1 << 16);
    for job in jobs {
        match job {
            Job::Lines(lines) => {
                if failed.is_some() {
                    continue;
                }
                // Written a batch at a time: the compressor takes one large write faster than
                // many small ones.
                buffer.clear();
                let serialized = lines.iter().try_for_each(|line| {
                    serde_json::to_writer(&mut buffer, line)?;
                    buffer.push(b'\n');
                    Ok::<_, serde_json::Error>(())
                });
                if let Err(e) = serialized.map_err(std::io::Error::other).and_then(|()| sink.out().write_all(&buffer)) {
                    flag.store(true, Ordering::SeqCst);
                    failed = Some(e);
                }
            }
            Job::Flush(answer) => {
                let flushed = match &failed {
                    Some(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
                    None => sink.out().flush().inspect_err(|_| flag.store(true, Ordering::SeqCst)),
                };
                let _ = answer.send(flushed);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => sink.finish(),
    }
}

impl Outbox {
    /// An outbox at `path`; a name ending in `.zst` is written zstd-compressed (a statewide
    /// replay's outbox is tens of gigabytes as plain text, about a twentieth of that compressed).
    pub fn create(path: &Path) -> std::io::Result<Outbox> {
        Outbox::create_lane(path, 0, 1)
    }

    /// The outbox of lane `lane` of `lanes` (`lanes.rs`): its ids name the lane when there are
    /// several.
    pub fn create_lane(path: &Path, lane: usize, lanes: usize) -> std::io::Result<Outbox> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let sink = if path.extension().is_some_and(|x| x == "zst") {
            Sink::Zstd(zstd::stream::write::Encoder::new(file, 1)?)
        } else {
            Sink::Plain(file)
        };
        let (jobs, receiver) = sync_channel(64);
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        let writer = std::thread::Builder::new().name("outbox".into()).spawn(move || write_lines(sink, receiver, flag))?;
        let state = Pending { lines: Vec::with_capacity(BATCH), count: 0, jobs: Some(jobs), writer: Some(writer) };
        let ids = if lanes > 1 { format!("outbox-{lane}-") } else { "outbox-".to_string() };
        Ok(Outbox { state: Mutex::new(state), ids, failed })
    }

    /// Writes everything dispatched so far through to the file; the number of lines so far.
    pub fn flush(&self) -> std::io::Result<u64> {
        let mut g = self.state.lock().expect("outbox poisoned");
        let Pending { lines, count, jobs, .. } = &mut *g;
        let jobs = jobs.as_ref().ok_or_else(|| std::io::Error::other("the outbox is finished"))?;
        let lines = std::mem::take(lines);
        let (answer, flushed) = sync_channel(1);
        let gone = || std::io::Error::other("the outbox's writer stopped");
        jobs.send(Job::Lines(lines)).map_err(|_| gone())?;
        jobs.send(Job::Flush(answer)).map_err(|_| gone())?;
        flushed.recv().map_err(|_| gone())??;
        Ok(*count)
    }

    /// Writes the rest and closes the file (a zstd stream gets its end); the number of lines.
    pub fn finish(&self) -> std::io::Result<u64> {
        let count = self.flush()?;
        let mut g = self.state.lock().expect("outbox poisoned");
        g.jobs = None;
        if let Some(writer) = g.writer.take() {
            writer.join().map_err(|_| std::io::Error::other("the outbox's writer panicked"))??;
        }
        Ok(count)
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        if let Ok(g) = self.state.get_mut() {
            if g.writer.is_some() {
                let _ = self.finish();
            }
        }
    }
}

impl Dispatcher for Outbox {
    /// False: no receipts come to the outbox: nothing to index.
    fn receipts_find_it_by_id(&self, _msg: &OutgoingMessage) -> bool {
        false
    }

    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        let line = OutboxLine {
            voter_id: msg.votecal_id.clone(),
            election_id: msg.election_id.clone(),
            ballot_id: msg.ballot_id.clone(),
            message: msg.kind.key().to_string(),
            channel: msg.channel.to_string(),
            language: msg.language.to_string(),
            send_at: msg.send_at.to_rfc3339(),
            to: msg.to.clone(),
            subject: msg.rendered.subject.clone(),
            body: msg.rendered.text.clone(),
            html: msg.rendered.html.clone(),
            key: msg.key.clone(),
            voice: msg.voice.clone(),
            list_unsubscribe: msg.unsubscribe_url.clone(),
        };
        let mut g = self.state.lock().expect("outbox poisoned");
        if g.jobs.is_none() || self.failed.load(Ordering::SeqCst) {
            return Err(DeliveryError::Temporary("the outbox cannot be written".into()));
        }
        g.lines.push(line);
        g.count += 1;
        let id = format!("{}{}", self.ids, g.count);
        if g.lines.len() >= BATCH {
            let lines = std::mem::replace(&mut g.lines, Vec::with_capacity(BATCH));
            let jobs = g.jobs.as_ref().ok_or_else(|| DeliveryError::Temporary("the outbox is finished".into()))?;
            jobs.send(Job::Lines(lines)).map_err(|_| DeliveryError::Temporary("the outbox's writer stopped".into()))?;
        }
        Ok(id)
    }
}
