//! A scripted history that uses every event of the receivables life cycle (credit notes against
//! an invoice and on account, a payment on account applied later, a reversed payment, a
//! write-off, a refund, disputes that expire and that are withdrawn), posted over gRPC to
//! `receivables serve` on both backend pairs (the embedded SQLite log and read model; NATS
//! JetStream and PostgreSQL), every expected figure worked out by hand below.
//!
//! Day numbers (day of the year, 2026 is not a leap year): 02-09 = 40, 03-03 = 62, 03-17 = 76,
//! 03-31 = 90, 04-15 = 105, 04-30 = 120, 05-15 = 135, 06-15 = 166, 06-30 = 181.
//! Aging buckets (by due date): current (<= 0 days), 1-30, 31-60, 61-90, 91-120, over 120.
//!
//! The history, in business-date order:
//! 1. 01-10 L1 (SUB-SH) INV L1-1 10,000.00, due 02-09.
//! 2. 02-01 L1 (SUB-SH) INV L1-2 4,000.00, due 03-03.
//! 3. 02-15 L2 (SUB-BJ) INV L2-1 5,000.00, due 03-17.
//! 4. 02-20 L1 promises 6,000.00 for 03-05 (grace 3 days: its window closes after 03-08).
//! 5. 03-01 L1 pays 6,000.00 to L1-1 (P1): L1-1 owes 4,000.00.
//! 6. 03-05 L2 pays 3,000.00 on account (P2): unapplied cash 3,000.00.
//! 7. 03-10 credit note CN-1 of 1,000.00 against L1-2 (returned goods): L1-2 owes 3,000.00.
//! 8. 03-15 L1 disputes 3,000.00 of L1-2 (quality) until 04-30.
//! 9. 03-20 credit note CN-2 of 500.00 to L2 on account: unapplied credit 500.00.
//!
//! Moment A is noted here: before the reversal, the application and the second dispute.
//!
//! 10. 04-05 P1 is returned by the bank: L1-1 owes 10,000.00 again from 04-05; the promise,
//!     kept by P1, is broken as of any date from 04-05 on.
//! 11. 04-10 L2's unapplied cash is applied oldest due first: 3,000.00 to L2-1 (2,000.00 left).
//! 12. 04-20 200.00 of L2's unapplied credit is refunded: 300.00 left.
//! 13. 05-01 L2 disputes 2,000.00 of L2-1 (price), without expiry.
//!
//! Moment B is noted here: before the write-off and the resolution.
//!
//! 14. 05-20 2,000.00 of L1-1 is written off as bad debt: 8,000.00 left.
//! 15. 06-10 L2 withdraws its dispute: L2-1 is collectible again from 06-10.
//!
//! Beside them, L3 buys from SUB-SH in USD, on payment terms (a second currency, no rates, no
//! limit: its lines stand beside the CNY ones):
//! - 01-31 the group defines the template 30-50-20 (30 % on the issue date, 50 % in 60 days,
//!   20 % in 90; 2 % off within 10 days), and L3-1 of USD 10,000.00 is issued on it: rows
//!   01-31 3,000.00, 04-01 (01-31 + 60) 5,000.00, 05-01 (04-01 + 30) 2,000.00; due 05-01.
//! - 02-06 L3 pays USD 2,940.00 oldest due first (P3): all to L3-1's first row. Within the
//!   window (01-31 + 10 = 02-10) it earns 2,940 x 2 / 98 = 60.00, allowed the same day: the
//!   first row is settled, L3-1 owes 7,000.00 (rows 0, 5,000.00, 2,000.00).
//! - 02-10 L3-2 of USD 1,200.00 on an explicit schedule: 400.00 each on 03-31, 04-30, 05-31.
//! - (before moment B) 04-10 an instalment plan for L3-1, 5,000.00 of it overdue (the 04-01
//!   row): 3,500.00 on 04-30 and 3,500.00 on 05-31.
//! - (after moment B) 06-05 the plan is cancelled: the 05-31 instalment, like the 04-30 one,
//!   was missed. L3-1 is due by its own rows again.
//!
//! The statements of account of L1 and L2 over periods of this history are worked out at the
//! end, row by row; then both customers confirm their balances, one agreeing and one not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use receivables_api::pb;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::*;
use tonic::transport::Channel;

type Write = CommandServiceClient<Channel>;
type Read = QueryServiceClient<Channel>;
type Audit = AuditServiceClient<Channel>;

/// Long enough that a moment noted between two posts falls strictly between their records.
const BOUNDARY_GAP: Duration = Duration::from_millis(20);

fn amount(money: &Option<pb::Money>) -> String {
    money.as_ref().expect("an amount").amount.clone()
}

fn receipt_position(receipt: &Option<pb::CommandReceipt>) -> u64 {
    receipt.as_ref().expect("a receipt").position
}

/// One aging line as compared: customer, the six buckets, open total, unapplied, disputed.
type AgingLine = (String, Vec<String>, String, String, String);

fn aging_line(
    customer: &str,
    buckets: [&str; 6],
    total: &str,
    unapplied: &str,
    disputed: &str,
) -> AgingLine {
    (
        customer.to_owned(),
        buckets.iter().map(|b| (*b).to_owned()).collect(),
        total.to_owned(),
        unapplied.to_owned(),
        disputed.to_owned(),
    )
}

fn aging_request(as_of: &str, min_position: u64) -> pb::GetAgingReportRequest {
    pb::GetAgingReportRequest {
        scope: Some(pb::AgingScope {
            as_of: as_of.to_owned(),
            ..Default::default()
        }),
        group_by: pb::AgingGroupBy::Customer.into(),
        min_position,
    }
}

fn aging_lines(report: &pb::GetAgingReportResponse) -> Vec<AgingLine> {
    report
        .lines
        .iter()
        .map(|line| {
            (
                line.group.clone(),
                line.buckets.iter().map(|b| amount(&b.amount)).collect(),
                amount(&line.open_total),
                amount(&line.unapplied),
                amount(&line.disputed),
            )
        })
        .collect()
}

fn queue_request(as_of: &str, min_position: u64) -> pb::GetWorkQueueRequest {
    pb::GetWorkQueueRequest {
        as_of: as_of.to_owned(),
        min_position,
        ..Default::default()
    }
}

/// One work item as compared: customer, overdue, oldest due date, days past due, failed
/// promises, escalation, score.
type Item = (
    String,
    String,
    String,
    u32,
    u32,
    pb::EscalationLevel,
    String,
);

fn item(
    customer: &str,
    overdue: &str,
    oldest: &str,
    days: u32,
    failed: u32,
    level: pb::EscalationLevel,
    score: &str,
) -> Item {
    (
        customer.to_owned(),
        overdue.to_owned(),
        oldest.to_owned(),
        days,
        failed,
        level,
        score.to_owned(),
    )
}

fn items(queue: &pb::GetWorkQueueResponse) -> Vec<Item> {
    queue
        .items
        .iter()
        .map(|i| {
            (
                i.customer_id.clone(),
                amount(&i.overdue),
                i.oldest_due_date.clone(),
                i.days_past_due,
                i.broken_promises,
                i.escalation(),
                i.score.clone(),
            )
        })
        .collect()
}

fn exposures_request(as_of: &str, min_position: u64) -> pb::ListExposuresRequest {
    pb::ListExposuresRequest {
        as_of: as_of.to_owned(),
        min_position,
        ..Default::default()
    }
}

/// The live reports of the moment that is asked about later: aging as of 04-15 and 06-30,
/// the work queue as of 06-15 and the exposures as of 05-15.
#[derive(Debug, PartialEq)]
struct Saved {
    aging_april: Vec<AgingLine>,
    aging_june: Vec<AgingLine>,
    queue_june: Vec<Item>,
    exposures_may: Vec<pb::Exposure>,
}

impl Saved {
    async fn live(read: &mut Read, position: u64) -> Saved {
        Saved {
            aging_april: aging_lines(
                &read
                    .get_aging_report(aging_request("2026-04-15", position))
                    .await
                    .unwrap()
                    .into_inner(),
            ),
            aging_june: aging_lines(
                &read
                    .get_aging_report(aging_request("2026-06-30", position))
                    .await
                    .unwrap()
                    .into_inner(),
            ),
            queue_june: items(
                &read
                    .get_work_queue(queue_request("2026-06-15", position))
                    .await
                    .unwrap()
                    .into_inner(),
            ),
            exposures_may: read
                .list_exposures(exposures_request("2026-05-15", position))
                .await
                .unwrap()
                .into_inner()
                .lines,
        }
    }

    async fn as_known(audit: &mut Audit, known_at: SystemTime) -> Saved {
        let known_at = Some(known_at.into());
        let ahead = u64::MAX;
        Saved {
            aging_april: aging_lines(
                &audit
                    .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
                        known_at,
                        report: Some(aging_request("2026-04-15", ahead)),
                    })
                    .await
                    .unwrap()
                    .into_inner(),
            ),
            aging_june: aging_lines(
                &audit
                    .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
                        known_at,
                        report: Some(aging_request("2026-06-30", ahead)),
                    })
                    .await
                    .unwrap()
                    .into_inner(),
            ),
            queue_june: items(
                &audit
                    .get_work_queue_as_known(pb::GetWorkQueueAsKnownRequest {
                        known_at,
                        report: Some(queue_request("2026-06-15", ahead)),
                    })
                    .await
                    .unwrap()
                    .into_inner(),
            ),
            exposures_may: audit
                .list_exposures_as_known(pb::ListExposuresAsKnownRequest {
                    known_at,
                    report: Some(exposures_request("2026-05-15", ahead)),
                })
                .await
                .unwrap()
                .into_inner()
                .lines,
        }
    }
}

/// Notes the moment between the posts before and after it.
async fn moment() -> SystemTime {
    tokio::time::sleep(BOUNDARY_GAP).await;
    let noted = SystemTime::now();
    tokio::time::sleep(BOUNDARY_GAP).await;
    noted
}

fn request_base(customer: &str) -> (String, String) {
    (command_id(), customer.to_owned())
}

/// L3's payment of 02-06, with the command id its discount names.
const P3: &str = "0195e2a4-7c1d-7000-8000-000000000003";

/// L3 (USD) up to moment A: the template, L3-1 on it, P3 and its discount, L3-2 on a schedule.
async fn l3_before_moment_a(write: &mut Write) {
    let line = |portion: &str, days: u32| pb::TermsLine {
        portion: portion.to_owned(),
        due: Some(pb::terms_line::Due::NetDays(days)),
    };
    write
        .define_payment_terms(pb::DefinePaymentTermsRequest {
            command_id: command_id(),
            code: "30-50-20".to_owned(),
            description: "30 % now, 50 % in 60 days, 20 % in 90; 2/10".to_owned(),
            lines: vec![line("30", 0), line("50", 60), line("20", 90)],
            discount: Some(pb::EarlyPaymentDiscount {
                percent: "2".to_owned(),
                within_days: 10,
            }),
        })
        .await
        .unwrap();
    let l3_1 = write
        .issue_invoice(pb::IssueInvoiceRequest {
            amount: money("10000", "USD"),
            due: Some(pb::issue_invoice_request::Due::PaymentTerms(
                "30-50-20".to_owned(),
            )),
            ..invoice("L3", "SUB-SH", "L3-1", "10000", "2026-01-31", "2026-01-31")
        })
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<(String, String)> = l3_1
        .schedule
        .iter()
        .map(|r| (r.due_date.clone(), amount(&r.amount)))
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-01-31".to_owned(), "3000.00".to_owned()),
            ("2026-04-01".to_owned(), "5000.00".to_owned()),
            ("2026-05-01".to_owned(), "2000.00".to_owned())
        ]
    );
    let p3 = write
        .record_payment(pb::RecordPaymentRequest {
            command_id: P3.to_owned(),
            amount: money("2940", "USD"),
            ..payment("L3", "SUB-SH", "2940", "2026-02-06")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&p3.allocations[0].amount), "2940.00");
    let (command_id, customer_id) = request_base("L3");
    write
        .allow_discount(pb::AllowDiscountRequest {
            command_id,
            customer_id,
            invoice: invoice_ref("SUB-SH", "L3-1"),
            payment_id: P3.to_owned(),
            amount: money("60", "USD"),
            note: "paid within 10 days".to_owned(),
        })
        .await
        .unwrap();
    write
        .issue_invoice(pb::IssueInvoiceRequest {
            amount: money("1200", "USD"),
            due: None,
            schedule: ["2026-03-31", "2026-04-30", "2026-05-31"]
                .into_iter()
                .map(|due| pb::ScheduleRow {
                    due_date: due.to_owned(),
                    amount: money("400", "USD"),
                })
                .collect(),
            ..invoice("L3", "SUB-SH", "L3-2", "1200", "2026-02-10", "2026-02-10")
        })
        .await
        .unwrap();
}

/// Steps 1 to 9, and L3's; the position of the last event.
async fn before_moment_a(write: &mut Write) -> u64 {
    l3_before_moment_a(write).await;
    for request in [
        invoice("L1", "SUB-SH", "L1-1", "10000", "2026-01-10", "2026-02-09"),
        invoice("L1", "SUB-SH", "L1-2", "4000", "2026-02-01", "2026-03-03"),
        invoice("L2", "SUB-BJ", "L2-1", "5000", "2026-02-15", "2026-03-17"),
    ] {
        write.issue_invoice(request).await.unwrap();
    }
    write
        .record_promise_to_pay(promise("L1", "SUB-SH", "6000", "2026-02-20", "2026-03-05"))
        .await
        .unwrap();
    write
        .record_payment(pb::RecordPaymentRequest {
            allocations: vec![allocation("SUB-SH", "L1-1", "6000")],
            ..p1()
        })
        .await
        .unwrap();
    let p2 = write
        .record_payment(pb::RecordPaymentRequest {
            allocation_rule: pb::AllocationRule::OnAccount.into(),
            ..payment("L2", "SUB-BJ", "3000", "2026-03-05")
        })
        .await
        .unwrap()
        .into_inner();
    // On account: nothing allocated although L2-1 is open.
    assert_eq!(p2.allocation_rule(), pb::AllocationRule::OnAccount);
    assert!(p2.allocations.is_empty());
    assert_eq!(amount(&p2.unapplied), "3000.00");
    let (command_id, customer_id) = request_base("L1");
    write
        .issue_credit_note(pb::IssueCreditNoteRequest {
            command_id,
            customer_id,
            subsidiary_id: "SUB-SH".to_owned(),
            credit_note_number: "CN-1".to_owned(),
            amount: cny("1000"),
            issue_date: "2026-03-10".to_owned(),
            reason: "returned goods".to_owned(),
            invoice: invoice_ref("SUB-SH", "L1-2"),
        })
        .await
        .unwrap();
    let (command_id, customer_id) = request_base("L1");
    write
        .open_dispute(pb::OpenDisputeRequest {
            command_id,
            customer_id,
            invoice: invoice_ref("SUB-SH", "L1-2"),
            amount: cny("3000"),
            reason: pb::DisputeReason::Quality.into(),
            note: "damaged in transit".to_owned(),
            opened_on: "2026-03-15".to_owned(),
            expires_on: "2026-04-30".to_owned(),
        })
        .await
        .unwrap();
    let (command_id, customer_id) = request_base("L2");
    let cn2 = write
        .issue_credit_note(pb::IssueCreditNoteRequest {
            command_id,
            customer_id,
            subsidiary_id: "SUB-BJ".to_owned(),
            credit_note_number: "CN-2".to_owned(),
            amount: cny("500"),
            issue_date: "2026-03-20".to_owned(),
            reason: "volume rebate".to_owned(),
            invoice: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&cn2.unapplied_credit), "500.00");
    receipt_position(&cn2.receipt)
}

/// L1's payment of step 5, with the command id a reversal names.
fn p1() -> pb::RecordPaymentRequest {
    pb::RecordPaymentRequest {
        command_id: P1.to_owned(),
        ..payment("L1", "SUB-SH", "6000", "2026-03-01")
    }
}

const P1: &str = "0195e2a4-7c1d-7000-8000-000000000001";

/// Steps 10 to 13, and L3's plan; the position of the last event.
async fn before_moment_b(write: &mut Write) -> u64 {
    let (command_id, customer_id) = request_base("L3");
    let plan = write
        .agree_instalment_plan(pb::AgreeInstalmentPlanRequest {
            command_id,
            customer_id,
            invoice: invoice_ref("SUB-SH", "L3-1"),
            agreed_on: "2026-04-10".to_owned(),
            rows: ["2026-04-30", "2026-05-31"]
                .into_iter()
                .map(|due| pb::ScheduleRow {
                    due_date: due.to_owned(),
                    amount: money("3500", "USD"),
                })
                .collect(),
            collector: "Wang Fang".to_owned(),
            note: "two instalments".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (amount(&plan.open_amount), amount(&plan.overdue_amount)),
        ("7000.00".to_owned(), "5000.00".to_owned())
    );
    let (command_id, customer_id) = request_base("L1");
    let reversal = write
        .reverse_payment(pb::ReversePaymentRequest {
            command_id,
            customer_id,
            subsidiary_id: "SUB-SH".to_owned(),
            payment_command_id: P1.to_owned(),
            reversal_date: "2026-04-05".to_owned(),
            reason: pb::ReversalReason::ReturnedByBank.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let reopened: Vec<(String, String)> = reversal
        .reopened
        .iter()
        .map(|a| {
            (
                a.invoice.as_ref().unwrap().invoice_number.clone(),
                amount(&a.amount),
            )
        })
        .collect();
    assert_eq!(reopened, [("L1-1".to_owned(), "6000.00".to_owned())]);
    assert_eq!(amount(&reversal.unapplied_removed), "0.00");
    let (command_id, customer_id) = request_base("L2");
    let application = write
        .apply_unapplied_cash(pb::ApplyUnappliedCashRequest {
            command_id,
            customer_id,
            subsidiary_id: "SUB-BJ".to_owned(),
            source: pb::UnappliedSource::Cash.into(),
            amount: cny("3000"),
            application_date: "2026-04-10".to_owned(),
            allocations: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        application.allocation_rule(),
        pb::AllocationRule::OldestDueFirst
    );
    assert_eq!(amount(&application.applied), "3000.00");
    let (command_id, customer_id) = request_base("L2");
    write
        .issue_refund(pb::IssueRefundRequest {
            command_id,
            customer_id,
            subsidiary_id: "SUB-BJ".to_owned(),
            source: pb::UnappliedSource::Credit.into(),
            amount: cny("200"),
            refund_date: "2026-04-20".to_owned(),
            method: pb::PaymentMethod::BankTransfer.into(),
            reference: "REFUND-L2-1".to_owned(),
        })
        .await
        .unwrap();
    let (command_id, customer_id) = request_base("L2");
    let dispute = write
        .open_dispute(pb::OpenDisputeRequest {
            command_id,
            customer_id,
            invoice: invoice_ref("SUB-BJ", "L2-1"),
            amount: cny("2000"),
            reason: pb::DisputeReason::Price.into(),
            note: String::new(),
            opened_on: "2026-05-01".to_owned(),
            expires_on: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    receipt_position(&dispute.receipt)
}

/// Steps 14 and 15, and the cancellation of L3's plan; the position of the last event.
async fn after_moment_b(write: &mut Write) -> u64 {
    let (command_id, customer_id) = request_base("L3");
    write
        .cancel_instalment_plan(pb::CancelInstalmentPlanRequest {
            command_id,
            customer_id,
            invoice: invoice_ref("SUB-SH", "L3-1"),
            cancelled_on: "2026-06-05".to_owned(),
            reason: "both instalments missed".to_owned(),
        })
        .await
        .unwrap();
    let (command_id, customer_id) = request_base("L1");
    write
        .write_off_invoice(pb::WriteOffInvoiceRequest {
            command_id,
            customer_id,
            invoice: invoice_ref("SUB-SH", "L1-1"),
            amount: cny("2000"),
            write_off_date: "2026-05-20".to_owned(),
            reason: "customer in liquidation".to_owned(),
            approved_by: "Zhang Wei".to_owned(),
        })
        .await
        .unwrap();
    let (command_id, customer_id) = request_base("L2");
    let resolution = write
        .resolve_dispute(pb::ResolveDisputeRequest {
            command_id,
            customer_id,
            invoice: invoice_ref("SUB-BJ", "L2-1"),
            resolved_on: "2026-06-10".to_owned(),
            outcome: pb::DisputeOutcome::Withdrawn.into(),
            credit_note_number: String::new(),
            note: "price confirmed by the contract".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    receipt_position(&resolution.receipt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    a_life_cycle_history_reports_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    a_life_cycle_history_reports_as_worked_out_by_hand(Backends::Servers).await;
}

async fn a_life_cycle_history_reports_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut read = service.queries().await;
    let mut audit = AuditServiceClient::connect(service.url()).await.unwrap();

    let at_a = before_moment_a(&mut write).await;
    let saved_a = Saved::live(&mut read, at_a).await;
    let moment_a = moment().await;
    let at_b = before_moment_b(&mut write).await;
    let saved_b = Saved::live(&mut read, at_b).await;
    let moment_b = moment().await;
    let last = after_moment_b(&mut write).await;

    // 1. Aging as of 03-31, 04-30 and 06-30 (every event known).
    // 03-31: L1-1 owes 10,000 - 6,000 = 4,000, 50 days (31-60); L1-2 owes 4,000 - 1,000 =
    //        3,000, 28 days (1-30), all of it disputed; L2-1 owes 5,000, 14 days (1-30); L2's
    //        unapplied: 3,000 cash + 500 credit.
    // 04-30: L1-1 owes 10,000 again (reversal 04-05), 80 days (61-90); L1-2 3,000, 58 days
    //        (31-60), still disputed (its last day); L2-1 owes 5,000 - 3,000 = 2,000, 44 days
    //        (31-60); L2's unapplied: 500 - 200 credit.
    // 06-30: L1-1 owes 10,000 - 2,000 = 8,000, 141 days (over 120); L1-2 3,000, 119 days
    //        (91-120), the dispute expired; L2-1 2,000, 105 days (91-120), the dispute withdrawn
    //        on 06-10; L2's unapplied credit 300.
    // L3 (USD), by due date: on 03-31 and 04-30 L3-1 (7,000, due 05-01) and L3-2 (1,200, due
    // 05-31) are current; on 06-30 L3-1 is 60 days (31-60), L3-2 30 days (1-30).
    let z = "0.00";
    let l3_current = aging_line("L3", ["8200.00", z, z, z, z, z], "8200.00", z, z);
    for (as_of, expected) in [
        (
            "2026-03-31",
            vec![
                aging_line(
                    "L1",
                    [z, "3000.00", "4000.00", z, z, z],
                    "7000.00",
                    z,
                    "3000.00",
                ),
                aging_line("L2", [z, "5000.00", z, z, z, z], "5000.00", "3500.00", z),
                l3_current.clone(),
            ],
        ),
        (
            "2026-04-30",
            vec![
                aging_line(
                    "L1",
                    [z, z, "3000.00", "10000.00", z, z],
                    "13000.00",
                    z,
                    "3000.00",
                ),
                aging_line("L2", [z, z, "2000.00", z, z, z], "2000.00", "300.00", z),
                l3_current.clone(),
            ],
        ),
        (
            "2026-06-30",
            vec![
                aging_line("L1", [z, z, z, z, "3000.00", "8000.00"], "11000.00", z, z),
                aging_line("L2", [z, z, z, z, "2000.00", z], "2000.00", "300.00", z),
                aging_line("L3", [z, "1200.00", "7000.00", z, z, z], "8200.00", z, z),
            ],
        ),
    ] {
        let report = read
            .get_aging_report(aging_request(as_of, last))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(aging_lines(&report), expected, "aging as of {as_of}");
    }

    // 2. Exposure as of 06-30 (no limits): L1 owes 11,000 and has nothing on account; its only
    //    payment bounced, so it has no last payment. L2 owes 2,000 less 300 of unapplied
    //    credit: 1,700; its last payment is P2 of 03-05. Overdue: everything; the oldest
    //    invoices are 141 (L1-1) and 105 (L2-1) days past due. L3 owes USD 8,200.00, all
    //    overdue by its rows (the plan was cancelled on 06-05); its oldest open row is L3-2's
    //    of 03-31, 91 days; its last payment P3 of 02-06.
    let exposures = read
        .list_exposures(exposures_request("2026-06-30", last))
        .await
        .unwrap()
        .into_inner();
    let mut lines: Vec<_> = exposures
        .lines
        .iter()
        .map(|l| {
            (
                l.customer_id.clone(),
                amount(&l.open),
                amount(&l.unapplied),
                amount(&l.exposure),
                amount(&l.overdue),
                l.oldest_days_past_due,
                l.last_payment_date.clone(),
            )
        })
        .collect();
    lines.sort();
    let line = |c: &str, open: &str, unapplied: &str, exposure: &str, days: u32, last: &str| {
        (
            c.to_owned(),
            open.to_owned(),
            unapplied.to_owned(),
            exposure.to_owned(),
            open.to_owned(),
            Some(days),
            last.to_owned(),
        )
    };
    assert_eq!(
        lines,
        vec![
            line("L1", "11000.00", z, "11000.00", 141, ""),
            line("L2", "2000.00", "300.00", "1700.00", 105, "2026-03-05"),
            line("L3", "8200.00", z, "8200.00", 91, "2026-02-06"),
        ],
        "exposures as of 2026-06-30"
    );

    // 3. The work queue (weights 0.001 per unit overdue, 1 per day, 25 per failed promise).
    // 04-15: L1-2 is disputed, so only L1-1 (10,000, 65 days) is chased; the promise kept by
    //        P1 is broken now that P1 bounced: 10 + 65 + 25 = 100, stop supply. L2-1 owes
    //        2,000, 29 days: 2 + 29 = 31, call.
    // 05-15: L1-2's dispute expired on 04-30: 13,000 overdue, 95 days: 13 + 95 + 25 = 133,
    //        legal. L2-1 is wholly disputed since 05-01: L2 is not chased.
    // 06-15: L1-1 owes 8,000 since the write-off: 11,000, 126 days: 11 + 126 + 25 = 162. L2's
    //        dispute was withdrawn on 06-10: 2,000, 90 days: 2 + 90 = 92, stop supply.
    // L3, by the rows in force: on 04-15 the plan holds (its rows 04-30 and 05-31 not due),
    //    so only L3-2's 03-31 row (400, 15 days) is chased: 0.4 + 15 = 15.4, reminder. On
    //    05-15 the plan's 04-30 row (3,500) and L3-2's 03-31 and 04-30 rows (800): 4,300, 45
    //    days: 4.3 + 45 = 49.3, demand letter. On 06-15 the plan is cancelled: L3-1's 04-01
    //    and 05-01 rows (7,000) and all of L3-2 (1,200): 8,200, 76 days: 8.2 + 76 = 84.2.
    use pb::EscalationLevel::{Call, DemandLetter, LegalOrAgency, Reminder, StopSupply};
    for (as_of, expected) in [
        (
            "2026-04-15",
            vec![
                item("L1", "10000.00", "2026-02-09", 65, 1, StopSupply, "100"),
                item("L2", "2000.00", "2026-03-17", 29, 0, Call, "31"),
                item("L3", "400.00", "2026-03-31", 15, 0, Reminder, "15.4"),
            ],
        ),
        (
            "2026-05-15",
            vec![
                item("L1", "13000.00", "2026-02-09", 95, 1, LegalOrAgency, "133"),
                item("L3", "4300.00", "2026-03-31", 45, 0, DemandLetter, "49.3"),
            ],
        ),
        (
            "2026-06-15",
            vec![
                item("L1", "11000.00", "2026-02-09", 126, 1, LegalOrAgency, "162"),
                item("L2", "2000.00", "2026-03-17", 90, 0, StopSupply, "92"),
                item("L3", "8200.00", "2026-03-31", 76, 0, StopSupply, "84.2"),
            ],
        ),
    ] {
        let queue = read
            .get_work_queue(queue_request(as_of, last))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(items(&queue), expected, "work queue as of {as_of}");
    }

    // 4. The promise: made 02-20 for 6,000 by 03-05, window to 03-08. As of 03-10, P1 (03-01)
    //    kept it: the reversal of 04-05 had not happened yet on that date. As of 04-10 P1 has
    //    bounced: nothing was paid in the window, which has closed: broken.
    for (as_of, status, paid) in [
        ("2026-03-10", pb::PromiseStatus::Kept, "6000.00"),
        ("2026-04-10", pb::PromiseStatus::Broken, "0.00"),
    ] {
        let promises = read
            .list_promises(pb::ListPromisesRequest {
                customer_id: "L1".to_owned(),
                as_of: as_of.to_owned(),
                min_position: last,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .promises;
        let seen: Vec<_> = promises
            .iter()
            .map(|p| (p.status(), amount(&p.paid)))
            .collect();
        assert_eq!(
            seen,
            [(status, paid.to_owned())],
            "L1's promise as of {as_of}"
        );
    }

    // 5. Reports as known at moments A (before the reversal, the application, the refund and
    //    the second dispute) and B (before the write-off and the withdrawal) are the live
    //    reports saved at those moments. Those differed from what is known now, so the check
    //    can fail.
    // Saved at A, as of 04-15: L1-1 owes 4,000 (the reversal was not known), 65 days (61-90);
    // L1-2 3,000, 43 days (31-60), disputed; L2-1 5,000, 29 days (1-30); L2 3,500 unapplied;
    // L3 by due date current, as now.
    assert_eq!(
        saved_a.aging_april,
        vec![
            aging_line(
                "L1",
                [z, z, "3000.00", "4000.00", z, z],
                "7000.00",
                z,
                "3000.00",
            ),
            aging_line("L2", [z, "5000.00", z, z, z, z], "5000.00", "3500.00", z),
            l3_current.clone(),
        ]
    );
    // Saved at B, the work queue as of 06-15: the write-off and the withdrawal were not known,
    // so L1 owes 13,000 (126 days: 13 + 126 + 25 = 164) and L2's dispute still holds. L3's
    // plan still held: its two rows (7,000) and L3-2 (1,200) are overdue on 06-15 all the same.
    assert_eq!(
        saved_b.queue_june,
        vec![
            item("L1", "13000.00", "2026-02-09", 126, 1, LegalOrAgency, "164"),
            item("L3", "8200.00", "2026-03-31", 76, 0, StopSupply, "84.2"),
        ]
    );
    let now = Saved::live(&mut read, last).await;
    assert_ne!(saved_a, now);
    assert_ne!(saved_b, now);
    assert_ne!(saved_a, saved_b);
    assert_eq!(Saved::as_known(&mut audit, moment_a).await, saved_a);
    assert_eq!(Saved::as_known(&mut audit, moment_b).await, saved_b);

    // 6. The account view lists what happened: the credit notes, the reversed payment, the
    //    write-off and the disputes.
    let account = write
        .get_account(pb::GetAccountRequest {
            customer_id: "L1".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let reversed: Vec<_> = account
        .payments
        .iter()
        .map(|p| (p.payment_command_id.clone(), p.reversed_on.clone()))
        .collect();
    assert_eq!(reversed, [(P1.to_owned(), "2026-04-05".to_owned())]);
    let notes: Vec<_> = account
        .credit_notes
        .iter()
        .map(|n| (n.credit_note_number.clone(), amount(&n.amount)))
        .collect();
    assert_eq!(notes, [("CN-1".to_owned(), "1000.00".to_owned())]);
    let written_off: Vec<_> = account
        .written_off_invoices
        .iter()
        .map(|i| {
            (
                i.invoice.as_ref().unwrap().invoice_number.clone(),
                amount(&i.written_off),
                amount(&i.open_amount),
            )
        })
        .collect();
    assert_eq!(
        written_off,
        [(
            "L1-1".to_owned(),
            "2000.00".to_owned(),
            "8000.00".to_owned()
        )]
    );
    let l1_2 = account
        .open_invoices
        .iter()
        .find(|i| i.invoice.as_ref().unwrap().invoice_number == "L1-2")
        .unwrap();
    assert_eq!(amount(&l1_2.credited), "1000.00");
    let disputes: Vec<_> = l1_2
        .disputes
        .iter()
        .map(|d| {
            (
                amount(&d.amount),
                d.expires_on.clone(),
                d.resolved_on.clone(),
            )
        })
        .collect();
    assert_eq!(
        disputes,
        [("3000.00".to_owned(), "2026-04-30".to_owned(), String::new())]
    );

    // 7. Statements of account (对账单), worked out from the history above.
    statements_as_worked_out_by_hand(&mut read, last).await;
    l3_by_payment_terms(&mut read, &mut audit, moment_a, last).await;

    // 8. The customers confirm their balances: L1 the 13,000.00 of its April statement (it
    //    agrees), L2 2,000.00 as of 06-30 where the account holds 1,700.00 (it forgot its
    //    300.00 of credit on account: 2,000.00 - 1,700.00 = 300.00 to investigate).
    let mut confirmed = Vec::new();
    let mut newest = last;
    for (customer, as_of, owed) in [("L1", "2026-04-30", "13000"), ("L2", "2026-06-30", "2000")] {
        let reply = write
            .confirm_balance(pb::ConfirmBalanceRequest {
                command_id: command_id(),
                customer_id: customer.to_owned(),
                as_of: as_of.to_owned(),
                confirmed: cny(owed),
                confirmed_by: "Li Na".to_owned(),
                note: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        newest = receipt_position(&reply.receipt);
        confirmed.push((amount(&reply.balance), amount(&reply.difference)));
    }
    assert_eq!(
        confirmed,
        [
            ("13000.00".to_owned(), "0.00".to_owned()),
            ("1700.00".to_owned(), "300.00".to_owned())
        ]
    );
    let listed = |page: pb::ListBalanceConfirmationsResponse| -> Vec<(String, String, String)> {
        page.confirmations
            .iter()
            .map(|c| {
                (
                    c.customer_id.clone(),
                    c.as_of.clone(),
                    amount(&c.difference),
                )
            })
            .collect()
    };
    let all = confirmations(&mut read, newest, false, 0, String::new()).await;
    assert_eq!(
        listed(all),
        [
            (
                "L2".to_owned(),
                "2026-06-30".to_owned(),
                "300.00".to_owned()
            ),
            ("L1".to_owned(), "2026-04-30".to_owned(), "0.00".to_owned()),
        ]
    );
    let differences = confirmations(&mut read, newest, true, 0, String::new()).await;
    assert_eq!(
        listed(differences),
        [(
            "L2".to_owned(),
            "2026-06-30".to_owned(),
            "300.00".to_owned()
        )]
    );
    // One a page: the second page holds the older one.
    let first = confirmations(&mut read, newest, false, 1, String::new()).await;
    let token = first.next_page_token.clone();
    assert!(!token.is_empty());
    let second = confirmations(&mut read, newest, false, 1, token).await;
    assert_eq!(listed(first)[0].0, "L2");
    assert_eq!(listed(second.clone())[0].0, "L1");
    assert!(second.next_page_token.is_empty());

    service.stop().await;
    data.remove().await;
}

/// L3's aging as of 04-15 by payment terms, now and as known at moment A, and its statement.
async fn l3_by_payment_terms(read: &mut Read, audit: &mut Audit, moment_a: SystemTime, last: u64) {
    let request = |min_position: u64| pb::GetAgingReportRequest {
        scope: Some(pb::AgingScope {
            as_of: "2026-04-15".to_owned(),
            customer_id: "L3".to_owned(),
            basis: pb::AgingBasis::PaymentTerms.into(),
            ..Default::default()
        }),
        group_by: pb::AgingGroupBy::Customer.into(),
        min_position,
    };
    let z = "0.00";
    // Now: the plan holds on 04-15, its rows (04-30, 05-31) current; L3-2's 03-31 row 15 days
    // (1-30), its other two current. 7,000 + 800 current, 400 in 1-30.
    let now = read
        .get_aging_report(request(last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        aging_lines(&now),
        [aging_line(
            "L3",
            ["7800.00", "400.00", z, z, z, z],
            "8200.00",
            z,
            z
        )]
    );
    // Known at moment A (no plan yet): L3-1's 04-01 row (5,000) 14 days, its 05-01 row
    // (2,000) current; L3-2 as above. 2,000 + 800 current; 5,000 + 400 in 1-30.
    let then = audit
        .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
            known_at: Some(moment_a.into()),
            report: Some(request(u64::MAX)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        aging_lines(&then),
        [aging_line(
            "L3",
            ["2800.00", "5400.00", z, z, z, z],
            "8200.00",
            z,
            z
        )]
    );
    // The statement of January to June: 10,000 + 1,200 invoiced; P3's 2,940 allocated, then
    // the 60.00 discount on the same day: 8,200.00 owed at the end.
    let statement = read
        .get_statement(pb::GetStatementRequest {
            customer_id: "L3".to_owned(),
            from_date: "2026-01-01".to_owned(),
            to_date: "2026-06-30".to_owned(),
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let part = &statement.currencies[0];
    assert_eq!(part.currency, "USD");
    let rows: Vec<(String, pb::MovementKind, String, String, String)> = part
        .movements
        .iter()
        .map(|m| {
            (
                m.date.clone(),
                m.kind(),
                amount(&m.debit),
                amount(&m.credit),
                amount(&m.balance),
            )
        })
        .collect();
    use pb::MovementKind::{Allocation, Discount, Invoice, Payment};
    let row = |date: &str, kind, debit: &str, credit: &str, balance: &str| {
        (
            date.to_owned(),
            kind,
            debit.to_owned(),
            credit.to_owned(),
            balance.to_owned(),
        )
    };
    assert_eq!(
        rows,
        [
            row("2026-01-31", Invoice, "10000.00", z, "10000.00"),
            row("2026-02-06", Payment, z, z, "10000.00"),
            row("2026-02-06", Allocation, z, "2940.00", "7060.00"),
            row("2026-02-06", Discount, z, "60.00", "7000.00"),
            row("2026-02-10", Invoice, "1200.00", z, "8200.00"),
        ]
    );
    assert_eq!(amount(&part.closing_balance), "8200.00");
}

/// A page of balance confirmations, once the read side has applied `min_position`.
async fn confirmations(
    read: &mut Read,
    min_position: u64,
    only_differences: bool,
    page_size: u32,
    page_token: String,
) -> pb::ListBalanceConfirmationsResponse {
    read.list_balance_confirmations(pb::ListBalanceConfirmationsRequest {
        customer_id: String::new(),
        only_differences,
        page_size,
        page_token,
        min_position,
    })
    .await
    .unwrap()
    .into_inner()
}

fn statement_request(
    customer: &str,
    from: &str,
    to: &str,
    min_position: u64,
) -> pb::GetStatementRequest {
    pb::GetStatementRequest {
        customer_id: customer.to_owned(),
        from_date: from.to_owned(),
        to_date: to.to_owned(),
        min_position,
        ..Default::default()
    }
}

/// One statement row as compared: date, kind, document (ids the test did not choose as "*"),
/// invoice, amount, debit, credit, balance, note.
type Row = (
    String,
    &'static str,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

#[allow(clippy::too_many_arguments, reason = "one row's columns, in order")]
fn row(
    date: &str,
    kind: &'static str,
    document: &str,
    invoice: &str,
    amount: &str,
    debit: &str,
    credit: &str,
    balance: &str,
    note: &str,
) -> Row {
    (
        date.to_owned(),
        kind,
        document.to_owned(),
        invoice.to_owned(),
        amount.to_owned(),
        debit.to_owned(),
        credit.to_owned(),
        balance.to_owned(),
        note.to_owned(),
    )
}

fn rows(part: &pb::CurrencyStatement) -> Vec<Row> {
    part.movements
        .iter()
        .map(|m| {
            let kind = match m.kind() {
                pb::MovementKind::Invoice => "invoice",
                pb::MovementKind::Payment => "payment",
                pb::MovementKind::Allocation => "allocation",
                pb::MovementKind::CreditNote => "credit_note",
                pb::MovementKind::WriteOff => "write_off",
                pb::MovementKind::Application => "application",
                pb::MovementKind::Reversal => "reversal",
                pb::MovementKind::Refund => "refund",
                pb::MovementKind::DisputeOpened => "dispute_opened",
                pb::MovementKind::DisputeResolved => "dispute_resolved",
                pb::MovementKind::Discount => "discount",
                pb::MovementKind::Unspecified => "unspecified",
            };
            // A dispute's id is the random command id that opened it.
            let document = if kind.starts_with("dispute") {
                "*".to_owned()
            } else {
                m.document.clone()
            };
            let invoice = m
                .invoice
                .as_ref()
                .map_or_else(String::new, |i| i.invoice_number.clone());
            row(
                &m.date,
                kind,
                &document,
                &invoice,
                &amount(&m.amount),
                &amount(&m.debit),
                &amount(&m.credit),
                &amount(&m.balance),
                &m.note,
            )
        })
        .collect()
}

/// Opening, debits, credits, closing of a currency's statement.
fn totals(part: &pb::CurrencyStatement) -> [String; 4] {
    [
        amount(&part.opening_balance),
        amount(&part.debits),
        amount(&part.credits),
        amount(&part.closing_balance),
    ]
}

async fn statements_as_worked_out_by_hand(read: &mut Read, last: u64) {
    let z = "0.00";
    // L1, March and April. Opening on 03-01: L1-1 10,000 + L1-2 4,000 = 14,000. P1 (6,000,
    // all of it to L1-1) keeps nothing on account: its row credits nothing and its allocation
    // credits 6,000; CN-1 credits 1,000; the dispute moves nothing; the reversal re-opens
    // L1-1's 6,000 (a debit). Closing: 14,000 + 6,000 - 7,000 = 13,000, the aging's open total
    // as of 04-30 less nothing on account.
    let l1 = read
        .get_statement(statement_request("L1", "2026-03-01", "2026-04-30", last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            l1.customer_id.as_str(),
            l1.from_date.as_str(),
            l1.to_date.as_str()
        ),
        ("L1", "2026-03-01", "2026-04-30")
    );
    assert_eq!(l1.currencies.len(), 1);
    let cny = &l1.currencies[0];
    assert_eq!(cny.currency, "CNY");
    assert_eq!(totals(cny), ["14000.00", "6000.00", "7000.00", "13000.00"]);
    assert_eq!(
        rows(cny),
        vec![
            row(
                "2026-03-01",
                "payment",
                "BANK-REF",
                "",
                "6000.00",
                z,
                z,
                "14000.00",
                ""
            ),
            row(
                "2026-03-01",
                "allocation",
                "BANK-REF",
                "L1-1",
                "6000.00",
                z,
                "6000.00",
                "8000.00",
                ""
            ),
            row(
                "2026-03-10",
                "credit_note",
                "CN-1",
                "L1-2",
                "1000.00",
                z,
                "1000.00",
                "7000.00",
                ""
            ),
            row(
                "2026-03-15",
                "dispute_opened",
                "*",
                "L1-2",
                "3000.00",
                z,
                z,
                "7000.00",
                "quality"
            ),
            row(
                "2026-04-05",
                "reversal",
                P1,
                "L1-1",
                "6000.00",
                "6000.00",
                z,
                "13000.00",
                ""
            ),
        ]
    );
    let aging = cny.aging.as_ref().expect("L1 owes something on 04-30");
    assert_eq!(
        aging_lines(&pb::GetAgingReportResponse {
            lines: vec![aging.clone()],
            ..Default::default()
        }),
        vec![aging_line(
            "L1",
            [z, z, "3000.00", "10000.00", z, z],
            "13000.00",
            z,
            "3000.00",
        )]
    );

    // L1, May: opening 13,000; the write-off of 05-20 credits 2,000 (its reason in the note).
    let may = read
        .get_statement(statement_request("L1", "2026-05-01", "2026-05-31", last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        totals(&may.currencies[0]),
        ["13000.00", z, "2000.00", "11000.00"]
    );
    assert_eq!(
        rows(&may.currencies[0]),
        vec![row(
            "2026-05-20",
            "write_off",
            "L1-1",
            "L1-1",
            "2000.00",
            z,
            "2000.00",
            "11000.00",
            "customer in liquidation"
        )]
    );

    // L1, June: nothing happened (the dispute expired on 04-30 without an event); the balance
    // carries forward.
    let june = read
        .get_statement(statement_request("L1", "2026-06-01", "2026-06-30", last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(totals(&june.currencies[0]), ["11000.00", z, z, "11000.00"]);
    assert!(june.currencies[0].movements.is_empty());

    // L2, March to June. Opening on 03-01: L2-1 5,000. P2 (3,000 on account) credits 3,000;
    // CN-2 on account credits 500; the application of 04-10 uses 3,000 of cash (a debit) and
    // applies it to L2-1 (a credit); the refund of 200 of credit is a debit; the dispute opens
    // and is withdrawn without moving anything. Closing: 5,000 + 3,200 - 6,500 = 1,700: L2-1's
    // 2,000 less 300 of credit on account, the aging as of 06-30.
    let l2 = read
        .get_statement(statement_request("L2", "2026-03-01", "2026-06-30", last))
        .await
        .unwrap()
        .into_inner();
    let cny = &l2.currencies[0];
    assert_eq!(totals(cny), ["5000.00", "3200.00", "6500.00", "1700.00"]);
    assert_eq!(
        rows(cny),
        vec![
            row(
                "2026-03-05",
                "payment",
                "BANK-REF",
                "",
                "3000.00",
                z,
                "3000.00",
                "2000.00",
                ""
            ),
            row(
                "2026-03-20",
                "credit_note",
                "CN-2",
                "",
                "500.00",
                z,
                "500.00",
                "1500.00",
                "credit"
            ),
            row(
                "2026-04-10",
                "application",
                "",
                "",
                "3000.00",
                "3000.00",
                z,
                "4500.00",
                "cash"
            ),
            row(
                "2026-04-10",
                "application",
                "L2-1",
                "L2-1",
                "3000.00",
                z,
                "3000.00",
                "1500.00",
                "cash"
            ),
            row(
                "2026-04-20",
                "refund",
                "REFUND-L2-1",
                "",
                "200.00",
                "200.00",
                z,
                "1700.00",
                "credit"
            ),
            row(
                "2026-05-01",
                "dispute_opened",
                "*",
                "L2-1",
                "2000.00",
                z,
                z,
                "1700.00",
                "price"
            ),
            row(
                "2026-06-10",
                "dispute_resolved",
                "*",
                "L2-1",
                "2000.00",
                z,
                z,
                "1700.00",
                "withdrawn"
            ),
        ]
    );
    let aging = cny.aging.as_ref().expect("L2 owes something on 06-30");
    assert_eq!(amount(&aging.open_total), "2000.00");
    assert_eq!(amount(&aging.unapplied), "300.00");

    // Narrowed to SUB-SH, L2 has nothing; a customer nobody invoiced is not found.
    for (request, message) in [
        (
            pb::GetStatementRequest {
                subsidiary_id: "SUB-SH".to_owned(),
                ..statement_request("L2", "2026-03-01", "2026-06-30", last)
            },
            "customer L2 has no movements of subsidiary SUB-SH on or before 2026-06-30",
        ),
        (
            statement_request("NOBODY", "2026-03-01", "2026-06-30", last),
            "customer NOBODY has no movements on or before 2026-06-30",
        ),
    ] {
        let status = read
            .get_statement(request)
            .await
            .expect_err("nothing to state");
        assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");
        assert_eq!(status.message(), message);
    }
    // A period that ends before it starts is refused, naming its end.
    let status = read
        .get_statement(statement_request("L1", "2026-04-30", "2026-03-01", last))
        .await
        .expect_err("a backwards period");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
}
