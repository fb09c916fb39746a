//! A long random history of a group's receivables, posted over gRPC to a real command
//! service, and every question a reader asks of a read model: what the tests that compare two
//! ways of answering (today's summaries with the exact computation, `summaries.rs`; the read
//! model as known at a position with a replay, `as_known.rs`) post and ask.
//!
//! The history moves invoices in every way the read models must follow (payments oldest due
//! first and on account, credit notes against invoices and on account, write-offs, disputes
//! opened and resolved, payments reversed, unapplied cash applied and refunded, invoices due
//! in schedules, instalment plans agreed and cancelled), dated across 2026, in two currencies,
//! at three subsidiaries, for [`CUSTOMERS`] customers. A seed replays it.

use chrono::{Days, NaiveDate};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::{Currency, CustomerId, SubsidiaryId};
use receivables_projections::ReadPool;
use receivables_projections::aging::{AgingRequest, Basis, GroupBy};
use receivables_projections::exposure::{self, ExposureQuery, ExposureSort};
use receivables_projections::paging::Paged;
use receivables_projections::work_queue::{self, WorkQueueQuery};
use tonic::transport::Channel;

use crate::{command_id, invoice, invoice_ref, money, payment};

pub const SUBSIDIARIES: [&str; 3] = ["SUB-1", "SUB-2", "SUB-3"];
pub const CUSTOMERS: usize = 12;

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    /// The generator of a run: seeded from the environment variable `variable` when it is set
    /// (to replay a run's history), else from the clock; the seed is printed with how to replay
    /// it, under `what`.
    pub fn seeded(variable: &str, what: &str) -> Rng {
        let seed = std::env::var(variable)
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |since| since.as_nanos() as u64)
                    | 1
            });
        eprintln!("{what}: seed {seed} ({variable}={seed} replays the history)");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len() as u64) as usize)
        }
    }

    /// A day from 2026-01-01 to 2026-09-27: about a third of them after the business date.
    pub fn day(&mut self) -> NaiveDate {
        date("2026-01-01") + Days::new(self.below(270))
    }

    /// An amount of 10.00 to 3,000.00 with cents.
    pub fn amount(&mut self) -> String {
        let minor = 1_000 + self.below(299_000);
        format!("{}.{:02}", minor / 100, minor % 100)
    }
}

/// What the history has made so far, to aim later commands at.
#[derive(Default)]
pub struct Made {
    pub invoices: Vec<Invoice>,
    pub payments: Vec<(String, String, String)>,
    /// Invoices with a dispute, and the day it was opened.
    pub disputed: Vec<(Invoice, NaiveDate)>,
    /// Invoices with an instalment plan, and the day it was agreed.
    pub planned: Vec<(Invoice, NaiveDate)>,
    pub accepted: std::collections::BTreeMap<&'static str, usize>,
    pub refused: usize,
}

#[derive(Clone)]
pub struct Invoice {
    pub customer: String,
    pub subsidiary: String,
    pub number: String,
    pub currency: &'static str,
}

pub fn customer(index: u64) -> String {
    format!("C-{index:02}")
}

/// Posts `count` random commands; the service decides each, and refusals are only counted.
pub async fn post(
    client: &mut CommandServiceClient<Channel>,
    rng: &mut Rng,
    made: &mut Made,
    count: usize,
) -> u64 {
    let mut last = 0;
    for _ in 0..count {
        let (kind, position) = post_one(client, rng, made).await;
        match position {
            Some(position) => {
                *made.accepted.entry(kind).or_default() += 1;
                last = last.max(position);
            }
            None => made.refused += 1,
        }
    }
    last
}

pub fn position_of(receipt: Option<pb::CommandReceipt>) -> Option<u64> {
    receipt.map(|receipt| receipt.position)
}

pub async fn post_one(
    client: &mut CommandServiceClient<Channel>,
    rng: &mut Rng,
    made: &mut Made,
) -> (&'static str, Option<u64>) {
    let choice = rng.below(100);
    let target = rng.pick(&made.invoices).cloned();
    let customer_id = customer(rng.below(CUSTOMERS as u64));
    let subsidiary = SUBSIDIARIES[rng.below(3) as usize].to_owned();
    let currency = if rng.below(4) == 0 { "USD" } else { "CNY" };
    let day = rng.day();
    let text = |day: NaiveDate| day.format("%Y-%m-%d").to_string();
    match (choice, target) {
        (0..40, _) | (_, None) => {
            let number = format!("INV-{}", made.invoices.len() + 1);
            let mut request = invoice(
                &customer_id,
                &subsidiary,
                &number,
                &rng.amount(),
                &text(day),
                &text(day + Days::new(rng.below(75))),
            );
            request.amount = money(&rng.amount(), currency);
            if rng.below(5) == 0 {
                // Due in three rows of a schedule instead.
                let minor = 30_000 + rng.below(300_000);
                request.amount = money(
                    &format!("{}.{:02}", 3 * minor / 100, 3 * minor % 100),
                    currency,
                );
                request.due = None;
                request.schedule = (1..=3)
                    .map(|row| pb::ScheduleRow {
                        due_date: text(day + Days::new(20 * row)),
                        amount: money(&format!("{}.{:02}", minor / 100, minor % 100), currency),
                    })
                    .collect();
            }
            let reply = client.issue_invoice(request).await;
            if reply.is_ok() {
                made.invoices.push(Invoice {
                    customer: customer_id,
                    subsidiary,
                    number,
                    currency,
                });
            }
            (
                "invoice",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (40..62, Some(target)) => {
            let mut request = payment(
                &target.customer,
                &target.subsidiary,
                &rng.amount(),
                &text(day),
            );
            request.amount = money(&rng.amount(), target.currency);
            let command_id = request.command_id.clone();
            let reply = client.record_payment(request).await;
            if reply.is_ok() {
                made.payments.push((
                    target.customer.clone(),
                    target.subsidiary.clone(),
                    command_id,
                ));
            }
            (
                "payment",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (62..68, Some(target)) => {
            let against = rng.below(3) != 0;
            let request = pb::IssueCreditNoteRequest {
                command_id: command_id(),
                customer_id: target.customer.clone(),
                subsidiary_id: target.subsidiary.clone(),
                credit_note_number: format!("CN-{}", rng.next_u64()),
                amount: money(&format!("{}.00", 10 + rng.below(400)), target.currency),
                issue_date: text(day),
                reason: "returned goods".to_owned(),
                invoice: against
                    .then(|| invoice_ref(&target.subsidiary, &target.number))
                    .flatten(),
            };
            let reply = client.issue_credit_note(request).await;
            (
                "credit note",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (68..72, Some(target)) => {
            let request = pb::WriteOffInvoiceRequest {
                command_id: command_id(),
                customer_id: target.customer.clone(),
                invoice: invoice_ref(&target.subsidiary, &target.number),
                amount: money(&format!("{}.00", 10 + rng.below(500)), target.currency),
                write_off_date: text(day),
                reason: "insolvency".to_owned(),
                approved_by: "Li Wei".to_owned(),
            };
            let reply = client.write_off_invoice(request).await;
            (
                "write-off",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (72..78, Some(target)) => {
            let expires = if rng.below(2) == 0 {
                text(day + Days::new(rng.below(60)))
            } else {
                String::new()
            };
            let request = pb::OpenDisputeRequest {
                command_id: command_id(),
                customer_id: target.customer.clone(),
                invoice: invoice_ref(&target.subsidiary, &target.number),
                amount: money(&format!("{}.00", 10 + rng.below(800)), target.currency),
                reason: pb::DisputeReason::Quality.into(),
                note: "damaged".to_owned(),
                opened_on: text(day),
                expires_on: expires,
            };
            let reply = client.open_dispute(request).await;
            if reply.is_ok() {
                made.disputed.push((target, day));
            }
            (
                "dispute",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (78..82, _) => {
            let Some((target, opened)) = rng.pick(&made.disputed).cloned() else {
                return ("resolution", None);
            };
            let request = pb::ResolveDisputeRequest {
                command_id: command_id(),
                customer_id: target.customer.clone(),
                invoice: invoice_ref(&target.subsidiary, &target.number),
                resolved_on: text(opened + Days::new(rng.below(60))),
                outcome: pb::DisputeOutcome::Withdrawn.into(),
                credit_note_number: String::new(),
                note: "agreed".to_owned(),
            };
            let reply = client.resolve_dispute(request).await;
            (
                "resolution",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (82..86, _) => {
            let Some((customer_id, subsidiary, paid)) = rng.pick(&made.payments).cloned() else {
                return ("reversal", None);
            };
            let request = pb::ReversePaymentRequest {
                command_id: command_id(),
                customer_id,
                subsidiary_id: subsidiary,
                payment_command_id: paid,
                reversal_date: text(day),
                reason: pb::ReversalReason::ReturnedByBank.into(),
            };
            let reply = client.reverse_payment(request).await;
            (
                "reversal",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (86..90, Some(target)) => {
            let request = pb::ApplyUnappliedCashRequest {
                command_id: command_id(),
                customer_id: target.customer.clone(),
                subsidiary_id: target.subsidiary.clone(),
                source: if rng.below(2) == 0 {
                    pb::UnappliedSource::Cash
                } else {
                    pb::UnappliedSource::Credit
                }
                .into(),
                amount: money(&format!("{}.00", 10 + rng.below(300)), target.currency),
                application_date: text(day),
                allocations: Vec::new(),
            };
            let reply = client.apply_unapplied_cash(request).await;
            (
                "application",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (90..92, Some(target)) => {
            let request = pb::IssueRefundRequest {
                command_id: command_id(),
                customer_id: target.customer.clone(),
                subsidiary_id: target.subsidiary.clone(),
                source: pb::UnappliedSource::Cash.into(),
                amount: money(&format!("{}.00", 10 + rng.below(200)), target.currency),
                refund_date: text(day),
                method: pb::PaymentMethod::BankTransfer.into(),
                reference: "REFUND".to_owned(),
            };
            let reply = client.issue_refund(request).await;
            (
                "refund",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
        (92..97, Some(target)) => agree_plan(client, rng, made, target).await,
        _ => {
            let Some((target, agreed)) = rng.pick(&made.planned).cloned() else {
                return ("plan cancelled", None);
            };
            let request = pb::CancelInstalmentPlanRequest {
                command_id: command_id(),
                customer_id: target.customer.clone(),
                invoice: invoice_ref(&target.subsidiary, &target.number),
                cancelled_on: text(agreed + Days::new(rng.below(60))),
                reason: "missed".to_owned(),
            };
            let reply = client.cancel_instalment_plan(request).await;
            (
                "plan cancelled",
                reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
            )
        }
    }
}

/// An instalment plan over what the invoice owes now, in two rows, agreed some days after its
/// due date.
pub async fn agree_plan(
    client: &mut CommandServiceClient<Channel>,
    rng: &mut Rng,
    made: &mut Made,
    target: Invoice,
) -> (&'static str, Option<u64>) {
    let account = client
        .get_account(pb::GetAccountRequest {
            customer_id: target.customer.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let Some(open) = account.open_invoices.iter().find(|open| {
        open.invoice
            .as_ref()
            .is_some_and(|i| i.invoice_number == target.number)
    }) else {
        return ("plan", None);
    };
    let open_minor: i64 = {
        let amount = open.open_amount.as_ref().unwrap().amount.replace('.', "");
        amount.parse().unwrap()
    };
    let due = date(&open.due_date);
    let agreed = due + Days::new(1 + rng.below(20));
    let first = open_minor / 2;
    let text = |minor: i64| format!("{}.{:02}", minor / 100, minor % 100);
    let request = pb::AgreeInstalmentPlanRequest {
        command_id: command_id(),
        customer_id: target.customer.clone(),
        invoice: invoice_ref(&target.subsidiary, &target.number),
        agreed_on: agreed.format("%Y-%m-%d").to_string(),
        rows: [(15, first), (45, open_minor - first)]
            .into_iter()
            .map(|(days, minor)| pb::ScheduleRow {
                due_date: (agreed + Days::new(days)).format("%Y-%m-%d").to_string(),
                amount: money(&text(minor), target.currency),
            })
            .collect(),
        collector: "Wang Fang".to_owned(),
        note: "two instalments".to_owned(),
    };
    let reply = client.agree_instalment_plan(request).await;
    if reply.is_ok() {
        made.planned.push((target, agreed));
    }
    (
        "plan",
        reply.ok().and_then(|r| position_of(r.into_inner().receipt)),
    )
}

/// Every aging report a reader can ask for with the summaries' buckets: each basis, each
/// grouping, and filtered by a subsidiary, a customer and a currency.
pub fn aging_requests(as_of: NaiveDate) -> Vec<AgingRequest> {
    let mut requests = Vec::new();
    for basis in [Basis::DueDate, Basis::InvoiceDate, Basis::PaymentTerms] {
        for group_by in [GroupBy::Customer, GroupBy::Subsidiary, GroupBy::Group] {
            let mut request = AgingRequest::new(as_of);
            request.basis = basis;
            request.group_by = group_by;
            requests.push(request.clone());
            let mut filtered = request.clone();
            filtered.subsidiary = Some(SubsidiaryId::parse("SUB-2").unwrap());
            requests.push(filtered);
            let mut filtered = request.clone();
            filtered.customer = Some(CustomerId::parse("C-03").unwrap());
            requests.push(filtered);
            let mut filtered = request;
            filtered.currency = Some(Currency::parse("USD").unwrap());
            requests.push(filtered);
        }
    }
    requests
}

pub async fn all_exposures(read: &ReadPool, as_of: NaiveDate) -> Vec<exposure::ExposureLine> {
    let mut lines = Vec::new();
    let mut query = ExposureQuery::new(as_of, ExposureSort::Exposure)
        .with_page_size(5)
        .unwrap();
    loop {
        let page = exposure::list_exposures(read, &query).await.unwrap();
        lines.extend(page.lines);
        let Some(token) = page.next_page_token else {
            return lines;
        };
        query = query.with_page_token(&token).unwrap();
    }
}

pub async fn whole_queue(
    read: &ReadPool,
    as_of: NaiveDate,
    include_snoozed: bool,
) -> Vec<work_queue::WorkItem> {
    let mut items = Vec::new();
    let mut query = WorkQueueQuery::new(as_of).with_page_size(4).unwrap();
    query.include_snoozed = include_snoozed;
    loop {
        let page = work_queue::work_queue(read, &query).await.unwrap();
        items.extend(page.items);
        let Some(token) = page.next_page_token else {
            return items;
        };
        query = query.with_page_token(&token).unwrap();
    }
}
