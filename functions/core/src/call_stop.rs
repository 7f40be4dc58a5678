//! A call's own stop: whoever answers a ballot call presses 9 and calls to that phone stop, for
//! every voter whose calls go to it (a household's shared landline said stop, as a shared phone's
//! STOP text does for texts). It is the only stop a voter who takes calls alone can make without
//! the page or the hotline. Texts and emails are not touched: "stop all ballot calls to this phone
//! number" is about calls.
//!
//! The phone is the number the call rang, as the call's own record gives it (Amazon Connect's
//! contact data, not anything the person on the line could type), so pressing 9 stops nothing but
//! calls to the phone that pressed it.

use crate::access::contact_name;
use crate::pipeline::{Pipeline, PipelineError, Tally};
use crate::ports::*;
use crate::signup::Subscription;
use crate::status::{Channel, Language};
use chrono::{DateTime, Utc};

/// What pressing 9 did, and what the call says before it hangs up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStop {
    /// Subscriptions whose calls stopped now (0 when they were stopped already: pressed twice,
    /// or the invocation delivered again).
    pub changed: usize,
    /// Subscriptions whose calls go to the phone, stopped now or before.
    pub found: usize,
    /// The language the call spoke, which its confirmation speaks too.
    pub language: Language,
    /// "You will get no more calls…", in that language.
    pub said: String,
    /// How the call says it: its recording, or Polly's voice; none where neither exists (the
    /// call hangs up without a word, its calls stopped all the same).
    pub speak: Option<crate::voice::VoiceRendering>,
}

impl CallStop {
    /// What a call says when the stop could not be made (the store failed): sorry, and the page
    /// and the hotline, in Polly's voice for the call's language (no recording says it: a call in
    /// a language Polly does not speak hangs up without a word).
    pub fn failed(catalog: &crate::templates::Catalog, language: Language) -> CallStop {
        let language = if catalog.has(language) { language } else { Language::En };
        CallStop { changed: 0, found: 0, language, said: catalog.language(language).web.voice_stop_failed.clone(), speak: crate::voice::VoiceRendering::polly(language) }
    }
}

impl<'a, S, D, Q> Pipeline<'a, S, D, Q>
where
    S: Store,
    D: Dispatcher,
    Q: NotificationQueue,
{
    /// Stops calls to `phone` for every voter whose calls go to it (a 9 pressed, or a stop the
    /// hotline took: `stop_requests.rs`), each remembered on the phone's
    /// contact entry as that voter's own stop of calls (so a signups file sent again does not
    /// restart them, past the erasure of a fully stopped voter's number). `language` is the
    /// language the call spoke (the confirmation must be in the same voice); when the call did not
    /// say, English (not the voters' own: the answer would tell whoever asked in what language
    /// a number takes calls). Doing it twice is doing it once.
    pub async fn stop_calls(&self, phone: &str, language: Option<Language>, now: DateTime<Utc>, tally: &mut Tally) -> Result<CallStop, PipelineError> {
        let entry = self.store.contact(&contact_name(&self.access.signing, Channel::Voice, phone)).await?;
        let calls_here = |s: &Subscription| s.chosen(Channel::Voice) == Some(phone);
        let changed = self.stop_where(Channel::Voice, calls_here, entry.voters.iter().map(String::as_str), now, tally).await?;
        let mut found = 0;
        for voter in &entry.voters {
            // Remembered from what is stored now, whether this stop or an earlier one stopped it
            // (an invocation that failed after the stop, tried again, still leaves the mark).
            if let Some(sub) = self.store.subscription(voter).await?.filter(calls_here) {
                self.mark_own_stops(&sub, &[Channel::Voice]).await?;
                found += 1;
            }
        }
        let language = language.filter(|l| self.catalog.has(*l)).unwrap_or(Language::En);
        Ok(CallStop { changed, found, language, said: self.catalog.language(language).web.voice_stopped.clone(), speak: self.voice.stopped_rendering(language) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{AccessKeys, SigningKey};
    use crate::election::Election;
    use crate::formats::{VbmStatus, VoterRecord, VoterStatus};
    use crate::keys::stop_mark;
    use crate::memory::{MemoryStore, RecordingDispatcher};
    use crate::ports::Inline;
    use crate::signup::SignupRequest;
    use crate::status::{MessageKind, StatusCode};
    use crate::templates::Catalog;
    use crate::voice::VoicePlan;
    use crate::CountyCode;
    use std::collections::BTreeMap;

    const ELECTION: &str = "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
        [default_contact]\nphone = \"(916) 657-2166\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n";
    const LANDLINE: &str = "+19165550100";
    const MOBILE: &str = "+19165550199";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn random() -> [u8; 16] {
        [3; 16]
    }

    fn voter(id: &str, first: &str) -> VoterRecord {
        VoterRecord {
            votecal_id: id.into(),
            county: CountyCode::parse("19").unwrap(),
            first_name: first.into(),
            last_name: "Lee".into(),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1950, 5, 17).unwrap(),
            zip: "90012".into(),
            status: VoterStatus::Active,
        }
    }

    #[test]
    fn pressing_9_stops_calls_to_that_phone_for_the_household_and_nothing_else() {
        futures::executor::block_on(async {
            let store = MemoryStore::default();
            let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
            let elections = BTreeMap::from([("E".to_string(), Election::from_toml("e", ELECTION).unwrap())]);
            let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
            let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
            let mut tally = Tally::default();
            for v in [voter("CA1", "Ann"), voter("CA2", "Bob"), voter("CA3", "Cy")] {
                store.put_voter(&v).await.unwrap();
            }
            // GIVEN a household landline taking Ann's calls (in Spanish) and Bob's, Bob's texts
            // going to his mobile, and Cy taking texts at the landline's number
            let signed_up = t("2026-10-01T19:00:00Z");
            let rows = [
                SignupRequest::from_fields("Ann", "Lee", "1950-05-17", "90012", "", "es", "", "", LANDLINE, "", "").unwrap(),
                SignupRequest::from_fields("Bob", "Lee", "1950-05-17", "90012", "", "en", MOBILE, "", LANDLINE, "", "").unwrap(),
                SignupRequest::from_fields("Cy", "Lee", "1950-05-17", "90012", "", "en", LANDLINE, "", "", "", "").unwrap(),
            ];
            for row in &rows {
                p.signup(row, signed_up, &mut tally).await.unwrap().unwrap();
            }
            let now = t("2026-10-07T19:00:00Z");

            // WHEN someone on a Spanish call to the landline presses 9
            let mut counted = Tally::default();
            let stop = p.stop_calls(LANDLINE, Some(Language::Es), now, &mut counted).await.unwrap();

            // THEN calls stop for Ann and Bob, and the call confirms it in Spanish
            assert_eq!(stop.changed, 2);
            assert_eq!((stop.language, stop.said.as_str()), (Language::Es, catalog.language(Language::Es).web.voice_stopped.as_str()));
            let (ann, bob, cy) = (store.subscription("CA1").await.unwrap().unwrap(), store.subscription("CA2").await.unwrap().unwrap(), store.subscription("CA3").await.unwrap().unwrap());
            assert_eq!((ann.address(Channel::Voice), bob.address(Channel::Voice)), (None, None));
            // AND texts go on: Bob's to his mobile, Cy's to the landline
            assert_eq!((bob.address(Channel::Sms), cy.address(Channel::Sms)), (Some(MOBILE), Some(LANDLINE)));
            let day = counted.county_days.of(crate::time::pacific_date(now), CountyCode::parse("19").unwrap());
            assert_eq!(day.get("opt_outs//voice"), Some(&2), "the county counts two voters' calls stopped: {day:?}");

            // AND pressing 9 again (or the invocation delivered twice) changes and counts nothing
            let mut again = Tally::default();
            assert_eq!(p.stop_calls(LANDLINE, Some(Language::Es), now, &mut again).await.unwrap().changed, 0);
            assert!(!again.county_days.of(crate::time::pacific_date(now), CountyCode::parse("19").unwrap()).contains_key("opt_outs//voice"));

            // AND news decided later reaches Bob by text only, and Ann not at all
            let before = sent.sent.lock().unwrap().len();
            let county = CountyCode::parse("19").unwrap();
            for id in ["CA1", "CA2"] {
                let row = VbmStatus { votecal_id: id.into(), county, election_id: "E".into(), ballot_id: format!("B-{id}"), status: StatusCode::Issued, status_time: t("2026-10-07T16:00:00Z") };
                p.apply_status(&row, now, &mut tally).await.unwrap();
            }
            let after: Vec<(Channel, String)> = sent.sent.lock().unwrap()[before..].iter().filter(|m| m.kind == MessageKind::Outbound).map(|m| (m.channel, m.to.clone())).collect();
            assert_eq!(after, [(Channel::Sms, MOBILE.to_string())]);

            // AND a signups file sending the same rows again does not restart the calls
            for row in &rows {
                p.signup(row, t("2026-10-08T19:00:00Z"), &mut tally).await.unwrap().unwrap();
            }
            let (ann, bob) = (store.subscription("CA1").await.unwrap().unwrap(), store.subscription("CA2").await.unwrap().unwrap());
            assert_eq!((ann.address(Channel::Voice), bob.address(Channel::Voice)), (None, None));
            let entry = store.contact(&contact_name(&keys.signing, Channel::Voice, LANDLINE)).await.unwrap();
            assert!(entry.stops.contains(&stop_mark(&keys.signing, Channel::Voice, "CA1")));
            assert!(!entry.stopped, "the landline's texts are not stopped");
        });
    }

    #[test]
    fn the_answer_is_in_the_calls_language_and_a_phone_no_voter_takes_calls_at_stops_nothing() {
        futures::executor::block_on(async {
            let store = MemoryStore::default();
            let keys = AccessKeys { signing: SigningKey::new(b"unit test key, sixteen+").unwrap(), random, public_url: None };
            let elections = BTreeMap::new();
            let (catalog, voice, sent) = (Catalog::embedded().unwrap(), VoicePlan::default(), RecordingDispatcher::default());
            let p = Pipeline { store: &store, dispatcher: &sent, queue: &Inline, catalog: &catalog, elections: &elections, voice: &voice, access: &keys };
            store.put_voter(&voter("CA3", "Cy")).await.unwrap();
            let row = SignupRequest::from_fields("Cy", "Lee", "1950-05-17", "90012", "", "ko", LANDLINE, "", LANDLINE, "", "").unwrap();
            p.signup(&row, t("2026-10-01T19:00:00Z"), &mut Tally::default()).await.unwrap().unwrap();
            let stop = p.stop_calls(LANDLINE, None, t("2026-10-07T19:00:00Z"), &mut Tally::default()).await.unwrap();
            assert_eq!((stop.changed, stop.language), (1, Language::En), "a call that names no language is answered in English, not in Cy's Korean");
            assert_eq!(store.subscription("CA3").await.unwrap().unwrap().address(Channel::Sms), Some(LANDLINE), "her texts go on");
            let stop = p.stop_calls("+19165550142", Some(Language::Ja), t("2026-10-07T19:00:00Z"), &mut Tally::default()).await.unwrap();
            assert_eq!((stop.changed, stop.language), (0, Language::Ja));
            assert!(matches!(stop.speak, Some(crate::voice::VoiceRendering::Polly { .. })), "Polly speaks Japanese");
            let stop = p.stop_calls("+19165550142", Some(Language::Vi), t("2026-10-07T19:00:00Z"), &mut Tally::default()).await.unwrap();
            assert_eq!(stop.speak, None, "no recording of it in Vietnamese: nothing is said in the wrong voice");
        });
    }
}
