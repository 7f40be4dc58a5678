//! The outbox: what SES, SNS and Connect would have been asked to send, one JSON line each.

use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
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

pub struct Outbox {
    out: Mutex<(BufWriter<File>, u64)>,
}

impl Outbox {
    pub fn create(path: &Path) -> std::io::Result<Outbox> {
        Ok(Outbox { out: Mutex::new((BufWriter::new(File::create(path)?), 0)) })
    }

    pub fn flush(&self) -> std::io::Result<u64> {
        let mut g = self.out.lock().expect("outbox poisoned");
        g.0.flush()?;
        Ok(g.1)
    }
}

impl Dispatcher for Outbox {
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
        let json = serde_json::to_string(&line).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let mut g = self.out.lock().expect("outbox poisoned");
        writeln!(g.0, "{json}").map_err(|e| DeliveryError::Temporary(e.to_string()))?;
        g.1 += 1;
        Ok(format!("outbox-{}", g.1))
    }
}
