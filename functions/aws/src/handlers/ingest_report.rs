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
    // (Made as a change's id is: URL-safe, so it can name a folder.)
    Run { id: wmb_core::access::change_id_from(crate::app::os_random()), parts }
}

/// Where a run's pieces go: named by a hash of the file's key (a county's file name may carry a
/// voter's name, and logs name what they fail on), then the run.
fn pieces_prefix(job: &FileJob, run: &Run) -> String {
    format!("{REPORT_PIECES}{:016x}/{}/", wmb_core::kept::stable_hash(&job.key), run.id)
}

/// Whether the county has uploaded the file again since the version this job reads: the newer
/// version's own event writes the report then (an older reading that finishes later must not
/// write over it).
async fn superseded(app: &App, job: &FileJob) -> bool {
    let Some(ours) = &job.version_id else { return false };
    match app.s3.head_object().bucket(&job.bucket).key(&job.key).send().await {
        Ok(head) => head.version_id.as_ref().is_some_and(|current| current != ours),
        // Removed since, set aside, or not to be looked up (a delete marker answers 403 to a role
        // that may not list incoming/): the report of what was read is still wanted.
        Err(e) => {
            tracing::warn!(file = %log_name(&job.key), error = %aws_sdk_s3::error::DisplayErrorContext(e), "the file's current version could not be looked up; reported as read");
            false
        }
    }
}

/// The report's name for a part or continuation queued before readings had runs (as then).
fn own_report_key(job: &FileJob) -> String {
    let base = report_key(&job.part.map_or(job.key.clone(), |p| format!("{}.r{:03}", job.key, p.index)));
    match job.chunk {
        0 => base,
        c => format!("{}.part{c:04}.errors.csv", base.strip_suffix(".errors.csv").unwrap_or(&base)),
    }
}

/// Writes what this invocation found, `records` records from the job's `skip`: the file's report
/// when it read the whole file, otherwise its piece, and then the file's report if every part has
/// been read. A job that did not finish the file is given a run here, for the invocations after.
/// Returns the key of the file's report, and whether this invocation wrote the file's report
/// (the file is then counted as ingested, once).
pub(super) async fn report(app: &App, job: &mut FileJob, deadline: u64, (records, complete): (u64, bool), errors: &[RowError], summary: FileSummary) -> Result<(String, bool), BoxError> {
    let report = report_key(&job.key);
    if job.run.is_none() {
        if job.part.is_some() || job.chunk > 0 {
            // A part or continuation queued before readings had runs: its own report, as then
            // (and the file counted when its first part is done, as then).
            let own = own_report_key(job);
            write_report(app, &job.bucket, &own, errors, summary).await?;
            return Ok((own, complete && job.part.is_none_or(|p| p.index == 0)));
        }
        if complete {
            let written = !superseded(app, job).await;
            if written {
                write_report(app, &job.bucket, &report, errors, summary).await?;
            }
            return Ok((report, written));
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
    let joined = complete && join(app, job, deadline).await?;
    Ok((report, joined))
}

/// Joins the pieces of the file's report into `reports/` once every part has its last piece: in
/// the invocation that wrote a part's last piece, or in one of its own (`FileJob::join`) when what
/// is left of that one may not be enough. Returns whether it wrote the report.
pub(super) async fn join(app: &App, job: &FileJob, deadline: u64) -> Result<bool, BoxError> {
    let run = job.run.as_ref().ok_or("a report is joined only from a run's pieces")?;
    let prefix = pieces_prefix(job, run);
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
    let objects: Vec<_> = listed.into_iter().flat_map(|page| page.contents.unwrap_or_default()).collect();
    let bytes: u64 = objects.iter().map(|o| o.size.unwrap_or(0).max(0) as u64).sum();
    let names: Vec<String> = objects.into_iter().filter_map(|o| o.key?.strip_prefix(&prefix).map(str::to_string)).collect();
    let pieces = match pieces_to_join(names.iter().map(String::as_str), run.parts) {
        Joining::Waiting => return Ok(false),
        Joining::Ready(pieces) => pieces,
        // Pieces expired before a part's message came back from the dead-letter queue: failing
        // says so (the file must be uploaded again to be reported whole).
        Joining::Broken { part } => return Err(format!("the report of {} cannot be joined: part {part} is read but pieces of it are gone", log_name(&job.key)).into()),
    };
    if deadline > 0 && !job.join && !wmb_core::report_pieces::join_fits(bytes, super::time_left(deadline)) {
        super::ingest_files::continue_later(app, &FileJob { join: true, ..job.clone() }).await?;
        tracing::info!(file = %log_name(&job.key), bytes, "the report is joined in an invocation of its own");
        return Ok(false);
    }
    if superseded(app, job).await {
        tracing::info!(file = %log_name(&job.key), "not reported: a newer upload of the file is read on its own event");
        return Ok(false);
    }
    // Every part is read: join the pieces in file order. (Two parts that finish at once may both
    // join: they write the same report.)
    let report = report_key(&job.key);
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
    Ok(first_to_join(app, job, &prefix).await)
}

/// Whether this is the run's first join to finish: it leaves a mark beside the run's pieces, once
/// (S3's conditional write). A second joiner (a chunk or part delivered twice, each of its copies
/// going on to the end) writes the same report, and the file is not counted again.
async fn first_to_join(app: &App, job: &FileJob, prefix: &str) -> bool {
    let mark = format!("{}.joined", prefix.trim_end_matches('/'));
    match app.s3.put_object().bucket(&job.bucket).key(&mark).if_none_match("*").body(Vec::new().into()).send().await {
        Ok(_) => true,
        // 412: marked already; 409: another joiner's mark is being written at this moment.
        Err(e) if e.raw_response().is_some_and(|r| matches!(r.status().as_u16(), 409 | 412)) => false,
        Err(e) => {
            tracing::warn!(file = %log_name(&job.key), error = %aws_sdk_s3::error::DisplayErrorContext(e), "the run's join could not be marked; the file is counted");
            true
        }
    }
}
