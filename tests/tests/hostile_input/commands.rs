//! Command validation under hostile requests: scenarios of gRPC requests sent in-process to the
//! real `CommandService` over an embedded event log of their own.
//!
//! A scenario is a list of requests as the wire carries them (every field a string, a number or
//! a list, so anything a client can send can be written down), kept in the corpus as JSON.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use proptest::prelude::*;
use proptest::sample::Index;
use receivables::accounts::CacheBounds;
use receivables::authorization::Caller;
use receivables::command_service::CommandGrpc;
use receivables::execution::Executor;
use receivables_api::pb;
use receivables_api::pb::command_service_server::CommandService;
use receivables_domain::chain::ChainVerifier;
use receivables_domain::limits::{
    ACTIVITY_CONTACT_LENGTH_MAX, NOTE_LENGTH_MAX, REASON_LENGTH_MAX, REFERENCE_LENGTH_MAX,
};
use receivables_domain::{CustomerAccount, CustomerId, Event, Position, RecordedEvent};
use receivables_eventlog::EventLog;
use receivables_eventlog::codec;
use receivables_eventlog::sqlite::SqliteLog;
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tonic::{Code, Request, Response, Status};
use tonic_types::StatusExt;

use crate::validity;
use crate::values::{self, LeafEdit};

// ---------------------------------------------------------------------------------------------
// Requests as the wire carries them
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Money {
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvoiceRef {
    pub subsidiary_id: String,
    pub invoice_number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    DueDate(String),
    TermsDays(u32),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Invoice {
    pub command_id: String,
    pub customer_id: String,
    pub subsidiary_id: String,
    pub invoice_number: String,
    pub amount: Option<Money>,
    pub issue_date: String,
    pub due: Option<Due>,
    /// The order whose credit reservation the invoice consumes; empty: none.
    pub order_number: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Allocation {
    pub invoice: Option<InvoiceRef>,
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Payment {
    pub command_id: String,
    pub customer_id: String,
    pub subsidiary_id: String,
    pub amount: Option<Money>,
    pub received_date: String,
    pub method: i32,
    pub reference: String,
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limit {
    pub command_id: String,
    pub customer_id: String,
    pub limit: Option<Money>,
    pub policy: i32,
    pub grade: i32,
    pub reason: String,
    pub approved_by: String,
    pub effective_date: String,
    pub overdue_hold_days: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Promise {
    pub command_id: String,
    pub customer_id: String,
    pub subsidiary_id: String,
    pub amount: Option<Money>,
    pub made_on: String,
    pub promised_date: String,
    pub invoices: Vec<InvoiceRef>,
    pub collector: String,
    pub note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reservation {
    pub command_id: String,
    pub customer_id: String,
    pub subsidiary_id: String,
    pub order_number: String,
    pub amount: Option<Money>,
    pub reserved_on: String,
    pub expires_on: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Release {
    pub command_id: String,
    pub customer_id: String,
    pub subsidiary_id: String,
    pub order_number: String,
    pub amount: Option<Money>,
    pub released_on: String,
    pub reason: String,
}

/// A collector's contact with the customer; `channel` and `outcome` are the wire's numbers, so
/// that unknown and unspecified values are sent too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Activity {
    pub command_id: String,
    pub customer_id: String,
    pub subsidiary_id: String,
    pub channel: i32,
    pub outcome: i32,
    pub occurred_on: String,
    pub collector: String,
    pub contact: String,
    pub note: String,
    pub next_action_on: String,
    pub invoices: Vec<InvoiceRef>,
}

/// Alert thresholds of the group or of a subsidiary (the group's own account), every field as
/// sent: percentages as text, so that odd numbers are sent too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub command_id: String,
    pub subsidiary_id: String,
    pub overdue_rate_percent: String,
    pub dso_days: Option<u32>,
    pub utilisation_percent: String,
    pub days_past_due: Option<u32>,
    pub unapplied_cash: Option<Money>,
    pub unapplied_cash_days: Option<u32>,
    pub dispute_expiry_days: Option<u32>,
    pub reason: String,
    pub approved_by: String,
}

/// A credit check: a question, which appends nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Check {
    pub customer_id: String,
    pub amount: Option<Money>,
    pub date: String,
}

/// One request of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    IssueInvoice(Invoice),
    RecordPayment(Payment),
    ChangeCreditLimit(Limit),
    RecordPromiseToPay(Promise),
    ReserveCredit(Reservation),
    ReleaseCredit(Release),
    CheckCredit(Check),
    RecordCollectionActivity(Activity),
    SetAlertThresholds(Thresholds),
    /// The request of an earlier step (this index, modulo the steps before) sent again
    /// unchanged: a retry.
    Repeat(usize),
}

/// Requests sent one after the other to one service with an empty log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub steps: Vec<Step>,
}

fn money(money: &Option<Money>) -> Option<pb::Money> {
    money.as_ref().map(|m| pb::Money {
        amount: m.amount.clone(),
        currency: m.currency.clone(),
    })
}

fn invoice_ref(invoice: &InvoiceRef) -> pb::InvoiceRef {
    pb::InvoiceRef {
        subsidiary_id: invoice.subsidiary_id.clone(),
        invoice_number: invoice.invoice_number.clone(),
    }
}

impl Thresholds {
    fn request(&self) -> pb::SetAlertThresholdsRequest {
        pb::SetAlertThresholdsRequest {
            command_id: self.command_id.clone(),
            subsidiary_id: self.subsidiary_id.clone(),
            thresholds: Some(pb::AlertThresholds {
                overdue_rate_percent: self.overdue_rate_percent.clone(),
                dso_days: self.dso_days,
                utilisation_percent: self.utilisation_percent.clone(),
                days_past_due: self.days_past_due,
                unapplied_cash: money(&self.unapplied_cash),
                unapplied_cash_days: self.unapplied_cash_days,
                dispute_expiry_days: self.dispute_expiry_days,
            }),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}

impl Invoice {
    fn request(&self) -> pb::IssueInvoiceRequest {
        pb::IssueInvoiceRequest {
            command_id: self.command_id.clone(),
            customer_id: self.customer_id.clone(),
            subsidiary_id: self.subsidiary_id.clone(),
            invoice_number: self.invoice_number.clone(),
            amount: money(&self.amount),
            issue_date: self.issue_date.clone(),
            due: self.due.as_ref().map(|due| match due {
                Due::DueDate(date) => pb::issue_invoice_request::Due::DueDate(date.clone()),
                Due::TermsDays(days) => pb::issue_invoice_request::Due::TermsDays(*days),
            }),
            schedule: Vec::new(),
            order_number: self.order_number.clone(),
        }
    }
}

impl Reservation {
    fn request(&self) -> pb::ReserveCreditRequest {
        pb::ReserveCreditRequest {
            command_id: self.command_id.clone(),
            customer_id: self.customer_id.clone(),
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
            amount: money(&self.amount),
            reserved_on: self.reserved_on.clone(),
            expires_on: self.expires_on.clone(),
        }
    }
}

impl Release {
    fn request(&self) -> pb::ReleaseCreditRequest {
        pb::ReleaseCreditRequest {
            command_id: self.command_id.clone(),
            customer_id: self.customer_id.clone(),
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
            amount: money(&self.amount),
            released_on: self.released_on.clone(),
            reason: self.reason.clone(),
        }
    }
}

impl Activity {
    fn request(&self) -> pb::RecordCollectionActivityRequest {
        pb::RecordCollectionActivityRequest {
            command_id: self.command_id.clone(),
            customer_id: self.customer_id.clone(),
            subsidiary_id: self.subsidiary_id.clone(),
            channel: self.channel,
            outcome: self.outcome,
            occurred_on: self.occurred_on.clone(),
            collector: self.collector.clone(),
            contact: self.contact.clone(),
            note: self.note.clone(),
            next_action_on: self.next_action_on.clone(),
            invoices: self.invoices.iter().map(invoice_ref).collect(),
        }
    }
}

impl Check {
    fn request(&self) -> pb::CheckCreditRequest {
        pb::CheckCreditRequest {
            customer_id: self.customer_id.clone(),
            amount: money(&self.amount),
            date: self.date.clone(),
        }
    }
}

impl Payment {
    fn request(&self) -> pb::RecordPaymentRequest {
        pb::RecordPaymentRequest {
            command_id: self.command_id.clone(),
            customer_id: self.customer_id.clone(),
            subsidiary_id: self.subsidiary_id.clone(),
            amount: money(&self.amount),
            received_date: self.received_date.clone(),
            method: self.method,
            reference: self.reference.clone(),
            allocations: self
                .allocations
                .iter()
                .map(|a| pb::Allocation {
                    invoice: a.invoice.as_ref().map(invoice_ref),
                    amount: money(&a.amount),
                })
                .collect(),
            allocation_rule: pb::AllocationRule::Unspecified.into(),
        }
    }
}

impl Limit {
    fn request(&self) -> pb::ChangeCreditLimitRequest {
        pb::ChangeCreditLimitRequest {
            command_id: self.command_id.clone(),
            customer_id: self.customer_id.clone(),
            limit: money(&self.limit),
            policy: self.policy,
            grade: self.grade,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
            effective_date: self.effective_date.clone(),
            overdue_hold_days: self.overdue_hold_days,
        }
    }
}

impl Promise {
    fn request(&self) -> pb::RecordPromiseToPayRequest {
        pb::RecordPromiseToPayRequest {
            command_id: self.command_id.clone(),
            customer_id: self.customer_id.clone(),
            subsidiary_id: self.subsidiary_id.clone(),
            amount: money(&self.amount),
            made_on: self.made_on.clone(),
            promised_date: self.promised_date.clone(),
            invoices: self.invoices.iter().map(invoice_ref).collect(),
            collector: self.collector.clone(),
            note: self.note.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn money_strategy() -> BoxedStrategy<Option<Money>> {
    prop_oneof![
        12 => (values::amount(), values::currency())
            .prop_map(|(amount, currency)| Some(Money { amount, currency })),
        1 => Just(None),
    ]
    .boxed()
}

fn invoice_ref_strategy() -> BoxedStrategy<InvoiceRef> {
    (values::id(values::SUBSIDIARIES), values::invoice_number())
        .prop_map(|(subsidiary_id, invoice_number)| InvoiceRef {
            subsidiary_id,
            invoice_number,
        })
        .boxed()
}

fn due_strategy() -> BoxedStrategy<Option<Due>> {
    prop_oneof![
        6 => values::date(true).prop_map(|date| Some(Due::DueDate(date))),
        4 => prop::sample::select(&[0u32, 1, 30, 45, 60, 3_650][..])
            .prop_map(|days| Some(Due::TermsDays(days))),
        1 => prop_oneof![Just(3_651u32), Just(u32::MAX), any::<u32>()]
            .prop_map(|days| Some(Due::TermsDays(days))),
        1 => Just(None),
    ]
    .boxed()
}

fn invoice_strategy() -> BoxedStrategy<Invoice> {
    (
        values::command_id(),
        values::id(values::CUSTOMERS),
        values::id(values::SUBSIDIARIES),
        values::invoice_number(),
        money_strategy(),
        values::date(false),
        due_strategy(),
        order_strategy(),
    )
        .prop_map(
            |(
                command_id,
                customer_id,
                subsidiary_id,
                invoice_number,
                amount,
                issue_date,
                due,
                order_number,
            )| {
                Invoice {
                    command_id,
                    customer_id,
                    subsidiary_id,
                    invoice_number,
                    amount,
                    issue_date,
                    due,
                    order_number,
                }
            },
        )
        .boxed()
}

/// Mostly none; else an order number, well formed or not (the invoice number's alphabet).
fn order_strategy() -> BoxedStrategy<String> {
    prop_oneof![
        4 => Just(String::new()),
        1 => values::invoice_number(),
    ]
    .boxed()
}

fn reservation_strategy() -> BoxedStrategy<Reservation> {
    (
        values::command_id(),
        values::id(values::CUSTOMERS),
        values::id(values::SUBSIDIARIES),
        values::invoice_number(),
        money_strategy(),
        values::date(false),
        values::date(true),
    )
        .prop_map(
            |(
                command_id,
                customer_id,
                subsidiary_id,
                order_number,
                amount,
                reserved_on,
                expires_on,
            )| Reservation {
                command_id,
                customer_id,
                subsidiary_id,
                order_number,
                amount,
                reserved_on,
                expires_on,
            },
        )
        .boxed()
}

fn release_strategy() -> BoxedStrategy<Release> {
    (
        values::command_id(),
        values::id(values::CUSTOMERS),
        values::id(values::SUBSIDIARIES),
        values::invoice_number(),
        prop_oneof![1 => money_strategy(), 1 => Just(None)],
        values::date(true),
        prop_oneof![
            6 => Just("order cancelled".to_owned()),
            3 => values::free_text(REASON_LENGTH_MAX),
        ],
    )
        .prop_map(
            |(
                command_id,
                customer_id,
                subsidiary_id,
                order_number,
                amount,
                released_on,
                reason,
            )| {
                Release {
                    command_id,
                    customer_id,
                    subsidiary_id,
                    order_number,
                    amount,
                    released_on,
                    reason,
                }
            },
        )
        .boxed()
}

fn check_strategy() -> BoxedStrategy<Check> {
    (
        values::id(values::CUSTOMERS),
        money_strategy(),
        prop_oneof![2 => Just(String::new()), 3 => values::date(true)],
    )
        .prop_map(|(customer_id, amount, date)| Check {
            customer_id,
            amount,
            date,
        })
        .boxed()
}

fn allocation_strategy() -> BoxedStrategy<Allocation> {
    prop_oneof![
        12 => (invoice_ref_strategy(), money_strategy())
            .prop_map(|(invoice, amount)| Allocation { invoice: Some(invoice), amount }),
        1 => money_strategy().prop_map(|amount| Allocation { invoice: None, amount }),
    ]
    .boxed()
}

fn allocations_strategy() -> BoxedStrategy<Vec<Allocation>> {
    prop_oneof![
        16 => prop::collection::vec(allocation_strategy(), 0..4),
        // At the limit and past it; the same allocation many times.
        1 => (allocation_strategy(), 99usize..=102).prop_map(|(a, n)| vec![a; n]),
        1 => prop::collection::vec(allocation_strategy(), 100..=101),
    ]
    .boxed()
}

fn payment_strategy() -> BoxedStrategy<Payment> {
    (
        values::command_id(),
        values::id(values::CUSTOMERS),
        values::id(values::SUBSIDIARIES),
        money_strategy(),
        values::date(false),
        values::enumeration(8),
        values::free_text(REFERENCE_LENGTH_MAX),
        allocations_strategy(),
    )
        .prop_map(
            |(
                command_id,
                customer_id,
                subsidiary_id,
                amount,
                received_date,
                method,
                reference,
                allocations,
            )| Payment {
                command_id,
                customer_id,
                subsidiary_id,
                amount,
                received_date,
                method,
                reference,
                allocations,
            },
        )
        .boxed()
}

fn limit_strategy() -> BoxedStrategy<Limit> {
    (
        values::command_id(),
        values::id(values::CUSTOMERS),
        money_strategy(),
        values::enumeration(2),
        values::enumeration(4),
        prop_oneof![
            6 => Just("annual review".to_owned()),
            3 => values::free_text(REASON_LENGTH_MAX),
        ],
        values::name(),
        prop_oneof![3 => Just(String::new()), 2 => values::date(false)],
        prop_oneof![
            4 => Just(None),
            2 => prop::sample::select(&[0u32, 1, 30, 60, 3_650][..]).prop_map(Some),
            1 => prop_oneof![Just(3_651u32), Just(u32::MAX), any::<u32>()].prop_map(Some),
        ],
    )
        .prop_map(
            |(
                command_id,
                customer_id,
                limit,
                policy,
                grade,
                reason,
                approved_by,
                effective_date,
                overdue_hold_days,
            )| {
                Limit {
                    command_id,
                    customer_id,
                    limit,
                    policy,
                    grade,
                    reason,
                    approved_by,
                    effective_date,
                    overdue_hold_days,
                }
            },
        )
        .boxed()
}

fn promise_strategy() -> BoxedStrategy<Promise> {
    (
        values::command_id(),
        values::id(values::CUSTOMERS),
        values::id(values::SUBSIDIARIES),
        money_strategy(),
        values::date(false),
        values::date(true),
        prop_oneof![
            12 => prop::collection::vec(invoice_ref_strategy(), 0..3),
            1 => (invoice_ref_strategy(), 99usize..=102).prop_map(|(i, n)| vec![i; n]),
            1 => prop::collection::vec(invoice_ref_strategy(), 100..=101),
        ],
        values::name(),
        values::free_text(NOTE_LENGTH_MAX),
    )
        .prop_map(
            |(
                command_id,
                customer_id,
                subsidiary_id,
                amount,
                made_on,
                promised_date,
                invoices,
                collector,
                note,
            )| Promise {
                command_id,
                customer_id,
                subsidiary_id,
                amount,
                made_on,
                promised_date,
                invoices,
                collector,
                note,
            },
        )
        .boxed()
}

fn activity_strategy() -> BoxedStrategy<Activity> {
    (
        (
            values::command_id(),
            values::id(values::CUSTOMERS),
            values::id(values::SUBSIDIARIES),
            prop_oneof![8 => 1i32..=5, 1 => Just(0), 1 => 6i32..=9, 1 => any::<i32>()],
            prop_oneof![8 => 1i32..=6, 1 => Just(0), 1 => 7i32..=9, 1 => any::<i32>()],
            values::date(false),
        ),
        (
            values::name(),
            values::free_text(ACTIVITY_CONTACT_LENGTH_MAX),
            values::free_text(NOTE_LENGTH_MAX),
            prop_oneof![3 => Just(String::new()), 3 => values::date(true)],
            prop_oneof![
                12 => prop::collection::vec(invoice_ref_strategy(), 0..3),
                1 => (invoice_ref_strategy(), 99usize..=102).prop_map(|(i, n)| vec![i; n]),
            ],
        ),
    )
        .prop_map(
            |(
                (command_id, customer_id, subsidiary_id, channel, outcome, occurred_on),
                (collector, contact, note, next_action_on, invoices),
            )| Activity {
                command_id,
                customer_id,
                subsidiary_id,
                channel,
                outcome,
                occurred_on,
                collector,
                contact,
                note,
                next_action_on,
                invoices,
            },
        )
        .boxed()
}

/// Percentages around the thresholds' bounds (above 0, at most 100 or 1,000), and not numbers.
const PERCENTS: &[&str] = &[
    "", "30", "12.5", "100", "0", "-5", "100.01", "1000", "1000.5", "abc", "1e3", " 50 ",
];

/// Days around the thresholds' bounds (0 or 1 to 366 or 3,650).
fn threshold_days() -> BoxedStrategy<Option<u32>> {
    prop_oneof![
        4 => Just(None),
        3 => prop::sample::select(&[0u32, 1, 7, 45, 366, 367, 3_650, 3_651][..]).prop_map(Some),
        1 => any::<u32>().prop_map(Some),
    ]
    .boxed()
}

fn thresholds_strategy() -> BoxedStrategy<Thresholds> {
    (
        (
            values::command_id(),
            prop_oneof![2 => Just(String::new()), 1 => values::id(values::SUBSIDIARIES)],
            prop::sample::select(PERCENTS).prop_map(str::to_owned),
            threshold_days(),
            prop::sample::select(PERCENTS).prop_map(str::to_owned),
            threshold_days(),
        ),
        (
            prop_oneof![2 => Just(None), 1 => money_strategy()],
            threshold_days(),
            threshold_days(),
            prop_oneof![
                6 => Just("group credit policy".to_owned()),
                3 => values::free_text(REASON_LENGTH_MAX),
            ],
            values::name(),
        ),
    )
        .prop_map(
            |(
                (command_id, subsidiary_id, overdue_rate, dso_days, utilisation, days_past_due),
                (unapplied_cash, unapplied_cash_days, dispute_expiry_days, reason, approved_by),
            )| Thresholds {
                command_id,
                subsidiary_id,
                overdue_rate_percent: overdue_rate,
                dso_days,
                utilisation_percent: utilisation,
                days_past_due,
                unapplied_cash,
                unapplied_cash_days,
                dispute_expiry_days,
                reason,
                approved_by,
            },
        )
        .boxed()
}

fn step_strategy() -> BoxedStrategy<Step> {
    prop_oneof![
        5 => invoice_strategy().prop_map(Step::IssueInvoice),
        4 => payment_strategy().prop_map(Step::RecordPayment),
        2 => limit_strategy().prop_map(Step::ChangeCreditLimit),
        2 => promise_strategy().prop_map(Step::RecordPromiseToPay),
        2 => reservation_strategy().prop_map(Step::ReserveCredit),
        1 => release_strategy().prop_map(Step::ReleaseCredit),
        1 => check_strategy().prop_map(Step::CheckCredit),
        1 => activity_strategy().prop_map(Step::RecordCollectionActivity),
        1 => thresholds_strategy().prop_map(Step::SetAlertThresholds),
        1 => (0usize..8).prop_map(Step::Repeat),
    ]
    .boxed()
}

/// A scenario made from scratch; in half of them payments and promises name the customers and
/// invoices of the scenario's earlier invoices, so that the rules about allocations and
/// promises (currency, open amount, dates) are reached, not only "no such invoice".
pub fn scenario_strategy() -> BoxedStrategy<Scenario> {
    (
        prop::collection::vec(step_strategy(), 1..12),
        prop::collection::vec(any::<Index>(), 1..16),
        any::<bool>(),
    )
        .prop_map(|(steps, picks, linked)| {
            let scenario = Scenario { steps };
            if linked {
                link(scenario, &picks)
            } else {
                scenario
            }
        })
        .boxed()
}

/// Points payments and promises at invoices issued earlier in the scenario, as `picks` choose,
/// with allocations in their payment's currency; and invoices, releases and credit checks at
/// orders reserved earlier (their customer, subsidiary and order number).
fn link(mut scenario: Scenario, picks: &[Index]) -> Scenario {
    let mut issued: Vec<(String, InvoiceRef)> = Vec::new();
    let mut reserved: Vec<(String, String, String)> = Vec::new();
    let mut orders = picks.iter().rev().cycle();
    let mut order = |reserved: &[(String, String, String)]| {
        orders
            .next()
            .map(|at| reserved[at.index(reserved.len())].clone())
    };
    let mut picks = picks.iter().cycle();
    let mut pick = |issued: &[(String, InvoiceRef)]| {
        picks
            .next()
            .map(|at| issued[at.index(issued.len())].clone())
    };
    for step in &mut scenario.steps {
        match step {
            Step::ReserveCredit(reservation) => reserved.push((
                reservation.customer_id.clone(),
                reservation.subsidiary_id.clone(),
                reservation.order_number.clone(),
            )),
            Step::ReleaseCredit(release) if !reserved.is_empty() => {
                if let Some((customer, subsidiary, number)) = order(&reserved) {
                    (
                        release.customer_id,
                        release.subsidiary_id,
                        release.order_number,
                    ) = (customer, subsidiary, number);
                }
            }
            Step::CheckCredit(check) if !reserved.is_empty() => {
                if let Some((customer, _, _)) = order(&reserved) {
                    check.customer_id = customer;
                }
            }
            Step::IssueInvoice(invoice) => {
                if !invoice.order_number.is_empty()
                    && let Some((customer, subsidiary, number)) =
                        (!reserved.is_empty()).then(|| order(&reserved)).flatten()
                {
                    (
                        invoice.customer_id,
                        invoice.subsidiary_id,
                        invoice.order_number,
                    ) = (customer, subsidiary, number);
                }
                issued.push((
                    invoice.customer_id.clone(),
                    InvoiceRef {
                        subsidiary_id: invoice.subsidiary_id.clone(),
                        invoice_number: invoice.invoice_number.clone(),
                    },
                ));
            }
            Step::RecordPayment(payment) if !issued.is_empty() => {
                if let Some((customer, _)) = pick(&issued) {
                    payment.customer_id = customer;
                }
                let currency = payment.amount.as_ref().map(|m| m.currency.clone());
                for allocation in &mut payment.allocations {
                    allocation.invoice = pick(&issued).map(|(_, invoice)| invoice);
                    // In the payment's currency, as a valid allocation is.
                    if let (Some(money), Some(currency)) = (&mut allocation.amount, &currency) {
                        money.currency = currency.clone();
                    }
                }
            }
            Step::RecordCollectionActivity(activity) if !issued.is_empty() => {
                if let Some((customer, _)) = pick(&issued) {
                    activity.customer_id = customer;
                }
                for invoice in &mut activity.invoices {
                    if let Some((_, named)) = pick(&issued) {
                        *invoice = named;
                    }
                }
            }
            Step::RecordPromiseToPay(promise) if !issued.is_empty() => {
                if let Some((customer, _)) = pick(&issued) {
                    promise.customer_id = customer;
                }
                for invoice in &mut promise.invoices {
                    if let Some((_, named)) = pick(&issued) {
                        *invoice = named;
                    }
                }
            }
            _ => {}
        }
    }
    scenario
}

/// A change to a seed scenario.
#[derive(Debug, Clone)]
enum Mutation {
    /// One field of one step edited (through the step's JSON form).
    Field(Index, Index, LeafEdit),
    Drop(Index),
    Duplicate(Index),
    Insert(Index, Step),
    Swap(Index, Index),
}

fn mutation_strategy() -> BoxedStrategy<Mutation> {
    prop_oneof![
        8 => (any::<Index>(), any::<Index>(), values::leaf_edit())
            .prop_map(|(step, leaf, edit)| Mutation::Field(step, leaf, edit)),
        1 => any::<Index>().prop_map(Mutation::Drop),
        1 => any::<Index>().prop_map(Mutation::Duplicate),
        2 => (any::<Index>(), step_strategy()).prop_map(|(at, step)| Mutation::Insert(at, step)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
    .boxed()
}

fn mutate(mut scenario: Scenario, mutations: Vec<Mutation>) -> Scenario {
    for mutation in mutations {
        let steps = &mut scenario.steps;
        match mutation {
            Mutation::Field(step, leaf, edit) if !steps.is_empty() => {
                let at = step.index(steps.len());
                let Ok(mut document) = serde_json::to_value(&steps[at]) else {
                    continue;
                };
                values::edit_leaf(&mut document, leaf, &edit);
                // An edit that makes no request (a string where a number goes) is skipped.
                if let Ok(edited) = serde_json::from_value(document) {
                    steps[at] = edited;
                }
            }
            Mutation::Drop(at) if steps.len() > 1 => {
                steps.remove(at.index(steps.len()));
            }
            Mutation::Duplicate(at) if !steps.is_empty() => {
                let step = steps[at.index(steps.len())].clone();
                steps.push(step);
            }
            Mutation::Insert(at, step) => steps.insert(at.index(steps.len() + 1), step),
            Mutation::Swap(a, b) if !steps.is_empty() => {
                let (a, b) = (a.index(steps.len()), b.index(steps.len()));
                steps.swap(a, b);
            }
            _ => {}
        }
    }
    scenario
}

/// Scenarios from scratch, and mutations of the seeds.
pub fn strategy(seeds: Vec<Scenario>) -> BoxedStrategy<Scenario> {
    let fresh = scenario_strategy();
    if seeds.is_empty() {
        return fresh;
    }
    let mutated = (
        prop::sample::select(seeds),
        prop::collection::vec(mutation_strategy(), 1..5),
    )
        .prop_map(|(seed, mutations)| mutate(seed, mutations));
    prop_oneof![1 => fresh, 2 => mutated].boxed()
}

pub fn read_seed(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not a scenario: {error}", path.display()))
}

pub fn scenario_json(scenario: &Scenario) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(scenario).expect("a scenario is JSON");
    bytes.push(b'\n');
    bytes
}

// ---------------------------------------------------------------------------------------------
// The service under test
// ---------------------------------------------------------------------------------------------

/// A command service in-process over an embedded log in a directory of its own.
pub struct World {
    _directory: tempfile::TempDir,
    path: std::path::PathBuf,
    pub log: Arc<SqliteLog>,
    pub executor: Arc<Executor<SqliteLog>>,
    pub service: CommandGrpc<SqliteLog>,
}

/// Accounts kept in memory by the service under test: few, so that some are evicted and
/// loaded again from the log.
const CACHE_CUSTOMERS: u64 = 2;

/// An empty log with its schema. Creating the schema takes most of the time of opening a fresh
/// log; copying a file takes very little.
pub struct Template {
    directory: tempfile::TempDir,
}

impl Template {
    pub async fn create() -> Template {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let log = SqliteLog::open(&directory.path().join(TEMPLATE_FILE))
            .await
            .expect("the template log opens");
        log.close().await.expect("the template log closes");
        Template { directory }
    }

    fn path(&self) -> std::path::PathBuf {
        self.directory.path().join(TEMPLATE_FILE)
    }
}

const TEMPLATE_FILE: &str = "template.sqlite";

impl World {
    pub async fn open(template: &Template) -> World {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("events.sqlite");
        std::fs::copy(template.path(), &path).expect("the template log copies");
        let log = Arc::new(SqliteLog::open(&path).await.expect("the log opens"));
        let executor = Arc::new(Executor::new(
            Arc::clone(&log),
            CacheBounds::customers(CACHE_CUSTOMERS),
        ));
        let service = CommandGrpc::new(Arc::clone(&executor));
        World {
            _directory: directory,
            path,
            log,
            executor,
            service,
        }
    }

    pub async fn close(self) {
        self.log.close().await.expect("the log closes");
    }

    /// Every event in the log as stored: position, customer and the encoded bytes.
    pub async fn raw_events(&self) -> Vec<(i64, String, Vec<u8>)> {
        let mut connection = SqliteConnectOptions::new()
            .filename(&self.path)
            .read_only(true)
            .connect()
            .await
            .expect("the log's file opens for reading");
        let rows: Vec<(i64, String, Vec<u8>)> =
            sqlx::query_as("SELECT position, customer_id, payload FROM events ORDER BY position")
                .fetch(&mut connection)
                .try_collect()
                .await
                .expect("the events can be read");
        connection.close().await.expect("the connection closes");
        rows
    }
}

/// Requests sent, and how many of them appended an event, across every case of a run: shows
/// that the cases reach past validation.
pub static REQUESTS: AtomicU64 = AtomicU64::new(0);
pub static APPENDED: AtomicU64 = AtomicU64::new(0);

/// Refusals by reason across every case of a run: which rules the cases reached.
pub static REFUSALS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// The refusals of the run so far, most frequent first.
pub fn refusals_summary() -> String {
    let counts = REFUSALS.lock().map(|c| c.clone()).unwrap_or_default();
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
        .iter()
        .map(|(reason, count)| format!("{reason} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the service answered.
#[derive(Debug)]
pub enum Outcome {
    Accepted {
        position: u64,
        replayed: bool,
    },
    /// A question answered (a credit check): nothing appended.
    Answered,
    Refused(Status),
}

fn outcome<T>(
    answer: Result<Response<T>, Status>,
    receipt: impl Fn(&T) -> Option<&pb::CommandReceipt>,
) -> Result<Outcome, String> {
    match answer {
        Ok(response) => {
            let receipt = receipt(response.get_ref()).ok_or("an answer without a receipt")?;
            Ok(Outcome::Accepted {
                position: receipt.position,
                replayed: receipt.replayed,
            })
        }
        Err(status) => Ok(Outcome::Refused(status)),
    }
}

/// A request as the service sees it behind a listener without authentication (`--insecure`):
/// the caller may do everything, so what is fuzzed here is validation, not the policy.
fn open_call<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(Caller::unauthenticated());
    request
}

async fn send(service: &CommandGrpc<SqliteLog>, step: &Step) -> Result<Outcome, String> {
    match step {
        Step::IssueInvoice(invoice) => outcome(
            service.issue_invoice(open_call(invoice.request())).await,
            |r| r.receipt.as_ref(),
        ),
        Step::RecordPayment(payment) => outcome(
            service.record_payment(open_call(payment.request())).await,
            |r| r.receipt.as_ref(),
        ),
        Step::ChangeCreditLimit(limit) => outcome(
            service
                .change_credit_limit(open_call(limit.request()))
                .await,
            |r| r.receipt.as_ref(),
        ),
        Step::RecordPromiseToPay(promise) => outcome(
            service
                .record_promise_to_pay(open_call(promise.request()))
                .await,
            |r| r.receipt.as_ref(),
        ),
        Step::ReserveCredit(reservation) => outcome(
            service
                .reserve_credit(open_call(reservation.request()))
                .await,
            |r| r.receipt.as_ref(),
        ),
        Step::ReleaseCredit(release) => outcome(
            service.release_credit(open_call(release.request())).await,
            |r| r.receipt.as_ref(),
        ),
        Step::RecordCollectionActivity(activity) => outcome(
            service
                .record_collection_activity(open_call(activity.request()))
                .await,
            |r| r.receipt.as_ref(),
        ),
        Step::SetAlertThresholds(thresholds) => outcome(
            service
                .set_alert_thresholds(open_call(thresholds.request()))
                .await,
            |r| r.receipt.as_ref(),
        ),
        Step::CheckCredit(check) => match service.check_credit(open_call(check.request())).await {
            Ok(_) => Ok(Outcome::Answered),
            Err(status) => Ok(Outcome::Refused(status)),
        },
        Step::Repeat(_) => Err("a repeat is resolved before it is sent".to_owned()),
    }
}

/// A refusal is a precise status with the details its code promises; anything else (INTERNAL,
/// UNKNOWN, UNAVAILABLE...) means hostile input got further than it should.
/// `invalid_reason` is the reason of bad fields: `INVALID_COMMAND` for a command,
/// `INVALID_QUERY` for a question (a credit check).
pub fn check_refusal(status: &Status, invalid_reason: &str) -> Result<(), String> {
    let details = status.get_error_details();
    let info = details
        .error_info()
        .ok_or_else(|| format!("a refusal without ErrorInfo: {status:?}"))?;
    if info.domain != receivables_api::ERROR_DOMAIN || info.reason.is_empty() {
        return Err(format!("a refusal with a bad ErrorInfo: {status:?}"));
    }
    if status.message().is_empty() {
        return Err(format!("a refusal without a message: {status:?}"));
    }
    match status.code() {
        Code::InvalidArgument => {
            let violations = details
                .bad_request()
                .map(|b| b.field_violations.as_slice())
                .unwrap_or_default();
            if info.reason != invalid_reason
                || violations.is_empty()
                || violations
                    .iter()
                    .any(|v| v.field.is_empty() || v.description.is_empty())
            {
                return Err(format!(
                    "INVALID_ARGUMENT without proper field violations: {status:?}"
                ));
            }
        }
        Code::FailedPrecondition => {
            let violations = details
                .precondition_failure()
                .map(|p| p.violations.as_slice())
                .unwrap_or_default();
            if violations.is_empty()
                || violations.iter().any(|v| {
                    v.r#type.is_empty() || v.subject.is_empty() || v.description.is_empty()
                })
            {
                return Err(format!(
                    "FAILED_PRECONDITION without proper violations: {status:?}"
                ));
            }
        }
        Code::AlreadyExists => {
            if !matches!(
                info.reason.as_str(),
                "DUPLICATE_INVOICE_NUMBER" | "COMMAND_ID_REUSED"
            ) {
                return Err(format!("ALREADY_EXISTS with reason {}", info.reason));
            }
        }
        _ => return Err(format!("not a refusal: {status:?}")),
    }
    Ok(())
}

/// Runs a scenario against a fresh service and checks every property; the error says which
/// failed.
pub async fn run_scenario(template: &Template, scenario: &Scenario) -> Result<(), String> {
    let world = World::open(template).await;
    let result = check_scenario(&world, scenario).await;
    world.close().await;
    result
}

/// The amount a request asks for (a credit limit's for a limit change).
fn requested_amount(step: &Step) -> Option<&str> {
    let money = match step {
        Step::IssueInvoice(c) => c.amount.as_ref(),
        Step::RecordPayment(c) => c.amount.as_ref(),
        Step::ChangeCreditLimit(c) => c.limit.as_ref(),
        Step::RecordPromiseToPay(c) => c.amount.as_ref(),
        Step::ReserveCredit(c) => c.amount.as_ref(),
        // Without an amount a release takes what is left, which the request does not say.
        Step::ReleaseCredit(c) => c.amount.as_ref(),
        Step::CheckCredit(_)
        | Step::RecordCollectionActivity(_)
        | Step::SetAlertThresholds(_)
        | Step::Repeat(_) => None,
    };
    money.map(|m| m.amount.as_str())
}

/// A plain decimal without the zeros and the sign that do not change its value.
fn normalized(text: &str) -> String {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(unsigned) => (true, unsigned),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let fraction = fraction.trim_end_matches('0');
    let magnitude = if fraction.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{fraction}")
    };
    if negative && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

fn recorded_amount(event: &Event) -> String {
    match event {
        Event::InvoiceIssued(e) => e.amount.amount().to_string(),
        Event::PaymentReceived(e) => e.amount.amount().to_string(),
        Event::CreditLimitChanged(e) => e.limit.amount().to_string(),
        Event::PromiseToPay(e) => e.amount.amount().to_string(),
        Event::CreditNoteIssued(e) => e.amount.amount().to_string(),
        Event::InvoiceWrittenOff(e) => e.amount.amount().to_string(),
        Event::PaymentReversed(e) => e.amount.amount().to_string(),
        Event::UnappliedCashApplied(e) => e.amount.amount().to_string(),
        Event::RefundIssued(e) => e.amount.amount().to_string(),
        Event::DisputeOpened(e) => e.amount.amount().to_string(),
        // A resolution moves no amount; the steps sent here never post one.
        Event::DisputeResolved(_) => String::new(),
        // A group setting moves no amount; the steps sent here never post one.
        Event::CollectionOnBehalfSet(_) | Event::AlertThresholdsSet(_) => String::new(),
        // Neither do a customer's record and its collector.
        Event::CustomerRegistered(_)
        | Event::CustomerUpdated(_)
        | Event::CollectorAssigned(_)
        | Event::ExchangeRatesPublished(_)
        | Event::PaymentTermsDefined(_) => String::new(),
        // The steps sent here never post these.
        Event::InstalmentPlanAgreed(e) => e.open_amount.amount().to_string(),
        Event::InstalmentPlanCancelled(_) => String::new(),
        Event::DiscountAllowed(e) => e.amount.amount().to_string(),
        Event::CreditReserved(e) => e.amount.amount().to_string(),
        Event::CreditReleased(e) => e.amount.amount().to_string(),
        Event::BalanceConfirmed(e) => e.confirmed.amount().to_string(),
        // A contact moves no amount.
        Event::CollectionActivityRecorded(_) => String::new(),
        // The steps sent here never post to a bank account's stream.
        Event::BankAccountRegistered(_)
        | Event::StatementLineMatched(_)
        | Event::StatementLineExcluded(_) => String::new(),
        Event::StatementLineImported(e) => e.line.amount.amount().to_string(),
    }
}

async fn check_scenario(world: &World, scenario: &Scenario) -> Result<(), String> {
    let mut appended: u64 = 0;
    let mut amounts: BTreeMap<u64, String> = BTreeMap::new();
    let mut sent: Vec<&Step> = Vec::new();
    let mut customers: Vec<String> = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let step = match step {
            Step::Repeat(n) => match sent.get(n % sent.len().max(1)) {
                Some(earlier) => *earlier,
                None => continue,
            },
            step => step,
        };
        sent.push(step);
        let before = world.log.last_position().await.map_err(|e| e.to_string())?;
        let outcome = send(&world.service, step).await?;
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let after = world.log.last_position().await.map_err(|e| e.to_string())?;
        let context = |problem: String| format!("step {index} ({step:?}): {problem}");
        match outcome {
            Outcome::Accepted {
                position,
                replayed: false,
            } => {
                if after.get() != before.get() + 1 || position != after.get() {
                    return Err(context(format!(
                        "accepted at position {position}, but the log went from {before} to {after}"
                    )));
                }
                appended += 1;
                APPENDED.fetch_add(1, Ordering::Relaxed);
                if let Some(amount) = requested_amount(step) {
                    amounts.insert(position, amount.to_owned());
                }
                if let Some(customer) = customer_of(step) {
                    customers.push(customer);
                }
            }
            Outcome::Accepted {
                position,
                replayed: true,
            } => {
                if after != before || position == 0 || position > after.get() {
                    return Err(context(format!(
                        "a retry answered with position {position}, the log went from {before} to {after}"
                    )));
                }
            }
            Outcome::Answered => {
                if after != before {
                    return Err(context(format!(
                        "a question was answered, but the log went from {before} to {after}"
                    )));
                }
            }
            Outcome::Refused(status) => {
                let invalid_reason = match step {
                    Step::CheckCredit(_) => "INVALID_QUERY",
                    _ => "INVALID_COMMAND",
                };
                check_refusal(&status, invalid_reason).map_err(context)?;
                if let (Some(info), Ok(mut counts)) =
                    (status.get_error_details().error_info(), REFUSALS.lock())
                {
                    *counts.entry(info.reason.clone()).or_default() += 1;
                }
                if after != before {
                    return Err(context(format!(
                        "refused ({:?}), but the log went from {before} to {after}",
                        status.code()
                    )));
                }
            }
        }
    }
    check_log(world, appended, &customers, &amounts).await
}

fn customer_of(step: &Step) -> Option<String> {
    match step {
        Step::IssueInvoice(c) => Some(c.customer_id.clone()),
        Step::RecordPayment(c) => Some(c.customer_id.clone()),
        Step::ChangeCreditLimit(c) => Some(c.customer_id.clone()),
        Step::RecordPromiseToPay(c) => Some(c.customer_id.clone()),
        Step::ReserveCredit(c) => Some(c.customer_id.clone()),
        Step::ReleaseCredit(c) => Some(c.customer_id.clone()),
        Step::RecordCollectionActivity(c) => Some(c.customer_id.clone()),
        // The group's own account is checked with the others, not named by a customer.
        Step::CheckCredit(_) | Step::SetAlertThresholds(_) | Step::Repeat(_) => None,
    }
}

/// Everything appended decodes, re-encodes to the same bytes, is valid by the domain's rules,
/// records the amount its command asked for, chains, and replays into accounts equal to the
/// service's own.
async fn check_log(
    world: &World,
    appended: u64,
    customers: &[String],
    amounts: &BTreeMap<u64, String>,
) -> Result<(), String> {
    let rows = world.raw_events().await;
    if rows.len() as u64 != appended {
        return Err(format!(
            "{appended} commands were accepted, the log holds {} events",
            rows.len()
        ));
    }
    let mut verifier = ChainVerifier::whole_log();
    let mut histories: BTreeMap<CustomerId, Vec<RecordedEvent>> = BTreeMap::new();
    for (position, owner, payload) in rows {
        let position = Position::new(u64::try_from(position).map_err(|e| e.to_string())?);
        let event = codec::decode(&payload, position)
            .map_err(|e| format!("an appended event does not decode: {e}"))?;
        if event.envelope.customer_id.as_str() != owner {
            return Err(format!("the event at {position} is stored under {owner}"));
        }
        validity::check_as_written(&event.envelope)
            .map_err(|problem| format!("an invalid event was appended at {position}: {problem}"))?;
        let again = codec::encode(&event.envelope).map_err(|e| e.to_string())?;
        if again != payload {
            return Err(format!(
                "the event at {position} does not re-encode to its bytes:\n{}\n{}",
                String::from_utf8_lossy(&payload),
                String::from_utf8_lossy(&again)
            ));
        }
        if let Some(requested) = amounts.get(&position.get()) {
            let recorded = recorded_amount(&event.envelope.event);
            if normalized(requested) != normalized(&recorded) {
                return Err(format!(
                    "{requested:?} was asked for, {recorded} recorded at {position}"
                ));
            }
        }
        verifier
            .check(position, &event.envelope)
            .map_err(|broken| format!("the chain is broken: {broken}"))?;
        histories
            .entry(event.envelope.customer_id.clone())
            .or_default()
            .push(event);
    }
    for (customer, history) in &histories {
        let replayed = CustomerAccount::from_history(customer.clone(), history)
            .map_err(|violation| format!("the log does not replay: {violation}"))?;
        let served = world
            .executor
            .account(customer)
            .await
            .map_err(|e| format!("the service cannot load {customer}: {e}"))?;
        if served != replayed {
            return Err(format!(
                "the service's account of {customer} differs from its replay"
            ));
        }
        // The group's own account is no customer's to ask for.
        if customer.is_group() {
            continue;
        }
        let answer = world
            .service
            .get_account(open_call(pb::GetAccountRequest {
                customer_id: customer.to_string(),
            }))
            .await
            .map_err(|status| format!("GetAccount {customer} failed: {status:?}"))?;
        if answer.get_ref().event_count != history.len() as u64 {
            return Err(format!("GetAccount {customer} counts other events"));
        }
    }
    for customer in customers {
        if CustomerId::parse(customer)
            .map(|id| !histories.contains_key(&id))
            .unwrap_or(true)
        {
            return Err(format!("an accepted command of {customer:?} has no event"));
        }
    }
    Ok(())
}

/// Sends a step and forgets the answer (to produce events from a seed).
pub async fn send_ignoring_outcome(world: &World, step: &Step) {
    if !matches!(step, Step::Repeat(_)) {
        let _ = send(&world.service, step).await;
    }
}
