//! The demo data set: a realistic year of a small corporate group's receivables, generated from
//! a seed and loaded through the gRPC API.
//!
//! Three subsidiaries (`SH-TRADING`, `SZ-ELECTRONICS`, `HK-SERVICES`) sell on credit to a few
//! hundred customers, mostly in CNY, some in USD or HKD (one currency per customer, so that the
//! group-wide limit is kept in the currency the customer is invoiced in). The credit department
//! grades every customer A-D and sets a limit under policy BLOCK or WARN; the customers pay as
//! their grade suggests (A early or on time, B mostly on time, C late or in parts, D late, in
//! parts or not at all), by bank transfer, Alipay, WeChat Pay, cheque..., with remittance advice
//! (explicit allocations) or without (oldest due first); collectors record promises to pay,
//! some kept, some broken, some still open; a few invoices are planted to break a BLOCK limit.
//!
//! [`generate`] simulates every customer's account with the same rules as the command service
//! (exposure, oldest-due-first allocation, the promise ceiling), so that every command it
//! produces is accepted except the planted over-limit invoices, which are refused with
//! `CREDIT_LIMIT_EXCEEDED`. It is a pure function of the seed, the size and `today`: the same
//! arguments give the same commands, command ids included, so that loading them again records
//! nothing new (the service answers every command with its first reply).
//!
//! [`load`] posts the commands through `CommandService`: many customers at once, each customer's
//! commands strictly in order (the service decides each one against the account the earlier
//! ones built), and returns what was accepted and refused with the totals a report must show.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use chrono::{Datelike, Months, NaiveDate, TimeDelta, Weekday};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::limits::ALLOCATIONS_PER_PAYMENT_MAX;
use rust_decimal::Decimal;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// Most customers a data set can have: ids run from `CUST-0001` to `CUST-9999`.
pub const CUSTOMERS_MAX: usize = 9_999;

/// Most months of history. Together with [`CUSTOMERS_MAX`] and the invoicing rate this keeps
/// every subsidiary's invoice sequence below a million, inside the six digits of its numbers,
/// so that numbers sort in the order they were issued (oldest-due-first breaks ties by number).
pub const MONTHS_MAX: u32 = 24;

/// Customers whose commands are posted at the same time. Each customer's commands go one after
/// the other, so this is also the number of commands in flight: enough to keep the service and
/// the event log busy, few enough not to queue up behind its per-customer locks.
pub const CUSTOMERS_IN_FLIGHT_MAX: usize = 32;

/// Attempts per command when the service answers UNAVAILABLE, ABORTED, RESOURCE_EXHAUSTED or
/// DEADLINE_EXCEEDED. Retrying is safe because a command keeps its id: the service either
/// records it once or answers with its first reply.
pub const ATTEMPTS_PER_COMMAND_MAX: u32 = 4;

/// Pause before the first retry; doubled for every further one.
const RETRY_BACKOFF_INITIAL: Duration = Duration::from_millis(100);

/// Deadline of one command call (sent as `grpc-timeout`).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The refusal reason of a planted over-limit invoice.
pub const REASON_CREDIT_LIMIT_EXCEEDED: &str = "CREDIT_LIMIT_EXCEEDED";

/// Days after a promised date during which a payment still keeps the promise. The read side's
/// default (`PROMISE_GRACE_DAYS_DEFAULT` in the projections); the generator needs it to decide
/// which promises are judged already and which are still open.
const PROMISE_GRACE_DAYS: i64 = 3;

/// Invoices per customer and month, in tenths: each customer draws its rate from this range
/// (1.6 a month on average), from the occasional buyer to the weekly one.
const INVOICE_RATE_TENTHS_MIN: u32 = 4;
const INVOICE_RATE_TENTHS_MAX: u32 = 28;

/// Smallest invoice, in minor units (100.00): smaller sales go through the shop, not credit.
const INVOICE_AMOUNT_MIN_MINOR: i64 = 10_000;

/// A trimmed invoice (a sales order cut to the credit still available) is rounded down to this,
/// in minor units (100.00), as a salesperson would.
const TRIM_STEP_MINOR: i64 = 10_000;

/// Promises for part of the balance are rounded down to this, in minor units (100.00).
const PROMISE_STEP_MINOR: i64 = 10_000;

/// How much a planted over-limit invoice exceeds the credit still available, at least, in
/// minor units (1,000.00): clearly over, not over by a rounding difference.
const PLANTED_MARGIN_MIN_MINOR: i64 = 100_000;

/// Percentage of payments rounded up to a round figure, leaving unapplied cash on the account.
const OVERPAYMENT_PERCENT: u32 = 7;

/// Percentage of USD bank transfers from which the banks took a fee, leaving a small open
/// residual on the invoice.
const WIRE_FEE_PERCENT: u32 = 30;

/// Every customer whose index leaves this remainder by [`DEPOSIT_EVERY`] pays a deposit before
/// its first invoice: unapplied cash from the start.
const DEPOSIT_EVERY: usize = 17;
const DEPOSIT_REMAINDER: usize = 5;

/// A deposit arrives up to this many days before the first invoice.
const DEPOSIT_LEAD_DAYS_MAX: i64 = 10;

/// Percentage of customers with a limit whose terms are reviewed mid-year.
const REVIEW_PERCENT: u32 = 10;

/// Percentage of customers still waiting for their first credit review (no limit: not checked).
const NO_LIMIT_PERCENT: usize = 3;

/// Days from a promise to the promised date, at least and at most: "by Friday next week".
const PROMISE_HORIZON_DAYS_MIN: i64 = 3;
const PROMISE_HORIZON_DAYS_MAX: i64 = 10;

/// Days between a collector's calls to a customer who promised to pay, at least and at most.
const CALL_GAP_DAYS_MIN: i64 = 25;
const CALL_GAP_DAYS_MAX: i64 = 40;

/// Days until collectors look at a customer again when the last look got no promise (nothing
/// overdue, or nobody to promise anything): they go through the overdue list every week or two.
const CHECK_GAP_DAYS_MIN: i64 = 7;
const CHECK_GAP_DAYS_MAX: i64 = 14;

/// A customer is called a last time within this many days before `today` when the regular
/// rhythm would skip the last weeks, so that the newest promises are still open.
const FINAL_CALL_DAYS: i64 = 10;

/// The namespace of the demo's command ids (random, fixed forever: changing it would make a
/// second load of the same data set record everything again).
const COMMAND_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f1c_2d9e_4b7a_4c35_9e0d_5a1b_7c3f_2e81);

/// How big a demo data set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    /// Customers of the group (`CUST-0001`...), at most [`CUSTOMERS_MAX`].
    pub customers: usize,
    /// Months of history ending `today`, 1 to [`MONTHS_MAX`].
    pub months: u32,
    /// Invoices planted to break a BLOCK credit limit, one per customer, at most `customers`:
    /// the service must refuse every one with `CREDIT_LIMIT_EXCEEDED`.
    pub over_limit_invoices: usize,
}

impl DemoSize {
    /// The demo: 300 customers over twelve months, about 5,000 invoices.
    pub const FULL: DemoSize = DemoSize {
        customers: 300,
        months: 12,
        over_limit_invoices: 6,
    };

    /// For tests: 12 customers over three months, about 60 invoices, still every kind of fact.
    pub const SMALL: DemoSize = DemoSize {
        customers: 12,
        months: 3,
        over_limit_invoices: 2,
    };
}

/// One command of the data set, as it goes on the wire (the command id is set).
#[derive(Debug, Clone, PartialEq)]
pub enum DemoCommand {
    ChangeCreditLimit(pb::ChangeCreditLimitRequest),
    IssueInvoice(pb::IssueInvoiceRequest),
    /// An invoice planted to take a BLOCK customer above its limit: the service must refuse it
    /// with `CREDIT_LIMIT_EXCEEDED` (and the demo shows that it did).
    IssueInvoiceOverLimit(pb::IssueInvoiceRequest),
    RecordPayment(pb::RecordPaymentRequest),
    RecordPromiseToPay(pb::RecordPromiseToPayRequest),
}

/// The four kinds of command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandKind {
    CreditLimit,
    Invoice,
    Payment,
    Promise,
}

impl CommandKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::CreditLimit => "credit limit",
            CommandKind::Invoice => "invoice",
            CommandKind::Payment => "payment",
            CommandKind::Promise => "promise to pay",
        }
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DemoCommand {
    pub fn kind(&self) -> CommandKind {
        match self {
            DemoCommand::ChangeCreditLimit(_) => CommandKind::CreditLimit,
            DemoCommand::IssueInvoice(_) | DemoCommand::IssueInvoiceOverLimit(_) => {
                CommandKind::Invoice
            }
            DemoCommand::RecordPayment(_) => CommandKind::Payment,
            DemoCommand::RecordPromiseToPay(_) => CommandKind::Promise,
        }
    }

    pub fn customer_id(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.customer_id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.customer_id,
            DemoCommand::RecordPayment(r) => &r.customer_id,
            DemoCommand::RecordPromiseToPay(r) => &r.customer_id,
        }
    }

    pub fn command_id(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.command_id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.command_id,
            DemoCommand::RecordPayment(r) => &r.command_id,
            DemoCommand::RecordPromiseToPay(r) => &r.command_id,
        }
    }

    /// The business date the fact takes effect (`YYYY-MM-DD`): issue, received, made-on or
    /// effective date.
    pub fn business_date(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.effective_date,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.issue_date,
            DemoCommand::RecordPayment(r) => &r.received_date,
            DemoCommand::RecordPromiseToPay(r) => &r.made_on,
        }
    }

    /// Whether this is a planted invoice that the service must refuse.
    pub fn is_planted_over_limit(&self) -> bool {
        matches!(self, DemoCommand::IssueInvoiceOverLimit(_))
    }

    fn set_command_id(&mut self, id: String) {
        match self {
            DemoCommand::ChangeCreditLimit(r) => r.command_id = id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
                r.command_id = id
            }
            DemoCommand::RecordPayment(r) => r.command_id = id,
            DemoCommand::RecordPromiseToPay(r) => r.command_id = id,
        }
    }
}

/// Counts per kind of command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub credit_limits: usize,
    pub invoices: usize,
    pub payments: usize,
    pub promises: usize,
}

impl KindCounts {
    /// Counts the commands of a data set by kind.
    pub fn of(commands: &[DemoCommand]) -> KindCounts {
        let mut counts = KindCounts::default();
        for command in commands {
            counts.add(command.kind(), 1);
        }
        counts
    }

    pub fn get(&self, kind: CommandKind) -> usize {
        match kind {
            CommandKind::CreditLimit => self.credit_limits,
            CommandKind::Invoice => self.invoices,
            CommandKind::Payment => self.payments,
            CommandKind::Promise => self.promises,
        }
    }

    pub fn total(&self) -> usize {
        self.credit_limits + self.invoices + self.payments + self.promises
    }

    fn add(&mut self, kind: CommandKind, count: usize) {
        let slot = match kind {
            CommandKind::CreditLimit => &mut self.credit_limits,
            CommandKind::Invoice => &mut self.invoices,
            CommandKind::Payment => &mut self.payments,
            CommandKind::Promise => &mut self.promises,
        };
        *slot += count;
    }

    fn merge(&mut self, other: &KindCounts) {
        for kind in [
            CommandKind::CreditLimit,
            CommandKind::Invoice,
            CommandKind::Payment,
            CommandKind::Promise,
        ] {
            self.add(kind, other.get(kind));
        }
    }
}

/// Money totals of one currency, as the service accepted it, to check the reports against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CurrencyTotals {
    /// Sum of the accepted invoices.
    pub invoiced: Decimal,
    /// Sum of the accepted payments.
    pub paid: Decimal,
    /// Sum of the allocations the service reported in its payment replies.
    pub allocated: Decimal,
}

impl CurrencyTotals {
    /// What is still open on the invoices: invoiced minus allocated.
    pub fn open(&self) -> Decimal {
        self.invoiced - self.allocated
    }

    /// Cash received but not applied to any invoice: paid minus allocated.
    pub fn unapplied(&self) -> Decimal {
        self.paid - self.allocated
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Accepted commands per kind (replayed ones included).
    pub accepted: KindCounts,
    /// Accepted commands the service had accepted before (a second load): nothing new recorded.
    pub replayed: usize,
    /// Refused commands by `google.rpc.ErrorInfo.reason` (the status code's name when the
    /// service sent none).
    pub refused: BTreeMap<String, usize>,
    /// Planted over-limit invoices refused with `CREDIT_LIMIT_EXCEEDED`, as intended.
    pub planted_refused: usize,
    /// Commands whose outcome was not the intended one: a planted invoice accepted or refused
    /// for another reason, or any other command refused. Zero when the service and the
    /// generator agree on the rules.
    pub unexpected: usize,
    /// Invoices accepted under policy WARN although they took exposure above the limit.
    pub over_limit_accepted: usize,
    /// The highest position (stream sequence) the service returned: pass it as `min_position`
    /// to the queries to read everything this load wrote.
    pub last_position: u64,
    /// Totals per currency code.
    pub totals: BTreeMap<String, CurrencyTotals>,
}

impl LoadSummary {
    /// All refused commands, whatever the reason.
    pub fn refused_total(&self) -> usize {
        self.refused.values().sum()
    }

    fn merge(&mut self, other: LoadSummary) {
        self.accepted.merge(&other.accepted);
        self.replayed += other.replayed;
        for (reason, count) in other.refused {
            *self.refused.entry(reason).or_default() += count;
        }
        self.planted_refused += other.planted_refused;
        self.unexpected += other.unexpected;
        self.over_limit_accepted += other.over_limit_accepted;
        self.last_position = self.last_position.max(other.last_position);
        for (currency, totals) in other.totals {
            let entry = self.totals.entry(currency).or_default();
            entry.invoiced += totals.invoiced;
            entry.paid += totals.paid;
            entry.allocated += totals.allocated;
        }
    }
}

// ------------------------------------------------------------------------------------------
// The group: subsidiaries, collectors, credit officers, how customers pay.
// ------------------------------------------------------------------------------------------

/// How a subsidiary's ERP states when an invoice is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DueRule {
    /// Sends the payment terms (`terms_days`); the service derives the due date.
    Terms,
    /// Sends the due date: issue date plus terms.
    Date,
    /// Sends the due date: the end of the month in which issue date plus terms falls (Hong Kong
    /// practice, "30 days end of month").
    MonthEnd,
}

struct Subsidiary {
    id: &'static str,
    due_rule: DueRule,
    /// The collectors who call this subsidiary's customers.
    collectors: &'static [&'static str],
    /// The short name on cash receipts.
    short: &'static str,
}

const SH_TRADING: usize = 0;
const SZ_ELECTRONICS: usize = 1;
const HK_SERVICES: usize = 2;

const SUBSIDIARIES: [Subsidiary; 3] = [
    Subsidiary {
        id: "SH-TRADING",
        due_rule: DueRule::Terms,
        collectors: &["Wang Fang", "Zhang Wei"],
        short: "SHT",
    },
    Subsidiary {
        id: "SZ-ELECTRONICS",
        due_rule: DueRule::Date,
        collectors: &["Liu Yang", "Huang Min"],
        short: "SZE",
    },
    Subsidiary {
        id: "HK-SERVICES",
        due_rule: DueRule::MonthEnd,
        collectors: &["Karen Lam", "Wong Siu Ming"],
        short: "HKS",
    },
];

/// The number an invoice gets in its subsidiary's ERP. The sequence runs across years and is
/// zero-padded to six digits, so that numbers sort in the order they were issued.
fn invoice_number(subsidiary: usize, issue: NaiveDate, sequence: u32) -> String {
    match subsidiary {
        SH_TRADING => format!("SHT-INV-{}-{sequence:06}", issue.year()),
        SZ_ELECTRONICS => format!("SZE/{}/{sequence:06}", issue.year()),
        _ => format!("HKS-{}{:02}-{sequence:06}", issue.year(), issue.month()),
    }
}

/// The group credit department's officers, who approve limits.
const CREDIT_OFFICERS: [&str; 3] = ["Chen Jing", "Zhou Ming", "Li Na"];

/// What collectors write down with a promise.
const PROMISE_NOTES: [&str; 8] = [
    "called the treasurer: payment in the next run",
    "CFO confirmed by WeChat",
    "AP clerk says the invoices are approved and queued",
    "waiting for their own customer to pay; asked for part now",
    "asked for a corrected VAT fapiao first; sent it today",
    "visited the office: the director signed a repayment schedule",
    "email from accounts payable with the payment date",
    "agreed to clear the oldest invoices first",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Currency {
    Cny,
    Usd,
    Hkd,
}

impl Currency {
    fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Usd => "USD",
            Currency::Hkd => "HKD",
        }
    }

    /// Converts a CNY amount at a rough, fixed demo rate (integer arithmetic, no floats).
    fn convert_cny_minor(self, cny_minor: i64) -> i64 {
        match self {
            Currency::Cny => cny_minor,
            Currency::Usd => cny_minor / 7,
            Currency::Hkd => cny_minor * 108 / 100,
        }
    }

    /// The round figure a customer rounds a payment up to, in minor units.
    fn round_step_minor(self) -> i64 {
        match self {
            Currency::Cny | Currency::Hkd => 100_000,
            Currency::Usd => 10_000,
        }
    }

    /// Credit limits are multiples of this, in minor units.
    fn limit_step_minor(self) -> i64 {
        match self {
            Currency::Cny | Currency::Hkd => 1_000_000,
            Currency::Usd => 100_000,
        }
    }

    /// How customers in this currency pay, with weights.
    fn methods(self) -> &'static [(pb::PaymentMethod, u32)] {
        use pb::PaymentMethod as M;
        match self {
            Currency::Cny => &[
                (M::BankTransfer, 62),
                (M::Alipay, 10),
                (M::WechatPay, 8),
                (M::UnionPay, 6),
                (M::Cheque, 6),
                // Bank acceptance bills (银行承兑汇票).
                (M::Other, 6),
                (M::Cash, 2),
            ],
            Currency::Usd => &[(M::BankTransfer, 88), (M::Cheque, 7), (M::Card, 5)],
            Currency::Hkd => &[
                (M::BankTransfer, 50),
                (M::Cheque, 25),
                // FPS (Faster Payment System) transfers.
                (M::Other, 15),
                (M::Card, 5),
                (M::Cash, 5),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    fn wire(self) -> pb::CreditGrade {
        match self {
            Grade::A => pb::CreditGrade::A,
            Grade::B => pb::CreditGrade::B,
            Grade::C => pb::CreditGrade::C,
            Grade::D => pb::CreditGrade::D,
        }
    }

    fn review_reason(self) -> &'static str {
        match self {
            Grade::A => "annual credit review: key account, prompt payer",
            Grade::B => "annual credit review",
            Grade::C => "annual credit review: slow payer, limit held",
            Grade::D => "annual credit review: high risk, strict limit",
        }
    }

    /// Percentage of collection calls that end with a promise to pay.
    fn promise_percent(self) -> u32 {
        match self {
            Grade::A => 0,
            Grade::B => 50,
            Grade::C => 75,
            Grade::D => 80,
        }
    }

    /// Limit in percent of a month's invoicing on top of the terms.
    fn limit_cushion_percent(self) -> i64 {
        match self {
            Grade::A => 150,
            Grade::B => 100,
            Grade::C => 100,
            Grade::D => 80,
        }
    }
}

/// What became of a promise whose window has closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PromiseOutcome {
    /// The customer paid the promised amount within the window.
    Kept,
    /// The customer paid part of it, then nothing more.
    Partial,
    /// Nothing was paid in the window.
    Broken,
}

/// Outcomes are dealt from decks rather than drawn, so that even a small data set has kept and
/// broken promises in the proportions the grades suggest: one counter runs through the decks,
/// and every deck starts with a kept and a broken promise.
const OUTCOMES_B: [PromiseOutcome; 6] = [
    PromiseOutcome::Kept,
    PromiseOutcome::Broken,
    PromiseOutcome::Kept,
    PromiseOutcome::Kept,
    PromiseOutcome::Kept,
    PromiseOutcome::Kept,
];
const OUTCOMES_C: [PromiseOutcome; 6] = [
    PromiseOutcome::Kept,
    PromiseOutcome::Broken,
    PromiseOutcome::Kept,
    PromiseOutcome::Partial,
    PromiseOutcome::Kept,
    PromiseOutcome::Broken,
];
const OUTCOMES_D: [PromiseOutcome; 6] = [
    PromiseOutcome::Kept,
    PromiseOutcome::Broken,
    PromiseOutcome::Broken,
    PromiseOutcome::Partial,
    PromiseOutcome::Kept,
    PromiseOutcome::Broken,
];

#[derive(Default)]
struct OutcomeDecks {
    dealt: usize,
}

impl OutcomeDecks {
    fn deal(&mut self, grade: Grade) -> PromiseOutcome {
        let deck: &[PromiseOutcome] = match grade {
            Grade::A | Grade::B => &OUTCOMES_B,
            Grade::C => &OUTCOMES_C,
            Grade::D => &OUTCOMES_D,
        };
        let outcome = deck[self.dealt % deck.len()];
        self.dealt += 1;
        outcome
    }
}

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

// ------------------------------------------------------------------------------------------
// Customers.
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Credit {
    limit_minor: i64,
    block: bool,
}

struct Profile {
    customer_id: String,
    grade: Grade,
    currency: Currency,
    terms_days: u32,
    subsidiaries: &'static [usize],
    typical_minor: i64,
    rate_tenths: u32,
    credit: Option<Credit>,
    credit_officer: &'static str,
    /// Pays with remittance advice (explicit allocations) rather than leaving it to the
    /// oldest-due-first rule.
    explicit: bool,
    /// Pays in payment runs on the 10th and the 25th.
    payment_runs: bool,
    main_method: pb::PaymentMethod,
    deposit: bool,
    planted: bool,
    review: bool,
}

/// A shuffled deck of `count` cards with the given percentage shares, each kind at least once
/// when there are enough cards; the first kind fills up what rounding left.
fn deck<T: Copy>(rng: &mut StdRng, count: usize, shares: &[(T, usize)]) -> Vec<T> {
    let mut cards = Vec::with_capacity(count);
    for (value, percent) in shares {
        let share = (count * percent / 100).max(usize::from(count >= shares.len()));
        cards.extend(std::iter::repeat_n(*value, share));
    }
    if let Some((filler, _)) = shares.first() {
        while cards.len() < count {
            cards.push(*filler);
        }
    }
    cards.truncate(count);
    cards.shuffle(rng);
    cards
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    items.get(rng.random_range(0..items.len())).copied()
}

fn pick_weighted<T: Copy>(rng: &mut StdRng, table: &[(T, u32)]) -> Option<T> {
    let total: u32 = table.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (value, weight) in table {
        if roll < *weight {
            return Some(*value);
        }
        roll -= weight;
    }
    table.last().map(|(value, _)| *value)
}

fn chance(rng: &mut StdRng, percent: u32) -> bool {
    rng.random_ratio(percent.min(100), 100)
}

fn round_up(amount: i64, step: i64) -> i64 {
    amount.div_euclid(step) * step + if amount.rem_euclid(step) > 0 { step } else { 0 }
}

fn profiles(rng: &mut StdRng, customers: usize, planted: usize) -> Vec<Profile> {
    let grades = deck(
        rng,
        customers,
        // C fills what rounding leaves: a small data set needs customers who get chased.
        &[
            (Grade::C, 22),
            (Grade::B, 40),
            (Grade::A, 25),
            (Grade::D, 13),
        ],
    );
    let currencies = deck(
        rng,
        customers,
        &[(Currency::Cny, 80), (Currency::Usd, 12), (Currency::Hkd, 8)],
    );
    let mut order: Vec<usize> = (0..customers).collect();
    order.shuffle(rng);
    let no_limit = customers * NO_LIMIT_PERCENT / 100;
    let planted_set: BTreeSet<usize> = order.iter().take(planted).copied().collect();
    let no_limit_set: BTreeSet<usize> =
        order.iter().skip(planted).take(no_limit).copied().collect();

    let mut profiles = Vec::with_capacity(customers);
    for index in 0..customers {
        let grade = grades.get(index).copied().unwrap_or(Grade::B);
        let currency = currencies.get(index).copied().unwrap_or(Currency::Cny);
        let subsidiaries: &'static [usize] = match currency {
            Currency::Cny => pick_weighted(
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
            Currency::Usd => pick_weighted(
                rng,
                &[
                    (&[SZ_ELECTRONICS][..], 40),
                    (&[HK_SERVICES][..], 30),
                    (&[SZ_ELECTRONICS, HK_SERVICES][..], 30),
                ],
            )
            .unwrap_or(&[HK_SERVICES]),
            Currency::Hkd => &[HK_SERVICES],
        };
        let terms_days = pick_weighted(rng, &[(30, 50), (45, 30), (60, 20)]).unwrap_or(30);
        let typical_cny = pick_weighted(rng, &TYPICAL_INVOICE_CNY).unwrap_or(15_000);
        let typical_minor = currency.convert_cny_minor(typical_cny * 100);
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
            let warn_percent = match grade {
                Grade::A => 70,
                Grade::B => 40,
                Grade::C => 10,
                Grade::D => 0,
            };
            Some(Credit {
                limit_minor,
                block: planted || !chance(rng, warn_percent),
            })
        };
        let explicit = chance(rng, 55);
        let payment_runs = explicit && matches!(grade, Grade::A | Grade::B) && chance(rng, 60);
        let main_method =
            pick_weighted(rng, currency.methods()).unwrap_or(pb::PaymentMethod::BankTransfer);
        let review =
            credit.is_some() && !planted && grade != Grade::D && chance(rng, REVIEW_PERCENT);
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
        });
    }
    profiles
}

// ------------------------------------------------------------------------------------------
// Dates.
// ------------------------------------------------------------------------------------------

fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(TimeDelta::days(days))
        .unwrap_or(date)
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Saturdays and Sundays move on to Monday.
fn next_working_day(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => add_days(date, 2),
        Weekday::Sun => add_days(date, 1),
        _ => date,
    }
}

/// Saturdays and Sundays move back to Friday.
fn previous_working_day(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => add_days(date, -1),
        Weekday::Sun => add_days(date, -2),
        _ => date,
    }
}

/// A working day in `[from, to]` near `date` (the day itself when it is one).
fn working_day_within(date: NaiveDate, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let before = previous_working_day(date);
    if before >= from {
        return before;
    }
    let after = next_working_day(date);
    if after <= to { after } else { date }
}

fn month_end(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    first
        .checked_add_months(Months::new(1))
        .map_or(date, |next| add_days(next, -1))
}

/// The next payment run on or after `date`: the 10th or the 25th of a month.
fn next_payment_run(date: NaiveDate) -> NaiveDate {
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

// ------------------------------------------------------------------------------------------
// One customer's year, simulated with the service's rules.
// ------------------------------------------------------------------------------------------

/// Same-day order: a limit applies before the day's invoices, invoices before the day's
/// payments (which may pay them), collectors call after the payments came in.
const PRIORITY_REVIEW: u8 = 0;
const PRIORITY_INVOICE: u8 = 1;
const PRIORITY_PAYMENT: u8 = 2;
const PRIORITY_CALL: u8 = 3;

type IntentKey = (NaiveDate, u8, u64);

struct Review {
    grade: Grade,
    credit: Credit,
    reason: &'static str,
}

enum PaymentKind {
    /// The customer pays these invoices (planned minor amounts).
    Settle(Vec<(usize, i64)>),
    /// A deposit before the first invoice.
    Deposit(i64),
    /// The payment that keeps (or partly keeps) a promise.
    Promised {
        amount_minor: i64,
        invoices: Vec<usize>,
    },
}

enum Intent {
    Invoice {
        subsidiary: usize,
        base_minor: i64,
        planted: bool,
    },
    Review(Review),
    Payment {
        subsidiary: usize,
        kind: PaymentKind,
    },
    Call,
}

struct SimInvoice {
    subsidiary: usize,
    amount_minor: i64,
    open_minor: i64,
    issue: NaiveDate,
    due: NaiveDate,
    planted: bool,
}

enum Fact {
    CreditLimit {
        grade: Grade,
        credit: Credit,
        reason: &'static str,
    },
    Invoice(usize),
    Payment {
        subsidiary: usize,
        amount_minor: i64,
        method: pb::PaymentMethod,
        reference: String,
        /// Explicit allocations; empty means oldest due first.
        allocations: Vec<(usize, i64)>,
    },
    Promise {
        subsidiary: usize,
        amount_minor: i64,
        promised: NaiveDate,
        invoices: Vec<usize>,
        collector: &'static str,
        note: &'static str,
    },
}

struct History {
    invoices: Vec<SimInvoice>,
    facts: Vec<(NaiveDate, Fact)>,
}

struct Simulation<'p> {
    profile: &'p Profile,
    rng: StdRng,
    start: NaiveDate,
    today: NaiveDate,
    months: u32,
    credit: Option<Credit>,
    invoices: Vec<SimInvoice>,
    unapplied_minor: i64,
    pending: BTreeMap<IntentKey, Intent>,
    next_sequence: u64,
    facts: Vec<(NaiveDate, Fact)>,
    /// A collector's call is scheduled.
    call_pending: bool,
    /// The earliest day of the next call: after the last promise's window, or a while after
    /// the last call.
    calls_resume: NaiveDate,
}

impl<'p> Simulation<'p> {
    fn new(
        profile: &'p Profile,
        rng: StdRng,
        start: NaiveDate,
        today: NaiveDate,
        months: u32,
    ) -> Self {
        Simulation {
            profile,
            rng,
            start,
            today,
            months,
            credit: profile.credit,
            invoices: Vec::new(),
            unapplied_minor: 0,
            pending: BTreeMap::new(),
            next_sequence: 0,
            facts: Vec::new(),
            call_pending: false,
            calls_resume: start,
        }
    }

    fn run(mut self, decks: &mut OutcomeDecks) -> History {
        self.plan();
        while let Some(((date, _, _), intent)) = self.pending.pop_first() {
            match intent {
                Intent::Invoice {
                    subsidiary,
                    base_minor,
                    planted,
                } => self.issue(date, subsidiary, base_minor, planted),
                Intent::Review(review) => {
                    self.credit = Some(review.credit);
                    self.facts.push((
                        date,
                        Fact::CreditLimit {
                            grade: review.grade,
                            credit: review.credit,
                            reason: review.reason,
                        },
                    ));
                }
                Intent::Payment { subsidiary, kind } => self.pay(date, subsidiary, kind),
                Intent::Call => self.call(date, decks),
            }
        }
        History {
            invoices: self.invoices,
            facts: self.facts,
        }
    }

    fn schedule(&mut self, date: NaiveDate, priority: u8, intent: Intent) {
        self.pending
            .insert((date, priority, self.next_sequence), intent);
        self.next_sequence += 1;
    }

    fn schedule_payment(&mut self, date: NaiveDate, subsidiary: usize, kind: PaymentKind) {
        // Money not received by today is not part of the data set.
        if date <= self.today {
            self.schedule(date, PRIORITY_PAYMENT, Intent::Payment { subsidiary, kind });
        }
    }

    fn window_day(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0);
        add_days(from, self.rng.random_range(0..=span))
    }

    fn plan(&mut self) {
        let profile = self.profile;
        let (start, today) = (self.start, self.today);
        let count =
            ((profile.rate_tenths * self.months + self.rng.random_range(0..10)) / 10).max(1);
        let mut first: Option<(NaiveDate, usize)> = None;
        // A customer who pays a deposit starts buying a little after the window opens, so that
        // the deposit arrives inside it.
        let first_day = if profile.deposit {
            add_days(start, DEPOSIT_LEAD_DAYS_MAX).min(today)
        } else {
            start
        };
        for _ in 0..count {
            let day = self.window_day(first_day, today);
            let date = working_day_within(day, first_day, today);
            let subsidiary = pick(&mut self.rng, profile.subsidiaries).unwrap_or(SH_TRADING);
            let percent = self.rng.random_range(40..=160);
            let fen = self.rng.random_range(0..100);
            let base_minor =
                (profile.typical_minor * percent / 100 + fen).max(INVOICE_AMOUNT_MIN_MINOR);
            if first.is_none_or(|(earliest, _)| date < earliest) {
                first = Some((date, subsidiary));
            }
            self.schedule(
                date,
                PRIORITY_INVOICE,
                Intent::Invoice {
                    subsidiary,
                    base_minor,
                    planted: false,
                },
            );
        }
        let span = (today - start).num_days();
        if profile.planted {
            // A large order in the last third of the window, when the account has a history.
            let day = self.window_day(add_days(today, -span / 3), today);
            let subsidiary = profile.subsidiaries.first().copied().unwrap_or(SH_TRADING);
            self.schedule(
                working_day_within(day, start, today),
                PRIORITY_INVOICE,
                Intent::Invoice {
                    subsidiary,
                    base_minor: 0,
                    planted: true,
                },
            );
        }
        if profile.deposit
            && let Some((first_date, subsidiary)) = first
        {
            let date = add_days(
                first_date,
                -self.rng.random_range(1..=DEPOSIT_LEAD_DAYS_MAX),
            );
            let amount = round_up(
                profile.typical_minor * self.rng.random_range(20..=50) / 100,
                profile.currency.round_step_minor(),
            );
            if date >= start {
                self.schedule_payment(date, subsidiary, PaymentKind::Deposit(amount));
            }
        }
        if profile.review
            && let Some(credit) = self.credit
        {
            let day = self.window_day(add_days(start, span / 2), today);
            let date = working_day_within(day, start, today);
            let step = profile.currency.limit_step_minor();
            let review = match profile.grade {
                Grade::A | Grade::B => {
                    let raised = credit.limit_minor * self.rng.random_range(120..=150) / 100;
                    let upgrade = profile.grade == Grade::B && chance(&mut self.rng, 30);
                    Review {
                        grade: if upgrade { Grade::A } else { profile.grade },
                        credit: Credit {
                            limit_minor: round_up(raised, step),
                            block: credit.block,
                        },
                        reason: if upgrade {
                            "mid-year review: upgraded to A after a year of on-time payments"
                        } else {
                            "mid-year review: limit raised for the growing business"
                        },
                    }
                }
                Grade::C | Grade::D => Review {
                    grade: Grade::D,
                    credit: Credit {
                        limit_minor: round_up(credit.limit_minor * 70 / 100, step),
                        block: true,
                    },
                    reason: "mid-year review: downgraded after late payments, limit cut and blocked",
                },
            };
            self.schedule(date, PRIORITY_REVIEW, Intent::Review(review));
        }
    }

    /// Open invoices minus unapplied cash: what the credit check compares with the limit.
    fn exposure(&self) -> i64 {
        let open: i64 = self.invoices.iter().map(|i| i.open_minor).sum();
        open - self.unapplied_minor
    }

    fn issue(&mut self, date: NaiveDate, subsidiary: usize, base_minor: i64, planted: bool) {
        let profile = self.profile;
        let due = match SUBSIDIARIES[subsidiary].due_rule {
            DueRule::Terms | DueRule::Date => add_days(date, i64::from(profile.terms_days)),
            DueRule::MonthEnd => month_end(add_days(date, i64::from(profile.terms_days))),
        };
        let exposure = self.exposure();
        let mut amount_minor = base_minor;
        if planted {
            let Some(credit) = self.credit else {
                return;
            };
            let margin = (credit.limit_minor * self.rng.random_range(10..=40) / 100)
                .max(PLANTED_MARGIN_MIN_MINOR)
                + self.rng.random_range(0..100);
            amount_minor = (credit.limit_minor - exposure).max(0) + margin;
        } else if let Some(credit) = self.credit
            && credit.block
            && exposure + amount_minor > credit.limit_minor
        {
            // The sales order is cut to the credit still available, or waits (credit hold):
            // only the planted invoices may break a BLOCK limit.
            let headroom = credit.limit_minor - exposure;
            let trimmed = headroom.div_euclid(TRIM_STEP_MINOR) * TRIM_STEP_MINOR;
            if trimmed < INVOICE_AMOUNT_MIN_MINOR || trimmed * 3 < amount_minor {
                return;
            }
            amount_minor = trimmed;
        }
        let index = self.invoices.len();
        self.invoices.push(SimInvoice {
            subsidiary,
            amount_minor,
            // A refused invoice owes nothing.
            open_minor: if planted { 0 } else { amount_minor },
            issue: date,
            due,
            planted,
        });
        self.facts.push((date, Fact::Invoice(index)));
        if !planted {
            self.plan_payments(index);
            self.plan_first_call(due);
        }
    }

    /// When and how much of an invoice the customer pays, by grade: delays in days after the
    /// due date, shares in percent.
    fn behaviour(&mut self) -> Vec<(i64, i64)> {
        let rng = &mut self.rng;
        match self.profile.grade {
            Grade::A => vec![(rng.random_range(-7..=3), 100)],
            Grade::B if chance(rng, 85) => vec![(rng.random_range(-3..=20), 100)],
            Grade::B => vec![(rng.random_range(20..=50), 100)],
            Grade::C => match rng.random_range(0..100) {
                0..55 => vec![(rng.random_range(5..=60), 100)],
                55..85 => {
                    let first = rng.random_range(40..=80);
                    vec![
                        (rng.random_range(0..=30), first),
                        (rng.random_range(45..=120), 100 - first),
                    ]
                }
                _ => Vec::new(),
            },
            Grade::D => match rng.random_range(0..100) {
                0..30 => vec![(rng.random_range(30..=120), 100)],
                30..65 => vec![(rng.random_range(15..=60), rng.random_range(20..=60))],
                _ => Vec::new(),
            },
        }
    }

    fn plan_payments(&mut self, index: usize) {
        let Some(invoice) = self.invoices.get(index) else {
            return;
        };
        let (amount, issue, due, subsidiary) = (
            invoice.amount_minor,
            invoice.issue,
            invoice.due,
            invoice.subsidiary,
        );
        let parts = self.behaviour();
        let mut paid = 0;
        let mut percent_paid = 0;
        for (delay, percent) in parts {
            percent_paid += percent;
            let share = if percent_paid >= 100 {
                amount - paid
            } else {
                amount * percent / 100
            };
            paid += share;
            if share <= 0 {
                continue;
            }
            let mut date = add_days(due, delay).max(issue);
            if self.profile.payment_runs {
                date = next_payment_run(date);
            }
            let date = next_working_day(date);
            self.schedule_payment(date, subsidiary, PaymentKind::Settle(vec![(index, share)]));
        }
    }

    fn method(&mut self) -> pb::PaymentMethod {
        if chance(&mut self.rng, 75) {
            return self.profile.main_method;
        }
        pick_weighted(&mut self.rng, self.profile.currency.methods())
            .unwrap_or(pb::PaymentMethod::BankTransfer)
    }

    fn pay(&mut self, date: NaiveDate, subsidiary: usize, kind: PaymentKind) {
        match kind {
            PaymentKind::Settle(mut parts) => {
                // One remittance for everything the customer pays the subsidiary that day.
                let same_day: Vec<IntentKey> = self
                    .pending
                    .range((date, PRIORITY_PAYMENT, 0)..=(date, PRIORITY_PAYMENT, u64::MAX))
                    .filter(|(_, intent)| {
                        matches!(intent, Intent::Payment { subsidiary: s, kind: PaymentKind::Settle(_) } if *s == subsidiary)
                    })
                    .map(|(key, _)| *key)
                    .collect();
                for key in same_day {
                    if let Some(Intent::Payment {
                        kind: PaymentKind::Settle(more),
                        ..
                    }) = self.pending.remove(&key)
                    {
                        parts.extend(more);
                    }
                }
                if self.profile.explicit {
                    self.pay_invoices(date, subsidiary, parts);
                } else {
                    self.pay_without_advice(date, subsidiary, parts);
                }
            }
            PaymentKind::Deposit(amount_minor) => {
                let method = self.method();
                self.record_payment(date, subsidiary, amount_minor, method, Vec::new());
            }
            PaymentKind::Promised {
                amount_minor,
                invoices,
            } => {
                let mut remaining = amount_minor;
                let mut allocations = Vec::new();
                for index in invoices {
                    let open = self.invoices.get(index).map_or(0, |i| i.open_minor);
                    let applied = remaining.min(open);
                    if applied > 0 {
                        allocations.push((index, applied));
                        remaining -= applied;
                    }
                }
                let method = self.method();
                self.record_payment(date, subsidiary, amount_minor, method, allocations);
            }
        }
    }

    /// A payment with remittance advice: each invoice up to what is still open on it.
    fn pay_invoices(&mut self, date: NaiveDate, subsidiary: usize, parts: Vec<(usize, i64)>) {
        let mut wanted: BTreeMap<usize, i64> = BTreeMap::new();
        for (index, amount) in parts {
            *wanted.entry(index).or_default() += amount;
        }
        let mut allocations: Vec<(usize, i64)> = wanted
            .into_iter()
            .filter_map(|(index, want)| {
                let open = self.invoices.get(index).map_or(0, |i| i.open_minor);
                let applied = want.min(open);
                (applied > 0).then_some((index, applied))
            })
            .collect();
        if allocations.is_empty() {
            return;
        }
        let method = self.method();
        if self.profile.currency == Currency::Usd
            && method == pb::PaymentMethod::BankTransfer
            && chance(&mut self.rng, WIRE_FEE_PERCENT)
        {
            let fee = self.rng.random_range(1_000..=3_500);
            if let Some(last) = allocations.last_mut()
                && last.1 > fee
            {
                last.1 -= fee;
            }
        }
        let chunks: Vec<Vec<(usize, i64)>> = allocations
            .chunks(ALLOCATIONS_PER_PAYMENT_MAX)
            .map(<[(usize, i64)]>::to_vec)
            .collect();
        let last_chunk = chunks.len().saturating_sub(1);
        for (number, chunk) in chunks.into_iter().enumerate() {
            let allocated: i64 = chunk.iter().map(|(_, amount)| amount).sum();
            let amount = if number == last_chunk && chance(&mut self.rng, OVERPAYMENT_PERCENT) {
                round_up(allocated, self.profile.currency.round_step_minor())
            } else {
                allocated
            };
            self.record_payment(date, subsidiary, amount, method, chunk);
        }
    }

    /// A payment without remittance advice: the customer sends what it means to pay, at most
    /// what the subsidiary has open, and the service applies it oldest due first.
    fn pay_without_advice(&mut self, date: NaiveDate, subsidiary: usize, parts: Vec<(usize, i64)>) {
        let planned: i64 = parts.iter().map(|(_, amount)| amount).sum();
        let available: i64 = self
            .invoices
            .iter()
            .filter(|i| i.subsidiary == subsidiary && i.issue <= date)
            .map(|i| i.open_minor)
            .sum();
        let mut amount = planned.min(available);
        if amount <= 0 {
            return;
        }
        if chance(&mut self.rng, OVERPAYMENT_PERCENT) {
            amount = round_up(amount, self.profile.currency.round_step_minor());
        }
        let method = self.method();
        self.record_payment(date, subsidiary, amount, method, Vec::new());
    }

    /// The service's oldest-due-first rule: the receiving subsidiary's open invoices issued by
    /// the received date, by due date, then issue date, then number (the number follows the
    /// order of issue within a customer and a subsidiary, as the index does).
    fn oldest_due_first(
        &self,
        subsidiary: usize,
        date: NaiveDate,
        amount_minor: i64,
    ) -> Vec<(usize, i64)> {
        let mut items: Vec<(NaiveDate, NaiveDate, usize, i64)> = self
            .invoices
            .iter()
            .enumerate()
            .filter(|(_, i)| i.subsidiary == subsidiary && i.issue <= date && i.open_minor > 0)
            .map(|(index, i)| (i.due, i.issue, index, i.open_minor))
            .collect();
        items.sort_unstable();
        let mut remaining = amount_minor;
        let mut allocations = Vec::new();
        for (_, _, index, open) in items {
            if remaining <= 0 {
                break;
            }
            let applied = remaining.min(open);
            allocations.push((index, applied));
            remaining -= applied;
        }
        allocations
    }

    /// Records a payment and applies it as the service will: `explicit` allocations as given
    /// (empty: oldest due first), the rest unapplied.
    fn record_payment(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        amount_minor: i64,
        method: pb::PaymentMethod,
        explicit: Vec<(usize, i64)>,
    ) {
        let applied = if explicit.is_empty() {
            self.oldest_due_first(subsidiary, date, amount_minor)
        } else {
            explicit.clone()
        };
        let mut allocated = 0;
        for (index, amount) in &applied {
            if let Some(invoice) = self.invoices.get_mut(*index) {
                invoice.open_minor -= amount;
                allocated += amount;
            }
        }
        self.unapplied_minor += amount_minor - allocated;
        let reference = reference(
            &mut self.rng,
            method,
            self.profile.currency,
            date,
            subsidiary,
        );
        self.facts.push((
            date,
            Fact::Payment {
                subsidiary,
                amount_minor,
                method,
                reference,
                allocations: explicit,
            },
        ));
    }

    /// A collector calls the customer about its overdue invoices and may get a promise.
    fn call(&mut self, date: NaiveDate, decks: &mut OutcomeDecks) {
        self.call_pending = false;
        let grade = self.profile.grade;
        let mut overdue: Vec<(NaiveDate, NaiveDate, usize)> = self
            .invoices
            .iter()
            .enumerate()
            .filter(|(_, i)| i.open_minor > 0 && i.due < date)
            .map(|(index, i)| (i.due, i.issue, index))
            .collect();
        overdue.sort_unstable();
        let exposure = self.exposure();
        let mut window_end = None;
        if let Some(&(_, _, oldest)) = overdue.first()
            && exposure > 0
            && chance(&mut self.rng, grade.promise_percent())
        {
            let subsidiary = self
                .invoices
                .get(oldest)
                .map_or(SH_TRADING, |i| i.subsidiary);
            let open = |index: usize| self.invoices.get(index).map_or(0, |i| i.open_minor);
            let of_subsidiary: Vec<usize> = overdue
                .iter()
                .map(|(_, _, index)| *index)
                .filter(|index| self.invoices.get(*index).map(|i| i.subsidiary) == Some(subsidiary))
                .collect();
            let (invoices, ceiling) = if chance(&mut self.rng, 50) {
                let count = self.rng.random_range(1..=3).min(of_subsidiary.len());
                let listed: Vec<usize> = of_subsidiary.iter().take(count).copied().collect();
                let covered: i64 = listed.iter().map(|index| open(*index)).sum();
                (listed, covered.min(exposure))
            } else {
                let overdue_total: i64 = overdue.iter().map(|(_, _, index)| open(*index)).sum();
                (Vec::new(), overdue_total.min(exposure))
            };
            if ceiling > 0 {
                let amount_minor = if chance(&mut self.rng, 60) {
                    ceiling
                } else {
                    let part = ceiling * self.rng.random_range(30..=70) / 100;
                    let rounded = part.div_euclid(PROMISE_STEP_MINOR) * PROMISE_STEP_MINOR;
                    if rounded > 0 { rounded } else { ceiling }
                };
                let promised = next_working_day(add_days(
                    date,
                    self.rng
                        .random_range(PROMISE_HORIZON_DAYS_MIN..=PROMISE_HORIZON_DAYS_MAX),
                ));
                let end = add_days(promised, PROMISE_GRACE_DAYS);
                let collectors = SUBSIDIARIES[subsidiary].collectors;
                let collector = pick(&mut self.rng, collectors).unwrap_or("Wang Fang");
                let note = pick(&mut self.rng, &PROMISE_NOTES).unwrap_or("called the customer");
                self.facts.push((
                    date,
                    Fact::Promise {
                        subsidiary,
                        amount_minor,
                        promised,
                        invoices: invoices.clone(),
                        collector,
                        note,
                    },
                ));
                // A promise whose window is still open is left to the customer's usual habits.
                if end < self.today {
                    match decks.deal(grade) {
                        PromiseOutcome::Kept => {
                            let day = self.window_day(date, promised);
                            self.schedule_payment(
                                day,
                                subsidiary,
                                PaymentKind::Promised {
                                    amount_minor,
                                    invoices,
                                },
                            );
                        }
                        PromiseOutcome::Partial => {
                            self.postpone_payments(date, end);
                            let day = self.window_day(date, promised);
                            let part = (amount_minor * self.rng.random_range(30..=70) / 100).max(1);
                            self.schedule_payment(
                                day,
                                subsidiary,
                                PaymentKind::Promised {
                                    amount_minor: part,
                                    invoices,
                                },
                            );
                        }
                        PromiseOutcome::Broken => self.postpone_payments(date, end),
                    }
                }
                window_end = Some(end);
            }
        }
        self.schedule_next_call(date, window_end);
    }

    /// A customer that breaks a promise pays nothing until its window has passed: what it
    /// meant to pay in the window comes later (or, past today, not in this data set).
    fn postpone_payments(&mut self, from: NaiveDate, to: NaiveDate) {
        let keys: Vec<IntentKey> = self
            .pending
            .range((from, PRIORITY_PAYMENT, 0)..=(to, PRIORITY_PAYMENT, u64::MAX))
            .filter(|((_, priority, _), _)| *priority == PRIORITY_PAYMENT)
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            if let Some(Intent::Payment { subsidiary, kind }) = self.pending.remove(&key) {
                let later = next_working_day(add_days(to, self.rng.random_range(1..=20)));
                self.schedule_payment(later, subsidiary, kind);
            }
        }
    }

    /// Collectors start calling a few days after the first invoice fell due (grade A customers
    /// pay without being chased).
    fn plan_first_call(&mut self, due: NaiveDate) {
        if self.profile.grade == Grade::A || self.call_pending {
            return;
        }
        let day = add_days(due, self.rng.random_range(1..=7)).max(self.calls_resume);
        let date = next_working_day(day);
        if date <= self.today {
            self.schedule(date, PRIORITY_CALL, Intent::Call);
            self.call_pending = true;
        }
    }

    fn schedule_next_call(&mut self, date: NaiveDate, window_end: Option<NaiveDate>) {
        let gap = if window_end.is_some() {
            self.rng.random_range(CALL_GAP_DAYS_MIN..=CALL_GAP_DAYS_MAX)
        } else {
            self.rng
                .random_range(CHECK_GAP_DAYS_MIN..=CHECK_GAP_DAYS_MAX)
        };
        let mut next = add_days(date, gap);
        if let Some(end) = window_end {
            next = next.max(add_days(end, 1));
        }
        let next = next_working_day(next);
        self.calls_resume = next;
        if next <= self.today {
            self.schedule(next, PRIORITY_CALL, Intent::Call);
            self.call_pending = true;
            return;
        }
        if date < add_days(self.today, -FINAL_CALL_DAYS) {
            let last = previous_working_day(add_days(self.today, -self.rng.random_range(0..=4)));
            if last > date && window_end.is_none_or(|end| last > end) {
                self.schedule(last, PRIORITY_CALL, Intent::Call);
                self.call_pending = true;
            }
        }
    }
}

/// A payment reference as the channel would print it: bank references, Alipay and WeChat Pay
/// transaction numbers, cheque numbers...
fn reference(
    rng: &mut StdRng,
    method: pb::PaymentMethod,
    currency: Currency,
    date: NaiveDate,
    subsidiary: usize,
) -> String {
    use pb::PaymentMethod as M;
    let bank = pick(rng, &["ICBC", "CCB", "BOC", "ABC", "CMB", "BOCOM"]).unwrap_or("ICBC");
    let mut digits = |count: usize| -> String {
        (0..count)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    let ymd = date.format("%Y%m%d");
    match (method, currency) {
        (M::BankTransfer, Currency::Cny) => format!("{bank}-{ymd}-{}", digits(10)),
        (M::BankTransfer, Currency::Usd) => format!("MT103 {ymd} {}", digits(12)),
        (M::BankTransfer, Currency::Hkd) => format!("CHATS-{ymd}-{}", digits(10)),
        (M::Alipay, _) => format!("{ymd}2200{}", digits(16)),
        (M::WechatPay, _) => format!("4200{}{ymd}{}", digits(6), digits(10)),
        (M::UnionPay, _) => format!("UP{ymd}{}", digits(12)),
        (M::Card, _) => format!("CARD ****{} AUTH {}", digits(4), digits(6)),
        (M::Cash, _) => format!(
            "CASH RECEIPT {}-{}",
            SUBSIDIARIES[subsidiary].short,
            digits(5)
        ),
        (M::Cheque, _) => format!("CHQ {}", digits(6)),
        (M::Other, Currency::Hkd) => format!("FPS {ymd}{}", digits(8)),
        (M::Other, _) => format!("BANK ACCEPTANCE BILL {}", digits(16)),
        (M::Unspecified, _) => format!("REF-{ymd}-{}", digits(8)),
    }
}

// ------------------------------------------------------------------------------------------
// Generation.
// ------------------------------------------------------------------------------------------

/// The demo data set for `seed` and `size`, its business dates ending `today`, in an order the
/// service accepts: every customer's opening credit limit first, then the facts by business
/// date (each customer's in the order they happened, mid-year limit reviews included). Only
/// the planted over-limit invoices are meant to be refused.
///
/// Due dates and promised dates may lie after `today`; every other business date lies in the
/// window of `size.months` months ending `today`, which must not be after the service's own
/// date (it refuses payments received in the future). The result depends on nothing but the
/// arguments (and the random number generator of the `rand` release this was built with).
/// Command ids depend on the seed and the position only: the same seed with another `today`
/// gives other content under the same ids, which a service that holds the first load refuses
/// (`ALREADY_EXISTS`), so load a data set into a fresh service or with the same `today`.
pub fn generate(seed: u64, size: &DemoSize, today: NaiveDate) -> Vec<DemoCommand> {
    let customers = size.customers.min(CUSTOMERS_MAX);
    let months = size.months.clamp(1, MONTHS_MAX);
    let planted = size.over_limit_invoices.min(customers);
    let start = window_start(today, months);
    let mut rng = StdRng::seed_from_u64(seed);
    let profiles = profiles(&mut rng, customers, planted);
    let first_numbers: Vec<u32> = SUBSIDIARIES
        .iter()
        .map(|_| rng.random_range(1_000..5_000))
        .collect();
    let mut decks = OutcomeDecks::default();
    let histories: Vec<History> = profiles
        .iter()
        .map(|profile| {
            let customer_rng = StdRng::seed_from_u64(rng.random());
            Simulation::new(profile, customer_rng, start, today, months).run(&mut decks)
        })
        .collect();
    assemble(seed, start, &profiles, &histories, &first_numbers)
}

/// The first business day of the data set: `months` months before `today`.
pub fn window_start(today: NaiveDate, months: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(months.clamp(1, MONTHS_MAX)))
        .unwrap_or(today)
}

fn money(amount_minor: i64, currency: Currency) -> Option<pb::Money> {
    Some(pb::Money {
        amount: Decimal::new(amount_minor, 2).to_string(),
        currency: currency.code().to_owned(),
    })
}

fn assemble(
    seed: u64,
    start: NaiveDate,
    profiles: &[Profile],
    histories: &[History],
    first_numbers: &[u32],
) -> Vec<DemoCommand> {
    // Invoice numbers in the order of issue across the group, one sequence per subsidiary.
    let mut issued: Vec<(NaiveDate, usize, usize)> = histories
        .iter()
        .enumerate()
        .flat_map(|(customer, history)| {
            history
                .invoices
                .iter()
                .enumerate()
                .map(move |(index, invoice)| (invoice.issue, customer, index))
        })
        .collect();
    issued.sort_unstable();
    let mut next_number: Vec<u32> = first_numbers.to_vec();
    let mut numbers: Vec<Vec<String>> = histories
        .iter()
        .map(|history| vec![String::new(); history.invoices.len()])
        .collect();
    for (date, customer, index) in issued {
        let Some(invoice) = histories.get(customer).and_then(|h| h.invoices.get(index)) else {
            continue;
        };
        let Some(sequence) = next_number.get_mut(invoice.subsidiary) else {
            continue;
        };
        if let Some(slot) = numbers.get_mut(customer).and_then(|n| n.get_mut(index)) {
            *slot = invoice_number(invoice.subsidiary, date, *sequence);
        }
        *sequence += 1;
    }

    let mut commands = Vec::new();
    for profile in profiles {
        if let Some(credit) = profile.credit {
            commands.push(credit_limit(
                profile,
                profile.grade,
                credit,
                profile.grade.review_reason(),
                start,
            ));
        }
    }
    let mut timeline: Vec<(NaiveDate, usize, usize)> = histories
        .iter()
        .enumerate()
        .flat_map(|(customer, history)| {
            history
                .facts
                .iter()
                .enumerate()
                .map(move |(index, (date, _))| (*date, customer, index))
        })
        .collect();
    timeline.sort_unstable();
    for (date, customer, index) in timeline {
        let (Some(profile), Some(history), Some(numbers)) = (
            profiles.get(customer),
            histories.get(customer),
            numbers.get(customer),
        ) else {
            continue;
        };
        if let Some((_, fact)) = history.facts.get(index) {
            commands.push(command(profile, history, numbers, date, fact));
        }
    }
    for (index, command) in commands.iter_mut().enumerate() {
        command.set_command_id(command_id(seed, index));
    }
    commands
}

fn credit_limit(
    profile: &Profile,
    grade: Grade,
    credit: Credit,
    reason: &str,
    effective: NaiveDate,
) -> DemoCommand {
    let policy = if credit.block {
        pb::CreditPolicy::Block
    } else {
        pb::CreditPolicy::Warn
    };
    DemoCommand::ChangeCreditLimit(pb::ChangeCreditLimitRequest {
        command_id: String::new(),
        customer_id: profile.customer_id.clone(),
        limit: money(credit.limit_minor, profile.currency),
        policy: policy.into(),
        grade: grade.wire().into(),
        reason: reason.to_owned(),
        approved_by: profile.credit_officer.to_owned(),
        effective_date: iso(effective),
    })
}

fn invoice_ref(history: &History, numbers: &[String], index: usize) -> pb::InvoiceRef {
    let subsidiary = history.invoices.get(index).map_or(0, |i| i.subsidiary);
    pb::InvoiceRef {
        subsidiary_id: SUBSIDIARIES[subsidiary].id.to_owned(),
        invoice_number: numbers.get(index).cloned().unwrap_or_default(),
    }
}

fn command(
    profile: &Profile,
    history: &History,
    numbers: &[String],
    date: NaiveDate,
    fact: &Fact,
) -> DemoCommand {
    let currency = profile.currency;
    let customer_id = profile.customer_id.clone();
    match fact {
        Fact::CreditLimit {
            grade,
            credit,
            reason,
        } => credit_limit(profile, *grade, *credit, reason, date),
        Fact::Invoice(index) => {
            let (subsidiary, amount_minor, due, planted) = history
                .invoices
                .get(*index)
                .map_or((0, 0, date, false), |i| {
                    (i.subsidiary, i.amount_minor, i.due, i.planted)
                });
            let due = match SUBSIDIARIES[subsidiary].due_rule {
                DueRule::Terms => pb::issue_invoice_request::Due::TermsDays(profile.terms_days),
                DueRule::Date | DueRule::MonthEnd => {
                    pb::issue_invoice_request::Due::DueDate(iso(due))
                }
            };
            let request = pb::IssueInvoiceRequest {
                command_id: String::new(),
                customer_id,
                subsidiary_id: SUBSIDIARIES[subsidiary].id.to_owned(),
                invoice_number: numbers.get(*index).cloned().unwrap_or_default(),
                amount: money(amount_minor, currency),
                issue_date: iso(date),
                due: Some(due),
            };
            if planted {
                DemoCommand::IssueInvoiceOverLimit(request)
            } else {
                DemoCommand::IssueInvoice(request)
            }
        }
        Fact::Payment {
            subsidiary,
            amount_minor,
            method,
            reference,
            allocations,
        } => DemoCommand::RecordPayment(pb::RecordPaymentRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            amount: money(*amount_minor, currency),
            received_date: iso(date),
            method: (*method).into(),
            reference: reference.clone(),
            allocations: allocations
                .iter()
                .map(|(index, amount)| pb::Allocation {
                    invoice: Some(invoice_ref(history, numbers, *index)),
                    amount: money(*amount, currency),
                })
                .collect(),
        }),
        Fact::Promise {
            subsidiary,
            amount_minor,
            promised,
            invoices,
            collector,
            note,
        } => DemoCommand::RecordPromiseToPay(pb::RecordPromiseToPayRequest {
            command_id: String::new(),
            customer_id,
            subsidiary_id: SUBSIDIARIES[*subsidiary].id.to_owned(),
            amount: money(*amount_minor, currency),
            made_on: iso(date),
            promised_date: iso(*promised),
            invoices: invoices
                .iter()
                .map(|index| invoice_ref(history, numbers, *index))
                .collect(),
            collector: (*collector).to_owned(),
            note: (*note).to_owned(),
        }),
    }
}

/// The id of the `index`th command of the data set for `seed`: a UUID version 5 over
/// [`COMMAND_ID_NAMESPACE`] and the two numbers, so that a second load sends the same ids and
/// the service records nothing new.
fn command_id(seed: u64, index: usize) -> String {
    let index = u64::try_from(index).unwrap_or(u64::MAX);
    let mut name = [0u8; 16];
    let (seed_bytes, index_bytes) = name.split_at_mut(8);
    seed_bytes.copy_from_slice(&seed.to_be_bytes());
    index_bytes.copy_from_slice(&index.to_be_bytes());
    uuid::Uuid::new_v5(&COMMAND_ID_NAMESPACE, &name)
        .hyphenated()
        .to_string()
}

// ------------------------------------------------------------------------------------------
// Loading.
// ------------------------------------------------------------------------------------------

/// Posts `commands` through `CommandService` on `channel`: up to [`CUSTOMERS_IN_FLIGHT_MAX`]
/// customers at once, each customer's commands strictly in the given order. A refusal is
/// counted (the planted over-limit invoices are meant to be refused); an error of the
/// transport or the service stops the load, after [`ATTEMPTS_PER_COMMAND_MAX`] attempts where
/// a retry may help. With `progress`, a progress bar is drawn on stderr.
pub async fn load(
    channel: Channel,
    commands: Vec<DemoCommand>,
    progress: bool,
) -> anyhow::Result<LoadSummary> {
    let bar = progress_bar(commands.len(), progress);
    let client = CommandServiceClient::new(channel);
    let mut customers = futures::stream::iter(by_customer(commands))
        .map(|sequence| post_customer(client.clone(), sequence, bar.clone()))
        .buffer_unordered(CUSTOMERS_IN_FLIGHT_MAX);
    let mut summary = LoadSummary::default();
    while let Some(part) = customers.next().await {
        match part {
            Ok(part) => summary.merge(part),
            Err(error) => {
                bar.abandon();
                return Err(error);
            }
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}

fn progress_bar(total: usize, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template(
        "loading demo data {bar:40} {pos}/{len} commands ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Each customer's commands in their order, customers in the order they first appear.
fn by_customer(commands: Vec<DemoCommand>) -> Vec<Vec<DemoCommand>> {
    let mut slots: HashMap<String, usize> = HashMap::new();
    let mut sequences: Vec<Vec<DemoCommand>> = Vec::new();
    for command in commands {
        let slot = *slots
            .entry(command.customer_id().to_owned())
            .or_insert_with(|| {
                sequences.push(Vec::new());
                sequences.len() - 1
            });
        if let Some(sequence) = sequences.get_mut(slot) {
            sequence.push(command);
        }
    }
    sequences
}

async fn post_customer(
    mut client: CommandServiceClient<Channel>,
    sequence: Vec<DemoCommand>,
    bar: ProgressBar,
) -> anyhow::Result<LoadSummary> {
    let mut summary = LoadSummary::default();
    for command in &sequence {
        let answer = post(&mut client, command).await?;
        summary.record(command, answer)?;
        bar.inc(1);
    }
    Ok(summary)
}

enum Reply {
    CreditLimit(pb::ChangeCreditLimitResponse),
    Invoice(pb::IssueInvoiceResponse),
    Payment(pb::RecordPaymentResponse),
    Promise(pb::RecordPromiseToPayResponse),
}

impl Reply {
    fn receipt(&self) -> Option<&pb::CommandReceipt> {
        match self {
            Reply::CreditLimit(r) => r.receipt.as_ref(),
            Reply::Invoice(r) => r.receipt.as_ref(),
            Reply::Payment(r) => r.receipt.as_ref(),
            Reply::Promise(r) => r.receipt.as_ref(),
        }
    }
}

enum Answer {
    Accepted(Reply),
    Refused { reason: String },
}

fn request<T: Clone>(message: &T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message.clone());
    request.set_timeout(COMMAND_TIMEOUT);
    request
}

async fn send(
    client: &mut CommandServiceClient<Channel>,
    command: &DemoCommand,
) -> Result<Reply, tonic::Status> {
    Ok(match command {
        DemoCommand::ChangeCreditLimit(r) => {
            Reply::CreditLimit(client.change_credit_limit(request(r)).await?.into_inner())
        }
        DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
            Reply::Invoice(client.issue_invoice(request(r)).await?.into_inner())
        }
        DemoCommand::RecordPayment(r) => {
            Reply::Payment(client.record_payment(request(r)).await?.into_inner())
        }
        DemoCommand::RecordPromiseToPay(r) => {
            Reply::Promise(client.record_promise_to_pay(request(r)).await?.into_inner())
        }
    })
}

/// The stable reason of a refusal: `ErrorInfo.reason`, else the status code's name.
fn refusal_reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_else(|| format!("{:?}", status.code()).to_uppercase())
}

async fn post(
    client: &mut CommandServiceClient<Channel>,
    command: &DemoCommand,
) -> anyhow::Result<Answer> {
    let mut backoff = RETRY_BACKOFF_INITIAL;
    let mut attempt = 1;
    loop {
        let status = match send(client, command).await {
            Ok(reply) => return Ok(Answer::Accepted(reply)),
            Err(status) => status,
        };
        match status.code() {
            Code::InvalidArgument | Code::FailedPrecondition | Code::AlreadyExists => {
                return Ok(Answer::Refused {
                    reason: refusal_reason(&status),
                });
            }
            Code::Unavailable
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::DeadlineExceeded
                if attempt < ATTEMPTS_PER_COMMAND_MAX =>
            {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
                attempt += 1;
            }
            code => bail!(
                "{} {} of customer {} failed after {attempt} attempt(s): {code:?}: {}",
                command.kind(),
                command.command_id(),
                command.customer_id(),
                status.message()
            ),
        }
    }
}

fn amount_of(money: Option<&pb::Money>, what: &str) -> anyhow::Result<(String, Decimal)> {
    let money = money.ok_or_else(|| anyhow!("{what} has no amount"))?;
    let amount = Decimal::from_str(&money.amount)
        .with_context(|| format!("{what} has a malformed amount {:?}", money.amount))?;
    Ok((money.currency.clone(), amount))
}

impl LoadSummary {
    fn record(&mut self, command: &DemoCommand, answer: Answer) -> anyhow::Result<()> {
        let reply = match answer {
            Answer::Refused { reason } => {
                if command.is_planted_over_limit() && reason == REASON_CREDIT_LIMIT_EXCEEDED {
                    self.planted_refused += 1;
                } else {
                    self.unexpected += 1;
                }
                *self.refused.entry(reason).or_default() += 1;
                return Ok(());
            }
            Answer::Accepted(reply) => reply,
        };
        let receipt = reply.receipt().ok_or_else(|| {
            anyhow!(
                "the service accepted {} {} without a receipt",
                command.kind(),
                command.command_id()
            )
        })?;
        self.accepted.add(command.kind(), 1);
        self.replayed += usize::from(receipt.replayed);
        self.last_position = self.last_position.max(receipt.position);
        if command.is_planted_over_limit() {
            self.unexpected += 1;
        }
        match (command, &reply) {
            (
                DemoCommand::IssueInvoice(request) | DemoCommand::IssueInvoiceOverLimit(request),
                Reply::Invoice(reply),
            ) => {
                let (currency, amount) = amount_of(request.amount.as_ref(), "an invoice")?;
                self.totals.entry(currency).or_default().invoiced += amount;
                self.over_limit_accepted += usize::from(reply.over_limit);
            }
            (DemoCommand::RecordPayment(request), Reply::Payment(reply)) => {
                let what = format!("payment {}", request.command_id);
                let (currency, amount) = amount_of(request.amount.as_ref(), &what)?;
                let mut allocated = Decimal::ZERO;
                for allocation in &reply.allocations {
                    let (allocation_currency, part) = amount_of(allocation.amount.as_ref(), &what)?;
                    if allocation_currency != currency {
                        bail!(
                            "the reply to {what} allocates {allocation_currency} to a {currency} payment"
                        );
                    }
                    allocated += part;
                }
                let (_, unapplied) = amount_of(reply.unapplied.as_ref(), &what)?;
                // The ledger's invariant, checked again where it is read.
                if allocated + unapplied != amount {
                    bail!(
                        "the reply to {what} does not add up: allocated {allocated} + unapplied {unapplied} != {amount}"
                    );
                }
                let totals = self.totals.entry(currency).or_default();
                totals.paid += amount;
                totals.allocated += allocated;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use receivables_api::requests::{self, Addressed};
    use receivables_domain::event::{AllocationRule, Event};
    use receivables_domain::ids::PromiseId;
    use receivables_domain::{
        CustomerAccount, Decision, DecisionContext, EventId, Position, Principal, RecordedEvent,
        Refusal,
    };

    /// Seeds the properties of the small data set are checked for.
    const SEEDS_CHECKED: u64 = 64;

    /// A Wednesday.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 18).unwrap()
    }

    fn addressed(command: &DemoCommand) -> Addressed {
        let result = match command {
            DemoCommand::ChangeCreditLimit(r) => requests::change_credit_limit(r),
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
                requests::issue_invoice(r)
            }
            DemoCommand::RecordPayment(r) => requests::record_payment(r),
            DemoCommand::RecordPromiseToPay(r) => requests::record_promise_to_pay(r),
        };
        result.unwrap_or_else(|refusal| panic!("the API refuses {command:?}: {refusal}"))
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// The data set decided by the domain's own aggregate, as the service would.
    #[derive(Default)]
    struct Replay {
        accounts: BTreeMap<String, CustomerAccount>,
        refusals: Vec<(DemoCommand, Refusal)>,
        payments: Vec<(String, String, NaiveDate, Decimal)>,
        explicit_payments: usize,
        oldest_due_first_payments: usize,
        payments_with_unapplied: usize,
        over_limit_accepted: usize,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Status {
        Open,
        PartiallyKept,
        Kept,
        Broken,
    }

    impl Replay {
        fn of(commands: &[DemoCommand], today: NaiveDate) -> Replay {
            let mut replay = Replay::default();
            let recorded_at = today.and_hms_opt(12, 0, 0).unwrap().and_utc();
            let mut position = 0;
            for command in commands {
                let addressed = addressed(command);
                let account = replay
                    .accounts
                    .entry(command.customer_id().to_owned())
                    .or_insert_with(|| CustomerAccount::new(addressed.customer_id.clone()));
                let context = DecisionContext {
                    event_id: EventId::from_uuid(uuid::Uuid::new_v4()).unwrap(),
                    recorded_at,
                    principal: Principal::anonymous(),
                };
                match account.decide(&addressed.command, &context) {
                    Ok(Decision::Append(mut envelope)) => {
                        receivables_domain::chain::seal(&mut envelope).unwrap();
                        position += 1;
                        match &envelope.event {
                            Event::PaymentReceived(e) => {
                                replay.payments.push((
                                    command.customer_id().to_owned(),
                                    e.amount.currency().code().to_owned(),
                                    e.received_date,
                                    e.amount.amount(),
                                ));
                                match e.allocation_rule {
                                    AllocationRule::Explicit => replay.explicit_payments += 1,
                                    AllocationRule::OldestDueFirst => {
                                        replay.oldest_due_first_payments += 1
                                    }
                                }
                                if e.unapplied.amount() > Decimal::ZERO {
                                    replay.payments_with_unapplied += 1;
                                }
                            }
                            Event::InvoiceIssued(e) if e.over_limit => {
                                replay.over_limit_accepted += 1
                            }
                            _ => {}
                        }
                        let recorded = RecordedEvent {
                            position: Position::new(position),
                            envelope,
                        };
                        account.apply(&recorded).unwrap();
                    }
                    Ok(Decision::AlreadyAccepted(_)) => panic!("{command:?} was accepted twice"),
                    Err(refusal) => replay.refusals.push((command.clone(), refusal)),
                }
            }
            replay
        }

        /// Every promise's status as of `today`, by the read side's rule.
        fn promise_statuses(&self, today: NaiveDate) -> Vec<(PromiseId, Status)> {
            let mut statuses = Vec::new();
            for (customer, account) in &self.accounts {
                for promise in account.promises() {
                    let end = add_days(promise.promised_date, PROMISE_GRACE_DAYS);
                    let paid: Decimal = self
                        .payments
                        .iter()
                        .filter(|(c, currency, day, _)| {
                            c == customer
                                && currency == promise.amount.currency().code()
                                && *day >= promise.made_on
                                && *day <= end.min(today)
                        })
                        .map(|(_, _, _, amount)| *amount)
                        .sum();
                    let status = if paid >= promise.amount.amount() {
                        Status::Kept
                    } else if today > end {
                        Status::Broken
                    } else if paid > Decimal::ZERO {
                        Status::PartiallyKept
                    } else {
                        Status::Open
                    };
                    statuses.push((promise.promise_id, status));
                }
            }
            statuses
        }

        /// Open invoices per aging bucket as of `today` (current, 1-30, 31-60, 61-90, 91-120,
        /// over 120 days past due).
        fn aging(&self, today: NaiveDate) -> [usize; 6] {
            let mut buckets = [0; 6];
            for account in self.accounts.values() {
                for invoice in account.open_invoices() {
                    let days = (today - invoice.due_date).num_days();
                    let bucket = match days {
                        ..=0 => 0,
                        1..=30 => 1,
                        31..=60 => 2,
                        61..=90 => 3,
                        91..=120 => 4,
                        _ => 5,
                    };
                    buckets[bucket] += 1;
                }
            }
            buckets
        }
    }

    fn planted(commands: &[DemoCommand]) -> usize {
        commands
            .iter()
            .filter(|c| c.is_planted_over_limit())
            .count()
    }

    #[test]
    fn the_same_seed_gives_the_same_commands() {
        assert_eq!(
            generate(42, &DemoSize::SMALL, today()),
            generate(42, &DemoSize::SMALL, today())
        );
        assert_eq!(
            generate(7, &DemoSize::FULL, today()),
            generate(7, &DemoSize::FULL, today())
        );
    }

    #[test]
    fn different_seeds_give_different_commands() {
        let first = generate(1, &DemoSize::SMALL, today());
        let second = generate(2, &DemoSize::SMALL, today());
        assert_ne!(first, second);
        let ids: BTreeSet<&str> = first.iter().map(DemoCommand::command_id).collect();
        assert!(second.iter().all(|c| !ids.contains(c.command_id())));
    }

    #[test]
    fn the_domain_accepts_everything_but_the_planted_invoices() {
        for seed in 0..SEEDS_CHECKED {
            let commands = generate(seed, &DemoSize::SMALL, today());
            let replay = Replay::of(&commands, today());
            assert_eq!(planted(&commands), DemoSize::SMALL.over_limit_invoices);
            assert_eq!(replay.refusals.len(), planted(&commands), "seed {seed}");
            for (command, refusal) in &replay.refusals {
                assert!(
                    command.is_planted_over_limit(),
                    "seed {seed}: {refusal} for {command:?}"
                );
                assert_eq!(refusal.reason.as_str(), REASON_CREDIT_LIMIT_EXCEEDED);
            }
        }
    }

    #[test]
    fn small_has_every_kind_of_fact() {
        for seed in 0..SEEDS_CHECKED {
            let commands = generate(seed, &DemoSize::SMALL, today());
            let counts = KindCounts::of(&commands);
            let initial_limits = commands
                .iter()
                .take_while(|c| c.kind() == CommandKind::CreditLimit)
                .count();
            assert_eq!(initial_limits, DemoSize::SMALL.customers, "seed {seed}");
            assert!(
                (25..=110).contains(&counts.invoices),
                "seed {seed}: {} invoices",
                counts.invoices
            );
            assert!(counts.payments > 0 && counts.promises > 0, "seed {seed}");
            let by_terms = commands.iter().any(|c| {
                matches!(c, DemoCommand::IssueInvoice(r)
                    if matches!(r.due, Some(pb::issue_invoice_request::Due::TermsDays(_))))
            });
            let by_date = commands.iter().any(|c| {
                matches!(c, DemoCommand::IssueInvoice(r)
                    if matches!(r.due, Some(pb::issue_invoice_request::Due::DueDate(_))))
            });
            assert!(by_terms && by_date, "seed {seed}: due dates and terms");
            let currencies: BTreeSet<String> = commands
                .iter()
                .filter_map(|c| match c {
                    DemoCommand::IssueInvoice(r) => r.amount.as_ref().map(|m| m.currency.clone()),
                    _ => None,
                })
                .collect();
            assert!(currencies.len() >= 2, "seed {seed}: {currencies:?}");
            let listed = commands
                .iter()
                .any(|c| matches!(c, DemoCommand::RecordPromiseToPay(r) if !r.invoices.is_empty()));
            let whole = commands
                .iter()
                .any(|c| matches!(c, DemoCommand::RecordPromiseToPay(r) if r.invoices.is_empty()));
            assert!(listed || whole);

            let replay = Replay::of(&commands, today());
            assert!(
                replay.explicit_payments > 0,
                "seed {seed}: explicit allocations"
            );
            assert!(
                replay.oldest_due_first_payments > 0,
                "seed {seed}: oldest due first"
            );
            assert!(
                replay.payments_with_unapplied > 0,
                "seed {seed}: unapplied cash"
            );
            let statuses: BTreeSet<Status> = replay
                .promise_statuses(today())
                .into_iter()
                .map(|(_, status)| status)
                .collect();
            assert!(
                statuses.contains(&Status::Kept),
                "seed {seed}: {statuses:?}"
            );
            assert!(
                statuses.contains(&Status::Broken),
                "seed {seed}: {statuses:?}"
            );
            // Three months are too short for the old buckets; FULL fills them all.
            let aging = replay.aging(today());
            let overdue: usize = aging[1..].iter().sum();
            assert!(aging[0] > 0 && overdue > 0, "seed {seed}: {aging:?}");
        }
    }

    #[test]
    fn full_fills_every_bucket_and_every_promise_status() {
        let commands = generate(2026, &DemoSize::FULL, today());
        let counts = KindCounts::of(&commands);
        let replay = Replay::of(&commands, today());
        let aging = replay.aging(today());
        let mut statuses: BTreeMap<Status, usize> = BTreeMap::new();
        for (_, status) in replay.promise_statuses(today()) {
            *statuses.entry(status).or_default() += 1;
        }
        println!(
            "FULL: {counts:?}, {} commands; planted over-limit {}; payments explicit {} / \
             oldest due first {} / with unapplied {}; accepted over limit (WARN) {}; \
             open invoices by bucket {aging:?}; promises {statuses:?}",
            commands.len(),
            planted(&commands),
            replay.explicit_payments,
            replay.oldest_due_first_payments,
            replay.payments_with_unapplied,
            replay.over_limit_accepted,
        );
        assert_eq!(
            counts.credit_limits + counts.invoices + counts.payments + counts.promises,
            commands.len()
        );
        assert!((4_000..=6_000).contains(&counts.invoices), "{counts:?}");
        assert_eq!(planted(&commands), DemoSize::FULL.over_limit_invoices);
        assert_eq!(replay.refusals.len(), planted(&commands));
        assert!(aging.iter().all(|count| *count > 0), "{aging:?}");
        for status in [Status::Open, Status::Kept, Status::Broken] {
            assert!(statuses.contains_key(&status), "{statuses:?}");
        }
        assert!(replay.over_limit_accepted > 0);
    }

    #[test]
    fn business_dates_lie_in_the_window_ending_today() {
        for size in [DemoSize::SMALL, DemoSize::FULL] {
            let commands = generate(3, &size, today());
            let start = window_start(today(), size.months);
            for command in &commands {
                let day = date(command.business_date());
                assert!(day >= start && day <= today(), "{command:?}");
            }
            let days: Vec<NaiveDate> = commands
                .iter()
                .filter(|c| c.kind() != CommandKind::CreditLimit)
                .map(|c| date(c.business_date()))
                .collect();
            assert!(
                days.windows(2).all(|pair| pair[0] <= pair[1]),
                "facts in date order"
            );
        }
    }

    #[test]
    fn credit_limits_come_first_and_each_customer_is_in_time_order() {
        let commands = generate(5, &DemoSize::FULL, today());
        let first_other = commands
            .iter()
            .position(|c| c.kind() != CommandKind::CreditLimit)
            .unwrap();
        let customers_with_limits: BTreeSet<&str> = commands[..first_other]
            .iter()
            .map(DemoCommand::customer_id)
            .collect();
        assert_eq!(
            customers_with_limits.len(),
            first_other,
            "one limit per customer first"
        );
        for sequence in by_customer(commands.clone()) {
            let days: Vec<NaiveDate> = sequence.iter().map(|c| date(c.business_date())).collect();
            assert!(days.windows(2).all(|pair| pair[0] <= pair[1]));
        }
    }

    #[test]
    fn invoice_numbers_are_unique_per_subsidiary_and_ids_are_safe() {
        let commands = generate(11, &DemoSize::FULL, today());
        let mut seen = BTreeSet::new();
        let subsidiaries: BTreeSet<&str> = SUBSIDIARIES.iter().map(|s| s.id).collect();
        for command in &commands {
            let customer = command.customer_id();
            assert!(
                customer.starts_with("CUST-") && customer.len() == 9,
                "{customer}"
            );
            if let DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) = command {
                assert!(subsidiaries.contains(r.subsidiary_id.as_str()));
                assert!(
                    seen.insert((r.subsidiary_id.clone(), r.invoice_number.clone())),
                    "{} {} issued twice",
                    r.subsidiary_id,
                    r.invoice_number
                );
            }
            // Every field passes the API's validation (ids, names, references, dates, money).
            addressed(command);
        }
    }

    #[test]
    fn due_dates_are_not_before_issue_dates() {
        for command in generate(13, &DemoSize::FULL, today()) {
            if let DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) = &command {
                match &r.due {
                    Some(pb::issue_invoice_request::Due::DueDate(due)) => {
                        assert!(date(due) >= date(&r.issue_date), "{r:?}")
                    }
                    Some(pb::issue_invoice_request::Due::TermsDays(days)) => {
                        assert!([30, 45, 60].contains(days))
                    }
                    None => panic!("no due date: {r:?}"),
                }
            }
            if let DemoCommand::RecordPromiseToPay(r) = &command {
                assert!(date(&r.promised_date) >= date(&r.made_on));
            }
        }
    }

    #[test]
    fn amounts_are_positive_with_at_most_two_decimals() {
        let check = |money: &Option<pb::Money>| {
            let money = money.as_ref().unwrap();
            let amount = Decimal::from_str(&money.amount).unwrap();
            assert!(amount > Decimal::ZERO, "{money:?}");
            assert!(amount.normalize().scale() <= 2, "{money:?}");
            assert!(["CNY", "USD", "HKD"].contains(&money.currency.as_str()));
        };
        for command in generate(17, &DemoSize::FULL, today()) {
            match &command {
                DemoCommand::ChangeCreditLimit(r) => check(&r.limit),
                DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
                    check(&r.amount)
                }
                DemoCommand::RecordPayment(r) => {
                    check(&r.amount);
                    r.allocations.iter().for_each(|a| check(&a.amount));
                }
                DemoCommand::RecordPromiseToPay(r) => check(&r.amount),
            }
        }
    }

    #[test]
    fn every_command_id_is_a_distinct_uuid() {
        let commands = generate(19, &DemoSize::FULL, today());
        let ids: BTreeSet<uuid::Uuid> = commands
            .iter()
            .map(|c| uuid::Uuid::parse_str(c.command_id()).unwrap())
            .collect();
        assert_eq!(ids.len(), commands.len());
        assert!(ids.iter().all(|id| id.get_version_num() == 5));
        assert_eq!(command_id(19, 0), commands[0].command_id());
    }

    #[test]
    fn by_customer_keeps_each_customers_order() {
        let commands = generate(23, &DemoSize::SMALL, today());
        let sequences = by_customer(commands.clone());
        assert_eq!(
            sequences.iter().map(Vec::len).sum::<usize>(),
            commands.len()
        );
        for sequence in &sequences {
            let customer = sequence[0].customer_id();
            let expected: Vec<&DemoCommand> = commands
                .iter()
                .filter(|c| c.customer_id() == customer)
                .collect();
            assert_eq!(sequence.iter().collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn summaries_add_up() {
        let amount = |text: &str| Decimal::from_str(text).unwrap();
        let cny = |invoiced: &str, paid: &str, allocated: &str| CurrencyTotals {
            invoiced: amount(invoiced),
            paid: amount(paid),
            allocated: amount(allocated),
        };
        let mut first = LoadSummary {
            last_position: 7,
            refused: BTreeMap::from([(REASON_CREDIT_LIMIT_EXCEEDED.to_owned(), 1)]),
            totals: BTreeMap::from([("CNY".to_owned(), cny("100.00", "50.00", "40.00"))]),
            ..LoadSummary::default()
        };
        first.accepted.add(CommandKind::Invoice, 2);
        let mut second = LoadSummary {
            last_position: 5,
            refused: BTreeMap::from([(REASON_CREDIT_LIMIT_EXCEEDED.to_owned(), 2)]),
            totals: BTreeMap::from([("CNY".to_owned(), cny("10.01", "0.00", "0.00"))]),
            ..LoadSummary::default()
        };
        second.accepted.add(CommandKind::Payment, 1);
        first.merge(second);
        assert_eq!(first.last_position, 7);
        assert_eq!(first.refused_total(), 3);
        assert_eq!(first.accepted.total(), 3);
        let totals = first.totals["CNY"];
        assert_eq!(totals.open(), amount("70.01"));
        assert_eq!(totals.unapplied(), amount("10.00"));
    }
}
