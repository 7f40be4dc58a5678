//! The voters' API, whatever carries it (API Gateway on AWS, `ballot-tracking serve` here): the
//! routes, their request bodies, and answers that never repeat personal data. `infra/openapi.yaml`
//! describes it, and the tests hold every answer given to that document.
//!
//! - `POST /signup`: sign up, or change choices. Codes go to the contacts typed and, when the
//!   voter already gets notifications, to the contacts proven before (which approve the change).
//! - `POST /optout`: stop some channels or all; codes go to the proven contacts.
//! - `POST /verify`: enter a code.
//! - `POST /ballot`: "my ballot": codes go to the voter's proven contacts;
//!   `POST /ballot/view` with one of them answers the ballot's journey.
//! - `GET /unsubscribe?token=…`: the page of an email's unsubscribe link (no JavaScript needed);
//!   `POST` to the same URL stops email (RFC 8058 one-click, or the page's button).

use crate::access::CodeRefusal;
use crate::account::{ChangeTicket, Refused};
use crate::optout::LinkError;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::{IdentityRequest, Refusal, SignupRequest};
use crate::status::{Channel, Language};
use crate::templates::html_escape;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

/// A request as the carrier hands it over.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The query string, without '?'.
    pub query: &'a str,
    pub body: &'a [u8],
    /// The client's address (for the lockout after failed matches).
    pub client: &'a str,
}

/// An answer to give back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAnswer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// What went wrong inside, to log (store and provider errors carry no personal data): for a
    /// 503, or a 202 whose approval code the provider did not take.
    pub error: Option<String>,
}

/// The request body of `POST /signup`: the `signups` file's fields, as JSON.
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

/// The request body of `POST /optout`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptoutBody {
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    pub zip: String,
    #[serde(default)]
    pub votecal_id: String,
    /// The language of the caller's page (the codes go in the voter's own language).
    #[serde(default)]
    pub language: String,
    /// `sms`, `email`, `voice`, or `all`.
    pub channels: Vec<String>,
}

/// The request body of `POST /verify` and `POST /ballot/view`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub change_id: String,
    pub code: String,
    /// `/ballot/view` only: the language of the page (names and reasons come in it).
    #[serde(default)]
    pub language: String,
}

/// The request body of `POST /ballot`: who the voter is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityBody {
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    pub zip: String,
    #[serde(default)]
    pub votecal_id: String,
    /// The language of the caller's page.
    #[serde(default)]
    pub language: String,
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

fn json_answer(status: u16, body: serde_json::Value) -> ApiAnswer {
    ApiAnswer { status, content_type: "application/json", body: body.to_string(), error: None }
}

fn invalid(status: u16, field: &str, reason: &str) -> ApiAnswer {
    json_answer(status, json!({ "status": "invalid", "field": field, "reason": reason }))
}

fn busy(e: PipelineError) -> ApiAnswer {
    ApiAnswer { error: Some(e.to_string()), ..json_answer(503, json!({ "status": "error", "reason": "the service is busy; please try again" })) }
}

fn refused(r: Refused) -> ApiAnswer {
    // "Not active" answers like "no match": otherwise anyone who knows a person's name, birth
    // date and ZIP could learn their registration status. Both go to My Voter Status and the
    // county, as the guidance advises.
    let refusal = if r.refusal == Refusal::NotActive { Refusal::NoMatch } else { r.refusal };
    let status = match refusal {
        Refusal::TryLater | Refusal::Locked | Refusal::TooManyCodes => 429,
        _ => 422,
    };
    let mut body = json!({ "status": "refused", "reason": refusal, "advice": refusal.advice() });
    if let Some(field) = r.field {
        body["field"] = json!(field.as_str());
    }
    json_answer(status, body)
}

/// A change asked for (202 with its id), or why not.
fn ticket(result: Result<ChangeTicket, Refused>) -> ApiAnswer {
    match result {
        Ok(t) => ApiAnswer { error: t.unsent, ..json_answer(202, json!({ "status": "codes_sent", "change_id": t.change_id, "expires_in_seconds": t.expires_in_seconds })) },
        Err(r) => refused(r),
    }
}

fn code_refused(r: CodeRefusal) -> ApiAnswer {
    let status = match r {
        CodeRefusal::WrongCode => 422,
        CodeRefusal::Expired => 410,
        CodeRefusal::TooManyAttempts => 429,
    };
    json_answer(status, json!({ "status": "refused", "reason": r, "advice": r.advice() }))
}

/// The value of one query parameter (tokens are URL-safe: no decoding needed).
fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// Who the caller says they are, checked, and the page's language (if given) checked too.
fn identity_of(first: &str, last: &str, dob: &str, zip: &str, votecal: &str, language: &str) -> Result<IdentityRequest, ApiAnswer> {
    let who = IdentityRequest::from_fields(first, last, &normalize_date(dob), zip, votecal).map_err(|e| invalid(400, e.field, &e.reason))?;
    if !language.is_empty() && Language::parse(language).is_none() {
        return Err(invalid(400, "language", "must be one of en es zh hi ja km ko tl th vi"));
    }
    Ok(who)
}

/// The least time, in milliseconds, the API takes to answer a request that names a voter (sign
/// up, stop, see the ballot). Codes go out to a signed-up voter's contacts before the answer; a
/// quicker answer for a voter who never signed up would tell a stranger which is which. The
/// carrier waits out the rest (on AWS, setting `ANSWER_FLOOR_MS`).
pub const ANSWER_FLOOR_MS: u64 = 1000;

/// Whether a request names a voter by name, birth date and ZIP, so that its answer must take no
/// less than the floor: `POST /signup`, `/optout` and `/ballot`. (Entering a code names a change
/// the caller was given either way; an unsubscribe link, a voter only its holder knows.)
pub fn answer_waits_for_floor(method: &str, path: &str) -> bool {
    method == "POST" && matches!(path.trim_end_matches('/'), "/signup" | "/optout" | "/ballot")
}

const BODY_HINT: &str = "a JSON object of text fields is expected (see infra/openapi.yaml)";

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Answers one API request.
    pub async fn answer(&self, req: ApiRequest<'_>, now: DateTime<Utc>, tally: &mut Tally) -> ApiAnswer {
        let path = req.path.trim_end_matches('/');
        let result = match (req.method, path) {
            ("POST", "/signup") => self.answer_signup(req, now).await,
            ("POST", "/optout") => self.answer_optout(req, now).await,
            ("POST", "/verify") => self.answer_verify(req, now, tally, false).await,
            ("POST", "/ballot") => self.answer_ballot(req, now).await,
            ("POST", "/ballot/view") => self.answer_verify(req, now, tally, true).await,
            ("GET", "/unsubscribe") => self.answer_unsubscribe(req, now, false, tally).await,
            ("POST", "/unsubscribe") => self.answer_unsubscribe(req, now, true, tally).await,
            (_, "/signup" | "/optout" | "/verify" | "/ballot" | "/ballot/view") => Ok(invalid(405, "method", "use POST")),
            (_, "/unsubscribe") => Ok(invalid(405, "method", "use GET or POST")),
            _ => Ok(invalid(404, "path", "no such route")),
        };
        result.unwrap_or_else(busy)
    }

    async fn answer_signup(&self, req: ApiRequest<'_>, now: DateTime<Utc>) -> Result<ApiAnswer, PipelineError> {
        // Fixed text: serde's message could quote a value (a phone number sent as a number).
        let Ok(b) = serde_json::from_slice::<SignupBody>(req.body) else { return Ok(invalid(400, "body", BODY_HINT)) };
        let parsed = SignupRequest::from_fields(
            &b.first_name,
            &b.last_name,
            &normalize_date(&b.date_of_birth),
            &b.zip,
            &b.votecal_id,
            &b.language,
            &b.sms,
            &b.email,
            &b.voice,
            &b.notify_from,
            &b.notify_until,
        );
        let request = match parsed {
            Ok(r) => r,
            Err(e) => return Ok(invalid(400, e.field, &e.reason)),
        };
        Ok(ticket(self.request_signup(&request, req.client, now).await?))
    }

    async fn answer_optout(&self, req: ApiRequest<'_>, now: DateTime<Utc>) -> Result<ApiAnswer, PipelineError> {
        let Ok(b) = serde_json::from_slice::<OptoutBody>(req.body) else { return Ok(invalid(400, "body", BODY_HINT)) };
        let who = match identity_of(&b.first_name, &b.last_name, &b.date_of_birth, &b.zip, &b.votecal_id, &b.language) {
            Ok(w) => w,
            Err(answer) => return Ok(answer),
        };
        if b.channels.is_empty() {
            return Ok(invalid(400, "channels", "name at least one of sms, email, voice, or all"));
        }
        let mut channels = vec![];
        for c in &b.channels {
            match Channel::parse(c) {
                Some(ch) => channels.push(ch),
                None if c == "all" => {}
                None => return Ok(invalid(400, "channels", "each must be sms, email, voice or all")),
            }
        }
        // "all" stops every channel: an empty list says so.
        if b.channels.iter().any(|c| c == "all") {
            channels.clear();
        }
        Ok(ticket(self.request_stop(&who, channels, req.client, now).await?))
    }

    async fn answer_ballot(&self, req: ApiRequest<'_>, now: DateTime<Utc>) -> Result<ApiAnswer, PipelineError> {
        let Ok(b) = serde_json::from_slice::<IdentityBody>(req.body) else { return Ok(invalid(400, "body", BODY_HINT)) };
        let who = match identity_of(&b.first_name, &b.last_name, &b.date_of_birth, &b.zip, &b.votecal_id, &b.language) {
            Ok(w) => w,
            Err(answer) => return Ok(answer),
        };
        Ok(ticket(self.request_view(&who, req.client, now).await?))
    }

    /// `POST /verify` (a change of choices or a stop) and `POST /ballot/view` (`view`).
    async fn answer_verify(&self, req: ApiRequest<'_>, now: DateTime<Utc>, tally: &mut Tally, view: bool) -> Result<ApiAnswer, PipelineError> {
        let Ok(b) = serde_json::from_slice::<VerifyBody>(req.body) else { return Ok(invalid(400, "body", BODY_HINT)) };
        let language = match b.language.as_str() {
            "" => Language::En,
            l => match Language::parse(l) {
                Some(l) if view => l,
                _ => return Ok(invalid(400, "language", "must be one of en es zh hi ja km ko tl th vi (POST /ballot/view only)")),
            },
        };
        if b.change_id.len() != 22 || !b.change_id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
            return Ok(invalid(400, "change_id", "is not a change id from POST /signup or POST /optout"));
        }
        let code = b.code.trim();
        if code.len() != 6 || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Ok(invalid(400, "code", "must be the 6 digits of the code we sent"));
        }
        // Wrong codes are counted per client too: guessing across many changes locks.
        let hour = now.format("%Y-%m-%dT%H").to_string();
        let wrong_key = format!("fail-code#{}#{hour}", self.access.signing.name("client", &crate::access::client_network(req.client)));
        if self.store.count(&wrong_key, now).await? >= crate::access::MAX_WRONG_CODES_PER_CLIENT {
            return Ok(code_refused(CodeRefusal::TooManyAttempts));
        }
        let entered = self.enter_code(&b.change_id, code, view, now, tally).await?;
        if entered.as_ref().err() == Some(&CodeRefusal::WrongCode) {
            self.store.bump(&wrong_key, now + chrono::Duration::hours(2)).await?;
        }
        Ok(match entered {
            Ok(change) if view && change.approved => {
                let journeys = self.current_journeys(&change.votecal_id).await?;
                let elections = crate::journey_view::ballot_journeys(&journeys, self.elections, self.catalog, language, now);
                json_answer(200, json!({ "status": "verified", "elections": elections }))
            }
            Ok(_) if view => code_refused(CodeRefusal::WrongCode),
            Ok(_) => json_answer(200, json!({ "status": "verified" })),
            Err(r) => code_refused(r),
        })
    }

    async fn answer_unsubscribe(&self, req: ApiRequest<'_>, now: DateTime<Utc>, stop: bool, tally: &mut Tally) -> Result<ApiAnswer, PipelineError> {
        let token = query_param(req.query, "token").unwrap_or_default();
        let result = if stop { self.unsubscribe(token, now, tally).await? } else { self.unsubscribe_language(token, now).await? };
        Ok(match result {
            Ok(lang) => {
                let web = &self.catalog.language(lang).web;
                let code = if self.catalog.has(lang) { lang.code() } else { "en" };
                let body = if stop {
                    format!("<p role=\"status\">{}</p>", html_escape(&web.unsubscribed))
                } else {
                    format!(
                        "<p>{}</p>\n<form method=\"post\" action=\"?token={}\">\n<button type=\"submit\">{}</button>\n</form>",
                        html_escape(&web.unsubscribe_question),
                        html_escape(token),
                        html_escape(&web.unsubscribe_button)
                    )
                };
                html_page(200, code, &web.unsubscribe_title, &body)
            }
            Err(LinkError::Invalid | LinkError::Expired) => {
                // An expired link still names its voter: the page speaks their language. Where to
                // go and whom to call are links.
                let lang = match crate::optout::voter_of_link(&self.access.signing, token) {
                    Some(voter) => self.store.subscription(&voter).await?.map_or(Language::En, |s| s.language),
                    None => Language::En,
                };
                let web = &self.catalog.language(lang).web;
                let code = if self.catalog.has(lang) { lang.code() } else { "en" };
                let text = html_escape(&web.unsubscribe_invalid)
                    .replacen(SERVICE_SITE, &format!("<a href=\"https://{SERVICE_SITE}\">{SERVICE_SITE}</a>"), 1)
                    .replacen(HELP_LINE, &format!("<a href=\"tel:+1{}\">{HELP_LINE}</a>", HELP_LINE.replace(|c: char| !c.is_ascii_digit(), "")), 1);
                html_page(400, code, &web.unsubscribe_title, &format!("<p>{text}</p>"))
            }
        })
    }
}

/// Where the unsubscribe page's advice sends a voter whose link no longer works, as its text
/// names them in every language.
const SERVICE_SITE: &str = "wheresmyballot.sos.ca.gov";
const HELP_LINE: &str = "(800) 345-8683";

/// A small page that needs no script and no other file: readable on any phone.
fn html_page(status: u16, lang: &str, title: &str, body: &str) -> ApiAnswer {
    let title = html_escape(title);
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>body{{font:1.125rem/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}\
         button{{font:inherit;padding:.6rem 1.2rem;background:#005ea2;color:#fff;border:0;border-radius:4px}}button:focus{{outline:3px solid #2491ff;outline-offset:2px}}</style>\n\
         </head>\n<body>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    );
    ApiAnswer { status, content_type: "text/html; charset=utf-8", body: page, error: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_that_name_a_voter_wait_for_the_answer_floor() {
        for path in ["/signup", "/optout", "/ballot", "/ballot/"] {
            assert!(answer_waits_for_floor("POST", path), "{path}");
        }
        for (method, path) in [("POST", "/verify"), ("POST", "/ballot/view"), ("GET", "/unsubscribe"), ("POST", "/unsubscribe"), ("GET", "/signup")] {
            assert!(!answer_waits_for_floor(method, path), "{method} {path}");
        }
    }

    #[test]
    fn dates_typed_month_first_are_understood() {
        assert_eq!(normalize_date("05-17-1980"), "1980-05-17");
        assert_eq!(normalize_date("5/7/1980"), "1980-05-07");
        assert_eq!(normalize_date("1980-05-17"), "1980-05-17");
        assert_eq!(normalize_date("yesterday"), "yesterday");
    }

    #[test]
    fn a_client_guessing_codes_across_many_changes_is_stopped_even_with_a_right_code() {
        use crate::access::{AccessKeys, PendingChange, SigningKey, MAX_WRONG_CODES_PER_CLIENT};
        use crate::memory::{MemoryStore, RecordingDispatcher};
        use crate::signup::Subscription;
        fn random() -> [u8; 16] {
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
            b[8..].copy_from_slice(&n.to_le_bytes());
            b
        }
        futures::executor::block_on(async {
            let store = MemoryStore::default();
            let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
            let (catalog, voice, sent) = (crate::templates::Catalog::embedded().unwrap(), crate::voice::VoicePlan::default(), RecordingDispatcher::default());
            let elections = std::collections::BTreeMap::new();
            let p = Pipeline { store: &store, dispatcher: &sent, queue: &crate::ports::Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
            let now = DateTime::parse_from_rfc3339("2026-10-06T19:00:00Z").unwrap().with_timezone(&Utc);
            let mut tally = Tally::default();
            let open = |i: usize| {
                let desired = Subscription {
                    votecal_id: format!("CA{i}"),
                    county: crate::CountyCode::parse("19").unwrap(),
                    language: Language::En,
                    sms: Some("+19165550100".into()),
                    email: None,
                    voice: None,
                    hours: Default::default(),
                    signed_up_at: now,
                    stopped: Default::default(),
                    erase_after: None,
                    file_row: None,
                    read_as: Default::default(),
                };
                PendingChange::choices(&keys, None, desired, now)
            };
            let verify = |id: &str, code: &str| serde_json::json!({ "change_id": id, "code": code }).to_string();
            // GIVEN one client guessing wrong codes, five per change, over enough changes
            let mut wrong = 0;
            while wrong < MAX_WRONG_CODES_PER_CLIENT {
                let (change, codes) = open(wrong as usize);
                store.put_change(&change, None).await.unwrap();
                for guess in 0..5 {
                    let code = format!("{:06}", (codes[0].code.parse::<u32>().unwrap() + 1 + guess) % 1_000_000);
                    let body = verify(&change.id, &code);
                    let a = p.answer(ApiRequest { method: "POST", path: "/verify", query: "", body: body.as_bytes(), client: "203.0.113.9" }, now, &mut tally).await;
                    assert_eq!(a.status, 422, "{}", a.body);
                    wrong += 1;
                }
            }
            // WHEN it then enters a right code of a fresh change
            let (change, codes) = open(999);
            store.put_change(&change, None).await.unwrap();
            let body = verify(&change.id, &codes[0].code);
            let a = p.answer(ApiRequest { method: "POST", path: "/verify", query: "", body: body.as_bytes(), client: "203.0.113.9" }, now, &mut tally).await;
            // THEN it is refused: the client is out of tries for the hour
            assert_eq!(a.status, 429, "{}", a.body);
            // AND another client's right code still works
            let a = p.answer(ApiRequest { method: "POST", path: "/verify", query: "", body: body.as_bytes(), client: "198.51.100.7" }, now, &mut tally).await;
            assert_eq!(a.status, 200, "{}", a.body);
        });
    }

    #[test]
    fn a_query_parameter_is_found_by_name() {
        assert_eq!(query_param("a=1&token=abc.def", "token"), Some("abc.def"));
        assert_eq!(query_param("", "token"), None);
    }
}
