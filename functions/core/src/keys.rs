//! The service's secret key and the names it gives: contacts and identities are named in the
//! contact index and the abuse counters by keyed hashes, never held as they are.

use crate::status::Channel;
use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The service's secret key: hashes codes, signs unsubscribe links, and names contacts and
/// identities in counters without holding them.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// A key of at least 16 bytes.
    pub fn new(bytes: &[u8]) -> Option<SigningKey> {
        (bytes.len() >= 16).then(|| SigningKey(bytes.to_vec()))
    }

    /// HMAC-SHA-256 over the parts, each followed by a 0 byte (no ambiguity between parts).
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for p in parts {
            m.update(p);
            m.update(&[0]);
        }
        m.finalize().into_bytes().into()
    }

    /// A short stable name for a value (hex, 128 bits): a counter's or the contact index's key.
    pub fn name(&self, purpose: &str, value: &str) -> String {
        hex::encode(&self.mac(&[purpose.as_bytes(), value.as_bytes()])[..16])
    }
}

/// What the core needs to hand out codes and links: the key, randomness from the adapter (the
/// core has none of its own), and the public base URL of the API (for unsubscribe links).
pub struct AccessKeys {
    pub signing: SigningKey,
    pub random: fn() -> [u8; 16],
    pub public_url: Option<String>,
}

/// The key of `ballot-tracking simulate` and `serve` on this machine (and of the tests that
/// compare the Lambdas with them). Never for a deployment: the SAM template generates its own.
pub const LOCAL_SIGNING_KEY: &[u8] = b"ballot-tracking on this machine only: not a secret";
/// Where `ballot-tracking serve` listens by default: the base of local unsubscribe links.
pub const LOCAL_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// A contact as the index and counters name it: a phone is one contact whether it gets texts or
/// calls; an email address is named by the inbox it reaches ([`inbox_of`]), so that its limits
/// (voters, codes a day) and its unsubscribe hold for every spelling of it.
pub fn contact_name(keys: &SigningKey, channel: Channel, address: &str) -> String {
    match channel {
        Channel::Sms | Channel::Voice => keys.name("phone", address),
        Channel::Email => keys.name("email", &inbox_of(address)),
    }
}

/// One phone, or one inbox however its address is spelled ([`inbox_of`]): what a code to one
/// spelling proves for the other. Only plain ASCII addresses are folded here (a dot-atom before
/// the `@`): `inbox_of` also folds Unicode case and stray dots, which is safe for limits and
/// stops but would take an address no code reached, and that may not be delivered, as proven.
pub fn same_contact(a: (Channel, &str), b: (Channel, &str)) -> bool {
    match (a.0 == Channel::Email, b.0 == Channel::Email) {
        (true, true) => a.1.eq_ignore_ascii_case(b.1) || (plain_address(a.1) && plain_address(b.1) && inbox_of(a.1) == inbox_of(b.1)),
        (false, false) => a.1.eq_ignore_ascii_case(b.1),
        _ => false,
    }
}

/// An address whose name is a dot-atom (RFC 5321): ASCII letters, digits and `!#$%&'*+/=?^_`{|}~-`,
/// in dot-separated parts none of which is empty.
fn plain_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    let atom = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c));
    local.split('.').all(atom) && domain.is_ascii() && !domain.is_empty()
}

/// The inbox an email address reaches: without case; at the big providers that deliver
/// `ann+anything@` to Ann, without the tag; and at Gmail without the dots of the name
/// (`a.nn@gmail.com` is `ann@gmail.com`, as is `ann@googlemail.com`). Otherwise one inbox could
/// take a code five times a day per spelling, and the news of more than five voters. Elsewhere
/// a `+` may be part of another person's name, and is kept.
pub fn inbox_of(address: &str) -> String {
    let lower = address.trim().to_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else { return lower };
    if !TAGGED_DOMAINS.contains(&domain) {
        return lower;
    }
    let local = local.split('+').next().filter(|l| !l.is_empty()).unwrap_or(local);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
        _ => format!("{local}@{domain}"),
    }
}

/// Providers that deliver `name+tag@` to `name@` (their published sub-addressing).
const TAGGED_DOMAINS: &[&str] = &[
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "fastmail.com", "proton.me", "protonmail.com", "pm.me",
];

/// The mark a voter's own stop of one channel leaves on that channel's contact entry: the
/// channel, then a keyed name of voter and channel (the entry does not name the voter). It
/// outlives the erasure of the voter's addresses, so a `signups` file that names the same
/// contact again does not restart it. START from a phone clears the mark of the one voter whose
/// texts go to it, or every `sms-` mark of a phone no voter's texts go to any more; of a phone
/// several voters' texts go to, it leaves each voter's own stop to her.
pub fn stop_mark(keys: &SigningKey, channel: Channel, votecal_id: &str) -> String {
    format!("{}-{}", channel.as_str(), keys.name("stop", &format!("{}:{votecal_id}", channel.as_str())))
}

/// The part of a client's address that limits count against: an IPv4 address whole, an IPv6
/// address by its /64 network (one subscriber line holds a whole /64, and could otherwise try
/// from a fresh address each time).
pub fn client_network(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_to_one_spelling_of_an_inbox_proves_only_plain_spellings_of_it() {
        let email = |a: &'static str| (Channel::Email, a);
        assert!(same_contact(email("leehome@gmail.com"), email("Lee.Home@gmail.com")));
        assert!(same_contact(email("ann@outlook.com"), email("ann+ballot@outlook.com")));
        // Unicode case (the Kelvin sign folds to k) and stray dots are the same inbox for limits
        // and stops, but a code to one proves nothing for the other.
        assert_eq!(inbox_of("\u{212A}ate@gmail.com"), inbox_of("kate@gmail.com"));
        assert!(!same_contact(email("kate@gmail.com"), email("\u{212A}ate@gmail.com")));
        assert!(!same_contact(email("jane@gmail.com"), email(".jane@gmail.com")));
        assert!(!same_contact(email("janedoe@gmail.com"), email("jane..doe@gmail.com")));
        assert!(!same_contact(email("ann@example.org"), email("ann+x@example.org")));
        assert!(same_contact((Channel::Sms, "+15105550101"), (Channel::Voice, "+15105550101")));
        assert!(!same_contact((Channel::Sms, "+15105550101"), email("+15105550101")));
    }

    #[test]
    fn contact_names_hide_the_contact_and_treat_a_phone_as_one_contact() {
        let k = SigningKey::new(b"0123456789abcdef").unwrap();
        assert_eq!(contact_name(&k, Channel::Sms, "+19165550100"), contact_name(&k, Channel::Voice, "+19165550100"));
        assert_eq!(contact_name(&k, Channel::Email, "Ann@Example.com"), contact_name(&k, Channel::Email, "ann@example.com"));
        assert_eq!(contact_name(&k, Channel::Email, "Ann+Ballot@Outlook.com"), contact_name(&k, Channel::Email, "ann@outlook.com"), "one inbox");
        assert_ne!(contact_name(&k, Channel::Email, "ann+bob@example.com"), contact_name(&k, Channel::Email, "ann@example.com"), "a + kept where it may be a name");
        assert_ne!(contact_name(&k, Channel::Email, "ann.lee@icloud.com"), contact_name(&k, Channel::Email, "annlee@icloud.com"), "dots count but at Gmail");
        for same in ["A.nn.Lee+x@gmail.com", "annlee@googlemail.com", " annlee@gmail.com"] {
            assert_eq!(inbox_of(same), "annlee@gmail.com", "{same}");
        }
        assert_eq!(inbox_of("+tag@gmail.com"), "+tag@gmail.com", "a name that is all tag is kept");
        assert!(!contact_name(&k, Channel::Sms, "+19165550100").contains("9165550100"));
        assert_ne!(stop_mark(&k, Channel::Sms, "CA1"), stop_mark(&k, Channel::Voice, "CA1"), "texts and calls stop apart");
        assert_ne!(stop_mark(&k, Channel::Sms, "CA1"), stop_mark(&k, Channel::Sms, "CA2"));
        assert!(!stop_mark(&k, Channel::Sms, "CA1").contains("CA1"));
        assert!(stop_mark(&k, Channel::Sms, "CA1").starts_with("sms-"), "START finds a phone's marks of texts");
        assert_eq!(client_network("2001:db8:1:2:aaaa::1"), client_network("2001:db8:1:2:bbbb::9"), "one /64, one client");
        assert_ne!(client_network("2001:db8:1:2::1"), client_network("2001:db8:1:3::1"));
        assert_eq!(client_network("198.51.100.7"), "198.51.100.7");
    }
}
