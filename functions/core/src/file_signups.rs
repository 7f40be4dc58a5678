//! Sign-ups from a file (a county's or VoteCal's `signups` file): match the roll, store the
//! choices, and welcome the voter. The halves are apart so that the local replay can match a
//! request on the thread that reads the file, from what every lane's part of the roll holds
//! under its identity key (`match_among`), and sign it up on the voter's lane.

use crate::daily::Counted;
use crate::formats::VoterRecord;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::{match_identity, IdentityKey, Refusal, SignupRequest, Subscription};
use crate::status::Channel;
use serde::{Deserialize, Serialize};
use chrono::{DateTime, Utc};

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Signs a voter up: match the roll, store the choices, confirm by SMS and email (never by
    /// voice) inside the voter's hours, and tell the voter where their ballot already is in any
    /// election being tracked.
    pub async fn signup(&self, request: &SignupRequest, now: DateTime<Utc>, tally: &mut Tally) -> Result<Result<Subscription, Refusal>, PipelineError> {
        match self.match_signup(request, tally).await? {
            Ok(voter) => self.signup_matched(request, &voter, now, tally).await,
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    /// The voter on the roll a sign-up is for, or why none is (counted as refused).
    pub async fn match_signup(&self, request: &SignupRequest, tally: &mut Tally) -> Result<Result<VoterRecord, Refusal>, PipelineError> {
        let key = request.identity();
        let candidates = self.store.voters_by_identity(&key).await?;
        Ok(match_among(request, &key, &candidates, tally))
    }

    /// Signs up the voter a request matched: the choices stored (stops kept, a change too soon
    /// refused), the contacts indexed, and the welcome.
    pub async fn signup_matched(&self, request: &SignupRequest, voter: &VoterRecord, now: DateTime<Utc>, tally: &mut Tally) -> Result<Result<Subscription, Refusal>, PipelineError> {
        let mut sub = Subscription::from_request(request, voter, now);
        let old = self.store.subscription(&sub.votecal_id).await?;
        // Calls only, in a language not every message of which can be called in: the county's
        // report says so, rather than the voter never hearing anything. (With texts or email
        // too, the row is taken: those go, and a call that cannot be made is a failed send.
        // Calls she already has, to that number in that language, stand: the county's next
        // cumulative file is not refused for them.)
        let kept = old.as_ref().is_some_and(|o| o.chosen(Channel::Voice) == request.voice.as_deref() && o.language == request.language);
        if request.voice.is_some() && request.sms.is_none() && request.email.is_none() && !kept && !self.voice.calls_possible(request.language) {
            *tally.signups_refused.entry(format!("{:?}", Refusal::CallsUnavailable)).or_default() += 1;
            return Ok(Err(Refusal::CallsUnavailable));
        }
        // The row the file gave last time, sent again (files are cumulative), after the voter
        // changed their choices on the page: what the voter chose stands. (The catch-up again
        // sends nothing twice.)
        let digest = choices_digest(&sub);
        if let Some(old) = old.as_ref().filter(|o| o.file_row.is_some_and(|r| r.digest == digest && o.signed_up_at > r.signed_up_at)) {
            tally.signups_accepted += 1;
            self.welcome(old, now, tally).await?;
            return Ok(Ok(old.clone()));
        }
        // Stops stand: the same address again keeps its stop, and a phone that texted STOP is
        // not texted because a file names it.
        self.keep_stops(old.as_ref(), &mut sub, now).await?;
        // The same choices again (a repeated request) keep their sign-up time, so the
        // confirmation, keyed by it, is not sent twice. Other choices minutes after the last are
        // refused (try later), unless that sign-up ended (its contacts erased at the hotline:
        // nothing to flip back and forth).
        if let Some(old) = &old {
            if old.same_choices(&sub) {
                sub.signed_up_at = old.signed_up_at;
            } else if now - old.signed_up_at < chrono::Duration::minutes(crate::signup::MIN_MINUTES_BETWEEN_CHANGES) && Channel::ALL.iter().any(|c| old.chosen(*c).is_some()) {
                *tally.signups_refused.entry("TryLater".into()).or_default() += 1;
                return Ok(Err(Refusal::TryLater));
            }
        }
        sub.file_row = Some(FileRow { digest, signed_up_at: sub.signed_up_at });
        self.index_contacts(old.as_ref(), &sub).await?;
        self.replace_subscription(&sub, old.as_ref()).await?;
        tally.signups_accepted += 1;
        match &old {
            None => tally.county_days.count(now, sub.county, Counted::SignedUp),
            Some(old) if !old.same_choices(&sub) => tally.county_days.count(now, sub.county, Counted::ChoicesChanged),
            Some(_) => {}
        }
        self.welcome(&sub, now, tally).await?;
        Ok(Ok(sub))
    }
}

/// The voter a sign-up is for among the roll's entries under its identity key (`key`, the
/// request's own), or why none is (counted as refused): the decision of `match_signup`, for a
/// caller that looked the key up itself.
pub fn match_among(request: &SignupRequest, key: &IdentityKey, candidates: &[VoterRecord], tally: &mut Tally) -> Result<VoterRecord, Refusal> {
    match match_identity(key, request.votecal_id.as_deref(), candidates) {
        Ok(v) => Ok(v.clone()),
        Err(refusal) => {
            *tally.signups_refused.entry(format!("{refusal:?}")).or_default() += 1;
            Err(refusal)
        }
    }
}

/// The `signups` file row a subscription last took its choices from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRow {
    /// [`choices_digest`] of the row.
    pub digest: u64,
    /// The sign-up time it gave the subscription: a later one is a change the voter made since.
    pub signed_up_at: DateTime<Utc>,
}

/// A digest of the choices (county, language, contacts, hours) a request made, to know a repeated
/// `signups` file row (not a secret: a hash of contact details, kept with them).
pub fn choices_digest(sub: &Subscription) -> u64 {
    // Written out field by field (not by Debug, which may change between versions): a digest
    // that changed would make every repeated row look new.
    let email = sub.email.as_deref().map(str::to_ascii_lowercase);
    let (from, until) = (sub.hours.from.format("%H:%M"), sub.hours.until.format("%H:%M"));
    let text = format!(
        "{}|{}|{}|{}|{}|{from}-{until}",
        sub.county,
        sub.language.code(),
        sub.sms.as_deref().unwrap_or("-"),
        email.as_deref().unwrap_or("-"),
        sub.voice.as_deref().unwrap_or("-")
    );
    crate::notify::fnv1a(text.as_bytes())
}
