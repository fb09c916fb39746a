//! Business dates: working days, month ends, payment runs.

use chrono::{Datelike, Months, NaiveDate, TimeDelta, Weekday};

pub(crate) fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(TimeDelta::days(days))
        .unwrap_or(date)
}

pub(crate) fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Saturdays and Sundays move on to Monday.
pub(crate) fn next_working_day(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => add_days(date, 2),
        Weekday::Sun => add_days(date, 1),
        _ => date,
    }
}

/// Saturdays and Sundays move back to Friday.
pub(crate) fn previous_working_day(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => add_days(date, -1),
        Weekday::Sun => add_days(date, -2),
        _ => date,
    }
}

/// A working day in `[from, to]` near `date` (the day itself when it is one).
pub(crate) fn working_day_within(date: NaiveDate, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let before = previous_working_day(date);
    if before >= from {
        return before;
    }
    let after = next_working_day(date);
    if after <= to { after } else { date }
}

pub(crate) fn month_end(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    first
        .checked_add_months(Months::new(1))
        .map_or(date, |next| add_days(next, -1))
}

/// The next payment run on or after `date`: the 10th or the 25th of a month.
pub(crate) fn next_payment_run(date: NaiveDate) -> NaiveDate {
    let run = if date.day() <= 10 {
        date.with_day(10)
    } else if date.day() <= 25 {
        date.with_day(25)
    } else {
        date.with_day(1)
            .and_then(|first| first.checked_add_months(Months::new(1)))
            .and_then(|next| next.with_day(10))
    };
    run.unwrap_or(date)
}

/// The last quarter end (31 March, 30 June, 30 September, 31 December) on or before `date`.
pub(crate) fn quarter_end_on_or_before(date: NaiveDate) -> NaiveDate {
    if date.month().is_multiple_of(3) && month_end(date) == date {
        return date;
    }
    let quarter_first_month = (date.month() - 1) / 3 * 3 + 1;
    NaiveDate::from_ymd_opt(date.year(), quarter_first_month, 1)
        .map_or(date, |first| add_days(first, -1))
}
