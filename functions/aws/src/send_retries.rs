//! Retries of a send to a voter: only what the provider refused outright.
//!
//! SNS's Publish and SES's SendEmail take no idempotency token. A send that timed out, lost its
//! connection or was answered with a 5xx may have gone out, and the SDK's own retries (up to ten
//! attempts in a few seconds here) would each send it again. So the clients that send voters
//! their news (the delivery functions) retry a throttle only: the provider refused it, nothing
//! went out. Any other failure comes back to the pipeline, sorted
//! as the provider's error code says; a passing one frees the ledger's claim and holds the message
//! for a retry a minute or more later (up to 8 passing failures). A message in doubt goes out at
//! most once more per doubt. Codes, the notice that a voter's contacts changed and the replies to
//! texts keep the SDK's retries: a second copy of them does no harm. (Calls carry a client
//! token made from the ledger key, and Connect honours it, so their client keeps them too.)

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason, SharedRetryClassifier};
use aws_smithy_types::retry::ErrorKind;

/// Forbids every retry the SDK's classifiers asked for, except a throttle's.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnlyThrottles;

impl ClassifyRetry for OnlyThrottles {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        match previous {
            RetryAction::RetryIndicated(RetryReason::RetryableError { kind: ErrorKind::ThrottlingError, .. }) => RetryAction::NoActionIndicated,
            RetryAction::RetryIndicated(_) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "OnlyThrottles"
    }

    /// Last, so that it sees what every other classifier decided.
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

pub fn only_throttles() -> SharedRetryClassifier {
    SharedRetryClassifier::new(OnlyThrottles)
}

/// The SNS client that texts voters their news.
pub fn sns_client(sdk: &aws_config::SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::from_conf(sns_config(aws_sdk_sns::config::Builder::from(sdk)).build())
}

/// The SES client that emails voters their news.
pub fn ses_client(sdk: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::from_conf(ses_config(aws_sdk_sesv2::config::Builder::from(sdk)).build())
}

/// An SNS client's settings, retrying only throttles.
pub fn sns_config(b: aws_sdk_sns::config::Builder) -> aws_sdk_sns::config::Builder {
    b.retry_classifier(only_throttles())
}

/// An SES client's settings, retrying only throttles.
pub fn ses_config(b: aws_sdk_sesv2::config::Builder) -> aws_sdk_sesv2::config::Builder {
    b.retry_classifier(only_throttles())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::senders::{SesEmail, SnsSms};
    use aws_sdk_sns::operation::publish::PublishOutput;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use wmb_core::ports::{DeliveryError, Dispatcher, OutgoingMessage};

    fn text() -> OutgoingMessage {
        OutgoingMessage {
            key: "E#CA1#B1#accepted#sms".into(),
            votecal_id: "CA1".into(),
            election_id: None,
            ballot_id: None,
            kind: wmb_core::MessageKind::Accepted,
            channel: wmb_core::status::Channel::Sms,
            language: wmb_core::Language::En,
            to: "+15105550100".into(),
            send_at: chrono::Utc::now(),
            rendered: wmb_core::templates::Rendered { subject: None, text: "t".into(), html: None },
            voice: None,
            unsubscribe_url: None,
        }
    }

    fn retries() -> aws_smithy_types::retry::RetryConfig {
        aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(3).with_initial_backoff(std::time::Duration::from_millis(1))
    }

    /// SNS answering each attempt as `rule` says, through a client that would retry three times:
    /// the voters' (as `sns_client` makes it) or the SDK's own.
    fn sns(rule: &aws_smithy_mocks::Rule, voters: bool) -> SnsSms {
        let client = mock_client!(aws_sdk_sns, RuleMode::Sequential, [rule], |b| {
            let b = b.retry_config(retries());
            if voters { sns_config(b) } else { b }
        });
        SnsSms { client, origination_number: None }
    }

    fn ses(rule: &aws_smithy_mocks::Rule) -> SesEmail {
        let client = mock_client!(aws_sdk_sesv2, RuleMode::Sequential, [rule], |b| ses_config(b.retry_config(retries())));
        SesEmail { client, from: "notify@example.gov".into(), configuration_set: None }
    }

    const THROTTLED: &str = r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
    const INTERNAL: &str = r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Receiver</Type><Code>InternalError</Code><Message>x</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;

    #[tokio::test]
    async fn a_text_the_provider_answered_with_a_5xx_is_not_sent_again_at_once_by_the_sdk() {
        // GIVEN SNS answering 500 (it may have sent the text) and then accepting
        let answers = || mock!(aws_sdk_sns::Client::publish).sequence().http_status(500, Some(INTERNAL.into())).output(|| PublishOutput::builder().message_id("m-2").build()).build();
        // WHEN the voters' client sends it
        let rule = answers();
        let err = sns(&rule, true).dispatch(&text()).await.unwrap_err();
        // THEN it was tried once, and the pipeline hears of a passing failure (it retries later)
        assert_eq!(rule.num_calls(), 1);
        assert!(matches!(err, DeliveryError::Temporary(_)), "{err:?}");
        // (The SDK's own retries would have sent it twice within the call.)
        let rule = answers();
        assert_eq!(sns(&rule, false).dispatch(&text()).await.unwrap(), "m-2");
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn a_throttled_text_is_retried_at_once_by_the_sdk() {
        // GIVEN SNS throttling the first attempt (nothing was sent), then accepting
        let rule = mock!(aws_sdk_sns::Client::publish).sequence().http_status(400, Some(THROTTLED.into())).output(|| PublishOutput::builder().message_id("m-1").build()).build();
        // WHEN the voters' client sends it THEN it goes, on the second attempt
        assert_eq!(sns(&rule, true).dispatch(&text()).await.unwrap(), "m-1");
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn an_email_the_provider_answered_with_a_5xx_is_tried_once_and_a_throttled_one_again() {
        use aws_sdk_sesv2::operation::send_email::SendEmailOutput;
        let mut email = text();
        (email.channel, email.to, email.rendered.subject) = (wmb_core::status::Channel::Email, "voter@example.com".into(), Some("s".into()));
        // GIVEN SES answering 503 (it may have sent the email), then accepting
        let rule = mock!(aws_sdk_sesv2::Client::send_email).sequence().http_status(503, None).output(|| SendEmailOutput::builder().message_id("e-2").build()).build();
        // THEN the voters' client tried once, and the pipeline hears of a passing failure
        assert!(matches!(ses(&rule).dispatch(&email).await.unwrap_err(), DeliveryError::Temporary(_)));
        assert_eq!(rule.num_calls(), 1);
        // GIVEN SES throttling the first attempt THEN the SDK tries again, and it goes
        let throttled = r#"{"message":"Maximum sending rate exceeded."}"#;
        let rule = mock!(aws_sdk_sesv2::Client::send_email)
            .sequence()
            .http_response(move || {
                let mut r = aws_smithy_runtime_api::http::Response::new(aws_smithy_runtime_api::http::StatusCode::try_from(429u16).unwrap(), aws_smithy_types::body::SdkBody::from(throttled));
                r.headers_mut().insert("x-amzn-errortype", "TooManyRequestsException");
                r
            })
            .output(|| SendEmailOutput::builder().message_id("e-1").build())
            .build();
        assert_eq!(ses(&rule).dispatch(&email).await.unwrap(), "e-1");
        assert_eq!(rule.num_calls(), 2);
    }
}
