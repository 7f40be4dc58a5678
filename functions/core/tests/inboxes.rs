//! An email inbox is one contact however its address is spelled: a voter who writes hers another
//! way keeps it, and a complaint from it stops every voter of it.

mod common;

use common::{random, t, Fixture, ANN, BEN};
use wmb_core::access::contact_name;
use wmb_core::pipeline::Tally;
use wmb_core::receipts::{Receipt, ReceiptOutcome};
use wmb_core::ports::*;
use wmb_core::signup::SignupRequest;
use wmb_core::status::Channel;

fn lee(first: &str, dob: &str, email: &str) -> SignupRequest {
    SignupRequest::from_fields(first, "Lee", dob, "90012", "", "en", "", email, "", "", "").unwrap()
}

/// SES's complaint about an email to `address` (its inbox marked it as spam) at `at`.
fn complaint(address: &str, at: &str) -> Receipt {
    Receipt { channel: Channel::Email, provider_id: "ses-1".into(), key: None, address: address.into(), outcome: ReceiptOutcome::Refused { reason: "complaint".into() }, at: t(at) }
}

#[test]
fn an_inbox_spelled_another_way_is_still_hers_and_a_complaint_from_it_stops_every_spelling() {
    futures::executor::block_on(async {
        let f = Fixture::with(&[ANN, BEN], random).await;
        let p = f.pipeline();
        let mut tally = Tally::default();
        // GIVEN Ann and Ben of one household, Ben's email going to the same Gmail inbox by a tag
        p.signup(&lee("Ann", "1980-05-17", "leehome@gmail.com"), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        p.signup(&lee("Ben", "1978-02-03", "leehome+ben@gmail.com"), t("2026-10-06T19:00:00Z"), &mut tally).await.unwrap().unwrap();
        // WHEN Ann writes her address with a dot on the page, and enters the code her inbox gets
        let asked = t("2026-10-07T19:00:00Z");
        let codes_before = f.sent_where(|m| m.kind.is_code());
        let ticket = p.request_signup(&lee("Ann", "1980-05-17", "Lee.Home@gmail.com"), "198.51.100.7", asked).await.unwrap().unwrap();
        assert_eq!(f.sent_where(|m| m.kind.is_code()) - codes_before, 1, "one inbox, one code, not one for each spelling");
        p.enter_code(&ticket.change_id, &f.code_to("leehome@gmail.com"), false, asked + chrono::Duration::minutes(2), &mut tally).await.unwrap().unwrap();
        assert_eq!(f.store.subscription("CA1").await.unwrap().unwrap().address(Channel::Email), Some("Lee.Home@gmail.com"));
        assert_eq!(f.sent_where(|m| m.kind == wmb_core::status::MessageKind::ContactsChanged), 0, "her inbox is not told her contacts changed");
        // THEN the inbox still counts her as one of its voters, and holds no stop of hers
        let name = contact_name(&f.keys.signing, Channel::Email, "leehome@gmail.com");
        let entry = f.store.contact(&name).await.unwrap();
        assert!(entry.voters.contains(&"CA1".to_string()) && entry.voters.contains(&"CA2".to_string()), "{:?}", entry.voters);
        assert!(!entry.stops.iter().any(|m| m.starts_with("email-")), "no stop of her own on her live inbox: {:?}", entry.stops);
        // AND when the inbox marks an email to its plain spelling as spam, neither voter's email
        // goes there any more
        let spam = complaint("leehome@gmail.com", "2026-10-08T19:00:00Z");
        p.record_receipt(&spam, &mut tally).await.unwrap();
        for id in ["CA1", "CA2"] {
            assert_eq!(f.store.subscription(id).await.unwrap().unwrap().address(Channel::Email), None, "{id}");
        }
    });
}
