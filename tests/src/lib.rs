//! The test harness: a local AWS emulator (moto's standalone server) on a free loopback port,
//! the project's resources created in it as the SAM template declares them, and the plumbing
//! AWS would do between the functions (stream records, queue polling, schedules firing).

pub mod billing;
pub mod compare;
pub mod contract;
pub mod event_sources;
pub mod golden;
pub mod harness;
pub mod logs;
pub mod permissions;
pub mod policy;
pub mod receipts;
pub mod sample;
pub mod scenario;
pub mod schedules;
pub mod world;
pub mod world_service;
