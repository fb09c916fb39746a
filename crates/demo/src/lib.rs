//! The demo data set: a realistic year of a small corporate group's receivables, generated from
//! a seed and loaded through the gRPC API.
//!
//! Three subsidiaries (`SH-TRADING`, `SZ-ELECTRONICS`, `HK-SERVICES`) sell on credit to a few
//! hundred customers, mostly in CNY, some in USD or HKD (one currency per customer, so that the
//! group-wide limit is kept in the currency the customer is invoiced in). The credit department
//! grades every customer A-D and sets a limit under policy BLOCK or WARN; the customers pay as
//! their grade suggests (A early or on time, B mostly on time, C late or in parts, D late, in
//! parts or not at all), by bank transfer, Alipay, WeChat Pay, cheque..., with remittance advice
//! (explicit allocations) or without (oldest due first); collectors record promises to pay,
//! some kept, some partially kept, some broken, some still open; a few invoices are planted to
//! break a BLOCK limit. A few percent of the customers take rarer turns: goods returned (credit
//! notes), disputes (expired, withdrawn, or upheld with a credit note), a bounced payment
//! (reversed, then paid again), payments taken on account and applied later, overpayments and
//! rebates on account refunded or applied, and a few bad debts, which credit control writes off
//! ([`DemoCommand::role`] says who posts what).
//!
//! [`generate`] simulates every customer's account with the domain's own aggregate
//! (`receivables_domain::CustomerAccount`): each fact the simulation produces goes through the
//! same request parsing and the same `decide` and `apply` as in the command service, so that
//! exposure, oldest-due-first allocation and the promise ceiling are the service's rules, not
//! copies of them. Every command it produces is accepted except the planted over-limit invoices,
//! which the account itself refuses with `CREDIT_LIMIT_EXCEEDED`. It is a pure function of the
//! seed, the size and `today`: the same arguments give the same commands, command ids included,
//! so that loading them again records nothing new (the service answers every command with its
//! first reply).
//!
//! [`load`] posts the commands through `CommandService`: many customers at once, each customer's
//! commands strictly in order (the service decides each one against the account the earlier
//! ones built), and returns what was accepted and refused with the totals a report must show.
//!
//! Dependencies point one way: this crate uses the domain and the API's wire messages and
//! request parsing, never the command-line client or the server (which use it).

mod commands;
mod dates;
mod draw;
mod generate;
mod group;
mod load;
mod profiles;
mod simulation;
mod size;
mod wire;

pub use commands::{CommandKind, DemoCommand, KindCounts};
pub use generate::{generate, window_start};
pub use load::{
    ATTEMPTS_PER_COMMAND_MAX, COMMAND_TIMEOUT, CUSTOMERS_IN_FLIGHT_MAX, CurrencyTotals,
    LoadSummary, REASON_CREDIT_LIMIT_EXCEEDED, load,
};
pub use size::{CUSTOMERS_MAX, DemoSize, MONTHS_MAX};

#[cfg(test)]
mod tests;
