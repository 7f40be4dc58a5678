//! The providers: SMS through SNS, email through SES v2. Errors are sorted into throttling
//! (retried later), passing failures (retried later) and permanent failures (recorded).

use crate::app::{App, BoxError};
use aws_sdk_sns::types::MessageAttributeValue;
use wmb_core::ports::{DeliveryError, Dispatcher, OutgoingMessage};
use wmb_core::status::Channel;

fn classify(code: Option<&str>, text: String) -> DeliveryError {
    match code.unwrap_or_default() {
        "Throttling" | "ThrottlingException" | "ThrottledException" | "TooManyRequestsException" | "LimitExceededException"
        | "KMSThrottlingException" | "KMSThrottling" | "Throttled" => DeliveryError::Throttled,
        "InvalidParameter" | "InvalidParameterException" | "InvalidParameterValue" | "ParameterValueInvalid" | "OptedOut" | "OptedOutException"
        | "MessageRejected" | "BadRequestException" | "NotFoundException" | "EndpointDisabled" => DeliveryError::Permanent(text),
        _ => DeliveryError::Temporary(text),
    }
}

/// SMS through Amazon SNS (transactional, from the configured origination number).
pub struct SnsSms {
    pub client: aws_sdk_sns::Client,
    pub origination_number: Option<String>,
}

impl Dispatcher for SnsSms {
    /// True: SNS's delivery logs name a text by SNS's message id only.
    fn receipts_find_it_by_id(&self, _msg: &OutgoingMessage) -> bool {
        true
    }

    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        let string = |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build().expect("type set");
        let mut publish = self
            .client
            .publish()
            .phone_number(&msg.to)
            .message(&msg.rendered.text)
            .message_attributes("AWS.SNS.SMS.SMSType", string("Transactional"));
        if let Some(from) = &self.origination_number {
            publish = publish.message_attributes("AWS.MM.SMS.OriginationNumber", string(from));
        }
        match publish.send().await {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(e) => {
                let code = e.as_service_error().and_then(|se| aws_sdk_sns::error::ProvideErrorMetadata::code(se)).map(str::to_string);
                Err(classify(code.as_deref(), format!("SNS: {}", code.as_deref().unwrap_or("request failed"))))
            }
        }
    }
}

/// Email through Amazon SES v2: subject, plain text and HTML.
pub struct SesEmail {
    pub client: aws_sdk_sesv2::Client,
    pub from: String,
    /// Where SES publishes the message's delivery, bounce and complaint events.
    pub configuration_set: Option<String>,
}

impl Dispatcher for SesEmail {
    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |t: &str| Content::builder().data(t).charset("UTF-8").build().expect("data set");
        let mut body = Body::builder().text(content(&msg.rendered.text));
        if let Some(html) = &msg.rendered.html {
            body = body.html(content(html));
        }
        let mut message = Message::builder().subject(content(msg.rendered.subject.as_deref().unwrap_or_default())).body(body.build());
        // RFC 8058 one-click unsubscribe: mail clients show "Unsubscribe" and POST to the link.
        if let Some(url) = &msg.unsubscribe_url {
            let header = |name: &str, value: String| aws_sdk_sesv2::types::MessageHeader::builder().name(name).value(value).build().expect("name and value set");
            message = message.headers(header("List-Unsubscribe", format!("<{url}>"))).headers(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()));
        }
        let message = message.build();
        // The ledger key as a tag: SES returns it with the message's delivery, bounce and
        // complaint events, and the receipt finds the message by it.
        let tags = wmb_core::receipts::key_tag(&msg.key).map(|v| vec![aws_sdk_sesv2::types::MessageTag::builder().name(wmb_core::receipts::KEY_TAG).value(v).build().expect("name and value set")]);
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .set_configuration_set_name(self.configuration_set.clone())
            .set_email_tags(tags)
            .destination(Destination::builder().to_addresses(&msg.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(e) => {
                let code = e.as_service_error().and_then(|se| aws_sdk_sesv2::error::ProvideErrorMetadata::code(se)).map(str::to_string);
                Err(classify(code.as_deref(), format!("SES: {}", code.as_deref().unwrap_or("request failed"))))
            }
        }
    }

    /// False: SES's events carry the email's tag, its ledger key (true only for a key that
    /// cannot be a tag).
    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool {
        wmb_core::receipts::key_tag(&msg.key).is_none()
    }
}

/// Every channel at once, for messages that go out directly (codes, answers to texts): texts by
/// SNS, email by SES, calls by the voice dispatcher given (Amazon Connect, in its own crate).
pub struct ByChannel<V> {
    pub sms: SnsSms,
    pub email: SesEmail,
    pub voice: V,
}

impl<V> ByChannel<V> {
    pub fn from_app(app: &App, voice: V) -> ByChannel<V> {
        ByChannel {
            // The SDK's own retries: a code or a notice that her contacts changed is not retried
            // later by anyone, and a second copy does no harm (see `send_retries`).
            sms: SnsSms { client: aws_sdk_sns::Client::new(&app.sdk), origination_number: app.settings.sms_origination_number.clone() },
            email: SesEmail { client: aws_sdk_sesv2::Client::new(&app.sdk), from: app.settings.email_from.clone(), configuration_set: app.settings.ses_configuration_set.clone() },
            voice,
        }
    }
}

impl<V: Dispatcher> Dispatcher for ByChannel<V> {
    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        match msg.channel {
            Channel::Sms => self.sms.dispatch(msg).await,
            Channel::Email => self.email.dispatch(msg).await,
            Channel::Voice => self.voice.dispatch(msg).await,
        }
    }

    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool {
        match msg.channel {
            Channel::Sms => self.sms.receipts_find_it_by_id(msg),
            Channel::Email => self.email.receipts_find_it_by_id(msg),
            Channel::Voice => self.voice.receipts_find_it_by_id(msg),
        }
    }
}

/// The sender of the channel a delivery function serves (CHANNEL=sms or email).
pub enum ChannelSender {
    Sms(SnsSms),
    Email(SesEmail),
}

impl ChannelSender {
    pub fn from_app(app: &App) -> Result<ChannelSender, BoxError> {
        match std::env::var("CHANNEL").ok().as_deref().and_then(Channel::parse) {
            Some(Channel::Sms) => Ok(ChannelSender::Sms(SnsSms {
                client: crate::send_retries::sns_client(&app.sdk),
                origination_number: app.settings.sms_origination_number.clone(),
            })),
            Some(Channel::Email) => {
                if app.settings.email_from.is_empty() {
                    return Err("environment variable EMAIL_FROM: is not set".into());
                }
                // Every email carries a one-click unsubscribe link the API must be able to check.
                app.settings.require_access()?;
                if app.settings.public_api_url.is_none() {
                    return Err("environment variable PUBLIC_API_URL: is not set".into());
                }
                Ok(ChannelSender::Email(SesEmail { client: crate::send_retries::ses_client(&app.sdk), from: app.settings.email_from.clone(), configuration_set: app.settings.ses_configuration_set.clone() }))
            }
            _ => Err("environment variable CHANNEL: must be sms or email (voice has its own function)".into()),
        }
    }
}

impl Dispatcher for ChannelSender {
    async fn dispatch(&self, msg: &OutgoingMessage) -> Result<String, DeliveryError> {
        match self {
            ChannelSender::Sms(s) => s.dispatch(msg).await,
            ChannelSender::Email(e) => e.dispatch(msg).await,
        }
    }

    fn receipts_find_it_by_id(&self, msg: &OutgoingMessage) -> bool {
        match self {
            ChannelSender::Sms(s) => s.receipts_find_it_by_id(msg),
            ChannelSender::Email(e) => e.receipts_find_it_by_id(msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn an_email_carries_the_one_click_unsubscribe_headers_of_rfc_8058_and_its_ledger_key_as_a_tag() {
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let record = seen.clone();
        let rule = mock!(aws_sdk_sesv2::Client::send_email)
            .match_requests(move |r| {
                let headers = r.content().and_then(|c| c.simple()).map(|m| m.headers().to_vec()).unwrap_or_default();
                record.lock().unwrap().extend(headers.into_iter().map(|h| (h.name().to_string(), h.value().to_string())));
                record.lock().unwrap().extend(r.email_tags().iter().map(|t| (t.name().to_string(), t.value().to_string())));
                true
            })
            .then_output(|| aws_sdk_sesv2::operation::send_email::SendEmailOutput::builder().message_id("m-1").build());
        let ses = SesEmail { client: mock_client!(aws_sdk_sesv2, RuleMode::MatchAny, [&rule]), from: "notify@example.gov".into(), configuration_set: None };
        let msg = OutgoingMessage {
            key: "E#CA1#B1#accepted#email".into(),
            votecal_id: "CA1".into(),
            election_id: None,
            ballot_id: None,
            kind: wmb_core::MessageKind::Accepted,
            channel: Channel::Email,
            language: wmb_core::Language::En,
            to: "voter@example.com".into(),
            send_at: chrono::Utc::now(),
            rendered: wmb_core::templates::Rendered { subject: Some("s".into()), text: "t".into(), html: Some("<p>h</p>".into()) },
            voice: None,
            unsubscribe_url: Some("https://api.example.gov/unsubscribe?token=abc.def".into()),
        };
        assert_eq!(ses.dispatch(&msg).await.unwrap(), "m-1");
        assert_eq!(
            *seen.lock().unwrap(),
            [
                ("List-Unsubscribe".to_string(), "<https://api.example.gov/unsubscribe?token=abc.def>".to_string()),
                ("List-Unsubscribe-Post".to_string(), "List-Unsubscribe=One-Click".to_string()),
                ("wmb-message".to_string(), "E_hCA1_hB1_haccepted_hemail".to_string())
            ]
        );
        assert!(!ses.receipts_find_it_by_id(&msg), "its receipts find it by that tag, not by SES's id");
    }

    #[test]
    fn provider_errors_are_sorted_into_retry_or_record() {
        assert_eq!(classify(Some("Throttling"), "x".into()), DeliveryError::Throttled);
        assert_eq!(classify(Some("TooManyRequestsException"), "x".into()), DeliveryError::Throttled);
        assert!(matches!(classify(Some("OptedOut"), "x".into()), DeliveryError::Permanent(_)));
        assert!(matches!(classify(Some("MessageRejected"), "x".into()), DeliveryError::Permanent(_)));
        assert!(matches!(classify(Some("InternalError"), "x".into()), DeliveryError::Temporary(_)));
        assert!(matches!(classify(None, "x".into()), DeliveryError::Temporary(_)));
        // SNS's own spellings
        assert_eq!(classify(Some("Throttled"), "x".into()), DeliveryError::Throttled);
        assert_eq!(classify(Some("KMSThrottling"), "x".into()), DeliveryError::Throttled);
        assert!(matches!(classify(Some("ParameterValueInvalid"), "x".into()), DeliveryError::Permanent(_)));
    }
}
