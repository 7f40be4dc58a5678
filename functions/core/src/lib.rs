//! Where's My Ballot: the ballot-tracking domain.
//!
//! Pure: no AWS SDK, no network, no clock of its own (every decision takes `now`). It holds the
//! status codes, the county file formats, the ballot lifecycle, the election calendar, the
//! notification hours, sign-up matching, the message templates and the IMb codec, and the ports
//! (traits) through which the local pipeline and the Lambdas store, queue, send and schedule.

pub mod access;
pub mod account;
mod limits;
pub mod api;
pub mod call_stop;
pub mod catchup;
pub mod county;
pub mod county_settings;
pub mod daily;
mod delivery;
pub mod election;
pub mod enrolment;
pub mod file_signups;
pub mod file_summary;
pub mod formats;
pub mod hours;
pub mod imb;
pub mod journey_view;
pub mod kept;
pub mod keys;
pub mod lifecycle;
pub mod line_endings;
pub mod memory;
pub mod moved;
pub mod notify;
pub mod optout;
pub mod pacing;
pub mod parts;
pub mod past_deadline;
pub mod pipeline;
pub mod receipts;
pub mod recording;
pub mod recording_scripts;
pub mod refusal;
pub mod reminders;
pub mod report_pieces;
pub mod retention;
pub mod ports;
pub mod phone;
pub mod signup;
pub mod sms_budget;
pub mod sources;
pub mod status;
pub mod stop_phrases;
pub mod stop_requests;
pub mod stopping;
pub mod templates;
mod template_text;
pub mod time;
mod unreached;
pub mod usps;
pub mod voice;
pub mod wording;

pub use county::CountyCode;
pub use election::Election;
pub use status::{Channel, Language, MessageKind, Milestone, StatusCode};
