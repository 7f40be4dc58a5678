//! Proving contacts and approving changes with one-time codes.
//!
//! A sign-up, a change of choices or a request to stop messages from the API does nothing at
//! once: it becomes a [`PendingChange`]. A code goes to every new contact (to prove it is the
//! voter's), and, when the voter already has proven contacts, to those contacts too (to approve
//! the change: someone who only knows a voter's name, date of birth and ZIP cannot redirect or
//! silence their ballot news). Codes are six digits, live [`CODE_MINUTES`] minutes, work once,
//! allow [`MAX_WRONG_CODES`] wrong tries per change, and are stored only as keyed hashes.

use crate::signup::Subscription;
use crate::status::Channel;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub use crate::keys::{client_network, contact_name, AccessKeys, SigningKey, LOCAL_PUBLIC_URL, LOCAL_SIGNING_KEY};
use crate::keys::same_contact;

/// How long a code works.
pub const CODE_MINUTES: i64 = 15;
/// Wrong codes a change allows before it is closed.
pub const MAX_WRONG_CODES: u32 = 5;
/// A phone or email address may be the contact of at most this many voters (a household).
pub const MAX_VOTERS_PER_CONTACT: usize = 5;
/// Codes one phone or email address may receive per day (UTC days).
pub const MAX_CODES_PER_CONTACT_PER_DAY: u64 = 5;
/// Failed identity matches for one name and ZIP (any birth dates) per day before it is locked.
pub const MAX_FAILED_MATCHES_PER_IDENTITY: u64 = 5;
/// Failed identity matches from one client address per hour before it is locked.
pub const MAX_FAILED_MATCHES_PER_CLIENT: u64 = 20;
/// Wrong codes from one client address per hour before its codes are refused (guessing codes
/// of many changes at once).
pub const MAX_WRONG_CODES_PER_CLIENT: u64 = 30;
/// Requests that send codes (sign-up, change, stop, "my ballot") per voter in one 10-minute
/// window: a sign-up, a look at the ballot, and one try again.
pub const MAX_REQUESTS_PER_VOTER: u64 = 3;

/// A six-digit code from random bytes (the modulo bias of 2^64 mod 10^6 is negligible).
pub fn code_from(random: [u8; 16]) -> String {
    let n = u64::from_le_bytes(random[..8].try_into().expect("8 bytes"));
    format!("{:06}", n % 1_000_000)
}

/// A change id from random bytes: 22 URL-safe characters, 128 bits.
pub fn change_id_from(random: [u8; 16]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
}

fn code_hash(keys: &SigningKey, change_id: &str, code: &str) -> String {
    hex::encode(keys.mac(&[b"code", change_id.as_bytes(), code.trim().as_bytes()]))
}

/// What a change does once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ChangeAction {
    /// New choices (a sign-up or a change of language, channels, contacts or hours).
    Choices { desired: Subscription },
    /// Stop these channels (empty: every channel).
    Stop { channels: Vec<Channel> },
    /// Show the voter their ballots' journey ("my ballot"), once.
    View,
}

/// One code of a change: where it went and what entering it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTarget {
    pub address: String,
    /// The channel the code went by (a phone gets it by text when it takes texts).
    pub via: Channel,
    /// Entering it proves this new contact.
    pub proves: bool,
    /// Entering it approves the change (it went to a contact already proven).
    pub approves: bool,
    pub hash: String,
    pub used: bool,
}

/// A change waiting for its codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    pub id: String,
    pub votecal_id: String,
    pub action: ChangeAction,
    pub targets: Vec<CodeTarget>,
    /// The contacts live when the change was asked for (told once if the contacts change).
    pub previous: Vec<(Channel, String)>,
    /// True when a proven contact approved it, or none was needed (a first sign-up).
    pub approved: bool,
    pub wrong_codes: u32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// A code was entered and what it applies has not yet all been done (the store failed
    /// between them): the same code, entered again, finishes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub applying: bool,
}

/// A code that goes out: the target's index in the change, and the code itself (never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeToSend {
    pub target: usize,
    pub code: String,
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeRefusal {
    /// Not a code of this change, or one already used.
    WrongCode,
    /// The change is older than [`CODE_MINUTES`] (or unknown).
    Expired,
    /// Too many wrong codes: the change is closed.
    TooManyAttempts,
}

impl CodeRefusal {
    pub fn advice(self) -> String {
        match self {
            CodeRefusal::WrongCode => "That code is not right, or was used already. Check the latest message we sent and try again.".into(),
            CodeRefusal::Expired => format!("That code has expired (codes work for {CODE_MINUTES} minutes). Please start again to get a new code."),
            CodeRefusal::TooManyAttempts => "Too many wrong codes. Please start again to get a new code. If this happens again, wait an hour before you try once more.".into(),
        }
    }
}

fn live_contacts(current: Option<&Subscription>) -> Vec<(Channel, String)> {
    current.map(|s| s.channels().into_iter().map(|(c, a)| (c, a.to_string())).collect()).unwrap_or_default()
}

impl PendingChange {
    fn new(id: String, votecal_id: &str, action: ChangeAction, current: Option<&Subscription>, now: DateTime<Utc>) -> PendingChange {
        let previous = live_contacts(current);
        PendingChange {
            id,
            votecal_id: votecal_id.to_string(),
            action,
            targets: vec![],
            approved: previous.is_empty(),
            previous,
            wrong_codes: 0,
            created_at: now,
            expires_at: now + Duration::minutes(CODE_MINUTES),
            applying: false,
        }
    }

    fn target(&mut self, channel: Channel, address: &str) -> &mut CodeTarget {
        let i = match self.targets.iter().position(|t| same_contact((t.via, &t.address), (channel, address))) {
            Some(i) => i,
            None => {
                self.targets.push(CodeTarget { address: address.to_string(), via: channel, proves: false, approves: false, hash: String::new(), used: false });
                self.targets.len() - 1
            }
        };
        &mut self.targets[i]
    }

    /// Whether target `i` is a contact the caller typed: one of the choices asked for (a
    /// contact to prove, or a proven one the choices keep). A stop or a look at the ballot types
    /// none; its targets are the voter's proven contacts alone. A code to a contact the caller
    /// typed that cannot be sent fails the request; another is only logged (see
    /// `Pipeline::send_codes`).
    pub fn typed_by_caller(&self, i: usize) -> bool {
        let t = &self.targets[i];
        t.proves
            || match &self.action {
                ChangeAction::Choices { desired } => Channel::ALL.into_iter().any(|c| desired.chosen(c).is_some_and(|a| same_contact((c, a), (t.via, &t.address)))),
                _ => false,
            }
    }

    /// Approval codes to every contact already proven: any one of them approves. A phone that
    /// takes only calls is not rung outside the voter's hours (whoever knows her name, birth date
    /// and ZIP could have it ring at 3 a.m.); the answer is the same.
    fn ask_approval(&mut self, current: Option<&Subscription>, now: DateTime<Utc>) {
        let quiet = current.is_some_and(|s| !s.hours.contains(now));
        for (c, a) in self.previous.clone() {
            if c == Channel::Voice && quiet {
                continue;
            }
            self.target(c, &a).approves = true;
        }
    }

    /// Draws a code per target and keeps only its hash.
    fn draw_codes(&mut self, keys: &AccessKeys) -> Vec<CodeToSend> {
        let mut out = vec![];
        for (i, t) in self.targets.iter_mut().enumerate() {
            let code = code_from((keys.random)());
            t.hash = code_hash(&keys.signing, &self.id, &code);
            out.push(CodeToSend { target: i, code });
        }
        out
    }

    /// A sign-up or a change of choices: codes to each new contact, and approval codes to the
    /// contacts already proven.
    pub fn choices(keys: &AccessKeys, current: Option<&Subscription>, desired: Subscription, now: DateTime<Utc>) -> (PendingChange, Vec<CodeToSend>) {
        let id = change_id_from((keys.random)());
        let votecal_id = desired.votecal_id.clone();
        let mut change = PendingChange::new(id, &votecal_id, ChangeAction::Choices { desired: desired.clone() }, current, now);
        change.ask_approval(current, now);
        for c in Channel::ALL {
            let Some(address) = desired.chosen(c) else { continue };
            let proven = change.previous.iter().any(|(pc, pa)| same_contact((*pc, pa), (c, address)));
            if !proven {
                change.target(c, address).proves = true;
            }
        }
        let codes = change.draw_codes(keys);
        (change, codes)
    }

    /// A request to stop channels, or to see the ballot's journey: approval codes to the
    /// contacts already proven (none when the voter has none: nothing is sent, and the caller's
    /// answer is the same).
    pub fn approval(keys: &AccessKeys, votecal_id: &str, current: Option<&Subscription>, action: ChangeAction, now: DateTime<Utc>) -> (PendingChange, Vec<CodeToSend>) {
        let id = change_id_from((keys.random)());
        let mut change = PendingChange::new(id, votecal_id, action, current, now);
        change.approved = false;
        change.ask_approval(current, now);
        let codes = change.draw_codes(keys);
        (change, codes)
    }

    /// See [`PendingChange::approval`].
    pub fn stop(keys: &AccessKeys, votecal_id: &str, current: Option<&Subscription>, channels: Vec<Channel>, now: DateTime<Utc>) -> (PendingChange, Vec<CodeToSend>) {
        Self::approval(keys, votecal_id, current, ChangeAction::Stop { channels }, now)
    }

    /// Checks a code. A right code is used up; a wrong one counts against the change.
    pub fn enter_code(&mut self, keys: &SigningKey, code: &str, now: DateTime<Utc>) -> Result<(), CodeRefusal> {
        if now >= self.expires_at {
            return Err(CodeRefusal::Expired);
        }
        if self.wrong_codes >= MAX_WRONG_CODES {
            return Err(CodeRefusal::TooManyAttempts);
        }
        let hash = code_hash(keys, &self.id, code);
        match self.targets.iter_mut().find(|t| !t.used && t.hash == hash) {
            Some(t) => {
                t.used = true;
                if t.approves {
                    self.approved = true;
                }
                self.applying = true;
                Ok(())
            }
            None => {
                self.wrong_codes += 1;
                Err(CodeRefusal::WrongCode)
            }
        }
    }

    /// Whether `code` is one already entered for this change while what it applies is not yet
    /// all done (a failure came between): entering it again, before the change expires,
    /// finishes it. Once done, a used code is a wrong code again.
    pub fn unfinished_by(&self, keys: &SigningKey, code: &str, now: DateTime<Utc>) -> bool {
        if !self.applying || now >= self.expires_at {
            return false;
        }
        let hash = code_hash(keys, &self.id, code);
        self.targets.iter().any(|t| t.used && t.hash == hash)
    }

    /// The voter's subscription once this change of choices applies, given the one live now:
    /// nothing until approved; then the new choices, each contact going live once proven, the
    /// contacts already proven staying live meanwhile. None when nothing would be live.
    pub fn applied_choices(&self, current: Option<&Subscription>) -> Option<Subscription> {
        let ChangeAction::Choices { desired } = &self.action else { return None };
        if !self.approved {
            return None;
        }
        let proven = |c: Channel, a: &str| {
            self.previous.iter().any(|(pc, pa)| same_contact((*pc, pa), (c, a)))
                || self.targets.iter().any(|t| t.used && t.proves && same_contact((t.via, &t.address), (c, a)))
        };
        let mut sub = desired.clone();
        for c in Channel::ALL {
            if let Some(a) = desired.chosen(c) {
                if !proven(c, a) {
                    sub.set_address(c, current.and_then(|s| s.address(c)).map(str::to_string));
                }
            }
        }
        (!sub.channels().is_empty()).then_some(sub)
    }

    /// The channels on which the voter chose, in this change, a contact that is not (or not yet)
    /// what `sub` holds: a new phone or address still waiting for its own code, where the one
    /// live before stays meanwhile. Their confirmation waits for the new contact; the old one,
    /// which the voter is moving away from, is not told it is signed up.
    pub fn awaiting(&self, sub: &Subscription) -> Vec<Channel> {
        let ChangeAction::Choices { desired } = &self.action else { return Vec::new() };
        Channel::ALL
            .into_iter()
            .filter(|c| desired.chosen(*c).is_some_and(|a| !sub.chosen(*c).is_some_and(|live| same_contact((*c, live), (*c, a)))))
            .collect()
    }

    /// Whether the voter's live contacts moved on since the change was asked for: a contact is
    /// live that neither was then nor was proven by this change (another change went live
    /// meanwhile). Such a change must not apply: its approval was given, or not needed, for a
    /// voter whose contacts were different (a stranger could otherwise hold a change open until
    /// the voter signs up, then replace the voter's proven contacts with theirs).
    pub fn stale(&self, current: Option<&Subscription>) -> bool {
        // Or the voter's choices were replaced after this change was asked for (another change
        // went live, or a signups file): its approval was for contacts that may be gone (a
        // phone the voter has since removed could otherwise still approve a change it opened).
        // A look or a stop is, when one of its contacts is no longer hers (her sign-up ended at
        // the hotline and she signed up again); not when only her hours or a spelling changed.
        if let Some(live) = current {
            let replaced = match &self.action {
                ChangeAction::Choices { desired } => live.signed_up_at > desired.signed_up_at,
                _ => live.signed_up_at > self.created_at && self.previous.iter().any(|(c, a)| !live_contacts(current).iter().any(|(lc, la)| same_contact((*lc, la), (*c, a)))),
            };
            if replaced {
                return true;
            }
        }
        // Or the sign-up it was asked of has ended since (its contacts erased: by a stop the
        // hotline took, or past their retention): the contacts that approve it are not hers now.
        if !self.previous.is_empty() && current.is_none_or(|s| Channel::ALL.iter().all(|c| s.chosen(*c).is_none())) {
            return true;
        }
        live_contacts(current).iter().any(|(c, a)| {
            let was = self.previous.iter().any(|(pc, pa)| same_contact((*pc, pa), (*c, a)));
            let proven_here = self.targets.iter().any(|t| t.used && t.proves && same_contact((t.via, &t.address), (*c, a)));
            !was && !proven_here
        })
    }

    /// Whether every code of the change was used (it can be forgotten).
    pub fn complete(&self) -> bool {
        self.targets.iter().all(|t| t.used)
    }
}

#[cfg(test)]
mod tests;
