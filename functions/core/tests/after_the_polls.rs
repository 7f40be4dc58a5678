//! A ballot not accepted, told after the polls closed (8 p.m. on 3 Nov 2026): she is not sent to
//! ask "whether you can still vote" on an Election Day that has passed; told before, she is.

mod common;

use common::{random, t, Fixture, ANN, BEN};
use wmb_core::formats::VbmStatus;
use wmb_core::pipeline::Tally;
use wmb_core::signup::SignupRequest;
use wmb_core::status::{Channel, Language, MessageKind, StatusCode};
use wmb_core::templates::Catalog;
use wmb_core::voice::{VoicePlan, VoiceRendering};

/// What voter `id` was told her ballot was not accepted, by channel: (channel, text, email body).
fn not_accepted(f: &Fixture, id: &str) -> Vec<(Channel, String, Option<VoiceRendering>)> {
    let sent = f.sent.sent.lock().unwrap();
    sent.iter().filter(|m| m.votecal_id == id && m.kind == MessageKind::NotAccepted).map(|m| (m.channel, m.rendered.text.clone(), m.voice.clone())).collect()
}

#[test]
fn a_ballot_not_accepted_after_the_polls_closed_is_told_without_sending_her_to_election_day() {
    futures::executor::block_on(async {
        let mut f = Fixture::with(&[ANN, BEN], random).await;
        // Calls in Khmer are recorded; "not accepted after the election" is not recorded yet.
        let recorded: Vec<String> = MessageKind::ALL.into_iter().filter(|k| k.is_ballot_news() || *k == MessageKind::MovedCounty).map(|k| format!("{} = {:?}", k.key(), wmb_core::voice::sample_prompt_id(&format!("wmb-km-{}", k.key())))).collect();
        f.voice = VoicePlan::from_toml("voice-prompts.toml", &format!("[prompts.km]\n{}\n", recorded.join("\n"))).unwrap();
        let (p, mut tally) = (f.pipeline(), Tally::default());
        // GIVEN Ann (texts and emails, English) and Ben (texts and calls, Khmer) signed up
        for (first, dob, lang, phone, email, voice) in [("Ann", "1980-05-17", "en", "+19165550101", "ann@example.com", ""), ("Ben", "1978-02-03", "km", "+19165550102", "", "+19165550102")] {
            let row = SignupRequest::from_fields(first, "Lee", dob, "90012", "", lang, phone, email, voice, "", "").unwrap();
            p.signup(&row, t("2026-10-01T10:00:00-07:00"), &mut tally).await.unwrap().unwrap();
        }
        let status = |id: &str, ballot: &str, code, at: &str| VbmStatus { votecal_id: id.into(), county: f.county, election_id: "E".into(), ballot_id: ballot.into(), status: code, status_time: t(at) };
        // WHEN Ann's ballot is found empty on 28 Oct, before Election Day
        p.apply_status(&status("CA1", "B1", StatusCode::Bme, "2026-10-28T10:00:00-07:00"), t("2026-10-28T11:00:00-07:00"), &mut tally).await.unwrap();
        // THEN she is told, and pointed to Election Day: she may still vote
        let before = not_accepted(&f, "CA1");
        assert_eq!(before.len(), 2, "{before:?}");
        for (channel, text, _) in &before {
            assert!(text.contains("the envelope had no ballot in it") && text.contains("November 3, 2026"), "{channel}: {text}");
        }
        assert!(before.iter().any(|(c, text, _)| *c == Channel::Email && text.contains("whether you can still vote")), "{before:?}");
        // WHEN Ben's ballot is found to have come too late, on 12 Nov
        p.apply_status(&status("CA2", "B2", StatusCode::Not, "2026-11-12T10:00:00-08:00"), t("2026-11-12T11:00:00-08:00"), &mut tally).await.unwrap();
        // AND Ann's replacement ballot is found empty too, the morning after Election Day
        p.apply_status(&status("CA1", "B1b", StatusCode::Issued, "2026-10-29T10:00:00-07:00"), t("2026-10-29T11:00:00-07:00"), &mut tally).await.unwrap();
        p.apply_status(&status("CA1", "B1b", StatusCode::Bme, "2026-11-04T09:00:00-08:00"), t("2026-11-04T10:00:00-08:00"), &mut tally).await.unwrap();
        // THEN each is told why and whom to ask, with no Election Day and no "can still vote"
        let after = not_accepted(&f, "CA1").split_off(2);
        assert_eq!(after.len(), 2, "{after:?}");
        for (channel, text, _) in &after {
            assert!(text.contains("the envelope had no ballot in it"), "{channel}: {text}");
            assert!(!text.contains("November 3, 2026") && !text.contains("still vote") && !text.contains("Election Day"), "{channel}: {text}");
            assert!(text.contains("(916) 657-2166"), "{channel}: whom to ask: {text}");
        }
        assert!(after.iter().any(|(c, text, _)| *c == Channel::Email && text.contains("registertovote.ca.gov")), "{after:?}");
        let ben = not_accepted(&f, "CA2");
        assert_eq!(ben.iter().map(|m| m.0).collect::<Vec<_>>(), [Channel::Sms, Channel::Voice], "{ben:?}");
        let khmer = Catalog::embedded().unwrap();
        let khmer = khmer.language(Language::Km);
        let (election_day, why) = (khmer.format_date(chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap()), khmer.reason(StatusCode::Not));
        assert!(ben[0].1.contains(why) && !ben[0].1.contains(&election_day), "{}", ben[0].1);
        // AND Ben's call plays the recording there is, rather than failing
        assert_eq!(ben[1].2, Some(VoiceRendering::Prompt { prompt: wmb_core::voice::sample_prompt_id("wmb-km-not_accepted") }));
        assert_eq!(tally.failed, 0);
    });
}
