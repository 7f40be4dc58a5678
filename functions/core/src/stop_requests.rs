//! Stops a voter asked for some other way than a reply, a link or the page: a call to the
//! Secretary of State's voter hotline (which the messages name), a letter, a word at a county's
//! counter. Consent may be revoked by any reasonable means and must be honoured within 10
//! business days (FCC 24-24). The Secretary of State's staff write each such request as a row of
//! a `stops` file (`incoming/sos/stops/<file>.csv`, header [`HEADER`]), one of:
//!
//! - **a phone**, with `sms`, `voice` or both (none named: both): texts and calls to it stop for
//!   every voter they go to, as the phone's own STOP and a 9 pressed on a call do, remembered by
//!   the phone (a signups file naming it does not restart it; START from it does, for texts);
//! - **an email address**: email to it stops for every voter it goes to, as its unsubscribe
//!   link does;
//! - **a VoteCal ID**, once the staff member has checked who is asking: the channels named stop
//!   for that voter, as her own stop on the page does. With none named (or `all`), her sign-up
//!   ends: every channel stopped and her contact details erased at once, not 30 days later. This
//!   is also what undoes a sign-up a stranger made with her name: whoever holds those contacts
//!   can no longer start it again by START, and she may sign up afresh on the page without a
//!   code from them.
//!
//! Nothing is sent: the caller was told on the phone, and a file read at night must not text.
//! A row applied twice (a file delivered again) changes nothing the second time.

use crate::access::contact_name;
use crate::formats::{text, votecal_id, FieldError, FileKind, RowFormat};
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::{valid_email, Subscription};
use crate::status::Channel;
use chrono::{DateTime, Utc};
use csv::ByteRecord;

/// The columns of a `stops` file: one of the first three, and the channels to stop.
pub const HEADER: [&str; 4] = ["votecal_id", "phone", "email", "channels"];

/// One request to stop, as a `stops` file's row gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopRequest {
    /// Texts, calls or both to a phone (E.164), for every voter they go to.
    Phone { phone: String, channels: Vec<Channel> },
    /// Email to an address, for every voter it goes to.
    Email { email: String },
    /// A voter's own channels; none: her whole sign-up, her contact details erased now.
    Voter { votecal_id: String, channels: Vec<Channel> },
}

impl RowFormat for StopRequest {
    const KIND: FileKind = FileKind::Stops;
    fn parse(r: &ByteRecord) -> Result<Self, FieldError> {
        let (id, phone, email) = (text("votecal_id", &r[0])?, text("phone", &r[1])?, text("email", &r[2])?);
        let channels = channels(text("channels", &r[3])?)?;
        if [id, phone, email].iter().filter(|f| !f.is_empty()).count() != 1 {
            return Err(FieldError::new("votecal_id", "give exactly one of votecal_id, phone and email (a row for each)"));
        }
        if !id.is_empty() {
            return Ok(StopRequest::Voter { votecal_id: votecal_id(id.as_bytes())?.to_string(), channels });
        }
        if !phone.is_empty() {
            let phone = us_phone(phone).ok_or_else(|| FieldError::new("phone", "is not a US phone number that can be texted or called (e.g. +19165550100 or (916) 555-0100)"))?;
            if channels.contains(&Channel::Email) {
                return Err(FieldError::new("channels", "a phone's are sms and voice (email goes in a row of its own, with the address)"));
            }
            let channels = if channels.is_empty() { vec![Channel::Sms, Channel::Voice] } else { channels };
            return Ok(StopRequest::Phone { phone, channels });
        }
        if !valid_email(email) {
            return Err(FieldError::new("email", "is not an email address"));
        }
        if channels.iter().any(|c| *c != Channel::Email) {
            return Err(FieldError::new("channels", "an email address's is email (a phone goes in a row of its own)"));
        }
        Ok(StopRequest::Email { email: email.to_string() })
    }
}

/// `sms`, `email`, `voice` in any order, separated by spaces or `;` (`all`, or nothing: every
/// channel the row's contact or voter has).
fn channels(t: &str) -> Result<Vec<Channel>, FieldError> {
    if t.is_empty() || t.eq_ignore_ascii_case("all") {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for word in t.split([' ', ';']).filter(|w| !w.is_empty()) {
        let c = Channel::parse(word).ok_or_else(|| FieldError::new("channels", format!("'{word}' is not sms, email, voice or all")))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort();
    Ok(out)
}

/// A US number as staff write it down (`+19165550100`, `(916) 555-0100`, `916.555.0100`,
/// `1 916 555 0100`) in E.164, if it is one that can be texted or called.
fn us_phone(t: &str) -> Option<String> {
    if t.chars().any(|c| !(c.is_ascii_digit() || " +-().".contains(c))) || t[1..].contains('+') {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let e164 = match digits.len() {
        10 => format!("+1{digits}"),
        11 if digits.starts_with('1') => format!("+{digits}"),
        _ => return None,
    };
    crate::phone::valid_phone(&e164).then_some(e164)
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Applies a stop the Secretary of State took (see the module): each voter's channel it stops
    /// is counted as an opt-out in her county's summary. Returns how many voters it changed.
    pub async fn stop_as_asked(&self, request: &StopRequest, now: DateTime<Utc>, tally: &mut Tally) -> Result<usize, PipelineError> {
        let keys = &self.access.signing;
        match request {
            StopRequest::Phone { phone, channels } => {
                let mut changed = 0;
                if channels.contains(&Channel::Sms) {
                    let name = contact_name(keys, Channel::Sms, phone);
                    // Its time first, as a STOP texted now: a START texted before it is not taken.
                    self.store.stop_sent_at(&name, now.timestamp_millis()).await?;
                    let voters = self.store.contact(&name).await?.voters;
                    changed += self.stop_texts_to(phone, voters.iter().map(String::as_str), now, tally).await?;
                    self.store.set_stopped(&name, true).await?;
                }
                if channels.contains(&Channel::Voice) {
                    changed += self.stop_calls(phone, None, now, tally).await?.changed;
                }
                Ok(changed)
            }
            StopRequest::Email { email } => {
                let name = contact_name(keys, Channel::Email, email);
                let voters = self.store.contact(&name).await?.voters;
                let changed = self.stop_email_to(&name, voters.iter().map(String::as_str), now, tally).await?;
                self.store.set_stopped(&name, true).await?;
                Ok(changed)
            }
            StopRequest::Voter { votecal_id, channels } => {
                let stop = |s: &mut Subscription| s.stop(channels, now);
                let changed = match self.update_subscription(votecal_id, now, stop).await? {
                    Some((before, after)) => {
                        tally.county_days.count_stops(now, &before, &after, crate::daily::Counted::OptedOut);
                        1
                    }
                    None => 0,
                };
                let Some(sub) = self.store.subscription(votecal_id).await? else { return Ok(changed) };
                self.remember_own_stops(&sub, channels, now).await?;
                if channels.is_empty() {
                    // Her sign-up ends now: the erasure that would come 30 days on comes at once
                    // (its contacts leave the contact index with them).
                    let due_now = |s: &mut Subscription| {
                        let later = s.channels().is_empty() && s.erase_after.is_some_and(|t| t > now);
                        if later {
                            s.erase_after = Some(now);
                        }
                        later
                    };
                    self.update_subscription(votecal_id, now, due_now).await?;
                    self.live_subscription(votecal_id, now).await?;
                }
                Ok(changed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: [&str; 4]) -> Result<StopRequest, FieldError> {
        StopRequest::parse(&ByteRecord::from(fields.to_vec()))
    }

    #[test]
    fn a_row_names_one_phone_address_or_voter_and_the_channels_that_fit_it() {
        assert_eq!(row(["", "(916) 555-0100", "", ""]), Ok(StopRequest::Phone { phone: "+19165550100".into(), channels: vec![Channel::Sms, Channel::Voice] }));
        assert_eq!(row(["", "+1 916-555-0100", "", "voice"]), Ok(StopRequest::Phone { phone: "+19165550100".into(), channels: vec![Channel::Voice] }));
        assert_eq!(row(["", "19165550100", "", "voice;SMS"]), Ok(StopRequest::Phone { phone: "+19165550100".into(), channels: vec![Channel::Sms, Channel::Voice] }));
        assert_eq!(row(["", "", " Ann@Example.com ", "all"]), Ok(StopRequest::Email { email: "Ann@Example.com".into() }));
        assert_eq!(row(["V123", "", "", ""]), Ok(StopRequest::Voter { votecal_id: "V123".into(), channels: vec![] }));
        assert_eq!(row(["V123", "", "", "email sms"]), Ok(StopRequest::Voter { votecal_id: "V123".into(), channels: vec![Channel::Sms, Channel::Email] }));
        let field = |r: Result<StopRequest, FieldError>| r.unwrap_err().field;
        // Two at once, or none: which one is meant is the staff's to say.
        assert_eq!(field(row(["V123", "+19165550100", "", ""])), "votecal_id");
        assert_eq!(field(row(["", "", "", "sms"])), "votecal_id");
        // A number that cannot be a US mobile or landline, or a Canadian one; a bad address
        assert_eq!(field(row(["", "+19005550100", "", ""])), "phone");
        assert_eq!(field(row(["", "+16045550100", "", ""])), "phone");
        assert_eq!(field(row(["", "916-555-010", "", ""])), "phone");
        assert_eq!(field(row(["", "916+5550100", "", ""])), "phone");
        assert_eq!(field(row(["", "", "ann.example.com", ""])), "email");
        // Channels a contact does not have, or no channel at all
        assert_eq!(field(row(["", "+19165550100", "", "email"])), "channels");
        assert_eq!(field(row(["", "", "ann@example.com", "sms"])), "channels");
        assert_eq!(field(row(["V123", "", "", "fax"])), "channels");
        assert_eq!(field(row(["bad id!", "", "", ""])), "votecal_id");
    }
}
