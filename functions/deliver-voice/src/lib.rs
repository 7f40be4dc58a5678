//! Voice calls through Amazon Connect: StartOutboundVoiceContact with the message as contact
//! attributes, for the contact flow to speak. The only crate that links aws-sdk-connect.
//!
//! Attributes: `wmb_mode` (`prompt` or `polly`), `wmb_prompt` (the prompt's id or ARN, when
//! recorded), `wmb_voice` (Polly's voice id), `wmb_text` (the script) and `wmb_message` (the
//! message type), which the stack's contact flow reads; `wmb_lang` (the language's code), which
//! the call-stop function reads (a 9 is answered in it); `wmb_language` (Polly's language code),
//! for a flow of one's own. The client token is derived from the message key, so
//! a retried or re-delivered message never places a second call.

use aws_sdk_connect::Client;
use std::collections::HashMap;
use wmb_aws::app::{App, BoxError};
use wmb_core::notify::fnv1a;
use wmb_core::ports::{DeliveryError, Dispatcher, OutgoingMessage};
use wmb_core::voice::VoiceRendering;

pub struct ConnectVoice {
    pub client: Client,
    pub instance_id: String,
    pub contact_flow_id: String,
    pub source_phone_number: String,
}

impl ConnectVoice {
    pub fn from_app(app: &App) -> Result<ConnectVoice, BoxError> {
        let s = &app.settings;
        let need = |v: &Option<String>, name: &str| v.clone().ok_or_else(|| format!("environment variable {name}: is not set"));
        Ok(ConnectVoice {
            client: Client::new(&app.sdk),
            instance_id: need(&s.connect_instance_id, "CONNECT_INSTANCE_ID")?,
            contact_flow_id: need(&s.connect_contact_flow_id, "CONNECT_CONTACT_FLOW_ID")?,
            source_phone_number: need(&s.connect_source_phone_number, "CONNECT_SOURCE_PHONE_NUMBER")?,
        })
    }
}

/// The contact attributes of a call.
pub fn call_attributes(msg: &OutgoingMessage) -> Result<HashMap<String, String>, DeliveryError> {
    let mut a = HashMap::from([
        ("wmb_message".to_string(), msg.kind.key().to_string()),
        ("wmb_text".to_string(), msg.rendered.text.clone()),
        // The call's language: pressing 9 is confirmed in it (the call-stop function).
        ("wmb_lang".to_string(), msg.language.code().to_string()),
    ]);
    match &msg.voice {
        Some(VoiceRendering::Prompt { prompt }) => {
            a.insert("wmb_mode".into(), "prompt".into());
            a.insert("wmb_prompt".into(), prompt.clone());
        }
        Some(VoiceRendering::Polly { language_code, voice_id }) => {
            a.insert("wmb_mode".into(), "polly".into());
            a.insert("wmb_language".into(), language_code.clone());
            a.insert("wmb_voice".into(), voice_id.clone());
        }
        None => return Err(DeliveryError::Permanent("a voice message without a voice rendering".into())),
    }
    Ok(a)
}

/// Connect's idempotency token for a message (at most 500 characters).
pub fn client_token(key: &str) -> String {
    format!("wmb-{:016x}-{:016x}", fnv1a(key.as_bytes()), fnv1a(format!("{key}#voice").as_bytes()))
}

fn classify(code: Option<&str>) -> DeliveryError {
    let text = format!("Connect: {}", code.unwrap_or("request failed"));
    match code.unwrap_or_default() {
        "LimitExceededException" | "TooManyRequestsException" | "ThrottlingException" => DeliveryError::Throttled,
        "DestinationNotAllowedException" | "InvalidParameterException" | "InvalidRequestException" | "OutboundContactNotPermittedException"
        | "ResourceNotFoundException" => DeliveryError::Permanent(text),
        _ => DeliveryError::Temporary(text),
    }
}

impl Dispatcher for ConnectVoice {
    /// False: no receipts of calls are read (the ledger records the call as placed).
    fn receipts_find_it_by_id(&self, _msg: &OutgoingMessage) -> bool {
        false
    }

    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        let attributes = call_attributes(msg)?;
        let out = self
            .client
            .start_outbound_voice_contact()
            .instance_id(&self.instance_id)
            .contact_flow_id(&self.contact_flow_id)
            .source_phone_number(&self.source_phone_number)
            .destination_phone_number(&msg.to)
            .client_token(client_token(&msg.key))
            .set_attributes(Some(attributes))
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.contact_id.unwrap_or_default()),
            Err(e) => Err(match e.as_service_error() {
                Some(se) if se.is_limit_exceeded_exception() => DeliveryError::Throttled,
                Some(se)
                    if se.is_destination_not_allowed_exception()
                        || se.is_invalid_parameter_exception()
                        || se.is_invalid_request_exception()
                        || se.is_outbound_contact_not_permitted_exception()
                        || se.is_resource_not_found_exception() =>
                {
                    DeliveryError::Permanent(format!("Connect: {}", aws_sdk_connect::error::ProvideErrorMetadata::code(se).unwrap_or("rejected the call")))
                }
                Some(se) => classify(aws_sdk_connect::error::ProvideErrorMetadata::code(se)),
                None => DeliveryError::Temporary("Connect: request failed".into()),
            }),
        }
    }
}

/// Calls when Amazon Connect is configured; otherwise every call fails for good, with the reason
/// (the API's voice codes in a deployment without Connect).
pub struct MaybeVoice(pub Option<ConnectVoice>);

impl MaybeVoice {
    pub fn from_app(app: &App) -> MaybeVoice {
        match ConnectVoice::from_app(app) {
            Ok(v) => MaybeVoice(Some(v)),
            Err(e) => {
                // Set in part: each call fails, so the start says which setting is missing.
                if app.settings.connect_instance_id.is_some() {
                    tracing::error!(error = %e, "Amazon Connect is set up in part: every call will fail");
                }
                MaybeVoice(None)
            }
        }
    }
}

impl Dispatcher for MaybeVoice {
    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        match &self.0 {
            Some(v) => v.dispatch(msg).await,
            None => Err(DeliveryError::Permanent("voice calls are not configured (Connect's instance, contact flow and caller id)".into())),
        }
    }

    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool {
        self.0.as_ref().is_some_and(|v| v.receipts_find_it_by_id(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_connect::operation::start_outbound_voice_contact::{StartOutboundVoiceContactError, StartOutboundVoiceContactOutput};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use wmb_core::status::{Channel, Language, MessageKind};
    use wmb_core::templates::Rendered;

    fn message(voice: Option<VoiceRendering>) -> OutgoingMessage {
        OutgoingMessage {
            key: "2026-11-03-GEN#CA1#19-1#accepted#voice".into(),
            votecal_id: "CA1".into(),
            election_id: Some("2026-11-03-GEN".into()),
            ballot_id: Some("19-1".into()),
            kind: MessageKind::Accepted,
            channel: Channel::Voice,
            language: Language::Km,
            to: "+13105550123".into(),
            send_at: chrono::Utc::now(),
            rendered: Rendered { subject: None, text: "script".into(), html: None },
            voice,
            unsubscribe_url: None,
        }
    }

    fn voice(client: Client) -> ConnectVoice {
        ConnectVoice { client, instance_id: "inst".into(), contact_flow_id: "flow".into(), source_phone_number: "+18005550100".into() }
    }

    #[tokio::test]
    async fn a_recorded_prompt_call_carries_the_prompt_and_a_stable_client_token() {
        let expected_token = client_token("2026-11-03-GEN#CA1#19-1#accepted#voice");
        let rule = mock!(Client::start_outbound_voice_contact)
            .match_requests(move |r| {
                r.destination_phone_number() == Some("+13105550123")
                    && r.client_token() == Some(expected_token.as_str())
                    && r.attributes().is_some_and(|a| a.get("wmb_mode").map(String::as_str) == Some("prompt") && a.get("wmb_prompt") == Some(&wmb_core::voice::sample_prompt_id("wmb-km-accepted")))
            })
            .then_output(|| StartOutboundVoiceContactOutput::builder().contact_id("contact-1").build());
        let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, [&rule]);
        let id = voice(client).dispatch(&message(Some(VoiceRendering::Prompt { prompt: wmb_core::voice::sample_prompt_id("wmb-km-accepted") }))).await.unwrap();
        assert_eq!(id, "contact-1");
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_polly_call_names_the_voice_and_throttling_is_retried_not_dropped() {
        let throttled = mock!(Client::start_outbound_voice_contact).then_error(|| {
            StartOutboundVoiceContactError::LimitExceededException(aws_sdk_connect::types::error::LimitExceededException::builder().message("slow down").build())
        });
        let rejected = mock!(Client::start_outbound_voice_contact).then_error(|| {
            StartOutboundVoiceContactError::DestinationNotAllowedException(aws_sdk_connect::types::error::DestinationNotAllowedException::builder().message("no").build())
        });
        let client = mock_client!(aws_sdk_connect, RuleMode::Sequential, [&throttled, &rejected]);
        let v = voice(client);
        let polly = message(Some(VoiceRendering::Polly { language_code: "es-US".into(), voice_id: "Lupe".into() }));
        assert_eq!(call_attributes(&polly).unwrap()["wmb_voice"], "Lupe");
        assert_eq!(v.dispatch(&polly).await.unwrap_err(), DeliveryError::Throttled);
        assert!(matches!(v.dispatch(&polly).await.unwrap_err(), DeliveryError::Permanent(_)));
    }

    #[tokio::test]
    async fn without_connect_a_call_fails_for_good_with_its_reason_and_is_not_retried() {
        // The delivery function of a deployment without Connect: the call is recorded as failed
        // (a permanent failure), not sent back to its queue until the dead-letter queue.
        let err = MaybeVoice(None).dispatch(&message(Some(VoiceRendering::Prompt { prompt: "p".into() }))).await.unwrap_err();
        assert!(matches!(&err, DeliveryError::Permanent(why) if why.contains("not configured")), "{err:?}");
    }

    #[test]
    fn a_call_needs_a_voice_rendering() {
        assert!(matches!(call_attributes(&message(None)), Err(DeliveryError::Permanent(_))));
        assert_ne!(client_token("a"), client_token("b"));
        assert!(client_token(&"k".repeat(1000)).len() <= 500);
    }
}
