//! A county file's one report, however many invocations read it (`wmb_core::report_pieces`): a
//! file read in one invocation writes its report and summary in `reports/` at once; a file read in
//! parts or chunks writes a piece of them for each invocation under `state/report-pieces/` (its
//! rows, with its counts as the object's metadata), and the invocation that finds every part read
//! joins the pieces into the file's report and summary.

use super::ingest::{FileJob, Run};
use super::ingest_files::{report_body, write_report};
use crate::app::{App, BoxError};
use crate::s3io::{log_name, put_csv, report_key, CsvUpload, REPORT_PIECES};
use wmb_core::file_summary::{summary_name, FileSummary};
use wmb_core::formats::RowError;
use wmb_core::report_pieces::{piece_name, pieces_to_join, report_rows, Joining};

/// The metadata that carries a piece's summary (`FileSummary::to_line`).
const SUMMARY: &str = "summary";

/// A new reading of a file in `parts` parts (a random name: an S3 event delivered twice starts a
/// second reading, whose pieces must not mix with the first's).
pub(super) fn new_run(parts: u32) -> Run {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).expect("the operating system gives random bytes");
    Run { id: id.iter().map(|b| format!("{b:02x}")).collect(), parts }
}

/// Where a run's pieces go: named by a hash of the file's key (a county's file name may carry a
/// voter's name, and logs name what they fail on), then the run.
fn pieces_prefix(job: &FileJob, run: &Run) -> String {
    format!("{REPORT_PIECES}{:016x}/{}/", wmb_core::kept::stable_hash(&job.key), run.id)
}

/// Whether the county has uploaded the file again since the version this job reads: the newer
/// version's own event writes the report then (an older reading that finishes later must not
/// write over it).
async fn superseded(app: &App, job: &FileJob) -> Result<bool, BoxError> {
    let Some(ours) = &job.version_id else { return Ok(false) };
    match app.s3.head_object().bucket(&job.bucket).key(&job.key).send().await {
        Ok(head) => Ok(head.version_id.as_ref().is_some_and(|current| current != ours)),
        // Removed since (or set aside): the report of what was read is still wanted.
        Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(false),
        Err(e) => Err(format!("looking up s3://{}/{}: {}", job.bucket, log_name(&job.key), aws_sdk_s3::error::DisplayErrorContext(e)).into()),
    }
}

/// Writes what this invocation found, `records` records from the job's `skip`: the file's report
/// when it read the whole file, otherwise its piece, and then the file's report if every part has
/// been read. A job that did not finish the file is given a run here, for the invocations after.
/// Returns the key of the file's report.
pub(super) async fn report(app: &App, job: &mut FileJob, records: u64, complete: bool, errors: &[RowError], summary: FileSummary) -> Result<String, BoxError> {
    let report = report_key(&job.key);
    if job.run.is_none() {
        if let Some(p) = job.part {
            // A part queued before runs were named: its own report, as then.
            let own = report_key(&format!("{}.r{:03}", job.key, p.index));
            write_report(app, &job.bucket, &own, errors, summary).await?;
            return Ok(own);
        }
        if complete {
            if !superseded(app, job).await? {
                write_report(app, &job.bucket, &report, errors, summary).await?;
            }
            return Ok(report);
        }
        job.run = Some(new_run(1));
    }
    let run = job.run.clone().expect("given above");
    let prefix = pieces_prefix(job, &run);
    let part = job.part.map_or(0, |p| p.index);
    // The piece: its rows, and its counts as the object's metadata (one request, not two).
    let (body, counts) = report_body(errors, summary)?;
    let piece = format!("{prefix}{}", piece_name(part, job.skip, job.skip + records, complete));
    app.s3.put_object().bucket(&job.bucket).key(&piece).content_type("text/csv; charset=utf-8").metadata(SUMMARY, counts.to_line()).body(body.into()).send().await
        .map_err(|e| format!("writing a report piece of {}: {}", log_name(&job.key), aws_sdk_s3::error::DisplayErrorContext(e)))?;
    if !complete {
        return Ok(report);
    }
    let listed = app
        .s3
        .list_objects_v2()
        .bucket(&job.bucket)
        .prefix(&prefix)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| format!("listing the report pieces of {}: {}", log_name(&job.key), aws_sdk_s3::error::DisplayErrorContext(e)))?;
    let names: Vec<String> = listed.into_iter().flat_map(|page| page.contents.unwrap_or_default()).filter_map(|o| o.key?.strip_prefix(&prefix).map(str::to_string)).collect();
    let pieces = match pieces_to_join(names.iter().map(String::as_str), run.parts) {
        Joining::Waiting => return Ok(report),
        Joining::Ready(pieces) => pieces,
        // Pieces expired before a part's message came back from the dead-letter queue: failing
        // says so (the file must be uploaded again to be reported whole).
        Joining::Broken { part } => return Err(format!("the report of {} cannot be joined: part {part} is read but pieces of it are gone", log_name(&job.key)).into()),
    };
    if superseded(app, job).await? {
        tracing::info!(file = %log_name(&job.key), "not reported: a newer upload of the file is read on its own event");
        return Ok(report);
    }
    // Every part is read: join the pieces in file order. (Two parts that finish at once may both
    // join: they write the same report.)
    let mut rows = CsvUpload::new(&app.s3, &job.bucket, &report);
    rows.write(b"line,field,reason\n").await?;
    let mut total = FileSummary::default();
    for piece in &pieces {
        let failed = |why: &str| format!("a report piece of {} {why}", log_name(&job.key));
        let got = app.s3.get_object().bucket(&job.bucket).key(format!("{prefix}{piece}")).send().await
            .map_err(|e| failed(&format!("could not be read: {}", aws_sdk_s3::error::DisplayErrorContext(e))))?;
        let counts = got.metadata.as_ref().and_then(|m| m.get(SUMMARY)).and_then(|line| FileSummary::from_line(line)).ok_or_else(|| failed("has no summary"))?;
        total.add(&counts);
        let text = got.body.collect().await?.into_bytes();
        rows.write(report_rows(std::str::from_utf8(&text).map_err(|_| failed("is not UTF-8"))?).as_bytes()).await?;
    }
    rows.finish().await?;
    put_csv(&app.s3, &job.bucket, &summary_name(&report), total.to_csv().into_bytes()).await?;
    tracing::info!(file = %log_name(&job.key), parts = run.parts, pieces = pieces.len(), "report joined from the file's pieces");
    Ok(report)
}
