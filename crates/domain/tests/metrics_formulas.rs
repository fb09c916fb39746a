//! The early-warning metrics, one formula per test. Given the aggregates, when a metric is
//! computed, then this figure, with its inputs and note.
//!
//! Every expected value is worked out by hand in the comment above it and written as a literal,
//! never obtained from the code. Where a published worked example exists, its numbers are used
//! and the page is cited (title and address as found); where the published page rounds
//! differently or uses 30-day months, the comment says so and redoes the arithmetic with the
//! module's conventions: percentages and days to two places, half away from zero.

use chrono::NaiveDate;
use receivables_domain::metrics::{
    AllowanceEntry, AllowanceError, AllowanceLine, AllowanceProblem, Figure, LineField,
    LossRateProblem, LossRates, Metric, SalesMonth, Settled, Unit, allowance,
    average_days_delinquent, average_days_late, average_days_to_pay, bad_debt_rate,
    best_possible_dso, cei, cei_over_months, dispute_rate, dso_countback, dso_simple, overdue_rate,
    promise_kept_rate,
};
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal literal")
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date literal")
}

fn month(year: i32, month: u32, credit_sales: &str) -> SalesMonth {
    SalesMonth::calendar(year, month, d(credit_sales)).expect("a calendar month")
}

fn line(bucket: &str, balance: &str, loss_rate_percent: &str) -> AllowanceLine {
    AllowanceLine {
        bucket: bucket.to_owned(),
        balance: d(balance),
        loss_rate_percent: d(loss_rate_percent),
    }
}

fn settled(amount: &str, issued: &str, due: &str, paid: &str) -> Settled {
    Settled {
        amount: d(amount),
        issued: date(issued),
        due: date(due),
        paid: date(paid),
    }
}

fn assert_value(figure: &Figure, expected: &str) {
    assert_eq!(
        figure.value,
        Some(d(expected)),
        "{:?}: note {:?}, inputs {:?}",
        figure.metric,
        figure.note,
        figure.inputs
    );
}

fn assert_undefined(figure: &Figure, expected_note: &str) {
    assert_eq!(
        figure.value, None,
        "{:?} should be undefined",
        figure.metric
    );
    assert_eq!(figure.note.as_deref(), Some(expected_note));
}

// ---------------------------------------------------------------------------------------------
// Overdue rate
// ---------------------------------------------------------------------------------------------

// "Overdue ratio calculation", Credit Management Tools,
// https://www.creditmanagement-tools.com/overdue-ratio-calculation-c5-r52.php
// Late payments 50 K€ of 1,000 K€ outstanding: 50,000 × 100 / 1,000,000 = 5.00 %.
#[test]
fn overdue_rate_of_fifty_thousand_in_a_million_matches_the_worked_example() {
    let figure = overdue_rate(d("50000"), d("1000000"));

    assert_value(&figure, "5.00");
    assert_eq!(figure.metric, Metric::OverdueRate);
    assert_eq!(figure.unit, Unit::Percent);
    assert_eq!(figure.input("overdue open receivables"), Some(d("50000")));
    assert_eq!(figure.input("total open receivables"), Some(d("1000000")));
    assert_eq!(figure.note, None);
}

// "AR Percentage of Overdue", Wisdom Schema, http://wisdomschema.com/2016/05/ar-percentage-of-overdue/
// 12,312 overdue of 123,423: 12,312 × 100 / 123,423 = 9.97545… The page shows 10 % (no
// decimals); to two places, the third decimal 5 rounds up: 9.98.
#[test]
fn overdue_rate_is_rounded_to_two_places_where_the_worked_example_shows_a_whole_percent() {
    assert_value(&overdue_rate(d("12312"), d("123423")), "9.98");
}

// ---------------------------------------------------------------------------------------------
// DSO, simple method
// ---------------------------------------------------------------------------------------------

// "DSO Calculator", ToolDone, https://tooldone.com/finance/dso-calculator
// A wholesaler: receivables 7,500, credit sales 45,000 in a 90-day quarter.
// 7,500 × 90 / 45,000 = 675,000 / 45,000 = 15.00 days.
#[test]
fn simple_dso_of_a_quarter_matches_the_worked_example() {
    let figure = dso_simple(d("7500"), d("45000"), 90);

    assert_value(&figure, "15.00");
    assert_eq!(figure.metric, Metric::DsoSimple);
    assert_eq!(figure.unit, Unit::Days);
    assert_eq!(
        figure.formula,
        "closing receivables × days in period / credit sales"
    );
    assert_eq!(figure.input("closing receivables"), Some(d("7500")));
    assert_eq!(figure.input("credit sales"), Some(d("45000")));
    assert_eq!(figure.input("days in period"), Some(d("90")));
}

// "The 2 DSO Calculation Formulas: Simple vs Countback Method Explained", Mesha,
// https://trymesha.com/blog/the-2-dso-calculation-formulas-simple-vs-countback-method-explained/
// Receivables 150,000, annual credit sales 1,800,000, 365 days.
// 150,000 × 365 / 1,800,000 = 54,750,000 / 1,800,000 = 30.41666… The page shows 30.4 (one
// place); to two places: 30.42.
#[test]
fn simple_dso_of_a_year_matches_the_worked_example_to_two_places() {
    assert_value(&dso_simple(d("150000"), d("1800000"), 365), "30.42");
}

// ---------------------------------------------------------------------------------------------
// DSO, countback method
// ---------------------------------------------------------------------------------------------

// "Debtor Days Calculation Count Back Method", https://calculator7.snowdaycalculatornow.com/debtor-days-calculation-count-back-method/
// Closing receivables 2,100,000; March 900,000 (31 days), February 800,000 (28), January 700,000
// (31), actual calendar days (2025 is not a leap year).
//   March:    2,100,000 > 900,000 → 31 days,  1,200,000 left
//   February: 1,200,000 > 800,000 → 28 days,    400,000 left
//   January:    400,000 ≤ 700,000 → 400,000 × 31 / 700,000 = 17.714285… days
//   DSO = 31 + 28 + 17.714285… = 76.714285… → 76.71 days.
#[test]
fn countback_dso_over_three_whole_months_matches_the_worked_example() {
    let months = [
        month(2025, 3, "900000"),
        month(2025, 2, "800000"),
        month(2025, 1, "700000"),
    ];

    let countback = dso_countback(d("2100000"), &months);

    assert_value(&countback.figure, "76.71");
    assert_eq!(countback.figure.metric, Metric::DsoCountback);
    assert!(countback.covered);
    assert_eq!(countback.left, Decimal::ZERO);
    assert_eq!(
        countback.figure.note.as_deref(),
        Some("covered: 3 months walked")
    );
    assert_eq!(
        countback.figure.input("days of the whole months"),
        Some(d("59"))
    );
    assert_eq!(
        countback
            .figure
            .input("receivables left for the last month"),
        Some(d("400000"))
    );
    assert_eq!(
        countback.figure.input("credit sales of the last month"),
        Some(d("700000"))
    );
    assert_eq!(
        countback.figure.input("days of the last month"),
        Some(d("31"))
    );
}

// The method and the figures of "Mastering DSO Calculation: The Count-Back Method Explained",
// Benji Pays, https://support.benjipays.com/support/solutions/articles/150000179580-mastering-dso-calculation-the-count-back-method-explained
// (receivables 212,000; newest month 100,000, then 80,000, then 70,000), with the newest month
// made partial: the as-of date is 15 March 2026, so the newest "month" is 1–15 March (15 days),
// then February 2026 (28 days) and January 2026 (31 days). (The page itself uses 30-day months:
// 60 + 32,000 / 70,000 × 30 = 73.71.)
//   1–15 March: 212,000 > 100,000 → 15 days, 112,000 left
//   February:   112,000 >  80,000 → 28 days,  32,000 left
//   January:     32,000 ≤  70,000 → 32,000 × 31 / 70,000 = 992,000 / 70,000 = 14.171428… days
//   DSO = 15 + 28 + 14.171428… = 57.171428… → 57.17 days.
#[test]
fn countback_dso_with_a_partial_newest_month_counts_only_the_days_to_the_as_of_date() {
    let newest = SalesMonth::month_to_date(date("2026-03-15"), d("100000"));
    assert_eq!(newest.first_day, date("2026-03-01"));
    assert_eq!(newest.days(), 15);
    let months = [newest, month(2026, 2, "80000"), month(2026, 1, "70000")];

    let countback = dso_countback(d("212000"), &months);

    assert_value(&countback.figure, "57.17");
    assert!(countback.covered);
    assert_eq!(countback.steps.len(), 3);
    let [march, february, january] = &countback.steps[..] else {
        panic!("three steps, got {:?}", countback.steps);
    };
    assert!(march.whole);
    assert_eq!(march.receivables_before, d("212000"));
    assert_eq!(march.month_days, 15);
    assert_eq!(march.days_counted, d("15"));
    assert!(february.whole);
    assert_eq!(february.receivables_before, d("112000"));
    assert_eq!(february.month_days, 28);
    assert!(!january.whole);
    assert_eq!(january.receivables_before, d("32000"));
    assert_eq!(january.first_day, date("2026-01-01"));
    assert_eq!(january.last_day, date("2026-01-31"));
    // 992,000 / 70,000 = 14.171428571428…
    assert!((january.days_counted - d("14.171428571")).abs() < d("0.000000001"));
    assert_eq!(
        countback.figure.input("days of the whole months"),
        Some(d("43"))
    );
    assert_eq!(countback.figure.input("months walked"), Some(d("3")));
}

// The months of the first countback example, with closing receivables of 2,500,000 instead:
//   March:    2,500,000 > 900,000 → 31 days, 1,600,000 left
//   February: 1,600,000 > 800,000 → 28 days,   800,000 left
//   January:    800,000 > 700,000 → 31 days,   100,000 left
//   no older month: 90 days counted, 100,000 unexplained → 90.00 days, a lower bound.
#[test]
fn countback_dso_that_runs_out_of_months_is_a_lower_bound_with_what_is_left() {
    let months = [
        month(2025, 3, "900000"),
        month(2025, 2, "800000"),
        month(2025, 1, "700000"),
    ];

    let countback = dso_countback(d("2500000"), &months);

    assert_value(&countback.figure, "90.00");
    assert!(!countback.covered);
    assert_eq!(countback.left, d("100000"));
    assert_eq!(
        countback.figure.note.as_deref(),
        Some("not covered: 3 months walked, 100000 left; the value is a lower bound")
    );
    assert_eq!(
        countback.figure.input("receivables left"),
        Some(d("100000"))
    );
    assert!(countback.steps.iter().all(|step| step.whole));
}

// A month without credit sales explains nothing of the balance, so all its days count.
//   March (no sales):     100 > 0   → 31 days, 100 left
//   February (200 sales): 100 ≤ 200 → 100 × 28 / 200 = 14 days
//   DSO = 31 + 14 = 45.00 days.
#[test]
fn countback_dso_counts_a_month_without_sales_as_a_whole_month() {
    let months = [month(2025, 3, "0"), month(2025, 2, "200")];

    assert_value(&dso_countback(d("100"), &months).figure, "45.00");
}

// Receivables equal to exactly the newest k months' sales are exactly those months' days:
// 900,000 → 31 (March); 1,700,000 → 31 + 28 = 59; 2,400,000 → 31 + 28 + 31 = 90.
#[test]
fn countback_dso_of_exactly_the_newest_months_sales_is_their_days() {
    let months = [
        month(2025, 3, "900000"),
        month(2025, 2, "800000"),
        month(2025, 1, "700000"),
    ];
    for (receivables, days) in [("900000", "31"), ("1700000", "59"), ("2400000", "90")] {
        let countback = dso_countback(d(receivables), &months);
        assert_value(&countback.figure, days);
        assert!(countback.covered);
    }
}

#[test]
fn countback_dso_of_no_receivables_is_zero_days() {
    let countback = dso_countback(Decimal::ZERO, &[month(2025, 3, "900000")]);

    assert_value(&countback.figure, "0");
    assert!(countback.covered);
    assert!(countback.steps.is_empty());
}

#[test]
fn countback_dso_refuses_months_with_a_gap() {
    // January follows March directly: February is missing.
    let months = [month(2025, 3, "900000"), month(2025, 1, "700000")];

    let countback = dso_countback(d("2100000"), &months);

    assert_undefined(
        &countback.figure,
        "undefined: 2025-01-01..2025-01-31 does not end the day before 2025-03-01: months must \
         be given newest first, without gaps or overlaps",
    );
    assert!(!countback.covered);
}

#[test]
fn countback_dso_refuses_negative_credit_sales() {
    let months = [month(2025, 3, "900000"), month(2025, 2, "-5")];

    assert_undefined(
        &dso_countback(d("2100000"), &months).figure,
        "undefined: negative credit sales (-5) in 2025-02-01..2025-02-28",
    );
}

// ---------------------------------------------------------------------------------------------
// Best-possible DSO and average days delinquent
// ---------------------------------------------------------------------------------------------

// "Ratio - Average Days Delinquent (ADD)", CreditGuru,
// http://www.creditguru.com/index.php/collection-management/collection-metrics/average-days-delinquent-add
// Total receivables 15,000, current receivables 4,000, credit sales 10,000 in a 30-day period.
//   DSO               = 15,000 × 30 / 10,000 = 45.00 days
//   best-possible DSO =  4,000 × 30 / 10,000 = 12.00 days
//   ADD               = 45.00 − 12.00        = 33.00 days
#[test]
fn best_possible_dso_and_average_days_delinquent_match_the_worked_example() {
    let dso = dso_simple(d("15000"), d("10000"), 30);
    let best = best_possible_dso(d("4000"), d("10000"), 30);

    let add = average_days_delinquent(&dso, &best);

    assert_value(&dso, "45.00");
    assert_value(&best, "12.00");
    assert_eq!(best.metric, Metric::BestPossibleDso);
    assert_eq!(best.input("current receivables"), Some(d("4000")));
    assert_value(&add, "33.00");
    assert_eq!(add.metric, Metric::AverageDaysDelinquent);
    assert_eq!(add.input("DSO"), Some(d("45")));
    assert_eq!(add.input("best-possible DSO"), Some(d("12")));
    assert_eq!(add.note, None);
}

// "What is Average Days Delinquent?", YayPay, https://www.yaypay.com/blog/what-is-average-days-delinquent
// Total receivables 25,000, current 6,000, credit sales 15,000 in 30 days.
//   DSO = 25,000 × 30 / 15,000 = 50.00; best-possible = 6,000 × 30 / 15,000 = 12.00;
//   ADD = 50.00 − 12.00 = 38.00 days.
#[test]
fn average_days_delinquent_matches_the_second_worked_example() {
    let dso = dso_simple(d("25000"), d("15000"), 30);
    let best = best_possible_dso(d("6000"), d("15000"), 30);

    assert_value(&average_days_delinquent(&dso, &best), "38.00");
}

// "What is Best Possible DSO?", Growfin, https://www.growfin.ai/blog/best-possible-dso-definition
// Current (not past due) receivables 8,000 (10,000 less 2,000 past due), credit sales 30,000,
// 28 days: 8,000 × 28 / 30,000 = 224,000 / 30,000 = 7.4666… → 7.47 days.
#[test]
fn best_possible_dso_over_a_28_day_month_matches_the_worked_example() {
    assert_value(&best_possible_dso(d("8000"), d("30000"), 28), "7.47");
}

// ADD from a countback DSO that is a lower bound is itself a lower bound: the note is passed on.
// Countback 90.00 (as in the lower-bound test above), best-possible DSO 1,000,000 × 90 /
// 2,400,000 = 37.50; ADD = 90.00 − 37.50 = 52.50 days.
#[test]
fn average_days_delinquent_passes_on_the_note_of_a_lower_bound_dso() {
    let months = [
        month(2025, 3, "900000"),
        month(2025, 2, "800000"),
        month(2025, 1, "700000"),
    ];
    let dso = dso_countback(d("2500000"), &months).figure;
    let best = best_possible_dso(d("1000000"), d("2400000"), 90);

    let add = average_days_delinquent(&dso, &best);

    assert_value(&add, "52.50");
    assert_eq!(
        add.note.as_deref(),
        Some("DSO: not covered: 3 months walked, 100000 left; the value is a lower bound")
    );
}

#[test]
fn average_days_delinquent_refuses_figures_of_other_metrics() {
    let best = best_possible_dso(d("4000"), d("10000"), 30);
    let not_a_dso = bad_debt_rate(d("1"), d("100"));

    assert_undefined(
        &average_days_delinquent(&not_a_dso, &best),
        "undefined: BadDebtRate is not a DSO",
    );
}

// ---------------------------------------------------------------------------------------------
// Collection effectiveness index
// ---------------------------------------------------------------------------------------------

// The aged trial balance of "Ratio - Collection Effectiveness Index (CEI)", CreditGuru,
// https://www.creditguru.com/index.php/collection-management/collection-metrics/collection-effectiveness-index-cei
// March alone: opening receivables = February's closing balance 6,000; March credit sales
// 3,890; March closing total 6,340, of which current 3,590.
//   collected   = 6,000 + 3,890 − 6,340 = 3,550
//   collectible = 6,000 + 3,890 − 3,590 = 6,300
//   CEI = 3,550 × 100 / 6,300 = 56.349206… → 56.35 %.
#[test]
fn cei_for_one_month_is_collected_over_collectible() {
    let figure = cei(d("6000"), d("3890"), d("6340"), d("3590"));

    assert_value(&figure, "56.35");
    assert_eq!(figure.metric, Metric::Cei);
    assert_eq!(figure.input("collected"), Some(d("3550")));
    assert_eq!(figure.input("collectible"), Some(d("6300")));
}

// "What is Collection Effectiveness Index (CEI)", Gaviti, https://gaviti.com/?p=3708
// One period (a year): opening 100,000, credit sales 1,000,000, closing total 120,000, closing
// current 100,000: (100,000 + 1,000,000 − 120,000) × 100 / (100,000 + 1,000,000 − 100,000)
// = 98,000,000 / 1,000,000 = 98.00 %.
#[test]
fn cei_for_one_period_matches_the_worked_example() {
    assert_value(
        &cei(d("100000"), d("1000000"), d("120000"), d("100000")),
        "98.00",
    );
}

// CreditGuru's CEI for January to March, N = 3 (same page as above), which follows the Credit
// Research Foundation's definition: credit sales 10,890 over 3 months, opening 6,200, closing
// total 6,340, closing current 3,590.
//   average monthly credit sales = 10,890 / 3 = 3,630
//   collected   = 6,200 + 3,630 − 6,340 = 3,490
//   collectible = 6,200 + 3,630 − 3,590 = 6,240
//   CEI = 3,490 × 100 / 6,240 = 55.929487… → 55.93 % (the page shows 55.9 %).
#[test]
fn cei_over_three_months_uses_the_average_monthly_sales_as_published() {
    let figure = cei_over_months(d("6200"), d("10890"), 3, d("6340"), d("3590"));

    assert_value(&figure, "55.93");
    assert_eq!(
        figure.input("average monthly credit sales"),
        Some(d("3630"))
    );
    assert_eq!(figure.input("months"), Some(d("3")));
    assert_eq!(figure.input("credit sales in the period"), Some(d("10890")));
    assert_eq!(figure.input("collected"), Some(d("3490")));
    assert_eq!(figure.input("collectible"), Some(d("6240")));
}

// The same data with the quarter's sales not averaged, as worked in "Sales (on credit terms)
// A/R Balance Current 31-60 61-90", WizEdu,
// https://wizedu.com/questions/116374/sales-on-credit-terms-ar-balance-current-31-60-61
// (6,200 + 10,890 − 6,340) × 100 / (6,200 + 10,890 − 3,590) = 1,075,000 / 13,500 = 79.6296… →
// 79.63 %: the one-period formula over the whole quarter, a different (and higher) figure than
// the averaged 55.93 — which is why the multi-month variant exists.
#[test]
fn cei_over_a_quarter_without_averaging_matches_the_one_period_worked_example() {
    assert_value(&cei(d("6200"), d("10890"), d("6340"), d("3590")), "79.63");
}

#[test]
fn cei_over_one_month_is_the_one_month_cei() {
    for (opening, sales, total, current) in [
        ("6000", "3890", "6340", "3590"),
        ("100000", "1000000", "120000", "100000"),
        ("0", "500", "200", "200"),
    ] {
        let one = cei(d(opening), d(sales), d(total), d(current));
        let averaged = cei_over_months(d(opening), d(sales), 1, d(total), d(current));
        assert_eq!(one.value, averaged.value);
    }
}

// Nothing overdue at the close (closing total = closing current): collected = collectible, so
// the CEI is 100.00 % whatever the amounts.
#[test]
fn cei_is_one_hundred_when_nothing_is_overdue_at_the_close() {
    for (opening, sales, closing) in [("6000", "3890", "3590"), ("0", "1", "0.5"), ("7", "0", "3")]
    {
        assert_value(&cei(d(opening), d(sales), d(closing), d(closing)), "100.00");
    }
}

// ---------------------------------------------------------------------------------------------
// Allowance for doubtful accounts, aging method
// ---------------------------------------------------------------------------------------------

/// The aging schedule of the ABC Company problem in "Prepare journal entries for the company
/// has a debit balance", TutorsGlobe,
/// https://tutorsglobe.com/question/prepare-journal-entries-for-the-company-has-a-debit-balance-53214888.aspx
fn abc_company_aging() -> Vec<AllowanceLine> {
    vec![
        line("0-30", "220000", "1"),
        line("31-60", "90000", "4"),
        line("61-90", "40000", "8"),
        line("91-120", "10000", "16"),
        line("over 120", "15000", "30"),
    ]
}

// ABC Company (source above), with a 1,000 debit balance in the allowance before adjustment:
//   220,000 × 1 % = 2,200;  90,000 × 4 % = 3,600;  40,000 × 8 % = 3,200;
//    10,000 × 16 % = 1,600; 15,000 × 30 % = 4,500
//   required = 2,200 + 3,600 + 3,200 + 1,600 + 4,500 = 15,100
//   total receivables = 220,000 + 90,000 + 40,000 + 10,000 + 15,000 = 375,000
//   adjustment = 15,100 − (−1,000) = 16,100: charge bad-debt expense 16,100
//   net receivables = 375,000 − 15,100 = 359,900
#[test]
fn allowance_against_a_debit_balance_charges_the_required_amount_plus_the_debit() {
    let result = allowance(&abc_company_aging(), 2, d("-1000")).expect("a valid aging");

    let provisions: Vec<Decimal> = result.lines.iter().map(|line| line.provision).collect();
    assert_eq!(
        provisions,
        vec![d("2200"), d("3600"), d("3200"), d("1600"), d("4500")]
    );
    assert_eq!(result.required_allowance, d("15100"));
    assert_eq!(result.total_receivables, d("375000"));
    assert_eq!(result.adjustment, d("16100"));
    assert_eq!(result.entry(), AllowanceEntry::Charge(d("16100")));
    assert_eq!(result.net_receivables, d("359900"));
}

// ABC Company with a 2,500 credit balance instead:
//   adjustment = 15,100 − 2,500 = 12,600: charge 12,600; net receivables still 359,900.
#[test]
fn allowance_against_a_credit_balance_charges_only_the_difference() {
    let result = allowance(&abc_company_aging(), 2, d("2500")).expect("a valid aging");

    assert_eq!(result.required_allowance, d("15100"));
    assert_eq!(result.current_allowance_balance, d("2500"));
    assert_eq!(result.adjustment, d("12600"));
    assert_eq!(result.entry(), AllowanceEntry::Charge(d("12600")));
    assert_eq!(result.net_receivables, d("359900"));
}

// "Aging of receivables method", Penn State (ACCTG 211),
// https://oer.hax.psu.edu/lnm105/sites/acctg211/06_lesson/13_page
// 18,000 × 1 % = 180; 5,000 × 1.5 % = 75; 2,000 × 5 % = 100; 200 × 50 % = 100
// required = 455; total = 25,200; credit balance 100 before adjustment → charge 455 − 100 = 355;
// net receivables = 25,200 − 455 = 24,745.
#[test]
fn allowance_with_fractional_rates_matches_the_worked_example() {
    let lines = [
        line("1-30 days", "18000", "1"),
        line("31-60 days", "5000", "1.5"),
        line("61-90 days", "2000", "5"),
        line("over 90 days", "200", "50"),
    ];

    let result = allowance(&lines, 2, d("100")).expect("a valid aging");

    assert_eq!(result.lines[1].provision, d("75"));
    assert_eq!(result.required_allowance, d("455"));
    assert_eq!(result.adjustment, d("355"));
    assert_eq!(result.total_receivables, d("25200"));
    assert_eq!(result.net_receivables, d("24745"));
}

// The same schedule with a 600 credit balance (a hand variation): 455 − 600 = −145, so 145 of
// the allowance is released.
#[test]
fn allowance_above_the_requirement_is_released() {
    let lines = [
        line("1-30 days", "18000", "1"),
        line("31-60 days", "5000", "1.5"),
        line("61-90 days", "2000", "5"),
        line("over 90 days", "200", "50"),
    ];

    let result = allowance(&lines, 2, d("600")).expect("a valid aging");

    assert_eq!(result.adjustment, d("-145"));
    assert_eq!(result.entry(), AllowanceEntry::Release(d("145")));
}

// "Aging schedule method", Open Textbooks for Hong Kong, https://www.opentextbooks.org.hk/node/12995
// 95,000 × 2 % = 1,900; 50,000 × 4 % = 2,000; 18,000 × 7 % = 1,260; 7,000 × 12 % = 840
// required = 6,000 on 170,000; no allowance yet → charge 6,000; net 164,000.
#[test]
fn allowance_from_nothing_charges_the_whole_requirement() {
    let lines = [
        line("30 days", "95000", "2"),
        line("31-60 days", "50000", "4"),
        line("61-90 days", "18000", "7"),
        line("over 90 days", "7000", "12"),
    ];

    let result = allowance(&lines, 2, Decimal::ZERO).expect("a valid aging");

    assert_eq!(result.required_allowance, d("6000"));
    assert_eq!(result.entry(), AllowanceEntry::Charge(d("6000")));
    assert_eq!(result.net_receivables, d("164000"));
}

// Each line is rounded to the minor unit half away from zero — the convention of the exercise
// "Preparing an Aging Schedule to Estimate Allowance for Doubtful Accounts", SolutionInn,
// https://solutioninn.com/study-help/questions/preparing-an-aging-schedule-to-estimate-allowance-for-doubtful-accounts-5665885
// ("enter 1.42 for 1.424, or 1.43 for 1.425") — and the required allowance is the sum of the
// rounded lines:
//   12.50 × 1 % = 0.125 → 0.13 (banker's rounding would give 0.12), three such lines
//   required = 0.13 × 3 = 0.39 (rounding the unrounded sum 0.375 would give 0.38)
//   total = 37.50; net = 37.50 − 0.39 = 37.11
#[test]
fn allowance_rounds_each_line_half_away_from_zero_and_adds_the_rounded_lines() {
    let lines = [
        line("a", "12.50", "1"),
        line("b", "12.50", "1"),
        line("c", "12.50", "1"),
    ];

    let result = allowance(&lines, 2, Decimal::ZERO).expect("a valid aging");

    assert!(result.lines.iter().all(|line| line.provision == d("0.13")));
    assert_eq!(result.required_allowance, d("0.39"));
    assert_eq!(result.total_receivables, d("37.50"));
    assert_eq!(result.net_receivables, d("37.11"));
}

// Other minor units:
//   JPY (0 places): 1,225 × 2 % = 24.5 → 25 (half to even would give 24)
//   KWD (3 places): 10.125 × 10 % = 1.0125 → 1.013 (half to even would give 1.012)
#[test]
fn allowance_rounds_to_the_currency_minor_unit() {
    let yen = allowance(&[line("0-30", "1225", "2")], 0, Decimal::ZERO).expect("valid");
    let dinar = allowance(&[line("0-30", "10.125", "10")], 3, Decimal::ZERO).expect("valid");

    assert_eq!(yen.required_allowance, d("25"));
    assert_eq!(dinar.required_allowance, d("1.013"));
}

// Every problem at once: too many minor units, line 0 with a negative balance and a rate over
// 100, line 2 with a negative rate; line 1 is valid.
#[test]
fn allowance_reports_every_invalid_line_and_field_at_once() {
    let lines = [
        line("0-30", "-5.00", "101"),
        line("31-60", "100", "5"),
        line("61-90", "50", "-1"),
    ];

    let error = allowance(&lines, 7, Decimal::ZERO).expect_err("invalid lines");

    assert_eq!(
        error,
        AllowanceError {
            problems: vec![
                AllowanceProblem::TooManyMinorUnits { given: 7, max: 4 },
                AllowanceProblem::Line {
                    index: 0,
                    bucket: "0-30".to_owned(),
                    field: LineField::Balance,
                    value: d("-5.00"),
                },
                AllowanceProblem::Line {
                    index: 0,
                    bucket: "0-30".to_owned(),
                    field: LineField::LossRatePercent,
                    value: d("101"),
                },
                AllowanceProblem::Line {
                    index: 2,
                    bucket: "61-90".to_owned(),
                    field: LineField::LossRatePercent,
                    value: d("-1"),
                },
            ],
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("line 0 (\"0-30\"): balance -5.00"),
        "{message}"
    );
    assert!(
        message.contains("line 2 (\"61-90\"): loss rate -1"),
        "{message}"
    );
}

// Rates of exactly 0 and exactly 100 are allowed: 0 + 80 × 100 % = 80.
#[test]
fn allowance_accepts_the_limits_of_the_loss_rate() {
    let lines = [
        line("current", "1000", "0"),
        line("in litigation", "80", "100"),
    ];

    let result = allowance(&lines, 2, Decimal::ZERO).expect("valid at the limits");

    assert_eq!(result.required_allowance, d("80"));
}

// Rates at most 100 % never provide more than the receivables: net receivables ≥ 0.
#[test]
fn allowance_never_exceeds_the_receivables() {
    for rate in ["0", "0.5", "33.333", "99.999", "100"] {
        let lines = [line("a", "0.01", rate), line("b", "123456.78", rate)];
        let result = allowance(&lines, 2, Decimal::ZERO).expect("valid");
        assert!(result.required_allowance <= result.total_receivables);
        assert!(result.net_receivables >= Decimal::ZERO);
    }
}

// ---------------------------------------------------------------------------------------------
// Loss-rate table
// ---------------------------------------------------------------------------------------------

#[test]
fn loss_rates_build_the_allowance_lines_of_the_worked_example() {
    let rates = LossRates::new([
        ("0-30", d("1")),
        ("31-60", d("4")),
        ("61-90", d("8")),
        ("91-120", d("16")),
        ("over 120", d("30")),
    ])
    .expect("a valid table");

    let lines = rates
        .lines([
            ("0-30", d("220000")),
            ("31-60", d("90000")),
            ("61-90", d("40000")),
            ("91-120", d("10000")),
            ("over 120", d("15000")),
        ])
        .expect("every bucket has a rate");

    assert_eq!(lines, abc_company_aging());
    assert_eq!(rates.rate("61-90"), Some(d("8")));
    assert_eq!(rates.rate("over 365"), None);
}

#[test]
fn loss_rates_report_every_violation_at_once() {
    let error = LossRates::new([
        ("current", d("1")),
        ("current", d("2")),
        ("  ", d("5")),
        ("90+", d("150")),
        ("180+", d("-0.5")),
    ])
    .expect_err("an invalid table");

    assert_eq!(
        error.problems,
        vec![
            LossRateProblem::DuplicateBucket {
                index: 1,
                bucket: "current".to_owned(),
                first: 0,
            },
            LossRateProblem::BlankBucket { index: 2 },
            LossRateProblem::OutOfRange {
                index: 3,
                bucket: "90+".to_owned(),
                rate: d("150"),
            },
            LossRateProblem::OutOfRange {
                index: 4,
                bucket: "180+".to_owned(),
                rate: d("-0.5"),
            },
        ]
    );
}

#[test]
fn loss_rates_refuse_an_empty_table() {
    let error = LossRates::new(Vec::<(String, Decimal)>::new()).expect_err("an empty table");

    assert_eq!(error.problems, vec![LossRateProblem::Empty]);
}

#[test]
fn loss_rates_report_every_balance_without_a_rate() {
    let rates = LossRates::new([("0-30", d("1"))]).expect("a valid table");

    let error = rates
        .lines([("0-30", d("10")), ("31-60", d("5")), ("61-90", d("1"))])
        .expect_err("unknown buckets");

    assert_eq!(
        error.problems,
        vec![
            LossRateProblem::UnknownBucket {
                index: 1,
                bucket: "31-60".to_owned(),
            },
            LossRateProblem::UnknownBucket {
                index: 2,
                bucket: "61-90".to_owned(),
            },
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Bad-debt rate, promise-kept rate, dispute rate
// ---------------------------------------------------------------------------------------------

// "Bad Debt to Sales Ratio", Operately KPI examples,
// https://kpiexamples.operately.com/finance/bad-debt-to-sales-ratio
// Bad debts 1,000 on sales 100,000: 1,000 × 100 / 100,000 = 1.00 %.
#[test]
fn bad_debt_rate_matches_the_worked_example() {
    let figure = bad_debt_rate(d("1000"), d("100000"));

    assert_value(&figure, "1.00");
    assert_eq!(figure.input("written off"), Some(d("1000")));
}

// Kept and broken as "Promise-to-Pay Tracking", Catchpole, https://www.catchpole.io/docs/promises
// defines them (kept: paid on or before the promised date; pending and cancelled promises are
// neither). Hand examples:
//   17 kept, 3 broken: 17 × 100 / 20 = 85.00 %
//   2 kept, 1 broken:  2 × 100 / 3 = 66.666… → 66.67 %
#[test]
fn promise_kept_rate_counts_kept_over_kept_and_broken() {
    let figure = promise_kept_rate(17, 3);

    assert_value(&figure, "85.00");
    assert_eq!(figure.input("promises kept"), Some(d("17")));
    assert_eq!(figure.input("promises broken"), Some(d("3")));
    assert_eq!(figure.inputs[0].unit, Unit::Count);
    assert_value(&promise_kept_rate(2, 1), "66.67");
}

// Hand example: 37,500 disputed of 1,500,000 credit sales: 37,500 × 100 / 1,500,000 = 2.50 %.
// And 1 of 8: 100 / 8 = 12.5 → 12.50 %; 1 of 3: 33.333… → 33.33 %.
#[test]
fn dispute_rate_is_disputed_over_credit_sales() {
    assert_value(&dispute_rate(d("37500"), d("1500000")), "2.50");
    assert_value(&dispute_rate(d("1"), d("8")), "12.50");
    assert_value(&dispute_rate(d("1"), d("3")), "33.33");
}

// ---------------------------------------------------------------------------------------------
// Average days to pay and days late
// ---------------------------------------------------------------------------------------------

// Days to pay: "Average days to pay" thread, Softrak forum,
// https://portal.softrak.com/ubbthreads/ubbthreads.php/topics/27866
// A 100 invoice paid in 10 days and a 1,000 invoice paid in 20 days:
//   (100 × 10 + 1,000 × 20) / 1,100 = 21,000 / 1,100 = 19.0909… → 19.09 days (not 15, the
//   unweighted average).
// Days late, a hand example on the same two invoices: the 100 invoice was due in 30 days
// (2026-06-03) and paid on 2026-05-14, 20 days early (−20); the 1,000 invoice was due in 14 days
// (2026-05-18) and paid on 2026-05-24, 6 days late:
//   (100 × −20 + 1,000 × 6) / 1,100 = 4,000 / 1,100 = 3.6363… → 3.64 days.
#[test]
fn average_days_to_pay_and_late_are_weighted_by_amount() {
    let invoices = [
        settled("100", "2026-05-04", "2026-06-03", "2026-05-14"),
        settled("1000", "2026-05-04", "2026-05-18", "2026-05-24"),
    ];

    let to_pay = average_days_to_pay(&invoices);
    let late = average_days_late(&invoices);

    assert_value(&to_pay, "19.09");
    assert_eq!(to_pay.metric, Metric::AverageDaysToPay);
    assert_eq!(to_pay.input("amount settled"), Some(d("1100")));
    assert_eq!(to_pay.input("amount × days"), Some(d("21000")));
    assert_eq!(to_pay.input("invoices"), Some(d("2")));
    assert_value(&late, "3.64");
    assert_eq!(late.metric, Metric::AverageDaysLate);
    assert_eq!(late.input("amount × days"), Some(d("4000")));
}

// "How to Calculate Weighted Average Days to Pay",
// https://calculator7.snowdaycalculatornow.com/how-to-calculate-weighted-average-days-to-pay/
// 1,000 paid in 15 days, 3,000 in 30, 2,000 in 45:
//   (15,000 + 90,000 + 90,000) / 6,000 = 195,000 / 6,000 = 32.50 days.
#[test]
fn average_days_to_pay_matches_the_second_worked_example() {
    let invoices = [
        settled("1000", "2026-01-01", "2026-01-31", "2026-01-16"),
        settled("3000", "2026-01-01", "2026-01-31", "2026-01-31"),
        settled("2000", "2026-01-01", "2026-01-31", "2026-02-15"),
    ];

    assert_value(&average_days_to_pay(&invoices), "32.50");
}

// Hand examples of customers paying early on balance:
//   300 paid 5 days early, 100 paid 1 day late: (300 × −5 + 100 × 1) / 400 = −1,400 / 400
//   = −3.50 days.
//   1 paid a day early, 7 on the due date: (1 × −1 + 7 × 0) / 8 = −0.125 → −0.13 (half away from
//   zero; half to even or toward zero would give −0.12).
#[test]
fn average_days_late_is_negative_when_customers_pay_early() {
    let early = [
        settled("300", "2026-03-01", "2026-03-31", "2026-03-26"),
        settled("100", "2026-03-01", "2026-03-31", "2026-04-01"),
    ];
    let half = [
        settled("1", "2026-03-01", "2026-03-31", "2026-03-30"),
        settled("7", "2026-03-01", "2026-03-31", "2026-03-31"),
    ];

    assert_value(&average_days_late(&early), "-3.50");
    assert_value(&average_days_late(&half), "-0.13");
}

#[test]
fn average_days_to_pay_refuses_a_negative_amount() {
    let invoices = [
        settled("100", "2026-05-04", "2026-06-03", "2026-05-14"),
        settled("-1", "2026-05-04", "2026-06-03", "2026-05-14"),
    ];

    assert_undefined(
        &average_days_to_pay(&invoices),
        "undefined: invoice 1 has a negative amount (-1)",
    );
}

// ---------------------------------------------------------------------------------------------
// Undefined figures
// ---------------------------------------------------------------------------------------------

#[test]
fn every_zero_denominator_gives_an_undefined_figure_with_a_note() {
    let undefined_dso = dso_simple(d("10"), Decimal::ZERO, 90);
    let best = best_possible_dso(d("4"), d("10"), 30);
    let zero_amount = [settled("0", "2026-05-04", "2026-06-03", "2026-05-14")];
    let collectible = "undefined: zero collectible (opening receivables + credit sales − closing \
                       current receivables)";

    let cases: Vec<(Figure, &str)> = vec![
        (
            overdue_rate(d("10"), Decimal::ZERO),
            "undefined: zero total open receivables",
        ),
        (undefined_dso.clone(), "undefined: zero credit sales"),
        (
            dso_simple(d("10"), d("100"), 0),
            "undefined: a period of zero days",
        ),
        (
            best_possible_dso(d("4"), Decimal::ZERO, 30),
            "undefined: zero credit sales",
        ),
        (
            average_days_delinquent(&undefined_dso, &best),
            "undefined: DSO is undefined (undefined: zero credit sales)",
        ),
        (
            cei(Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
            collectible,
        ),
        (
            cei_over_months(d("6200"), d("10890"), 0, d("6340"), d("3590")),
            "undefined: zero months",
        ),
        (
            bad_debt_rate(d("5"), Decimal::ZERO),
            "undefined: zero credit sales",
        ),
        (
            dispute_rate(d("5"), Decimal::ZERO),
            "undefined: zero credit sales",
        ),
        (
            promise_kept_rate(0, 0),
            "undefined: zero promises due (kept + broken)",
        ),
        (average_days_to_pay(&[]), "undefined: zero amount settled"),
        (
            average_days_late(&zero_amount),
            "undefined: zero amount settled",
        ),
    ];

    for (figure, note) in &cases {
        assert_undefined(figure, note);
    }
}

#[test]
fn an_undefined_figure_still_shows_its_inputs() {
    let figure = dso_simple(d("10"), Decimal::ZERO, 90);

    assert_eq!(figure.input("closing receivables"), Some(d("10")));
    assert_eq!(figure.input("credit sales"), Some(Decimal::ZERO));
    assert_eq!(figure.input("days in period"), Some(d("90")));
}

#[test]
fn a_negative_denominator_gives_an_undefined_figure_naming_it() {
    assert_undefined(
        &dso_simple(d("10"), d("-5"), 30),
        "undefined: negative credit sales (-5)",
    );
    assert_undefined(
        &overdue_rate(d("10"), d("-20")),
        "undefined: negative total open receivables (-20)",
    );
}

// Receivables but no months at all: nothing walked, nothing explained; zero days, a lower bound.
#[test]
fn countback_dso_without_months_is_a_lower_bound_of_zero_days() {
    let countback = dso_countback(d("100"), &[]);

    assert_value(&countback.figure, "0");
    assert!(!countback.covered);
    assert_eq!(
        countback.figure.note.as_deref(),
        Some("not covered: 0 months walked, 100 left; the value is a lower bound")
    );
}
