//! Stop means stop, against the ports: inbound texts (STOP, START, HELP), one-click email
//! unsubscribe, the contact index a STOP finds voters by, and erasing contact details after a
//! full stop. The decisions are in [`crate::optout`] and [`crate::signup::Subscription`].

use crate::access::contact_name;
use crate::keys::stop_mark;
use crate::limits::day;
use crate::optout::{keyword, read_unsubscribe_token, Keyword, LinkError};
use crate::daily::Counted;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::{Channel, Language, MessageKind};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What an inbound text did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundOutcome {
    pub keyword: Option<Keyword>,
    /// Subscriptions changed (stopped or started).
    pub changed: usize,
    /// The reply sent, if any.
    pub replied: Option<MessageKind>,
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// The voter's subscription, its contact details erased once past their retention after a
    /// full stop (DynamoDB's TTL deletes such items too; this covers every store).
    pub async fn live_subscription(&self, votecal_id: &str, now: DateTime<Utc>) -> Result<Option<Subscription>, PipelineError> {
        let Some(mut sub) = self.store.subscription(votecal_id).await? else { return Ok(None) };
        if sub.due_for_erasure(now) {
            let before = sub.clone();
            for c in Channel::ALL {
                if let Some(a) = sub.chosen(c) {
                    self.store.unlink_contact(&contact_name(&self.access.signing, c, a), votecal_id).await?;
                }
            }
            sub.erase_contacts();
            self.replace_subscription(&sub, Some(&before)).await?;
            // Read again: what a later write checks against is what was just stored.
            return Ok(self.store.subscription(votecal_id).await?);
        }
        Ok(Some(sub))
    }

    /// Reads a voter's subscription, changes it by `change` (false: nothing to change) and writes
    /// it, from a fresh read again if another writer got there first (up to five tries): for
    /// changes right to make on whatever is there now, as stops are. Returns it before and after.
    pub(crate) async fn update_subscription(&self, votecal_id: &str, now: DateTime<Utc>, change: impl Fn(&mut Subscription) -> bool) -> Result<Option<(Subscription, Subscription)>, PipelineError> {
        let mut tries = 1;
        loop {
            let read = match self.live_subscription(votecal_id, now).await {
                // Its erasure lost a race: read again.
                Err(PipelineError::Store(StoreError::Conflict(_))) if tries < 5 => {
                    tries += 1;
                    continue;
                }
                read => read?,
            };
            let Some(mut sub) = read else { return Ok(None) };
            let before = sub.clone();
            if !change(&mut sub) {
                return Ok(None);
            }
            match self.replace_subscription(&sub, Some(&before)).await {
                Err(PipelineError::Store(StoreError::Conflict(_))) if tries < 5 => tries += 1,
                Err(e) => return Err(e),
                // Already so (the same stop at the same moment, delivered twice): not counted again.
                Ok(false) => return Ok(None),
                Ok(true) => return Ok(Some((before, sub))),
            }
        }
    }

    /// Writes a subscription read as `base` and changed, only while it is still `base`: one that
    /// changed meanwhile (a STOP, a bounce, a code, a file's row at the same moment) is a
    /// `Conflict`, and the caller's work is done again from a fresh read (the queue's message or
    /// the file's part is retried; the voter is asked to try again). Writing what is stored
    /// already (a double tap, a retry) is done: true when it wrote, false when the store already
    /// held exactly this.
    pub(crate) async fn replace_subscription(&self, sub: &Subscription, base: Option<&Subscription>) -> Result<bool, PipelineError> {
        match self.store.replace_subscription(sub, base).await {
            Err(StoreError::Conflict(_)) if self.store.subscription(&sub.votecal_id).await?.as_ref() == Some(sub) => Ok(false),
            r => r.map(|()| true).map_err(Into::into),
        }
    }

    /// A `signups` file's subscription keeps the stops of the one it replaces, and stays stopped
    /// where its contact remembers a stop (even once the old subscription's addresses are erased,
    /// 30 days after a full stop): a phone that texted STOP or an email address that
    /// unsubscribed, for every voter; a channel this voter stopped on the page, for this voter.
    pub(crate) async fn keep_stops(&self, old: Option<&Subscription>, sub: &mut Subscription, now: DateTime<Utc>) -> Result<(), PipelineError> {
        if let Some(old) = old {
            sub.keep_stops_of(old);
        }
        for (channel, _, entry) in self.live_contacts(sub, &Channel::ALL).await? {
            // (A phone's STOP is of texts: it says nothing of calls.)
            let contact_stopped = entry.stopped && channel != Channel::Voice;
            if contact_stopped || entry.stops.contains(&stop_mark(&self.access.signing, channel, &sub.votecal_id)) {
                sub.stop(&[channel], now);
            }
        }
        Ok(())
    }

    /// The contact entry of each of `channels` live in `sub`, with its name: a phone that gets
    /// texts and calls is read once.
    async fn live_contacts(&self, sub: &Subscription, channels: &[Channel]) -> Result<Vec<(Channel, String, ContactEntry)>, PipelineError> {
        let mut entries: BTreeMap<String, ContactEntry> = BTreeMap::new();
        let mut out = vec![];
        for channel in channels {
            let Some(address) = sub.address(*channel) else { continue };
            let name = contact_name(&self.access.signing, *channel, address);
            if !entries.contains_key(&name) {
                let entry = self.store.contact(&name).await?;
                entries.insert(name.clone(), entry);
            }
            out.push((*channel, name.clone(), entries[&name].clone()));
        }
        Ok(out)
    }

    /// Remembers on each contact this voter's own stop of `channels` (stopped in `sub`, their
    /// addresses still held), for that voter alone. Doing it twice is doing it once.
    pub(crate) async fn mark_own_stops(&self, sub: &Subscription, channels: &[Channel]) -> Result<(), PipelineError> {
        let keys = &self.access.signing;
        for channel in channels {
            if let Some(address) = sub.chosen(*channel).filter(|_| sub.address(*channel).is_none()) {
                self.store.mark_stop(&contact_name(keys, *channel, address), &stop_mark(keys, *channel, &sub.votecal_id), true).await?;
            }
        }
        Ok(())
    }

    /// Forgets this voter's own stops of the channels now live (chosen again on the page with a
    /// code, or started by START): reads each contact, and writes only where a mark is held.
    pub(crate) async fn clear_own_stops(&self, sub: &Subscription, channels: &[Channel]) -> Result<(), PipelineError> {
        for (channel, name, entry) in self.live_contacts(sub, channels).await? {
            let mark = stop_mark(&self.access.signing, channel, &sub.votecal_id);
            if entry.stops.contains(&mark) {
                self.store.mark_stop(&name, &mark, false).await?;
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

    /// An inbound text: STOP stops texts to that phone for every voter it serves and is
    /// acknowledged once; START starts them again; HELP (or any other text, at most once a day,
    /// never to a stopped phone) gets the program's help. Each inbound message is answered once
    /// however often it is delivered.
    pub async fn inbound_text(&self, from: &str, body: &str, message_id: &str, now: DateTime<Utc>, tally: &mut Tally) -> Result<InboundOutcome, PipelineError> {
        self.inbound_text_sent(from, body, message_id, now, now, tally).await
    }

    /// [`Self::inbound_text`] of a text SNS published at `sent_at`: a START published before the
    /// phone's latest STOP (handled after it: two-way SMS keeps no order, and a START whose
    /// handling failed comes again later) is not taken, and not answered. The rule is one way: a
    /// STOP handled after a later START (its reply failed, and it came again) still stops.
    /// Between a voter's two last words, the one that stops wins.
    pub async fn inbound_text_sent(&self, from: &str, body: &str, message_id: &str, sent_at: DateTime<Utc>, now: DateTime<Utc>, tally: &mut Tally) -> Result<InboundOutcome, PipelineError> {
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
                // Its time first: a START sent before it and handled meanwhile is not taken.
                self.store.stop_sent_at(&name, sent_at.timestamp_millis()).await?;
                changed = self.stop_where(Channel::Sms, |s| s.chosen(Channel::Sms) == Some(from), subs.iter().map(|s| s.votecal_id.as_str()), now, tally).await?;
                // One acknowledgement per opt-out: a second STOP is answered with silence. (The
                // phone is marked stopped below, once the answer went: a lost answer is sent
                // again when the text is delivered again.)
                (!entry.stopped || changed > 0).then_some(MessageKind::OptedOut)
            }
            Some(Keyword::Start) if entry.stop_sent_at.is_some_and(|stop| stop > sent_at.timestamp_millis()) => None,
            Some(Keyword::Start) => {
                // Its time first: a stop the hotline was asked for before it, whose row is read
                // after it, leaves these texts be (a county's row stops them all the same).
                self.store.start_sent_at(&name, sent_at.timestamp_millis()).await?;
                // The phone wants texts again. A voter's own stop on the page of texts to a phone
                // other voters' texts go to is hers to lift (with a code, on the page): whoever
                // texts START from a household's phone may not be her. A phone only her texts go
                // to is hers; of a phone no voter's texts go to any more (their numbers erased,
                // or moved away), no stop of texts stands: a later signups file naming it for a
                // voter whose number was erased finds it started.
                let keys = &self.access.signing;
                let own = |votecal_id: &str| entry.stops.contains(&stop_mark(keys, Channel::Sms, votecal_id));
                let shared = subs.len() > 1;
                let restarting: Vec<&Subscription> = subs.iter().filter(|s| !(shared && own(&s.votecal_id))).collect();
                for sub in &restarting {
                    let start = |s: &mut Subscription| s.chosen(Channel::Sms) == Some(from) && s.start(Channel::Sms);
                    if self.update_subscription(&sub.votecal_id, now, start).await?.is_some() {
                        changed += 1;
                    }
                }
                let lifted: Vec<String> = match subs.as_slice() {
                    [] => entry.stops.iter().filter(|m| m.starts_with(&format!("{}-", Channel::Sms.as_str()))).cloned().collect(),
                    [only] => vec![stop_mark(keys, Channel::Sms, &only.votecal_id)],
                    _ => vec![],
                };
                for mark in lifted.iter().filter(|m| entry.stops.contains(m)) {
                    self.store.mark_stop(&name, mark, false).await?;
                }
                self.store.set_stopped(&name, false).await?;
                // "You will get ballot texts again" only where some voter's texts will come: a
                // phone nobody's texts go to any more, or whose every voter stopped hers on the
                // page, is told that none are set up for it.
                Some(if restarting.is_empty() { MessageKind::OptedInNone } else { MessageKind::OptedIn })
            }
            Some(Keyword::Help) => Some(MessageKind::Help),
            None => {
                let (today, day_end) = day(now);
                let first_today = self.store.bump(&format!("autoreply#{name}#{today}"), day_end).await? == 1;
                (first_today && !entry.stopped).then_some(MessageKind::Help)
            }
        };
        // A STOP is remembered before its reply goes: a reply that fails for good must not leave
        // the phone unmarked past the erasure of its voters' addresses.
        if kw == Some(Keyword::Stop) {
            self.store.set_stopped(&name, true).await?;
        }
        let Some(kind) = reply else {
            return Ok(InboundOutcome { keyword: kw, changed, replied: None });
        };
        let key = format!("inbound#{message_id}");
        if self.store.claim(&key, now).await? != Claim::Claimed {
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
            Ok(provider_id) => self.store.complete(&key, &self.sent(&msg, provider_id, now, None)).await?,
            Err(e) => {
                // Let the redelivery answer: the claim is given back.
                self.store.release(&key).await?;
                return Err(PipelineError::Send(e));
            }
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

    /// One-click unsubscribe: stops email to the address the link was sent to, for the voter the
    /// link names and every other voter whose email it is (a household's shared inbox said stop,
    /// as a shared phone's STOP does), even once the voter it names has moved to another
    /// address or been erased. (A link made before links carried the address's name works only
    /// while the address is still its voter's.) Doing it twice is doing it once.
    pub async fn unsubscribe(&self, token: &str, now: DateTime<Utc>, tally: &mut Tally) -> Result<Result<Language, LinkError>, PipelineError> {
        let keys = &self.access.signing;
        let (voter, tag) = match read_unsubscribe_token(keys, token, now) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let named = self.live_subscription(&voter, now).await?;
        let language = named.as_ref().map_or(Language::En, |s| s.language);
        let held = named.as_ref().and_then(|s| s.chosen(Channel::Email)).filter(|e| crate::optout::link_is_for(keys, &tag, e));
        let Some(name) = held.map(|e| contact_name(keys, Channel::Email, e)).or_else(|| crate::optout::link_contact(&tag).map(str::to_string)) else {
            return Ok(Ok(language));
        };
        let mut voters = if held.is_some() { vec![voter.clone()] } else { vec![] };
        for v in self.store.contact(&name).await?.voters {
            if !voters.contains(&v) {
                voters.push(v);
            }
        }
        let here = |s: &Subscription| s.chosen(Channel::Email).is_some_and(|e| contact_name(keys, Channel::Email, e) == name);
        self.stop_where(Channel::Email, here, voters.iter().map(String::as_str), now, tally).await?;
        // The address remembers it said stop, past the erasure of the subscriptions' addresses.
        self.store.set_stopped(&name, true).await?;
        Ok(Ok(language))
    }

    /// Stops `channel` for each of `voters` whose subscription `pick` picks (its `channel` going to
    /// a phone that said STOP, an address whose unsubscribe link was followed, a phone a 9 was
    /// pressed on, or a contact the hotline was asked to stop: `stop_requests.rs`), each counted
    /// as an opt-out. The pick is made on what the write replaces. Returns how many it stopped.
    pub(crate) async fn stop_where(&self, channel: Channel, pick: impl Fn(&Subscription) -> bool, voters: impl IntoIterator<Item = &str>, now: DateTime<Utc>, tally: &mut Tally) -> Result<usize, PipelineError> {
        let mut changed = 0;
        for v in voters {
            let stop = |s: &mut Subscription| pick(s) && s.stop(&[channel], now);
            if let Some((before, after)) = self.update_subscription(v, now, stop).await? {
                tally.county_days.count_stops(now, &before, &after, Counted::OptedOut);
                changed += 1;
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{AccessKeys, SigningKey};
    use crate::election::Election;
    use crate::formats::{VbmStatus, VoterRecord, VoterStatus};
    use crate::pipeline::Tally;
    use crate::signup::SignupRequest;
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
                file_row: None,
                read_as: Default::default(),
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
            let mut counted = Tally::default();
            let outcome = p.inbound_text(PHONE, "stop", "m-1", now, &mut counted).await.unwrap();
            assert_eq!((outcome.changed, outcome.replied), (1, Some(MessageKind::OptedOut)));
            p.inbound_text(PHONE, "STOP", "m-2", now, &mut counted).await.unwrap();
            let day = counted.county_days.of(crate::time::pacific_date(now), county);
            assert_eq!(day.get("opt_outs//sms"), Some(&1), "one opt-out for the county however often STOP is texted: {day:?}");

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
            let outcome = p.inbound_text(PHONE, "STOP", "m-1", t("2026-10-07T19:00:00Z"), &mut Tally::default()).await.unwrap();
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
