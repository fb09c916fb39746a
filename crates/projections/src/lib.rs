//! The read side: projectors that turn the event log into read models, in PostgreSQL or in the
//! embedded SQLite, and the queries over them.
//!
//! A projector reads the log from the checkpoint stored with its read model, applies a batch of
//! events and the new checkpoint in one database transaction, and so converges after a crash at
//! any point to the same state as a rebuild from the first event. The runtime (`runtime.rs`)
//! does that for every projection (`projection.rs`: the ledger, `ledger.rs`, of what customers
//! owe; the customers, `customers.rs`, of who they are and who chases them) on either engine;
//! the queries (`aging.rs`, `exposure.rs`, `promises.rs`, `work_queue.rs`, `statement.rs`,
//! `confirmations.rs`, `customer_search.rs`) read their tables, with the open amount of an
//! invoice as of a date defined once (`open_amounts.rs`) and paging in one place
//! (`paging.rs`).

pub mod activities;
pub mod aging;
pub mod alerts;
pub mod allowance;
pub mod checkpoint;
pub mod confirmations;
pub mod customer_search;
pub mod customers;
pub mod database;
mod engine;
pub mod error;
pub mod exposure;
pub mod forecast;
pub mod generations;
pub mod known;
pub mod ledger;
pub mod metrics;
pub mod minor_units;
pub mod moments;
pub mod open_amounts;
pub mod paging;
pub mod postgres;
pub mod projection;
pub mod promises;
pub mod rates;
pub mod receipt_evidence;
pub mod receipt_queue;
pub mod receipts;
pub mod rows;
pub mod runtime;
pub mod sqlite;
pub mod statement;
mod stored;
pub mod summaries;
pub mod upcoming;
pub mod work_queue;

pub use database::{ReadPool, ReadStore};
pub use error::ProjectionError;
pub use generations::MIGRATOR;
