//! Sign-up: `POST /signup` with the voter's identity and choices (JSON). Answers say what
//! happened and what to do, and never repeat the voter's personal data.
//!
//! - 200 `{"status":"subscribed","county":"19","language":"es","channels":["sms"],"hours":"08:00–20:00"}`
//! - 422 `{"status":"refused","reason":"no_match","advice":"…"}` (no match, VoteCal ID needed, not active)
//! - 400 `{"status":"invalid","field":"sms","reason":"…"}`

use crate::app::{App, BoxError, NoSends};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;
use wmb_core::pipeline::Tally;
use wmb_core::signup::{Refusal, SignupRequest};

/// The request body: the `signups` file's fields, as JSON.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD`, or `MM-DD-YYYY` / `MM/DD/YYYY` as voters often type it.
    pub date_of_birth: String,
    pub zip: String,
    #[serde(default)]
    pub votecal_id: String,
    pub language: String,
    #[serde(default)]
    pub sms: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub voice: String,
    #[serde(default)]
    pub notify_from: String,
    #[serde(default)]
    pub notify_until: String,
}

/// `MM-DD-YYYY` or `MM/DD/YYYY` → `YYYY-MM-DD`; anything else unchanged (and checked later).
pub fn normalize_date(text: &str) -> String {
    let t = text.trim();
    let parts: Vec<&str> = t.split(['-', '/']).collect();
    match parts.as_slice() {
        [m, d, y] if m.len() <= 2 && d.len() <= 2 && y.len() == 4 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => t.to_string(),
    }
}

fn answer(status: u16, body: serde_json::Value) -> Result<Response<Body>, BoxError> {
    Ok(Response::builder().status(status).header("content-type", "application/json").body(Body::from(body.to_string()))?)
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, BoxError> {
    if request.method() != "POST" {
        return answer(405, json!({ "status": "invalid", "reason": "use POST" }));
    }
    let body: SignupBody = match serde_json::from_slice(request.body().as_ref()) {
        Ok(b) => b,
        // Fixed text: serde's message could quote a value (a phone number sent as a number).
        Err(_) => {
            return answer(400, json!({ "status": "invalid", "field": "body", "reason": "not a sign-up request: a JSON object of text fields (first_name, last_name, date_of_birth, zip, language, sms, email, voice, votecal_id, notify_from, notify_until) is expected" }))
        }
    };
    let parsed = SignupRequest::from_fields(
        &body.first_name,
        &body.last_name,
        &normalize_date(&body.date_of_birth),
        &body.zip,
        &body.votecal_id,
        &body.language,
        &body.sms,
        &body.email,
        &body.voice,
        &body.notify_from,
        &body.notify_until,
    );
    let req = match parsed {
        Ok(r) => r,
        Err(e) => return answer(400, json!({ "status": "invalid", "field": e.field, "reason": e.reason })),
    };
    let pipeline = app.pipeline(&NoSends);
    let mut tally = Tally::default();
    let result = match pipeline.signup(&req, app.now(), &mut tally).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "sign-up failed");
            return answer(503, json!({ "status": "error", "reason": "the service is busy; please try again" }));
        }
    };
    // The sign-up is stored: its confirmation and catch-up must reach their queues. A passing
    // SQS failure is retried here; if it lasts, the caller is asked to retry, and a retry with
    // the same choices queues them again (without sending anything twice).
    let mut attempt = 0;
    while let Err(e) = app.queues.flush().await {
        attempt += 1;
        if attempt >= 3 {
            tracing::error!(error = %e, "confirmation not queued");
            return answer(503, json!({ "status": "error", "reason": "the service is busy; please try again" }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
    }
    match result {
        Ok(sub) => {
            tracing::info!(county = %sub.county, language = %sub.language, "voter signed up");
            let channels: Vec<&str> = sub.channels().iter().map(|(c, _)| c.as_str()).collect();
            answer(200, json!({ "status": "subscribed", "county": sub.county.code(), "language": sub.language.code(), "channels": channels, "hours": sub.hours.to_string() }))
        }
        Err(refusal) => {
            // "Not active" answers like "no match": otherwise anyone who knows a person's name,
            // birth date and ZIP could learn their registration status. Both are sent to My Voter
            // Status and the county, as the guidance advises.
            let refusal = match refusal {
                Refusal::NotActive => Refusal::NoMatch,
                other => other,
            };
            let code = serde_json::to_value(refusal)?;
            let status = if refusal == Refusal::TryLater { 429 } else { 422 };
            answer(status, json!({ "status": "refused", "reason": code, "advice": refusal.advice() }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_typed_month_first_are_understood() {
        assert_eq!(normalize_date("05-17-1980"), "1980-05-17");
        assert_eq!(normalize_date("5/7/1980"), "1980-05-07");
        assert_eq!(normalize_date("1980-05-17"), "1980-05-17");
        assert_eq!(normalize_date("yesterday"), "yesterday");
    }
}
