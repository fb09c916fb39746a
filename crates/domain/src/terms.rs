//! Payment terms: when an invoice falls due, in one payment or in several, and the discount
//! for paying early. The value types and their arithmetic; the group's named templates
//! (`account/payment_terms.rs`), invoices with schedules (`account/invoice.rs`) and instalment
//! plans (`account/instalment_plan.rs`) build on them.
//!
//! A due rule gives a due date from an issue date:
//!
//! - net `n` days: the issue date plus `n` days (net 0 is "due on receipt");
//! - `n` days after the end of the month: the last day of the issue date's month plus `n` days
//!   ("30 days end of month");
//! - day `d` of the next month: that day of the month after the issue date's, or the month's
//!   last day when it is shorter (day 31 in February is the 28th, or the 29th in a leap year).
//!
//! Terms are one or more lines, each a portion of the amount (a percentage, up to two decimals)
//! with its own rule, the portions adding up to exactly 100 % ("30 % now, 50 % in 60 days, 20 %
//! in 90"). The schedule of an amount lists a row per due date in due order (lines falling due
//! the same day are one row): each line's amount is its portion, rounded half away from zero
//! to the currency's minor units, and the last row takes what rounding left over, so that the
//! rows add up to the amount exactly.
//!
//! An early-payment discount ("2/10 net 30") allows a percentage off the amount for a payment
//! within a number of days of the issue date.
//!
//! A schedule's rows are paid in due order: whatever has been taken off an invoice (payments,
//! credit notes, write-offs, discounts) settles its earliest rows first, so that the open
//! amount of each row follows from the invoice's open amount alone ([`open_by_row`]). The
//! reports compute it the same way in SQL (`projections/src/open_amounts.rs`).

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::ids::TermsCode;
use crate::limits::{PAYMENT_TERMS_DAYS_MAX, SCHEDULE_LINES_MAX, SCHEDULE_ROWS_MAX};
use crate::money::Money;
use crate::refusal::FieldViolation;

/// Decimal places of a portion or a discount percentage.
pub const PERCENT_DECIMALS_MAX: u32 = 2;

/// How one line of terms falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueRule {
    /// The issue date plus this many days.
    NetDays(u32),
    /// The last day of the issue date's month plus this many days.
    DaysAfterMonthEnd(u32),
    /// This day (1 to 31) of the month after the issue date's, or that month's last day.
    DayOfNextMonth(u32),
}

impl DueRule {
    /// The due date of an invoice issued on `issue_date`; `None` only past the calendar's end.
    pub fn due_date(self, issue_date: NaiveDate) -> Option<NaiveDate> {
        match self {
            DueRule::NetDays(days) => issue_date.checked_add_days(Days::new(u64::from(days))),
            DueRule::DaysAfterMonthEnd(days) => {
                month_end(issue_date)?.checked_add_days(Days::new(u64::from(days)))
            }
            DueRule::DayOfNextMonth(day) => {
                let next_month = issue_date.with_day(1)?.checked_add_months(Months::new(1))?;
                let last = month_end(next_month)?.day();
                next_month.with_day(day.clamp(1, last))
            }
        }
    }

    /// The rule's own bounds, violations under `path`.
    pub fn check(self, violations: &mut Vec<FieldViolation>, path: &str) {
        match self {
            DueRule::NetDays(days) | DueRule::DaysAfterMonthEnd(days)
                if days > PAYMENT_TERMS_DAYS_MAX =>
            {
                violations.push(FieldViolation::new(
                    path,
                    format!("at most {PAYMENT_TERMS_DAYS_MAX} days, got {days}"),
                ));
            }
            DueRule::DayOfNextMonth(day) if !(1..=31).contains(&day) => {
                violations.push(FieldViolation::new(
                    path,
                    format!("a day of the month is 1 to 31, got {day}"),
                ));
            }
            _ => {}
        }
    }
}

/// The last day of `date`'s month.
fn month_end(date: NaiveDate) -> Option<NaiveDate> {
    date.with_day(1)?
        .checked_add_months(Months::new(1))?
        .pred_opt()
}

/// One line of terms: a portion of the amount, due by its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsLine {
    /// Percent of the amount, greater than 0, with at most [`PERCENT_DECIMALS_MAX`] decimals.
    pub portion: Decimal,
    pub due: DueRule,
}

/// A discount for paying early: `percent` off for a payment within `within_days` of the
/// issue date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyPaymentDiscount {
    /// Greater than 0 and less than 100, with at most [`PERCENT_DECIMALS_MAX`] decimals.
    pub percent: Decimal,
    pub within_days: u32,
}

impl EarlyPaymentDiscount {
    /// Its bounds, each violation under `path` (`terms.discount`): a percentage above 0 and
    /// below 100 with at most [`PERCENT_DECIMALS_MAX`] decimals, within at most
    /// [`PAYMENT_TERMS_DAYS_MAX`] days.
    pub fn check(&self, violations: &mut Vec<FieldViolation>, path: &str) {
        if let Some(problem) = percent_problem(self.percent, Decimal::ONE_HUNDRED, true) {
            violations.push(FieldViolation::new(format!("{path}.percent"), problem));
        }
        if self.within_days > PAYMENT_TERMS_DAYS_MAX {
            violations.push(FieldViolation::new(
                format!("{path}.within_days"),
                format!(
                    "at most {PAYMENT_TERMS_DAYS_MAX} days, got {}",
                    self.within_days
                ),
            ));
        }
    }

    /// The last day a payment earns the discount.
    pub fn last_day(&self, issue_date: NaiveDate) -> Option<NaiveDate> {
        issue_date.checked_add_days(Days::new(u64::from(self.within_days)))
    }

    /// What a payment of `paid` applied to the invoice earns: the discount `d` with
    /// `d <= (paid + d) x percent`, the percentage of the gross amount the payment and the
    /// discount settle together (`paid x percent / (100 - percent)`), rounded down to the
    /// currency's minor units so that it never exceeds the terms.
    pub fn earned_by(&self, paid: Money) -> Money {
        let earned = (paid.amount() * self.percent / (Decimal::ONE_HUNDRED - self.percent))
            .round_dp_with_strategy(paid.currency().minor_units(), RoundingStrategy::ToZero);
        Money::of(earned, paid.currency())
    }

    /// The most that may be taken off `amount`: its `percent`, rounded half away from zero to
    /// the currency's minor units.
    pub fn most_off(&self, amount: Money) -> Money {
        let off = (amount.amount() * self.percent / Decimal::ONE_HUNDRED).round_dp_with_strategy(
            amount.currency().minor_units(),
            RoundingStrategy::MidpointAwayFromZero,
        );
        Money::of(off, amount.currency())
    }
}

/// Payment terms: the lines, and an optional discount for paying early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTerms {
    pub lines: Vec<TermsLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<EarlyPaymentDiscount>,
}

/// One row of a schedule: an amount due on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRow {
    pub due_date: NaiveDate,
    pub amount: Money,
}

/// Whether `value` is a percentage with at most [`PERCENT_DECIMALS_MAX`] decimals in
/// `(0, max]` (or `(0, max)` when `max_open`).
fn percent_problem(value: Decimal, max: Decimal, max_open: bool) -> Option<String> {
    let above = if max_open { value >= max } else { value > max };
    if value <= Decimal::ZERO || above {
        let bound = if max_open { "below" } else { "at most" };
        return Some(format!("must be above 0 and {bound} {max}, got {value}"));
    }
    (value.normalize().scale() > PERCENT_DECIMALS_MAX)
        .then(|| format!("at most {PERCENT_DECIMALS_MAX} decimals, got {value}"))
}

impl PaymentTerms {
    /// Every rule of the terms, each violation under `prefix` (`terms`): one to
    /// [`SCHEDULE_LINES_MAX`] lines, each portion and rule within bounds, the portions adding
    /// up to exactly 100 %, a discount within bounds.
    pub fn check(&self, prefix: &str) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        if self.lines.is_empty() || self.lines.len() > SCHEDULE_LINES_MAX {
            violations.push(FieldViolation::new(
                format!("{prefix}.lines"),
                format!("1 to {SCHEDULE_LINES_MAX} lines, got {}", self.lines.len()),
            ));
        }
        let mut total = Decimal::ZERO;
        for (index, line) in self.lines.iter().enumerate() {
            let path = format!("{prefix}.lines[{index}]");
            if let Some(problem) = percent_problem(line.portion, Decimal::ONE_HUNDRED, false) {
                violations.push(FieldViolation::new(format!("{path}.portion"), problem));
            }
            line.due.check(&mut violations, &format!("{path}.due"));
            total += line.portion;
        }
        if !self.lines.is_empty() && total != Decimal::ONE_HUNDRED {
            violations.push(FieldViolation::new(
                format!("{prefix}.lines"),
                format!("the portions add up to {total} %, not 100 %"),
            ));
        }
        if let Some(discount) = &self.discount {
            discount.check(&mut violations, &format!("{prefix}.discount"));
        }
        violations
    }

    /// The schedule of `amount` issued on `issue_date` (see the module's documentation), or
    /// `None` past the calendar's end. The terms are assumed checked.
    pub fn schedule(&self, issue_date: NaiveDate, amount: Money) -> Option<Vec<ScheduleRow>> {
        let currency = amount.currency();
        let mut rows: Vec<(NaiveDate, Decimal)> = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let part = (amount.amount() * line.portion / Decimal::ONE_HUNDRED)
                .round_dp_with_strategy(
                    currency.minor_units(),
                    RoundingStrategy::MidpointAwayFromZero,
                );
            rows.push((line.due.due_date(issue_date)?, part));
        }
        rows.sort_by_key(|(due_date, _)| *due_date);
        // Lines falling due the same day are one row: a date owes one amount.
        rows.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 += later.1;
            }
            same
        });
        let before_last: Decimal = rows.iter().rev().skip(1).map(|(_, part)| *part).sum();
        if let Some(last) = rows.last_mut() {
            last.1 = amount.amount() - before_last;
        }
        Some(
            rows.into_iter()
                .map(|(due_date, part)| ScheduleRow {
                    due_date,
                    amount: Money::of(part, currency),
                })
                .collect(),
        )
    }
}

/// The rules of a schedule given row by row (an invoice's explicit schedule, an instalment
/// plan), each violation under `path` (`schedule`): one to [`SCHEDULE_ROWS_MAX`] rows, each
/// positive and in `total`'s currency, due on or after `earliest`, in due order with one row per
/// date, adding up to `total` exactly.
pub fn check_schedule(
    violations: &mut Vec<FieldViolation>,
    path: &str,
    rows: &[ScheduleRow],
    total: Money,
    earliest: NaiveDate,
    earliest_name: &str,
) {
    if rows.is_empty() || rows.len() > SCHEDULE_ROWS_MAX {
        violations.push(FieldViolation::new(
            path,
            format!("1 to {SCHEDULE_ROWS_MAX} rows, got {}", rows.len()),
        ));
        return;
    }
    let mut sum = Decimal::ZERO;
    let mut previous: Option<NaiveDate> = None;
    let mut all_in_currency = true;
    for (index, row) in rows.iter().enumerate() {
        let row_path = format!("{path}[{index}]");
        if row.amount.currency() != total.currency() {
            all_in_currency = false;
            violations.push(FieldViolation::new(
                format!("{row_path}.amount"),
                format!(
                    "is in {}, the schedule is of {} in {}",
                    row.amount.currency(),
                    total,
                    total.currency()
                ),
            ));
        } else if row.amount.amount() <= Decimal::ZERO {
            violations.push(FieldViolation::new(
                format!("{row_path}.amount"),
                format!("must be positive, got {}", row.amount),
            ));
        }
        if row.due_date < earliest {
            violations.push(FieldViolation::new(
                format!("{row_path}.due_date"),
                format!("{} is before the {earliest_name} {earliest}", row.due_date),
            ));
        } else if previous.is_some_and(|p| row.due_date <= p) {
            violations.push(FieldViolation::new(
                format!("{row_path}.due_date"),
                format!(
                    "{} is not after the row above it: rows go in due order, one per date",
                    row.due_date
                ),
            ));
        }
        previous = Some(row.due_date);
        sum += row.amount.amount();
    }
    if all_in_currency && sum != total.amount() {
        violations.push(FieldViolation::new(
            path,
            format!(
                "the rows add up to {}, not {total}",
                Money::of(sum, total.currency())
            ),
        ));
    }
}

/// What each row of a schedule still owes when `open` of it is still owed, the rows paid in due
/// order (earliest first): the open amount is the latest part of the schedule. An open amount
/// above the rows' total (money owed again after a plan covering less was agreed) is owed with
/// the first row. The results add up to `open` (for `open` at least zero).
pub fn open_by_row(rows: &[ScheduleRow], open: Decimal) -> Vec<Decimal> {
    let total: Decimal = rows.iter().map(|r| r.amount.amount()).sum();
    let settled = total - open;
    let mut cumulative = Decimal::ZERO;
    let mut result = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        cumulative += row.amount.amount();
        let mut row_open = (cumulative - settled).clamp(Decimal::ZERO, row.amount.amount());
        if index == 0 && settled < Decimal::ZERO {
            row_open -= settled;
        }
        result.push(row_open);
    }
    result
}

/// A named template of payment terms, as the group defined it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsTemplate {
    pub description: String,
    pub terms: PaymentTerms,
}

/// The group's payment-terms templates by code (the group's own account keeps them; the
/// decisions of invoices given a template read them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentTermsBook {
    templates: BTreeMap<TermsCode, TermsTemplate>,
}

impl PaymentTermsBook {
    pub fn get(&self, code: &TermsCode) -> Option<&TermsTemplate> {
        self.templates.get(code)
    }

    /// Defines `code`, or replaces its template.
    pub fn define(&mut self, code: TermsCode, template: TermsTemplate) {
        self.templates.insert(code, template);
    }

    /// Every template, by code.
    pub fn iter(&self) -> impl Iterator<Item = (&TermsCode, &TermsTemplate)> {
        self.templates.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn money(text: &str, code: &str) -> Money {
        let currency = Currency::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        Money::of(dec(text), currency)
    }

    fn due(rule: DueRule, issued: &str) -> String {
        rule.due_date(date(issued))
            .map_or_else(|| "none".to_owned(), |d| d.to_string())
    }

    #[test]
    fn net_days_count_from_the_issue_date_across_month_ends_and_leap_days() {
        // 2026-01-31 + 30: 28 days of February take it to 02-28, 2 more to 03-02.
        assert_eq!(due(DueRule::NetDays(30), "2026-01-31"), "2026-03-02");
        // In 2024 February has 29 days: 03-01.
        assert_eq!(due(DueRule::NetDays(30), "2024-01-31"), "2024-03-01");
        assert_eq!(due(DueRule::NetDays(0), "2026-06-15"), "2026-06-15");
        assert_eq!(due(DueRule::NetDays(1), "2026-12-31"), "2027-01-01");
        // 2026-01-01 + 45 = 02-15.
        assert_eq!(due(DueRule::NetDays(45), "2026-01-01"), "2026-02-15");
    }

    #[test]
    fn days_after_the_month_end_count_from_the_last_day_of_the_issue_month() {
        // Issued mid-January: 01-31 + 30 = 03-02 (2026), 03-01 (2024).
        assert_eq!(
            due(DueRule::DaysAfterMonthEnd(30), "2026-01-15"),
            "2026-03-02"
        );
        assert_eq!(
            due(DueRule::DaysAfterMonthEnd(30), "2024-01-15"),
            "2024-03-01"
        );
        // Issued on the first or the last day of the month: the same month end.
        assert_eq!(
            due(DueRule::DaysAfterMonthEnd(30), "2026-01-01"),
            "2026-03-02"
        );
        assert_eq!(
            due(DueRule::DaysAfterMonthEnd(30), "2026-01-31"),
            "2026-03-02"
        );
        // End of month itself: February's last day, 28 or 29.
        assert_eq!(
            due(DueRule::DaysAfterMonthEnd(0), "2026-02-10"),
            "2026-02-28"
        );
        assert_eq!(
            due(DueRule::DaysAfterMonthEnd(0), "2024-02-10"),
            "2024-02-29"
        );
        // Across the year: 12-31 + 15 = 01-15.
        assert_eq!(
            due(DueRule::DaysAfterMonthEnd(15), "2026-12-05"),
            "2027-01-15"
        );
    }

    #[test]
    fn a_day_of_the_next_month_is_clamped_to_that_months_last_day() {
        assert_eq!(due(DueRule::DayOfNextMonth(10), "2026-01-31"), "2026-02-10");
        assert_eq!(due(DueRule::DayOfNextMonth(10), "2026-01-01"), "2026-02-10");
        assert_eq!(due(DueRule::DayOfNextMonth(10), "2026-12-20"), "2027-01-10");
        // Day 31 of February: the 28th, or the 29th in a leap year; of April: the 30th.
        assert_eq!(due(DueRule::DayOfNextMonth(31), "2026-01-05"), "2026-02-28");
        assert_eq!(due(DueRule::DayOfNextMonth(31), "2024-01-31"), "2024-02-29");
        assert_eq!(due(DueRule::DayOfNextMonth(31), "2026-03-01"), "2026-04-30");
        assert_eq!(due(DueRule::DayOfNextMonth(31), "2026-07-15"), "2026-08-31");
    }

    fn terms(lines: &[(&str, DueRule)]) -> PaymentTerms {
        PaymentTerms {
            lines: lines
                .iter()
                .map(|(portion, due)| TermsLine {
                    portion: dec(portion),
                    due: *due,
                })
                .collect(),
            discount: None,
        }
    }

    fn rows(schedule: &[ScheduleRow]) -> Vec<String> {
        schedule
            .iter()
            .map(|row| format!("{} {}", row.due_date, row.amount))
            .collect()
    }

    #[test]
    fn thirty_fifty_twenty_splits_by_portion_in_due_order() {
        let terms = terms(&[
            ("30", DueRule::NetDays(0)),
            ("50", DueRule::NetDays(60)),
            ("20", DueRule::NetDays(90)),
        ]);
        assert!(terms.check("terms").is_empty());
        // 2026-01-31 + 60 = 04-01 (28 + 31 + 1), + 90 = 05-01 (04-01 + 30).
        let schedule = terms
            .schedule(date("2026-01-31"), money("1000.00", "CNY"))
            .unwrap();
        assert_eq!(
            rows(&schedule),
            [
                "2026-01-31 300.00 CNY",
                "2026-04-01 500.00 CNY",
                "2026-05-01 200.00 CNY"
            ]
        );
    }

    #[test]
    fn the_last_row_takes_what_rounding_left_over() {
        let thirds = terms(&[
            ("33.33", DueRule::NetDays(30)),
            ("33.33", DueRule::NetDays(60)),
            ("33.34", DueRule::NetDays(90)),
        ]);
        assert!(thirds.check("terms").is_empty());
        // 100.01 x 33.33 % = 33.333333 -> 33.33 twice; the last: 100.01 - 66.66 = 33.35.
        let schedule = thirds
            .schedule(date("2026-03-01"), money("100.01", "CNY"))
            .unwrap();
        assert_eq!(
            rows(&schedule)
                .iter()
                .map(|r| r.split(' ').nth(1).unwrap())
                .collect::<Vec<_>>(),
            ["33.33", "33.33", "33.35"]
        );
        // 0.05 in halves: 0.025 rounds away from zero to 0.03; the last row 0.02.
        let halves = terms(&[("50", DueRule::NetDays(0)), ("50", DueRule::NetDays(30))]);
        let schedule = halves
            .schedule(date("2026-03-01"), money("0.05", "CNY"))
            .unwrap();
        assert_eq!(
            rows(&schedule),
            ["2026-03-01 0.03 CNY", "2026-03-31 0.02 CNY"]
        );
        // Without minor units: 1,000 JPY in thirds -> 333, 333, 334.
        let schedule = terms(&[
            ("33.33", DueRule::NetDays(0)),
            ("33.33", DueRule::NetDays(30)),
            ("33.34", DueRule::NetDays(60)),
        ])
        .schedule(date("2026-03-01"), money("1000", "JPY"))
        .unwrap();
        assert_eq!(
            rows(&schedule),
            [
                "2026-03-01 333 JPY",
                "2026-03-31 333 JPY",
                "2026-04-30 334 JPY"
            ]
        );
    }

    #[test]
    fn lines_given_out_of_order_are_scheduled_in_due_order() {
        let terms = terms(&[
            ("60", DueRule::DayOfNextMonth(10)),
            ("40", DueRule::NetDays(0)),
        ]);
        // 40 % on 03-20 itself, 60 % on 04-10; the last row in due order is the 60 %.
        let schedule = terms
            .schedule(date("2026-03-20"), money("99.99", "CNY"))
            .unwrap();
        // 99.99 x 40 % = 39.996 -> 40.00; the last: 99.99 - 40.00 = 59.99.
        assert_eq!(
            rows(&schedule),
            ["2026-03-20 40.00 CNY", "2026-04-10 59.99 CNY"]
        );
    }

    #[test]
    fn every_bad_part_of_the_terms_is_named() {
        let mut bad = terms(&[
            ("30", DueRule::NetDays(3_651)),
            ("0", DueRule::DayOfNextMonth(32)),
            ("69.999", DueRule::DaysAfterMonthEnd(30)),
        ]);
        bad.discount = Some(EarlyPaymentDiscount {
            percent: dec("100"),
            within_days: 10,
        });
        let fields: Vec<String> = bad.check("terms").into_iter().map(|v| v.field).collect();
        assert_eq!(
            fields,
            [
                "terms.lines[0].due",
                "terms.lines[1].portion",
                "terms.lines[1].due",
                "terms.lines[2].portion",
                "terms.lines",
                "terms.discount.percent",
            ]
        );
        // Portions adding up to 99 % or to nothing at all.
        let short = terms(&[("49", DueRule::NetDays(0)), ("50", DueRule::NetDays(30))]);
        assert_eq!(short.check("terms")[0].field, "terms.lines");
        assert!(short.check("terms")[0].description.contains("99"));
        assert_eq!(terms(&[]).check("terms")[0].field, "terms.lines");
        let many: Vec<(&str, DueRule)> = (0..=SCHEDULE_LINES_MAX)
            .map(|_| ("1", DueRule::NetDays(0)))
            .collect();
        assert!(
            terms(&many)
                .check("terms")
                .iter()
                .any(|v| v.description.starts_with("1 to"))
        );
    }

    #[test]
    fn rows_are_paid_in_due_order_and_an_excess_is_owed_with_the_first() {
        let rows = [
            ScheduleRow {
                due_date: date("2026-01-31"),
                amount: money("300.00", "CNY"),
            },
            ScheduleRow {
                due_date: date("2026-04-01"),
                amount: money("500.00", "CNY"),
            },
            ScheduleRow {
                due_date: date("2026-05-01"),
                amount: money("200.00", "CNY"),
            },
        ];
        let open = |o: &str| -> Vec<String> {
            open_by_row(&rows, dec(o))
                .iter()
                .map(|d| d.normalize().to_string())
                .collect()
        };
        // Nothing paid: every row whole.
        assert_eq!(open("1000.00"), ["300", "500", "200"]);
        // 450 paid: the first row (300) and 150 of the second.
        assert_eq!(open("550.00"), ["0", "350", "200"]);
        // 900.01 paid: only 99.99 of the last row left.
        assert_eq!(open("99.99"), ["0", "0", "99.99"]);
        assert_eq!(open("0"), ["0", "0", "0"]);
        // 50 more than the rows' total is owed: with the first row.
        assert_eq!(open("1050.00"), ["350", "500", "200"]);
    }

    #[test]
    fn a_schedule_given_row_by_row_names_every_bad_row() {
        let row = |due: &str, amount: &str, code: &str| ScheduleRow {
            due_date: date(due),
            amount: money(amount, code),
        };
        let total = money("1000.00", "CNY");
        let mut violations = Vec::new();
        check_schedule(
            &mut violations,
            "schedule",
            &[
                row("2026-02-28", "400.00", "CNY"),
                row("2026-02-27", "300.00", "USD"),
                row("2026-01-01", "0", "CNY"),
            ],
            total,
            date("2026-01-31"),
            "issue date",
        );
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "schedule[1].amount",
                "schedule[1].due_date",
                "schedule[2].amount",
                "schedule[2].due_date"
            ]
        );
        // Rows in the right currency that do not add up.
        let mut violations = Vec::new();
        check_schedule(
            &mut violations,
            "schedule",
            &[
                row("2026-02-28", "400.00", "CNY"),
                row("2026-03-31", "599.99", "CNY"),
            ],
            total,
            date("2026-01-31"),
            "issue date",
        );
        assert_eq!(violations.len(), 1);
        assert!(violations[0].description.contains("999.99"));
        let mut violations = Vec::new();
        check_schedule(
            &mut violations,
            "schedule",
            &[],
            total,
            date("2026-01-31"),
            "issue date",
        );
        assert_eq!(violations[0].field, "schedule");
    }

    #[test]
    fn a_two_ten_discount_takes_at_most_two_percent_within_ten_days() {
        let discount = EarlyPaymentDiscount {
            percent: dec("2"),
            within_days: 10,
        };
        assert_eq!(
            discount.last_day(date("2026-01-25")),
            Some(date("2026-02-04"))
        );
        // 2 % of 1,234.56 = 24.6912 -> 24.69; of 0.25 = 0.005 -> 0.01 (away from zero).
        assert_eq!(
            discount.most_off(money("1234.56", "CNY")),
            money("24.69", "CNY")
        );
        assert_eq!(
            discount.most_off(money("0.25", "CNY")),
            money("0.01", "CNY")
        );
        // Paying 980.00 earns 980 x 2 / 98 = 20.00: 1,000.00 settled in all. Paying 979.99
        // earns 19.99979... rounded down, 19.99; a token 1.00 earns 0.0204... -> 0.02.
        assert_eq!(
            discount.earned_by(money("980.00", "CNY")),
            money("20.00", "CNY")
        );
        assert_eq!(
            discount.earned_by(money("979.99", "CNY")),
            money("19.99", "CNY")
        );
        assert_eq!(
            discount.earned_by(money("1.00", "CNY")),
            money("0.02", "CNY")
        );
    }
}
