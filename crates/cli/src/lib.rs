//! The command-line client of Receivables, for operators and the reporting team: post every
//! command (an invoice, payment, credit limit, promise, credit note, write-off, reversal,
//! application, refund, dispute or its resolution); print aging, exposure, the work queue and an
//! account as tables, CSV or JSON; import invoices, payments, credit notes and reversals from CSV
//! exports. Everything goes through the public gRPC API, like any other client. (The demo data set and its loader live in
//! `receivables-demo`.)
//!
//! It is a library: the `receivables` binary exposes [`ClientCommand`] as subcommands, with
//! [`Connection`] flattened into its options, calls [`run`] with stdout, prints a returned
//! [`CliError`] (one line) and exits with [`CliError::exit_code`]. The renderers of
//! [`tables`] take response messages and a [`Format`], so that other commands (the demo)
//! print reports the same way.

pub mod cmd;
pub mod connection;
pub mod error;
pub mod events;
pub mod import;
pub mod paging;
pub mod sheet;
pub mod tables;
pub mod values;

pub use cmd::{ClientCommand, run};
pub use connection::Connection;
pub use error::CliError;
pub use sheet::Format;
