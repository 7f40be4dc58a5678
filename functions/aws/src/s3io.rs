//! S3: configuration (election definitions, voice prompts), county files (streamed, from an
//! offset), and the reports written back beside them.

use crate::app::{BoxError, Config};
use std::collections::BTreeMap;
use wmb_core::election::Election;
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;

/// Loads `config/elections/*.toml` and `config/voice-prompts.toml` (optional), with the
/// counties' enrolments applied. A file that cannot be used is refused, logged with its name and
/// reason, and returned among the refusals (for the alarm): it does not stop the functions (every
/// new instance of every function would fail to start, STOP's answers included). An election
/// whose file was edited into one that is refused stays as `held` (an instance's last good
/// reading) knew it; one no reading knew is left out until its file is mended; a refused voice
/// plan is the held one, or none (no recordings).
pub async fn load_config(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, catalog: &Catalog, held: Option<&Config>) -> Result<(Config, Vec<String>), BoxError> {
    let mut elections = BTreeMap::new();
    let mut sources = BTreeMap::new();
    let mut refused = vec![];
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(format!("{prefix}elections/"))
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| format!("listing s3://{bucket}/{prefix}elections/: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?;
        for object in page.contents.unwrap_or_default() {
            let Some(key) = object.key.filter(|k| k.ends_with(".toml")) else { continue };
            let text = get_text(s3, bucket, &key).await?.ok_or_else(|| format!("s3://{bucket}/{key} vanished"))?;
            let read = Election::from_toml(&key, &text).map_err(|e| e.to_string()).and_then(|e| match e.check_sms_budget(catalog) {
                Ok(()) => Ok(e),
                Err(why) => Err(why.to_string()),
            });
            let election = match read {
                Ok(e) => Some(e),
                Err(reason) => {
                    let kept = held.and_then(|h| h.sources.get(&key).and_then(|id| h.elections.get(id))).cloned();
                    tracing::error!(file = %key, reason = %reason, kept_as_read_before = kept.is_some(), "election definition refused");
                    refused.push(key.clone());
                    kept
                }
            };
            if let Some(e) = election {
                sources.insert(key, e.id().to_string());
                elections.insert(e.id().to_string(), e);
            }
        }
        token = page.next_continuation_token;
        if token.is_none() {
            break;
        }
    }
    apply_enrolments(s3, bucket, prefix, &mut elections).await?;
    let key = format!("{prefix}voice-prompts.toml");
    let voice = match get_text(s3, bucket, &key).await? {
        Some(text) => VoicePlan::from_toml(&key, &text).unwrap_or_else(|e| {
            tracing::error!(file = %key, reason = %e, kept_as_read_before = held.is_some(), "voice prompts refused");
            refused.push(key.clone());
            held.map(|h| h.voice.clone()).unwrap_or_default()
        }),
        None => VoicePlan::default(),
    };
    let stale_recordings = wmb_core::recording_scripts::stale_recordings(&voice, catalog);
    Ok((Config { elections, voice, sources, stale_recordings }, refused))
}

/// Applies the counties' enrolment files (`config/enrolments/*.toml`, in key order) to their
/// elections. A refused one is logged with its file, field and reason (a county office's
/// details, no voter's) and left out: one county's late file does not stop the service.
async fn apply_enrolments(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, elections: &mut BTreeMap<String, Election>) -> Result<(), BoxError> {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(format!("{prefix}enrolments/"))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| format!("listing s3://{bucket}/{prefix}enrolments/: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?;
    let mut keys: Vec<String> = listed.into_iter().flat_map(|page| page.contents.unwrap_or_default()).filter_map(|o| o.key).filter(|k| k.ends_with(".toml")).collect();
    keys.sort();
    for key in keys {
        let text = get_text(s3, bucket, &key).await?.ok_or_else(|| format!("s3://{bucket}/{} vanished", error_name(&key)))?;
        if let Err(e) = apply_enrolment(&key, &text, elections) {
            tracing::error!(file = %e.file, field = %e.field, reason = %e.reason, "enrolment refused");
        }
    }
    Ok(())
}

/// Applies one enrolment file to the election it names, or says why it is refused.
pub fn apply_enrolment(key: &str, text: &str, elections: &mut BTreeMap<String, Election>) -> Result<(), wmb_core::enrolment::EnrolmentError> {
    let e = wmb_core::enrolment::Enrolment::from_toml(key, text)?;
    match elections.get_mut(&e.election_id) {
        Some(election) => election.enrol(key, &e),
        None => Err(wmb_core::enrolment::EnrolmentError { file: key.to_string(), field: "election_id".into(), reason: format!("'{}' is not a loaded election", e.election_id) }),
    }
}

/// An object's text, or None when there is no such object.
pub async fn get_text(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<String>, BoxError> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let bytes = out.body.collect().await?.into_bytes();
            Ok(Some(String::from_utf8(bytes.to_vec()).map_err(|_| format!("s3://{bucket}/{} is not UTF-8", error_name(key)))?))
        }
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => Ok(None),
        Err(e) => Err(format!("reading s3://{bucket}/{}: {}", error_name(key), aws_sdk_s3::error::DisplayErrorContext(e)).into()),
    }
}

/// The key an S3 event names, decoded as S3 encodes it ('+' for space, then percent-escapes).
pub fn decode_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// A key as an error names it: a county's file, its report, its set-aside copy or its
/// enrolment by [`log_name`]; the deployer's election definitions as they are.
pub fn error_name(key: &str) -> String {
    match ["incoming/", "reports/", "rejected/", "config/enrolments/"].iter().any(|p| key.starts_with(p)) {
        true => log_name(key),
        false => key.to_string(),
    }
}

/// A file as the logs name it: its folder and a hash of its name (a county chooses its file
/// names, and one could carry a voter's name or id; the report beside the file has the name).
pub fn log_name(key: &str) -> String {
    let folder = key.rsplit_once('/').map_or("", |(f, _)| f);
    format!("{folder}/#{:016x}", wmb_core::kept::stable_hash(key))
}

/// Writes a CSV a county opens (a report or a summary).
pub async fn put_csv(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), crate::app::BoxError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("text/csv; charset=utf-8")
        .body(body.into())
        .send()
        .await
        .map_err(|e| format!("writing s3://{bucket}/{}: {}", error_name(key), aws_sdk_s3::error::DisplayErrorContext(e)))?;
    Ok(())
}

/// Where the report of a county file goes: `reports/<key without incoming/>.errors.csv`.
pub fn report_key(key: &str) -> String {
    format!("reports/{}.errors.csv", key.strip_prefix("incoming/").unwrap_or(key))
}

/// Where the pieces of the report of a file read in several invocations go until they are joined
/// (`state/report-pieces/<hash of the file's key>/<run>/`: the functions' own, not a county's).
pub const REPORT_PIECES: &str = "state/report-pieces/";

/// A CSV written a slice at a time: one PutObject while it is small, a multipart upload once it
/// passes `UPLOAD_PART_BYTES`, so that the report of a statewide file whose every row is wrong is
/// never held whole. (An upload left unfinished by a failure is aborted by the bucket's lifecycle.)
pub struct CsvUpload<'a> {
    s3: &'a aws_sdk_s3::Client,
    bucket: &'a str,
    key: &'a str,
    buffer: Vec<u8>,
    upload: Option<(String, Vec<aws_sdk_s3::types::CompletedPart>)>,
}

/// The size of each part of a multipart upload (S3 takes parts of 5 MiB or more, but the last).
pub const UPLOAD_PART_BYTES: usize = 8 << 20;

impl<'a> CsvUpload<'a> {
    pub fn new(s3: &'a aws_sdk_s3::Client, bucket: &'a str, key: &'a str) -> Self {
        CsvUpload { s3, bucket, key, buffer: Vec::with_capacity(1 << 16), upload: None }
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), BoxError> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= UPLOAD_PART_BYTES {
            self.send_part().await?;
        }
        Ok(())
    }

    fn failed(&self, e: impl std::error::Error) -> BoxError {
        format!("writing s3://{}/{}: {}", self.bucket, error_name(self.key), aws_sdk_s3::error::DisplayErrorContext(e)).into()
    }

    async fn send_part(&mut self) -> Result<(), BoxError> {
        if self.upload.is_none() {
            let started = self.s3.create_multipart_upload().bucket(self.bucket).key(self.key).content_type("text/csv; charset=utf-8").send().await.map_err(|e| self.failed(e))?;
            self.upload = Some((started.upload_id.ok_or("S3 started a multipart upload without an id")?, vec![]));
        }
        let (id, done) = self.upload.as_ref().expect("started above");
        let number = done.len() as i32 + 1;
        let body = std::mem::take(&mut self.buffer);
        let sent = self.s3.upload_part().bucket(self.bucket).key(self.key).upload_id(id).part_number(number).body(body.into()).send().await.map_err(|e| self.failed(e))?;
        let part = aws_sdk_s3::types::CompletedPart::builder().part_number(number).set_e_tag(sent.e_tag).build();
        self.upload.as_mut().expect("started above").1.push(part);
        Ok(())
    }

    pub async fn finish(mut self) -> Result<(), BoxError> {
        if self.upload.is_none() {
            return put_csv(self.s3, self.bucket, self.key, std::mem::take(&mut self.buffer)).await;
        }
        if !self.buffer.is_empty() {
            self.send_part().await?;
        }
        let (id, parts) = self.upload.take().expect("started");
        let parts = aws_sdk_s3::types::CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
        self.s3.complete_multipart_upload().bucket(self.bucket).key(self.key).upload_id(id).multipart_upload(parts).send().await.map_err(|e| self.failed(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_event_keys_are_decoded() {
        assert_eq!(decode_key("incoming/19/vbm/Oct+6%2C+2026.csv"), "incoming/19/vbm/Oct 6, 2026.csv");
        assert_eq!(decode_key("incoming%2F19%2Fvbm%2Ff.csv"), "incoming/19/vbm/f.csv");
        assert_eq!(report_key("incoming/19/vbm/f.csv"), "reports/19/vbm/f.csv.errors.csv");
    }
}
