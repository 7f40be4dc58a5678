//! A listener's 9 during a ballot call: the call's contact flow invokes this function, which stops
//! calls to the number the call rang ([`wmb_core::call_stop`]) and answers what the call says
//! before it hangs up.
//!
//! Only a call this service placed is taken: one Amazon Connect started by the API
//! (StartOutboundVoiceContact), on the configured instance, carrying the message attributes the
//! deliverer sets. An inbound call to the instance (whose caller id anyone can forge) stops
//! nothing. The answer holds no personal data; nothing is logged but how many stopped.

use crate::app::{App, BoxError};
use aws_lambda_events::event::connect::{ConnectEvent, ConnectResponse};
use lambda_runtime::LambdaEvent;
use wmb_core::ports::{DeliveryError, Dispatcher, OutgoingMessage};
use wmb_core::status::Language;
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
    if data.initiation_method.as_deref() != Some("API") || !data.attributes.contains_key("wmb_message") {
        return Err("not a call this service placed (only an API-started call carrying wmb_message is taken)");
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

pub async fn handle(app: &App, event: LambdaEvent<ConnectEvent>) -> Result<ConnectResponse, BoxError> {
    let phone = called_phone(&event.payload, app.settings.connect_instance_id.as_deref())?;
    let language = event.payload.details.contact_data.attributes.get("wmb_lang").and_then(|code| Language::parse(code));
    let config = app.config().await;
    let mut tally = wmb_core::pipeline::Tally::default();
    let stop = app.pipeline(&config, &SendsNothing).stop_calls(&phone, language, app.now(), &mut tally).await;
    // (What stopped before a failure is counted; a second 9 finds it done.)
    app.store.add_county_days(&tally.county_days.take()).await;
    let stop = stop?;
    tracing::info!(changed = stop.changed, "calls stopped by the keypad");
    let mut answer = ConnectResponse::new();
    match stop.speak {
        Some(VoiceRendering::Polly { .. }) => {
            answer.insert("wmb_mode".into(), "polly".into());
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
    Ok(answer)
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
}
