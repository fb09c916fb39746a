//! The early-warning metrics of group receivables management, as pure formulas.
//!
//! The read model gathers the aggregates (open and overdue balances, credit sales per month,
//! settlements, promises, disputes, the aging buckets) in one currency; this module turns them
//! into figures. A credit manager acts on these figures — tightens a customer's terms, moves a
//! collector, books a provision — so every [`Figure`] carries the formula it was computed with and
//! every number that went into it, and a finance user can redo the arithmetic by hand and get the
//! same result to the last digit.
//!
//! Conventions:
//!
//! - Amounts are [`Decimal`]s in one currency and are never rounded here, except the provision
//!   of each allowance line, which is booked and so is rounded to the currency's minor unit.
//! - Percentages and days are rounded once, at the end, to [`FIGURE_DECIMALS`] places with
//!   [`ROUNDING`]. Intermediate results keep `rust_decimal`'s full precision, and products are
//!   taken before quotients so that a result that is exact stays exact.
//! - A figure whose denominator is zero (or negative, which no ratio here can mean) is undefined:
//!   its value is `None` and its note says why. No function here panics or returns a float.
//!
//! The definitions follow the Credit Research Foundation's (DSO, best-possible DSO, average days
//! delinquent, the collection effectiveness index) and the aging method of the allowance for
//! doubtful accounts (坏账准备) taught in financial accounting.

use std::collections::HashMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

// ---------------------------------------------------------------------------------------------
// Conventions and limits
// ---------------------------------------------------------------------------------------------

/// Decimal places of every percentage and every number of days.
///
/// Two places are what a credit report shows (DSO 57.17 days, CEI 55.93 %): enough to see a
/// trend from month to month, few enough that nobody reads noise as a signal.
pub const FIGURE_DECIMALS: u32 = 2;

/// How percentages, days and the provision of each allowance line are rounded: half away from
/// zero.
///
/// This is the rounding finance users are taught (四舍五入) and the one a spreadsheet's `ROUND`
/// applies, so a figure redone by hand from its inputs matches to the last digit, and a provision
/// of 0.125 is booked as 0.13 as the ledger expects. `rust_decimal`'s default, banker's rounding
/// (half to even), would give 0.12 and disagree with the user's own arithmetic. Away from zero
/// also keeps negative figures (invoices paid early) symmetric with positive ones.
pub const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// One hundred: ratios are shown as percentages.
pub const PERCENT: Decimal = Decimal::ONE_HUNDRED;

/// Lowest loss rate of an aging bucket, in percent: a bucket nobody expects to lose.
pub const LOSS_RATE_PERCENT_MIN: Decimal = Decimal::ZERO;

/// Highest loss rate of an aging bucket, in percent: a bucket cannot lose more than all of it.
pub const LOSS_RATE_PERCENT_MAX: Decimal = Decimal::ONE_HUNDRED;

/// Most decimal places of a currency's minor unit: ISO 4217 has no currency with more than four
/// (CNY and USD have 2, JPY 0, KWD 3, CLF 4).
pub const MINOR_UNITS_MAX: u32 = 4;

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// The unit of a figure or of one of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A percentage (0–100, though some can fall outside, e.g. a CEI with credit balances).
    Percent,
    /// A number of days.
    Days,
    /// An amount of money in the figure's single currency.
    Amount,
    /// An amount times a number of days: the numerator of an amount-weighted average of days.
    AmountDays,
    /// A count of things (promises, months, invoices).
    Count,
}

/// The metric a [`Figure`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Share of open receivables that is past due. The first number a credit manager looks at:
    /// it rises before bad debts do.
    OverdueRate,
    /// Days sales outstanding, simple method: how many days of the period's credit sales are
    /// still unpaid. Quick, but it assumes sales were even over the period.
    DsoSimple,
    /// Days sales outstanding, countback method: the same question answered against the actual
    /// sales of each recent month, so that a sales swing does not move DSO on its own.
    DsoCountback,
    /// The DSO the receivables would show if nothing were past due: the floor that the terms
    /// given to customers set.
    BestPossibleDso,
    /// DSO minus best-possible DSO: the days that lateness, not terms, adds.
    AverageDaysDelinquent,
    /// Collection effectiveness index: of what could have been collected in the period, the
    /// share that was.
    Cei,
    /// Written-off receivables as a share of credit sales: what the credit policy cost.
    BadDebtRate,
    /// Share of the customers' promises to pay, due by now, that were kept.
    PromiseKeptRate,
    /// Amount-weighted days from issue to payment of the invoices settled.
    AverageDaysToPay,
    /// Amount-weighted days from due date to payment; negative when customers pay early.
    AverageDaysLate,
    /// Disputed amounts as a share of credit sales: how much billing the customers contest.
    DisputeRate,
}

impl Metric {
    /// The unit the metric is expressed in.
    pub fn unit(self) -> Unit {
        match self {
            Metric::OverdueRate
            | Metric::Cei
            | Metric::BadDebtRate
            | Metric::PromiseKeptRate
            | Metric::DisputeRate => Unit::Percent,
            Metric::DsoSimple
            | Metric::DsoCountback
            | Metric::BestPossibleDso
            | Metric::AverageDaysDelinquent
            | Metric::AverageDaysToPay
            | Metric::AverageDaysLate => Unit::Days,
        }
    }
}

/// One number that went into a figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: &'static str,
    pub value: Decimal,
    pub unit: Unit,
}

impl Input {
    fn new(name: &'static str, value: Decimal, unit: Unit) -> Self {
        Input { name, value, unit }
    }

    fn amount(name: &'static str, value: Decimal) -> Self {
        Input::new(name, value, Unit::Amount)
    }

    fn days(name: &'static str, value: Decimal) -> Self {
        Input::new(name, value, Unit::Days)
    }

    fn count(name: &'static str, value: Decimal) -> Self {
        Input::new(name, value, Unit::Count)
    }
}

/// A metric's value with the formula and the inputs it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub metric: Metric,
    /// The value, rounded to [`FIGURE_DECIMALS`] places; `None` when undefined (`note` says why).
    pub value: Option<Decimal>,
    pub unit: Unit,
    /// The formula in words, e.g. "closing receivables × days in period / credit sales".
    pub formula: &'static str,
    /// Every number that went into the value, unrounded, in the order the formula uses them.
    pub inputs: Vec<Input>,
    /// Why the value is undefined; for the countback DSO, the months walked; for a figure built
    /// from other figures, what their notes said.
    pub note: Option<String>,
}

impl Figure {
    /// The value of the input called `name`, if the figure has one.
    pub fn input(&self, name: &str) -> Option<Decimal> {
        self.inputs
            .iter()
            .find(|input| input.name == name)
            .map(|input| input.value)
    }
}

/// Why a figure is undefined, as its note says it.
type Undefined = String;

fn figure(
    metric: Metric,
    formula: &'static str,
    inputs: Vec<Input>,
    outcome: Result<Decimal, Undefined>,
) -> Figure {
    let unit = metric.unit();
    let (value, note) = match outcome {
        Ok(value) => (Some(round_figure(value, unit)), None),
        Err(note) => (None, Some(note)),
    };
    Figure {
        metric,
        value,
        unit,
        formula,
        inputs,
        note,
    }
}

fn round_figure(value: Decimal, unit: Unit) -> Decimal {
    match unit {
        Unit::Percent | Unit::Days => value.round_dp_with_strategy(FIGURE_DECIMALS, ROUNDING),
        Unit::Amount | Unit::AmountDays | Unit::Count => value,
    }
}

// Checked arithmetic: an absurd input overflows `rust_decimal`'s 96-bit range into an undefined
// figure, never into a panic.

fn overflow() -> Undefined {
    "undefined: the arithmetic overflows the decimal range".to_owned()
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, Undefined> {
    a.checked_add(b).ok_or_else(overflow)
}

fn sub(a: Decimal, b: Decimal) -> Result<Decimal, Undefined> {
    a.checked_sub(b).ok_or_else(overflow)
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Undefined> {
    a.checked_mul(b).ok_or_else(overflow)
}

/// `numerator × factor / denominator`, the product taken first so that exact results stay exact.
/// A zero or negative denominator makes the figure undefined; `denominator_name` names it in the
/// note.
fn scaled_ratio(
    numerator: Decimal,
    factor: Decimal,
    denominator: Decimal,
    denominator_name: &str,
) -> Result<Decimal, Undefined> {
    if denominator.is_zero() {
        return Err(format!("undefined: zero {denominator_name}"));
    }
    if denominator.is_sign_negative() {
        return Err(format!(
            "undefined: negative {denominator_name} ({denominator})"
        ));
    }
    mul(numerator, factor)?
        .checked_div(denominator)
        .ok_or_else(overflow)
}

fn period_days(days_in_period: u32) -> Result<Decimal, Undefined> {
    if days_in_period == 0 {
        return Err("undefined: a period of zero days".to_owned());
    }
    Ok(Decimal::from(days_in_period))
}

// ---------------------------------------------------------------------------------------------
// Overdue rate
// ---------------------------------------------------------------------------------------------

const OVERDUE_RATE: &str = "overdue open receivables / total open receivables × 100";

/// Overdue rate: the share of open receivables that is past due.
///
/// The first warning light: overdue balances grow before write-offs do, and the rate is
/// independent of sales volume, so it compares across subsidiaries and months.
pub fn overdue_rate(overdue_open: Decimal, total_open: Decimal) -> Figure {
    let inputs = vec![
        Input::amount("overdue open receivables", overdue_open),
        Input::amount("total open receivables", total_open),
    ];
    let outcome = scaled_ratio(overdue_open, PERCENT, total_open, "total open receivables");
    figure(Metric::OverdueRate, OVERDUE_RATE, inputs, outcome)
}

// ---------------------------------------------------------------------------------------------
// DSO, simple method
// ---------------------------------------------------------------------------------------------

const DSO_SIMPLE: &str = "closing receivables × days in period / credit sales";

/// Days sales outstanding, simple method: closing receivables / credit sales × days in period.
///
/// How many days of sales are sitting unpaid. It treats the period's sales as if they were spread
/// evenly, so a strong last month raises DSO and a weak one lowers it even when customers pay
/// exactly as before; [`dso_countback`] removes that distortion.
pub fn dso_simple(
    closing_receivables: Decimal,
    credit_sales: Decimal,
    days_in_period: u32,
) -> Figure {
    let inputs = vec![
        Input::amount("closing receivables", closing_receivables),
        Input::amount("credit sales", credit_sales),
        Input::days("days in period", Decimal::from(days_in_period)),
    ];
    let outcome = period_days(days_in_period)
        .and_then(|days| scaled_ratio(closing_receivables, days, credit_sales, "credit sales"));
    figure(Metric::DsoSimple, DSO_SIMPLE, inputs, outcome)
}

// ---------------------------------------------------------------------------------------------
// DSO, countback method
// ---------------------------------------------------------------------------------------------

const DSO_COUNTBACK: &str = "days of the whole months walked back from the newest + receivables \
                             left × days of the month that covers them / that month's credit sales";

/// The credit sales of one month (or of the part of the newest month up to the as-of date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesMonth {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub credit_sales: Decimal,
}

impl SalesMonth {
    /// A whole calendar month; `None` for a month outside 1..=12 or a year `chrono` cannot hold.
    pub fn calendar(year: i32, month: u32, credit_sales: Decimal) -> Option<Self> {
        let first_day = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next_first = if month == 12 {
            NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        Some(SalesMonth {
            first_day,
            last_day: next_first.pred_opt()?,
            credit_sales,
        })
    }

    /// The month to date: from the first of `as_of`'s month to `as_of`, the newest month of a
    /// countback taken in the middle of a month (1–15 March is 15 days).
    pub fn month_to_date(as_of: NaiveDate, credit_sales: Decimal) -> Self {
        SalesMonth {
            first_day: as_of.with_day(1).unwrap_or(as_of),
            last_day: as_of,
            credit_sales,
        }
    }

    /// Days the month covers, both ends included.
    pub fn days(&self) -> i64 {
        (self.last_day - self.first_day).num_days() + 1
    }
}

/// One month walked by the countback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountbackStep {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub credit_sales: Decimal,
    /// Receivables still to explain when the walk reached this month.
    pub receivables_before: Decimal,
    /// Days the month covers.
    pub month_days: i64,
    /// Days this month adds to DSO, unrounded: all of `month_days` for a whole month,
    /// `receivables_before × month_days / credit_sales` for the month that covers the rest.
    pub days_counted: Decimal,
    /// Whether the whole month's sales are still unpaid.
    pub whole: bool,
}

/// A countback DSO with the months it walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Countback {
    pub figure: Figure,
    /// The months walked, newest first.
    pub steps: Vec<CountbackStep>,
    /// Whether the months given explain all the receivables. When they do not, the value is a
    /// lower bound: the receivables are older than the oldest month given.
    pub covered: bool,
    /// Receivables the months given did not explain (zero when covered).
    pub left: Decimal,
}

/// Days sales outstanding, countback method.
///
/// Simple DSO divides by average sales, so it moves with sales swings: after a record month it
/// jumps although no customer pays later. The countback matches the receivables against the
/// actual sales that produced them instead: starting from the newest month, while the receivables
/// still to explain exceed a month's credit sales, that whole month is unpaid — its days are
/// added and its sales subtracted; the month whose sales cover the rest adds
/// `rest × its days / its sales`, and the walk stops. The result answers "how many days of our
/// most recent sales are still unpaid".
///
/// `months` are given newest first, each ending the day before the next newer one begins; the
/// newest may be partial (1–15 of a month at a mid-month as-of date). If the months run out
/// before the receivables are covered, the value is the days counted so far, a lower bound, and
/// the note says "not covered: N months walked, X left". Months out of order, with gaps or
/// overlaps, or with negative credit sales make the figure undefined; a month without sales is
/// simply a whole month (nothing of the balance can come from it).
pub fn dso_countback(closing_receivables: Decimal, months: &[SalesMonth]) -> Countback {
    match walk_back(closing_receivables, months) {
        Ok(countback) => countback,
        Err(note) => Countback {
            figure: figure(
                Metric::DsoCountback,
                DSO_COUNTBACK,
                vec![Input::amount("closing receivables", closing_receivables)],
                Err(note),
            ),
            steps: Vec::new(),
            covered: false,
            left: closing_receivables,
        },
    }
}

fn check_months(months: &[SalesMonth]) -> Result<(), Undefined> {
    for (index, month) in months.iter().enumerate() {
        let (first, last) = (month.first_day, month.last_day);
        if last < first {
            return Err(format!(
                "undefined: month {index} ends ({last}) before it begins ({first})"
            ));
        }
        if month.credit_sales < Decimal::ZERO {
            return Err(format!(
                "undefined: negative credit sales ({}) in {first}..{last}",
                month.credit_sales
            ));
        }
        if index > 0 {
            let newer = months[index - 1].first_day;
            if last.succ_opt() != Some(newer) {
                return Err(format!(
                    "undefined: {first}..{last} does not end the day before {newer}: months \
                     must be given newest first, without gaps or overlaps"
                ));
            }
        }
    }
    Ok(())
}

fn walk_back(closing_receivables: Decimal, months: &[SalesMonth]) -> Result<Countback, Undefined> {
    if closing_receivables < Decimal::ZERO {
        return Err(format!(
            "undefined: negative closing receivables ({closing_receivables})"
        ));
    }
    check_months(months)?;

    let mut remaining = closing_receivables;
    let mut whole_days: i64 = 0;
    let mut steps = Vec::new();
    // The month that covers the rest: (receivables left, its sales, its days, days it adds).
    let mut covering: Option<(Decimal, Decimal, i64, Decimal)> = None;
    for month in months {
        if remaining.is_zero() {
            break;
        }
        let month_days = month.days();
        let whole = remaining > month.credit_sales;
        let days_counted = if whole {
            Decimal::from(month_days)
        } else {
            // 0 < remaining ≤ credit sales, so the sales are positive.
            scaled_ratio(
                remaining,
                Decimal::from(month_days),
                month.credit_sales,
                "credit sales",
            )?
        };
        steps.push(CountbackStep {
            first_day: month.first_day,
            last_day: month.last_day,
            credit_sales: month.credit_sales,
            receivables_before: remaining,
            month_days,
            days_counted,
            whole,
        });
        if whole {
            whole_days += month_days;
            remaining = sub(remaining, month.credit_sales)?;
        } else {
            covering = Some((remaining, month.credit_sales, month_days, days_counted));
            remaining = Decimal::ZERO;
            break;
        }
    }

    let covered = remaining.is_zero();
    let walked = steps.len();
    let mut inputs = vec![
        Input::amount("closing receivables", closing_receivables),
        Input::count("months walked", Decimal::from(walked)),
        Input::days("days of the whole months", Decimal::from(whole_days)),
    ];
    let mut value = Decimal::from(whole_days);
    if let Some((left, sales, days, counted)) = covering {
        inputs.push(Input::amount("receivables left for the last month", left));
        inputs.push(Input::amount("credit sales of the last month", sales));
        inputs.push(Input::days("days of the last month", Decimal::from(days)));
        value = add(value, counted)?;
    }
    let note = if covered {
        format!("covered: {walked} months walked")
    } else {
        inputs.push(Input::amount("receivables left", remaining));
        format!("not covered: {walked} months walked, {remaining} left; the value is a lower bound")
    };
    let mut result = figure(Metric::DsoCountback, DSO_COUNTBACK, inputs, Ok(value));
    result.note = Some(note);
    Ok(Countback {
        figure: result,
        steps,
        covered,
        left: remaining,
    })
}

// ---------------------------------------------------------------------------------------------
// Best-possible DSO and average days delinquent
// ---------------------------------------------------------------------------------------------

const BEST_POSSIBLE_DSO: &str = "current (not yet due) receivables × days in period / credit sales";

/// Best-possible DSO: current (not yet due) receivables / credit sales × days in period.
///
/// The DSO the company would have if every customer paid on the due date: the part of DSO that
/// the terms granted explain. A best-possible DSO that creeps up means terms are being loosened;
/// compare it with DSO (computed with the same method and period) to see what lateness adds.
pub fn best_possible_dso(
    current_receivables: Decimal,
    credit_sales: Decimal,
    days_in_period: u32,
) -> Figure {
    let inputs = vec![
        Input::amount("current receivables", current_receivables),
        Input::amount("credit sales", credit_sales),
        Input::days("days in period", Decimal::from(days_in_period)),
    ];
    let outcome = period_days(days_in_period)
        .and_then(|days| scaled_ratio(current_receivables, days, credit_sales, "credit sales"));
    figure(Metric::BestPossibleDso, BEST_POSSIBLE_DSO, inputs, outcome)
}

const AVERAGE_DAYS_DELINQUENT: &str = "DSO − best-possible DSO";

/// Average days delinquent: DSO − best-possible DSO, from the two figures as shown.
///
/// The days of sales outstanding that lateness, not terms, adds. DSO can stay flat while terms
/// tighten and payments slip; the growing gap shows it. Taking the two rounded values keeps the
/// subtraction redoable from what the user sees. Undefined if either figure is undefined or is not
/// the metric expected; if the DSO figure carries a note (a countback that is a lower bound), the
/// note is passed on.
pub fn average_days_delinquent(dso: &Figure, best_possible: &Figure) -> Figure {
    let mut inputs = Vec::new();
    if let Some(value) = dso.value {
        inputs.push(Input::days("DSO", value));
    }
    if let Some(value) = best_possible.value {
        inputs.push(Input::days("best-possible DSO", value));
    }
    let outcome = if !matches!(dso.metric, Metric::DsoSimple | Metric::DsoCountback) {
        Err(format!("undefined: {:?} is not a DSO", dso.metric))
    } else if best_possible.metric != Metric::BestPossibleDso {
        Err(format!(
            "undefined: {:?} is not a best-possible DSO",
            best_possible.metric
        ))
    } else {
        match (dso.value, best_possible.value) {
            (Some(dso_days), Some(best_days)) => sub(dso_days, best_days),
            (None, _) => Err(format!(
                "undefined: DSO is undefined ({})",
                dso.note.as_deref().unwrap_or("no value")
            )),
            (_, None) => Err(format!(
                "undefined: best-possible DSO is undefined ({})",
                best_possible.note.as_deref().unwrap_or("no value")
            )),
        }
    };
    let mut add_figure = figure(
        Metric::AverageDaysDelinquent,
        AVERAGE_DAYS_DELINQUENT,
        inputs,
        outcome,
    );
    if add_figure.value.is_some() {
        add_figure.note = dso.note.as_ref().map(|note| format!("DSO: {note}"));
    }
    add_figure
}

// ---------------------------------------------------------------------------------------------
// Collection effectiveness index
// ---------------------------------------------------------------------------------------------

const CEI_ONE_MONTH: &str = "(opening receivables + credit sales − closing total receivables) / \
                             (opening receivables + credit sales − closing current receivables) \
                             × 100";

const CEI_OVER_MONTHS: &str = "(opening receivables + credit sales / months − closing total \
                               receivables) / (opening receivables + credit sales / months − \
                               closing current receivables) × 100";

/// Collection effectiveness index for one month.
///
/// Of what was there to collect (the opening balance plus the month's sales, less what is
/// legitimately not yet due at the close), the share that was collected. 100 % means nothing
/// collectible was left unpaid. Unlike DSO it does not move with sales volume, so it measures the
/// collectors' work rather than the sales mix.
pub fn cei(
    opening_receivables: Decimal,
    credit_sales: Decimal,
    closing_total: Decimal,
    closing_current: Decimal,
) -> Figure {
    let inputs = vec![
        Input::amount("opening receivables", opening_receivables),
        Input::amount("credit sales", credit_sales),
        Input::amount("closing total receivables", closing_total),
        Input::amount("closing current receivables", closing_current),
    ];
    cei_figure(
        CEI_ONE_MONTH,
        inputs,
        opening_receivables,
        Ok(credit_sales),
        closing_total,
        closing_current,
    )
}

/// Collection effectiveness index over several months, as the Credit Research Foundation
/// defines it: the period's credit sales are replaced by the average monthly credit sales
/// (credit sales / months), the opening receivables being those at the start of the period and
/// the closing ones those at its end.
///
/// With `months` = 1 it is [`cei`]. The average is an input of the figure, unrounded.
pub fn cei_over_months(
    opening_receivables: Decimal,
    credit_sales_in_period: Decimal,
    months: u32,
    closing_total: Decimal,
    closing_current: Decimal,
) -> Figure {
    let average = if months == 0 {
        Err("undefined: zero months".to_owned())
    } else {
        credit_sales_in_period
            .checked_div(Decimal::from(months))
            .ok_or_else(overflow)
    };
    let mut inputs = vec![
        Input::amount("opening receivables", opening_receivables),
        Input::amount("credit sales in the period", credit_sales_in_period),
        Input::count("months", Decimal::from(months)),
    ];
    if let Ok(average) = average {
        inputs.push(Input::amount("average monthly credit sales", average));
    }
    inputs.push(Input::amount("closing total receivables", closing_total));
    inputs.push(Input::amount(
        "closing current receivables",
        closing_current,
    ));
    cei_figure(
        CEI_OVER_MONTHS,
        inputs,
        opening_receivables,
        average,
        closing_total,
        closing_current,
    )
}

fn cei_figure(
    formula: &'static str,
    mut inputs: Vec<Input>,
    opening: Decimal,
    sales: Result<Decimal, Undefined>,
    closing_total: Decimal,
    closing_current: Decimal,
) -> Figure {
    let outcome = sales.and_then(|sales| {
        let available = add(opening, sales)?;
        let collected = sub(available, closing_total)?;
        let collectible = sub(available, closing_current)?;
        inputs.push(Input::amount("collected", collected));
        inputs.push(Input::amount("collectible", collectible));
        scaled_ratio(
            collected,
            PERCENT,
            collectible,
            "collectible (opening receivables + credit sales − closing current receivables)",
        )
    });
    figure(Metric::Cei, formula, inputs, outcome)
}

// ---------------------------------------------------------------------------------------------
// Bad-debt rate, dispute rate, promise-kept rate
// ---------------------------------------------------------------------------------------------

const BAD_DEBT_RATE: &str = "written off / credit sales × 100";

/// Bad-debt rate: receivables written off / credit sales × 100.
///
/// What the credit policy cost: too high and credit is granted too freely; near zero and sales
/// may be lost to terms that are too strict.
pub fn bad_debt_rate(written_off: Decimal, credit_sales: Decimal) -> Figure {
    let inputs = vec![
        Input::amount("written off", written_off),
        Input::amount("credit sales", credit_sales),
    ];
    let outcome = scaled_ratio(written_off, PERCENT, credit_sales, "credit sales");
    figure(Metric::BadDebtRate, BAD_DEBT_RATE, inputs, outcome)
}

const DISPUTE_RATE: &str = "disputed amount / credit sales × 100";

/// Dispute rate: disputed amounts / credit sales × 100.
///
/// Disputed invoices are not paid until the dispute is settled, so a rising rate delays cash
/// and usually points at billing, pricing or delivery problems rather than at the customer's
/// ability to pay.
pub fn dispute_rate(disputed_amount: Decimal, credit_sales: Decimal) -> Figure {
    let inputs = vec![
        Input::amount("disputed amount", disputed_amount),
        Input::amount("credit sales", credit_sales),
    ];
    let outcome = scaled_ratio(disputed_amount, PERCENT, credit_sales, "credit sales");
    figure(Metric::DisputeRate, DISPUTE_RATE, inputs, outcome)
}

const PROMISE_KEPT_RATE: &str = "kept / (kept + broken) × 100";

/// Promise-kept rate: promises kept / (kept + broken) × 100, by count.
///
/// How much a customer's word is worth. Promises not yet due and promises cancelled are in
/// neither count. A falling rate is an early sign of cash trouble, and it tells a collector when
/// to stop accepting promises and escalate.
pub fn promise_kept_rate(kept: u64, broken: u64) -> Figure {
    let (kept, broken) = (Decimal::from(kept), Decimal::from(broken));
    let inputs = vec![
        Input::count("promises kept", kept),
        Input::count("promises broken", broken),
    ];
    let outcome = add(kept, broken)
        .and_then(|due| scaled_ratio(kept, PERCENT, due, "promises due (kept + broken)"));
    figure(Metric::PromiseKeptRate, PROMISE_KEPT_RATE, inputs, outcome)
}

// ---------------------------------------------------------------------------------------------
// Average days to pay and days late
// ---------------------------------------------------------------------------------------------

/// An invoice settled in full: its amount and its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub amount: Decimal,
    pub issued: NaiveDate,
    pub due: NaiveDate,
    pub paid: NaiveDate,
}

const AVERAGE_DAYS_TO_PAY: &str = "Σ(amount × (paid − issued)) / Σ amount";

const AVERAGE_DAYS_LATE: &str = "Σ(amount × (paid − due)) / Σ amount";

/// Average days to pay: the amount-weighted average of days from issue to payment.
///
/// How long a customer actually takes, whatever the terms say. Weighting by amount makes a
/// large invoice paid late count for what it costs in cash, which a plain average of invoices
/// hides.
pub fn average_days_to_pay(settled: &[Settled]) -> Figure {
    weighted_days(
        Metric::AverageDaysToPay,
        AVERAGE_DAYS_TO_PAY,
        settled,
        |invoice| invoice.paid - invoice.issued,
    )
}

/// Average days late: the amount-weighted average of days from due date to payment; negative
/// when customers pay early on balance.
///
/// Separates lateness from terms: a customer on 60-day terms paying in 62 days is 2 days late,
/// one on 30-day terms paying in 45 is 15.
pub fn average_days_late(settled: &[Settled]) -> Figure {
    weighted_days(
        Metric::AverageDaysLate,
        AVERAGE_DAYS_LATE,
        settled,
        |invoice| invoice.paid - invoice.due,
    )
}

fn weighted_days(
    metric: Metric,
    formula: &'static str,
    settled: &[Settled],
    days: impl Fn(&Settled) -> chrono::TimeDelta,
) -> Figure {
    let mut inputs = vec![Input::count("invoices", Decimal::from(settled.len()))];
    let outcome = weighted_sums(settled, days).and_then(|(amount, amount_days)| {
        inputs.push(Input::amount("amount settled", amount));
        inputs.push(Input::new("amount × days", amount_days, Unit::AmountDays));
        scaled_ratio(amount_days, Decimal::ONE, amount, "amount settled")
    });
    figure(metric, formula, inputs, outcome)
}

/// (Σ amount, Σ amount × days).
fn weighted_sums(
    settled: &[Settled],
    days: impl Fn(&Settled) -> chrono::TimeDelta,
) -> Result<(Decimal, Decimal), Undefined> {
    let mut amount = Decimal::ZERO;
    let mut amount_days = Decimal::ZERO;
    for (index, invoice) in settled.iter().enumerate() {
        if invoice.amount < Decimal::ZERO {
            return Err(format!(
                "undefined: invoice {index} has a negative amount ({})",
                invoice.amount
            ));
        }
        amount = add(amount, invoice.amount)?;
        let weighted = mul(invoice.amount, Decimal::from(days(invoice).num_days()))?;
        amount_days = add(amount_days, weighted)?;
    }
    Ok((amount, amount_days))
}

// ---------------------------------------------------------------------------------------------
// Allowance for doubtful accounts (坏账准备), aging method
// ---------------------------------------------------------------------------------------------

/// One aging bucket's balance and the share of it expected to be lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceLine {
    pub bucket: String,
    pub balance: Decimal,
    pub loss_rate_percent: Decimal,
}

/// One aging bucket's provision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    pub bucket: String,
    pub balance: Decimal,
    pub loss_rate_percent: Decimal,
    /// balance × loss rate / 100, rounded to the currency's minor unit with [`ROUNDING`].
    pub provision: Decimal,
}

/// The allowance the aging requires and the entry that brings the ledger to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub lines: Vec<Provision>,
    pub minor_units: u32,
    /// Σ balance.
    pub total_receivables: Decimal,
    /// Σ provision (of the rounded lines, so the lines add up to it).
    pub required_allowance: Decimal,
    /// The allowance account before the entry, credit positive: a debit balance (write-offs
    /// beyond what was provided) is negative.
    pub current_allowance_balance: Decimal,
    /// required − current: positive charges bad-debt expense, negative releases allowance.
    pub adjustment: Decimal,
    /// total receivables − required allowance: what the receivables are expected to bring in.
    pub net_receivables: Decimal,
}

/// The entry that brings the allowance account to the required balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowanceEntry {
    /// Debit bad-debt expense, credit the allowance, by this amount.
    Charge(Decimal),
    /// Debit the allowance, credit bad-debt expense (a reversal), by this amount.
    Release(Decimal),
    /// The allowance already has the required balance.
    NoEntry,
}

impl Allowance {
    /// The entry the adjustment calls for.
    pub fn entry(&self) -> AllowanceEntry {
        if self.adjustment.is_zero() {
            AllowanceEntry::NoEntry
        } else if self.adjustment.is_sign_positive() {
            AllowanceEntry::Charge(self.adjustment)
        } else {
            AllowanceEntry::Release(-self.adjustment)
        }
    }
}

/// The field of an allowance line that is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineField {
    Balance,
    LossRatePercent,
}

impl LineField {
    fn rule(self) -> &'static str {
        match self {
            LineField::Balance => "a balance may not be negative",
            LineField::LossRatePercent => "a loss rate lies in 0..=100 %",
        }
    }
}

impl fmt::Display for LineField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LineField::Balance => "balance",
            LineField::LossRatePercent => "loss rate",
        })
    }
}

/// One reason an allowance cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowanceProblem {
    #[error("line {index} ({bucket:?}): {field} {value} is invalid: {rule}", rule = .field.rule())]
    Line {
        index: usize,
        bucket: String,
        field: LineField,
        value: Decimal,
    },
    #[error("{given} minor units: no currency has more than {max}")]
    TooManyMinorUnits { given: u32, max: u32 },
    #[error("the sums overflow the decimal range")]
    Overflow,
}

/// Every reason an allowance cannot be computed, found at once so that the user fixes the aging
/// in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the allowance cannot be computed: {}", join(.problems))]
pub struct AllowanceError {
    pub problems: Vec<AllowanceProblem>,
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The allowance for doubtful accounts by the aging method (坏账准备, 账龄分析法).
///
/// Older receivables are less likely to be collected, so each aging bucket's balance is
/// provided for at its own loss rate; each line's provision is `balance × rate / 100`, rounded
/// to the currency's `minor_units` with [`ROUNDING`] because it is what gets booked, and the
/// required allowance is the sum of the rounded lines, so that the schedule adds up. The
/// adjustment brings the allowance account from its `current_allowance_balance` (credit
/// positive, a debit balance negative) to the required balance; the net receivables are what
/// the balance sheet shows.
///
/// Loss rates outside 0..=100, negative balances and more minor units than any currency has are
/// all reported together, each line by index and field.
pub fn allowance(
    lines: &[AllowanceLine],
    minor_units: u32,
    current_allowance_balance: Decimal,
) -> Result<Allowance, AllowanceError> {
    let mut problems = Vec::new();
    if minor_units > MINOR_UNITS_MAX {
        problems.push(AllowanceProblem::TooManyMinorUnits {
            given: minor_units,
            max: MINOR_UNITS_MAX,
        });
    }
    for (index, line) in lines.iter().enumerate() {
        if line.balance < Decimal::ZERO {
            problems.push(AllowanceProblem::Line {
                index,
                bucket: line.bucket.clone(),
                field: LineField::Balance,
                value: line.balance,
            });
        }
        if !rate_in_range(line.loss_rate_percent) {
            problems.push(AllowanceProblem::Line {
                index,
                bucket: line.bucket.clone(),
                field: LineField::LossRatePercent,
                value: line.loss_rate_percent,
            });
        }
    }
    if !problems.is_empty() {
        return Err(AllowanceError { problems });
    }
    provide(lines, minor_units, current_allowance_balance).map_err(|_| AllowanceError {
        problems: vec![AllowanceProblem::Overflow],
    })
}

fn rate_in_range(rate: Decimal) -> bool {
    (LOSS_RATE_PERCENT_MIN..=LOSS_RATE_PERCENT_MAX).contains(&rate)
}

fn provide(
    lines: &[AllowanceLine],
    minor_units: u32,
    current_allowance_balance: Decimal,
) -> Result<Allowance, Undefined> {
    let mut provisions = Vec::with_capacity(lines.len());
    let mut total = Decimal::ZERO;
    let mut required = Decimal::ZERO;
    for line in lines {
        let provision = scaled_ratio(line.balance, line.loss_rate_percent, PERCENT, "percent")?
            .round_dp_with_strategy(minor_units, ROUNDING);
        total = add(total, line.balance)?;
        required = add(required, provision)?;
        provisions.push(Provision {
            bucket: line.bucket.clone(),
            balance: line.balance,
            loss_rate_percent: line.loss_rate_percent,
            provision,
        });
    }
    Ok(Allowance {
        lines: provisions,
        minor_units,
        total_receivables: total,
        required_allowance: required,
        current_allowance_balance,
        adjustment: sub(required, current_allowance_balance)?,
        net_receivables: sub(total, required)?,
    })
}

/// A table of loss rates by aging bucket, valid by construction: one rate per bucket name, each
/// in 0..=100 %.
///
/// The table is policy, set by the credit committee from the group's loss history and reviewed
/// yearly; validating it once where it is read keeps a mistyped rate (150 instead of 15) out of
/// every allowance computed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossRates {
    rates: Vec<(String, Decimal)>,
}

/// One reason a loss-rate table, or the lines built from it, is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LossRateProblem {
    #[error("the table has no buckets")]
    Empty,
    #[error("entry {index}: the bucket has no name")]
    BlankBucket { index: usize },
    #[error("entry {index}: bucket {bucket:?} already has a rate (entry {first})")]
    DuplicateBucket {
        index: usize,
        bucket: String,
        first: usize,
    },
    #[error("entry {index} ({bucket:?}): loss rate {rate} % is outside 0..=100")]
    OutOfRange {
        index: usize,
        bucket: String,
        rate: Decimal,
    },
    #[error("balance {index}: bucket {bucket:?} has no loss rate")]
    UnknownBucket { index: usize, bucket: String },
}

/// Every reason a loss-rate table, or the lines built from it, is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid loss rates: {}", join(.problems))]
pub struct LossRatesError {
    pub problems: Vec<LossRateProblem>,
}

impl LossRates {
    /// Checks every entry and reports every violation at once: an empty table, a blank bucket
    /// name, a bucket named twice, a rate outside 0..=100.
    pub fn new<S: Into<String>>(
        entries: impl IntoIterator<Item = (S, Decimal)>,
    ) -> Result<Self, LossRatesError> {
        let rates: Vec<(String, Decimal)> = entries
            .into_iter()
            .map(|(bucket, rate)| (bucket.into(), rate))
            .collect();
        let mut problems = Vec::new();
        if rates.is_empty() {
            problems.push(LossRateProblem::Empty);
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, (bucket, rate)) in rates.iter().enumerate() {
            if bucket.trim().is_empty() {
                problems.push(LossRateProblem::BlankBucket { index });
            } else if let Some(&first) = seen.get(bucket.as_str()) {
                problems.push(LossRateProblem::DuplicateBucket {
                    index,
                    bucket: bucket.clone(),
                    first,
                });
            } else {
                seen.insert(bucket.as_str(), index);
            }
            if !rate_in_range(*rate) {
                problems.push(LossRateProblem::OutOfRange {
                    index,
                    bucket: bucket.clone(),
                    rate: *rate,
                });
            }
        }
        if problems.is_empty() {
            Ok(LossRates { rates })
        } else {
            Err(LossRatesError { problems })
        }
    }

    /// The loss rate of `bucket`, in percent.
    pub fn rate(&self, bucket: &str) -> Option<Decimal> {
        self.rates
            .iter()
            .find(|(name, _)| name == bucket)
            .map(|(_, rate)| *rate)
    }

    /// The buckets and their rates, in the order the table was given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Decimal)> {
        self.rates
            .iter()
            .map(|(bucket, rate)| (bucket.as_str(), *rate))
    }

    /// Allowance lines for these bucket balances, each with its bucket's rate; every balance
    /// whose bucket has no rate is reported at once.
    pub fn lines<'a>(
        &self,
        balances: impl IntoIterator<Item = (&'a str, Decimal)>,
    ) -> Result<Vec<AllowanceLine>, LossRatesError> {
        let mut lines = Vec::new();
        let mut problems = Vec::new();
        for (index, (bucket, balance)) in balances.into_iter().enumerate() {
            match self.rate(bucket) {
                Some(loss_rate_percent) => lines.push(AllowanceLine {
                    bucket: bucket.to_owned(),
                    balance,
                    loss_rate_percent,
                }),
                None => problems.push(LossRateProblem::UnknownBucket {
                    index,
                    bucket: bucket.to_owned(),
                }),
            }
        }
        if problems.is_empty() {
            Ok(lines)
        } else {
            Err(LossRatesError { problems })
        }
    }
}
