//! The channel queues (SQS): notifications due now wait here for their delivery function.
//! Sends are batched, ten to a request, and flushed before a handler returns.

use crate::settings::Settings;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::sync::Mutex;
use wmb_core::notify::Notification;
use wmb_core::ports::{NotificationQueue, StoreError};
use wmb_core::status::Channel;

pub struct SqsQueues {
    pub client: aws_sdk_sqs::Client,
    sms: String,
    email: String,
    voice: String,
    pending: Mutex<Vec<(Channel, String)>>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqsQueues {
    pub fn new(client: aws_sdk_sqs::Client, s: &Settings) -> Self {
        SqsQueues {
            client,
            sms: s.sms_queue_url.clone(),
            email: s.email_queue_url.clone(),
            voice: s.voice_queue_url.clone(),
            pending: Mutex::new(vec![]),
        }
    }

    pub fn url(&self, channel: Channel) -> &str {
        match channel {
            Channel::Sms => &self.sms,
            Channel::Email => &self.email,
            Channel::Voice => &self.voice,
        }
    }

    /// Sends everything queued so far. Call before a handler answers: what is reported as done
    /// must be on its queue. If sending fails, everything stays queued for the next flush (a
    /// message queued twice is harmless: delivery claims each key once).
    pub async fn flush(&self) -> Result<usize, StoreError> {
        let pending: Vec<(Channel, String)> = std::mem::take(&mut *self.pending.lock().map_err(unavailable)?);
        match self.send_all(&pending).await {
            Ok(sent) => Ok(sent),
            Err(e) => {
                let mut queued = self.pending.lock().map_err(unavailable)?;
                let mut keep = pending;
                keep.append(&mut queued);
                *queued = keep;
                Err(e)
            }
        }
    }

    async fn send_all(&self, pending: &[(Channel, String)]) -> Result<usize, StoreError> {
        let mut sent = 0;
        for channel in [Channel::Sms, Channel::Email, Channel::Voice] {
            let bodies: Vec<&String> = pending.iter().filter(|(c, _)| *c == channel).map(|(_, b)| b).collect();
            for chunk in bodies.chunks(10) {
                let mut entries: Vec<SendMessageBatchRequestEntry> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, body)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body.as_str()).build().expect("id and body"))
                    .collect();
                for attempt in 0..6 {
                    let out = self.client.send_message_batch().queue_url(self.url(channel)).set_entries(Some(entries.clone())).send().await;
                    let out = out.map_err(|e| unavailable(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
                    let failed: Vec<String> = out.failed.iter().map(|f| f.id.clone()).collect();
                    sent += entries.len() - failed.len();
                    entries.retain(|e| failed.contains(&e.id));
                    if entries.is_empty() {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                }
                if !entries.is_empty() {
                    return Err(unavailable(format!("{} messages could not be queued", entries.len())));
                }
            }
        }
        Ok(sent)
    }
}

impl NotificationQueue for SqsQueues {
    async fn enqueue(&self, n: &Notification) -> Result<bool, StoreError> {
        let body = serde_json::to_string(n).map_err(unavailable)?;
        let full = {
            let mut pending = self.pending.lock().map_err(unavailable)?;
            pending.push((n.channel, body));
            pending.len() >= 100
        };
        if full {
            self.flush().await?;
        }
        Ok(true)
    }

    async fn flush_queued(&self) -> Result<(), StoreError> {
        self.flush().await.map(|_| ())
    }
}
