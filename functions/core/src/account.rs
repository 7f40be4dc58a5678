//! The voter in control: requests that need a code (sign up, change choices, stop), entering a
//! code, inbound texts (STOP, START, HELP), one-click email unsubscribe, and erasing contact
//! details after a full stop. The decisions are in [`crate::access`] and [`crate::optout`];
//! this module runs them against the ports.

use crate::access::{contact_name, CodeRefusal, CodeToSend, PendingChange, ChangeAction};
use crate::access::{MAX_CODES_PER_CONTACT_PER_DAY, MAX_FAILED_MATCHES_PER_CLIENT, MAX_FAILED_MATCHES_PER_IDENTITY, MAX_REQUESTS_PER_VOTER, MAX_VOTERS_PER_CONTACT};
use crate::formats::VoterRecord;
use crate::optout::{keyword, read_unsubscribe_token, Keyword, LinkError};
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::{match_identity, name_and_zip, IdentityRequest, Refusal, SignupRequest, Subscription};
use crate::status::{Channel, Language, MessageKind};
use chrono::{DateTime, Duration, DurationRound, Utc};
use std::collections::BTreeMap;

/// A change that was asked for: the caller enters its codes with this id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTicket {
    pub change_id: String,
    pub expires_in_seconds: i64,
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

/// What an inbound text did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundOutcome {
    pub keyword: Option<Keyword>,
    /// Subscriptions changed (stopped or started).
    pub changed: usize,
    /// The reply sent, if any.
    pub replied: Option<MessageKind>,
}

fn day(now: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let start = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    (start.format("%Y-%m-%d").to_string(), start + Duration::days(2))
}

fn window(now: DateTime<Utc>, minutes: i64) -> (String, DateTime<Utc>) {
    let start = now.duration_trunc(Duration::minutes(minutes)).unwrap_or(now);
    (start.format("%Y-%m-%dT%H%M").to_string(), start + Duration::minutes(2 * minutes))
}

/// Digits spoken one by one ("4, 0, 7, ...") so a call reads a code, not a number.
fn spoken(code: &str) -> String {
    code.chars().map(String::from).collect::<Vec<_>>().join(", ")
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: VoterRoll + SubscriptionStore + JourneyStore + MessageLedger + HoldQueue + ImbCrosswalk + PendingChanges + Counters + ContactIndex,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// The voter's subscription, its contact details erased once past their retention after a
    /// full stop (DynamoDB's TTL deletes such items too; this covers every store).
    pub async fn live_subscription(&self, votecal_id: &str, now: DateTime<Utc>) -> Result<Option<Subscription>, PipelineError> {
        let Some(mut sub) = self.store.subscription(votecal_id).await? else { return Ok(None) };
        if sub.due_for_erasure(now) {
            for c in Channel::ALL {
                if let Some(a) = sub.chosen(c) {
                    self.store.unlink_contact(&contact_name(&self.access.signing, c, a), votecal_id).await?;
                }
            }
            sub.erase_contacts();
            self.store.put_subscription(&sub).await?;
        }
        Ok(Some(sub))
    }

    /// A `signups` file's subscription keeps the stops of the one it replaces, and a phone that
    /// texted STOP stays stopped.
    pub(crate) async fn keep_stops(&self, old: Option<&Subscription>, sub: &mut Subscription, now: DateTime<Utc>) -> Result<(), PipelineError> {
        if let Some(old) = old {
            sub.keep_stops_of(old);
        }
        if let Some(phone) = sub.address(Channel::Sms) {
            if self.store.contact(&contact_name(&self.access.signing, Channel::Sms, phone)).await?.sms_stopped {
                sub.stop(&[Channel::Sms], now);
            }
        }
        Ok(())
    }

    /// Files the subscription's contacts in the contact index (so a STOP from a phone finds every
    /// voter it serves), and takes out the ones it no longer has. Contacts from a `signups` file
    /// were proven elsewhere: the household limit is the API's, not the file's.
    pub(crate) async fn index_contacts(&self, old: Option<&Subscription>, sub: &Subscription) -> Result<(), PipelineError> {
        let keys = &self.access.signing;
        for c in Channel::ALL {
            if let Some(a) = sub.chosen(c) {
                self.store.link_contact(&contact_name(keys, c, a), &sub.votecal_id, usize::MAX).await?;
            }
        }
        if let Some(old) = old {
            for c in Channel::ALL {
                let Some(a) = old.chosen(c) else { continue };
                let kept = Channel::ALL.iter().any(|nc| sub.chosen(*nc).is_some_and(|na| contact_name(keys, *nc, na) == contact_name(keys, c, a)));
                if !kept {
                    self.store.unlink_contact(&contact_name(keys, c, a), &sub.votecal_id).await?;
                }
            }
        }
        Ok(())
    }

    /// Matches who the caller says they are against the roll, with the abuse limits: failed
    /// matches per name and ZIP and per client address lock for a while; a voter's requests are
    /// limited per 10 minutes.
    async fn identify(&self, who: &IdentityRequest, client: &str, now: DateTime<Utc>) -> Result<Result<VoterRecord, Refused>, PipelineError> {
        let keys = &self.access.signing;
        let (today, day_end) = day(now);
        let (hour, hour_end) = window(now, 60);
        let identity = format!("fail-id#{}#{today}", keys.name("identity", &name_and_zip(&who.first_name, &who.last_name, &who.zip)));
        let from = format!("fail-ip#{}#{hour}", keys.name("client", &crate::access::client_network(client)));
        if self.store.count(&identity, now).await? >= MAX_FAILED_MATCHES_PER_IDENTITY || self.store.count(&from, now).await? >= MAX_FAILED_MATCHES_PER_CLIENT {
            return Ok(Err(Refusal::Locked.into()));
        }
        let candidates = self.store.voters_by_identity(&who.identity()).await?;
        let voter = match match_identity(&who.identity(), who.votecal_id.as_deref(), &candidates) {
            Ok(v) => v.clone(),
            Err(refusal) => {
                if refusal != Refusal::NeedsVotecalId {
                    self.store.bump(&identity, day_end).await?;
                    self.store.bump(&from, hour_end).await?;
                }
                return Ok(Err(refusal.into()));
            }
        };
        let (slot, slot_end) = window(now, crate::signup::MIN_MINUTES_BETWEEN_CHANGES);
        if self.store.bump(&format!("requests#{}#{slot}", keys.name("voter", &voter.votecal_id)), slot_end).await? > MAX_REQUESTS_PER_VOTER {
            return Ok(Err(Refusal::TryLater.into()));
        }
        Ok(Ok(voter))
    }

    /// Counts a code for each contact a change sends to; refuses the change when one has had
    /// its codes for the day.
    async fn count_codes(&self, change: &PendingChange, now: DateTime<Utc>) -> Result<Result<(), Refused>, PipelineError> {
        let (today, day_end) = day(now);
        for t in &change.targets {
            let key = format!("codes#{}#{today}", contact_name(&self.access.signing, t.via, &t.address));
            if self.store.bump(&key, day_end).await? > MAX_CODES_PER_CONTACT_PER_DAY {
                // The field is named only for a contact the caller typed: naming one of the
                // voter's own contacts would tell a stranger how the voter is reached.
                return Ok(Err(Refused { refusal: Refusal::TooManyCodes, field: t.proves.then_some(t.via) }));
            }
        }
        Ok(Ok(()))
    }

    /// Sends a change's codes at once (a voter is waiting for them: no quiet hours, no queue). A
    /// call speaks the code with Polly in the voter's language, or in English where Polly does
    /// not speak it (a recording cannot say a new code).
    async fn send_codes(&self, change: &PendingChange, codes: &[CodeToSend], language: Language, now: DateTime<Utc>) -> Result<(), PipelineError> {
        for c in codes {
            let t = &change.targets[c.target];
            if t.via == Channel::Sms && self.store.contact(&contact_name(&self.access.signing, Channel::Sms, &t.address)).await?.sms_stopped {
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
            self.dispatcher.dispatch(&msg).await.map_err(PipelineError::Send)?;
        }
        Ok(())
    }

    /// A sign-up or a change of choices from the API: nothing changes yet; codes go to each new
    /// contact and, when the voter has proven contacts, to those (to approve the change).
    pub async fn request_signup(&self, request: &SignupRequest, client: &str, now: DateTime<Utc>) -> Result<Result<ChangeTicket, Refused>, PipelineError> {
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
            if c == Channel::Sms && entry.sms_stopped {
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
        if let Err(r) = self.count_codes(&change, now).await? {
            return Ok(Err(r));
        }
        self.store.put_change(&change, None).await?;
        self.send_codes(&change, &codes, language, now).await?;
        Ok(Ok(ChangeTicket { change_id: change.id.clone(), expires_in_seconds: (change.expires_at - now).num_seconds() }))
    }

    /// A code entered for a change (`view`: for "my ballot", otherwise a change of choices or a
    /// stop; a code of the other kind is a wrong code). A right code is used up and the change
    /// applies as far as it now can (see [`PendingChange::applied_choices`]). Returns the change.
    pub async fn enter_code(&self, change_id: &str, code: &str, view: bool, now: DateTime<Utc>, tally: &mut Tally) -> Result<Result<PendingChange, CodeRefusal>, PipelineError> {
        // The code is used up (or counted wrong) by a conditional write first, so parallel
        // guesses cannot each try a code against the same state; only then does it apply.
        let change = loop {
            let Some(stored) = self.store.change(change_id).await? else { return Ok(Err(CodeRefusal::Expired)) };
            let mut change = stored.value;
            if (change.action == ChangeAction::View) != view {
                return Ok(Err(CodeRefusal::WrongCode));
            }
            let before = change.clone();
            let result = change.enter_code(&self.access.signing, code, now);
            if change != before {
                match self.store.put_change(&change, Some(stored.version)).await {
                    Ok(_) => {}
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            match result {
                Ok(()) => break change,
                Err(r) => return Ok(Err(r)),
            }
        };
        let current = self.live_subscription(&change.votecal_id, now).await?;
        if change.stale(current.as_ref()) {
            return Ok(Err(CodeRefusal::Expired));
        }
        self.apply_change(&change, current, now, tally).await?;
        Ok(Ok(change))
    }

    async fn apply_change(&self, change: &PendingChange, current: Option<Subscription>, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        match &change.action {
            ChangeAction::View => {}
            ChangeAction::Stop { channels } => {
                if let (true, Some(mut sub)) = (change.approved, current) {
                    if sub.stop(channels, now) {
                        self.store.put_subscription(&sub).await?;
                    }
                }
            }
            ChangeAction::Choices { .. } => {
                let Some(mut sub) = change.applied_choices(current.as_ref()) else { return Ok(()) };
                let keys = &self.access.signing;
                for (c, a) in sub.channels().into_iter().map(|(c, a)| (c, a.to_string())).collect::<Vec<_>>() {
                    if !self.store.link_contact(&contact_name(keys, c, &a), &sub.votecal_id, MAX_VOTERS_PER_CONTACT).await? {
                        // Taken by other voters meanwhile: keep what was live on this channel.
                        sub.set_address(c, current.as_ref().and_then(|s| s.address(c)).map(str::to_string));
                    }
                }
                if current.as_ref() == Some(&sub) {
                    return Ok(());
                }
                if let Some(old) = &current {
                    for (c, a) in old.channels() {
                        let kept = sub.channels().iter().any(|(nc, na)| (*nc == Channel::Email) == (c == Channel::Email) && na.eq_ignore_ascii_case(a));
                        if !kept {
                            self.store.unlink_contact(&contact_name(keys, c, a), &sub.votecal_id).await?;
                        }
                    }
                }
                self.store.put_subscription(&sub).await?;
                let now_live: Vec<(Channel, String)> = sub.channels().into_iter().map(|(c, a)| (c, a.to_string())).collect();
                if !change.previous.is_empty() && now_live != change.previous {
                    self.tell_previous_contacts(change, sub.language, now).await?;
                }
                self.welcome(&sub, now, tally).await?;
            }
        }
        Ok(())
    }

    /// Tells the contacts live before a change, once each, that the contacts changed (without
    /// saying what they are now).
    async fn tell_previous_contacts(&self, change: &PendingChange, language: Language, now: DateTime<Utc>) -> Result<(), PipelineError> {
        for (c, address) in change.previous.iter().filter(|(c, _)| *c != Channel::Voice) {
            let key = format!("changed#{}#{c}", change.id);
            if *c == Channel::Sms && self.store.contact(&contact_name(&self.access.signing, Channel::Sms, address)).await?.sms_stopped {
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
                Ok(provider_id) => DeliveryOutcome::Sent { provider_id, at: now },
                Err(e) => DeliveryOutcome::Failed { reason: e.to_string(), at: now },
            };
            self.store.complete(&key, &outcome).await?;
        }
        Ok(())
    }

    /// An inbound text: STOP stops texts to that phone for every voter it serves and is
    /// acknowledged once; START starts them again; HELP (or any other text, at most once a day,
    /// never to a stopped phone) gets the program's help. Each inbound message is answered once
    /// however often it is delivered.
    pub async fn inbound_text(&self, from: &str, body: &str, message_id: &str, now: DateTime<Utc>) -> Result<InboundOutcome, PipelineError> {
        let kw = keyword(body);
        let name = contact_name(&self.access.signing, Channel::Sms, from);
        let entry = self.store.contact(&name).await?;
        let mut subs = vec![];
        for v in &entry.voters {
            if let Some(sub) = self.live_subscription(v, now).await? {
                if sub.chosen(Channel::Sms) == Some(from) {
                    subs.push(sub);
                }
            }
        }
        let language = subs.first().map_or(Language::En, |s| s.language);
        let mut changed = 0;
        let reply = match kw {
            Some(Keyword::Stop) => {
                for sub in &mut subs {
                    if sub.stop(&[Channel::Sms], now) {
                        self.store.put_subscription(sub).await?;
                        changed += 1;
                    }
                }
                // One acknowledgement per opt-out: a second STOP is answered with silence. (The
                // phone is marked stopped below, once the answer went: a lost answer is sent
                // again when the text is delivered again.)
                (!entry.sms_stopped || changed > 0).then_some(MessageKind::OptedOut)
            }
            Some(Keyword::Start) => {
                for sub in &mut subs {
                    if sub.start(Channel::Sms) {
                        self.store.put_subscription(sub).await?;
                        changed += 1;
                    }
                }
                self.store.set_sms_stopped(&name, false).await?;
                Some(MessageKind::OptedIn)
            }
            Some(Keyword::Help) => Some(MessageKind::Help),
            None => {
                let (today, day_end) = day(now);
                let first_today = self.store.bump(&format!("autoreply#{name}#{today}"), day_end).await? == 1;
                (first_today && !entry.sms_stopped).then_some(MessageKind::Help)
            }
        };
        let stop = kw == Some(Keyword::Stop);
        let Some(kind) = reply else {
            if stop {
                self.store.set_sms_stopped(&name, true).await?;
            }
            return Ok(InboundOutcome { keyword: kw, changed, replied: None });
        };
        let key = format!("inbound#{message_id}");
        if self.store.claim(&key, now).await? != Claim::Claimed {
            if stop {
                self.store.set_sms_stopped(&name, true).await?;
            }
            return Ok(InboundOutcome { keyword: kw, changed, replied: None });
        }
        let msg = OutgoingMessage {
            key: key.clone(),
            votecal_id: subs.first().map(|s| s.votecal_id.clone()).unwrap_or_default(),
            election_id: None,
            ballot_id: None,
            kind,
            channel: Channel::Sms,
            language,
            to: from.to_string(),
            send_at: now,
            rendered: self.catalog.render(language, kind, Channel::Sms, &BTreeMap::new())?,
            voice: None,
            unsubscribe_url: None,
        };
        match self.dispatcher.dispatch(&msg).await {
            Ok(provider_id) => self.store.complete(&key, &DeliveryOutcome::Sent { provider_id, at: now }).await?,
            Err(e) => {
                // Let the redelivery answer: the claim is given back.
                self.store.release(&key).await?;
                return Err(PipelineError::Send(e));
            }
        }
        if stop {
            self.store.set_sms_stopped(&name, true).await?;
        }
        Ok(InboundOutcome { keyword: kw, changed, replied: Some(kind) })
    }

    /// The language an unsubscribe link's page speaks (the voter's), or why the link is refused.
    pub async fn unsubscribe_language(&self, token: &str, now: DateTime<Utc>) -> Result<Result<Language, LinkError>, PipelineError> {
        let (voter, _) = match read_unsubscribe_token(&self.access.signing, token, now) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.store.subscription(&voter).await?.map_or(Language::En, |s| s.language)))
    }

    /// One-click unsubscribe: stops email for the voter the link names, while the address it was
    /// sent to is still theirs (a link to an old address no longer gets email anyway). Doing it
    /// twice is doing it once.
    pub async fn unsubscribe(&self, token: &str, now: DateTime<Utc>) -> Result<Result<Language, LinkError>, PipelineError> {
        let (voter, tag) = match read_unsubscribe_token(&self.access.signing, token, now) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let Some(mut sub) = self.live_subscription(&voter, now).await? else { return Ok(Ok(Language::En)) };
        let for_this_address = sub.chosen(Channel::Email).is_some_and(|e| crate::optout::link_is_for(&self.access.signing, &tag, e));
        if for_this_address && sub.stop(&[Channel::Email], now) {
            self.store.put_subscription(&sub).await?;
        }
        Ok(Ok(sub.language))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{AccessKeys, SigningKey};
    use crate::election::Election;
    use crate::formats::{VbmStatus, VoterStatus};
    use crate::ports::Inline;
    use crate::memory::{MemoryStore, RecordingDispatcher};
    use crate::notify::Notification;
    use crate::status::StatusCode;
    use crate::templates::Catalog;
    use crate::voice::VoicePlan;
    use crate::CountyCode;
    use std::sync::Mutex;

    const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";
    const PHONE: &str = "+19165550100";

    /// A channel queue that keeps what it is given (the delivery function runs later).
    #[derive(Default)]
    struct Queue(Mutex<Vec<Notification>>);

    impl NotificationQueue for Queue {
        async fn enqueue(&self, n: &Notification) -> Result<bool, StoreError> {
            self.0.lock().unwrap().push(n.clone());
            Ok(true)
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn random() -> [u8; 16] {
        [3; 16]
    }

    #[test]
    fn nothing_reaches_a_phone_after_stop_whether_queued_retried_held_or_caught_up() {
        futures::executor::block_on(async {
            // GIVEN a voter whose phone is live, an Outbound text on the channel queue, and a
            // Received text whose first attempt was throttled (held for its retry)
            let store = MemoryStore::default();
            let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
            let county = CountyCode::parse("19").unwrap();
            let voter = VoterRecord {
                votecal_id: "CA1".into(),
                county,
                first_name: "Ann".into(),
                last_name: "Lee".into(),
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap(),
                zip: "90012".into(),
                status: VoterStatus::Active,
            };
            store.put_voter(&voter).await.unwrap();
            let signed_up = t("2026-10-01T19:00:00Z");
            let sub = Subscription {
                votecal_id: "CA1".into(),
                county,
                language: Language::En,
                sms: Some(PHONE.into()),
                email: None,
                voice: None,
                hours: Default::default(),
                signed_up_at: signed_up,
                stopped: Default::default(),
                erase_after: None,
            };
            store.put_subscription(&sub).await.unwrap();
            store.link_contact(&contact_name(&keys.signing, Channel::Sms, PHONE), "CA1", 5).await.unwrap();
            let elections = BTreeMap::from([("E".to_string(), Election::from_toml("e", ELECTION).unwrap())]);
            let catalog = Catalog::embedded().unwrap();
            let voice = VoicePlan::default();
            let sent = RecordingDispatcher::default();
            let queue = Queue::default();
            let p = Pipeline { store: &store, dispatcher: &sent, queue: &queue, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
            let mut tally = Tally::default();
            let now = t("2026-10-06T19:00:00Z");
            let row = |status, at: &str| VbmStatus { votecal_id: "CA1".into(), county, election_id: "E".into(), ballot_id: "B1".into(), status, status_time: t(at) };
            p.apply_status(&row(StatusCode::Issued, "2026-10-05T16:00:00Z"), now, &mut tally).await.unwrap();
            let queued = queue.0.lock().unwrap().clone();
            assert_eq!(queued.len(), 1);
            p.apply_status(&row(StatusCode::InReview, "2026-10-06T16:00:00Z"), now, &mut tally).await.unwrap();
            let received = queue.0.lock().unwrap()[1].clone();
            sent.failures.lock().unwrap().push(DeliveryError::Throttled);
            p.deliver(received, now, &mut tally).await.unwrap();
            assert_eq!((tally.retried, sent.sent.lock().unwrap().len()), (1, 0), "held for its retry");

            // WHEN the voter texts STOP
            let outcome = p.inbound_text(PHONE, "stop", "m-1", now).await.unwrap();
            assert_eq!((outcome.changed, outcome.replied), (1, Some(MessageKind::OptedOut)));

            // THEN the queued text, the retry, a catch-up and anything held send nothing
            p.deliver(queued[0].clone(), now, &mut tally).await.unwrap();
            p.release_due(now + chrono::Duration::hours(2), &mut tally).await.unwrap();
            let stopped = store.subscription("CA1").await.unwrap().unwrap();
            p.welcome(&stopped, now, &mut tally).await.unwrap();
            let texts: Vec<MessageKind> = sent.sent.lock().unwrap().iter().map(|m| m.kind).collect();
            assert_eq!(texts, [MessageKind::OptedOut], "only the one confirmation of the opt-out");
            assert_eq!(store.held_count(), 0, "nothing left waiting to go out");
            // AND the stop is kept 30 days with the number (START works), then the number is erased
            assert!(stopped.erase_after.is_some());
            let later = stopped.erase_after.unwrap() + chrono::Duration::seconds(1);
            let erased = p.live_subscription("CA1", later).await.unwrap().unwrap();
            assert_eq!(erased.chosen(Channel::Sms), None);
            assert!(store.contact(&contact_name(&keys.signing, Channel::Sms, PHONE)).await.unwrap().voters.is_empty());
        });
    }

    #[test]
    fn a_stop_holds_for_voters_from_a_signups_file_even_when_the_file_comes_again() {
        futures::executor::block_on(async {
            let store = MemoryStore::default();
            let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
            let county = CountyCode::parse("19").unwrap();
            let dob = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
            store
                .put_voter(&VoterRecord { votecal_id: "CA1".into(), county, first_name: "Ann".into(), last_name: "Lee".into(), date_of_birth: dob, zip: "90012".into(), status: VoterStatus::Active })
                .await
                .unwrap();
            let elections = BTreeMap::new();
            let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
            let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
            let mut tally = Tally::default();
            let row = SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", "en", PHONE, "", "", "", "").unwrap();
            // GIVEN a voter signed up by a file (contacts proven elsewhere)
            p.signup(&row, t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
            // WHEN the phone texts STOP
            let outcome = p.inbound_text(PHONE, "STOP", "m-1", t("2026-10-07T19:00:00Z")).await.unwrap();
            // THEN the file's voter is stopped too
            assert_eq!(outcome.changed, 1, "the file's sign-up is in the contact index");
            // AND the same file delivered again a day later does not undo the STOP
            p.signup(&row, t("2026-10-08T19:00:00Z"), &mut tally).await.unwrap().unwrap();
            assert_eq!(store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
            let after_stop: Vec<MessageKind> = sent.sent.lock().unwrap().iter().map(|m| m.kind).skip_while(|k| *k != MessageKind::OptedOut).collect();
            assert_eq!(after_stop, [MessageKind::OptedOut], "nothing after the acknowledgement");
        });
    }
}
