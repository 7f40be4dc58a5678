//! A large file in parts (see `wmb_core::parts`): the invocation its S3 event starts plans the
//! parts and queues one job each; a part's job reads the file's header and then its own range.

use super::ingest::{FileJob, FileOutcome};
use super::ingest_files::{get_object, set_aside};
use crate::app::{App, BoxError};
use wmb_core::formats::FileKind;

/// What a job reads, and what to add to the line numbers a reader of it sees.
pub(super) async fn body(app: &App, job: &FileJob) -> Result<(Box<dyn tokio::io::AsyncRead + Send + Unpin>, u64), BoxError> {
    Ok(match job.part {
        None => (Box::new(get_object(app, job, None).await?.body.into_async_read()), 0),
        Some(p) => {
            use tokio::io::AsyncReadExt;
            let header: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match p.header_len {
                0 => Box::new(tokio::io::empty()),
                n => Box::new(get_object(app, job, Some(&format!("bytes=0-{}", n - 1))).await?.body.into_async_read()),
            };
            let range: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match p.end > p.start {
                true => Box::new(get_object(app, job, Some(&format!("bytes={}-{}", p.start, p.end - 1))).await?.body.into_async_read()),
                false => Box::new(tokio::io::empty()),
            };
            (Box::new(header.chain(range)), p.line_offset())
        }
    })
}

/// Plans the parts of a large file and queues one job for each: the continuation queue's event
/// source reads them in parallel. Each part writes a piece of the file's report, and the part
/// that finds every other one read joins them (`ingest_report`).
pub(super) async fn split(app: &App, job: FileJob, head: &[u8], total: u64, part_bytes: u64) -> Result<FileOutcome, BoxError> {
    let kind = job.kind.ok_or("a file is split once its kind is known")?;
    // The roster, built once here if it is missing, rather than by every part at once.
    if matches!(kind, FileKind::Vbm | FileKind::Vph | FileKind::Scans) {
        app.store.refresh_roster(&app.s3, &job.bucket).await?;
    }
    let body = get_object(app, &job, None).await?.body.into_async_read();
    let (name, head_owned) = (job.key.clone(), head.to_vec());
    let planned = tokio::task::spawn_blocking(move || wmb_core::parts::plan(&name, kind, &head_owned, tokio_util::io::SyncIoBridge::new(body), total, part_bytes)).await?;
    // A quote left open: the file is set aside, its report naming the line (a retry would only
    // meet it again).
    let parts = match planned {
        Ok(parts) => parts,
        Err(e @ wmb_core::formats::FileError::RowTooLong { .. }) => return set_aside(app, &job, &e.to_string()).await,
        // The read broke off: S3 runs this again. (Named by the file's log name: the error's own
        // text names the county's file.)
        Err(wmb_core::formats::FileError::Unreadable { reason, .. }) => return Err(format!("reading {} to plan its parts broke off: {reason}", crate::s3io::log_name(&job.key)).into()),
        Err(_) => return Err(format!("planning the parts of {} failed", crate::s3io::log_name(&job.key)).into()),
    };
    let run = super::ingest_report::new_run(parts.len() as u32);
    let jobs: Vec<FileJob> = parts.iter().map(|p| FileJob { part: Some(*p), skip: 0, chunk: 0, run: Some(run.clone()), ..job.clone() }).collect();
    let url = app
        .settings
        .ingest_continue_queue_url
        .as_deref()
        .ok_or("environment variable INGEST_CONTINUE_QUEUE_URL: is not set, and this file is read in parts")?;
    for batch in jobs.chunks(10) {
        let mut entries = batch
            .iter()
            .enumerate()
            .map(|(i, j)| Ok(aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(serde_json::to_string(j)?).build()?))
            .collect::<Result<Vec<_>, BoxError>>()?;
        // Only what failed is sent again (a part queued twice would be read twice: harmless,
        // but its reports and counts would be doubled).
        for attempt in 0..6 {
            let out = app.queues.client.send_message_batch().queue_url(url).set_entries(Some(entries.clone())).send().await
                .map_err(|e| format!("queueing the parts of {}: {}", crate::s3io::log_name(&job.key), aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            let failed: Vec<String> = out.failed.iter().map(|f| f.id.clone()).collect();
            entries.retain(|e| failed.contains(&e.id));
            if entries.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
        }
        if !entries.is_empty() {
            return Err(format!("{} parts of {} could not be queued", entries.len(), crate::s3io::log_name(&job.key)).into());
        }
    }
    tracing::info!(file = %crate::s3io::log_name(&job.key), parts = parts.len(), bytes = total, "file split into parts, read in parallel");
    Ok(FileOutcome { key: job.key, kind: Some(kind), accepted: 0, rejected: 0, kept: 0, complete: false, report: String::new() })
}

