//! The local pipeline behind the `ballot-tracking` command: the core's pipeline on an embedded
//! SQLite store, an outbox instead of SES/SNS/Connect, and a virtual clock.

pub mod bench;
pub mod check;
pub mod generate;
pub mod outbox;
pub mod render;
pub mod reports;
pub mod simulate;
pub mod store;
