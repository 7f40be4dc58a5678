//! Delivery: a notification that is due is checked once more (still news, still wanted, still
//! inside the voter's hours and the message's window), claimed in the ledger, rendered, sent, and
//! its outcome recorded; a passing failure is held for a retry. And the release of held
//! notifications that have fallen due.

use crate::daily::Counted;
use crate::lifecycle::BallotJourney;
use crate::notify::{message_values, plan_send, Notification, SendPlan};
use crate::past_deadline::plan_within_deadline;
use crate::pipeline::{retry_delay, Pipeline, PipelineError, Tally, MAX_ATTEMPTS, MAX_THROTTLES, RELEASE_PAGE};
use crate::ports::*;
use crate::status::{Channel, MessageKind};
use chrono::{DateTime, Utc};

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Sends one notification if it is still current and not sent before.
    pub async fn deliver(&self, mut n: Notification, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), PipelineError> {
        let election = match &n.election_id {
            Some(id) => Some(self.election(id)?),
            None => None,
        };
        if let (Some(decision), Some(e)) = (&n.decision, election) {
            if !crate::reminders::still_asked_for(e, n.kind, n.reminder_days) {
                tally.superseded += 1;
                return Ok(());
            }
            // A cheap read first; before dropping the message, a read that cannot be stale (a
            // catch-up's journey may have been written a moment ago).
            let worth = |j: &Versioned<BallotJourney>| {
                crate::reminders::still_worth_sending(&j.value, n.kind, decision) && !crate::reminders::just_mailed_again(&j.value, n.kind, now)
            };
            let mut current = self.store.recent_journey(e.id(), &n.votecal_id).await?.filter(worth);
            if current.is_none() {
                current = self.store.journey(e.id(), &n.votecal_id).await?.filter(worth);
                if current.is_none() {
                    tally.superseded += 1;
                    return Ok(());
                }
            }
            // A cure reminder, and a problem's verdict, give the reason the ballot has now.
            let calls_to_fix = n.kind == MessageKind::CureReminder || crate::past_deadline::told_as_not_accepted(n.kind, decision.milestone);
            if let (true, Some(j)) = (calls_to_fix, &current) {
                let code = crate::reminders::current_code(&j.value, decision);
                if let Some(d) = n.decision.as_mut() {
                    d.code = code;
                }
            }
        }
        // The subscription as it is now: an opt-out or a move while the message was held wins.
        let Some(sub) = self.store.subscription(&n.votecal_id).await? else {
            tally.not_subscribed += 1;
            return Ok(());
        };
        let Some(to) = sub.address(n.channel).map(str::to_string) else {
            tally.not_subscribed += 1;
            return self.count_held_not_reached(&n, &sub, election, now, tally).await;
        };
        if (sub.county != n.county && !self.old_countys_news_still_hers(&n, &sub).await?) || (n.kind == MessageKind::MovedCounty && !self.still_moved(&sub, election).await?) {
            tally.moved_county += 1;
            return Ok(());
        }
        if self.moved_since_planned(&n, &sub, election, now, tally).await? {
            return Ok(());
        }
        // Re-check the hours, the window and the message's own deadline: a retry or a release
        // may land outside them (a call to fix a problem past its deadline is "not accepted").
        let mut not_before = election.map(|e| e.county_window_opens(n.county));
        // A problem's verdict waits for the certification day the election has now.
        if n.verdict {
            match crate::past_deadline::verdict_due(&n, election, sub.hours) {
                Some(due) => not_before = not_before.max(Some(due)),
                None => {
                    tally.superseded += 1;
                    return Ok(());
                }
            }
        }
        match plan_within_deadline(&mut n, election, plan_send(now, election, sub.hours, not_before), now) {
            SendPlan::Now => {}
            SendPlan::HoldUntil(at) => {
                n.release_at = at;
                self.store.hold(&n).await?;
                tally.held += 1;
                return Ok(());
            }
            // A reminder past its deadline has nothing left to remind of, nor news of a mailing
            // after the polls closed (each says to act by election day), nor a problem to fix
            // once the tracking window has closed: dropped, not failed (for the last, unless
            // tries to send it failed first: then it failed, and the county counts it).
            SendPlan::TooLate
                if n.kind.is_reminder()
                    || matches!(n.kind, MessageKind::Outbound | MessageKind::Reissued | MessageKind::Undeliverable)
                    || (n.kind == MessageKind::ContactCounty && n.attempts == 0 && n.throttled == 0) =>
            {
                tally.superseded += 1;
                return Ok(());
            }
            SendPlan::TooLate => {
                if self.store.claim(&n.key, now).await? == Claim::Claimed {
                    let reason = "the election's tracking window closed before it could be sent".to_string();
                    self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                }
                tally.too_late += 1;
                return Ok(());
            }
        }
        match self.store.claim(&n.key, now).await? {
            Claim::Claimed => {}
            Claim::Done => {
                tally.duplicates += 1;
                return Ok(());
            }
            Claim::InProgress => {
                n.release_at = now + retry_delay(n.tries());
                self.store.hold(&n).await?;
                tally.retried += 1;
                return Ok(());
            }
        }
        // A language without templates falls back to English, and the message says so.
        let language = if self.catalog.has(sub.language) { sub.language } else { crate::status::Language::En };
        let t = self.catalog.language(language);
        // Not accepted, told after the polls closed, no longer points to Election Day.
        let wording = crate::wording::Wording::at(n.kind, election, now);
        let mut values = message_values(t, language, election, n.county, n.decision.as_ref(), sub.hours, wording);
        // Every email carries a one-click unsubscribe link (RFC 8058) when the API's URL is known.
        let unsubscribe_url = match (n.channel, &self.access.public_url) {
            (Channel::Email, Some(base)) => Some(crate::optout::unsubscribe_url(base, &self.access.signing, &n.votecal_id, &to, now)),
            _ => None,
        };
        if let Some(url) = &unsubscribe_url {
            values.insert("unsubscribe_url", url.clone());
        }
        // Where the voter changes their choices: the page, at the same address as the API.
        if let (Channel::Email, Some(base)) = (n.channel, &self.access.public_url) {
            values.insert("page_url", format!("{}/", base.trim_end_matches('/')));
        }
        let rendered = self.catalog.render_as(language, wording, n.channel, &values)?;
        let voice = match n.channel {
            Channel::Voice => match self.voice.rendering_as(sub.language, wording) {
                Ok(v) => Some(v),
                Err(reason) => {
                    // Never a call in the wrong voice: recorded as failed, with the reason.
                    self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                    tally.failed += 1;
                    tally.county_days.count(now, n.county, Counted::SendFailed(n.kind, n.channel));
                    return Ok(());
                }
            },
            _ => None,
        };
        let msg = OutgoingMessage {
            key: n.key.clone(),
            votecal_id: n.votecal_id.clone(),
            election_id: n.election_id.clone(),
            ballot_id: n.decision.as_ref().and_then(|d| d.ballot_id.clone()).filter(|b| b != crate::lifecycle::UNKNOWN_BALLOT),
            kind: n.kind,
            channel: n.channel,
            language,
            to,
            send_at: now,
            rendered,
            voice,
            unsubscribe_url,
        };
        match self.dispatcher.dispatch(&msg).await {
            Ok(provider_id) => {
                // Sent: the record of it must not be lost, or the claim would expire and the
                // message go out again. Retry the write here rather than fail the message.
                let outcome = self.sent(&msg, provider_id, now, Some(n.tag()));
                let mut attempt = 0;
                while let Err(e) = self.store.complete(&n.key, &outcome).await {
                    attempt += 1;
                    if attempt >= 5 {
                        return Err(e.into());
                    }
                }
                *tally.sent.entry(n.channel.to_string()).or_default() += 1;
                tally.county_days.count(now, n.county, Counted::Sent(n.kind, n.channel));
            }
            Err(DeliveryError::Permanent(reason)) => {
                self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                tally.failed += 1;
                tally.county_days.count(now, n.county, Counted::SendFailed(n.kind, n.channel));
            }
            Err(e @ (DeliveryError::Throttled | DeliveryError::Temporary(_))) => {
                self.store.release(&n.key).await?;
                // A throttle is the provider's "not now" (a full quota of calls, say): it backs
                // off like a failure but counts apart, and is given up only after 48 tries
                // (days of hourly tries), or when the message's window ends (`plan_send`).
                match e {
                    DeliveryError::Throttled => n.throttled += 1,
                    _ => n.attempts += 1,
                }
                if n.attempts >= MAX_ATTEMPTS || n.throttled >= MAX_THROTTLES {
                    let reason = match e {
                        DeliveryError::Throttled => format!("gave up after {} throttled attempts", n.throttled),
                        _ => format!("gave up after {} attempts: {e}", n.attempts),
                    };
                    // Only if no other copy of the message (a redelivery) has claimed or sent it
                    // meanwhile: its record is not overwritten, nor the message counted twice.
                    if self.store.claim(&n.key, now).await? == Claim::Claimed {
                        self.store.complete(&n.key, &DeliveryOutcome::Failed { reason, at: now, counted: Some(n.tag()) }).await?;
                        tally.failed += 1;
                        tally.county_days.count(now, n.county, Counted::SendFailed(n.kind, n.channel));
                    }
                } else {
                    n.release_at = now + retry_delay(n.tries());
                    self.store.hold(&n).await?;
                    tally.retried += 1;
                }
            }
        }
        Ok(())
    }

    /// Releases every held notification due at `now`, a page at a time.
    pub async fn release_due(&self, now: DateTime<Utc>, tally: &mut Tally) -> Result<usize, PipelineError> {
        let mut count = 0;
        loop {
            let page = self.store.take_due(now, RELEASE_PAGE).await?;
            if page.is_empty() {
                return Ok(count);
            }
            count += page.len();
            let mut due = page.into_iter();
            while let Some(n) = due.next() {
                if let Err(e) = self.deliver(n.clone(), now, tally).await {
                    // Nothing taken is lost: this one and the rest wait for the next release (the
                    // ledger keeps a message that did go out from going again).
                    for waiting in std::iter::once(n).chain(due) {
                        self.store.hold(&waiting).await?;
                    }
                    return Err(e);
                }
            }
        }
    }
}
