//! Why a sign-up (or a change of choices) is refused, and what the voter is told: each refusal
//! carries the guidance's advice and never says anything about a voter record.

use crate::signup::{MY_VOTER_STATUS, VOTECAL_HELP_DESK};
use serde::{Deserialize, Serialize};

/// Why a sign-up was refused, each with the guidance's advice to the voter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Nothing on the voter roll matches.
    NoMatch,
    /// Several voters match: the VoteCal ID tells them apart.
    NeedsVotecalId,
    /// The voter's registration is inactive, canceled or pending.
    NotActive,
    /// The sign-up was changed minutes ago: changes are limited, so that nobody can flood a
    /// phone or mailbox with confirmations or codes by re-submitting.
    TryLater,
    /// Too many failed matches for this name and ZIP, or from this client: locked for a while.
    Locked,
    /// The phone or email already serves the most voters one contact may serve (a household).
    ContactInUse,
    /// The phone or email got the most codes it may get today.
    TooManyCodes,
    /// The phone texted STOP: no text goes to it until it texts START.
    ContactStopped,
    /// Calls in the chosen language need the Secretary of State's recordings, and some are not
    /// in yet: a call could not be made, so calls are not taken in that language.
    CallsUnavailable,
}

/// How long a sign-up must stand before its choices can change again.
pub const MIN_MINUTES_BETWEEN_CHANGES: i64 = 10;

impl Refusal {
    /// The reason a file's report gives for a refused sign-up row: the refusal's code, then the
    /// advice (`refused (not_active): Your voter registration is not active. ...`). The same
    /// in the local pipeline's reports and ingest's.
    pub fn report_reason(self) -> String {
        let code = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        format!("refused ({code}): {}", self.advice())
    }

    /// What the voter is told. Says nothing about any voter record.
    pub fn advice(self) -> String {
        match self {
            Refusal::NoMatch => format!(
                "We could not sign you up with that name, date of birth and ZIP code. \
                 Check your registration at My Voter Status ({MY_VOTER_STATUS}) or contact your county elections office."
            ),
            Refusal::NeedsVotecalId => format!(
                "More than one voter record matches. Enter your VoteCal ID to sign up; \
                 the VoteCal Help Desk at {VOTECAL_HELP_DESK} can help you find it."
            ),
            Refusal::NotActive => "Your voter registration is not active. Please contact your county elections office.".to_string(),
            Refusal::TryLater => format!("Your sign-up was changed a few minutes ago. Please try again in {MIN_MINUTES_BETWEEN_CHANGES} minutes."),
            Refusal::Locked => format!(
                "Too many tries that did not match a voter record. Please try again tomorrow, check your registration at \
                 My Voter Status ({MY_VOTER_STATUS}), or contact your county elections office."
            ),
            Refusal::ContactInUse => "This phone number or email address already gets ballot notifications for as many voters as one contact may. \
                 Please use another one, or contact your county elections office."
                .to_string(),
            Refusal::TooManyCodes => "This phone number or email address got as many codes as it may today. Please try again tomorrow.".to_string(),
            Refusal::ContactStopped => {
                "This phone number replied STOP to our texts. Text START to the number our texts come from, then try again.".to_string()
            }
            Refusal::CallsUnavailable => {
                "Phone calls are not available yet in the language you chose for your messages. Please choose texts or email instead.".to_string()
            }
        }
    }
}
