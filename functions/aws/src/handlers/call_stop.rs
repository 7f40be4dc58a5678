//! A listener's 9 during a ballot call: the call's contact flow invokes this function, which stops
//! calls to the number the call rang ([`wmb_core::call_stop`]) and answers what the call says
//! before it hangs up.
//!
//! Only a ballot call this service placed is taken: a voice call Amazon Connect started by the
//! API (StartOutboundVoiceContact), on the configured instance, carrying the message attributes
//! the deliverer sets, for any message but a code (ballot news, the notice of a move). An inbound call to the instance (whose
//! caller id anyone can forge) stops nothing. The answer holds no personal data; nothing is
//! logged but how many stopped, why a 9 was refused, or the store's error when it failed (the
//! SDK's message: it names no key's value, and the contact's key is a keyed hash).
//!
//! Left to the instance's owners: any flow on the instance, or anyone allowed to invoke the
//! function, can name any number. Both are the SOS's own administrators.

use crate::app::{App, BoxError};
use crate::metrics::count;
use aws_lambda_events::event::connect::{ConnectEvent, ConnectResponse};
use lambda_runtime::LambdaEvent;
use wmb_core::call_stop::CallStop;
use wmb_core::ports::{DeliveryError, Dispatcher, OutgoingMessage};
use wmb_core::status::{Language, MessageKind};
use wmb_core::voice::VoiceRendering;

/// This function sends nothing: the confirmation is the call's own.
pub struct SendsNothing;

impl Dispatcher for SendsNothing {
    async fn dispatch(&self, _: &OutgoingMessage) -> Result<String, DeliveryError> {
        Err(DeliveryError::Permanent("the call-stop function sends no message".into()))
    }

    fn receipts_find_it_by_id(&self, _: &OutgoingMessage) -> bool {
        false
    }
}

/// The phone a call of ours rang, or why the invocation is refused (never the number itself).
pub fn called_phone(event: &ConnectEvent, instance_id: Option<&str>) -> Result<String, &'static str> {
    let data = &event.details.contact_data;
    if data.initiation_method.as_deref() != Some("API") || data.channel.as_deref() != Some("VOICE") {
        return Err("not an outbound voice call started by the API");
    }
    let ballot_call = data.attributes.get("wmb_message").and_then(|k| MessageKind::parse(k)).is_some_and(MessageKind::call_offers_stop);
    if !ballot_call {
        return Err("not a ballot call of this service (wmb_message)");
    }
    let instance = data.instance_arn.as_deref().and_then(|arn| arn.rsplit_once("instance/")).map(|(_, id)| id);
    if instance_id.is_none() || instance != instance_id {
        return Err("a call of another Amazon Connect instance than CONNECT_INSTANCE_ID");
    }
    let endpoint = &data.customer_endpoint;
    match (endpoint.type_.as_deref(), endpoint.address.as_deref()) {
        (Some("TELEPHONE_NUMBER"), Some(phone)) if phone.starts_with('+') => Ok(phone.to_string()),
        _ => Err("the call's customer endpoint is not a telephone number"),
    }
}

/// What the contact flow reads from the answer: `wmb_mode` (`polly`, `prompt` or `none`),
/// `wmb_said` and `wmb_voice` (Polly's), or `wmb_prompt` (the recording).
pub fn answer(stop: CallStop) -> ConnectResponse {
    let mut answer = ConnectResponse::new();
    match stop.speak {
        Some(VoiceRendering::Polly { voice_id, .. }) => {
            answer.insert("wmb_mode".into(), "polly".into());
            answer.insert("wmb_voice".into(), voice_id);
            answer.insert("wmb_said".into(), stop.said);
        }
        Some(VoiceRendering::Prompt { prompt }) => {
            answer.insert("wmb_mode".into(), "prompt".into());
            answer.insert("wmb_prompt".into(), prompt);
        }
        None => {
            answer.insert("wmb_mode".into(), "none".into());
        }
    }
    answer
}

/// Every outcome is an answer the call can say: a refused invocation (counted, `CallStopsRefused`)
/// hangs up without a word, a stop that failed (counted, `CallStopsFailed`, alarmed) says so and
/// gives the page and the hotline where Polly speaks the call's language (else it hangs up
/// without a word). Only a function that cannot start, or runs past Connect's 8 s, fails the
/// invocation (the Lambda errors alarm).
pub async fn handle(app: &App, event: LambdaEvent<ConnectEvent>) -> Result<ConnectResponse, BoxError> {
    let at = app.now().timestamp_millis();
    let phone = match called_phone(&event.payload, app.settings.connect_instance_id.as_deref()) {
        Ok(phone) => phone,
        Err(why) => {
            tracing::warn!(why, "a 9 refused");
            app.metrics.emit(at, &[], &[&[]], &[("CallStopsRefused", count(1))]);
            return Ok(answer(CallStop { changed: 0, found: 0, language: Language::En, said: String::new(), speak: None }));
        }
    };
    let language = event.payload.details.contact_data.attributes.get("wmb_lang").and_then(|code| Language::parse(code));
    let config = app.config().await;
    let mut tally = wmb_core::pipeline::Tally::default();
    let stop = app.pipeline(&config, &SendsNothing).stop_calls(&phone, language, app.now(), &mut tally).await;
    // (What stopped before a failure is counted; a second 9 finds it done.)
    app.store.add_county_days(&tally.county_days.take()).await;
    match stop {
        Ok(stop) => {
            tracing::info!(changed = stop.changed, "calls stopped by the keypad");
            app.metrics.emit(at, &[], &[&[]], &[("CallsStopped", count(stop.changed as u64))]);
            Ok(answer(stop))
        }
        Err(e) => {
            tracing::error!(error = %e, "a 9 could not stop the calls");
            app.metrics.emit(at, &[], &[&[]], &[("CallStopsFailed", count(1))]);
            Ok(answer(CallStop::failed(&app.catalog, language.unwrap_or(Language::En))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(method: &str, instance: &str, attributes: &[(&str, &str)], endpoint: serde_json::Value) -> ConnectEvent {
        let attributes: serde_json::Map<String, serde_json::Value> = attributes.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect();
        serde_json::from_value(serde_json::json!({
            "Name": "ContactFlowEvent",
            "Details": {
                "ContactData": {
                    "Attributes": attributes,
                    "Channel": "VOICE",
                    "ContactId": "c-1",
                    "CustomerEndpoint": endpoint,
                    "InitiationMethod": method,
                    "InstanceARN": format!("arn:aws:connect:us-west-2:123456789012:instance/{instance}"),
                    "SystemEndpoint": {"Address": "+18005550100", "Type": "TELEPHONE_NUMBER"}
                },
                "Parameters": {}
            }
        }))
        .unwrap()
    }

    const INSTANCE: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn only_a_call_this_service_placed_on_its_own_instance_names_a_phone() {
        let phone = serde_json::json!({"Address": "+19165550100", "Type": "TELEPHONE_NUMBER"});
        let ours = [("wmb_message", "accepted"), ("wmb_lang", "es")];
        // A code call (a phone being proven) offers no stop.
        assert!(called_phone(&event("API", INSTANCE, &[("wmb_message", "verification_code")], phone.clone()), Some(INSTANCE)).is_err());
        assert_eq!(called_phone(&event("API", INSTANCE, &ours, phone.clone()), Some(INSTANCE)).unwrap(), "+19165550100");
        // A call to the instance: its caller id is whatever the caller says.
        assert!(called_phone(&event("INBOUND", INSTANCE, &ours, phone.clone()), Some(INSTANCE)).is_err());
        // Another flow's API call without our attributes, another instance, no instance set.
        assert!(called_phone(&event("API", INSTANCE, &[], phone.clone()), Some(INSTANCE)).is_err());
        assert!(called_phone(&event("API", "99999999-2222-3333-4444-555555555555", &ours, phone.clone()), Some(INSTANCE)).is_err());
        assert!(called_phone(&event("API", INSTANCE, &ours, phone), None).is_err());
        // Not a phone.
        let other = serde_json::json!({"Address": "someone", "Type": "CONNECT_USER"});
        assert!(called_phone(&event("API", INSTANCE, &ours, other), Some(INSTANCE)).is_err());
    }

    #[test]
    fn a_stop_that_failed_says_so_in_the_calls_voice_or_not_at_all() {
        let catalog = wmb_core::templates::Catalog::embedded().unwrap();
        let spanish = answer(CallStop::failed(&catalog, Language::Es));
        assert_eq!((spanish["wmb_mode"].as_str(), spanish["wmb_voice"].as_str()), ("polly", "Lupe"));
        assert_eq!(spanish["wmb_said"], catalog.language(Language::Es).web.voice_stop_failed);
        assert!(spanish["wmb_said"].contains("1 800 345 8683"));
        // No voice speaks Khmer, and no recording says this: silence, not English.
        assert_eq!(answer(CallStop::failed(&catalog, Language::Km))["wmb_mode"], "none");
    }
}
