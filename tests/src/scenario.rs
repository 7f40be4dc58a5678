//! "Voters in control", as voters and a stranger would live it, run through the real handlers:
//! `ballot-tracking serve`'s (the core's API on SQLite) and the Lambdas' (on moto). One story,
//! two services: whatever one does, the other must do too.

use chrono::{DateTime, Utc};

/// One answer of the API, as a caller sees it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("{} {} answered no JSON: {}", self.method, self.path, self.body))
    }

    pub fn reason(&self) -> String {
        self.json()["reason"].as_str().unwrap_or_default().to_string()
    }
}

/// An email as its recipient sees it.
#[derive(Debug, Clone)]
pub struct Email {
    pub subject: String,
    pub html: String,
    /// The `List-Unsubscribe` header's link, where the service records headers.
    pub list_unsubscribe: Option<String>,
}

/// What the story needs from a service.
#[allow(async_fn_in_trait)]
pub trait VoterService {
    async fn call(&mut self, method: &str, path: &str, query: &str, body: &str) -> Answer;
    /// A text a phone sends to the service's number (two-way SMS).
    async fn text_in(&mut self, from: &str, body: &str, message_id: &str);
    /// A file of the sample election arrives (and everything due then is delivered); returns its
    /// report's rows, `line,field` each.
    async fn arrive(&mut self, kind: &str, file: &str, at: DateTime<Utc>) -> Vec<String>;
    /// The clock moves on; what falls due by then is sent.
    async fn settle(&mut self, until: DateTime<Utc>);
    fn set_now(&mut self, at: DateTime<Utc>);
    fn texts_to(&self, phone: &str) -> Vec<String>;
    fn emails_to(&self, address: &str) -> Vec<Email>;
    /// Every answer given so far (held to infra/openapi.yaml afterwards).
    fn answers(&self) -> Vec<Answer>;
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The six-digit code in a message.
pub fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6).unwrap_or_else(|| panic!("no code in: {text}")).to_string()
}

fn verify(change_id: &str, code: &str) -> String {
    serde_json::json!({ "change_id": change_id, "code": code }).to_string()
}

const EMILY_PHONE: &str = "+15105550101";
const EMILY_EMAIL: &str = "emily.chen@example.com";
const STRANGER_PHONE: &str = "+19165550199";
const STRANGER_EMAIL: &str = "someone.else@example.net";
const HOUSEHOLD_PHONE: &str = "+15105550160";
const HANNAH_PHONE: &str = "+15105550171";
const WEI_PHONE: &str = "+16265550112";
const WEI_EMAIL: &str = "wei.zhang@example.com";

fn emily(sms: &str, email: &str) -> String {
    serde_json::json!({"first_name": "Emily", "last_name": "Chen", "date_of_birth": "03-14-1985", "zip": "94612", "language": "en", "sms": sms, "email": email})
        .to_string()
}

async fn sign_up<S: VoterService>(s: &mut S, body: &str) -> String {
    let a = s.call("POST", "/signup", "", body).await;
    assert_eq!(a.status, 202, "{}", a.body);
    a.json()["change_id"].as_str().unwrap().to_string()
}

/// The whole story. Each step says what a voter (or the stranger) would notice.
pub async fn voters_in_control<S: VoterService>(s: &mut S) {
    // GIVEN the roll, and Emily's ballot mailed on October 5
    s.arrive("voters", "voters.csv", at("2026-09-20T06:00:00-07:00")).await;
    s.arrive("vbm", "vbm-2026-10-06.csv", at("2026-10-06T12:00:00-07:00")).await;

    // WHEN Emily signs up with her phone and email
    s.set_now(at("2026-10-07T10:00:00-07:00"));
    let a = s.call("POST", "/signup", "", &emily(EMILY_PHONE, EMILY_EMAIL)).await;
    assert_eq!(a.status, 202, "{}", a.body);
    let answer = a.json();
    assert_eq!(answer["status"], "codes_sent");
    assert!(answer.get("county").is_none() && !a.body.contains("Emily") && !a.body.contains("5105550101"), "nothing about her: {}", a.body);
    let change = answer["change_id"].as_str().unwrap().to_string();
    // THEN each contact gets a code, and nothing else yet
    let texts = s.texts_to(EMILY_PHONE);
    assert_eq!(texts.len(), 1, "{texts:?}");
    let emails = s.emails_to(EMILY_EMAIL);
    assert_eq!(emails.len(), 1);
    let (phone_code, email_code) = (code_in(&texts[0]), code_in(&emails[0].subject));

    // A wrong code is refused
    let wrong = if phone_code == "000000" { "000001" } else { "000000" };
    let a = s.call("POST", "/verify", "", &verify(&change, wrong)).await;
    assert_eq!((a.status, a.reason()), (422, "wrong_code".into()));
    // The phone's code proves the phone: its confirmation and the ballot's news so far go there
    let a = s.call("POST", "/verify", "", &verify(&change, &phone_code)).await;
    assert_eq!((a.status, a.json()["status"].clone()), (200, "verified".into()), "{}", a.body);
    s.settle(at("2026-10-07T10:05:00-07:00")).await;
    let texts = s.texts_to(EMILY_PHONE);
    assert_eq!(texts.len(), 3, "code, confirmation, catch-up: {texts:?}");
    // (in either order: a provider may throttle one and it is retried)
    assert!(texts[1..].iter().any(|t| t.contains("Msg & data rates may apply") && t.contains("STOP") && t.contains("HELP")), "CTIA consent: {texts:?}");
    assert!(texts[1..].iter().any(|t| t.contains("mailed your ballot")), "{texts:?}");
    assert_eq!(s.emails_to(EMILY_EMAIL).len(), 1, "the email is not proven yet: no ballot news there");
    // A code works once
    let a = s.call("POST", "/verify", "", &verify(&change, &phone_code)).await;
    assert_eq!((a.status, a.reason()), (422, "wrong_code".into()));
    // The email's code proves the email
    let a = s.call("POST", "/verify", "", &verify(&change, &email_code)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    s.settle(at("2026-10-07T10:10:00-07:00")).await;
    let emails = s.emails_to(EMILY_EMAIL);
    assert_eq!(emails.len(), 3, "code, confirmation, catch-up");
    let news = emails.iter().find(|e| e.subject.contains("mailed")).expect("the catch-up email");
    let links: Vec<String> = news.html.split("href=\"").skip(1).filter_map(|r| r.split('"').next()).map(|l| l.replace("&amp;", "&")).collect();
    let link = links.iter().find(|l| l.contains("/unsubscribe?token=")).expect("every email carries an unsubscribe link").clone();
    // ... and a link to the page, to change the choices
    assert!(links.iter().any(|l| l.ends_with('/') && !l.contains("unsubscribe")), "{links:?}");
    if let Some(header) = &news.list_unsubscribe {
        assert_eq!(header, &link, "the List-Unsubscribe header and the link are one");
    }

    // A STRANGER who knows Emily's name, birth date and ZIP tries to take her notifications
    s.set_now(at("2026-10-07T10:30:00-07:00"));
    let stranger = sign_up(s, &emily(STRANGER_PHONE, STRANGER_EMAIL)).await;
    let to_stranger = s.texts_to(STRANGER_PHONE);
    assert_eq!(to_stranger.len(), 1);
    // The stranger proves their own phone: the answer says only "verified"
    let a = s.call("POST", "/verify", "", &verify(&stranger, &code_in(&to_stranger[0]))).await;
    assert_eq!(a.status, 200);
    s.settle(at("2026-10-07T10:40:00-07:00")).await;
    // THEN Emily's proven contacts were told, and asked to approve; the stranger gets nothing
    let texts = s.texts_to(EMILY_PHONE);
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(texts[3].contains("Someone asked to see or change"), "{}", texts[3]);
    assert!(s.emails_to(EMILY_EMAIL)[3].subject.contains("code"));
    assert_eq!(s.texts_to(STRANGER_PHONE).len(), 1, "only the code: no confirmation, no ballot news");
    assert!(!s.texts_to(STRANGER_PHONE)[0].contains("Alameda") && !s.texts_to(STRANGER_PHONE)[0].contains("ballot was"));
    assert_eq!(s.emails_to(STRANGER_EMAIL).len(), 1, "only the code");
    // An expired code is refused
    s.set_now(at("2026-10-07T10:46:00-07:00"));
    let a = s.call("POST", "/verify", "", &verify(&stranger, &code_in(&s.emails_to(STRANGER_EMAIL)[0].subject))).await;
    assert_eq!((a.status, a.reason()), (410, "expired".into()));

    // Wei proves his phone, texts STOP, then proves his email with the code of the same sign-up:
    // the email goes live, and the STOP stands (a code entered later is no new consent)
    s.set_now(at("2026-10-07T11:00:00-07:00"));
    let wei = serde_json::json!({"first_name": "Wei", "last_name": "Zhang", "date_of_birth": "04-03-1976", "zip": "91801", "language": "en", "sms": WEI_PHONE, "email": WEI_EMAIL});
    let change = sign_up(s, &wei.to_string()).await;
    let (phone_code, email_code) = (code_in(&s.texts_to(WEI_PHONE)[0]), code_in(&s.emails_to(WEI_EMAIL)[0].subject));
    let a = s.call("POST", "/verify", "", &verify(&change, &phone_code)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    s.settle(at("2026-10-07T11:02:00-07:00")).await;
    assert!(s.texts_to(WEI_PHONE).iter().any(|t| t.contains("mailed your ballot")), "his phone is confirmed and caught up");
    // (in his own words: a reply that asks to stop is a STOP)
    s.text_in(WEI_PHONE, "Please stop texting me.", "in-wei").await;
    assert!(s.texts_to(WEI_PHONE).last().unwrap().contains("no more texts"), "his stop is acknowledged");
    let wei_texts = s.texts_to(WEI_PHONE).len();
    let a = s.call("POST", "/verify", "", &verify(&change, &email_code)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    s.settle(at("2026-10-07T11:10:00-07:00")).await;
    assert!(s.emails_to(WEI_EMAIL).iter().any(|e| e.subject.contains("mailed")), "the email is confirmed and caught up");

    // HELP, STOP and START by text
    s.set_now(at("2026-10-20T12:00:00-07:00"));
    s.text_in(EMILY_PHONE, "HELP", "in-1").await;
    let texts = s.texts_to(EMILY_PHONE);
    assert!(texts[4].contains("(800) 345-8683") && texts[4].contains("Secretary of State"), "{}", texts[4]);
    s.text_in(EMILY_PHONE, "HELP", "in-1").await;
    assert_eq!(s.texts_to(EMILY_PHONE).len(), 5, "a redelivered text is answered once");
    // Her ballot is received late at night: the news is held for her morning...
    s.arrive("vbm", "vbm-2026-10-20.csv", at("2026-10-20T23:45:00-07:00")).await;
    assert_eq!(s.texts_to(EMILY_PHONE).len(), 5, "held for her hours");
    // ...and before morning she texts STOP
    s.set_now(at("2026-10-21T06:30:00-07:00"));
    s.text_in(EMILY_PHONE, "Stop", "in-2").await;
    let texts = s.texts_to(EMILY_PHONE);
    assert_eq!(texts.len(), 6);
    assert!(texts[5].contains("no more texts") && texts[5].contains("START"), "{}", texts[5]);
    s.text_in(EMILY_PHONE, "STOP", "in-3").await;
    assert_eq!(s.texts_to(EMILY_PHONE).len(), 6, "one confirmation per opt-out, nothing after it");
    s.settle(at("2026-10-21T09:00:00-07:00")).await;
    assert_eq!(s.texts_to(EMILY_PHONE).len(), 6, "the held news is not texted after STOP");
    // Wei's ballot was accepted meanwhile: his email is told, his stopped phone is not
    assert!(s.emails_to(WEI_EMAIL).iter().any(|e| e.subject.contains("accepted")), "{:?}", s.emails_to(WEI_EMAIL).iter().map(|e| &e.subject).collect::<Vec<_>>());
    assert_eq!(s.texts_to(WEI_PHONE).len(), wei_texts, "nothing texted after his STOP: {:?}", &s.texts_to(WEI_PHONE)[wei_texts..]);
    assert!(s.emails_to(EMILY_EMAIL).last().unwrap().subject.contains("received"), "email goes on");
    // A new sign-up cannot text a code to a phone that said STOP
    let a = s.call("POST", "/signup", "", &emily(EMILY_PHONE, "")).await;
    assert_eq!((a.status, a.reason(), a.json()["field"].clone()), (422, "contact_stopped".into(), "sms".into()), "{}", a.body);
    assert_eq!(s.texts_to(EMILY_PHONE).len(), 6);
    // START brings texts back
    s.text_in(EMILY_PHONE, "START", "in-4").await;
    assert!(s.texts_to(EMILY_PHONE).last().unwrap().contains("again"));
    let texts_after_start = s.texts_to(EMILY_PHONE).len();

    // One-click unsubscribe from the email's link: the page works without script
    s.set_now(at("2026-10-22T12:00:00-07:00"));
    let query = link.split_once('?').unwrap().1.to_string();
    let page = s.call("GET", "/unsubscribe", &query, "").await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html") && page.body.contains("<form method=\"post\"") && !page.body.contains("<script"));
    assert!(!page.body.contains(EMILY_EMAIL), "the page shows no address");
    let a = s.call("POST", "/unsubscribe", &query, "List-Unsubscribe=One-Click").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = s.call("POST", "/unsubscribe", "token=forged.token", "List-Unsubscribe=One-Click").await;
    assert_eq!(a.status, 400);
    let emails_before = s.emails_to(EMILY_EMAIL).len();
    // THEN her accepted ballot is texted (START) but not emailed (unsubscribed)
    s.arrive("vbm", "vbm-2026-11-05.csv", at("2026-11-05T14:00:00-08:00")).await;
    s.settle(at("2026-11-06T12:00:00-08:00")).await;
    assert_eq!(s.emails_to(EMILY_EMAIL).len(), emails_before, "nothing after unsubscribe");
    assert!(s.texts_to(EMILY_PHONE)[texts_after_start..].iter().any(|t| t.contains("accepted")), "texts came back after START");

    // "My ballot": a code to her proven phone (not to the unsubscribed email), then the journey
    let who = serde_json::json!({"first_name": "Emily", "last_name": "Chen", "date_of_birth": "03-14-1985", "zip": "94612", "language": "es"}).to_string();
    let (texts, emails) = (s.texts_to(EMILY_PHONE).len(), s.emails_to(EMILY_EMAIL).len());
    let a = s.call("POST", "/ballot", "", &who).await;
    assert_eq!(a.status, 202, "{}", a.body);
    let view = a.json()["change_id"].as_str().unwrap().to_string();
    assert_eq!((s.texts_to(EMILY_PHONE).len(), s.emails_to(EMILY_EMAIL).len()), (texts + 1, emails), "a code to the live phone only");
    let code = code_in(s.texts_to(EMILY_PHONE).last().unwrap());
    let a = s.call("POST", "/verify", "", &verify(&view, &code)).await;
    assert_eq!((a.status, a.reason()), (422, "wrong_code".into()), "a code for the journey changes nothing");
    let a = s.call("POST", "/ballot/view", "", &serde_json::json!({"change_id": view, "code": code, "language": "es"}).to_string()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let journey = a.json();
    let election = &journey["elections"][0];
    let milestones: Vec<&str> = election["events"].as_array().unwrap().iter().filter_map(|e| e["milestone"].as_str()).collect();
    assert_eq!(milestones, ["outbound", "received", "accepted"], "{journey}");
    assert_eq!((election["current"].as_str(), election["needs_action"].as_bool()), (Some("accepted"), Some(false)));
    assert!(!a.body.contains("Emily") && !a.body.contains(EMILY_PHONE) && !a.body.contains("CA000000101"), "the journey, not the person");
    let a = s.call("POST", "/ballot/view", "", &serde_json::json!({"change_id": view, "code": code}).to_string()).await;
    assert_eq!((a.status, a.reason()), (422, "wrong_code".into()), "shown once per code");

    // Requests are limited per voter: a fourth within ten minutes is refused
    let optout = serde_json::json!({"first_name": "Emily", "last_name": "Chen", "date_of_birth": "1985-03-14", "zip": "94612", "channels": ["sms"]}).to_string();
    for _ in 0..2 {
        let a = s.call("POST", "/optout", "", &optout).await;
        assert_eq!(a.status, 202, "{}", a.body);
    }
    let a = s.call("POST", "/optout", "", &optout).await;
    assert_eq!((a.status, a.reason()), (429, "try_later".into()));

    // A voter who never signed up: the same answer, and no code goes anywhere
    let before: usize = ["+15105550160"].iter().map(|p| s.texts_to(p).len()).sum();
    let a = s.call("POST", "/ballot", "", &serde_json::json!({"first_name": "Samuel", "last_name": "Wright", "date_of_birth": "1947-06-28", "zip": "94501"}).to_string()).await;
    assert_eq!((a.status, a.json()["status"].as_str()), (202, Some("codes_sent")));
    assert_eq!(before, 0);

    // A brute force of birth dates locks the name and ZIP
    for year in 1970..1975 {
        let body = serde_json::json!({"first_name": "Daniel", "last_name": "Okafor", "date_of_birth": format!("{year}-08-11"), "zip": "94704", "language": "en", "sms": "+15105550102"});
        let a = s.call("POST", "/signup", "", &body.to_string()).await;
        assert_eq!((a.status, a.reason()), (422, "no_match".into()));
    }
    let right = serde_json::json!({"first_name": "Daniel", "last_name": "Okafor", "date_of_birth": "1979-08-11", "zip": "94704", "language": "en", "sms": "+15105550102"});
    let a = s.call("POST", "/signup", "", &right.to_string()).await;
    assert_eq!((a.status, a.reason()), (429, "locked".into()), "even the right birth date, once locked");
    assert!(s.texts_to("+15105550102").is_empty());

    // Numbers that are +1 but not the US are refused, and not repeated back
    for number in ["+14165550123", "+18765550123"] {
        let body = serde_json::json!({"first_name": "Hannah", "last_name": "Lee", "date_of_birth": "2001-12-19", "zip": "94702", "language": "en", "sms": number});
        let a = s.call("POST", "/signup", "", &body.to_string()).await;
        assert_eq!((a.status, a.json()["field"].clone()), (400, "sms".into()), "{number}: {}", a.body);
        assert!(!a.body.contains(&number[2..]));
    }

    // A household: five voters may share a phone; a sixth may not
    let household = [
        ("José", "Ramírez", "1990-07-22", "94601"),
        ("Rosa", "De La Cruz", "1958-01-30", "94541"),
        ("Hannah", "Lee", "2001-12-19", "94702"),
        ("Ji-woo", "Park", "1995-02-17", "94536"),
        ("Samuel", "Wright", "1947-06-28", "94501"),
    ];
    for (first, last, dob, zip) in household {
        let body = serde_json::json!({"first_name": first, "last_name": last, "date_of_birth": dob, "zip": zip, "language": "en", "sms": HOUSEHOLD_PHONE});
        let change = sign_up(s, &body.to_string()).await;
        let code = code_in(s.texts_to(HOUSEHOLD_PHONE).last().unwrap());
        let a = s.call("POST", "/verify", "", &verify(&change, &code)).await;
        assert_eq!(a.status, 200, "{first}: {}", a.body);
    }
    let sixth = serde_json::json!({"first_name": "Min-jun", "last_name": "Kim", "date_of_birth": "1989-12-01", "zip": "95014", "language": "ko", "sms": HOUSEHOLD_PHONE}).to_string();
    let before = s.texts_to(HOUSEHOLD_PHONE).len();
    let a = s.call("POST", "/signup", "", &sixth).await;
    assert_eq!((a.status, a.reason(), a.json()["field"].clone()), (422, "contact_in_use".into(), "sms".into()), "{}", a.body);
    assert_eq!(s.texts_to(HOUSEHOLD_PHONE).len(), before, "no code to a full phone");

    // José stops everything from the page the next day: a code to his proven phone, then nothing
    s.settle(at("2026-11-07T12:00:00-08:00")).await;
    let stop_all = serde_json::json!({"first_name": "José", "last_name": "Ramírez", "date_of_birth": "07-22-1990", "zip": "94601", "channels": ["all"]});
    let a = s.call("POST", "/optout", "", &stop_all.to_string()).await;
    assert_eq!(a.status, 202, "{}", a.body);
    let change = a.json()["change_id"].as_str().unwrap().to_string();
    let code = code_in(s.texts_to(HOUSEHOLD_PHONE).last().unwrap());
    let a = s.call("POST", "/verify", "", &verify(&change, &code)).await;
    assert_eq!(a.status, 200);
    s.settle(at("2026-11-07T13:00:00-08:00")).await;
    let before = s.texts_to(HOUSEHOLD_PHONE).len();
    // THEN his accepted ballot (the only household news of November 12) is not texted
    s.arrive("vbm", "vbm-2026-11-12.csv", at("2026-11-12T10:30:00-08:00")).await;
    s.settle(at("2026-11-13T12:00:00-08:00")).await;
    assert_eq!(s.texts_to(HOUSEHOLD_PHONE).len(), before, "stopped means stopped");

    // The twins need their VoteCal ID
    let twins = serde_json::json!({"first_name": "Maria", "last_name": "Garcia", "date_of_birth": "1988-05-09", "zip": "90026", "language": "es", "sms": "+13235550110"});
    let a = s.call("POST", "/signup", "", &twins.to_string()).await;
    assert_eq!((a.status, a.reason()), (422, "needs_votecal_id".into()), "{}", a.body);
    assert!(a.json()["advice"].as_str().unwrap().contains("(916) 654-1141"));

    // Asking again and again tells a stranger nothing: a signed-up voter's proven phone gets at
    // most five codes a day, and the requests past them are answered as for one who never signed up
    let emily_who = serde_json::json!({"first_name": "Emily", "last_name": "Chen", "date_of_birth": "03-14-1985", "zip": "94612"}).to_string();
    let samuel_who = serde_json::json!({"first_name": "Samuel", "last_name": "Wright", "date_of_birth": "1947-06-28", "zip": "94501"}).to_string();
    let before = s.texts_to(EMILY_PHONE).len();
    for slot in 0..7 {
        s.set_now(at("2026-11-14T09:00:00-08:00") + chrono::Duration::minutes(10 * slot));
        for who in [&emily_who, &samuel_who] {
            let a = s.call("POST", "/ballot", "", who).await;
            assert_eq!((a.status, a.json()["status"].as_str()), (202, Some("codes_sent")), "request {slot}: {}", a.body);
        }
    }
    assert_eq!(s.texts_to(EMILY_PHONE).len(), before + 5, "five codes a day to her phone, then none");

    // Hannah moves to a phone of her own: the household's phone (her proven contact) approves,
    // the new one proves itself, and the household's phone is told her contacts changed, not to
    // what
    s.set_now(at("2026-11-15T10:00:00-08:00"));
    let hannah = serde_json::json!({"first_name": "Hannah", "last_name": "Lee", "date_of_birth": "2001-12-19", "zip": "94702", "language": "en", "sms": HANNAH_PHONE});
    let before = s.texts_to(HOUSEHOLD_PHONE).len();
    let change = sign_up(s, &hannah.to_string()).await;
    let approve = code_in(s.texts_to(HOUSEHOLD_PHONE).last().unwrap());
    let prove = code_in(s.texts_to(HANNAH_PHONE).last().unwrap());
    for code in [&approve, &prove] {
        let a = s.call("POST", "/verify", "", &verify(&change, code)).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    s.settle(at("2026-11-15T10:10:00-08:00")).await;
    let household = s.texts_to(HOUSEHOLD_PHONE)[before..].to_vec();
    assert!(household[0].contains("Someone asked to see or change"), "{household:?}");
    assert_eq!(household.iter().filter(|t| t.contains("was just changed")).count(), 1, "{household:?}");
    assert!(household.last().unwrap().contains("was just changed") && household.iter().all(|t| !t.contains(&HANNAH_PHONE[2..])), "{household:?}");
    // The phone she moved away from is not told it is signed up; her own phone is, once proven
    assert_eq!(household.len(), 2, "the code to approve and the notice, nothing else: {household:?}");
    let own = s.texts_to(HANNAH_PHONE);
    assert_eq!(own.iter().filter(|t| t.contains("You are signed up")).count(), 1, "{own:?}");

    // The Secretary of State's hotline takes two calls: whoever holds the household's phone asks
    // for no more texts to it, and Emily, once the staff have checked who she is, asks to end her
    // sign-up. Their rows in the staff's stops file stop both: no code reaches the phone, nor
    // any of Emily's contacts, for any voter
    let refused = s.arrive("stops", "stops-2026-11-16.csv", at("2026-11-16T09:00:00-08:00")).await;
    // (Its third row, a number no voter gave, is reported at its line for the staff to check.)
    assert_eq!(refused, ["4,phone"]);
    let rosa_who = serde_json::json!({"first_name": "Rosa", "last_name": "De La Cruz", "date_of_birth": "1958-01-30", "zip": "94541"}).to_string();
    let (household, emily_texts) = (s.texts_to(HOUSEHOLD_PHONE).len(), s.texts_to(EMILY_PHONE).len());
    for who in [&rosa_who, &emily_who] {
        let a = s.call("POST", "/ballot", "", who).await;
        assert_eq!((a.status, a.json()["status"].as_str()), (202, Some("codes_sent")), "{}", a.body);
    }
    assert_eq!(s.texts_to(HOUSEHOLD_PHONE).len(), household, "a phone stopped at the hotline gets not even a code");
    assert_eq!(s.texts_to(EMILY_PHONE).len(), emily_texts, "a sign-up ended at the hotline has no contact left to send to");
    // AND START from Emily's phone restarts nothing: no ballot texts are set up for it any more
    s.text_in(EMILY_PHONE, "START", "hotline-start").await;
    let texts = s.texts_to(EMILY_PHONE);
    assert_eq!(texts.len(), emily_texts + 1);
    assert!(texts.last().unwrap().contains("no ballot texts are set up for it"), "{texts:?}");
    // AND the stops file sent again a day later reports the same, and stops or sends nothing more
    let (household, emily_texts) = (s.texts_to(HOUSEHOLD_PHONE).len(), s.texts_to(EMILY_PHONE).len());
    assert_eq!(s.arrive("stops", "stops-2026-11-16.csv", at("2026-11-17T09:00:00-08:00")).await, ["4,phone"]);
    assert_eq!((s.texts_to(HOUSEHOLD_PHONE).len(), s.texts_to(EMILY_PHONE).len()), (household, emily_texts));
    // Hannah calls the hotline at 8:00 to stop texts to her phone, thinks again and texts START
    // at 10:00; the staff's row for her call is read the next morning. Her START stands: the row
    // is reported at its time, and her phone still gets what she asks for, a code included
    s.set_now(at("2026-11-17T10:00:00-08:00"));
    s.text_in(HANNAH_PHONE, "START", "hannah-start").await;
    assert_eq!(s.arrive("stops", "stops-2026-11-18.csv", at("2026-11-18T09:00:00-08:00")).await, ["2,requested_at"]);
    let hannah_texts = s.texts_to(HANNAH_PHONE).len();
    let hannah_who = serde_json::json!({"first_name": "Hannah", "last_name": "Lee", "date_of_birth": "2001-12-19", "zip": "94702"}).to_string();
    let a = s.call("POST", "/ballot", "", &hannah_who).await;
    assert_eq!((a.status, a.json()["status"].as_str()), (202, Some("codes_sent")), "{}", a.body);
    assert_eq!(s.texts_to(HANNAH_PHONE).len(), hannah_texts + 1, "a code reaches the phone her START kept");

    // Routes the API does not have
    let a = s.call("GET", "/signup", "", "").await;
    assert_eq!(a.status, 405);
    let a = s.call("POST", "/verify", "", "{\"change_id\": 5}").await;
    assert_eq!((a.status, a.json()["field"].clone()), (400, "body".into()));
}

/// Holds every answer to infra/openapi.yaml: its path, method and status are documented, and its
/// body matches the documented schema.
pub fn check_against_openapi(answers: &[Answer]) {
    let text = std::fs::read_to_string(crate::harness::repo_path("infra/openapi.yaml")).expect("infra/openapi.yaml");
    let doc: serde_json::Value = serde_yaml_ng::from_str(&text).expect("the OpenAPI document is YAML");
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let mut checked = 0;
    for a in answers {
        if a.status == 404 {
            continue;
        }
        // A 405 is documented on the path's own operations (the method asked for has none).
        let method = if a.status == 405 { ["get", "post"].into_iter().find(|m| doc["paths"][&a.path][*m].is_object()).unwrap_or_default().to_string() } else { a.method.to_lowercase() };
        let op = &doc["paths"][&a.path][method];
        assert!(op.is_object(), "{} {} is not in infra/openapi.yaml", a.method, a.path);
        let response = resolve(&doc, &op["responses"][a.status.to_string()]);
        assert!(response.is_object(), "{} {} answered {}, which infra/openapi.yaml does not list", a.method, a.path, a.status);
        let media = a.content_type.split(';').next().unwrap().trim();
        let content = &response["content"][media];
        assert!(content.is_object(), "{} {} {}: {media} is not documented", a.method, a.path, a.status);
        if media == "application/json" {
            let schema = resolve(&doc, &content["schema"]);
            let mut full = schema.clone();
            full["components"] = doc["components"].clone();
            let validator = jsonschema::validator_for(&full).unwrap_or_else(|e| panic!("schema of {} {} {}: {e}", a.method, a.path, a.status));
            let body = a.json();
            let errors: Vec<String> = validator.iter_errors(&body).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{} {} {}: {} does not match infra/openapi.yaml: {errors:?}", a.method, a.path, a.status, a.body);
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} answers checked");
}

fn resolve<'d>(doc: &'d serde_json::Value, schema: &'d serde_json::Value) -> &'d serde_json::Value {
    match schema["$ref"].as_str() {
        Some(r) => r.trim_start_matches("#/").split('/').fold(doc, |v, part| &v[part]),
        None => schema,
    }
}
