//! A balance that moves on business dates: what an invoice still owes, or the unapplied cash of
//! a currency, as of any date.
//!
//! Events may take effect on a date earlier than events already recorded (a reversal re-opens
//! an invoice from its own date, a credit note may be dated before a payment that came in
//! later). A decision that takes money out of a balance on a date must therefore leave it at or
//! above zero on that date *and on every later one*, or a report as of some later date would
//! show a negative open amount. [`DatedBalance::lowest_from`] is that bound.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Movements kept without room to spare: an invoice's balance has one to a few (its issue and
/// its settlements), and an account keeps one per invoice of its history, so a list that grows
/// by doubling, or a tree node of eleven, would mostly be empty room.
const MOVES_KEPT_EXACT: usize = 4;

/// The net movements of a balance per business date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedBalance {
    /// The net movement of each date that has one, in date order, each date once.
    moves: Vec<(NaiveDate, Decimal)>,
    total: Decimal,
}

impl DatedBalance {
    /// The bytes its movements hold on the heap (`account/footprint.rs`).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.moves.capacity() * std::mem::size_of::<(NaiveDate, Decimal)>()
    }

    /// Moves the balance by `delta` (negative: takes out) from `date` on.
    pub fn add(&mut self, date: NaiveDate, delta: Decimal) {
        match self.moves.binary_search_by_key(&date, |(on, _)| *on) {
            Ok(index) => self.moves[index].1 += delta,
            Err(index) => {
                if self.moves.len() < MOVES_KEPT_EXACT {
                    self.moves.reserve_exact(1);
                }
                self.moves.insert(index, (date, delta));
            }
        }
        self.total += delta;
    }

    /// The balance after every movement, whatever its date.
    pub fn total(&self) -> Decimal {
        self.total
    }

    /// The number of movements dated on or before `date`.
    fn dated_until(&self, date: NaiveDate) -> usize {
        self.moves.partition_point(|(on, _)| *on <= date)
    }

    /// The balance as of the end of `date`: the movements dated on or before it.
    pub fn on(&self, date: NaiveDate) -> Decimal {
        self.moves[..self.dated_until(date)]
            .iter()
            .map(|(_, delta)| *delta)
            .sum()
    }

    /// The lowest the balance stands on `date` or any later date: the most a movement dated
    /// `date` may take out without making it negative on some day.
    pub fn lowest_from(&self, date: NaiveDate) -> Decimal {
        let until = self.dated_until(date);
        let mut balance: Decimal = self.moves[..until].iter().map(|(_, delta)| *delta).sum();
        let mut lowest = balance;
        for (_, delta) in &self.moves[until..] {
            balance += *delta;
            lowest = lowest.min(balance);
        }
        lowest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("a date")
    }

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn the_lowest_point_after_a_date_bounds_what_it_may_take() {
        // Given 1,000.00 from the 1st, 1,000.00 paid on the 5th and 400.00 re-opened on the 10th
        let mut balance = DatedBalance::default();
        balance.add(day(1), dec("1000.00"));
        balance.add(day(5), dec("-1000.00"));
        balance.add(day(10), dec("400.00"));
        // Then it stands at 1,000.00 on the 3rd, 0 on the 7th and 400.00 at the end
        assert_eq!(balance.on(day(3)), dec("1000.00"));
        assert_eq!(balance.on(day(7)), dec("0.00"));
        assert_eq!(balance.total(), dec("400.00"));
        // And nothing may be taken out on the 3rd (it is 0 on the 5th to the 9th), 400.00 on
        // the 10th or later, nothing before the balance began
        assert_eq!(balance.lowest_from(day(3)), dec("0.00"));
        assert_eq!(balance.lowest_from(day(10)), dec("400.00"));
        assert_eq!(balance.lowest_from(day(20)), dec("400.00"));
        let before = NaiveDate::from_ymd_opt(2026, 2, 1).expect("a date");
        assert_eq!(balance.lowest_from(before), Decimal::ZERO);
    }

    #[test]
    fn movements_recorded_out_of_date_order_count_by_their_dates() {
        // Given 400.00 re-opened on the 10th, then 1,000.00 from the 1st, 1,000.00 paid on the
        // 5th, and 300.00 more on the 1st (recorded in that order)
        let mut balance = DatedBalance::default();
        balance.add(day(10), dec("400.00"));
        balance.add(day(1), dec("1000.00"));
        balance.add(day(5), dec("-1000.00"));
        balance.add(day(1), dec("300.00"));
        // Then the 1st holds one movement of 1,300.00: 1,300.00 on the 1st to the 4th, 300.00
        // on the 5th to the 9th, 700.00 from the 10th
        assert_eq!(balance.moves.len(), 3);
        assert_eq!(balance.on(day(1)), dec("1300.00"));
        assert_eq!(balance.on(day(4)), dec("1300.00"));
        assert_eq!(balance.on(day(7)), dec("300.00"));
        assert_eq!(balance.on(day(10)), dec("700.00"));
        assert_eq!(balance.total(), dec("700.00"));
        // And at most 300.00 may be taken out on the 2nd (it stands at 300.00 on the 5th)
        assert_eq!(balance.lowest_from(day(2)), dec("300.00"));
        assert_eq!(balance.lowest_from(day(12)), dec("700.00"));
    }
}
