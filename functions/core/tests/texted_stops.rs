//! Texts that stop in the voter's own words ("Please stop texting me"), and a START and a STOP
//! handled out of order: the voter's stop stands.

mod common;

use common::{lee, random, stop_on_the_page, t, Fixture, ANN, BEN, PHONE};
use wmb_core::access::contact_name;
use wmb_core::pipeline::Tally;
use wmb_core::ports::*;
use wmb_core::status::{Channel, MessageKind};

#[test]
fn a_voter_who_asks_in_her_own_words_to_stop_gets_no_more_texts_and_a_question_about_stopping_does_not_stop_them() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben, by a signups file, each with a phone of their own
        const BENS: &str = "+19165550177";
        p.signup(&lee("Ann", "1980-05-17", PHONE, ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        p.signup(&lee("Ben", "1978-02-03", BENS, ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN Ann replies "Please stop texting me", and Ben asks when ballots stop being accepted
        let ann = p.inbound_text(PHONE, "Please stop texting me", "in-1", t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
        let ben = p.inbound_text(BENS, "When do you stop accepting ballots?", "in-2", t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap();
        // THEN Ann's texts stop, as a STOP stops them, with the one acknowledgement
        assert_eq!((ann.changed, ann.replied), (1, Some(MessageKind::OptedOut)));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        // AND Ben's do not: he is answered with the program's help (the Secretary of State's number)
        assert_eq!((ben.changed, ben.replied), (0, Some(MessageKind::Help)));
        assert_eq!(f.store.subscription("CA2").await.unwrap().unwrap().address(Channel::Sms), Some(BENS));
        // AND news of their ballots goes to Ben's phone only
        let status = |id: &str| wmb_core::formats::VbmStatus { votecal_id: id.into(), county: f.county, election_id: "E".into(), ballot_id: format!("B-{id}"), status: wmb_core::status::StatusCode::Issued, status_time: t("2026-10-07T16:00:00Z") };
        for id in ["CA1", "CA2"] {
            p.apply_status(&status(id), t("2026-10-07T19:00:00Z"), &mut tally).await.unwrap();
        }
        assert_eq!(f.sent_where(|m| m.to == PHONE && m.kind == MessageKind::Outbound), 0, "nothing after Ann asked to stop");
        assert_eq!(f.sent_where(|m| m.to == BENS && m.kind == MessageKind::Outbound), 1);
    });
}

#[test]
fn a_start_sent_before_a_stop_but_handled_after_it_does_not_start_the_texts_again() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, signed up by a file with her phone
        p.signup(&lee("Ann", "1980-05-17", PHONE, ""), t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN she texts START at 19:00:00 and STOP at 19:00:20, and the STOP is handled first
        // (two-way SMS keeps no order; a START whose handling failed comes again later)
        let (start_sent, stop_sent, handled) = (t("2026-10-06T19:00:00Z"), t("2026-10-06T19:00:20Z"), t("2026-10-06T19:01:00Z"));
        let stop = p.inbound_text_sent(PHONE, "STOP", "in-2", stop_sent, handled, &mut tally).await.unwrap();
        let start = p.inbound_text_sent(PHONE, "START", "in-1", start_sent, handled, &mut tally).await.unwrap();
        // THEN her last word stands: texts stay stopped, and the START is not answered
        assert_eq!(stop.replied, Some(MessageKind::OptedOut));
        assert_eq!((start.changed, start.replied), (0, None));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
        assert!(f.store.contact(&contact_name(&f.keys.signing, Channel::Sms, PHONE)).await.unwrap().stopped, "the phone stays stopped: no code or help text goes to it");
        assert_eq!(f.sent_where(|m| m.to == PHONE && m.kind != MessageKind::SignupConfirmation), 1, "only the STOP's acknowledgement");
        // AND a START she sends later starts them again
        let again = p.inbound_text_sent(PHONE, "START", "in-3", t("2026-10-07T09:00:00Z"), t("2026-10-07T09:00:01Z"), &mut tally).await.unwrap();
        assert_eq!((again.changed, again.replied), (1, Some(MessageKind::OptedIn)));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), Some(PHONE));
    });
}

#[test]
fn a_start_texted_before_texts_were_stopped_on_the_page_does_not_undo_that_stop() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann, signed up by a file with her phone, whose START texted at 19:00 is handled
        // only at 19:10 (its first handling failed)
        let row = lee("Ann", "1980-05-17", PHONE, "");
        p.signup(&row, t("2026-10-01T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN at 19:05 she stops texts on the page (a code to her phone approves it)
        stop_on_the_page(&f, &row, &[Channel::Sms], Channel::Sms, "2026-10-06T19:05:00Z").await;
        let start = p.inbound_text_sent(PHONE, "START", "in-1", t("2026-10-06T19:00:00Z"), t("2026-10-06T19:10:00Z"), &mut tally).await.unwrap();
        // THEN the page's stop stands, and the START is not answered
        assert_eq!((start.changed, start.replied), (0, None));
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Sms), None);
    });
}
