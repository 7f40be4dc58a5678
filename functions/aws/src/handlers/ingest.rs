//! Ingest: a county file lands in `incoming/<source>/<kind>/<file>` → its rows, streamed (never
//! the whole file in memory), each checked and written to its table with a conditional write →
//! a report of rejected rows at `reports/<source>/<kind>/<file>.errors.csv`.
//!
//! `<source>` is a county number (`19`) or a state source (`votecal`, `vendor`, `usps`). A county's
//! folder may carry only that county's rows. A file too large for one invocation stops at a row
//! boundary before the deadline and continues in a new invocation (through the continuation
//! queue), skipping the rows already done. Replaying a file changes nothing: every write is
//! idempotent, and the journeys' stream sends only what is new.

use crate::app::{App, BoxError, NoSends};
use crate::events::FileIngested;
use crate::metrics::count;
use crate::s3io::{decode_key, log_name, report_key};
use super::ingest_files::{continue_later, get_object_or_empty, write_report};
use super::ingest_files::set_aside;
use wmb_core::file_summary::FileSummary;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::StreamExt;
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use wmb_core::parts::Part;
use wmb_core::formats::{read_rows, FileKind, Line, Participation, RowError, RowFormat, VbmStatus, VoterRecord};
use wmb_core::pipeline::{ScanOutcome, Tally};
use wmb_core::signup::SignupRequest;
use wmb_core::sources::{accepts, out_of_scope};
use wmb_core::usps::{read_scans, ImbMapping, PieceScan};
use wmb_core::CountyCode;

/// Rows written at once (each a read and a conditional write).
const CONCURRENCY: usize = 32;
/// Roll rows compared with the stored roll in one read request (BatchGetItem takes 100 keys).
const ROLL_BATCH: usize = 100;
/// Stop taking rows when less than this is left of the invocation.
const SAFETY_MARGIN: Duration = Duration::from_secs(60);

/// Where a file's processing stands: the S3 event starts it, a continuation resumes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileJob {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub kind: Option<FileKind>,
    /// Records already handled by earlier invocations.
    pub skip: u64,
    /// Which invocation of this file (or of its part) this is (0 = the first).
    pub chunk: u32,
    /// The part of a large file this job reads (None: the whole file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Part>,
    /// The reading this job belongs to, when the file takes more than one invocation (its report
    /// is then written in pieces and joined once every part is read: see `ingest_report`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Run>,
    /// Only join the run's report (the invocation that finished the last part had too little
    /// time left for it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub join: bool,
    /// When the file's S3 event reached ingest: its rows arrived then, however many parts and
    /// invocations later each is read (a cancellation settles a day from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived: Option<chrono::DateTime<chrono::Utc>>,
}

/// One reading of one upload, in `parts` parts (1: the whole file, in chunks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Run {
    pub id: String,
    pub parts: u32,
}

/// What one invocation did with a file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileOutcome {
    pub key: String,
    pub kind: Option<FileKind>,
    pub accepted: u64,
    pub rejected: u64,
    /// Accepted rows of voters not signed up: kept for a later sign-up, not made into journeys.
    pub kept: u64,
    pub complete: bool,
    pub report: String,
}

enum Parsed {
    Voter(Line<VoterRecord>),
    Vbm(Line<VbmStatus>),
    Vph(Line<Participation>),
    Signup(Line<SignupRequest>),
    Stop(Line<wmb_core::stop_requests::StopRequest>),
    Imb(Line<ImbMapping>),
    Scan(Line<PieceScan>),
    Bad(RowError),
}

impl Parsed {
    /// The row with its line numbered in the whole file (a part is read after the header).
    fn shifted(self, by: u64) -> Parsed {
        fn s<T>(l: Line<T>, by: u64) -> Line<T> {
            Line { line: l.line + by, row: l.row }
        }
        match self {
            Parsed::Voter(l) => Parsed::Voter(s(l, by)),
            Parsed::Vbm(l) => Parsed::Vbm(s(l, by)),
            Parsed::Vph(l) => Parsed::Vph(s(l, by)),
            Parsed::Signup(l) => Parsed::Signup(s(l, by)),
            Parsed::Stop(l) => Parsed::Stop(s(l, by)),
            Parsed::Imb(l) => Parsed::Imb(s(l, by)),
            Parsed::Scan(l) => Parsed::Scan(s(l, by)),
            Parsed::Bad(e) => Parsed::Bad(RowError { line: e.line + by, ..e }),
        }
    }
}

pub async fn handle(app: &App, event: LambdaEvent<serde_json::Value>) -> Result<serde_json::Value, BoxError> {
    let deadline = event.context.deadline;
    let source = event.payload["Records"][0]["eventSource"].as_str().unwrap_or_default().to_string();
    if source == "aws:sqs" {
        let sqs: SqsEvent = serde_json::from_value(event.payload)?;
        let mut response = SqsBatchResponse::default();
        for message in sqs.records {
            let job: Result<FileJob, BoxError> = serde_json::from_str(message.body.as_deref().unwrap_or_default()).map_err(Into::into);
            let done = match job {
                Ok(job) => process(app, job, deadline).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = done {
                tracing::error!(error = %e, "continuation failed; SQS retries it");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        return Ok(serde_json::to_value(response)?);
    }
    let s3: S3Event = serde_json::from_value(event.payload)?;
    let mut outcomes = vec![];
    for record in s3.records {
        let (Some(bucket), Some(raw_key)) = (record.s3.bucket.name, record.s3.object.key) else { continue };
        let key = decode_key(&raw_key);
        if key.starts_with(&format!("{}enrolments/", app.settings.config_prefix)) {
            outcomes.push(check_enrolment(app, &bucket, &key).await?);
            continue;
        }
        // An upload under a temporary name: its rename brings the file under its own.
        if wmb_core::sources::still_uploading(&key) {
            tracing::info!(file = %crate::s3io::log_name(&key), "a temporary upload name: the file is read when it is renamed");
            app.metrics.emit(app.now().timestamp_millis(), &[], &[&[]], &[("TemporaryUploadsSkipped", count(1))]);
            continue;
        }
        let job = FileJob { bucket, key, version_id: record.s3.object.version_id, kind: None, skip: 0, chunk: 0, part: None, run: None, join: false, arrived: Some(app.now()) };
        // A failure here fails the invocation: S3's asynchronous invoke retries it, then sends
        // it to the ingest dead-letter queue.
        outcomes.push(process(app, job, deadline).await?);
    }
    Ok(serde_json::to_value(outcomes)?)
}

/// Processes one file, or as much of it as the invocation allows.
pub async fn process(app: &App, mut job: FileJob, deadline: u64) -> Result<FileOutcome, BoxError> {
    if job.join {
        if super::ingest_report::join(app, &job, deadline).await? {
            if let Some(kind) = job.kind {
                app.metrics.emit(app.now().timestamp_millis(), &[("Kind", kind.as_str())], &[&["Kind"], &[]], &[("FilesIngested", count(1))]);
            }
        }
        return Ok(FileOutcome { key: job.key.clone(), kind: job.kind, accepted: 0, rejected: 0, kept: 0, complete: true, report: report_key(&job.key) });
    }
    let kind = match job.kind {
        Some(k) => k,
        None => {
            // (S3 refuses a range of an empty object: 416, InvalidRange.)
            let got = match get_object_or_empty(app, &job, "bytes=0-4095").await? {
                Some(got) => got,
                None => return set_aside(app, &job, &wmb_core::formats::FileError::Empty { file: job.key.clone() }.to_string()).await,
            };
            let total = got.content_range.as_deref().and_then(|r| r.rsplit('/').next()).and_then(|t| t.parse::<u64>().ok());
            let head = got.body.collect().await?.into_bytes();
            let kind = match wmb_core::sources::detect_kind_under(&job.key, &head[..]) {
                Ok(k) => k,
                Err(e) => return set_aside(app, &job, &e.to_string()).await,
            };
            if let Err(reason) = accepts(&job.key, kind) {
                return set_aside(app, &job, &reason).await;
            }
            // A large file is read in parts, in parallel: this invocation plans them.
            let part_bytes = app.settings.ingest_part_bytes;
            if let Some(total) = total.filter(|t| *t > part_bytes && wmb_core::parts::splittable(kind, &head)) {
                job.kind = Some(kind);
                return super::ingest_parts::split(app, job, &head, total, part_bytes).await;
            }
            kind
        }
    };
    let scope = match accepts(&job.key, kind) {
        Ok(source) => source.county(),
        Err(reason) => return set_aside(app, &job, &reason).await,
    };
    job.kind = Some(kind);
    // Who may have signed up, as of now: rows of anyone else are kept, not made into journeys.
    let started = app.now();
    app.store.clear_kept()?;
    if matches!(kind, FileKind::Vbm | FileKind::Vph | FileKind::Scans) {
        app.store.refresh_roster(&app.s3, &job.bucket).await?;
    }
    let (body, line_offset) = super::ingest_parts::body(app, &job).await?;
    let body = super::ingest_files::Watched::new(body);
    let stream_failed = body.failed.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsed>(4096);
    let (name, skip) = (job.key.clone(), job.skip);
    let parser = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let input = tokio_util::io::SyncIoBridge::new(body);
        parse_file(kind, &name, input, skip, &tx)
    });
    let accepted = AtomicU64::new(0);
    let consumed = AtomicU64::new(0);
    let errors: Mutex<Vec<RowError>> = Mutex::new(vec![]);
    let config = app.config().await;
    let pipeline = app.pipeline(&config, &NoSends);
    let now = app.now();
    let arrived = *job.arrived.get_or_insert(now);
    let out_of_time = || deadline > 0 && super::time_left(deadline) < SAFETY_MARGIN;
    // Every invocation takes at least one row, so a file always makes progress.
    let taken = AtomicU64::new(0);
    let rows = futures::stream::poll_fn(|cx| {
        if taken.load(Ordering::Relaxed) > 0 && out_of_time() {
            return std::task::Poll::Ready(None);
        }
        let next = rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(_)) = &next {
            taken.fetch_add(1, Ordering::Relaxed);
        }
        next
    });
    // Roll rows are compared with the roll a batch at a time: only changed ones are written.
    let roll: Mutex<Vec<VoterRecord>> = Mutex::new(vec![]);
    // Sign-ups from a signups file, and stops from a stops file, for the counties' daily
    // summaries: added once per chunk.
    let counted: Mutex<wmb_core::daily::CountyDays> = Mutex::default();
    rows.for_each_concurrent(CONCURRENCY, |parsed| {
        consumed.fetch_add(1, Ordering::Relaxed);
        let (pipeline, errors, accepted, roll, counted) = (&pipeline, &errors, &accepted, &roll, &counted);
        async move {
            match handle_row(pipeline, scope, parsed.shifted(line_offset), (now, arrived), roll, counted).await {
                Ok(None) => {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(e)) => errors.lock().expect("errors").push(e),
                Err(e) => errors.lock().expect("errors").push(RowError { line: 0, field: "row".into(), reason: format!("not stored, retried with the file: {e}") }),
            }
        }
    })
    .await;
    if let (FileKind::Stops, Some(county)) = (kind, scope) {
        // A county's stops rows, by county, for the operators' alarm on a burst: every row read,
        // done or refused, counted before anything below can fail (a reading that fails after
        // its rows were applied counts them; one read again counts them again).
        let rows = count(consumed.load(Ordering::Relaxed));
        app.metrics.emit(app.now().timestamp_millis(), &[("County", &county.to_string())], &[&["County"], &[]], &[("CountyStopRows", rows)]);
    }
    app.store.add_county_days(&counted.into_inner().expect("counted")).await;
    let rest = std::mem::take(&mut *roll.lock().expect("roll"));
    if let Err(e) = pipeline.record_voters(&rest).await {
        return Err(format!("{} roll rows of {} could not be stored: {e}", rest.len(), log_name(&job.key)).into());
    }
    // Stopped for time with rows left: continue later. Otherwise the file is done (a parse
    // error that stopped it is in the report; continuing would only meet it again).
    let stopped_for_time = out_of_time() && rx.recv().await.is_some();
    drop(rx);
    let parse_result = parser.await?;
    let complete = !stopped_for_time;
    // S3's stream broke off: the rows after the break are not the file's end. The source runs
    // this again. (A continuation is queued only when a record is left: one that reads none
    // met such an error too.)
    if stream_failed.load(Ordering::Relaxed) || (job.skip > 0 && consumed.load(Ordering::Relaxed) == 0) {
        return Err(format!("reading {} from S3 broke off before its end: it is read again", log_name(&job.key)).into());
    }
    let mut errors = errors.into_inner().expect("errors");
    // A row that could not be stored (the store failed) must not be lost: fail the invocation
    // so the file is retried (every write is idempotent).
    if errors.iter().any(|e| e.line == 0) {
        return Err(format!("{} rows of {} could not be stored", errors.iter().filter(|e| e.line == 0).count(), log_name(&job.key)).into());
    }
    if let (Err(e), false) = (&parse_result, stopped_for_time) {
        errors.push(RowError { line: 1, field: "file".into(), reason: format!("reading stopped: {e}") });
    }
    errors.sort_by_key(|e| e.line);
    // The facts kept for voters not signed up; then those of voters who signed up while this
    // chunk was read go to their journeys after all.
    // (The file named by a hash: a sort key holds at most 1,024 bytes, an S3 key as many.)
    let tag = format!("{}#{:016x}#{}#{}", started.format("%Y-%m-%dT%H:%M:%S%.3fZ"), wmb_core::kept::stable_hash(&job.key), job.part.map_or(0, |p| p.index), job.chunk);
    let kept = app.store.write_kept(&tag).await?;
    if !kept.is_empty() {
        let joined = app.store.joined_since(started - chrono::Duration::minutes(wmb_core::kept::ROSTER_MARGIN_MINUTES)).await?;
        let adopted = pipeline.adopt_late(&kept, &joined).await?;
        if adopted > 0 {
            tracing::info!(adopted, "facts of voters who signed up while the file was read went to their journeys");
        }
    }
    let summary = FileSummary { accepted: accepted.load(Ordering::Relaxed), kept: Some(kept.len() as u64), ..Default::default() };
    let (report, reported) = super::ingest_report::report(app, &mut job, deadline, (consumed.load(Ordering::Relaxed), complete), &errors, summary).await?;
    let outcome = FileOutcome {
        key: job.key.clone(),
        kind: Some(kind),
        accepted: accepted.into_inner(),
        // (Rows: a file-level error, such as reading that stopped, is reported but is no row.)
        rejected: errors.iter().filter(|e| e.field != "file").count() as u64,
        kept: kept.len() as u64,
        complete,
        report: report.clone(),
    };
    app.events.publish(
        "FileIngested",
        &FileIngested { file: &log_name(&job.key), kind: kind.as_str(), accepted: outcome.accepted, rejected: outcome.rejected, kept: outcome.kept, report: &log_name(&report), complete },
    );
    app.metrics.emit(
        app.now().timestamp_millis(),
        &[("Kind", kind.as_str())],
        &[&["Kind"], &[]],
        // A file counts once, when its report is written (by the part or chunk that joins it).
        &[("FilesIngested", count(reported.into())), ("RowsAccepted", count(outcome.accepted)), ("RowsRejected", count(outcome.rejected)), ("RowsKept", count(outcome.kept))],
    );
    app.queues.flush().await?;
    app.events.flush().await;
    if !complete {
        let next = FileJob { skip: job.skip + consumed.into_inner(), chunk: job.chunk + 1, ..job };
        continue_later(app, &next).await?;
        tracing::info!(file = %log_name(&next.key), skip = next.skip, chunk = next.chunk, "file continues in a new invocation");
    }
    tracing::info!(file = %log_name(&outcome.key), accepted = outcome.accepted, rejected = outcome.rejected, complete, "file ingested");
    Ok(outcome)
}

fn parse_file(kind: FileKind, name: &str, input: impl std::io::Read, skip: u64, tx: &tokio::sync::mpsc::Sender<Parsed>) -> Result<(), String> {
    fn rows<T: RowFormat>(name: &str, input: impl std::io::Read, skip: u64, tx: &tokio::sync::mpsc::Sender<Parsed>, wrap: fn(Line<T>) -> Parsed) -> Result<(), String> {
        let rows = read_rows::<_, T>(name, std::io::BufReader::with_capacity(1 << 16, input)).map_err(|e| e.to_string())?;
        for row in rows.skip(skip as usize) {
            let parsed = match row {
                Ok(l) => wrap(l),
                Err(e) => Parsed::Bad(e),
            };
            if tx.blocking_send(parsed).is_err() {
                return Ok(()); // the consumer stopped (out of time)
            }
        }
        Ok(())
    }
    match kind {
        FileKind::Voters => rows(name, input, skip, tx, Parsed::Voter),
        FileKind::Vbm => rows(name, input, skip, tx, Parsed::Vbm),
        FileKind::Vph => rows(name, input, skip, tx, Parsed::Vph),
        FileKind::Signups => rows(name, input, skip, tx, Parsed::Signup),
        FileKind::Stops => rows(name, input, skip, tx, Parsed::Stop),
        FileKind::Imb => rows(name, input, skip, tx, Parsed::Imb),
        FileKind::Scans => {
            let mut seen = 0u64;
            let mut stopped = false;
            let result = read_scans(name, input, |r| {
                seen += 1;
                if seen <= skip || stopped {
                    return;
                }
                // The consumer stopped (out of time): read no further.
                stopped = tx
                    .blocking_send(match r {
                        Ok(l) => Parsed::Scan(l),
                        Err(e) => Parsed::Bad(e),
                    })
                    .is_err();
            });
            if stopped {
                return Ok(());
            }
            result.map_err(|e| e.to_string())
        }
    }
}

/// Why a status or participation row may not be stored, if it may not: another county's row in
/// a county's folder, a voter the roll does not place in that county, an undefined election, a
/// time more than a day after the file arrived or long before the election.
async fn refuse(
    pipeline: &wmb_core::pipeline::Pipeline<'_, crate::dynamo::DynamoStore, NoSends, crate::queue::SqsQueues>,
    scope: Option<CountyCode>,
    (county, votecal_id, election_id): (CountyCode, &str, &str),
    (field, at, arrived): (&'static str, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    line: u64,
) -> Result<Option<RowError>, BoxError> {
    if let Some(e) = out_of_scope(scope, county, line) {
        return Ok(Some(e));
    }
    if let Some(own) = scope {
        if let Err(reason) = pipeline.in_county(votecal_id, own).await? {
            return Ok(Some(RowError { line, field: "votecal_id".into(), reason }));
        }
    }
    let Some(election) = pipeline.elections.get(election_id) else {
        return Ok(Some(RowError { line, field: "election_id".into(), reason: format!("election '{election_id}' is not defined") }));
    };
    Ok(wmb_core::sources::misdated(field, at, arrived, Some(election.def.date), line))
}

/// Handles one row: `Ok(None)` stored, `Ok(Some(e))` rejected with its reason, `Err` the store
/// failed (the file is retried).
async fn handle_row(
    pipeline: &wmb_core::pipeline::Pipeline<'_, crate::dynamo::DynamoStore, NoSends, crate::queue::SqsQueues>,
    scope: Option<CountyCode>,
    parsed: Parsed,
    (now, arrived): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    roll: &Mutex<Vec<VoterRecord>>,
    counted: &Mutex<wmb_core::daily::CountyDays>,
) -> Result<Option<RowError>, BoxError> {
    let unknown = |line: u64, id: &str| Some(RowError { line, field: "election_id".into(), reason: format!("election '{id}' is not defined") });
    Ok(match parsed {
        Parsed::Bad(e) => Some(e),
        Parsed::Voter(l) => match out_of_scope(scope, l.row.county, l.line) {
            Some(e) => Some(e),
            None => {
                let batch = {
                    let mut pending = roll.lock().expect("roll");
                    pending.push(l.row);
                    if pending.len() >= ROLL_BATCH { std::mem::take(&mut *pending) } else { vec![] }
                };
                if !batch.is_empty() {
                    pipeline.record_voters(&batch).await?;
                }
                None
            }
        },
        Parsed::Vbm(l) => match refuse(pipeline, scope, (l.row.county, &l.row.votecal_id, &l.row.election_id), ("status_time", l.row.status_time, arrived), l.line).await? {
            Some(e) => Some(e),
            None => {
                pipeline.record_status(&l.row, arrived).await?;
                None
            }
        },
        Parsed::Vph(l) => match refuse(pipeline, scope, (l.row.county, &l.row.votecal_id, &l.row.election_id), ("participation_time", l.row.time, arrived), l.line).await? {
            Some(e) => Some(e),
            None => {
                pipeline.record_participation(&l.row, arrived).await?;
                None
            }
        },
        Parsed::Imb(l) => match out_of_scope(scope, l.row.county, l.line) {
            Some(e) => Some(e),
            None => pipeline.record_mapping(&l.row, arrived).await?.err().map(|reason| RowError { line: l.line, field: "votecal_id".into(), reason }),
        },
        Parsed::Scan(l) => match wmb_core::usps::scan_misdated(&l.row, arrived, l.line) {
            Some(e) => Some(e),
            None => match pipeline.record_scan(&l.row, arrived).await?.0 {
                ScanOutcome::Applied | ScanOutcome::NotUsed => None,
                ScanOutcome::UnknownImb => Some(wmb_core::usps::unknown_imb(l.line, &l.row.tracking)),
                ScanOutcome::UnknownElection(id) => unknown(l.line, &id),
                ScanOutcome::BeforeMailing { at, election_day } => Some(wmb_core::usps::scan_before_mailing(l.line, at, election_day)),
            },
        },
        Parsed::Signup(l) => {
            let mut tally = Tally::default();
            let result = pipeline.signup(&l.row, now, &mut tally).await?;
            counted.lock().expect("counted").merge(tally.county_days.take());
            match result {
                Ok(_) => None,
                Err(refusal) => Some(RowError { line: l.line, field: "signup".into(), reason: refusal.report_reason() }),
            }
        }
        Parsed::Stop(l) => {
            let mut tally = Tally::default();
            let result = pipeline.stop_as_asked(&l.row, scope, now, &mut tally).await;
            // (Counted even when the row then failed: read again, it stops nothing new to count.)
            counted.lock().expect("counted").merge(tally.county_days.take());
            result?.err().map(|e| RowError { line: l.line, field: e.field.into(), reason: e.reason })
        }
    })
}

/// A county's enrolment file as it lands in `config/enrolments/`: checked against its election
/// (the configuration as it is in the bucket now) and reported like any county file, at
/// `reports/config/enrolments/<file>.errors.csv`. Every function applies it within a minute (`App::config`).
async fn check_enrolment(app: &App, bucket: &str, key: &str) -> Result<FileOutcome, BoxError> {
    let report = report_key(key);
    let text = crate::s3io::get_text(&app.s3, bucket, key).await?;
    let (config, _) = crate::s3io::load_config(&app.s3, bucket, &app.settings.config_prefix, &app.catalog, None).await?;
    let mut elections = config.elections;
    let refused = match text {
        None => None, // deleted since: nothing to check
        Some(text) => crate::s3io::apply_enrolment(key, &text, &mut elections).err(),
    };
    let errors: Vec<RowError> = refused.iter().map(|e| RowError { line: 1, field: e.field.clone(), reason: e.reason.clone() }).collect();
    write_report(app, bucket, &report, &errors, FileSummary { accepted: u64::from(errors.is_empty()), ..Default::default() }).await?;
    match &refused {
        Some(e) => tracing::error!(file = %log_name(key), field = %e.field, reason = %e.reason, "enrolment refused"),
        None => tracing::info!(file = %log_name(key), "enrolment accepted; every function applies it within a minute"),
    }
    Ok(FileOutcome { key: key.to_string(), kind: None, accepted: u64::from(errors.is_empty()), rejected: errors.len() as u64, kept: 0, complete: true, report })
}
