//! Signing up: a voter proves who they are by first name, last name, date of birth and ZIP,
//! which must match the voter roll; several matches need the VoteCal ID.
//!
//! Matching is exact after normalising what a person cannot see or does not think of as part
//! of their name: surrounding and repeated spaces, letter case, and accents (José = JOSE).
//! Hyphens, apostrophes and the order of names are kept: "Garcia-Lopez" is not "Garcia Lopez".

use crate::county::CountyCode;
use crate::formats::{date_of_birth, votecal_id, zip, FieldError, VoterRecord, VoterStatus};
use crate::hours::NotificationHours;
use crate::status::{Channel, Language};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

pub use crate::refusal::{Refusal, MIN_MINUTES_BETWEEN_CHANGES};

/// The VoteCal Help Desk, which tells voters their VoteCal ID (from the guidance).
pub const VOTECAL_HELP_DESK: &str = "(916) 654-1141";
/// Where voters check their registration: the Secretary of State's My Voter Status. (The
/// guidance names it but gives this service's own address, which would send a voter who is not
/// found back here.)
pub const MY_VOTER_STATUS: &str = "https://voterstatus.sos.ca.gov";

/// A name as it is compared: accents removed, case folded, spaces trimmed and collapsed.
pub fn normalize_name(name: &str) -> String {
    // Plain ASCII has nothing to decompose: the same answer without the Unicode pass (most names
    // on a roll; every roll row and sign-up makes a key).
    if name.is_ascii() {
        return name.split_whitespace().map(str::to_ascii_lowercase).collect::<Vec<_>>().join(" ");
    }
    let folded: String = name.nfd().filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What identifies a voter at sign-up, normalised: the key the voter roll is searched by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdentityKey(pub String);

impl IdentityKey {
    pub fn new(first: &str, last: &str, dob: NaiveDate, zip: &str) -> Self {
        let (y, m, d) = (dob.year(), dob.month(), dob.day());
        let date = if (0..=9999).contains(&y) { format!("{y:04}-{m:02}-{d:02}") } else { dob.format("%Y-%m-%d").to_string() };
        IdentityKey(format!("{}|{}|{date}|{zip}", normalize_name(first), normalize_name(last)))
    }

    pub fn of_voter(v: &VoterRecord) -> Self {
        Self::new(&v.first_name, &v.last_name, v.date_of_birth, &v.zip)
    }
}

/// A checked sign-up request (from the API or a `signups` file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupRequest {
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub zip: String,
    pub votecal_id: Option<String>,
    pub language: Language,
    pub sms: Option<String>,
    pub email: Option<String>,
    pub voice: Option<String>,
    pub hours: NotificationHours,
}

pub use crate::phone::valid_phone;

/// A plausible email address: one '@', something before it, a dotted domain after, no spaces.
pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    e.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Who a caller says they are (a request to stop messages): checked like a sign-up's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRequest {
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub zip: String,
    pub votecal_id: Option<String>,
}

impl IdentityRequest {
    /// Checks who a caller says they are, each field given as text (empty = not given).
    pub fn from_fields(first_name: &str, last_name: &str, dob: &str, zip_code: &str, votecal: &str) -> Result<IdentityRequest, FieldError> {
        let name = |field: &'static str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                Err(FieldError::new(field, "is empty"))
            } else if v.chars().count() > 100 {
                Err(FieldError::new(field, "is longer than 100 characters"))
            } else {
                Ok(v.to_string())
            }
        };
        Ok(IdentityRequest {
            first_name: name("first_name", first_name)?,
            last_name: name("last_name", last_name)?,
            date_of_birth: date_of_birth(dob.as_bytes())?,
            zip: zip(zip_code.as_bytes())?,
            votecal_id: match votecal.trim() {
                "" => None,
                v => Some(votecal_id(v.as_bytes())?.to_string()),
            },
        })
    }

    pub fn identity(&self) -> IdentityKey {
        IdentityKey::new(&self.first_name, &self.last_name, self.date_of_birth, &self.zip)
    }
}

impl From<&SignupRequest> for IdentityRequest {
    fn from(r: &SignupRequest) -> Self {
        IdentityRequest {
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            date_of_birth: r.date_of_birth,
            zip: r.zip.clone(),
            votecal_id: r.votecal_id.clone(),
        }
    }
}

/// The name and ZIP of an identity, without the birth date: failed matches are counted per
/// name and ZIP, so that trying birth date after birth date locks.
pub fn name_and_zip(first: &str, last: &str, zip: &str) -> String {
    format!("{}|{}|{zip}", normalize_name(first), normalize_name(last))
}

impl SignupRequest {
    /// Checks the fields of a request, each given as text (empty = not given).
    #[allow(clippy::too_many_arguments)]
    pub fn from_fields(
        first_name: &str,
        last_name: &str,
        dob: &str,
        zip_code: &str,
        votecal: &str,
        language: &str,
        sms: &str,
        email: &str,
        voice: &str,
        notify_from: &str,
        notify_until: &str,
    ) -> Result<SignupRequest, FieldError> {
        let who = IdentityRequest::from_fields(first_name, last_name, dob, zip_code, votecal)?;
        let phone = |field: &'static str, v: &str| -> Result<Option<String>, FieldError> {
            let v = v.trim();
            if v.is_empty() {
                Ok(None)
            } else if valid_phone(v) {
                Ok(Some(v.to_string()))
            } else {
                Err(FieldError::new(field, "must be a US phone number in E.164 form, e.g. +19165550100"))
            }
        };
        let email = email.trim();
        let email = if email.is_empty() {
            None
        } else if valid_email(email) {
            Some(email.to_string())
        } else {
            return Err(FieldError::new("email", "is not an email address"));
        };
        let request = SignupRequest {
            first_name: who.first_name,
            last_name: who.last_name,
            date_of_birth: who.date_of_birth,
            zip: who.zip,
            votecal_id: who.votecal_id,
            // As written in a file: `es` or `ES` (the codes are read in any case, as statuses are)
            language: Language::parse(&language.trim().to_ascii_lowercase())
                .ok_or_else(|| FieldError::new("language", "must be one of en es zh hi ja km ko tl th vi"))?,
            sms: phone("sms", sms)?,
            email,
            voice: phone("voice", voice)?,
            hours: NotificationHours::parse(notify_from, notify_until)
                .map_err(|field| FieldError::new(if field == "notify_from" { "notify_from" } else { "notify_until" }, "must be HH:MM"))?,
        };
        if request.sms.is_none() && request.email.is_none() && request.voice.is_none() {
            return Err(FieldError::new("sms", "at least one of sms, email and voice is needed"));
        }
        Ok(request)
    }

    pub fn identity(&self) -> IdentityKey {
        IdentityKey::new(&self.first_name, &self.last_name, self.date_of_birth, &self.zip)
    }
}

/// When a voter stopped each channel (STOP by text, the email link, the page). A stopped channel
/// gets nothing more until the voter starts it again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stops {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<DateTime<Utc>>,
}

impl Stops {
    pub fn get(&self, channel: Channel) -> Option<DateTime<Utc>> {
        match channel {
            Channel::Sms => self.sms,
            Channel::Email => self.email,
            Channel::Voice => self.voice,
        }
    }

    fn slot(&mut self, channel: Channel) -> &mut Option<DateTime<Utc>> {
        match channel {
            Channel::Sms => &mut self.sms,
            Channel::Email => &mut self.email,
            Channel::Voice => &mut self.voice,
        }
    }
}

/// How long contact details are kept after a voter stopped every channel (so that START can
/// still find them), before they are erased.
pub const RETENTION_DAYS_AFTER_STOP: i64 = 30;

/// A signed-up voter's choices. Held per voter; a new sign-up replaces the old one. Every contact
/// in it has been proven (a code sent there was entered), or came from a `signups` file whose
/// contacts were proven elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub votecal_id: String,
    /// The county the voter signed up in: a voter who moves county must sign up again.
    pub county: CountyCode,
    pub language: Language,
    pub sms: Option<String>,
    pub email: Option<String>,
    pub voice: Option<String>,
    pub hours: NotificationHours,
    pub signed_up_at: DateTime<Utc>,
    /// Channels the voter stopped.
    #[serde(default)]
    pub stopped: Stops,
    /// Set when every channel is stopped: the contact details are erased after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erase_after: Option<DateTime<Utc>>,
    /// What a `signups` file last said of this voter, kept through the voter's own changes: the
    /// same row sent again (files are cumulative) does not undo a change the voter made since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_row: Option<crate::file_signups::FileRow>,
    /// What the store read it as, for its conditional write; not part of its value.
    #[serde(skip)]
    pub read_as: crate::ports::ReadAs,
}

impl Subscription {
    /// The channels the voter chose and has not stopped, with the address for each.
    pub fn channels(&self) -> Vec<(Channel, &str)> {
        Channel::ALL.into_iter().filter_map(|c| self.address(c).map(|a| (c, a))).collect()
    }

    /// Whether another sign-up made the same choices (county, language, channels, hours).
    pub fn same_choices(&self, other: &Subscription) -> bool {
        (self.county, self.language, &self.sms, &self.email, &self.voice, self.hours, self.stopped)
            == (other.county, other.language, &other.sms, &other.email, &other.voice, other.hours, other.stopped)
    }

    /// The address a channel's messages go to; none when the voter did not choose it or stopped it.
    pub fn address(&self, channel: Channel) -> Option<&str> {
        if self.stopped.get(channel).is_some() {
            return None;
        }
        self.chosen(channel)
    }

    /// The address the voter gave for a channel, stopped or not.
    pub fn chosen(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Sms => self.sms.as_deref(),
            Channel::Email => self.email.as_deref(),
            Channel::Voice => self.voice.as_deref(),
        }
    }

    fn slot(&mut self, channel: Channel) -> &mut Option<String> {
        match channel {
            Channel::Sms => &mut self.sms,
            Channel::Email => &mut self.email,
            Channel::Voice => &mut self.voice,
        }
    }

    /// Stops channels (all of them when `channels` is empty). Returns whether anything changed.
    /// When no chosen channel is left, the contact details are kept for
    /// [`RETENTION_DAYS_AFTER_STOP`] days (so START works), then erased.
    pub fn stop(&mut self, channels: &[Channel], now: DateTime<Utc>) -> bool {
        let targets: Vec<Channel> = if channels.is_empty() { Channel::ALL.to_vec() } else { channels.to_vec() };
        let mut changed = false;
        for c in targets {
            if self.chosen(c).is_some() && self.stopped.get(c).is_none() {
                *self.stopped.slot(c) = Some(now);
                changed = true;
            }
        }
        if changed && self.channels().is_empty() {
            self.erase_after = Some(now + chrono::Duration::days(RETENTION_DAYS_AFTER_STOP));
        }
        changed
    }

    /// Starts a stopped channel again (START by text). Returns whether anything changed.
    pub fn start(&mut self, channel: Channel) -> bool {
        if self.stopped.get(channel).is_none() || self.chosen(channel).is_none() {
            return false;
        }
        *self.stopped.slot(channel) = None;
        self.erase_after = None;
        true
    }

    /// Keeps the stops of an earlier subscription on the channels whose address did not change
    /// (a sign-up file delivered again must not undo a STOP).
    pub fn keep_stops_of(&mut self, old: &Subscription) {
        self.keep_stops_since(old, DateTime::<Utc>::MIN_UTC);
    }

    /// Keeps the stops an earlier subscription got at or after `since` on the channels whose
    /// address did not change: a change of choices asked for before a STOP or an unsubscribe,
    /// and completed with a code after it, is no new consent to that address.
    pub fn keep_stops_since(&mut self, old: &Subscription, since: DateTime<Utc>) {
        for c in Channel::ALL {
            if self.chosen(c).is_some() && self.chosen(c) == old.chosen(c) {
                if let Some(at) = old.stopped.get(c).filter(|at| *at >= since) {
                    *self.stopped.slot(c) = Some(at);
                }
            }
        }
        if self.channels().is_empty() && Channel::ALL.iter().any(|c| self.chosen(*c).is_some()) {
            self.erase_after = old.erase_after;
        }
    }

    /// Past its retention after a full stop: the contact details must go.
    pub fn due_for_erasure(&self, now: DateTime<Utc>) -> bool {
        self.erase_after.is_some_and(|t| now >= t) && Channel::ALL.iter().any(|c| self.chosen(*c).is_some())
    }

    /// Erases every contact detail (the record of the stops stays, without addresses).
    pub fn erase_contacts(&mut self) {
        for c in Channel::ALL {
            *self.slot(c) = None;
        }
    }

    /// Replaces a channel's address (None: the channel is dropped), clearing any stop on it.
    pub fn set_address(&mut self, channel: Channel, address: Option<String>) {
        *self.slot(channel) = address;
        *self.stopped.slot(channel) = None;
    }
}

/// Decides a sign-up from the voter records whose identity matched.
///
/// A VoteCal ID given by the voter must be one of the matches: it chooses among them but never
/// overrides the name, date of birth and ZIP.
pub fn match_voter<'a>(request: &SignupRequest, candidates: &'a [VoterRecord]) -> Result<&'a VoterRecord, Refusal> {
    match_identity(&request.identity(), request.votecal_id.as_deref(), candidates)
}

/// [`match_voter`] for a caller who gave only who they are (a request to stop messages).
pub fn match_identity<'a>(key: &IdentityKey, votecal_id: Option<&str>, candidates: &'a [VoterRecord]) -> Result<&'a VoterRecord, Refusal> {
    let matching: Vec<&VoterRecord> = candidates.iter().filter(|v| &IdentityKey::of_voter(v) == key).collect();
    let chosen = match (votecal_id, matching.as_slice()) {
        (_, []) => return Err(Refusal::NoMatch),
        (Some(id), several) => *several.iter().find(|v| v.votecal_id == id).ok_or(Refusal::NoMatch)?,
        (None, [one]) => *one,
        (None, _) => return Err(Refusal::NeedsVotecalId),
    };
    if chosen.status != VoterStatus::Active {
        return Err(Refusal::NotActive);
    }
    Ok(chosen)
}

impl Subscription {
    pub fn from_request(request: &SignupRequest, voter: &VoterRecord, now: DateTime<Utc>) -> Subscription {
        Subscription {
            votecal_id: voter.votecal_id.clone(),
            county: voter.county,
            language: request.language,
            sms: request.sms.clone(),
            email: request.email.clone(),
            voice: request.voice.clone(),
            hours: request.hours,
            signed_up_at: now,
            stopped: Stops::default(),
            erase_after: None,
            file_row: None,
            read_as: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voter(id: &str, first: &str, last: &str, status: VoterStatus) -> VoterRecord {
        VoterRecord {
            votecal_id: id.into(),
            county: CountyCode::parse("19").unwrap(),
            first_name: first.into(),
            last_name: last.into(),
            date_of_birth: NaiveDate::from_ymd_opt(1980, 5, 17).unwrap(),
            zip: "90012".into(),
            status,
        }
    }

    fn request(first: &str, last: &str, votecal: &str) -> SignupRequest {
        SignupRequest::from_fields(first, last, "1980-05-17", "90012", votecal, "es", "+13105550123", "", "", "", "").unwrap()
    }

    #[test]
    fn case_accents_and_spaces_do_not_stop_a_match_but_spelling_does() {
        let roll = [voter("CA1", "JOSE", "GARCIA-LOPEZ", VoterStatus::Active)];
        assert_eq!(match_voter(&request("  José ", "garcía-lópez", ""), &roll).unwrap().votecal_id, "CA1");
        assert_eq!(match_voter(&request("Jose", "Garcia Lopez", ""), &roll), Err(Refusal::NoMatch));
        assert_eq!(match_voter(&request("Joseph", "Garcia-Lopez", ""), &roll), Err(Refusal::NoMatch));
    }

    #[test]
    fn a_plain_name_and_a_date_make_the_same_key_as_the_unicode_pass_and_strftime() {
        let slow = |n: &str| n.nfd().filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        for name in ["  Mary  Ann\tO'NEIL ", "li\u{b}wei", "\r\nX", "", "   ", "De La Cruz"] {
            assert_eq!(normalize_name(name), slow(name), "{name:?}");
        }
        for (y, m, d) in [(1901, 1, 9), (2008, 12, 31), (33, 2, 3), (12000, 6, 7)] {
            let dob = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let key = IdentityKey::new("A", "B", dob, "90012").0;
            assert_eq!(key, format!("a|b|{}|90012", dob.format("%Y-%m-%d")));
        }
    }

    #[test]
    fn two_voters_with_the_same_identity_need_the_votecal_id() {
        let roll = [voter("CA1", "Ann", "Lee", VoterStatus::Active), voter("CA2", "Ann", "Lee", VoterStatus::Active)];
        let refused = match_voter(&request("Ann", "Lee", ""), &roll).unwrap_err();
        assert_eq!(refused, Refusal::NeedsVotecalId);
        assert!(refused.advice().contains("(916) 654-1141"));
        assert_eq!(match_voter(&request("Ann", "Lee", "CA2"), &roll).unwrap().votecal_id, "CA2");
        assert_eq!(match_voter(&request("Ann", "Lee", "CA9"), &roll), Err(Refusal::NoMatch));
    }

    #[test]
    fn inactive_canceled_and_pending_voters_are_sent_to_their_county() {
        for status in [VoterStatus::Inactive, VoterStatus::Canceled, VoterStatus::Pending] {
            let roll = [voter("CA1", "Ann", "Lee", status)];
            let refused = match_voter(&request("Ann", "Lee", ""), &roll).unwrap_err();
            assert_eq!(refused, Refusal::NotActive);
            assert!(refused.advice().contains("county elections office"));
        }
        assert!(Refusal::NoMatch.advice().contains("My Voter Status"));
    }

    #[test]
    fn a_request_needs_a_channel_and_valid_addresses() {
        let f = |sms: &str, email: &str, voice: &str| {
            SignupRequest::from_fields("A", "B", "1980-05-17", "90012", "", "en", sms, email, voice, "", "")
        };
        assert_eq!(f("", "", "").unwrap_err().reason, "at least one of sms, email and voice is needed");
        assert_eq!(f("310-555-0123", "", "").unwrap_err().field, "sms");
        assert_eq!(f("", "not-an-email", "").unwrap_err().field, "email");
        assert_eq!(f("", "", "+0123").unwrap_err().field, "voice");
        assert_eq!(f("+442071234567", "", "").unwrap_err().field, "sms", "no international numbers");
        assert_eq!(f("+19005550100", "", "").unwrap_err().field, "sms", "no premium-rate (900) numbers");
        assert_eq!(f("+14165550123", "", "").unwrap_err().field, "sms", "Toronto is +1 but not the US");
        assert_eq!(f("+18765550123", "", "").unwrap_err().field, "sms", "Jamaica is +1 but not the US");
        assert_eq!(f("", "", "+16045550123").unwrap_err().field, "voice", "Vancouver is +1 but not the US");
        assert!(f("+19165550123", "", "").is_ok(), "Sacramento");
        let ok = f("", "voter@example.com", "+13105550123").unwrap();
        assert_eq!(ok.hours, NotificationHours::default());
        let bad_lang = SignupRequest::from_fields("A", "B", "1980-05-17", "90012", "", "fr", "+13105550123", "", "", "", "");
        assert_eq!(bad_lang.unwrap_err().field, "language");
        let bad_dob = SignupRequest::from_fields("A", "B", "05-17-1980", "90012", "", "en", "+13105550123", "", "", "", "");
        assert_eq!(bad_dob.unwrap_err().field, "date_of_birth");
    }
}
