//! The embedded ledger's record of a send as one line, about 50 bytes against 150 as JSON (a
//! statewide replay's ledger holds 28 M of them):
//!
//! - a send: `s|<at>|<provider id>|<indexed: 1 or 0>|<tag>`
//! - a failure: `f|<at>|<reason>|<tag>`
//!
//! `<at>` is whole seconds since 1970, with a fraction when there is one
//! (`wmb_core::time::push_unix`); `<tag>` (what a county's daily summary counts) is `<county>|<kind>|<channel>`, or empty.
//! Text fields are escaped as kept facts' are (`wmb_core::kept::esc`).

use std::fmt::Write;
use wmb_core::daily::MessageTag;
use wmb_core::kept::{push_esc, unesc};
use wmb_core::ports::DeliveryOutcome;
use wmb_core::status::{Channel, MessageKind};
use wmb_core::time::{parse_unix, push_unix};
use wmb_core::CountyCode;

pub fn to_line(outcome: &DeliveryOutcome) -> String {
    let mut out = String::with_capacity(64);
    let counted = match outcome {
        DeliveryOutcome::Sent { provider_id, at, counted, indexed } => {
            out.push_str("s|");
            push_unix(&mut out, at);
            out.push('|');
            push_esc(&mut out, provider_id);
            out.push_str(if *indexed { "|1" } else { "|0" });
            counted
        }
        DeliveryOutcome::Failed { reason, at, counted } => {
            out.push_str("f|");
            push_unix(&mut out, at);
            out.push('|');
            push_esc(&mut out, reason);
            counted
        }
    };
    match counted {
        // Written into a String, which cannot fail.
        Some(t) => drop(write!(out, "|{:02}|{}|{}", t.county.number(), t.kind.key(), t.channel)),
        None => out.push('|'),
    }
    out
}

/// The outcome [`to_line`] wrote; None if the line is not one.
pub fn from_line(line: &str) -> Option<DeliveryOutcome> {
    let fields: Vec<&str> = line.split('|').collect();
    let tag = |f: &[&str]| -> Option<Option<MessageTag>> {
        match f {
            [""] => Some(None),
            [county, kind, channel] => Some(Some(MessageTag {
                county: CountyCode::parse(county)?,
                kind: MessageKind::from_key(kind)?,
                channel: Channel::parse(channel)?,
            })),
            _ => None,
        }
    };
    match fields.as_slice() {
        ["s", at, provider_id, indexed, rest @ ..] => Some(DeliveryOutcome::Sent {
            provider_id: unesc(provider_id),
            at: parse_unix(at)?,
            counted: tag(rest)?,
            indexed: match *indexed {
                "1" => true,
                "0" => false,
                _ => return None,
            },
        }),
        ["f", at, reason, rest @ ..] => Some(DeliveryOutcome::Failed { reason: unesc(reason), at: parse_unix(at)?, counted: tag(rest)? }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_outcome_reads_back_as_it_was_written() {
        let tag = MessageTag { county: CountyCode::new(37).unwrap(), kind: MessageKind::CureReminder, channel: Channel::Voice };
        let outcomes = [
            DeliveryOutcome::Sent { provider_id: "outbox-1-42".into(), at: at("2026-11-09T22:00:00Z"), counted: Some(tag), indexed: false },
            DeliveryOutcome::Sent { provider_id: "a|b%7C\nc".into(), at: at("2026-11-09T22:00:00.000000001Z"), counted: None, indexed: true },
            DeliveryOutcome::Sent { provider_id: String::new(), at: at("1969-12-31T23:59:59.5Z"), counted: None, indexed: false },
            DeliveryOutcome::Failed { reason: "the number | opted out, 100%".into(), at: at("2026-10-01T07:00:00Z"), counted: Some(tag) },
            DeliveryOutcome::Failed { reason: String::new(), at: at("2026-10-01T07:00:00.123456789Z"), counted: None },
            DeliveryOutcome::Failed {
                reason: "a leap second".into(),
                at: chrono::NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 1_250_000_000).unwrap().and_utc(),
                counted: None,
            },
        ];
        for o in &outcomes {
            let line = to_line(o);
            assert!(!line.contains('\n'), "{line}");
            assert_eq!(from_line(&line).as_ref(), Some(o), "{line}");
        }
        assert_eq!(to_line(&outcomes[0]), "s|1794261600|outbox-1-42|0|37|cure_reminder|voice");
    }

    #[test]
    fn a_line_that_is_not_an_outcome_is_refused() {
        for line in [
            "",
            "s|1794261600|x|0",
            "s|1794261600|x|2|",
            "s|soon|x|0|",
            "s|1794261600.5|x|0|",
            "f|1794261600|why|37|cure_reminder",
            "f|1794261600|why|59|cure_reminder|sms",
            "f|1794261600|why|37|no_such_message|sms",
            "f|1794261600|why|37|cure_reminder|fax",
            "x|1794261600|why|",
            "{\"outcome\":\"sent\"}",
        ] {
            assert_eq!(from_line(line), None, "{line}");
        }
    }
}
