//! One customer's months, simulated on the domain's own aggregate.
//!
//! The simulation plans what the customer and the group intend (invoices, payments as the
//! grade suggests, collectors' calls) and works through the plan in date order. Every intent
//! that becomes a fact is put to a real [`CustomerAccount`] as the service would get it: the
//! wire request the data set will carry, read by the API's request parsing, decided by the
//! account and, when accepted, sealed and applied. So what is open, the exposure the credit
//! check compares with the limit, what a payment without remittance advice pays (oldest due
//! first) and the ceiling of a promise are the account's answers, not copies of its rules. The
//! planted over-limit invoices are marked as such because the account refused them with
//! `CREDIT_LIMIT_EXCEEDED`; any other refusal is a fault of the generator, and the fact is left
//! out and counted ([`History::unexpected`]).
//!
//! A few percent of the customers take rarer turns (`Turns`): goods come back (credit notes),
//! invoices are disputed (some disputes expire, some are withdrawn, some upheld with a credit
//! note), a payment bounces (reversed, then paid again), payments arrive without remittance
//! advice (taken on account and applied once the advice comes), overpayments are refunded, a
//! volume rebate is credited on account (then applied or refunded), and the worst payers go
//! under (credit control writes off their long-overdue invoices); see `simulation/turns.rs`.
//! Their draws come from a generator of their own, so that they do not shift the draws of the
//! customers' ordinary business.
//!
//! Invoice and credit-note numbers come from per-subsidiary sequences in date order across the
//! whole group, so they are known only once every customer has been simulated. Until then an
//! invoice carries a provisional number, its ordinal within the customer (`DEMO-000007`; a
//! credit note `DEMO-CN-000002`), and assembly renames it. Within one customer and one
//! subsidiary both numberings follow the order of issue, so the oldest-due-first tie-break (due
//! date, issue date, invoice key) chooses the same invoice under either, and the allocations
//! decided here are the ones the service decides for the real numbers. A reversal names its
//! payment by the id of the command that recorded it, which assembly assigns too.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rand::Rng;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use receivables_api::pb;
use receivables_domain::account::state::UnappliedSource;
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::limits::ALLOCATIONS_PER_PAYMENT_MAX;
use receivables_domain::{
    Currency, CustomerAccount, CustomerId, Decision, DecisionContext, Event, EventId, InvoiceKey,
    Money, Position, Principal, Reason, RecordedEvent, Refusal, chain,
};
use rust_decimal::Decimal;

use crate::dates::{
    add_days, month_end, next_payment_run, next_working_day, previous_working_day,
    working_day_within,
};
use crate::draw::{chance, pick, pick_weighted, round_up};
use crate::group::{DueRule, PROMISE_NOTES, SH_TRADING, SUBSIDIARIES, USD, reference};
use crate::profiles::{Credit, CurrencyPractice, GradePractice, Profile};
use crate::wire::{self, Fact, Names};

mod turns;

use turns::{DISPUTE_ENDS, DisputeEnd, Target};

/// Days after a promised date during which a payment still keeps the promise. The read side's
/// default (`PROMISE_GRACE_DAYS_DEFAULT` in the projections); the generator needs it to decide
/// which promises are judged already and which are still open.
pub(crate) const PROMISE_GRACE_DAYS: i64 = 3;

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

/// Percentage of USD bank transfers from which the banks took a fee, leaving a small open
/// residual on the invoice.
const WIRE_FEE_PERCENT: u32 = 30;

/// A deposit arrives up to this many days before the first invoice.
const DEPOSIT_LEAD_DAYS_MAX: i64 = 10;

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

/// The prefix of a provisional invoice number, followed by the invoice's ordinal within the
/// customer zero-padded to [`PROVISIONAL_DIGITS`] digits, so that provisional numbers sort in
/// the order of issue. A customer issues far fewer invoices than that allows: at most
/// [`crate::MONTHS_MAX`] months at under three a month.
const PROVISIONAL_PREFIX: &str = "DEMO-";
const PROVISIONAL_DIGITS: usize = 6;

/// The prefix of a provisional credit-note number, followed by the note's ordinal within the
/// customer.
const PROVISIONAL_CREDIT_NOTE_PREFIX: &str = "DEMO-CN-";

/// The time of day at which the simulated service decides everything: noon, UTC, of `today`.
/// Payments may be received up to a day after the service's date; the data set receives none
/// after `today`.
const DECIDED_AT: NaiveTime = match NaiveTime::from_hms_opt(12, 0, 0) {
    Some(noon) => noon,
    None => NaiveTime::MIN,
};

/// Same-day order: a limit applies before the day's invoices, invoices before the day's
/// payments (which may pay them), collectors call after the payments came in, and the back
/// office (credit notes, disputes, applications, refunds, reversals, write-offs) works last.
const PRIORITY_REVIEW: u8 = 0;
const PRIORITY_INVOICE: u8 = 1;
const PRIORITY_PAYMENT: u8 = 2;
const PRIORITY_CALL: u8 = 3;
const PRIORITY_BACK_OFFICE: u8 = 4;

/// The window of the data set: `months` months of business dates ending `today`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: NaiveDate,
    pub(crate) today: NaiveDate,
    pub(crate) months: u32,
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

/// The decks of promise outcomes, dispute endings and what customers do with a rebate, dealt
/// across all customers of a data set.
#[derive(Default)]
pub(crate) struct OutcomeDecks {
    dealt: usize,
    disputes_dealt: usize,
    rebates_dealt: usize,
}

impl OutcomeDecks {
    fn deal(&mut self, grade: CreditGrade) -> PromiseOutcome {
        let deck: &[PromiseOutcome] = match grade {
            CreditGrade::A | CreditGrade::B => &OUTCOMES_B,
            CreditGrade::C => &OUTCOMES_C,
            CreditGrade::D => &OUTCOMES_D,
        };
        let outcome = deck[self.dealt % deck.len()];
        self.dealt += 1;
        outcome
    }

    fn deal_dispute(&mut self) -> DisputeEnd {
        let end = DISPUTE_ENDS[self.disputes_dealt % DISPUTE_ENDS.len()];
        self.disputes_dealt += 1;
        end
    }

    /// Whether the customer asks for its rebate as money (else it deducts it from what it owes).
    fn deal_rebate_refund(&mut self) -> bool {
        self.rebates_dealt += 1;
        self.rebates_dealt % 2 == 1
    }
}

/// One customer's simulated months.
pub(crate) struct History {
    /// The opening credit limit, effective the first day of the window; none for a customer
    /// still waiting for its first credit review.
    pub(crate) opening: Option<Fact>,
    /// The later facts, in the order they happened and were decided.
    pub(crate) facts: Vec<(NaiveDate, Fact)>,
    /// Facts left out because the account did not take them as meant: refused although meant
    /// to be accepted, or a planted invoice refused for another reason. Zero unless the
    /// generator has a bug.
    pub(crate) unexpected: usize,
    /// The account after every fact: what the service's account holds once the data set is
    /// loaded (under provisional invoice numbers).
    #[cfg(test)]
    pub(crate) account: Option<CustomerAccount>,
}

/// The ids of one customer's simulated commands and events: a UUID whose high 64 bits are the
/// seed and whose low 64 bits are the customer's index (high half) and the number of the
/// decision (low half, from 1, so never the nil UUID). Deterministic, so that [`crate::generate`]
/// stays a pure function of its arguments; never sent (the data set's command ids are
/// assigned at assembly).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecisionIds {
    base: u128,
}

impl DecisionIds {
    pub(crate) fn new(seed: u64, customer: usize) -> Self {
        let customer = u32::try_from(customer).unwrap_or(u32::MAX);
        DecisionIds {
            base: (u128::from(seed) << 64) | (u128::from(customer) << 32),
        }
    }

    fn id(self, decision: u32) -> uuid::Uuid {
        uuid::Uuid::from_u128(self.base | u128::from(decision))
    }
}

/// Simulates one customer's months on its own account: `rng` draws its ordinary business,
/// `turns` the rarer turns of its year.
pub(crate) fn simulate(
    profile: &Profile,
    rng: StdRng,
    turns: StdRng,
    window: Window,
    ids: DecisionIds,
    decks: &mut OutcomeDecks,
) -> History {
    // The API reads the customer id of every request the same way.
    let Ok(customer_id) = receivables_api::commands::customer_id(&profile.customer_id) else {
        return History {
            opening: None,
            facts: Vec::new(),
            unexpected: 1,
            #[cfg(test)]
            account: None,
        };
    };
    Simulation::new(profile, customer_id, rng, turns, window, ids).run(decks)
}

/// An amount of the account in integer minor units of its currency (exact: the account holds
/// every amount at the currency's scale). Saturates far beyond any amount the domain accepts.
fn minor(amount: Decimal, currency: Currency) -> i64 {
    let units = Money::of(amount, currency).minor_units();
    i64::try_from(units).unwrap_or(if units < 0 { i64::MIN } else { i64::MAX })
}

/// The provisional number of the customer's `ordinal`th invoice.
fn provisional_number(ordinal: usize) -> String {
    format!(
        "{PROVISIONAL_PREFIX}{ordinal:0width$}",
        width = PROVISIONAL_DIGITS
    )
}

/// The provisional number of the customer's `ordinal`th credit note.
fn provisional_credit_note(ordinal: usize) -> String {
    format!(
        "{PROVISIONAL_CREDIT_NOTE_PREFIX}{ordinal:0width$}",
        width = PROVISIONAL_DIGITS
    )
}

type IntentKey = (NaiveDate, u8, u64);

struct Review {
    grade: CreditGrade,
    credit: Credit,
    reason: &'static str,
}

enum PaymentKind {
    /// The customer pays these invoices (ordinals, planned minor amounts).
    Settle(Vec<(usize, i64)>),
    /// A security deposit (保证金) before the first invoice: taken on account, and kept there
    /// as long as the customer buys on credit.
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
    /// Goods of the invoice come back.
    Return {
        ordinal: usize,
    },
    /// The customer disputes the invoice; how the dispute ends was dealt with it.
    Dispute {
        ordinal: usize,
        end: DisputeEnd,
    },
    /// The dispute on the invoice is resolved.
    Resolve {
        ordinal: usize,
        upheld: bool,
        amount_minor: i64,
    },
    /// Credit control writes off what a customer that went under owes for long.
    WriteOffs,
    /// The payment recorded by the fact of this index bounced.
    Reversal {
        fact: usize,
    },
    /// Unapplied money applied to the subsidiary's invoices.
    Apply {
        subsidiary: usize,
        source: UnappliedSource,
        target: Target,
        /// Refund what finds no open invoice (else leave it on account).
        refund_rest: bool,
    },
    /// Unapplied money paid back to the customer.
    Refund {
        subsidiary: usize,
        source: UnappliedSource,
        amount_minor: i64,
    },
    /// The quarterly volume rebate.
    Rebate {
        refund: bool,
    },
}

/// An invoice the simulation issued, or tried to.
struct SimInvoice {
    subsidiary: usize,
    /// As the wire names it during the simulation: under its provisional number.
    wire: pb::InvoiceRef,
    /// As the account knows it; none for a planted invoice, which the account refused.
    key: Option<InvoiceKey>,
}

/// Why the account did not take a fact.
enum NotTaken {
    /// Refused, as the service would refuse it; nothing was applied.
    Refused(Refusal),
    /// The simulation could not put it to the account: an id, a seal or an event the account
    /// does not take. Nothing was applied.
    Broken,
}

struct Simulation<'p> {
    profile: &'p Profile,
    rng: StdRng,
    /// Draws the rarer turns, apart from `rng`.
    life: StdRng,
    start: NaiveDate,
    today: NaiveDate,
    months: u32,
    account: CustomerAccount,
    recorded_at: DateTime<Utc>,
    ids: DecisionIds,
    /// Decisions asked for so far: the number of the next one's ids.
    decisions: u32,
    /// Events applied so far: the position of the last one.
    applied: u64,
    /// Every invoice issued or tried, by ordinal.
    invoices: Vec<SimInvoice>,
    pending: BTreeMap<IntentKey, Intent>,
    next_sequence: u64,
    opening: Option<Fact>,
    facts: Vec<(NaiveDate, Fact)>,
    unexpected: usize,
    /// A collector's call is scheduled.
    call_pending: bool,
    /// The earliest day of the next call: after the last promise's window, or a while after
    /// the last call.
    calls_resume: NaiveDate,
    /// Credit notes issued so far: the ordinal of the next one.
    credit_notes: usize,
    /// The command id (as sent) of every payment recorded, by the index of its fact.
    payment_ids: BTreeMap<usize, String>,
    /// Disputes planned so far.
    disputes: usize,
    /// A payment was chosen to bounce.
    bounced: bool,
    /// The day a customer that goes under stopped paying.
    distress: Option<NaiveDate>,
    /// The customer's habit: days after the due date it usually pays (negative: before), drawn
    /// once within its grade's range, so that customers of one grade pay differently from one
    /// another but each alike from invoice to invoice (what the collections forecast learns).
    habit_days: i64,
    /// The window of the last promise dealt broken or partly kept, in which the customer pays
    /// nothing but what the promise's outcome says.
    silent_until: Option<(NaiveDate, NaiveDate)>,
    /// The day of the customer's latest payment: a collector calling that day asks for no
    /// promise (the day's payment would count towards it).
    paid_on: Option<NaiveDate>,
}

impl<'p> Simulation<'p> {
    fn new(
        profile: &'p Profile,
        customer_id: CustomerId,
        rng: StdRng,
        life: StdRng,
        window: Window,
        ids: DecisionIds,
    ) -> Self {
        Simulation {
            profile,
            rng,
            life,
            start: window.start,
            today: window.today,
            months: window.months,
            account: CustomerAccount::new(customer_id),
            recorded_at: window.today.and_time(DECIDED_AT).and_utc(),
            ids,
            decisions: 0,
            applied: 0,
            invoices: Vec::new(),
            pending: BTreeMap::new(),
            next_sequence: 0,
            opening: None,
            facts: Vec::new(),
            unexpected: 0,
            call_pending: false,
            calls_resume: window.start,
            credit_notes: 0,
            payment_ids: BTreeMap::new(),
            disputes: 0,
            bounced: false,
            distress: None,
            habit_days: habit_days(profile.grade, ids),
            silent_until: None,
            paid_on: None,
        }
    }

    fn run(mut self, decks: &mut OutcomeDecks) -> History {
        self.open_account();
        self.plan(decks);
        while let Some(((date, _, _), intent)) = self.pending.pop_first() {
            match intent {
                Intent::Invoice {
                    subsidiary,
                    base_minor,
                    planted,
                } => self.issue(date, subsidiary, base_minor, planted, decks),
                Intent::Review(review) => {
                    self.record(
                        date,
                        Fact::CreditLimit {
                            grade: review.grade,
                            credit: review.credit,
                            reason: review.reason,
                        },
                    );
                }
                Intent::Payment { subsidiary, kind } => self.pay(date, subsidiary, kind),
                Intent::Call => self.call(date, decks),
                Intent::Return { ordinal } => self.take_back(date, ordinal),
                Intent::Dispute { ordinal, end } => self.dispute(date, ordinal, end),
                Intent::Resolve {
                    ordinal,
                    upheld,
                    amount_minor,
                } => self.resolve(date, ordinal, upheld, amount_minor),
                Intent::WriteOffs => self.write_off(date),
                Intent::Reversal { fact } => self.reverse(date, fact),
                Intent::Apply {
                    subsidiary,
                    source,
                    target,
                    refund_rest,
                } => self.apply_unapplied(date, subsidiary, source, target, refund_rest),
                Intent::Refund {
                    subsidiary,
                    source,
                    amount_minor,
                } => self.refund(date, subsidiary, source, amount_minor),
                Intent::Rebate { refund } => self.rebate(date, refund),
            }
        }
        History {
            opening: self.opening,
            facts: self.facts,
            unexpected: self.unexpected,
            #[cfg(test)]
            account: Some(self.account),
        }
    }

    // --------------------------------------------------------------------------------------
    // The account.
    // --------------------------------------------------------------------------------------

    /// The wire reference of the `ordinal`th invoice, under its provisional number.
    fn invoice_ref(&self, ordinal: usize) -> pb::InvoiceRef {
        self.invoices
            .get(ordinal)
            .map(|invoice| invoice.wire.clone())
            .unwrap_or_default()
    }

    /// Puts `fact` to the account as the service would: the wire request, read by the API,
    /// decided, sealed and applied. On any error nothing is applied.
    fn decide(&mut self, date: NaiveDate, fact: &Fact) -> Result<Event, NotTaken> {
        let mut request = wire::request(self.profile, date, fact, &*self);
        self.decisions += 1;
        let id = self.ids.id(self.decisions);
        request.set_command_id(id.hyphenated().to_string());
        let addressed = request.addressed().map_err(NotTaken::Refused)?;
        let context = DecisionContext {
            event_id: EventId::from_uuid(id).map_err(|_| NotTaken::Broken)?,
            recorded_at: self.recorded_at,
            principal: Principal::anonymous(),
            rates: std::sync::Arc::default(),
            payment_terms: std::sync::Arc::default(),
        };
        // Every command has an id of its own: the account never answers it as a retry.
        let Decision::Append(mut envelope) = self
            .account
            .decide(&addressed.command, &context)
            .map_err(NotTaken::Refused)?
        else {
            return Err(NotTaken::Broken);
        };
        chain::seal(&mut envelope).map_err(|_| NotTaken::Broken)?;
        self.applied += 1;
        let recorded = RecordedEvent {
            position: Position::new(self.applied),
            envelope,
        };
        self.account
            .apply(&recorded)
            .map_err(|_| NotTaken::Broken)?;
        Ok(recorded.envelope.event)
    }

    /// Decides a fact the account must accept: kept when it does, left out and counted when it
    /// does not.
    fn record(&mut self, date: NaiveDate, fact: Fact) -> Option<Event> {
        match self.decide(date, &fact) {
            Ok(event) => {
                if matches!(fact, Fact::Payment { .. }) {
                    let id = self.ids.id(self.decisions).hyphenated().to_string();
                    self.payment_ids.insert(self.facts.len(), id);
                }
                self.facts.push((date, fact));
                Some(event)
            }
            Err(_) => {
                self.unexpected += 1;
                None
            }
        }
    }

    /// The customer's opening limit, effective the first day of the window.
    fn open_account(&mut self) {
        let Some(credit) = self.profile.credit else {
            return;
        };
        let grade = self.profile.grade;
        let fact = Fact::CreditLimit {
            grade,
            credit,
            reason: grade.review_reason(),
        };
        match self.decide(self.start, &fact) {
            Ok(_) => self.opening = Some(fact),
            Err(_) => self.unexpected += 1,
        }
    }

    /// The account's credit terms, in the generator's terms.
    fn credit(&self) -> Option<Credit> {
        self.account.credit().map(|terms| Credit {
            limit_minor: minor(terms.limit.amount(), terms.limit.currency()),
            block: terms.policy == CreditPolicy::Block,
        })
    }

    /// Open invoices minus unapplied cash in the customer's currency: what the account's credit
    /// check compares with the limit.
    fn exposure(&self) -> i64 {
        let currency = self.profile.currency;
        minor(self.account.exposure(currency), currency)
    }

    /// What the subsidiary's invoices issued by `date` have open, as the account holds them.
    fn open_of_subsidiary(&self, subsidiary: usize, date: NaiveDate) -> i64 {
        self.account
            .open_invoices()
            .filter(|i| {
                i.key.subsidiary_id.as_str() == SUBSIDIARIES[subsidiary].id && i.issue_date <= date
            })
            .map(|i| minor(i.open, i.amount.currency()))
            .sum()
    }

    /// What is still open on the `ordinal`th invoice, as the account holds it.
    fn open_minor(&self, ordinal: usize) -> i64 {
        self.invoices
            .get(ordinal)
            .and_then(|invoice| invoice.key.as_ref())
            .and_then(|key| self.account.invoice(key))
            .map_or(0, |invoice| minor(invoice.open, invoice.amount.currency()))
    }

    // --------------------------------------------------------------------------------------
    // The plan.
    // --------------------------------------------------------------------------------------

    fn schedule(&mut self, date: NaiveDate, priority: u8, intent: Intent) {
        self.pending
            .insert((date, priority, self.next_sequence), intent);
        self.next_sequence += 1;
    }

    fn schedule_payment(&mut self, date: NaiveDate, subsidiary: usize, kind: PaymentKind) {
        // A customer that broke or partly kept a promise pays nothing else in its window: what
        // falls in it comes after (else a payment planned later would keep the promise).
        let date = match self.silent_until {
            Some((from, to))
                if date >= from && date <= to && !matches!(kind, PaymentKind::Promised { .. }) =>
            {
                next_working_day(add_days(to, 1))
            }
            _ => date,
        };
        // Money not received by today is not part of the data set.
        if date <= self.today {
            self.schedule(date, PRIORITY_PAYMENT, Intent::Payment { subsidiary, kind });
        }
    }

    fn window_day(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0);
        add_days(from, self.rng.random_range(0..=span))
    }

    fn plan(&mut self, decks: &mut OutcomeDecks) {
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
            && let Some(credit) = profile.credit
        {
            let day = self.window_day(add_days(start, span / 2), today);
            let date = working_day_within(day, start, today);
            let step = profile.currency.limit_step_minor();
            let review = match profile.grade {
                CreditGrade::A | CreditGrade::B => {
                    let raised = credit.limit_minor * self.rng.random_range(120..=150) / 100;
                    let upgrade = profile.grade == CreditGrade::B && chance(&mut self.rng, 30);
                    Review {
                        grade: if upgrade {
                            CreditGrade::A
                        } else {
                            profile.grade
                        },
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
                CreditGrade::C | CreditGrade::D => Review {
                    grade: CreditGrade::D,
                    credit: Credit {
                        limit_minor: round_up(credit.limit_minor * 70 / 100, step),
                        block: true,
                    },
                    reason: "mid-year review: downgraded after late payments, limit cut and blocked",
                },
            };
            self.schedule(date, PRIORITY_REVIEW, Intent::Review(review));
        }
        self.plan_turns(decks);
    }

    // --------------------------------------------------------------------------------------
    // Invoices.
    // --------------------------------------------------------------------------------------

    fn issue(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        base_minor: i64,
        planted: bool,
        decks: &mut OutcomeDecks,
    ) {
        let profile = self.profile;
        if self.sales_stopped(date) {
            return;
        }
        let due = match SUBSIDIARIES[subsidiary].due_rule {
            DueRule::Terms | DueRule::Date => add_days(date, i64::from(profile.terms_days)),
            DueRule::MonthEnd => month_end(add_days(date, i64::from(profile.terms_days))),
        };
        let exposure = self.exposure();
        let credit = self.credit();
        let mut amount_minor = base_minor;
        if planted {
            let Some(credit) = credit else {
                return;
            };
            let margin = (credit.limit_minor * self.rng.random_range(10..=40) / 100)
                .max(PLANTED_MARGIN_MIN_MINOR)
                + self.rng.random_range(0..100);
            amount_minor = (credit.limit_minor - exposure).max(0) + margin;
        } else if let Some(credit) = credit
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
        let ordinal = self.invoices.len();
        self.invoices.push(SimInvoice {
            subsidiary,
            wire: pb::InvoiceRef {
                subsidiary_id: SUBSIDIARIES[subsidiary].id.to_owned(),
                invoice_number: provisional_number(ordinal),
            },
            key: None,
        });
        let fact = |planted| Fact::Invoice {
            ordinal,
            subsidiary,
            amount_minor,
            due,
            planted,
        };
        match self.decide(date, &fact(false)) {
            Ok(event) => {
                if let (Event::InvoiceIssued(issued), Some(invoice)) =
                    (event, self.invoices.last_mut())
                {
                    invoice.key = Some(InvoiceKey {
                        subsidiary_id: issued.subsidiary_id,
                        invoice_number: issued.invoice_number,
                    });
                }
                // On the account now, so in the data set, whatever was meant.
                self.facts.push((date, fact(false)));
                if planted {
                    self.unexpected += 1;
                } else {
                    self.plan_payments(ordinal, amount_minor, date, due, subsidiary);
                    self.plan_first_call(due);
                    self.plan_turns_of_sale(date, ordinal, decks);
                }
            }
            // The account itself refuses the planted invoice: the data set carries it as one
            // the service must refuse.
            Err(NotTaken::Refused(refusal))
                if planted && refusal.reason == Reason::CreditLimitExceeded =>
            {
                self.facts.push((date, fact(true)));
            }
            Err(_) => {
                self.invoices.pop();
                self.unexpected += 1;
            }
        }
    }

    /// When and how much of an invoice the customer pays, around its habit and by grade:
    /// delays in days after the due date, shares in percent.
    fn behaviour(&mut self) -> Vec<(i64, i64)> {
        let habit = self.habit_days;
        let rng = &mut self.rng;
        match self.profile.grade {
            CreditGrade::A => vec![(habit + rng.random_range(-2..=2), 100)],
            CreditGrade::B if chance(rng, 85) => vec![(habit + rng.random_range(-3..=3), 100)],
            CreditGrade::B => vec![(habit + rng.random_range(15..=30), 100)],
            CreditGrade::C => match rng.random_range(0..100) {
                0..55 => vec![(habit + rng.random_range(-5..=5), 100)],
                55..85 => {
                    let first = rng.random_range(40..=80);
                    vec![
                        ((habit - 10 + rng.random_range(-5..=5)).max(0), first),
                        (habit + rng.random_range(35..=80), 100 - first),
                    ]
                }
                _ => Vec::new(),
            },
            CreditGrade::D => match rng.random_range(0..100) {
                0..30 => vec![(habit + rng.random_range(-15..=15), 100)],
                30..65 => vec![(
                    (habit - 20 + rng.random_range(-5..=5)).max(0),
                    rng.random_range(20..=60),
                )],
                _ => Vec::new(),
            },
        }
    }

    fn plan_payments(
        &mut self,
        ordinal: usize,
        amount: i64,
        issue: NaiveDate,
        due: NaiveDate,
        subsidiary: usize,
    ) {
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
            self.schedule_payment(
                date,
                subsidiary,
                PaymentKind::Settle(vec![(ordinal, share)]),
            );
        }
    }

    // --------------------------------------------------------------------------------------
    // Payments.
    // --------------------------------------------------------------------------------------

    fn method(&mut self) -> pb::PaymentMethod {
        if chance(&mut self.rng, 75) {
            return self.profile.main_method;
        }
        pick_weighted(&mut self.rng, self.profile.currency.methods())
            .unwrap_or(pb::PaymentMethod::BankTransfer)
    }

    fn pay(&mut self, date: NaiveDate, subsidiary: usize, kind: PaymentKind) {
        // A customer that went under pays nothing more.
        if self.in_distress(date) {
            return;
        }
        let recorded = self.facts.len();
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
                if self.takes_on_account() {
                    self.pay_on_account(date, subsidiary, parts);
                } else if self.profile.explicit {
                    self.pay_invoices(date, subsidiary, parts);
                } else {
                    self.pay_without_advice(date, subsidiary, parts);
                }
                self.maybe_bounce(date, recorded);
            }
            PaymentKind::Deposit(amount_minor) => {
                let method = self.method();
                self.record_payment(date, subsidiary, amount_minor, method, Vec::new(), true);
            }
            PaymentKind::Promised {
                amount_minor,
                invoices,
            } => {
                let mut remaining = amount_minor;
                let mut allocations = Vec::new();
                for ordinal in invoices {
                    let applied = remaining.min(self.open_minor(ordinal));
                    if applied > 0 {
                        allocations.push((ordinal, applied));
                        remaining -= applied;
                    }
                }
                let method = self.method();
                self.record_payment(date, subsidiary, amount_minor, method, allocations, false);
            }
        }
    }

    /// A payment with remittance advice: each invoice up to what is still open on it.
    fn pay_invoices(&mut self, date: NaiveDate, subsidiary: usize, parts: Vec<(usize, i64)>) {
        let mut wanted: BTreeMap<usize, i64> = BTreeMap::new();
        for (ordinal, amount) in parts {
            *wanted.entry(ordinal).or_default() += amount;
        }
        let mut allocations: Vec<(usize, i64)> = wanted
            .into_iter()
            .filter_map(|(ordinal, want)| {
                let applied = want.min(self.open_minor(ordinal));
                (applied > 0).then_some((ordinal, applied))
            })
            .collect();
        if allocations.is_empty() {
            return;
        }
        let method = self.method();
        if self.profile.currency.code() == USD
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
            let overpayment = self.overpayment_percent();
            let amount = if number == last_chunk && chance(&mut self.rng, overpayment) {
                round_up(allocated, self.profile.currency.round_step_minor())
            } else {
                allocated
            };
            self.record_payment(date, subsidiary, amount, method, chunk, false);
        }
    }

    /// A payment without remittance advice: the customer sends what it means to pay, at most
    /// what the subsidiary has open on the account (issued by the received date), and the
    /// account applies it oldest due first.
    fn pay_without_advice(&mut self, date: NaiveDate, subsidiary: usize, parts: Vec<(usize, i64)>) {
        let planned: i64 = parts.iter().map(|(_, amount)| amount).sum();
        let available = self.open_of_subsidiary(subsidiary, date);
        let mut amount = planned.min(available);
        if amount <= 0 {
            return;
        }
        let overpayment = self.overpayment_percent();
        if chance(&mut self.rng, overpayment) {
            amount = round_up(amount, self.profile.currency.round_step_minor());
        }
        let method = self.method();
        self.record_payment(date, subsidiary, amount, method, Vec::new(), false);
    }

    /// Records a payment: the account applies `explicit` allocations as given, or (none given)
    /// oldest due first, or nothing `on_account`, and keeps the rest as unapplied cash. A
    /// customer whose overpayments are refunded gets what was left unapplied back a while later.
    fn record_payment(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        amount_minor: i64,
        method: pb::PaymentMethod,
        explicit: Vec<(usize, i64)>,
        on_account: bool,
    ) {
        let reference = reference(
            &mut self.rng,
            method,
            self.profile.currency,
            date,
            subsidiary,
        );
        let event = self.record(
            date,
            Fact::Payment {
                subsidiary,
                amount_minor,
                method,
                reference,
                allocations: explicit,
                on_account,
            },
        );
        if event.is_some() {
            self.paid_on = Some(date);
        }
        if let Some(Event::PaymentReceived(payment)) = event
            && !on_account
        {
            self.plan_refund(date, subsidiary, &payment);
        }
    }

    // --------------------------------------------------------------------------------------
    // Collectors.
    // --------------------------------------------------------------------------------------

    /// A collector calls the customer about its overdue invoices and may get a promise.
    fn call(&mut self, date: NaiveDate, decks: &mut OutcomeDecks) {
        self.call_pending = false;
        let grade = self.profile.grade;
        // The account's overdue invoices, oldest due first: (due, issue, ordinal, open).
        let mut overdue: Vec<(NaiveDate, NaiveDate, usize, i64)> = self
            .invoices
            .iter()
            .enumerate()
            .filter_map(|(ordinal, invoice)| {
                let state = self.account.invoice(invoice.key.as_ref()?)?;
                let open = minor(state.open, state.amount.currency());
                (open > 0 && state.due_date < date).then_some((
                    state.due_date,
                    state.issue_date,
                    ordinal,
                    open,
                ))
            })
            .collect();
        overdue.sort_unstable();
        let exposure = self.exposure();
        let mut window_end = None;
        if let Some(&(_, _, oldest, _)) = overdue.first()
            && exposure > 0
            && self.paid_on != Some(date)
            && chance(&mut self.rng, grade.promise_percent())
        {
            let subsidiary = self
                .invoices
                .get(oldest)
                .map_or(SH_TRADING, |i| i.subsidiary);
            let of_subsidiary: Vec<(usize, i64)> = overdue
                .iter()
                .filter(|(_, _, ordinal, _)| {
                    self.invoices.get(*ordinal).map(|i| i.subsidiary) == Some(subsidiary)
                })
                .map(|(_, _, ordinal, open)| (*ordinal, *open))
                .collect();
            // The promise's ceiling is the account's: what the listed invoices have open, or
            // everything overdue, and never more than the balance.
            let (invoices, ceiling) = if chance(&mut self.rng, 50) {
                let count = self.rng.random_range(1..=3).min(of_subsidiary.len());
                let listed = &of_subsidiary[..count];
                let covered: i64 = listed.iter().map(|(_, open)| open).sum();
                (
                    listed.iter().map(|(ordinal, _)| *ordinal).collect(),
                    covered.min(exposure),
                )
            } else {
                let overdue_total: i64 = overdue.iter().map(|(_, _, _, open)| open).sum();
                (Vec::new(), overdue_total.min(exposure))
            };
            if ceiling > 0 {
                window_end = self.promise(date, subsidiary, ceiling, invoices, decks);
            }
        }
        self.schedule_next_call(date, window_end);
    }

    /// Records a promise of at most `ceiling` and plans what becomes of it; returns the end
    /// of its window when the account accepted it.
    fn promise(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        ceiling: i64,
        invoices: Vec<usize>,
        decks: &mut OutcomeDecks,
    ) -> Option<NaiveDate> {
        let grade = self.profile.grade;
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
        self.record(
            date,
            Fact::Promise {
                subsidiary,
                amount_minor,
                promised,
                invoices: invoices.clone(),
                collector,
                note,
            },
        )?;
        // A promise whose window is still open is left to the customer's usual habits.
        if end < self.today {
            // A customer that went under promises and pays nothing.
            let outcome = if self.in_distress(date) {
                PromiseOutcome::Broken
            } else {
                decks.deal(grade)
            };
            match outcome {
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
                    self.silent_until = Some((date, end));
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
                PromiseOutcome::Broken => {
                    self.postpone_payments(date, end);
                    self.silent_until = Some((date, end));
                }
            }
        }
        Some(end)
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
        if self.profile.grade == CreditGrade::A || self.call_pending {
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

impl Names for Simulation<'_> {
    fn invoice(&self, ordinal: usize) -> pb::InvoiceRef {
        self.invoice_ref(ordinal)
    }

    fn credit_note(&self, ordinal: usize) -> String {
        provisional_credit_note(ordinal)
    }

    fn payment(&self, fact: usize) -> String {
        self.payment_ids.get(&fact).cloned().unwrap_or_default()
    }
}

/// Salt of the generator a customer's habit is drawn from, so that it differs from every
/// other draw of the same seed and customer.
const HABIT_SALT: u64 = 0x6861_6269_7473;

/// A customer's usual days after the due date, by grade (A pays early or on time, D months
/// late), drawn from a generator of its own so that the customer's other draws stay as they
/// were without it.
fn habit_days(grade: CreditGrade, ids: DecisionIds) -> i64 {
    // The data set's seed (high half of the base) and the customer's index (low half).
    let data_set = u64::try_from(ids.base >> 64).unwrap_or(0);
    let customer = u64::try_from(ids.base & u128::from(u64::MAX)).unwrap_or(0);
    let seed = data_set ^ customer.rotate_left(17) ^ HABIT_SALT;
    let mut rng = StdRng::seed_from_u64(seed);
    match grade {
        CreditGrade::A => rng.random_range(-5..=1),
        CreditGrade::B => rng.random_range(0..=25),
        CreditGrade::C => rng.random_range(15..=50),
        CreditGrade::D => rng.random_range(40..=100),
    }
}
