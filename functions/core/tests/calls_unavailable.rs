//! Calls in a language Polly does not speak need the Secretary of State's recordings. Where some
//! are not in, a sign-up for calls in that language is refused, on the page and in a county's
//! signups file (calls only), instead of the voter never hearing a call; calls a voter already
//! has stand when the county's file names her again.

mod common;

use common::{random, t, Fixture, ANN, BEN};
use wmb_core::pipeline::Tally;
use wmb_core::ports::*;
use wmb_core::signup::{Refusal, SignupRequest};
use wmb_core::status::{Channel, MessageKind};
use wmb_core::voice::VoicePlan;

const PHONE: &str = "+19165550100";

fn calls(first: &str, dob: &str, language: &str) -> SignupRequest {
    SignupRequest::from_fields(first, "Lee", dob, "90012", "", language, "", "", PHONE, "", "").unwrap()
}

#[test]
fn calls_in_a_language_whose_recordings_are_not_all_in_are_refused_and_taken_once_they_are() {
    futures::executor::block_on(async {
        let mut f = Fixture::with(&[ANN, BEN], random).await;
        let mut tally = Tally::default();
        {
            let p = f.pipeline();
            // GIVEN no recordings yet: WHEN Ann asks on the page for calls in Khmer
            let refused = p.request_signup(&calls("Ann", "1980-05-17", "km"), "198.51.100.7", t("2026-09-01T19:00:00Z")).await.unwrap().unwrap_err();
            // THEN she is told calls in that language are not available yet, naming the field,
            // and no code is called to her phone
            assert_eq!((refused.refusal, refused.field), (Refusal::CallsUnavailable, Some(Channel::Voice)));
            assert_eq!(f.sent_where(|m| m.to == PHONE), 0);
            // AND a county's signups file asking the same for Ben, calls only, is refused in its
            // report (with texts too, it would be taken: the texts go)
            let row = p.signup(&calls("Ben", "1978-02-03", "vi"), t("2026-09-01T19:00:00Z"), &mut tally).await.unwrap();
            assert_eq!(row.unwrap_err(), Refusal::CallsUnavailable);
            assert!(f.store.subscription("CA2").await.unwrap().is_none());
            assert_eq!(tally.signups_refused.get("CallsUnavailable"), Some(&1));
            // AND calls in Spanish, which Polly speaks, are taken
            assert!(p.request_signup(&calls("Ann", "1980-05-17", "es"), "198.51.100.7", t("2026-09-01T19:05:00Z")).await.unwrap().is_ok());
        }
        // WHEN every Khmer message a call speaks (ballot news, the notice of a move) is recorded
        let called = MessageKind::ALL.into_iter().filter(|k| k.is_ballot_news() || *k == MessageKind::MovedCounty);
        let listed: Vec<String> = called.map(|k| format!("{} = {:?}", k.key(), wmb_core::voice::sample_prompt_id(&format!("wmb-km-{}", k.key())))).collect();
        f.voice = VoicePlan::from_toml("voice-prompts.toml", &format!("[prompts.km]\n{}\n", listed.join("\n"))).unwrap();
        // THEN Ben's calls in Khmer are taken
        {
            let p = f.pipeline();
            assert!(p.signup(&calls("Ben", "1978-02-03", "km"), t("2026-09-02T19:00:00Z"), &mut tally).await.unwrap().is_ok());
            assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Voice), Some(PHONE));
        }
        // WHEN a recording is taken out again
        f.voice = VoicePlan::from_toml("voice-prompts.toml", &format!("[prompts.km]\n{}\n", listed[1..].join("\n"))).unwrap();
        // THEN the calls Ben has stand: the county's next file naming him again is taken
        let p = f.pipeline();
        let mut again = Tally::default();
        assert!(p.signup(&calls("Ben", "1978-02-03", "km"), t("2026-09-03T19:00:00Z"), &mut again).await.unwrap().is_ok());
        assert!(again.signups_refused.is_empty(), "{:?}", again.signups_refused);
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Voice), Some(PHONE));
        // AND on the page the answer comes before anyone is looked up, so it is the same for him
        // as for a stranger naming him (it does not tell whether he has such calls): refused
        let hours = SignupRequest::from_fields("Ben", "Lee", "1978-02-03", "90012", "", "km", "", "", PHONE, "09:00", "18:00").unwrap();
        let stranger = SignupRequest::from_fields("Ben", "Lee", "1978-02-03", "90012", "", "km", "", "", "+19165550177", "09:00", "18:00").unwrap();
        for request in [hours, stranger] {
            assert_eq!(p.request_signup(&request, "198.51.100.7", t("2026-09-04T19:00:00Z")).await.unwrap().unwrap_err().refusal, Refusal::CallsUnavailable);
        }
    });
}
