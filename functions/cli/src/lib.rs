//! The local pipeline behind the `ballot-tracking` command: the core's pipeline on an embedded
//! SQLite store, an outbox instead of SES/SNS/Connect, and a virtual clock.

pub mod bench;
pub mod check;
pub mod generate;
pub mod lane_threads;
mod lane_lookups;
pub mod lanes;
pub mod outbox;
pub mod read_ahead;
pub mod render;
pub mod reports;
pub mod serve;
pub mod simulate;
pub mod store;
pub mod store_access;
mod store_ledger;
mod outcome_line;
mod store_recent;
mod store_roll;
mod voter_line;

/// Random bytes from the operating system (codes and change ids).
pub fn os_random() -> [u8; 16] {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system gives random bytes");
    b
}

/// The local key, OS randomness, and the base URL of unsubscribe links.
pub fn local_access(public_url: &str) -> wmb_core::access::AccessKeys {
    wmb_core::access::AccessKeys {
        signing: wmb_core::access::SigningKey::new(wmb_core::access::LOCAL_SIGNING_KEY).expect("long enough"),
        random: os_random,
        public_url: Some(public_url.to_string()),
    }
}
