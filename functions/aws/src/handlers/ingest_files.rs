//! The S3 and queue side of reading a county file: its bytes (an empty file has no range), its
//! error report and summary, setting aside a file that cannot be read, and queueing the rest of
//! a file for another invocation.

use super::ingest::{FileJob, FileOutcome};
use crate::app::{App, BoxError};
use crate::events::FileIngested;
use crate::metrics::count;
use crate::s3io::{log_name, report_key};
use wmb_core::file_summary::{summary_name, FileSummary};
use wmb_core::formats::RowError;

type GetObject = Result<aws_sdk_s3::operation::get_object::GetObjectOutput, aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::get_object::GetObjectError>>;

/// The file's bytes, or a range of them, as S3 answers.
async fn fetch(app: &App, job: &FileJob, range: Option<&str>) -> GetObject {
    app.s3.get_object().bucket(&job.bucket).key(&job.key).set_version_id(job.version_id.clone()).set_range(range.map(str::to_string)).send().await
}

fn read_error(job: &FileJob, e: aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::get_object::GetObjectError>) -> BoxError {
    format!("reading s3://{}/{}: {}", job.bucket, log_name(&job.key), aws_sdk_s3::error::DisplayErrorContext(e)).into()
}

/// The range of the object, or None when S3 says the object has no such range (it is empty).
pub(super) async fn get_object_or_empty(app: &App, job: &FileJob, range: &str) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, BoxError> {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    match fetch(app, job, Some(range)).await {
        Ok(got) => Ok(Some(got)),
        Err(e) if e.code() == Some("InvalidRange") || e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => Ok(None),
        Err(e) => Err(read_error(job, e)),
    }
}

pub(super) async fn get_object(app: &App, job: &FileJob, range: Option<&str>) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, BoxError> {
    fetch(app, job, range).await.map_err(|e| read_error(job, e))
}

/// The error report's text (`line,field,reason`), and the summary with its rejected and refused
/// rows counted from it.
pub(super) fn report_body(errors: &[RowError], mut summary: FileSummary) -> Result<(Vec<u8>, FileSummary), BoxError> {
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(["line", "field", "reason"])?;
    for e in errors {
        w.write_record([e.line.to_string().as_str(), e.field.as_str(), e.reason.as_str()])?;
    }
    let body = w.into_inner().map_err(|e| e.to_string())?;
    if !summary.unreadable {
        summary.refused = errors.iter().filter(|e| e.field == "signup").count() as u64;
        summary.rejected = errors.len() as u64 - summary.refused;
    }
    Ok((body, summary))
}

/// The error report (`line,field,reason`) and the summary beside it.
pub(super) async fn write_report(app: &App, bucket: &str, key: &str, errors: &[RowError], summary: FileSummary) -> Result<(), BoxError> {
    let (body, summary) = report_body(errors, summary)?;
    crate::s3io::put_csv(&app.s3, bucket, key, body).await?;
    crate::s3io::put_csv(&app.s3, bucket, &summary_name(key), summary.to_csv().into_bytes()).await
}

/// A file that cannot be read at all: a report saying why, and the file moved to `rejected/`.
pub(super) async fn set_aside(app: &App, job: &FileJob, reason: &str) -> Result<FileOutcome, BoxError> {
    let report = report_key(&job.key);
    let errors = [RowError { line: 1, field: "file".into(), reason: reason.to_string() }];
    write_report(app, &job.bucket, &report, &errors, FileSummary { unreadable: true, ..Default::default() }).await?;
    let aside = format!("rejected/{}", job.key.strip_prefix("incoming/").unwrap_or(&job.key));
    // The version the S3 event named (a file uploaded again since is read on its own event).
    let mut source = format!("{}/{}", job.bucket, percent_encoding::utf8_percent_encode(&job.key, percent_encoding::NON_ALPHANUMERIC));
    if let Some(version) = &job.version_id {
        source.push_str(&format!("?versionId={}", percent_encoding::utf8_percent_encode(version, percent_encoding::NON_ALPHANUMERIC)));
    }
    app.s3.copy_object().bucket(&job.bucket).key(&aside).copy_source(source).send().await
        .map_err(|e| format!("setting aside s3://{}/{}: {}", job.bucket, log_name(&job.key), aws_sdk_s3::error::DisplayErrorContext(e)))?;
    // (No version: a delete marker. The version read stays for 30 days, so an S3 event delivered
    // again reads it and sets it aside again.)
    app.s3.delete_object().bucket(&job.bucket).key(&job.key).send().await
        .map_err(|e| format!("removing s3://{}/{}: {}", job.bucket, log_name(&job.key), aws_sdk_s3::error::DisplayErrorContext(e)))?;
    app.events.publish("FileIngested", &FileIngested { file: &log_name(&job.key), kind: "unknown", accepted: 0, rejected: 0, kept: 0, report: &log_name(&report), complete: false });
    app.events.flush().await;
    app.metrics.emit(app.now().timestamp_millis(), &[], &[&[]], &[("FilesSetAside", count(1))]);
    tracing::warn!(file = %log_name(&job.key), "file set aside: it cannot be read");
    Ok(FileOutcome { key: job.key.clone(), kind: None, accepted: 0, rejected: 0, kept: 0, complete: false, report })
}

pub(super) async fn continue_later(app: &App, job: &FileJob) -> Result<(), BoxError> {
    let url = app
        .settings
        .ingest_continue_queue_url
        .as_deref()
        .ok_or("environment variable INGEST_CONTINUE_QUEUE_URL: is not set, and this file needs more than one invocation")?;
    app.queues.client.send_message().queue_url(url).message_body(serde_json::to_string(job)?).send().await
        .map_err(|e| format!("queueing the continuation of {}: {}", log_name(&job.key), aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    Ok(())
}

/// A county file's bytes as S3 streams them, noting whether the stream failed. The CSV reader
/// takes a failed read as the end of the file (and reports it as one unreadable row): a stream
/// that broke off must instead fail the invocation, so the source runs it again (every write is
/// idempotent) and no row after the break is lost.
pub(super) struct Watched<R> {
    inner: R,
    pub(super) failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<R> Watched<R> {
    pub(super) fn new(inner: R) -> Self {
        Watched { inner, failed: Default::default() }
    }
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Watched<R> {
    fn poll_read(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> std::task::Poll<std::io::Result<()>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Err(_)) = &polled {
            self.failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::Watched;
    use std::sync::atomic::Ordering;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_stream_that_breaks_off_is_noted_and_one_that_ends_is_not() {
        let whole = Watched::new(&b"votecal_id\nCA1\n"[..]);
        let failed = whole.failed.clone();
        let mut text = String::new();
        Box::pin(whole).read_to_string(&mut text).await.unwrap();
        assert_eq!((text.as_str(), failed.load(Ordering::Relaxed)), ("votecal_id\nCA1\n", false));
        let broken = broken_after_two_lines();
        let watched = Watched::new(broken);
        let failed = watched.failed.clone();
        let mut text = String::new();
        assert!(Box::pin(watched).read_to_string(&mut text).await.is_err());
        assert!(failed.load(Ordering::Relaxed));
    }

    /// The first bytes of a file, then the connection resets.
    fn broken_after_two_lines() -> impl tokio::io::AsyncRead + Unpin {
        use tokio::io::AsyncReadExt;
        (&b"votecal_id\nCA1\n"[..]).chain(Broken)
    }

    struct Broken;

    impl tokio::io::AsyncRead for Broken {
        fn poll_read(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, _: &mut tokio::io::ReadBuf<'_>) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset)))
        }
    }
}
