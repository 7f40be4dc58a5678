//! Every language's message texts, checked as a voter would need them: complete, with the same
//! placeholders as English, well-formed and accessible HTML, and SMS within 3 segments.

use std::collections::BTreeMap;
use wmb_core::status::{Channel, Language, MessageKind};
use wmb_core::templates::{placeholder_sets, worst_segments, Catalog, Part, Wording};

fn catalog() -> Catalog {
    Catalog::embedded().expect("templates/ loads")
}

#[test]
fn all_ten_languages_have_every_message_and_channel() {
    let c = catalog();
    let languages: Vec<Language> = c.languages().collect();
    assert_eq!(languages, Language::ALL.to_vec(), "a template file per language");
    // Loading already refuses a file missing a message or a part; render each to be sure.
    let values = wmb_core::templates::longest_values(&c, Language::En, "2026 General Election");
    for lang in Language::ALL {
        for kind in Wording::all() {
            for channel in Channel::ALL {
                let r = c.render_as(lang, kind, channel, &values).unwrap_or_else(|e| panic!("{lang}/{kind}/{channel}: {e}"));
                assert!(!r.text.trim().is_empty(), "{lang}/{kind}/{channel} is empty");
            }
        }
    }
}

#[test]
fn every_text_uses_exactly_the_placeholders_of_the_english_text() {
    let c = catalog();
    let english = placeholder_sets(c.language(Language::En));
    for lang in Language::ALL {
        let theirs = placeholder_sets(c.language(lang));
        for (key, expected) in &english {
            assert_eq!(theirs.get(key), Some(expected), "{lang}: {}.{}", key.0, key.1);
        }
    }
}

#[test]
fn every_reason_and_date_format_is_translated() {
    let c = catalog();
    for lang in Language::ALL.into_iter().filter(|l| *l != Language::En) {
        let t = c.language(lang);
        let same: Vec<&String> = t.reasons.iter().filter(|(k, v)| c.language(Language::En).reasons.get(*k) == Some(v)).map(|(k, _)| k).collect();
        assert!(same.is_empty(), "{lang}: reasons left in English: {same:?}");
        // A final verdict's reasons too, each its own phrase, not the one asking her to act
        for code in wmb_core::wording::FINAL_REASONS {
            let (verdict, asking) = (&t.reasons_after_election[code.as_str()], t.reason(code));
            assert!(verdict != &c.language(Language::En).reasons_after_election[code.as_str()] && verdict != asking, "{lang}: {code:?}: {verdict}");
        }
        assert_ne!(t.format_date(chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap()), "November 3, 2026", "{lang}");
    }
}

#[test]
fn non_english_texts_are_marked_for_native_review() {
    let c = catalog();
    assert_eq!(c.language(Language::En).meta.review, "final");
    for lang in Language::ALL.into_iter().filter(|l| *l != Language::En) {
        let review = &c.language(lang).meta.review;
        assert!(review == "needs-native-review" || review == "final", "{lang}: {review}");
    }
}

/// Checks that an HTML document's tags nest and close, and that attribute values are quoted.
fn check_well_formed(html: &str) -> Result<(), String> {
    const VOID: [&str; 6] = ["meta", "br", "hr", "img", "link", "input"];
    let mut stack: Vec<String> = vec![];
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>').ok_or("a '<' is never closed")?;
        let tag = &after[..close];
        rest = &after[close + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            match stack.pop() {
                Some(top) if top == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("").to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("empty tag <{tag}>"));
        }
        let attrs = &tag[name.len()..];
        if !attrs.matches('"').count().is_multiple_of(2) {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        for part in attrs.split('"').step_by(2) {
            if part.contains('=') && !part.trim_end().ends_with('=') {
                return Err(format!("an unquoted attribute value in <{tag}>"));
            }
        }
        if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            stack.push(name);
        }
    }
    if rest.contains('>') && !rest.contains('<') && rest.trim_start().starts_with('>') {
        return Err("a stray '>'".into());
    }
    match stack.is_empty() {
        true => Ok(()),
        false => Err(format!("never closed: {stack:?}")),
    }
}

#[test]
fn every_email_is_well_formed_accessible_html_in_its_language() {
    let c = catalog();
    for lang in Language::ALL {
        let values = wmb_core::templates::longest_values(&c, lang, "Elección <General> & 2026");
        for kind in Wording::all() {
            let r = c.render_as(lang, kind, Channel::Email, &values).unwrap();
            let html = r.html.unwrap();
            check_well_formed(&html).unwrap_or_else(|e| panic!("{lang}/{kind}: {e}\n{html}"));
            assert!(html.contains(&format!("<html lang=\"{}\" dir=\"ltr\">", lang.code())), "{lang}/{kind}");
            assert!(html.contains("<title>") && html.contains("<main>"), "{lang}/{kind}: a title and a main landmark");
            assert!(!html.contains("<General>"), "{lang}/{kind}: values are escaped");
            for img in html.split("<img").skip(1) {
                assert!(img.split('>').next().unwrap().contains("alt=\""), "{lang}/{kind}: an image without alt text");
            }
            for a in html.split("<a ").skip(1) {
                let text = a.split_once('>').unwrap().1.split("</a>").next().unwrap();
                assert!(!text.trim().is_empty(), "{lang}/{kind}: a link without text");
            }
        }
    }
}

#[test]
fn the_html_checker_catches_broken_html() {
    assert!(check_well_formed("<p><strong>x</p></strong>").is_err());
    assert!(check_well_formed("<p>x").is_err());
    assert!(check_well_formed("<a href=x>y</a>").is_err());
    assert!(check_well_formed("<p>x<br>y</p>").is_ok());
}

#[test]
fn no_sms_takes_more_than_three_segments_in_any_language_at_its_longest() {
    let c = catalog();
    let mut over: BTreeMap<String, usize> = BTreeMap::new();
    for lang in Language::ALL {
        for kind in Wording::all() {
            let n = worst_segments(&c, lang, kind).unwrap();
            if n > 3 {
                over.insert(format!("{lang}/{kind}"), n);
            }
        }
    }
    assert!(over.is_empty(), "SMS over 3 segments: {over:?}");
}

#[test]
fn the_parts_of_every_message_are_nonempty_in_every_language() {
    let c = catalog();
    for lang in Language::ALL {
        let t = c.language(lang);
        for kind in Wording::all() {
            for part in Part::ALL {
                assert!(!t.texts(kind).part(part).trim().is_empty(), "{lang}/{kind}/{}", part.key());
            }
        }
    }
}

#[test]
fn every_text_and_call_says_who_sends_it_and_every_email_says_why_how_to_change_or_stop_and_whom_to_ask() {
    let c = catalog();
    let english = &c.language(Language::En).web;
    assert!(english.sms_label.contains("Secretary of State") && english.voice_intro.contains("Secretary of State"));
    for lang in Language::ALL {
        let t = c.language(lang);
        let mut values = wmb_core::templates::longest_values(&c, lang, "2026 General Election");
        values.insert("page_url", "https://wheresmyballot.example.gov/".into());
        values.insert("unsubscribe_url", "https://wheresmyballot.example.gov/unsubscribe?t=abc".into());
        assert!(t.web.email_contact.contains("345-8683"), "{lang}: the footer gives the Secretary of State's number");
        for kind in Wording::all() {
            let sms = c.render_as(lang, kind, Channel::Sms, &values).unwrap().text;
            assert!(sms.starts_with(&format!("{} ", t.web.sms_label)), "{lang}/{kind}: an SMS starts with the label: {sms}");
            assert_eq!(sms.matches(t.web.sms_label.as_str()).count(), 1, "{lang}/{kind}: the label once: {sms}");
            let call = c.render_as(lang, kind, Channel::Voice, &values).unwrap().text;
            assert!(call.starts_with(&format!("{} ", t.web.voice_intro)), "{lang}/{kind}: a call says who calls first: {call}");
            let email = c.render_as(lang, kind, Channel::Email, &values).unwrap();
            let (text, html) = (email.text, email.html.unwrap());
            if kind.kind.is_code() {
                assert!(!text.contains(&t.web.email_footer), "{lang}/{kind}: a code goes to an address not yet proven, without 'you signed up'");
                continue;
            }
            for part in [&t.web.email_footer, &t.web.email_contact] {
                assert!(text.contains(part.as_str()), "{lang}/{kind}: the footer says {part}");
            }
            assert!(text.contains(&format!("{}: https://wheresmyballot.example.gov/\n", t.web.email_change)), "{lang}/{kind}: where to change the choices");
            assert!(text.contains(&format!("{}: https://wheresmyballot.example.gov/unsubscribe?t=abc", t.web.unsubscribe_link)), "{lang}/{kind}: how to stop");
            let footer = html.split("<footer>").nth(1).unwrap_or_else(|| panic!("{lang}/{kind}: an HTML footer"));
            assert!(footer.contains("href=\"https://wheresmyballot.example.gov/\"") && footer.contains("unsubscribe?t=abc"), "{lang}/{kind}: {footer}");
        }
    }
}

#[test]
fn county_names_are_written_in_the_voters_script_where_the_language_has_them() {
    let c = catalog();
    let la = wmb_core::CountyCode::parse("19").unwrap();
    assert_eq!(c.language(Language::En).county_name(la), "Los Angeles");
    let mut with_own_names = 0;
    for lang in Language::ALL {
        let t = c.language(lang);
        for (code, name) in &t.counties {
            let county = wmb_core::CountyCode::parse(code).unwrap();
            assert_eq!(t.county_name(county), name);
            let mut values = wmb_core::templates::longest_values(&c, lang, "2026 General Election");
            values.insert("county_name", t.county_name(county).to_string());
            let sms = c.render(lang, MessageKind::Accepted, Channel::Sms, &values).unwrap().text;
            assert!(sms.contains(name.as_str()), "{lang}: {sms}");
        }
        with_own_names += usize::from(!t.counties.is_empty());
    }
    assert!(with_own_names >= 5, "the languages written in other scripts name counties in them");
}

#[test]
fn every_answer_to_a_keyword_that_leaves_texts_on_says_how_to_stop_them() {
    // CTIA: an opt-in's confirmation, and HELP's answer, give the opt-out. START from a phone
    // no voter's texts go to still opts it back in to whatever may come.
    let c = catalog();
    for lang in Language::ALL {
        for kind in [MessageKind::OptedIn, MessageKind::OptedInNone, MessageKind::Help, MessageKind::SignupConfirmation] {
            let sms = &c.language(lang).message(kind).sms;
            assert!(sms.contains("STOP"), "{lang}/{kind}: {sms}");
        }
    }
}

#[test]
fn every_language_gives_the_cure_deadline_its_hour_not_only_its_day() {
    // EC §3019: 5 p.m. on the day. Told only "until December 1", a voter reads it as midnight
    // (the voters' page says 5 p.m.).
    let c = Catalog::embedded().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    for lang in c.languages() {
        let t = c.language(lang);
        let (deadline, date) = (t.format_deadline(day), t.format_date(day));
        assert!(deadline.contains(&date) && deadline != date && (deadline.contains('5') || deadline.contains("17")), "{}: {deadline}", lang.code());
    }
    // And a message's value is it: the English call to fix a ballot says the hour.
    let e = wmb_core::election::Election::from_toml("e", "id = \"E\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n[default_contact]\nphone = \"(916) 657-2166\"\nemail = \"e@example.gov\"\nurl = \"https://example.gov\"\n").unwrap();
    let values = wmb_core::notify::message_values(c.language(Language::En), Language::En, Some(&e), wmb_core::CountyCode::parse("19").unwrap(), None, Default::default(), wmb_core::wording::Wording::of(wmb_core::status::MessageKind::Outbound));
    assert_eq!(values["cure_deadline"], "5 p.m. on December 1, 2026");
}

#[test]
fn a_bounced_ballot_offers_voting_in_person_and_a_reissue_never_says_the_earlier_ballot_will_not_count() {
    // A voter whose ballot came back can still vote in person until the polls close, and a
    // replaced ballot she already mailed back may be the one counted: only one per voter is.
    let c = catalog();
    let values = wmb_core::templates::longest_values(&c, Language::En, "2026 General Election");
    for channel in [Channel::Sms, Channel::Email, Channel::Voice] {
        let bounced = c.render(Language::En, MessageKind::Undeliverable, channel, &values).unwrap();
        let again = c.render(Language::En, MessageKind::Reissued, channel, &values).unwrap();
        // An email's HTML says what its text says.
        for bounced in std::iter::once(bounced.text).chain(bounced.html) {
            assert!(bounced.contains("new ballot") && bounced.contains("vote in person") && bounced.contains("8 p.m. on Election Day"), "{channel}: {bounced}");
            assert!(!bounced.contains("before Election Day"), "{channel}: {bounced}");
        }
        for again in std::iter::once(again.text).chain(again.html) {
            assert!(again.to_lowercase().contains("only one ballot per voter"), "{channel}: {again}");
            assert!(!again.contains("will not be counted"), "{channel}: {again}");
            if channel != Channel::Sms {
                assert!(again.contains("already returned the earlier ballot"), "{channel}: {again}");
            }
        }
    }
}
