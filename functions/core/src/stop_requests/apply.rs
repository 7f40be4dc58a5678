//! Applying a stops file's row: each request once, through the ledger; in a county's scope, to
//! that county's voters only; a row that finds no sign-up reported at its field (see the parent
//! module).

use super::{same_surname, Stop, StopRequest};
use crate::access::contact_name;
use crate::county::CountyCode;
use crate::formats::FieldError;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::Channel;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};

/// What a request stopped: how many voters' channels, and whether it found any sign-up to stop.
#[derive(Debug, Default, Clone, Copy)]
struct Applied {
    changed: usize,
    found: bool,
}

impl Applied {
    fn add(&mut self, other: Applied) {
        self.changed += other.changed;
        self.found |= other.found;
    }
}

/// Why a well-formed row stopped nothing, at the field the staff should check. A county's row
/// is told the same whether no voter has the contact or only another county's voters do.
fn no_sign_up(stop: &Stop, scope: Option<CountyCode>) -> FieldError {
    if scope.is_some() {
        let field = match stop {
            Stop::Phone { .. } => "phone",
            Stop::Email { .. } => "email",
            Stop::Voter { .. } => "votecal_id",
        };
        return FieldError::new(
            field,
            "no sign-up of this county's voters has it now (mistyped, never given, since ended, or made in another county), so nothing was stopped or kept: check it, and if it is right, pass the request to the Secretary of State's hotline staff, whose stops file reaches every county's voters",
        );
    }
    match stop {
        Stop::Phone { channels, .. } => {
            let (what, kept) = match (channels.contains(&Channel::Sms), channels.contains(&Channel::Voice)) {
                (true, true) => ("texts or calls go", " Its texts' stop is kept, should a signups file name it later; its calls' is not."),
                (true, false) => ("texts go", " Its texts' stop is kept, should a signups file name it later."),
                _ => ("calls go", " A stop of calls is not kept for a number no voter has."),
            };
            FieldError::new(
                "phone",
                format!("no sign-up's {what} to this number now (mistyped, never given, or since ended), so no one's were stopped.{kept} If the number is right, nothing more is needed now"),
            )
        }
        Stop::Email { .. } => FieldError::new(
            "email",
            "no sign-up's email goes to this address now (mistyped, never given, or since ended), so no one's was stopped. Its stop is kept, should a signups file name it later. If the address is right, nothing more is needed",
        ),
        Stop::Voter { .. } => FieldError::new(
            "votecal_id",
            "this voter has no sign-up now (never, or it has ended), so nothing was stopped and nothing is kept for her: add rows for her phone and email address, so that a later sign-up with them starts stopped",
        ),
    }
}

/// Why a phone's row stopped no texts: the phone texted START after the voter asked (and, with
/// `calls`, the row's calls were stopped all the same).
fn started_since(calls: bool) -> FieldError {
    let calls = if calls { " (the calls it names were stopped as asked, for any voter they go to)" } else { "" };
    FieldError::new(
        "requested_at",
        format!("the phone texted START after this time, so the row left its texts as that later word set them{calls}. If the voter asked again since, send a row with that time"),
    )
}

fn in_progress() -> PipelineError {
    PipelineError::Store(StoreError::Conflict("a stop request being applied already".into()))
}

/// `pick`, noting in `found` whether it picked a subscription (the read that stops is the one
/// that finds).
fn noting<'f>(found: &'f AtomicBool, pick: impl Fn(&Subscription) -> bool + 'f) -> impl Fn(&Subscription) -> bool + 'f {
    move |s| {
        let picked = pick(s);
        if picked {
            found.store(true, Ordering::Relaxed);
        }
        picked
    }
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Applies a stop the hotline or a county took (see the module), read at `now`, once: a row
    /// read again (the file sent again, or its part read again) finds its request done in the
    /// ledger and changes nothing (a request that found no sign-up to stop is reported again).
    /// Each voter's channel it stops is counted as an opt-out in her county's summary. Returns
    /// how many voters' channels it stopped, or why the row cannot apply (a request time still to
    /// come, a last name that is not the roll's, a voter of another county, or no sign-up to stop).
    ///
    /// `scope` is the county whose folder the file came from, if a county sent it: its stops
    /// reach that county's voters only (see [`Self::stop_for_county`]).
    pub async fn stop_as_asked(&self, request: &StopRequest, scope: Option<CountyCode>, now: DateTime<Utc>, tally: &mut Tally) -> Result<Result<usize, FieldError>, PipelineError> {
        if crate::time::pacific_date(request.requested_at) > crate::time::pacific_date(now) {
            return Ok(Err(FieldError::new("requested_at", "is a day still to come: it is when the voter asked")));
        }
        if let Stop::Voter { votecal_id, last_name, .. } = &request.stop {
            let on_roll = self.store.voter(votecal_id).await?.filter(|v| same_surname(&v.last_name, last_name));
            match (on_roll, scope) {
                (None, None) => return Ok(Err(FieldError::new("last_name", "is not the roll's last name of the voter with this VoteCal ID (or no voter has it): check the ID"))),
                // A county's voter is one of its roll, or one who signed up there and has since
                // moved (her cure notices still give the county's phone). Whether the ID is another
                // county's voter's, or no one's, is not told.
                (on_roll, Some(county)) => {
                    let ours = match on_roll {
                        Some(v) if v.county == county => true,
                        Some(_) => self.store.subscription(votecal_id).await?.is_some_and(|s| s.county == county),
                        None => false,
                    };
                    if !ours {
                        return Ok(Err(FieldError::new("votecal_id", "no voter of this county has this VoteCal ID and last name: check both (a county's stops file reaches its own voters; the Secretary of State's, every county's)")));
                    }
                }
                (Some(_), None) => {}
            }
        }
        // A phone that texted START since the voter asked keeps its texts: the later word stands.
        let asked = request.requested_at.min(now);
        let texts_started = self.texts_started_since(&request.stop, scope, asked).await?;
        let stop = match &request.stop {
            Stop::Phone { phone, channels } if texts_started => Stop::Phone { phone: phone.clone(), channels: channels.iter().copied().filter(|c| *c != Channel::Sms).collect() },
            other => other.clone(),
        };
        let calls_too = matches!(&stop, Stop::Phone { channels, .. } if !channels.is_empty());
        // Once per request: its key is a keyed name of what it asks (no phone, address or ID in it).
        let key = format!("stop-request#{}", self.access.signing.name("stop-request", &request.identity(scope)));
        // A request that found no sign-up to stop is marked so too (under a second key), so that,
        // read again, it is reported again and still changes nothing.
        let none_key = format!("{key}#none");
        // One whose texts a later START kept is marked so too (a third key), and so reported again.
        let started_key = format!("{key}#started");
        match self.store.claim(&key, now).await? {
            Claim::Claimed => {}
            Claim::Done => {
                return Ok(if texts_started && self.marked(&started_key, now).await? {
                    Err(started_since(calls_too))
                } else if self.marked(&none_key, now).await? {
                    Err(no_sign_up(&request.stop, scope))
                } else {
                    Ok(0)
                });
            }
            // The same request at this moment (a row twice in a file, or a part read twice), or an
            // attempt that stopped without a word: the file is read again once its claim lapses.
            Claim::InProgress => return Err(in_progress()),
        }
        // (Of a row that named texts alone, nothing is left to do but to mark it.)
        let applied = if texts_started && !calls_too { Ok(Applied::default()) } else { self.apply_stop(&stop, scope, asked, now, tally).await };
        let applied = match applied {
            Ok(applied) => applied,
            Err(e) => {
                self.store.release(&key).await?;
                return Err(e);
            }
        };
        // (Nothing was sent: the entries mark the request done.)
        let done = DeliveryOutcome::Sent { provider_id: String::new(), at: now, counted: None, indexed: false };
        // No sign-up to stop (a digit or a letter mistyped, most often): reported for the staff to
        // check. The Secretary of State's stop of a phone's texts or an address is remembered all
        // the same, for a signups file that names it later.
        let (result, mark) = match (texts_started, applied.found) {
            (true, _) => (Err(started_since(calls_too)), Some(&started_key)),
            (false, true) => (Ok(applied.changed), None),
            (false, false) => (Err(no_sign_up(&request.stop, scope)), Some(&none_key)),
        };
        if let Some(mark) = mark {
            // (Held already only by an attempt that failed before marking the request done.)
            if self.store.claim(mark, now).await? != Claim::Done {
                self.store.complete(mark, &done).await?;
            }
        }
        self.store.complete(&key, &done).await?;
        Ok(result)
    }

    /// Whether a request done before was marked with `mark` (claimed to see, and given back).
    async fn marked(&self, mark: &str, now: DateTime<Utc>) -> Result<bool, PipelineError> {
        match self.store.claim(mark, now).await? {
            Claim::Done => Ok(true),
            Claim::Claimed => {
                self.store.release(mark).await?;
                Ok(false)
            }
            Claim::InProgress => Err(in_progress()),
        }
    }

    /// Whether the phone a Secretary of State's row names for texts sent START after the voter
    /// asked, and has not said STOP since: the texts were asked for again, and the row does not
    /// stop them, as a START after a STOP is taken. (A county's row stops each of its voters'
    /// texts as her own stop, which a START from a phone voters share does not lift: whether the
    /// phone was hers alone when it said START is not known after, so a county's row applies.)
    async fn texts_started_since(&self, stop: &Stop, scope: Option<CountyCode>, asked: DateTime<Utc>) -> Result<bool, PipelineError> {
        let (Stop::Phone { phone, channels }, None) = (stop, scope) else { return Ok(false) };
        if !channels.contains(&Channel::Sms) {
            return Ok(false);
        }
        let entry = self.store.contact(&contact_name(&self.access.signing, Channel::Sms, phone)).await?;
        Ok(entry.start_sent_at.is_some_and(|start| start > asked.timestamp_millis() && entry.stop_sent_at.is_none_or(|stop| stop < start)))
    }

    /// What [`Self::stop_as_asked`] does, `asked` being when the voter asked (a date alone, or a
    /// time later today, taken as now), and whether it found a sign-up to stop: a voter whose
    /// texts, calls or email went to the phone or address (stopped already or not), or the voter
    /// herself, signed up with a contact left. Each is found by the read that stops it.
    async fn apply_stop(&self, stop: &Stop, scope: Option<CountyCode>, asked: DateTime<Utc>, now: DateTime<Utc>, tally: &mut Tally) -> Result<Applied, PipelineError> {
        Ok(match (stop, scope) {
            (Stop::Phone { phone, channels }, Some(county)) => {
                let mut applied = Applied::default();
                for channel in channels {
                    applied.add(self.stop_for_county(*channel, phone, county, asked, now, tally).await?);
                }
                applied
            }
            (Stop::Email { email }, Some(county)) => self.stop_for_county(Channel::Email, email, county, asked, now, tally).await?,
            (Stop::Phone { phone, channels }, None) => {
                let mut applied = Applied::default();
                if channels.contains(&Channel::Sms) {
                    applied.add(self.stop_contact(Channel::Sms, phone, asked, now, tally).await?);
                }
                if channels.contains(&Channel::Voice) {
                    let calls = self.stop_calls(phone, None, now, tally).await?;
                    applied.add(Applied { changed: calls.changed, found: calls.found > 0 || calls.changed > 0 });
                }
                applied
            }
            (Stop::Email { email }, None) => self.stop_contact(Channel::Email, email, asked, now, tally).await?,
            (Stop::Voter { votecal_id, channels, .. }, _) => {
                let found = AtomicBool::new(false);
                let stop = |s: &mut Subscription| {
                    // (Or a stop since she asked: this request's own, read again after an attempt
                    // that erased her contacts and failed before it was marked done.)
                    if Channel::ALL.iter().any(|c| s.chosen(*c).is_some() || s.stopped.get(*c).is_some_and(|t| t >= asked)) {
                        found.store(true, Ordering::Relaxed);
                    }
                    s.stop(channels, now)
                };
                let changed = match self.update_subscription(votecal_id, now, stop).await? {
                    Some((before, after)) => {
                        tally.county_days.count_stops(now, &before, &after, crate::daily::Counted::OptedOut);
                        1
                    }
                    None => 0,
                };
                let applied = Applied { changed, found: found.load(Ordering::Relaxed) };
                if !applied.found {
                    return Ok(applied);
                }
                let Some(sub) = self.store.subscription(votecal_id).await? else { return Ok(applied) };
                self.remember_own_stops(&sub, channels, asked).await?;
                if channels.is_empty() {
                    self.end_sign_up(votecal_id, now).await?;
                }
                applied
            }
        })
    }

    /// Stops texts or email to `address` for every voter they go to, and the contact remembers
    /// it (a signups file naming it later finds it stopped). A phone's stop remembers when the
    /// voter asked: a START texted before that is not taken.
    async fn stop_contact(&self, channel: Channel, address: &str, asked: DateTime<Utc>, now: DateTime<Utc>, tally: &mut Tally) -> Result<Applied, PipelineError> {
        let keys = &self.access.signing;
        let name = contact_name(keys, channel, address);
        if channel == Channel::Sms {
            self.store.stop_sent_at(&name, asked.timestamp_millis()).await?;
        }
        let voters = self.store.contact(&name).await?.voters;
        let found = AtomicBool::new(false);
        let goes_here = noting(&found, |s: &Subscription| s.chosen(channel).is_some_and(|a| contact_name(keys, channel, a) == name));
        let changed = self.stop_where(channel, goes_here, voters.iter().map(String::as_str), now, tally).await?;
        self.store.set_stopped(&name, true).await?;
        Ok(Applied { changed, found: found.load(Ordering::Relaxed) })
    }

    /// A county's stop of a phone or an address: `channel` stops for that county's voters (signed
    /// up there, or on its roll) whose messages go there, each remembered as the voter's own stop
    /// (the contact's as a whole only where no other voter has it, as a stop on the page is), so
    /// that voters of other counties who share the phone or the inbox keep theirs.
    async fn stop_for_county(&self, channel: Channel, address: &str, county: CountyCode, asked: DateTime<Utc>, now: DateTime<Utc>, tally: &mut Tally) -> Result<Applied, PipelineError> {
        let keys = &self.access.signing;
        let name = contact_name(keys, channel, address);
        let voters = self.store.contact(&name).await?.voters;
        // The county's voters: signed up there, or on its roll now (moved there since).
        let mut on_roll = vec![];
        for voter in &voters {
            if self.store.voter(voter).await?.is_some_and(|v| v.county == county) {
                on_roll.push(voter.as_str());
            }
        }
        let found = AtomicBool::new(false);
        let ours = |s: &Subscription| s.county == county || on_roll.contains(&s.votecal_id.as_str());
        let here = noting(&found, |s: &Subscription| ours(s) && s.chosen(channel).is_some_and(|a| contact_name(keys, channel, a) == name));
        let changed = self.stop_where(channel, &here, voters.iter().map(String::as_str), now, tally).await?;
        for voter in &voters {
            // Remembered from what is stored now, whether this stop or an earlier one stopped it.
            if let Some(sub) = self.store.subscription(voter).await?.filter(|s| here(s)) {
                self.remember_own_stops(&sub, &[channel], asked).await?;
            }
        }
        Ok(Applied { changed, found: found.load(Ordering::Relaxed) })
    }

    /// Ends a fully stopped sign-up now: its contact details erased (and out of the contact
    /// index), not 30 days on, and its sign-up time made now, so that a change whose codes went
    /// out before is stale and the signups file's row it came from, sent again, is known as older
    /// than what the voter did since.
    async fn end_sign_up(&self, votecal_id: &str, now: DateTime<Utc>) -> Result<(), PipelineError> {
        let due_now = |s: &mut Subscription| {
            let later = s.channels().is_empty() && s.erase_after.is_some_and(|t| t > now);
            if later {
                s.erase_after = Some(now);
                s.signed_up_at = s.signed_up_at.max(now);
            }
            later
        };
        self.update_subscription(votecal_id, now, due_now).await?;
        // The erasure itself, done as a read does it (a read that loses a race reads again).
        self.update_subscription(votecal_id, now, |_| false).await?;
        Ok(())
    }
}
