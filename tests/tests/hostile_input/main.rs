//! Hostile input that changes nothing: fuzz targets for command validation and event decoding,
//! each run for a bounded time.
//!
//! - `commands`: scenarios of gRPC requests (`IssueInvoice`, `RecordPayment`,
//!   `ChangeCreditLimit`, `RecordPromiseToPay`, and retries of earlier ones) sent in-process to
//!   the real command service over an embedded event log of their own. The requests mix valid
//!   values with near-valid ones (an id with one bad character, an amount with one decimal too
//!   many or a huge exponent, a date just out of range, one allocation too many, an overlong
//!   field) and arbitrary ones. Properties: nothing panics; every refusal is `INVALID_ARGUMENT`,
//!   `FAILED_PRECONDITION` or `ALREADY_EXISTS` with the details its code promises (never
//!   `INTERNAL` or `UNKNOWN`); the log grows by exactly one event per newly accepted command and
//!   not at all otherwise; and every event in the log decodes, re-encodes to the same bytes,
//!   records the amount its request asked for, is valid by the domain's rules (restated in
//!   `validity.rs`), passes the hash-chain verification and replays into accounts equal to the
//!   service's own.
//! - `events`: `codec::decode` on arbitrary bytes and on valid encoded events cut, bit-flipped,
//!   spliced, with a member given twice, with their type swapped, with fields of their JSON
//!   changed, or mixed member by member with hostile values and other events (mostly with the
//!   hash sealed again). Properties: nothing panics, a refusal is always `Corrupt` at the right
//!   position, and whatever decodes is a valid event that encodes and decodes to itself, chains,
//!   and is applied by a fresh account.
//!
//! Each target first replays its corpus (`tests/fuzz-corpus/commands/*.json`, scenarios as JSON;
//! `tests/fuzz-corpus/events/*`, encoded events, plus the events the command seeds produce),
//! then generates cases (fresh ones and mutations of the seeds) until its budget is spent:
//! `RECEIVABLES_FUZZ_SECONDS` per target, 10 by default; CI sets 60. Each run prints its number
//! of cases. A failing case is shrunk, its seed saved in `tests/proptest-regressions/` and the
//! shrunk input in the corpus (as `found-<digest>`); commit both, and add a regular test for the
//! bug next to its fix.
//!
//! To fuzz longer locally, in release mode for more cases per second:
//!
//! ```sh
//! RECEIVABLES_FUZZ_SECONDS=1800 cargo test --release -p receivables-tests --test hostile_input
//! RECEIVABLES_FUZZ_SECONDS=600 cargo test -p receivables-tests --test hostile_input -- events
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod commands;
mod events;
mod fuzz;
mod validity;
mod values;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use fuzz::Target;
use proptest::test_runner::TestCaseError;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz-corpus")
        .join(name)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

fn commands_target() -> Target {
    Target {
        name: "commands",
        corpus: corpus("commands"),
        regressions: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/hostile_input/commands.txt"
        ),
    }
}

fn events_target() -> Target {
    Target {
        name: "events",
        corpus: corpus("events"),
        regressions: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/hostile_input/events.txt"
        ),
    }
}

/// The command corpus's scenarios, each checked as it is.
fn replay_command_seeds(
    target: &Target,
    runtime: &tokio::runtime::Runtime,
    template: &commands::Template,
) -> Vec<commands::Scenario> {
    let mut seeds = Vec::new();
    for path in target.seed_files() {
        let scenario = commands::read_seed(&path);
        if let Err(problem) = runtime.block_on(commands::run_scenario(template, &scenario)) {
            panic!("the seed {} fails: {problem}", path.display());
        }
        seeds.push(scenario);
    }
    seeds
}

#[test]
fn commands() {
    let target = commands_target();
    let runtime = runtime();
    let template = runtime.block_on(commands::Template::create());
    let seeds = replay_command_seeds(&target, &runtime, &template);
    let strategy = commands::strategy(seeds.clone());
    let report = fuzz::run_for(
        &target,
        fuzz::budget(),
        seeds.len(),
        &strategy,
        |scenario| {
            runtime
                .block_on(commands::run_scenario(&template, &scenario))
                .map_err(TestCaseError::fail)
        },
        |scenario| target.keep(&commands::scenario_json(scenario), "json"),
    );
    report.print(target.name);
    fuzz::say(&format!(
        "hostile input, commands: {} requests sent, {} appended an event",
        commands::REQUESTS.load(Ordering::Relaxed),
        commands::APPENDED.load(Ordering::Relaxed)
    ));
    fuzz::say(&format!(
        "hostile input, commands: refused {}",
        commands::refusals_summary()
    ));
}

#[test]
fn events() {
    let target = events_target();
    let runtime = runtime();
    let template = runtime.block_on(commands::Template::create());
    let mut seeds = Vec::new();
    for path in target.seed_files() {
        let bytes = std::fs::read(&path).expect("a seed event");
        if let Err(problem) = events::check_bytes(&bytes) {
            panic!("the seed {} fails: {problem}", path.display());
        }
        seeds.push(bytes);
    }
    // The events the command seeds produce, as this version encodes them.
    let committed = seeds.len();
    for path in commands_target().seed_files() {
        let scenario = commands::read_seed(&path);
        runtime.block_on(async {
            let world = commands::World::open(&template).await;
            for step in &scenario.steps {
                commands::send_ignoring_outcome(&world, step).await;
            }
            for (_, _, payload) in world.raw_events().await {
                seeds.push(payload);
            }
            world.close().await;
        });
    }
    let strategy = events::strategy(seeds.clone());
    let report = fuzz::run_for(
        &target,
        fuzz::budget(),
        committed,
        &strategy,
        |input| events::check_bytes(&input.bytes()).map_err(TestCaseError::fail),
        |input| target.keep(&input.bytes(), "event"),
    );
    report.print(target.name);
    fuzz::say(&format!(
        "hostile input, events: {} inputs decoded as events",
        events::DECODED.load(Ordering::Relaxed)
    ));
}

/// Found by this fuzzing: two invoices of the largest amount under a `WARN` limit took the
/// recorded exposure above the largest amount, and the second invoice's event, once written,
/// could not be read back: the customer's account could no longer be loaded.
#[test]
fn an_exposure_above_the_largest_amount_is_read_back() {
    let runtime = runtime();
    runtime.block_on(async {
        let template = commands::Template::create().await;
        let scenario =
            commands::read_seed(&corpus("commands").join("warn-limit-large-exposure.json"));
        commands::run_scenario(&template, &scenario).await.unwrap();
        let world = commands::World::open(&template).await;
        for step in &scenario.steps {
            commands::send_ignoring_outcome(&world, step).await;
        }
        // A service with nothing cached loads the account from the log.
        let fresh = receivables::execution::Executor::new(
            std::sync::Arc::clone(&world.log),
            receivables::accounts::CacheBounds::customers(1),
        );
        let customer = receivables_domain::CustomerId::parse("ACME").unwrap();
        let account = fresh.account(&customer).await.unwrap();
        // The limit, both invoices and the promise; the payment of an amount with 31 decimals
        // is refused.
        assert_eq!(account.event_count(), 4);
        world.close().await;
    });
}
