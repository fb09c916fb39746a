//! Payment terms end to end: the group's templates, invoices on a template and on an explicit
//! schedule, a payment within the discount window and its discount, an instalment plan agreed
//! and cancelled, and what the aging (by due date and by payment terms), the work queue, the
//! statement and oldest-due-first allocation make of them. Posted to `receivables serve` on
//! both backend pairs (the embedded SQLite log and read model; NATS JetStream and PostgreSQL);
//! every figure worked out by hand.
//!
//! Templates: `30-50-20` (30 % on the issue date, 50 % in 60 days, 20 % in 90; 2 % off within
//! 10 days) and `EOM30` (30 days after the end of the issue month).
//!
//! Customer T1, every invoice from SUB-SH in CNY:
//! - T-1 10,000.00 issued 01-31 on 30-50-20: 01-31 3,000.00; 04-01 (01-31 + 60: 28 days of
//!   February, 31 of March, 1) 5,000.00; 05-01 (04-01 + 30) 2,000.00; due 05-01.
//! - 02-05 a payment of 2,940.00 oldest due first, all to T-1 (the only invoice). Inside the
//!   window (01-31 + 10 = 02-10) it earns 2,940 x 2 / 98 = 60.00: with the discount the first
//!   row's 3,000.00 is settled, dated 02-05. T-1 owes 7,000.00: its rows 0, 5,000.00,
//!   2,000.00 (paid in due order).
//! - T-2 1,000.00 issued 02-10 on EOM30: due 02-28 + 30 = 03-30.
//! - T-3 900.00 issued 03-01 in three rows of 300.00: 03-31, 04-30, 05-31.
//! - 04-10 an instalment plan for T-2 (overdue since 03-31): 500.00 on 04-30, 500.00 on 05-31.
//! - 04-20 a payment of 5,000.00 oldest due first, row by row: T-3's 03-31 row (300.00), then
//!   T-1's 04-01 row (4,700.00 of 5,000.00); T-2, due 03-30 on its own but on its plan's rows
//!   (04-30) now, gets nothing.
//! - 05-06 the plan is cancelled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::refusals::*;
use receivables_tests::*;
use tonic::transport::Channel;

type Read = QueryServiceClient<Channel>;

const CUSTOMER: &str = "T1";
const SUBSIDIARY: &str = "SUB-SH";

fn line(portion: &str, due: pb::terms_line::Due) -> pb::TermsLine {
    pb::TermsLine {
        portion: portion.to_owned(),
        due: Some(due),
    }
}

fn rows(rows: &[(&str, &str)]) -> Vec<pb::ScheduleRow> {
    rows.iter()
        .map(|(due, amount)| pb::ScheduleRow {
            due_date: (*due).to_owned(),
            amount: cny(amount),
        })
        .collect()
}

fn shown(rows: &[pb::ScheduleRow]) -> Vec<String> {
    rows.iter()
        .map(|row| format!("{} {}", row.due_date, amount(&row.amount)))
        .collect()
}

fn amount(money: &Option<pb::Money>) -> String {
    let money = money.as_ref().expect("an amount");
    format!("{} {}", money.amount, money.currency)
}

fn on_terms(number: &str, amount: &str, issued: &str, code: &str) -> pb::IssueInvoiceRequest {
    pb::IssueInvoiceRequest {
        due: Some(pb::issue_invoice_request::Due::PaymentTerms(
            code.to_owned(),
        )),
        ..invoice(CUSTOMER, SUBSIDIARY, number, amount, issued, issued)
    }
}

/// The customer's aging buckets (current, 1-30, 31-60, 61-90, 91-120, over 120) as of `as_of`.
async fn buckets(read: &mut Read, basis: pb::AgingBasis, as_of: &str, at: u64) -> Vec<String> {
    let mut lines = read
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: as_of.to_owned(),
                customer_id: CUSTOMER.to_owned(),
                basis: basis.into(),
                ..Default::default()
            }),
            group_by: pb::AgingGroupBy::Customer.into(),
            min_position: at,
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines
        .remove(0)
        .buckets
        .iter()
        .map(|b| b.amount.as_ref().unwrap().amount.clone())
        .collect()
}

/// The customer's work item as of `as_of`: overdue, oldest due date, days past due.
async fn work_item(read: &mut Read, as_of: &str, at: u64) -> (String, String, u32) {
    let items = read
        .get_work_queue(pb::GetWorkQueueRequest {
            as_of: as_of.to_owned(),
            min_position: at,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    let item = items
        .iter()
        .find(|i| i.customer_id == CUSTOMER)
        .unwrap_or_else(|| panic!("no item for {CUSTOMER}: {items:?}"));
    (
        amount(&item.overdue),
        item.oldest_due_date.clone(),
        item.days_past_due,
    )
}

fn position(receipt: &Option<pb::CommandReceipt>) -> u64 {
    receipt.as_ref().unwrap().position
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    payment_terms_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    payment_terms_as_worked_out_by_hand(Backends::Servers).await;
}

async fn payment_terms_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut read = service.queries().await;
    use pb::terms_line::Due;

    let defined = write
        .define_payment_terms(pb::DefinePaymentTermsRequest {
            command_id: command_id(),
            code: "30-50-20".to_owned(),
            description: "30 % now, 50 % in 60 days, 20 % in 90; 2/10".to_owned(),
            lines: vec![
                line("30", Due::NetDays(0)),
                line("50", Due::NetDays(60)),
                line("20", Due::NetDays(90)),
            ],
            discount: Some(pb::EarlyPaymentDiscount {
                percent: "2".to_owned(),
                within_days: 10,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!defined.replaced);
    write
        .define_payment_terms(pb::DefinePaymentTermsRequest {
            command_id: command_id(),
            code: "EOM30".to_owned(),
            description: "30 days end of month".to_owned(),
            lines: vec![line("100", Due::DaysAfterMonthEnd(30))],
            discount: None,
        })
        .await
        .unwrap();

    // T-1 on 30-50-20: the reply carries the rows and the discount.
    let t1 = write
        .issue_invoice(on_terms("T-1", "10000", "2026-01-31", "30-50-20"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        shown(&t1.schedule),
        [
            "2026-01-31 3000.00 CNY",
            "2026-04-01 5000.00 CNY",
            "2026-05-01 2000.00 CNY"
        ]
    );
    assert_eq!(t1.due_date, "2026-05-01");
    let discount = t1.discount.unwrap();
    assert_eq!((discount.percent.as_str(), discount.within_days), ("2", 10));

    // 02-05: 2,940.00 oldest due first, then its discount.
    let early = payment(CUSTOMER, SUBSIDIARY, "2940", "2026-02-05");
    let payment_id = early.command_id.clone();
    let paid = write.record_payment(early).await.unwrap().into_inner();
    assert_eq!(paid.allocations.len(), 1);
    assert_eq!(amount(&paid.allocations[0].amount), "2940.00 CNY");
    let allowed = write
        .allow_discount(pb::AllowDiscountRequest {
            command_id: command_id(),
            customer_id: CUSTOMER.to_owned(),
            invoice: invoice_ref(SUBSIDIARY, "T-1"),
            payment_id: payment_id.clone(),
            amount: cny("60"),
            note: "paid within 10 days".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(allowed.allowed_on, "2026-02-05");
    assert_eq!(amount(&allowed.most_off), "200.00 CNY");
    // Nothing more for this payment: it earned 60.00 (200.00 in all is the invoice's most).
    let status = write
        .allow_discount(pb::AllowDiscountRequest {
            command_id: command_id(),
            customer_id: CUSTOMER.to_owned(),
            invoice: invoice_ref(SUBSIDIARY, "T-1"),
            payment_id,
            amount: cny("0.01"),
            note: String::new(),
        })
        .await
        .expect_err("above the terms");
    let (_, metadata) =
        precondition_refused(&status, "DISCOUNT_EXCEEDS_TERMS", "invoices/SUB-SH/T-1");
    assert_eq!(metadata["allowed"], "0.00");

    // T-2 on EOM30, T-3 on an explicit schedule.
    let t2 = write
        .issue_invoice(on_terms("T-2", "1000", "2026-02-10", "EOM30"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t2.due_date, "2026-03-30");
    assert_eq!(shown(&t2.schedule), ["2026-03-30 1000.00 CNY"]);
    assert!(t2.discount.is_none());
    let t3 = write
        .issue_invoice(pb::IssueInvoiceRequest {
            due: None,
            schedule: rows(&[
                ("2026-03-31", "300"),
                ("2026-04-30", "300"),
                ("2026-05-31", "300"),
            ]),
            ..invoice(
                CUSTOMER,
                SUBSIDIARY,
                "T-3",
                "900",
                "2026-03-01",
                "2026-03-01",
            )
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t3.due_date, "2026-05-31");
    let last = position(&t3.receipt);

    // 04-15 by due date: T-1 (05-01) and T-3 (05-31) current, T-2 (03-30) 16 days.
    assert_eq!(
        buckets(&mut read, pb::AgingBasis::DueDate, "2026-04-15", last).await,
        ["7900.00", "1000.00", "0.00", "0.00", "0.00", "0.00"]
    );
    // By payment terms: T-1's 04-01 row (5,000.00) 14 days, its 05-01 row (2,000.00) current;
    // T-2 16 days; T-3's 03-31 row 15 days, its other two current.
    // Current 2,000 + 300 + 300; 1-30 5,000 + 1,000 + 300.
    assert_eq!(
        buckets(&mut read, pb::AgingBasis::PaymentTerms, "2026-04-15", last).await,
        ["2600.00", "6300.00", "0.00", "0.00", "0.00", "0.00"]
    );
    // The work queue chases the rows due: 5,000.00 + 1,000.00 + 300.00, the oldest 03-30.
    assert_eq!(
        work_item(&mut read, "2026-04-15", last).await,
        ("6300.00 CNY".to_owned(), "2026-03-30".to_owned(), 16)
    );

    // 04-10: T-2 in two instalments.
    let plan = write
        .agree_instalment_plan(pb::AgreeInstalmentPlanRequest {
            command_id: command_id(),
            customer_id: CUSTOMER.to_owned(),
            invoice: invoice_ref(SUBSIDIARY, "T-2"),
            agreed_on: "2026-04-10".to_owned(),
            rows: rows(&[("2026-04-30", "500"), ("2026-05-31", "500")]),
            collector: "li.wei".to_owned(),
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&plan.open_amount), "1000.00 CNY");
    assert_eq!(amount(&plan.overdue_amount), "1000.00 CNY");
    let last = position(&plan.receipt);
    // T-2 leaves the overdue buckets for its rows not yet due; its own aging keeps it.
    assert_eq!(
        buckets(&mut read, pb::AgingBasis::PaymentTerms, "2026-04-15", last).await,
        ["3600.00", "5300.00", "0.00", "0.00", "0.00", "0.00"]
    );
    assert_eq!(
        buckets(&mut read, pb::AgingBasis::DueDate, "2026-04-15", last).await,
        ["7900.00", "1000.00", "0.00", "0.00", "0.00", "0.00"]
    );
    assert_eq!(
        work_item(&mut read, "2026-04-15", last).await,
        ("5300.00 CNY".to_owned(), "2026-03-31".to_owned(), 15)
    );

    // 04-20: 5,000.00 oldest due first, row by row.
    let paid = write
        .record_payment(payment(CUSTOMER, SUBSIDIARY, "5000", "2026-04-20"))
        .await
        .unwrap()
        .into_inner();
    let allocations: Vec<(String, String)> = paid
        .allocations
        .iter()
        .map(|a| {
            (
                a.invoice.as_ref().unwrap().invoice_number.clone(),
                amount(&a.amount),
            )
        })
        .collect();
    assert_eq!(
        allocations,
        [
            ("T-3".to_owned(), "300.00 CNY".to_owned()),
            ("T-1".to_owned(), "4700.00 CNY".to_owned())
        ]
    );
    let last = position(&paid.receipt);
    // 05-05: the 04-30 instalment was missed. Overdue: T-1's 04-01 row (300.00) and 05-01 row
    // (2,000.00), T-2's 04-30 instalment (500.00), T-3's 04-30 row (300.00); oldest 04-01.
    assert_eq!(
        work_item(&mut read, "2026-05-05", last).await,
        ("3100.00 CNY".to_owned(), "2026-04-01".to_owned(), 34)
    );

    // 05-06: the plan is cancelled; T-2 is due whole on 03-30 again.
    let cancelled = write
        .cancel_instalment_plan(pb::CancelInstalmentPlanRequest {
            command_id: command_id(),
            customer_id: CUSTOMER.to_owned(),
            invoice: invoice_ref(SUBSIDIARY, "T-2"),
            cancelled_on: "2026-05-06".to_owned(),
            reason: "the customer missed the first instalment".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.plan_id, plan.plan_id);
    let last = position(&cancelled.receipt);
    // 300.00 + 2,000.00 + 1,000.00 + 300.00; 05-07 - 03-30 = 38 days.
    assert_eq!(
        work_item(&mut read, "2026-05-07", last).await,
        ("3600.00 CNY".to_owned(), "2026-03-30".to_owned(), 38)
    );
    // The plan still holds on 05-05 as known now: the report of a past date is what it was.
    assert_eq!(
        work_item(&mut read, "2026-05-05", last).await,
        ("3100.00 CNY".to_owned(), "2026-04-01".to_owned(), 34)
    );

    // The statement of January to April: the discount is a credit on the payment's date.
    let statement = read
        .get_statement(pb::GetStatementRequest {
            customer_id: CUSTOMER.to_owned(),
            from_date: "2026-01-01".to_owned(),
            to_date: "2026-04-30".to_owned(),
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let part = &statement.currencies[0];
    let discount = part
        .movements
        .iter()
        .find(|m| m.kind() == pb::MovementKind::Discount)
        .expect("the discount's row");
    assert_eq!(discount.date, "2026-02-05");
    assert_eq!(amount(&discount.credit), "60.00 CNY");
    assert_eq!(
        discount.invoice.as_ref().unwrap().invoice_number.as_str(),
        "T-1"
    );
    // 10,000 + 1,000 + 900 invoiced; 2,940 + 60 + 5,000 off: 3,900.00.
    assert_eq!(amount(&part.closing_balance), "3900.00 CNY");

    // T2: 900.00 issued 03-01 in rows of 300.00 on 03-31, 04-30 and 05-31; 400.00 of it
    // disputed from 04-01. As of 06-15 every row is overdue (900.00); the dispute holds back
    // the earliest: all of the 03-31 row and 100.00 of the 04-30 row. Collectible: 500.00, the
    // oldest row with something collectible due 04-30 (46 days).
    let t2 = pb::IssueInvoiceRequest {
        due: None,
        schedule: rows(&[
            ("2026-03-31", "300"),
            ("2026-04-30", "300"),
            ("2026-05-31", "300"),
        ]),
        ..invoice("T2", SUBSIDIARY, "X-1", "900", "2026-03-01", "2026-03-01")
    };
    write.issue_invoice(t2).await.unwrap();
    let dispute = write
        .open_dispute(pb::OpenDisputeRequest {
            command_id: command_id(),
            customer_id: "T2".to_owned(),
            invoice: invoice_ref(SUBSIDIARY, "X-1"),
            amount: cny("400"),
            reason: pb::DisputeReason::Quality.into(),
            note: String::new(),
            opened_on: "2026-04-01".to_owned(),
            expires_on: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let items = read
        .get_work_queue(pb::GetWorkQueueRequest {
            as_of: "2026-06-15".to_owned(),
            min_position: position(&dispute.receipt),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .items;
    let item = items.iter().find(|i| i.customer_id == "T2").unwrap();
    assert_eq!(
        (
            amount(&item.overdue),
            item.oldest_due_date.as_str(),
            item.days_past_due
        ),
        ("500.00 CNY".to_owned(), "2026-04-30", 46)
    );

    service.stop().await;
    data.remove().await;
}
