//! The customers: grade, currency, terms, how much and how often they buy, their credit limit,
//! how they pay. Also what the demo assumes about the domain's currencies and credit grades
//! (rounding and limit steps, payment methods, how often a call ends with a promise...), as
//! small private traits over `receivables_domain::Currency` and `CreditGrade`.

use std::collections::BTreeSet;

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use receivables_api::pb;
use receivables_domain::Currency;
use receivables_domain::credit::CreditGrade;

use crate::draw::{chance, deck, pick, pick_weighted, round_up};
use crate::group::{CNY, CREDIT_OFFICERS, HK_SERVICES, HKD, SH_TRADING, SZ_ELECTRONICS, USD};

/// Shares of the customers by currency, in percent.
const CURRENCY_SHARES: [(&str, usize); 3] = [(CNY, 80), (USD, 12), (HKD, 8)];

/// Rough, fixed demo rates from CNY, as integer fractions (numerator, denominator): no floats,
/// and the same figures on every machine.
const USD_PER_CNY: (i64, i64) = (1, 7);
const HKD_PER_CNY: (i64, i64) = (108, 100);

/// Invoices per customer and month, in tenths: each customer draws its rate from this range
/// (1.6 a month on average), from the occasional buyer to the weekly one.
const INVOICE_RATE_TENTHS_MIN: u32 = 4;
const INVOICE_RATE_TENTHS_MAX: u32 = 28;

/// Every customer whose index leaves this remainder by [`DEPOSIT_EVERY`] pays a security deposit
/// (保证金) before its first invoice, taken on account: unapplied cash from the start.
const DEPOSIT_EVERY: usize = 17;
const DEPOSIT_REMAINDER: usize = 5;

/// Percentage of customers with a limit whose terms are reviewed mid-year.
const REVIEW_PERCENT: u32 = 10;

/// Percentage of customers still waiting for their first credit review (no limit: not checked).
const NO_LIMIT_PERCENT: usize = 3;

/// Percentage of customers who pay with remittance advice (explicit allocations).
const EXPLICIT_PERCENT: u32 = 55;

/// Percentage of the A and B customers paying with remittance advice who pay in payment runs.
const PAYMENT_RUNS_PERCENT: u32 = 60;

/// Typical invoice sizes of customers in CNY major units, with weights: from the small
/// workshop to the large distributor.
const TYPICAL_INVOICE_CNY: [(i64, u32); 8] = [
    (3_000, 10),
    (8_000, 18),
    (15_000, 20),
    (30_000, 18),
    (60_000, 14),
    (120_000, 10),
    (250_000, 6),
    (500_000, 4),
];

/// Minor units per major unit of CNY.
const CNY_MINOR_PER_MAJOR: i64 = 100;

/// Percentages of the customers whose year takes each of the rarer turns (rounded up, so that
/// even a small data set has one of each): returns, disputes, a bounced payment, payments taken
/// on account, overpayments refunded, a volume rebate (of A and B customers), and bad debts (of
/// D customers, written off).
const RETURNS_PERCENT: usize = 5;
const DISPUTES_PERCENT: usize = 4;
const BOUNCES_PERCENT: usize = 3;
const ON_ACCOUNT_PERCENT: usize = 3;
const REFUNDS_PERCENT: usize = 3;
const REBATE_PERCENT: usize = 2;
const BAD_DEBT_PERCENT: usize = 2;

/// What the demo assumes about a currency: its customers' habits and the group's practice.
/// Every currency that is not USD or HKD is treated as CNY.
pub(crate) trait CurrencyPractice {
    /// Converts a CNY amount at a rough, fixed demo rate (integer arithmetic, no floats).
    fn convert_cny_minor(self, cny_minor: i64) -> i64;
    /// The round figure a customer rounds a payment up to, in minor units.
    fn round_step_minor(self) -> i64;
    /// Credit limits are multiples of this, in minor units.
    fn limit_step_minor(self) -> i64;
    /// How customers in this currency pay, with weights.
    fn methods(self) -> &'static [(pb::PaymentMethod, u32)];
}

impl CurrencyPractice for Currency {
    fn convert_cny_minor(self, cny_minor: i64) -> i64 {
        let (numerator, denominator) = match self.code() {
            USD => USD_PER_CNY,
            HKD => HKD_PER_CNY,
            _ => (1, 1),
        };
        cny_minor * numerator / denominator
    }

    fn round_step_minor(self) -> i64 {
        match self.code() {
            USD => 10_000,
            _ => 100_000,
        }
    }

    fn limit_step_minor(self) -> i64 {
        match self.code() {
            USD => 100_000,
            _ => 1_000_000,
        }
    }

    fn methods(self) -> &'static [(pb::PaymentMethod, u32)] {
        use pb::PaymentMethod as M;
        match self.code() {
            USD => &[(M::BankTransfer, 88), (M::Cheque, 7), (M::Card, 5)],
            HKD => &[
                (M::BankTransfer, 50),
                (M::Cheque, 25),
                // FPS (Faster Payment System) transfers.
                (M::Other, 15),
                (M::Card, 5),
                (M::Cash, 5),
            ],
            _ => &[
                (M::BankTransfer, 62),
                (M::Alipay, 10),
                (M::WechatPay, 8),
                (M::UnionPay, 6),
                (M::Cheque, 6),
                // Bank acceptance bills (银行承兑汇票).
                (M::Other, 6),
                (M::Cash, 2),
            ],
        }
    }
}

/// What the demo's credit department and collectors do with a grade.
pub(crate) trait GradePractice {
    /// The reason written on the opening limit of a customer of this grade.
    fn review_reason(self) -> &'static str;
    /// Percentage of collection calls that end with a promise to pay.
    fn promise_percent(self) -> u32;
    /// Limit in percent of a month's invoicing on top of the terms.
    fn limit_cushion_percent(self) -> i64;
    /// Percentage of customers of this grade whose limit is under policy WARN (else BLOCK).
    fn warn_percent(self) -> u32;
}

impl GradePractice for CreditGrade {
    fn review_reason(self) -> &'static str {
        match self {
            CreditGrade::A => "annual credit review: key account, prompt payer",
            CreditGrade::B => "annual credit review",
            CreditGrade::C => "annual credit review: slow payer, limit held",
            CreditGrade::D => "annual credit review: high risk, strict limit",
        }
    }

    fn promise_percent(self) -> u32 {
        match self {
            CreditGrade::A => 0,
            CreditGrade::B => 50,
            CreditGrade::C => 75,
            CreditGrade::D => 80,
        }
    }

    fn limit_cushion_percent(self) -> i64 {
        match self {
            CreditGrade::A => 150,
            CreditGrade::B | CreditGrade::C => 100,
            CreditGrade::D => 80,
        }
    }

    fn warn_percent(self) -> u32 {
        match self {
            CreditGrade::A => 70,
            CreditGrade::B => 40,
            CreditGrade::C => 10,
            CreditGrade::D => 0,
        }
    }
}

/// A credit limit as the credit department sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credit {
    pub(crate) limit_minor: i64,
    pub(crate) block: bool,
}

pub(crate) struct Profile {
    pub(crate) customer_id: String,
    pub(crate) grade: CreditGrade,
    pub(crate) currency: Currency,
    pub(crate) terms_days: u32,
    pub(crate) subsidiaries: &'static [usize],
    pub(crate) typical_minor: i64,
    pub(crate) rate_tenths: u32,
    pub(crate) credit: Option<Credit>,
    pub(crate) credit_officer: &'static str,
    /// Pays with remittance advice (explicit allocations) rather than leaving it to the
    /// oldest-due-first rule.
    pub(crate) explicit: bool,
    /// Pays in payment runs on the 10th and the 25th.
    pub(crate) payment_runs: bool,
    pub(crate) main_method: pb::PaymentMethod,
    pub(crate) deposit: bool,
    pub(crate) planted: bool,
    pub(crate) review: bool,
    /// The rarer turns of the customer's year.
    pub(crate) turns: Turns,
}

/// The rarer turns a customer's year may take, each for a few percent of the customers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Turns {
    /// Sends goods back now and then: credit notes against the invoices (on account once paid).
    pub(crate) returns: bool,
    /// Disputes an invoice or two: some disputes expire, some are withdrawn, some upheld with a
    /// credit note.
    pub(crate) disputes: bool,
    /// One of its payments bounces and is reversed, then paid again.
    pub(crate) bounces: bool,
    /// Pays without remittance advice now and then: taken on account, applied once the advice
    /// arrives.
    pub(crate) on_account: bool,
    /// Overpays in round sums more often, and the subsidiary refunds what was left unapplied.
    pub(crate) refunds: bool,
    /// Earns a quarterly volume rebate, credited on account, then applied or refunded.
    pub(crate) rebate: bool,
    /// Goes under: stops paying, the subsidiaries stop selling, and credit control writes off
    /// the long-overdue invoices and withdraws the credit.
    pub(crate) bad_debt: bool,
}

/// Deals the rarer turns to the customers: each turn to its share of the customers it suits,
/// chosen at random. Drawn from a generator of its own, so that the customers' other traits and
/// their ordinary business are the same with or without the turns.
pub(crate) fn deal_turns(rng: &mut StdRng, profiles: &mut [Profile]) {
    let customers = profiles.len();
    let mut choose = |percent: usize, suits: &dyn Fn(&Profile) -> bool| -> Vec<usize> {
        let mut candidates: Vec<usize> = profiles
            .iter()
            .enumerate()
            .filter(|(_, profile)| suits(profile))
            .map(|(index, _)| index)
            .collect();
        candidates.shuffle(rng);
        candidates.truncate((customers * percent).div_ceil(100));
        candidates
    };
    let returns = choose(RETURNS_PERCENT, &|_| true);
    let disputes = choose(DISPUTES_PERCENT, &|_| true);
    let bounces = choose(BOUNCES_PERCENT, &|p| p.grade != CreditGrade::A);
    let on_account = choose(ON_ACCOUNT_PERCENT, &|_| true);
    let refunds = choose(REFUNDS_PERCENT, &|_| true);
    let rebate = choose(REBATE_PERCENT, &|p| {
        matches!(p.grade, CreditGrade::A | CreditGrade::B)
    });
    // A planted customer keeps buying until its over-limit order, late in the window; one
    // that pays deposits is not one that goes under.
    let bad_debt = choose(BAD_DEBT_PERCENT, &|p| {
        p.grade == CreditGrade::D && !p.planted && !p.deposit
    });
    let mut set = |chosen: Vec<usize>, turn: fn(&mut Turns)| {
        for index in chosen {
            if let Some(profile) = profiles.get_mut(index) {
                turn(&mut profile.turns);
            }
        }
    };
    set(returns, |t| t.returns = true);
    set(disputes, |t| t.disputes = true);
    set(bounces, |t| t.bounces = true);
    set(on_account, |t| t.on_account = true);
    set(refunds, |t| t.refunds = true);
    set(rebate, |t| t.rebate = true);
    set(bad_debt, |t| t.bad_debt = true);
}

/// The group's customers, `planted` of them chosen to receive an invoice that breaks their
/// BLOCK limit.
pub(crate) fn profiles(rng: &mut StdRng, customers: usize, planted: usize) -> Vec<Profile> {
    let grades = deck(
        rng,
        customers,
        // C fills what rounding leaves: a small data set needs customers who get chased.
        &[
            (CreditGrade::C, 22),
            (CreditGrade::B, 40),
            (CreditGrade::A, 25),
            (CreditGrade::D, 13),
        ],
    );
    let currency_shares: Vec<(Currency, usize)> = CURRENCY_SHARES
        .iter()
        .filter_map(|(code, percent)| Currency::parse(code).ok().map(|c| (c, *percent)))
        .collect();
    let currencies = deck(rng, customers, &currency_shares);
    let mut order: Vec<usize> = (0..customers).collect();
    order.shuffle(rng);
    let no_limit = customers * NO_LIMIT_PERCENT / 100;
    let planted_set: BTreeSet<usize> = order.iter().take(planted).copied().collect();
    let no_limit_set: BTreeSet<usize> =
        order.iter().skip(planted).take(no_limit).copied().collect();

    let mut profiles = Vec::with_capacity(customers);
    for index in 0..customers {
        let grade = grades.get(index).copied().unwrap_or(CreditGrade::B);
        // Every code of CURRENCY_SHARES is an ISO 4217 currency: the deck is full.
        let Some(currency) = currencies.get(index).copied() else {
            continue;
        };
        let subsidiaries: &'static [usize] = match currency.code() {
            USD => pick_weighted(
                rng,
                &[
                    (&[SZ_ELECTRONICS][..], 40),
                    (&[HK_SERVICES][..], 30),
                    (&[SZ_ELECTRONICS, HK_SERVICES][..], 30),
                ],
            )
            .unwrap_or(&[HK_SERVICES]),
            HKD => &[HK_SERVICES],
            _ => pick_weighted(
                rng,
                &[
                    (&[SH_TRADING][..], 35),
                    (&[SZ_ELECTRONICS][..], 25),
                    (&[SH_TRADING, SZ_ELECTRONICS][..], 25),
                    (&[SH_TRADING, SZ_ELECTRONICS, HK_SERVICES][..], 8),
                    (&[SH_TRADING, HK_SERVICES][..], 7),
                ],
            )
            .unwrap_or(&[SH_TRADING]),
        };
        let terms_days = pick_weighted(rng, &[(30, 50), (45, 30), (60, 20)]).unwrap_or(30);
        let typical_cny = pick_weighted(rng, &TYPICAL_INVOICE_CNY).unwrap_or(15_000);
        let typical_minor = currency.convert_cny_minor(typical_cny * CNY_MINOR_PER_MAJOR);
        let rate_tenths = rng.random_range(INVOICE_RATE_TENTHS_MIN..=INVOICE_RATE_TENTHS_MAX);
        let planted = planted_set.contains(&index);
        let credit = if no_limit_set.contains(&index) {
            None
        } else {
            // A month of invoicing for every month of terms, plus a cushion by grade.
            // At least two typical invoices a month, so that a customer who buys rarely but
            // in large amounts is not over its limit with a single invoice.
            let monthly_minor =
                (typical_minor * i64::from(rate_tenths) / 10).max(typical_minor * 2);
            let percent = i64::from(terms_days) * 100 / 30 + grade.limit_cushion_percent();
            let limit_minor = round_up(monthly_minor * percent / 100, currency.limit_step_minor())
                .max(currency.limit_step_minor());
            Some(Credit {
                limit_minor,
                block: planted || !chance(rng, grade.warn_percent()),
            })
        };
        let explicit = chance(rng, EXPLICIT_PERCENT);
        let payment_runs = explicit
            && matches!(grade, CreditGrade::A | CreditGrade::B)
            && chance(rng, PAYMENT_RUNS_PERCENT);
        let main_method =
            pick_weighted(rng, currency.methods()).unwrap_or(pb::PaymentMethod::BankTransfer);
        let review =
            credit.is_some() && !planted && grade != CreditGrade::D && chance(rng, REVIEW_PERCENT);
        profiles.push(Profile {
            customer_id: format!("CUST-{:04}", index + 1),
            grade,
            currency,
            terms_days,
            subsidiaries,
            typical_minor,
            rate_tenths,
            credit,
            credit_officer: pick(rng, &CREDIT_OFFICERS).unwrap_or("Chen Jing"),
            explicit,
            payment_runs,
            main_method,
            deposit: index % DEPOSIT_EVERY == DEPOSIT_REMAINDER,
            planted,
            review,
            turns: Turns::default(),
        });
    }
    profiles
}
