//! The voter in control: requests that need a code (sign up, change choices, stop, see "my
//! ballot") and entering a code. The decisions are in [`crate::access`]; this module runs them
//! against the ports, within the abuse limits of `limits.rs`. Stopping (inbound texts,
//! unsubscribe links, erasure) is [`crate::stopping`].

use crate::access::{contact_name, CodeRefusal, CodeToSend, PendingChange, ChangeAction};
use crate::keys::same_contact;
use crate::access::MAX_VOTERS_PER_CONTACT;
use crate::daily::{Counted, CountyDays};
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::{IdentityRequest, Refusal, SignupRequest, Subscription};
use crate::status::{Channel, Language, MessageKind};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A change that was asked for: the caller enters its codes with this id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTicket {
    pub change_id: String,
    pub expires_in_seconds: i64,
    /// Why an approval code to one of the voter's proven contacts could not be sent, for the
    /// operators' log only: the caller's answer is the same as when it went (a failure only a
    /// signed-up voter can have would tell a stranger she signed up).
    pub unsent: Option<String>,
}

/// A refusal, with the field it concerns when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub refusal: Refusal,
    pub field: Option<Channel>,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Refused { refusal, field: None }
    }
}

/// Digits spoken one by one ("4, 0, 7, ...") so a call reads a code, not a number.
fn spoken(code: &str) -> String {
    code.chars().map(String::from).collect::<Vec<_>>().join(", ")
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Sends a change's codes at once (a voter is waiting for them: no quiet hours, no queue). A
    /// call speaks the code with Polly in the voter's language, or in English where Polly does
    /// not speak it (a recording cannot say a new code).
    /// A code the caller's own contact could not be sent fails the request (503: try again);
    /// an approval code to one of the voter's proven contacts that could not be sent is returned
    /// for the log, and the others still go.
    async fn send_codes(&self, change: &PendingChange, codes: &[CodeToSend], language: Language, now: DateTime<Utc>) -> Result<Option<String>, PipelineError> {
        let mut unsent = None;
        for c in codes {
            let t = &change.targets[c.target];
            if t.via == Channel::Sms && self.store.contact(&contact_name(&self.access.signing, Channel::Sms, &t.address)).await?.stopped {
                continue; // a phone that texted STOP gets nothing, not even a code
            }
            let kind = if t.proves { MessageKind::VerificationCode } else { MessageKind::AccountCode };
            let (text_language, voice) = match t.via {
                Channel::Voice => {
                    let lang = if crate::voice::polly_voice(language).is_some() { language } else { Language::En };
                    let (code, id) = crate::voice::polly_voice(lang).expect("English is spoken");
                    (lang, Some(crate::voice::VoiceRendering::Polly { language_code: code.into(), voice_id: id.into() }))
                }
                _ => (language, None),
            };
            let value = if t.via == Channel::Voice { spoken(&c.code) } else { c.code.clone() };
            let values = BTreeMap::from([("code", value)]);
            let msg = OutgoingMessage {
                key: format!("code#{}#{}", change.id, c.target),
                votecal_id: change.votecal_id.clone(),
                election_id: None,
                ballot_id: None,
                kind,
                channel: t.via,
                language: text_language,
                to: t.address.clone(),
                send_at: now,
                rendered: self.catalog.render(text_language, kind, t.via, &values)?,
                voice,
                unsubscribe_url: None,
            };
            match self.dispatcher.dispatch(&msg).await {
                Ok(_) => {}
                Err(e) if !change.typed_by_caller(c.target) => unsent = unsent.or(Some(format!("an approval code by {} was not sent: {e}", t.via))),
                Err(e) => return Err(PipelineError::Send(e)),
            }
        }
        Ok(unsent)
    }

    /// A sign-up or a change of choices from the API: nothing changes yet; codes go to each new
    /// contact and, when the voter has proven contacts, to those (to approve the change).
    pub async fn request_signup(&self, request: &SignupRequest, client: &str, now: DateTime<Utc>) -> Result<Result<ChangeTicket, Refused>, PipelineError> {
        // Before anyone is looked up, whoever asks: the answer says nothing about a voter (not
        // even whether she already has such calls: those cannot be made either).
        if request.voice.is_some() && !self.voice.calls_possible(request.language) {
            return Ok(Err(Refused { refusal: Refusal::CallsUnavailable, field: Some(Channel::Voice) }));
        }
        let voter = match self.identify(&IdentityRequest::from(request), client, now).await? {
            Ok(v) => v,
            Err(r) => return Ok(Err(r)),
        };
        let current = self.live_subscription(&voter.votecal_id, now).await?;
        let desired = Subscription::from_request(request, &voter, now);
        for c in Channel::ALL {
            let Some(address) = desired.chosen(c) else { continue };
            let entry = self.store.contact(&contact_name(&self.access.signing, c, address)).await?;
            if entry.voters.iter().filter(|v| **v != voter.votecal_id).count() >= MAX_VOTERS_PER_CONTACT {
                return Ok(Err(Refused { refusal: Refusal::ContactInUse, field: Some(c) }));
            }
            if c == Channel::Sms && entry.stopped {
                return Ok(Err(Refused { refusal: Refusal::ContactStopped, field: Some(c) }));
            }
        }
        let (change, codes) = PendingChange::choices(self.access, current.as_ref(), desired, now);
        self.open_change(change, codes, request.language, now).await
    }

    /// A request to stop channels (empty: all) from the API: codes go to the voter's proven
    /// contacts, and the stop applies when one is entered. The answer is the same whether or not
    /// the voter had signed up.
    pub async fn request_stop(&self, who: &IdentityRequest, channels: Vec<Channel>, client: &str, now: DateTime<Utc>) -> Result<Result<ChangeTicket, Refused>, PipelineError> {
        let voter = match self.identify(who, client, now).await? {
            Ok(v) => v,
            Err(r) => return Ok(Err(r)),
        };
        let current = self.live_subscription(&voter.votecal_id, now).await?;
        let language = current.as_ref().map_or(Language::En, |s| s.language);
        let (change, codes) = PendingChange::stop(self.access, &voter.votecal_id, current.as_ref(), channels, now);
        self.open_change(change, codes, language, now).await
    }

    /// "My ballot": codes go to the voter's proven contacts; entering one shows the journey
    /// ([`crate::journey_view`]). The answer is the same whether or not the voter signed up.
    pub async fn request_view(&self, who: &IdentityRequest, client: &str, now: DateTime<Utc>) -> Result<Result<ChangeTicket, Refused>, PipelineError> {
        let voter = match self.identify(who, client, now).await? {
            Ok(v) => v,
            Err(r) => return Ok(Err(r)),
        };
        let current = self.live_subscription(&voter.votecal_id, now).await?;
        let language = current.as_ref().map_or(Language::En, |s| s.language);
        let (change, codes) = PendingChange::approval(self.access, &voter.votecal_id, current.as_ref(), ChangeAction::View, now);
        self.open_change(change, codes, language, now).await
    }

    async fn open_change(&self, change: PendingChange, codes: Vec<CodeToSend>, language: Language, now: DateTime<Utc>) -> Result<Result<ChangeTicket, Refused>, PipelineError> {
        if let Err(r) = self.count_request(&change.votecal_id, now).await? {
            return Ok(Err(r));
        }
        let over_limit = match self.count_codes(&change, now).await? {
            Ok(skipped) => skipped,
            Err(r) => return Ok(Err(r)),
        };
        // A contact sent no code has no code that works: guessing one is no way past the limit.
        let mut change = change;
        for &i in &over_limit {
            change.targets[i].hash.clear();
        }
        self.store.put_change(&change, None).await?;
        let codes: Vec<CodeToSend> = codes.into_iter().filter(|c| !over_limit.contains(&c.target)).collect();
        let unsent = self.send_codes(&change, &codes, language, now).await?;
        Ok(Ok(ChangeTicket { change_id: change.id.clone(), expires_in_seconds: (change.expires_at - now).num_seconds(), unsent }))
    }

    /// A code entered for a change (`view`: for "my ballot", otherwise a change of choices or a
    /// stop; a code of the other kind is a wrong code). A right code is used up and the change
    /// applies as far as it now can (see [`PendingChange::applied_choices`]). Returns the change.
    pub async fn enter_code(&self, change_id: &str, code: &str, view: bool, now: DateTime<Utc>, tally: &mut Tally) -> Result<Result<PendingChange, CodeRefusal>, PipelineError> {
        // The code is used up (or counted wrong) by a conditional write first, so parallel
        // guesses cannot each try a code against the same state; only then does it apply.
        let (mut change, version, again) = loop {
            let Some(stored) = self.store.change(change_id).await? else { return Ok(Err(CodeRefusal::Expired)) };
            let mut change = stored.value;
            if (change.action == ChangeAction::View) != view {
                return Ok(Err(CodeRefusal::WrongCode));
            }
            // The code was used up, then the store failed before its change was all applied
            // (the voter was told to try again): entering it again finishes the change.
            if change.unfinished_by(&self.access.signing, code, now) {
                break (change, stored.version, true);
            }
            let before = change.clone();
            let result = change.enter_code(&self.access.signing, code, now);
            let mut version = stored.version;
            if change != before {
                match self.store.put_change(&change, Some(stored.version)).await {
                    Ok(v) => version = v,
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            match result {
                Ok(()) => break (change, version, false),
                Err(r) => return Ok(Err(r)),
            }
        };
        let current = self.live_subscription(&change.votecal_id, now).await?;
        if change.stale(current.as_ref()) {
            return Ok(Err(CodeRefusal::Expired));
        }
        // What the county's summary counts of it (a sign-up, a change, opt-outs) is kept apart
        // until the code is used up for good below: of two requests entering the same code at
        // once (a double tap), both may apply the change, but only one uses the code up.
        let mut counts = CountyDays::default();
        self.apply_change(&change, current, again, now, tally, &mut counts).await?;
        // What the change queued (the confirmation, the catch-up) is on its queue before the
        // code is used up for good: if it cannot be, the voter is asked to try again, and the
        // same code finishes it. (If the write below fails or loses a race, entering the code
        // again applies the same change again, which sends nothing twice.)
        self.queue.flush_queued().await?;
        change.applying = false;
        match self.store.put_change(&change, Some(version)).await {
            Ok(_) => tally.county_days.merge(counts),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(Ok(change))
    }

    /// Remembers on each contact the voter's own stop of `channels` (empty: all) that `sub` holds
    /// stopped, for her alone (calls, and a household's shared phone or inbox), past the erasure
    /// of her addresses, so that a signups file does not restart it. A phone (texts) or an email
    /// address no other voter has remembers it for everyone (a phone starts again by START, an
    /// address by a code entered for it). Doing it twice is doing it once.
    pub(crate) async fn remember_own_stops(&self, sub: &Subscription, channels: &[Channel], now: DateTime<Utc>) -> Result<(), PipelineError> {
        let stopped: Vec<Channel> = Channel::ALL.into_iter().filter(|c| channels.is_empty() || channels.contains(c)).filter(|c| sub.chosen(*c).is_some() && sub.address(*c).is_none()).collect();
        self.mark_own_stops(sub, &stopped).await?;
        for channel in stopped.iter().filter(|c| **c != Channel::Voice) {
            let name = contact_name(&self.access.signing, *channel, sub.chosen(*channel).unwrap_or_default());
            if self.store.contact(&name).await?.voters.iter().all(|v| *v == sub.votecal_id) {
                self.store.set_stopped(&name, true).await?;
                // (A START texted before this stop, handled after it, does not undo it.)
                if *channel == Channel::Sms {
                    self.store.stop_sent_at(&name, now.timestamp_millis()).await?;
                }
            }
        }
        Ok(())
    }

    /// Applies a change whose code was entered (`again`: entered once more, to finish it), with
    /// what the county's summary counts of it in `counts`.
    async fn apply_change(&self, change: &PendingChange, current: Option<Subscription>, again: bool, now: DateTime<Utc>, tally: &mut Tally, counts: &mut CountyDays) -> Result<(), PipelineError> {
        match &change.action {
            ChangeAction::View => {}
            ChangeAction::Stop { channels } => {
                if let (true, Some(mut sub)) = (change.approved, current) {
                    let before = sub.clone();
                    let changed = sub.stop(channels, now);
                    // Remembered before the subscription is written, from what it will hold (so a
                    // change finished again after a failure remembers it too): each contact
                    // remembers this voter's stop of each channel, for this voter alone (calls,
                    // and a household's shared phone or inbox), past the erasure of the
                    // subscription's addresses, so a signups file does not restart it. A phone
                    // (texts) or an email address no other voter has remembers it for everyone
                    // (a phone starts again by START, an address by a code entered for it).
                    self.remember_own_stops(&sub, channels, now).await?;
                    let mut counted = false;
                    if changed {
                        match self.replace_subscription(&sub, Some(&before)).await {
                            Ok(_) => {
                                counts.count_stops(now, &before, &sub, Counted::OptedOut);
                                counted = true;
                            }
                            // Another writer got there first (a STOP text, the other of a double
                            // tap): the stop is made on what is there now, if it still changes it.
                            Err(PipelineError::Store(StoreError::Conflict(_))) => {
                                if let Some((b, a)) = self.update_subscription(&sub.votecal_id, now, |s| s.stop(channels, now)).await? {
                                    counts.count_stops(now, &b, &a, Counted::OptedOut);
                                    counted = true;
                                }
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    if !counted && again {
                        // Stopped by the attempt that failed before it could count: the contacts
                        // live when the stop was asked for are what it stopped.
                        let mut asked = sub.clone();
                        for (c, a) in change.previous.iter().filter(|(c, _)| channels.is_empty() || channels.contains(c)) {
                            asked.set_address(*c, Some(a.clone()));
                        }
                        counts.count_stops(now, &asked, &sub, Counted::OptedOut);
                    }
                }
            }
            ChangeAction::Choices { .. } => {
                let Some(mut sub) = change.applied_choices(current.as_ref()) else { return Ok(()) };
                // What a signups file last said stays known: sent again, it does not undo this.
                sub.file_row = current.as_ref().and_then(|c| c.file_row);
                // A stop made after the change was asked for stands (a code entered later is no
                // new consent), and a phone that texted STOP starts again only by START.
                if let Some(current) = &current {
                    sub.keep_stops_since(current, change.created_at);
                }
                if let Some(phone) = sub.address(Channel::Sms) {
                    if self.store.contact(&contact_name(&self.access.signing, Channel::Sms, phone)).await?.stopped {
                        sub.stop(&[Channel::Sms], now);
                    }
                }
                // An email address that unsubscribed starts again only by a code entered for it
                // in this change (the voter's new consent); otherwise its stop stands.
                if let Some(email) = sub.address(Channel::Email).map(str::to_string) {
                    let name = contact_name(&self.access.signing, Channel::Email, &email);
                    if change.targets.iter().any(|t| t.used && t.proves && same_contact((t.via, &t.address), (Channel::Email, &email))) {
                        self.store.set_stopped(&name, false).await?;
                    } else if self.store.contact(&name).await?.stopped {
                        sub.stop(&[Channel::Email], now);
                    }
                }
                if sub.channels().is_empty() {
                    // Nothing would be live (as `applied_choices` answers): nothing changes.
                    return Ok(());
                }
                let keys = &self.access.signing;
                for (c, a) in sub.channels().into_iter().map(|(c, a)| (c, a.to_string())).collect::<Vec<_>>() {
                    if !self.store.link_contact(&contact_name(keys, c, &a), &sub.votecal_id, MAX_VOTERS_PER_CONTACT).await? {
                        // Taken by other voters meanwhile: keep what was live on this channel.
                        sub.set_address(c, current.as_ref().and_then(|s| s.address(c)).map(str::to_string));
                    }
                }
                if current.as_ref() == Some(&sub) {
                    // Nothing to change; a change finished again (its code entered once more
                    // after a failure) still owes its notices and welcome, which send nothing twice.
                    if again {
                        // Applied by the attempt that failed before it could count: counted as
                        // if the contacts live when it was asked for were live until now.
                        count_change(counts, change, &change.previous, &sub, now);
                        let now_live: Vec<(Channel, String)> = sub.channels().into_iter().map(|(c, a)| (c, a.to_string())).collect();
                        if !change.previous.is_empty() && !same_contacts(&now_live, &change.previous) {
                            self.tell_previous_contacts(change, current.as_ref(), sub.language, now).await?;
                        }
                        self.welcome_but(&sub, &change.awaiting(&sub), now, tally).await?;
                    }
                    return Ok(());
                }
                if let Some(old) = &current {
                    // Every contact the voter had chosen and no longer has, stopped or not, lets
                    // go of the voter (else a stopped one replaced here would name the voter
                    // past the erasure of the subscription's addresses).
                    let chosen = |s: &Subscription| Channel::ALL.into_iter().filter_map(|c| s.chosen(c).map(|a| (c, a.to_string()))).collect::<Vec<_>>();
                    let now_chosen = chosen(&sub);
                    for (c, a) in chosen(old) {
                        let a = a.as_str();
                        // (The same contact however spelled: an inbox's other spelling keeps it.)
                        let kept = now_chosen.iter().any(|(nc, na)| contact_name(keys, *nc, na) == contact_name(keys, c, a));
                        if !kept {
                            self.store.unlink_contact(&contact_name(keys, c, a), &sub.votecal_id).await?;
                        }
                    }
                }
                // The voter chose these channels again, with a code: their own stops of them
                // are forgotten. A channel the voter took away (or moved to another address) is
                // remembered as stopped on its old contact, for this voter: a signups file that
                // still names it does not bring it back.
                self.clear_own_stops(&sub, &Channel::ALL).await?;
                if let Some(old) = &current {
                    let mut dropped = old.clone();
                    for c in Channel::ALL {
                        if old.address(c).is_some() && old.address(c).zip(sub.address(c)).is_none_or(|(a, b)| contact_name(keys, c, a) != contact_name(keys, c, b)) {
                            dropped.stop(&[c], now);
                        }
                    }
                    let gone: Vec<Channel> = Channel::ALL.into_iter().filter(|c| old.address(*c).is_some() && dropped.address(*c).is_none()).collect();
                    self.mark_own_stops(&dropped, &gone).await?;
                }
                self.replace_subscription(&sub, current.as_ref()).await?;
                let live_before: Vec<(Channel, String)> = current.as_ref().map(|c| c.channels().into_iter().map(|(c, a)| (c, a.to_string())).collect()).unwrap_or_default();
                count_change(counts, change, &live_before, &sub, now);
                let now_live: Vec<(Channel, String)> = sub.channels().into_iter().map(|(c, a)| (c, a.to_string())).collect();
                if !change.previous.is_empty() && !same_contacts(&now_live, &change.previous) {
                    self.tell_previous_contacts(change, current.as_ref(), sub.language, now).await?;
                }
                self.welcome_but(&sub, &change.awaiting(&sub), now, tally).await?;
            }
        }
        Ok(())
    }

    /// Tells the contacts live before a change, once each, that the contacts changed (without
    /// saying what they are now).
    async fn tell_previous_contacts(&self, change: &PendingChange, current: Option<&Subscription>, language: Language, now: DateTime<Utc>) -> Result<(), PipelineError> {
        for (c, address) in change.previous.iter().filter(|(c, _)| *c != Channel::Voice) {
            let key = format!("changed#{}#{c}", change.id);
            // Not to an address stopped since the change was asked for.
            if current.is_some_and(|s| s.chosen(*c) == Some(address.as_str()) && s.stopped.get(*c).is_some()) {
                continue;
            }
            if *c == Channel::Sms && self.store.contact(&contact_name(&self.access.signing, Channel::Sms, address)).await?.stopped {
                continue;
            }
            if self.store.claim(&key, now).await? != Claim::Claimed {
                continue;
            }
            let msg = OutgoingMessage {
                key: key.clone(),
                votecal_id: change.votecal_id.clone(),
                election_id: None,
                ballot_id: None,
                kind: MessageKind::ContactsChanged,
                channel: *c,
                language,
                to: address.clone(),
                send_at: now,
                rendered: self.catalog.render(language, MessageKind::ContactsChanged, *c, &BTreeMap::new())?,
                voice: None,
                unsubscribe_url: None,
            };
            let outcome = match self.dispatcher.dispatch(&msg).await {
                Ok(provider_id) => self.sent(&msg, provider_id, now, None),
                Err(e) => DeliveryOutcome::Failed { reason: e.to_string(), at: now, counted: None },
            };
            self.store.complete(&key, &outcome).await?;
        }
        Ok(())
    }

}

/// Whether two lists of live contacts, in channel order, are the same contacts (an inbox
/// however spelled): a voter who writes her own inbox another way is not told it changed.
fn same_contacts(a: &[(Channel, String)], b: &[(Channel, String)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|((ac, aa), (bc, ba))| ac == bc && same_contact((*ac, aa), (*bc, ba)))
}

/// Counts a change of choices that applied: a first sign-up (or one after a full stop) when its
/// first contact goes live; a change, when it first applies (the contacts live before it are
/// still those live when it was asked for).
fn count_change(counts: &mut CountyDays, change: &PendingChange, live_before: &[(Channel, String)], sub: &Subscription, now: DateTime<Utc>) {
    if live_before.is_empty() && change.previous.is_empty() {
        counts.count(now, sub.county, Counted::SignedUp);
    } else if !change.previous.is_empty() && live_before == change.previous {
        counts.count(now, sub.county, Counted::ChoicesChanged);
    }
}
