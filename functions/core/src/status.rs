//! The VBM Ballot Status Codes VoteCal sends, and the messages they trigger (the guidance's table).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A VBM ballot status code as VoteCal sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum StatusCode {
    #[serde(rename = "ISSUED")]
    Issued,
    #[serde(rename = "INR")]
    InReview,
    #[serde(rename = "ACCEPTED")]
    Accepted,
    /// Voter already voted.
    #[serde(rename = "VAV")]
    Vav,
    /// No voter signature.
    #[serde(rename = "NVS")]
    Nvs,
    /// Non-matching signature.
    #[serde(rename = "NMS")]
    Nms,
    /// Ballot missing from envelope.
    #[serde(rename = "BME")]
    Bme,
    /// Voter deceased.
    #[serde(rename = "VDD")]
    Vdd,
    /// Missing or incorrect address on envelope.
    #[serde(rename = "MIA")]
    Mia,
    /// Multiple ballots returned in one envelope.
    #[serde(rename = "MRE")]
    Mre,
    /// Ballot was not received on time.
    #[serde(rename = "NOT")]
    Not,
    /// Please contact your county for further information.
    #[serde(rename = "INF")]
    Inf,
    /// Other codes with multiple reasons.
    #[serde(rename = "OTH")]
    Oth,
    /// VBM ballot was undeliverable.
    #[serde(rename = "UND")]
    Und,
    /// No ID provided.
    #[serde(rename = "NID")]
    Nid,
    /// Cancelled.
    #[serde(rename = "CLD")]
    Cld,
}

impl StatusCode {
    pub const ALL: [StatusCode; 16] = [
        StatusCode::Issued,
        StatusCode::InReview,
        StatusCode::Accepted,
        StatusCode::Vav,
        StatusCode::Nvs,
        StatusCode::Nms,
        StatusCode::Bme,
        StatusCode::Vdd,
        StatusCode::Mia,
        StatusCode::Mre,
        StatusCode::Not,
        StatusCode::Inf,
        StatusCode::Oth,
        StatusCode::Und,
        StatusCode::Nid,
        StatusCode::Cld,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Issued => "ISSUED",
            StatusCode::InReview => "INR",
            StatusCode::Accepted => "ACCEPTED",
            StatusCode::Vav => "VAV",
            StatusCode::Nvs => "NVS",
            StatusCode::Nms => "NMS",
            StatusCode::Bme => "BME",
            StatusCode::Vdd => "VDD",
            StatusCode::Mia => "MIA",
            StatusCode::Mre => "MRE",
            StatusCode::Not => "NOT",
            StatusCode::Inf => "INF",
            StatusCode::Oth => "OTH",
            StatusCode::Und => "UND",
            StatusCode::Nid => "NID",
            StatusCode::Cld => "CLD",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_bytes(text.as_bytes())
    }

    pub fn parse_bytes(b: &[u8]) -> Option<Self> {
        Some(match b {
            b"ISSUED" => StatusCode::Issued,
            b"INR" => StatusCode::InReview,
            b"ACCEPTED" => StatusCode::Accepted,
            b"VAV" => StatusCode::Vav,
            b"NVS" => StatusCode::Nvs,
            b"NMS" => StatusCode::Nms,
            b"BME" => StatusCode::Bme,
            b"VDD" => StatusCode::Vdd,
            b"MIA" => StatusCode::Mia,
            b"MRE" => StatusCode::Mre,
            b"NOT" => StatusCode::Not,
            b"INF" => StatusCode::Inf,
            b"OTH" => StatusCode::Oth,
            b"UND" => StatusCode::Und,
            b"NID" => StatusCode::Nid,
            b"CLD" => StatusCode::Cld,
            _ => return None,
        })
    }

    /// The milestone message the guidance's table assigns to this code.
    ///
    /// ISSUED maps to Outbound here; whether it is really a Reissued (a second ballot) is the
    /// lifecycle's decision, which knows the voter's other ballots.
    pub fn milestone(self) -> Milestone {
        match self {
            StatusCode::Issued => Milestone::Outbound,
            StatusCode::InReview => Milestone::Received,
            StatusCode::Accepted => Milestone::Accepted,
            StatusCode::Vav
            | StatusCode::Bme
            | StatusCode::Vdd
            | StatusCode::Mia
            | StatusCode::Mre
            | StatusCode::Not
            | StatusCode::Oth
            | StatusCode::Cld => Milestone::NotAccepted,
            StatusCode::Nvs | StatusCode::Nms | StatusCode::Inf | StatusCode::Nid => {
                Milestone::ContactCounty
            }
            StatusCode::Und => Milestone::Undeliverable,
        }
    }

    /// Which of two statuses of one ballot given the same time is the later: the one further
    /// along the journey, and at the end an outcome over a request to contact the county (a cure
    /// ends in ACCEPTED), ACCEPTED over the others. A county whose system keeps only dates sends
    /// NVS and, once cured, ACCEPTED, both at midnight. (Two as far along, NVS and NMS, are in
    /// the order they came.)
    pub fn same_time_rank(self) -> (u8, u8) {
        let outcome = match self.milestone() {
            Milestone::ContactCounty => 0,
            Milestone::NotAccepted => 1,
            Milestone::Accepted => 2,
            _ => 0,
        };
        (self.milestone().stage(), outcome)
    }

    /// Whether the message for this code carries a reason phrase (Not Accepted, Contact County).
    pub fn has_reason(self) -> bool {
        matches!(self.milestone(), Milestone::NotAccepted | Milestone::ContactCounty)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A point in the ballot's journey that a voter is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Milestone {
    Outbound,
    Inbound,
    Received,
    Accepted,
    NotAccepted,
    ContactCounty,
    Undeliverable,
    Reissued,
    InPerson,
}

impl Milestone {
    pub const ALL: [Milestone; 9] = [
        Milestone::Outbound,
        Milestone::Inbound,
        Milestone::Received,
        Milestone::Accepted,
        Milestone::NotAccepted,
        Milestone::ContactCounty,
        Milestone::Undeliverable,
        Milestone::Reissued,
        Milestone::InPerson,
    ];

    /// How far along the ballot's journey this milestone is. A milestone never follows one of a
    /// later stage for the same ballot ("received" after "accepted" would only confuse).
    pub fn stage(self) -> u8 {
        match self {
            Milestone::Outbound | Milestone::Reissued => 1,
            Milestone::Inbound | Milestone::Undeliverable => 2,
            Milestone::Received => 3,
            Milestone::Accepted | Milestone::NotAccepted | Milestone::ContactCounty => 4,
            Milestone::InPerson => 5,
        }
    }
}

/// Every kind of message the system sends: the milestones and the sign-up confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Outbound,
    Inbound,
    Received,
    Accepted,
    NotAccepted,
    ContactCounty,
    Undeliverable,
    Reissued,
    InPerson,
    /// While a ballot still needs the voter's action: a reminder before the county's cure deadline.
    CureReminder,
    /// Before election day, to a voter whose ballot has not come back.
    ReturnReminder,
    SignupConfirmation,
    /// A code that proves a new contact.
    VerificationCode,
    /// A code to a proven contact that approves a change (or opens "my ballot").
    AccountCode,
    /// To the previous contacts: the contacts were changed.
    ContactsChanged,
    /// Once an election and sign-up: county records place the voter in another county, so her
    /// news will not come; she signs up again there ([`crate::moved`]).
    MovedCounty,
    /// The one answer to STOP.
    OptedOut,
    /// The answer to START.
    OptedIn,
    /// The answer to START from a phone no voter's texts would go to: nothing restarts.
    OptedInNone,
    /// The answer to HELP (and to texts that are no keyword).
    Help,
}

impl MessageKind {
    pub const ALL: [MessageKind; 20] = [
        MessageKind::Outbound,
        MessageKind::Inbound,
        MessageKind::Received,
        MessageKind::Accepted,
        MessageKind::NotAccepted,
        MessageKind::ContactCounty,
        MessageKind::Undeliverable,
        MessageKind::Reissued,
        MessageKind::InPerson,
        MessageKind::CureReminder,
        MessageKind::ReturnReminder,
        MessageKind::SignupConfirmation,
        MessageKind::VerificationCode,
        MessageKind::AccountCode,
        MessageKind::ContactsChanged,
        MessageKind::MovedCounty,
        MessageKind::OptedOut,
        MessageKind::OptedIn,
        MessageKind::OptedInNone,
        MessageKind::Help,
    ];

    /// The key used in template files and in the outbox.
    pub fn key(self) -> &'static str {
        match self {
            MessageKind::Outbound => "outbound",
            MessageKind::Inbound => "inbound",
            MessageKind::Received => "received",
            MessageKind::Accepted => "accepted",
            MessageKind::NotAccepted => "not_accepted",
            MessageKind::ContactCounty => "contact_county",
            MessageKind::Undeliverable => "undeliverable",
            MessageKind::Reissued => "reissued",
            MessageKind::InPerson => "in_person",
            MessageKind::CureReminder => "cure_reminder",
            MessageKind::ReturnReminder => "return_reminder",
            MessageKind::SignupConfirmation => "signup_confirmation",
            MessageKind::VerificationCode => "verification_code",
            MessageKind::AccountCode => "account_code",
            MessageKind::ContactsChanged => "contacts_changed",
            MessageKind::MovedCounty => "moved_county",
            MessageKind::OptedOut => "opted_out",
            MessageKind::OptedIn => "opted_in",
            MessageKind::OptedInNone => "opted_in_none",
            MessageKind::Help => "help",
        }
    }

    /// The key, or the name the guidance and the README use for the message: `in_person`,
    /// `InPerson`, `in-person` and "In Person" are the same message.
    pub fn parse(key: &str) -> Option<Self> {
        let squash = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        let wanted = squash(key);
        Self::ALL.into_iter().find(|m| squash(m.key()) == wanted)
    }

    /// Exactly the key (template files and prompt lists name messages by their key).
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    /// A reminder: planned ahead when its milestone is decided, checked again when it falls due.
    pub fn is_reminder(self) -> bool {
        matches!(self, MessageKind::CureReminder | MessageKind::ReturnReminder)
    }

    /// News about a ballot (a milestone), as opposed to messages about the service itself.
    pub fn is_ballot_news(self) -> bool {
        !matches!(
            self,
            MessageKind::SignupConfirmation
                | MessageKind::VerificationCode
                | MessageKind::AccountCode
                | MessageKind::ContactsChanged
                | MessageKind::MovedCounty
                | MessageKind::OptedOut
                | MessageKind::OptedIn
                | MessageKind::OptedInNone
                | MessageKind::Help
        )
    }

    /// A one-time code (sent at once, whatever the hours: the voter is waiting for it).
    pub fn is_code(self) -> bool {
        matches!(self, MessageKind::VerificationCode | MessageKind::AccountCode)
    }

    /// A call of this message ends by offering a stop ("press 9"), and a 9 on it stops calls:
    /// every call but a code's (its listener is proving a phone, not choosing ballot calls).
    pub fn call_offers_stop(self) -> bool {
        !self.is_code()
    }
}

impl From<Milestone> for MessageKind {
    fn from(m: Milestone) -> Self {
        match m {
            Milestone::Outbound => MessageKind::Outbound,
            Milestone::Inbound => MessageKind::Inbound,
            Milestone::Received => MessageKind::Received,
            Milestone::Accepted => MessageKind::Accepted,
            Milestone::NotAccepted => MessageKind::NotAccepted,
            Milestone::ContactCounty => MessageKind::ContactCounty,
            Milestone::Undeliverable => MessageKind::Undeliverable,
            Milestone::Reissued => MessageKind::Reissued,
            Milestone::InPerson => MessageKind::InPerson,
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How a voter voted, from the participation history (VPH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParticipationMethod {
    /// At a polling place.
    #[serde(rename = "POLL")]
    Poll,
    /// At a vote center.
    #[serde(rename = "VCR")]
    VoteCenter,
    /// By mail.
    #[serde(rename = "VBM")]
    Mail,
}

impl ParticipationMethod {
    /// In any letter case (a spreadsheet may write `vcr`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "POLL" => Some(Self::Poll),
            "VCR" => Some(Self::VoteCenter),
            "VBM" => Some(Self::Mail),
            _ => None,
        }
    }

    /// POLL and VCR are in-person votes, which send the InPerson message.
    pub fn is_in_person(self) -> bool {
        matches!(self, Self::Poll | Self::VoteCenter)
    }
}

/// How a message reaches a voter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
    Voice,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::Email, Channel::Voice];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Voice => "voice",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text.to_ascii_lowercase())
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language voters can choose (the guidance's ten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Es,
    Zh,
    Hi,
    Ja,
    Km,
    Ko,
    Tl,
    Th,
    Vi,
}

impl Language {
    pub const ALL: [Language; 10] = [
        Language::En,
        Language::Es,
        Language::Zh,
        Language::Hi,
        Language::Ja,
        Language::Km,
        Language::Ko,
        Language::Tl,
        Language::Th,
        Language::Vi,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::Zh => "zh",
            Language::Hi => "hi",
            Language::Ja => "ja",
            Language::Km => "km",
            Language::Ko => "ko",
            Language::Tl => "tl",
            Language::Th => "th",
            Language::Vi => "vi",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == text)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
