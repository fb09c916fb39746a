//! What the statement tests share: fixtures, money and dates written briefly.
#![allow(dead_code, reason = "each test file uses its own part of the support")]

use chrono::NaiveDate;
use receivables_domain::money::{Currency, Money};
use receivables_statements::{Problem, StatementError, StatementLine};

/// A fixture file under `tests/files`.
pub fn file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/files")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("fixture {name}: {error}"))
}

pub fn money(amount: &str, currency: &str) -> Money {
    Money::positive(amount, Currency::parse(currency).expect("a currency")).expect("an amount")
}

pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a date")
}

pub fn text(value: &str) -> Option<String> {
    Some(value.to_owned())
}

/// Whether an id has the shape of a derived one: `derived:` and 32 lower-case hex digits.
pub fn is_derived(id: &str) -> bool {
    id.strip_prefix("derived:").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Checks a line whose id was derived against what is expected of everything else.
pub fn assert_derived(actual: &StatementLine, expected: StatementLine) {
    assert!(
        actual.id_derived,
        "line {} has an id of its own",
        actual.ordinal
    );
    assert!(
        is_derived(&actual.bank_transaction_id),
        "{:?} is not a derived id",
        actual.bank_transaction_id
    );
    assert_eq!(
        *actual,
        StatementLine {
            bank_transaction_id: actual.bank_transaction_id.clone(),
            id_derived: true,
            ..expected
        }
    );
}

pub fn problem(line: Option<usize>, field: &str) -> (Option<usize>, String) {
    (line, field.to_owned())
}

/// The (line, field) of each problem, in order, for comparing with what a test expects.
pub fn places(error: &StatementError) -> Vec<(Option<usize>, String)> {
    error
        .problems
        .iter()
        .map(|Problem { line, field, .. }| (*line, field.clone()))
        .collect()
}

/// Asserts that a problem's message says what it should.
pub fn assert_message(problem: &Problem, needle: &str) {
    assert!(
        problem.message.contains(needle),
        "{:?} does not say {needle:?}",
        problem.message
    );
}
