//! The voters' API behind API Gateway: `POST /signup`, `POST /optout`, `POST /verify`,
//! `GET|POST /unsubscribe` (infra/openapi.yaml). The routes and answers are the core's
//! ([`wmb_core::api`]); this handler translates the HTTP event, sends codes through the given
//! dispatcher, and makes sure confirmations reached their queues before answering.

use crate::app::{App, BoxError};
use lambda_http::{Body, Request, RequestExt, Response};
use wmb_core::api::{ApiAnswer, ApiRequest};
use wmb_core::pipeline::Tally;
use wmb_core::ports::Dispatcher;

fn respond(a: &ApiAnswer) -> Result<Response<Body>, BoxError> {
    Ok(Response::builder()
        .status(a.status)
        .header("content-type", a.content_type)
        .header("cache-control", "no-store")
        .body(Body::from(a.body.clone()))?)
}

/// The answer to a request that did not come through the voters' page's distribution.
const FORBIDDEN: &str = r#"{"status":"forbidden","reason":"not_through_the_page"}"#;

/// The header CloudFront adds to every request it passes to the API, with the stack's secret
/// (`ORIGIN_HEADER_SECRET`): only a request that carries it came through CloudFront.
const ORIGIN_HEADER: &str = "x-wmb-origin";

/// The client's address: behind CloudFront, the viewer's (`CloudFront-Viewer-Address`,
/// `ip:port`), else as API Gateway saw it. The viewer header is believed only next to the
/// origin header's secret: a caller of the execute-api URL itself could set it to anything, and
/// the per-client limits would count nobody.
fn client_address(request: &Request, origin_secret: Option<&str>) -> String {
    if origin_secret.is_some_and(|secret| through_cloudfront(request, secret)) {
        if let Some(viewer) = request.headers().get("cloudfront-viewer-address").and_then(|v| v.to_str().ok()) {
            return viewer.rsplit_once(':').map_or(viewer, |(ip, _)| ip).to_string();
        }
    }
    match request.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Whether a request carries the origin header's secret: it came through CloudFront (and its
/// WAF).
fn through_cloudfront(request: &Request, secret: &str) -> bool {
    request.headers().get(ORIGIN_HEADER).is_some_and(|given| same_secret(secret.as_bytes(), given.as_bytes()))
}

/// Whether a request is answered at all: in a stack behind CloudFront (its secret set), only one
/// that came through it, or an unsubscribe link from an email (signed, and naming no voter).
/// Straight to the execute-api URL, a caller would pass the WAF's rate limits, and every request
/// naming a voter holds one of the function's reserved instances for the answer floor: a flood
/// could keep voters from signing up. Refused at once, it holds one for milliseconds.
fn may_call(request: &Request, origin_secret: Option<&str>) -> bool {
    origin_secret.is_none_or(|secret| through_cloudfront(request, secret)) || request.uri().path() == "/unsubscribe"
}

/// Equal, compared in full whatever differs first.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn handle<D: Dispatcher>(app: &App, codes: &D, request: Request) -> Result<Response<Body>, BoxError> {
    if !may_call(&request, app.settings.origin_header_secret.as_deref()) {
        return respond(&ApiAnswer { status: 403, content_type: "application/json", body: FORBIDDEN.into(), error: None });
    }
    let started = std::time::Instant::now();
    let waits = wmb_core::api::answer_waits_for_floor(request.method().as_str(), request.uri().path());
    let response = answer(app, codes, request).await;
    // A request naming a voter is answered no sooner than the floor, whoever the voter is.
    if waits {
        let floor = std::time::Duration::from_millis(app.settings.answer_floor_ms);
        tokio::time::sleep(floor.saturating_sub(started.elapsed())).await;
    }
    response
}

async fn answer<D: Dispatcher>(app: &App, codes: &D, request: Request) -> Result<Response<Body>, BoxError> {
    let client = client_address(&request, app.settings.origin_header_secret.as_deref());
    let query = request.uri().query().unwrap_or_default().to_string();
    let req = ApiRequest { method: request.method().as_str(), path: request.uri().path(), query: &query, body: request.body().as_ref(), client: &client };
    let config = app.config().await;
    let pipeline = app.pipeline(&config, codes);
    let mut tally = Tally::default();
    let answer = pipeline.answer(req, app.now(), &mut tally).await;
    if let Some(e) = &answer.error {
        tracing::error!(error = %e, path = req.path, "API request failed");
    }
    // A code entered may have made a sign-up live: its confirmation and catch-up must reach
    // their queues. A passing SQS failure is retried here; if it lasts, the caller is asked to
    // retry (entering the code again applies the same change, sending nothing twice).
    let mut attempt = 0;
    while let Err(e) = app.queues.flush().await {
        attempt += 1;
        if attempt >= 3 {
            tracing::error!(error = %e, "confirmation not queued");
            return respond(&ApiAnswer {
                status: 503,
                content_type: "application/json",
                body: r#"{"status":"error","reason":"the service is busy; please try again"}"#.into(),
                error: None,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 << attempt)).await;
    }
    // Sign-ups asked for and refused (by the reason the caller is given: no personal value).
    if req.method == "POST" && req.path == "/signup" {
        let at = app.now().timestamp_millis();
        if (200..300).contains(&answer.status) {
            app.metrics.emit(at, &[], &[&[]], &[("SignupsRequested", crate::metrics::count(1))]);
        } else {
            // A refusal's reason is one of a few codes; a bad field is named, never its value.
            let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
            let reason = match body["status"].as_str() {
                Some("refused") => body["reason"].as_str().unwrap_or("refused").to_string(),
                Some("invalid") => format!("invalid_{}", body["field"].as_str().unwrap_or("request")),
                _ => format!("http_{}", answer.status),
            };
            app.metrics.emit(at, &[("Reason", reason.as_str())], &[&["Reason"], &[]], &[("SignupsRefused", crate::metrics::count(1))]);
        }
    }
    app.store.add_county_days(&tally.county_days.take()).await;
    if tally.signups_accepted > 0 {
        app.metrics.emit(app.now().timestamp_millis(), &[], &[&[]], &[("SignupsAccepted", crate::metrics::count(tally.signups_accepted))]);
    }
    tracing::info!(path = req.path, status = answer.status, queued = tally.queued, held = tally.held, "API answered");
    respond(&answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An API Gateway HTTP API request from `source` with the given headers.
    fn request(source: &str, headers: &[(&str, &str)]) -> Request {
        let mut event: serde_json::Value = serde_json::from_str(include_str!("../../../../events/lambda/signup-apigw.json")).unwrap();
        event["requestContext"]["http"]["sourceIp"] = source.into();
        event["headers"] = serde_json::Value::Object(headers.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))).collect());
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn the_viewer_address_counts_only_on_a_request_that_came_through_cloudfront() {
        let secret = Some("s3cret-origin-value-0123456789");
        let viewer = ("cloudfront-viewer-address", "203.0.113.9:52311");
        // Through CloudFront: the viewer's address
        let through = request("130.176.1.1", &[viewer, (ORIGIN_HEADER, "s3cret-origin-value-0123456789")]);
        assert_eq!(client_address(&through, secret), "203.0.113.9");
        // Straight to the execute-api URL with a viewer header of the caller's choosing: the caller's own address
        let forged = request("198.51.100.7", &[viewer]);
        assert_eq!(client_address(&forged, secret), "198.51.100.7");
        let guessed = request("198.51.100.7", &[viewer, (ORIGIN_HEADER, "s3cret-origin-value-0123456780")]);
        assert_eq!(client_address(&guessed, secret), "198.51.100.7");
        // A stack without the secret believes no viewer header
        assert_eq!(client_address(&through, None), "130.176.1.1");
    }

    #[test]
    fn behind_cloudfront_only_its_requests_and_unsubscribe_links_are_answered() {
        let secret = Some("s3cret-origin-value-0123456789");
        let with = |path: &str, headers: &[(&str, &str)]| {
            let mut r = request("198.51.100.7", headers);
            *r.uri_mut() = format!("https://abc.execute-api.us-west-2.amazonaws.com{path}").parse().unwrap();
            r
        };
        let through = [(ORIGIN_HEADER, "s3cret-origin-value-0123456789")];
        assert!(may_call(&with("/signup", &through), secret));
        // Straight to the execute-api URL, or with a wrong secret: refused
        assert!(!may_call(&with("/signup", &[]), secret));
        assert!(!may_call(&with("/ballot", &[(ORIGIN_HEADER, "s3cret-origin-value-0123456780")]), secret));
        assert!(!may_call(&with("/verify", &[]), secret));
        // An unsubscribe link in an email the API sent names the execute-api URL: answered
        assert!(may_call(&with("/unsubscribe", &[]), secret));
        assert!(!may_call(&with("/unsubscribe/x", &[]), secret));
        // A stack without the secret (no CloudFront in front) answers everyone
        assert!(may_call(&with("/signup", &[]), None));
    }
}
