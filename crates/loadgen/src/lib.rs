//! Pieces the benchmarks of this crate share (`receivables-loadgen`, `projection-bench` and
//! `audit-bench`).

pub mod history;
pub mod raw_read;
pub mod scratch;

/// How a value of a command-line enum is spelled on the command line (`jetstream-postgres`).
pub fn value_name(value: &impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(String::new, |possible| possible.get_name().to_owned())
}
