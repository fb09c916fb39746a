//! The rarer turns of a customer's year, for the few percent of the customers dealt each
//! (`profiles::Turns`): goods come back, invoices are disputed, a payment bounces, payments are
//! taken on account and applied later, overpayments and credit on account are refunded or
//! applied, a volume rebate is credited, and a customer goes under and credit control writes its
//! long-overdue invoices off. Like everything else each is put to the customer's account and
//! kept only when the account takes it; every amount is what the account says is there to move.
//! Their draws come from the simulation's second generator (`life`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rand::Rng;
use receivables_api::pb;
use receivables_domain::account::payment::PaymentReceived;
use receivables_domain::account::state::UnappliedSource;
use receivables_domain::credit::CreditGrade;
use receivables_domain::limits::ALLOCATIONS_PER_APPLICATION_MAX;
use receivables_domain::{CommandId, Event, InvoiceKey};

use super::{
    Intent, IntentKey, OutcomeDecks, PRIORITY_BACK_OFFICE, PRIORITY_PAYMENT, PaymentKind,
    Simulation, minor,
};
use crate::dates::{
    add_days, next_working_day, previous_working_day, quarter_end_on_or_before, working_day_within,
};
use crate::draw::{chance, pick, pick_weighted};
use crate::group::{
    CREDIT_WITHDRAWN_REASON, DISPUTE_REASONS, REBATE_REASON, RETURN_REASONS, SUBSIDIARIES,
    UPHELD_NOTE, UPHELD_REASON, WITHDRAWN_NOTE, WRITE_OFF_REASONS, refund_reference,
};
use crate::profiles::Credit;
use crate::wire::Fact;

/// Percentage of payments rounded up to a round figure by an ordinary customer, leaving
/// unapplied cash on the account.
const OVERPAYMENT_PERCENT: u32 = 7;

/// Percentage of payments rounded up to a round figure by a customer whose overpayments are
/// refunded: it pays in round sums and asks for the difference back.
const OVERPAYMENT_REFUNDED_PERCENT: u32 = 20;

/// A refund of unapplied money goes out this many days after the money arrived, at least and
/// at most: the customer asks, treasury approves and pays.
const REFUND_DAYS_MIN: i64 = 7;
const REFUND_DAYS_MAX: i64 = 20;

/// Percentage of the invoices of a customer who returns goods that see some of them come back,
/// how many days after the invoice, and what part of it, in percent.
const RETURN_PERCENT: u32 = 12;
const RETURN_DAYS_MIN: i64 = 3;
const RETURN_DAYS_MAX: i64 = 25;
const RETURN_PART_PERCENT_MIN: i64 = 5;
const RETURN_PART_PERCENT_MAX: i64 = 30;

/// Credit notes of returns and disputes are rounded down to this, in minor units (1.00).
const CREDIT_STEP_MINOR: i64 = 100;

/// Percentage of the invoices of a customer who disputes that it disputes, at most this many a
/// year, opened this many days after the invoice; a dispute holds this many days unless
/// resolved first, and is resolved this many days after it was opened.
const DISPUTE_PERCENT: u32 = 8;
const DISPUTES_PER_CUSTOMER_MAX: usize = 2;
const DISPUTE_DAYS_MIN: i64 = 5;
const DISPUTE_DAYS_MAX: i64 = 20;
const DISPUTE_HOLDS_DAYS_MIN: i64 = 30;
const DISPUTE_HOLDS_DAYS_MAX: i64 = 45;
const RESOLUTION_DAYS_MIN: i64 = 7;
const RESOLUTION_DAYS_MAX: i64 = 25;

/// Percentage of the payments of a customer who sends no remittance advice with them now and
/// then that are taken on account, and the days until the advice arrives and the cash is
/// applied.
const ON_ACCOUNT_PAYMENT_PERCENT: u32 = 35;
const ADVICE_DAYS_MIN: i64 = 2;
const ADVICE_DAYS_MAX: i64 = 8;

/// A customer whose payment bounces: not before this many days into the window, for one of its
/// payments in this percentage, reversed this many days after it was received, and paid again
/// this many days after the reversal.
const BOUNCE_AFTER_DAYS: i64 = 45;
const BOUNCE_PERCENT: u32 = 25;
const BOUNCE_DAYS_MIN: i64 = 3;
const BOUNCE_DAYS_MAX: i64 = 8;
const REPAY_DAYS_MIN: i64 = 5;
const REPAY_DAYS_MAX: i64 = 15;

/// A customer that goes under stops paying at a point this far into the window (in percent),
/// the subsidiaries stop selling to it this many days later, and credit control writes off
/// what is more than [`WRITE_OFF_OVERDUE_DAYS`] overdue this many days after it stopped paying.
const DISTRESS_PERCENT_MIN: i64 = 20;
const DISTRESS_PERCENT_MAX: i64 = 40;
const SALES_STOP_DAYS: i64 = 30;
const WRITE_OFF_AFTER_DAYS_MIN: i64 = 150;
const WRITE_OFF_AFTER_DAYS_MAX: i64 = 200;
const WRITE_OFF_OVERDUE_DAYS: i64 = 90;

/// A volume rebate is credited for the last quarter that ended at least this many days before
/// today, once the customer has bought for a quarter; it is a share of the quarter's invoicing,
/// in percent, and at least the minimum (100.00, in minor units); the customer gets it back or
/// deducts it this many days later.
const REBATE_SETTLE_DAYS: i64 = 30;
const REBATE_PERCENT_MIN: i64 = 1;
const REBATE_PERCENT_MAX: i64 = 3;
const REBATE_MIN_MINOR: i64 = 10_000;
const CREDIT_USE_DAYS_MIN: i64 = 5;
const CREDIT_USE_DAYS_MAX: i64 = 25;

/// How a dispute ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DisputeEnd {
    /// Nobody resolves it: it expires and the amount is collectible again.
    Expires,
    /// The customer withdraws it.
    Withdrawn,
    /// The customer was right: credited by a credit note.
    Upheld,
}

/// Dispute endings are dealt like promise outcomes, so that a handful of disputes already end
/// in every way.
pub(super) const DISPUTE_ENDS: [DisputeEnd; 6] = [
    DisputeEnd::Upheld,
    DisputeEnd::Expires,
    DisputeEnd::Withdrawn,
    DisputeEnd::Withdrawn,
    DisputeEnd::Upheld,
    DisputeEnd::Expires,
];

/// What an application of unapplied money pays.
pub(super) enum Target {
    /// These invoices (ordinals), each up to the amount.
    Invoices(Vec<(usize, i64)>),
    /// Oldest due first among the subsidiary's open invoices, up to the amount.
    OldestDueFirst(i64),
}

/// `amount` rounded down to a multiple of `step`.
fn round_down(amount: i64, step: i64) -> i64 {
    amount.div_euclid(step) * step
}

impl Simulation<'_> {
    /// The unapplied money of `source` that a movement dated `date` may take, as the account
    /// holds it.
    pub(super) fn spendable(&self, source: UnappliedSource, date: NaiveDate) -> i64 {
        let currency = self.profile.currency;
        minor(
            self.account.state().spendable_on(source, currency, date),
            currency,
        )
    }

    /// The ordinal of the invoice the account knows by `key`.
    pub(super) fn ordinal_of(&self, key: &InvoiceKey) -> Option<usize> {
        self.invoices
            .iter()
            .position(|invoice| invoice.key.as_ref() == Some(key))
    }

    /// Whether the customer had gone under by `date`.
    pub(super) fn in_distress(&self, date: NaiveDate) -> bool {
        self.distress.is_some_and(|distress| date >= distress)
    }

    /// The subsidiaries stop selling to a customer a while after it stopped paying.
    pub(super) fn sales_stopped(&self, date: NaiveDate) -> bool {
        self.distress
            .is_some_and(|distress| date > add_days(distress, SALES_STOP_DAYS))
    }

    /// Whether the payment at hand comes without remittance advice, to be taken on account.
    pub(super) fn takes_on_account(&mut self) -> bool {
        self.profile.turns.on_account && chance(&mut self.life, ON_ACCOUNT_PAYMENT_PERCENT)
    }

    /// How often the customer rounds a payment up to a round figure.
    pub(super) fn overpayment_percent(&self) -> u32 {
        if self.profile.turns.refunds {
            OVERPAYMENT_REFUNDED_PERCENT
        } else {
            OVERPAYMENT_PERCENT
        }
    }

    /// A customer whose overpayments are refunded gets what `payment` left unapplied back a
    /// while later.
    pub(super) fn plan_refund(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        payment: &PaymentReceived,
    ) {
        if !self.profile.turns.refunds {
            return;
        }
        let unapplied = minor(payment.unapplied.amount(), payment.unapplied.currency());
        if unapplied > 0 {
            let day = next_working_day(add_days(
                date,
                self.life.random_range(REFUND_DAYS_MIN..=REFUND_DAYS_MAX),
            ));
            if day <= self.today {
                self.schedule(
                    day,
                    PRIORITY_BACK_OFFICE,
                    Intent::Refund {
                        subsidiary,
                        source: UnappliedSource::Cash,
                        amount_minor: unapplied,
                    },
                );
            }
        }
    }

    /// The turns of the customer's year that do not hang on one sale: going under, the rebate.
    pub(super) fn plan_turns(&mut self, decks: &mut OutcomeDecks) {
        let turns = self.profile.turns;
        let (start, today) = (self.start, self.today);
        let span = (today - start).num_days();
        if turns.bad_debt {
            let distress = add_days(
                start,
                span * self
                    .life
                    .random_range(DISTRESS_PERCENT_MIN..=DISTRESS_PERCENT_MAX)
                    / 100,
            );
            self.distress = Some(distress);
            let day = add_days(
                distress,
                self.life
                    .random_range(WRITE_OFF_AFTER_DAYS_MIN..=WRITE_OFF_AFTER_DAYS_MAX),
            );
            let date = previous_working_day(day);
            if date <= today {
                self.schedule(date, PRIORITY_BACK_OFFICE, Intent::WriteOffs);
            }
        }
        if turns.rebate {
            let quarter_end = quarter_end_on_or_before(add_days(today, -REBATE_SETTLE_DAYS));
            if quarter_end >= add_days(start, 90) {
                let refund = decks.deal_rebate_refund();
                self.schedule(
                    previous_working_day(quarter_end),
                    PRIORITY_BACK_OFFICE,
                    Intent::Rebate { refund },
                );
            }
        }
    }

    /// The turns a sale may take: the customer disputes the invoice, or sends goods back.
    pub(super) fn plan_turns_of_sale(
        &mut self,
        date: NaiveDate,
        ordinal: usize,
        decks: &mut OutcomeDecks,
    ) {
        let turns = self.profile.turns;
        if turns.disputes
            && self.disputes < DISPUTES_PER_CUSTOMER_MAX
            && chance(&mut self.life, DISPUTE_PERCENT)
        {
            let day = add_days(
                date,
                self.life.random_range(DISPUTE_DAYS_MIN..=DISPUTE_DAYS_MAX),
            );
            let day = next_working_day(day);
            if day <= self.today {
                self.disputes += 1;
                let end = decks.deal_dispute();
                self.schedule(day, PRIORITY_BACK_OFFICE, Intent::Dispute { ordinal, end });
            }
            return;
        }
        if turns.returns && chance(&mut self.life, RETURN_PERCENT) {
            let day = add_days(
                date,
                self.life.random_range(RETURN_DAYS_MIN..=RETURN_DAYS_MAX),
            );
            let day = next_working_day(day);
            if day <= self.today {
                self.schedule(day, PRIORITY_BACK_OFFICE, Intent::Return { ordinal });
            }
        }
    }

    /// A payment without remittance advice from a customer who sends the advice later: the
    /// subsidiary takes the money on account and applies it once the advice arrives (as the
    /// advice says, or oldest due first for a customer whose advice never names invoices).
    pub(super) fn pay_on_account(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        parts: Vec<(usize, i64)>,
    ) {
        let mut wanted: BTreeMap<usize, i64> = BTreeMap::new();
        for (ordinal, amount) in parts {
            *wanted.entry(ordinal).or_default() += amount;
        }
        let allocations: Vec<(usize, i64)> = wanted
            .into_iter()
            .filter_map(|(ordinal, want)| {
                let applied = want.min(self.open_minor(ordinal));
                (applied > 0).then_some((ordinal, applied))
            })
            .take(ALLOCATIONS_PER_APPLICATION_MAX)
            .collect();
        let amount: i64 = allocations.iter().map(|(_, amount)| amount).sum();
        if amount <= 0 {
            return;
        }
        let method = self.method();
        self.record_payment(date, subsidiary, amount, method, Vec::new(), true);
        let advice = next_working_day(add_days(
            date,
            self.life.random_range(ADVICE_DAYS_MIN..=ADVICE_DAYS_MAX),
        ));
        if advice <= self.today {
            let target = if self.profile.explicit {
                Target::Invoices(allocations)
            } else {
                Target::OldestDueFirst(amount)
            };
            self.schedule(
                advice,
                PRIORITY_BACK_OFFICE,
                Intent::Apply {
                    subsidiary,
                    source: UnappliedSource::Cash,
                    target,
                    refund_rest: false,
                },
            );
        }
    }

    /// For a customer whose payment bounces: once in a while, the last payment recorded since
    /// `recorded` facts comes back a few days later.
    pub(super) fn maybe_bounce(&mut self, date: NaiveDate, recorded: usize) {
        if !self.profile.turns.bounces
            || self.bounced
            || self.facts.len() <= recorded
            || date < add_days(self.start, BOUNCE_AFTER_DAYS)
            || !chance(&mut self.life, BOUNCE_PERCENT)
        {
            return;
        }
        let fact = self.facts.len() - 1;
        if !matches!(
            self.facts.get(fact),
            Some((
                _,
                Fact::Payment {
                    on_account: false,
                    ..
                }
            ))
        ) {
            return;
        }
        let day = next_working_day(add_days(
            date,
            self.life.random_range(BOUNCE_DAYS_MIN..=BOUNCE_DAYS_MAX),
        ));
        if day <= self.today {
            self.bounced = true;
            self.schedule(day, PRIORITY_BACK_OFFICE, Intent::Reversal { fact });
        }
    }

    // --------------------------------------------------------------------------------------
    // The back office: credit notes, disputes, applications, refunds, reversals, write-offs.
    // --------------------------------------------------------------------------------------

    /// Issues a credit note of the subsidiary: against the `invoice` (ordinal), or on account.
    /// Returns its ordinal when the account took it.
    pub(super) fn issue_credit_note(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        amount_minor: i64,
        reason: &'static str,
        invoice: Option<usize>,
    ) -> Option<usize> {
        let ordinal = self.credit_notes;
        self.credit_notes += 1;
        self.record(
            date,
            Fact::CreditNote {
                ordinal,
                subsidiary,
                amount_minor,
                reason,
                invoice,
            },
        )?;
        Some(ordinal)
    }

    /// What becomes of credit on account a while after it was issued: paid back, or deducted
    /// from the subsidiary's open invoices (paid back when none is open).
    pub(super) fn use_credit(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        amount_minor: i64,
        refund: bool,
    ) {
        let day = next_working_day(add_days(
            date,
            self.life
                .random_range(CREDIT_USE_DAYS_MIN..=CREDIT_USE_DAYS_MAX),
        ));
        if day > self.today {
            return;
        }
        let intent = if refund {
            Intent::Refund {
                subsidiary,
                source: UnappliedSource::Credit,
                amount_minor,
            }
        } else {
            Intent::Apply {
                subsidiary,
                source: UnappliedSource::Credit,
                target: Target::OldestDueFirst(amount_minor),
                refund_rest: true,
            }
        };
        self.schedule(day, PRIORITY_BACK_OFFICE, intent);
    }

    /// Goods of the `ordinal`th invoice come back: a credit note for part of it, against the
    /// invoice while it owes that much, on account once it is paid (and then deducted or
    /// refunded).
    pub(super) fn take_back(&mut self, date: NaiveDate, ordinal: usize) {
        let Some(subsidiary) = self.invoices.get(ordinal).map(|i| i.subsidiary) else {
            return;
        };
        let Some(amount) = self
            .invoices
            .get(ordinal)
            .and_then(|i| i.key.as_ref())
            .and_then(|key| self.account.invoice(key))
            .map(|i| minor(i.amount.amount(), i.amount.currency()))
        else {
            return;
        };
        let percent = self
            .life
            .random_range(RETURN_PART_PERCENT_MIN..=RETURN_PART_PERCENT_MAX);
        let part = round_down(amount * percent / 100, CREDIT_STEP_MINOR).max(CREDIT_STEP_MINOR);
        let reason = pick(&mut self.life, &RETURN_REASONS).unwrap_or("goods returned");
        if self.open_minor(ordinal) >= part {
            self.issue_credit_note(date, subsidiary, part, reason, Some(ordinal));
        } else if self
            .issue_credit_note(date, subsidiary, part, reason, None)
            .is_some()
        {
            let refund = chance(&mut self.life, 50);
            self.use_credit(date, subsidiary, part, refund);
        }
    }

    /// The customer disputes (part of) the `ordinal`th invoice while it is open, and holds its
    /// payment back until the dispute ends.
    pub(super) fn dispute(&mut self, date: NaiveDate, ordinal: usize, end: DisputeEnd) {
        let open = self.open_minor(ordinal);
        if open <= 0 {
            return;
        }
        let amount_minor = if chance(&mut self.life, 50) {
            open
        } else {
            let part = open * self.life.random_range(20..=80) / 100;
            round_down(part, CREDIT_STEP_MINOR)
                .max(CREDIT_STEP_MINOR)
                .min(open)
        };
        let (reason, note) = pick_weighted(&mut self.life, &DISPUTE_REASONS)
            .unwrap_or((pb::DisputeReason::Other, "customer disputes the invoice"));
        let expiry = add_days(
            date,
            self.life
                .random_range(DISPUTE_HOLDS_DAYS_MIN..=DISPUTE_HOLDS_DAYS_MAX),
        );
        // A dispute to be resolved may be left open-ended; one nobody resolves expires.
        let expires = (end == DisputeEnd::Expires || chance(&mut self.life, 70)).then_some(expiry);
        let disputed = self.record(
            date,
            Fact::Dispute {
                invoice: ordinal,
                amount_minor,
                reason,
                note,
                expires,
            },
        );
        if disputed.is_none() {
            return;
        }
        let opened = date;
        let closes = match end {
            DisputeEnd::Expires => expiry,
            DisputeEnd::Withdrawn | DisputeEnd::Upheld => {
                let day = add_days(
                    opened,
                    self.life
                        .random_range(RESOLUTION_DAYS_MIN..=RESOLUTION_DAYS_MAX),
                );
                let day = working_day_within(day, add_days(opened, 1), expiry);
                if day <= self.today {
                    self.schedule(
                        day,
                        PRIORITY_BACK_OFFICE,
                        Intent::Resolve {
                            ordinal,
                            upheld: end == DisputeEnd::Upheld,
                            amount_minor,
                        },
                    );
                }
                day
            }
        };
        self.withhold_payments(ordinal, opened, closes);
    }

    /// The customer pays nothing of the `ordinal`th invoice from `from` to `to` (a dispute
    /// holds): what it meant to pay then comes a few days after.
    pub(super) fn withhold_payments(&mut self, ordinal: usize, from: NaiveDate, to: NaiveDate) {
        let keys: Vec<IntentKey> = self
            .pending
            .range((from, PRIORITY_PAYMENT, 0)..=(to, PRIORITY_PAYMENT, u64::MAX))
            .filter(|((_, priority, _), intent)| {
                *priority == PRIORITY_PAYMENT
                    && matches!(intent, Intent::Payment { kind: PaymentKind::Settle(parts), .. }
                        if parts.iter().any(|(o, _)| *o == ordinal))
            })
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            if let Some(Intent::Payment {
                subsidiary,
                kind: PaymentKind::Settle(parts),
            }) = self.pending.remove(&key)
            {
                let (held, rest): (Vec<_>, Vec<_>) =
                    parts.into_iter().partition(|(o, _)| *o == ordinal);
                if !rest.is_empty() {
                    self.pending.insert(
                        key,
                        Intent::Payment {
                            subsidiary,
                            kind: PaymentKind::Settle(rest),
                        },
                    );
                }
                let later = next_working_day(add_days(to, self.life.random_range(1..=10)));
                self.schedule_payment(later, subsidiary, PaymentKind::Settle(held));
            }
        }
    }

    /// The dispute on the `ordinal`th invoice ends: withdrawn, or upheld with a credit note of
    /// the disputed amount (against the invoice while it owes that much, else on account).
    pub(super) fn resolve(
        &mut self,
        date: NaiveDate,
        ordinal: usize,
        upheld: bool,
        amount_minor: i64,
    ) {
        let Some(subsidiary) = self.invoices.get(ordinal).map(|i| i.subsidiary) else {
            return;
        };
        let (outcome, credit_note, note) = if upheld {
            let against = (self.open_minor(ordinal) >= amount_minor).then_some(ordinal);
            let Some(number) =
                self.issue_credit_note(date, subsidiary, amount_minor, UPHELD_REASON, against)
            else {
                return;
            };
            if against.is_none() {
                self.use_credit(date, subsidiary, amount_minor, false);
            }
            (pb::DisputeOutcome::Upheld, Some(number), UPHELD_NOTE)
        } else {
            (pb::DisputeOutcome::Withdrawn, None, WITHDRAWN_NOTE)
        };
        self.record(
            date,
            Fact::Resolution {
                invoice: ordinal,
                outcome,
                credit_note,
                note,
            },
        );
    }

    /// Credit control writes off what a customer that went under owes on invoices more than
    /// [`WRITE_OFF_OVERDUE_DAYS`] overdue, and withdraws its credit.
    pub(super) fn write_off(&mut self, date: NaiveDate) {
        let cutoff = add_days(date, -WRITE_OFF_OVERDUE_DAYS);
        let overdue: Vec<(usize, i64)> = self
            .invoices
            .iter()
            .enumerate()
            .filter_map(|(ordinal, invoice)| {
                let state = self.account.invoice(invoice.key.as_ref()?)?;
                let open = minor(state.open, state.amount.currency());
                (open > 0 && state.due_date <= cutoff).then_some((ordinal, open))
            })
            .collect();
        if overdue.is_empty() {
            return;
        }
        let reason = pick(&mut self.life, &WRITE_OFF_REASONS).unwrap_or("bad debt");
        for (invoice, amount_minor) in overdue {
            self.record(
                date,
                Fact::WriteOff {
                    invoice,
                    amount_minor,
                    reason,
                },
            );
        }
        if self.profile.credit.is_some() {
            self.record(
                date,
                Fact::CreditLimit {
                    grade: CreditGrade::D,
                    credit: Credit {
                        limit_minor: 0,
                        block: true,
                    },
                    reason: CREDIT_WITHDRAWN_REASON,
                },
            );
        }
    }

    /// The payment recorded by the `fact`th fact bounced: the subsidiary reverses it (unless
    /// its unapplied part was spent meanwhile), and the customer pays again a while later.
    pub(super) fn reverse(&mut self, date: NaiveDate, fact: usize) {
        let Some((
            _,
            Fact::Payment {
                subsidiary, method, ..
            },
        )) = self.facts.get(fact)
        else {
            return;
        };
        let (subsidiary, method) = (*subsidiary, *method);
        let Some(payment) = self
            .payment_ids
            .get(&fact)
            .and_then(|id| CommandId::parse(id).ok())
            .and_then(|id| self.account.state().payment(&id))
        else {
            return;
        };
        let unapplied = minor(payment.unapplied.amount(), payment.unapplied.currency());
        if payment.reversed_on.is_some() || self.spendable(UnappliedSource::Cash, date) < unapplied
        {
            return;
        }
        let reason = if method == pb::PaymentMethod::Cheque {
            pb::ReversalReason::InsufficientFunds
        } else {
            pb::ReversalReason::ReturnedByBank
        };
        let Some(Event::PaymentReversed(reversed)) = self.record(
            date,
            Fact::Reversal {
                subsidiary,
                payment: fact,
                reason,
            },
        ) else {
            return;
        };
        let parts: Vec<(usize, i64)> = reversed
            .reopened
            .iter()
            .filter_map(|a| {
                let ordinal = self.ordinal_of(&a.invoice)?;
                Some((ordinal, minor(a.amount.amount(), a.amount.currency())))
            })
            .collect();
        if !parts.is_empty() {
            let day = next_working_day(add_days(
                date,
                self.life.random_range(REPAY_DAYS_MIN..=REPAY_DAYS_MAX),
            ));
            self.schedule_payment(day, subsidiary, PaymentKind::Settle(parts));
        }
    }

    /// Applies unapplied money of `source` to the subsidiary's invoices, as far as there is
    /// money and something open.
    pub(super) fn apply_unapplied(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        source: UnappliedSource,
        target: Target,
        refund_rest: bool,
    ) {
        let spendable = self.spendable(source, date);
        if spendable <= 0 {
            return;
        }
        match target {
            Target::Invoices(wanted) => {
                let mut left = spendable;
                let mut allocations = Vec::new();
                for (ordinal, want) in wanted {
                    let applied = want.min(self.open_minor(ordinal)).min(left);
                    if applied > 0 {
                        allocations.push((ordinal, applied));
                        left -= applied;
                    }
                }
                let amount_minor: i64 = allocations.iter().map(|(_, amount)| amount).sum();
                if amount_minor > 0 {
                    self.record(
                        date,
                        Fact::Application {
                            subsidiary,
                            source,
                            amount_minor,
                            allocations,
                        },
                    );
                }
            }
            Target::OldestDueFirst(amount_minor) => {
                let amount_minor = amount_minor.min(spendable);
                if self.open_of_subsidiary(subsidiary, date) > 0 {
                    self.record(
                        date,
                        Fact::Application {
                            subsidiary,
                            source,
                            amount_minor,
                            allocations: Vec::new(),
                        },
                    );
                } else if refund_rest {
                    self.refund(date, subsidiary, source, amount_minor);
                }
            }
        }
    }

    /// Pays unapplied money of `source` back to the customer, as far as it is still there.
    pub(super) fn refund(
        &mut self,
        date: NaiveDate,
        subsidiary: usize,
        source: UnappliedSource,
        amount_minor: i64,
    ) {
        let amount_minor = amount_minor.min(self.spendable(source, date));
        if amount_minor <= 0 {
            return;
        }
        let reference = refund_reference(&mut self.life, date, subsidiary);
        self.record(
            date,
            Fact::Refund {
                subsidiary,
                source,
                amount_minor,
                method: pb::PaymentMethod::BankTransfer,
                reference,
            },
        );
    }

    /// The quarterly volume rebate: a share of what the subsidiary that sold most to the
    /// customer invoiced in the quarter whose last working day is `date`, credited on account,
    /// then refunded or deducted.
    pub(super) fn rebate(&mut self, date: NaiveDate, refund: bool) {
        // `date` is the quarter's last working day: the quarter began after the previous
        // quarter end.
        let from = quarter_end_on_or_before(add_days(date, -1));
        let mut best: Option<(i64, usize)> = None;
        for &subsidiary in self.profile.subsidiaries {
            let invoiced: i64 = self
                .account
                .invoices()
                .filter(|i| {
                    i.key.subsidiary_id.as_str() == SUBSIDIARIES[subsidiary].id
                        && i.issue_date > from
                        && i.issue_date <= date
                })
                .map(|i| minor(i.amount.amount(), i.amount.currency()))
                .sum();
            if best.is_none_or(|(most, _)| invoiced > most) {
                best = Some((invoiced, subsidiary));
            }
        }
        let Some((invoiced, subsidiary)) = best else {
            return;
        };
        let percent = self
            .life
            .random_range(REBATE_PERCENT_MIN..=REBATE_PERCENT_MAX);
        let amount_minor = round_down(invoiced * percent / 100, CREDIT_STEP_MINOR);
        if amount_minor < REBATE_MIN_MINOR {
            return;
        }
        if self
            .issue_credit_note(date, subsidiary, amount_minor, REBATE_REASON, None)
            .is_some()
        {
            self.use_credit(date, subsidiary, amount_minor, refund);
        }
    }
}
