//! The signing key, read from Secrets Manager once at cold start: the functions' environment
//! holds only the secret's ARN, so whoever may read their configuration does not learn the key.

use wmb_core::access::SigningKey;

/// Why the key could not be had. It names the variable and what went wrong, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("SIGNING_KEY_SECRET_ARN: the secret could not be read ({0})")]
    Unreadable(String),
    #[error("SIGNING_KEY_SECRET_ARN: the secret holds no text")]
    NoText,
    #[error("SIGNING_KEY_SECRET_ARN: the secret's key is shorter than 16 characters")]
    TooShort,
}

/// Reads the key from the secret `arn` (its current version).
pub async fn signing_key(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<SigningKey, SecretError> {
    let answer = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
        // The service's error code (AccessDeniedException, ResourceNotFoundException …) or the
        // kind of failure; the SDK's message may quote the request, so it is left out.
        let code = aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(&e).map(str::to_string);
        SecretError::Unreadable(code.unwrap_or_else(|| kind_of(&e).into()))
    })?;
    key_from(answer.secret_string())
}

/// The key a secret's text holds: the whole text, at least 16 characters (as the template
/// generates it: 48 letters and digits).
pub fn key_from(text: Option<&str>) -> Result<SigningKey, SecretError> {
    let text = text.ok_or(SecretError::NoText)?;
    SigningKey::new(text.as_bytes()).ok_or(SecretError::TooShort)
}

fn kind_of<E, R>(e: &aws_sdk_secretsmanager::error::SdkError<E, R>) -> &'static str {
    use aws_sdk_secretsmanager::error::SdkError;
    match e {
        SdkError::ConstructionFailure(_) => "the request could not be built",
        SdkError::TimeoutError(_) => "timed out",
        SdkError::DispatchFailure(_) => "the service could not be reached",
        SdkError::ResponseError(_) => "an answer that could not be read",
        SdkError::ServiceError(_) => "refused",
        _ => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_without_a_usable_key_stops_the_start_and_says_why_without_the_value() {
        assert!(key_from(Some("0123456789abcdefXYZ")).is_ok());
        let short = key_from(Some("sh0rt-s3cret")).unwrap_err().to_string();
        assert!(short.contains("SIGNING_KEY_SECRET_ARN") && short.contains("shorter than 16"), "{short}");
        assert!(!short.contains("sh0rt-s3cret"), "the value is never in the error: {short}");
        assert!(matches!(key_from(None), Err(SecretError::NoText)));
    }
}
