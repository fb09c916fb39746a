//! Pieces the benchmarks of this crate share (`receivables-loadgen`, `projection-bench`,
//! `audit-bench`, `account-bench`, `dashboard-bench`, `receipts-bench`).

pub mod history;
pub mod in_process;
pub mod memory;
pub mod raw_read;
pub mod scratch;
pub mod served_history;
pub mod timings;

/// The NATS server a benchmark runs against on its JetStream backend: the same flag for all.
#[derive(Debug, Clone, clap::Args)]
pub struct NatsArgs {
    /// NATS server to run against (the JetStream backends).
    #[arg(
        long,
        env = "RECEIVABLES_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
}

/// The PostgreSQL server a benchmark runs against on its server backends: the same flag for
/// all.
#[derive(Debug, Clone, clap::Args)]
pub struct PostgresArgs {
    /// PostgreSQL server; the benchmark creates and drops a database of its own on it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub database_url: String,
}

/// How a value of a command-line enum is spelled on the command line (`jetstream-postgres`).
pub fn value_name(value: &impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |possible| possible.get_name().to_owned())
}
