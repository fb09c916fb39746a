//! A balance that moves on business dates: what an invoice still owes, or the unapplied cash of
//! a currency, as of any date.
//!
//! Events may take effect on a date earlier than events already recorded (a reversal re-opens
//! an invoice from its own date, a credit note may be dated before a payment that came in
//! later). A decision that takes money out of a balance on a date must therefore leave it at or
//! above zero on that date *and on every later one*, or a report as of some later date would
//! show a negative open amount. [`DatedBalance::lowest_from`] is that bound.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The net movements of a balance per business date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedBalance {
    moves: BTreeMap<NaiveDate, Decimal>,
    total: Decimal,
}

impl DatedBalance {
    /// Moves the balance by `delta` (negative: takes out) from `date` on.
    pub fn add(&mut self, date: NaiveDate, delta: Decimal) {
        *self.moves.entry(date).or_default() += delta;
        self.total += delta;
    }

    /// The balance after every movement, whatever its date.
    pub fn total(&self) -> Decimal {
        self.total
    }

    /// The balance as of the end of `date`: the movements dated on or before it.
    pub fn on(&self, date: NaiveDate) -> Decimal {
        self.moves.range(..=date).map(|(_, delta)| *delta).sum()
    }

    /// The lowest the balance stands on `date` or any later date: the most a movement dated
    /// `date` may take out without making it negative on some day.
    pub fn lowest_from(&self, date: NaiveDate) -> Decimal {
        let mut balance = self.on(date);
        let mut lowest = balance;
        for (_, delta) in self
            .moves
            .range((std::ops::Bound::Excluded(date), std::ops::Bound::Unbounded))
        {
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
}
