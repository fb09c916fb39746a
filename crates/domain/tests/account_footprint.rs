//! The estimate of an account's memory (`account/footprint.rs`), by which the command service
//! bounds its cache in bytes, against what the allocator was actually asked for while the
//! account was built, for histories of several shapes and lengths.

mod support;

use std::alloc::System;

use receivables_domain::account::CustomerAccount;
use receivables_domain::event::Event;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use support::*;

/// Counts what is asked of the system allocator. The counts are the whole process's: this file
/// has one test, so that no other test's thread allocates meanwhile.
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Builds customer C-1's account from `events` (made one at a time and dropped once applied),
/// and returns it with the bytes it holds on the heap as the allocator counted them, plus the
/// struct itself.
fn built(events: impl Iterator<Item = Event>) -> (CustomerAccount, usize) {
    let region = Region::new(ALLOCATOR);
    let mut account = Box::new(CustomerAccount::new(customer_id()));
    for (index, event) in events.enumerate() {
        let recorded = recorded_after(&account, event, index as u64 + 1);
        account.apply(&recorded).expect("the history applies");
    }
    let change = region.change();
    // A reallocation counts its growth as allocated, its shrinking as deallocated.
    let measured = change
        .bytes_allocated
        .checked_sub(change.bytes_deallocated)
        .expect("the account holds memory");
    (*account, measured)
}

/// `cycles` times: four invoices of 1,000.00, then one payment of 4,000.00 allocated to the
/// four (the soak's load: nothing stays open).
fn paid_cycles(cycles: usize) -> impl Iterator<Item = Event> {
    (0..cycles).flat_map(|cycle| {
        let numbers: Vec<String> = (0..4).map(|n| format!("INV-{cycle:06}-{n}")).collect();
        let mut payment = payment(cny("4000.00"));
        for number in &numbers {
            payment = payment.allocate(key(SUB_A, number), cny("1000.00"));
        }
        numbers
            .iter()
            .map(|number| invoice(number).amount(cny("1000.00")).event())
            .chain(std::iter::once(payment.event()))
            .collect::<Vec<_>>()
    })
}

/// `count` invoices left open, from two subsidiaries, with a promise on every tenth.
fn open_invoices(count: usize) -> impl Iterator<Item = Event> {
    (0..count).flat_map(|n| {
        let subsidiary = if n % 2 == 0 { SUB_A } else { SUB_B };
        let number = format!("INV-{n:07}");
        let issued = invoice(&number).at(subsidiary).event();
        let promise = (n % 10 == 9).then(|| {
            promise(cny("1000.00"))
                .at(subsidiary)
                .covering(key(subsidiary, &number))
                .event()
        });
        std::iter::once(issued).chain(promise)
    })
}

/// The estimate is within this factor of the bytes counted, either way.
const WITHIN: f64 = 1.25;

fn assert_close(history: &str, account: &CustomerAccount, measured: usize) {
    let estimated = account.estimated_bytes();
    let ratio = estimated as f64 / measured as f64;
    println!(
        "{history}: {} events, {measured} bytes counted, {estimated} estimated ({ratio:.2})",
        account.event_count()
    );
    assert!(
        (1.0 / WITHIN..=WITHIN).contains(&ratio),
        "{history}: estimated {estimated} bytes, the allocator counted {measured} ({ratio:.2})"
    );
}

#[test]
fn an_accounts_estimated_memory_is_within_a_quarter_of_what_it_holds_and_grows_with_it() {
    // What is made once per process (lazily built tables, the test harness's output) is made
    // before anything is counted.
    drop(built(paid_cycles(2)));
    drop(built(open_invoices(20)));
    for cycles in [20, 200, 2_000] {
        // Given an account built from cycles of four invoices and the payment of all four
        let (account, measured) = built(paid_cycles(cycles));
        // Then its estimate is close to what the allocator counted
        assert_close(&format!("{cycles} paid cycles"), &account, measured);
    }
    for invoices in [100, 1_000, 10_000] {
        // Given an account of open invoices from two subsidiaries, a promise on every tenth
        let (account, measured) = built(open_invoices(invoices));
        // Then its estimate is close to what the allocator counted
        assert_close(&format!("{invoices} open invoices"), &account, measured);
    }
    // Given two accounts of the same shape, one ten times as long
    let (short, _) = built(paid_cycles(100));
    let (long, _) = built(paid_cycles(1_000));
    // Then the longer is estimated at least nine times the shorter's size
    assert!(
        long.estimated_bytes() >= 9 * short.estimated_bytes(),
        "{} against {}",
        long.estimated_bytes(),
        short.estimated_bytes()
    );
}
