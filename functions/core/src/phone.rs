//! US phone numbers, judged by libphonenumber's numbering plan with its patterns compiled once.
//!
//! A number is refused unless the US plan holds it: `+1` numbers of Canada and the Caribbean
//! (carriers bill them as international: SMS pumping), premium-rate and shared-cost numbers, and
//! numbers no US carrier could hold (VoIP-only, pager, UAN, voicemail) are refused. The
//! `phonenumber` crate finds each pattern, at every use, in a cache behind one lock keyed by the
//! pattern's text (the US fixed-line pattern alone is kilobytes long): that was half the work of
//! reading a sign-up file. Here the US plan's patterns are compiled once, and a number is asked
//! the crate's own questions in the crate's order (`number_type` in phonenumber 0.3); a test holds
//! the verdicts to the crate's, for every area code.

use phonenumber::metadata::{Descriptor, DATABASE};
use phonenumber::Type;
use std::sync::OnceLock;

/// A US phone number in E.164 form (`+1` and ten digits) that the US plan holds and that may be
/// texted or called: see the module.
pub fn valid_phone(p: &str) -> bool {
    if !p.starts_with("+1") || p.len() != 12 || !p[1..].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (plan, national) = (us_plan(), &p[2..]);
    plan.allows(national) || overlaid(national).is_some_and(|same| plan.allows(&same))
}

/// Overlay area codes in service that the bundled plan does not hold yet, each with the area code
/// it overlays: 357 over 559 (Fresno, Madera, Mariposa, Merced, Tulare and Kings counties), new
/// numbers since March 2025 (CPUC); 624 over 716 (Buffalo, New York, where a voter studying or
/// serving away may have a new line), since September 2023 (New York's PSC). An overlay shares
/// its area's exchanges and their rules, so its number is judged as the same number under the
/// older code. A test fails once the plan learns one, so the entry can go. (Every California
/// area code was checked against the plan; elsewhere, only codes whose service is on record.)
const NEWER_OVERLAYS: [(&str, &str); 2] = [("357", "559"), ("624", "716")];

/// The same number under the area code its overlay shares, if it is in one of [`NEWER_OVERLAYS`].
fn overlaid(national: &str) -> Option<String> {
    let (area, rest) = national.split_at(3);
    NEWER_OVERLAYS.iter().find(|(new, _)| *new == area).map(|(_, old)| format!("{old}{rest}"))
}

/// One of the plan's patterns, as `Descriptor::is_match` applies it: a possible length, and a
/// match from the first digit.
struct Pattern {
    re: regex::Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn of(d: &Descriptor) -> Pattern {
        // Built as the crate builds its own: the metadata's patterns are laid out with spaces
        // and line breaks, which do not count.
        let re = regex::RegexBuilder::new(d.national_number().as_str()).ignore_whitespace(true).build().expect("libphonenumber's patterns compile");
        Pattern { re, lengths: d.possible_length().to_vec() }
    }

    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16))) && self.re.find(national).is_some_and(|m| m.start() == 0)
    }
}

struct UsPlan {
    general: Pattern,
    /// The kinds asked before fixed lines and mobiles, in the crate's order: whether a number of
    /// the kind may be signed up.
    special: Vec<(Pattern, bool)>,
    fixed_or_mobile: Vec<Pattern>,
}

impl UsPlan {
    /// `national`: the ten digits after `+1`.
    fn allows(&self, national: &str) -> bool {
        if !self.general.matches(national) {
            return false;
        }
        if let Some((_, allowed)) = self.special.iter().find(|(p, _)| p.matches(national)) {
            return *allowed;
        }
        self.fixed_or_mobile.iter().any(|p| p.matches(national))
    }
}

fn us_plan() -> &'static UsPlan {
    static PLAN: OnceLock<UsPlan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let us = DATABASE.by_id("US").expect("libphonenumber has the US plan");
        let d = us.descriptors();
        let kinds = [
            (Type::PremiumRate, false),
            (Type::TollFree, true),
            (Type::SharedCost, false),
            (Type::Voip, false),
            (Type::PersonalNumber, true),
            (Type::Pager, false),
            (Type::Uan, false),
            (Type::Voicemail, false),
        ];
        UsPlan {
            general: Pattern::of(d.general()),
            special: kinds.into_iter().filter_map(|(kind, allowed)| d.get(kind).map(|p| (Pattern::of(p), allowed))).collect(),
            fixed_or_mobile: [Type::FixedLine, Type::Mobile].into_iter().filter_map(|kind| d.get(kind).map(Pattern::of)).collect(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_is_judged_as_libphonenumbers_own_questions_judge_it() {
        use phonenumber::country;
        let asked_one_by_one = |p: &str| {
            // (A number of an overlay the plan does not hold yet, as the number it overlays.)
            let p = match overlaid(&p[2..]) {
                Some(same) => format!("+1{same}"),
                None => p.to_string(),
            };
            let Ok(number) = phonenumber::parse(None, &p) else { return false };
            number.is_valid()
                && number.country().id() == Some(country::Id::US)
                && !matches!(number.number_type(&DATABASE), Type::PremiumRate | Type::SharedCost | Type::Voip | Type::Pager | Type::Uan | Type::Voicemail)
        };
        let (mut valid, mut refused) = (0, 0);
        // Every area code, with exchanges and lines spread over their range: the US, Canada,
        // the Caribbean, toll-free, premium, personal and unassigned codes.
        for area in 0..1000 {
            for (exchange, line) in [(200, 0), (555, 123), (212, 9999), (911, 4567), (987, 5309), (100, 1)] {
                let p = format!("+1{area:03}{exchange}{line:04}");
                let judged = valid_phone(&p);
                assert_eq!(judged, asked_one_by_one(&p), "{p}");
                if judged { valid += 1 } else { refused += 1 }
            }
        }
        // And ten thousand numbers drawn across the whole range.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = format!("+1{:010}", x % 10_000_000_000);
            let judged = valid_phone(&p);
            assert_eq!(judged, asked_one_by_one(&p), "{p}");
            if judged { valid += 1 } else { refused += 1 }
        }
        assert!(valid > 3000 && refused > 3000, "both verdicts are exercised: {valid} valid, {refused} refused");
    }

    #[test]
    fn a_number_of_the_central_valleys_357_overlay_is_taken_as_its_559_twin_is() {
        // Fresno's new lines since 2025: a 357 number signs up as a 559 number does
        for exchange in ["234", "432", "777", "867"] {
            assert!(valid_phone(&format!("+1357{exchange}5309")), "357 {exchange}");
            assert_eq!(valid_phone(&format!("+1357{exchange}5309")), valid_phone(&format!("+1559{exchange}5309")));
        }
        let row = crate::signup::SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "93721", "", "en", "+13572345309", "", "+13572345309", "", "");
        assert_eq!(row.map(|r| (r.sms, r.voice)), Ok((Some("+13572345309".into()), Some("+13572345309".into()))), "signs up for texts and calls");
        // (and Buffalo's 624 as its 716 twin)
        assert!(valid_phone("+16242345309") && valid_phone("+17162345309"));
        // with the same exchange rules: no exchange starts with 0 or 1
        assert!(!valid_phone("+13570235309") && !valid_phone("+13571235309"));
        // and the bundled plan does not hold it yet: when it does, drop it from NEWER_OVERLAYS
        for (new, _) in NEWER_OVERLAYS {
            let p = format!("+1{new}2345309");
            assert!(!us_plan().allows(&p[2..]), "the plan now holds {new}: NEWER_OVERLAYS may lose it");
        }
    }
}
