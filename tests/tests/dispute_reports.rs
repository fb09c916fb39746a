//! Disputes in the read models, on both deployments (the split command and query services on
//! NATS and PostgreSQL, and `receivables serve` on the embedded backends): a small history
//! posted over gRPC, and the aging report and the work queue read back through the
//! `QueryService` as of dates before, during and after each dispute, every figure worked out by
//! hand below.
//!
//! A disputed amount is still owed: the aging keeps it in its bucket and shows it again in the
//! `disputed` column while the dispute holds (from its opening day to its last day, or until the
//! day it is resolved, never more than the invoice owes). Collectors do not chase it: the work
//! queue leaves it out of `overdue`, and counts days past due from the oldest overdue invoice
//! with something collectible.
//!
//! Day numbers (day of the year, 2026 is not a leap year): 02-04 = 35, 02-09 = 40,
//! 02-14 = 45, 02-19 = 50, 02-20 = 51, 02-28 = 59, 03-01 = 60, 03-03 = 62, 03-05 = 64,
//! 03-15 = 74, 03-20 = 79, 03-31 = 90, 04-01 = 91, 04-09 = 99, 04-10 = 100, 04-15 = 105,
//! 05-09 = 129, 05-10 = 130.
//! Aging buckets (default edges): current (<= 0 days past due), 1-30, 31-60, 61-90, 91-120,
//! over 120. Work queue (default weights): score = 0.001 x overdue + 1 x days past due +
//! 25 x failed promises (none here); Reminder 1-15 days, Call 16-30, DemandLetter 31-60,
//! StopSupply 61-90, LegalOrAgency over 90.
//!
//! The history, all at SUB-SH, in CNY (invoice: issue date / due date, amount):
//! - C-FULL: FD-1 01-05/02-04 2000. Dispute DF of all 2000 (quality) opened 03-01, last day
//!   03-31 (collectible again from 04-01). Payment 03-15 of 500 to FD-1: it owes 1500 from
//!   then on, all of it disputed until 03-31 (the disputed part never exceeds what is owed).
//! - C-PART: PD-1 01-10/02-09 1000; PD-2 02-01/03-03 3000. Dispute DP of all of PD-1 (not
//!   delivered) opened 03-05, no expiry, withdrawn 04-10 (collectible again from 04-10).
//! - C-HALF: HD-1 01-15/02-14 5000. Dispute DH of 2000 (price) opened 02-20, no expiry.
//!   Payment 04-15 of 2500 to HD-1 (2500 owed). Credit note CN-H1 of 2000 against HD-1 on
//!   05-10 (500 owed), and DH upheld naming it on 05-10.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_tests::*;
use tonic::transport::Channel;

const SUB: &str = "SUB-SH";

type Read = pb::query_service_client::QueryServiceClient<Channel>;
type Write = pb::command_service_client::CommandServiceClient<Channel>;

/// The services the history is posted to and read from.
enum Deployment {
    /// The production split: the command service and the query service as services of their
    /// own, on NATS and PostgreSQL.
    Split {
        _nats: NatsServer,
        database: TestDatabase,
        commands: TestService,
        queries: TestQueryService,
    },
    /// `receivables serve` on the embedded backends.
    Embedded {
        data: TestData,
        service: TestAllInOne,
    },
}

impl Deployment {
    async fn start(embedded: bool) -> Option<Deployment> {
        if embedded {
            let data = TestData::create(Backends::Embedded).await?;
            let service = TestAllInOne::start(&data).await;
            return Some(Deployment::Embedded { data, service });
        }
        let nats = NatsServer::start_default().await?;
        let database = TestDatabase::create().await?;
        let commands = TestService::start(&nats.url()).await;
        let queries = TestQueryService::start(&nats.url(), &database).await;
        Some(Deployment::Split {
            _nats: nats,
            database,
            commands,
            queries,
        })
    }

    async fn commands(&self) -> Write {
        match self {
            Deployment::Split { commands, .. } => commands.client().await,
            Deployment::Embedded { service, .. } => service.commands().await,
        }
    }

    async fn queries(&self) -> Read {
        match self {
            Deployment::Split { queries, .. } => queries.client().await,
            Deployment::Embedded { service, .. } => service.queries().await,
        }
    }

    async fn stop(self) {
        match self {
            Deployment::Split {
                database,
                commands,
                queries,
                ..
            } => {
                queries.stop().await;
                commands.stop().await;
                database.drop_database().await;
            }
            Deployment::Embedded { data, service } => {
                service.stop().await;
                data.remove().await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The history.

fn dispute(
    customer: &str,
    number: &str,
    amount: &str,
    reason: pb::DisputeReason,
    opened_on: &str,
    expires_on: &str,
) -> pb::OpenDisputeRequest {
    pb::OpenDisputeRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        invoice: invoice_ref(SUB, number),
        amount: cny(amount),
        reason: reason.into(),
        note: String::new(),
        opened_on: opened_on.to_owned(),
        expires_on: expires_on.to_owned(),
    }
}

fn resolution(
    customer: &str,
    number: &str,
    resolved_on: &str,
    outcome: pb::DisputeOutcome,
    credit_note: &str,
) -> pb::ResolveDisputeRequest {
    pb::ResolveDisputeRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        invoice: invoice_ref(SUB, number),
        resolved_on: resolved_on.to_owned(),
        outcome: outcome.into(),
        credit_note_number: credit_note.to_owned(),
        note: String::new(),
    }
}

/// A payment of `customer` received by `SUB`, all of it to invoice `number`.
fn paid_to(customer: &str, number: &str, amount: &str, received: &str) -> pb::RecordPaymentRequest {
    pb::RecordPaymentRequest {
        allocations: vec![allocation(SUB, number, amount)],
        ..payment(customer, SUB, amount, received)
    }
}

/// One command of the history.
enum Step {
    Invoice(pb::IssueInvoiceRequest),
    Payment(pb::RecordPaymentRequest),
    CreditNote(pb::IssueCreditNoteRequest),
    Dispute(pb::OpenDisputeRequest),
    Resolution(pb::ResolveDisputeRequest),
}

/// Posts the history of the module's comment, in business-date order; every command must be
/// accepted. Returns the position of the last event.
async fn post_history(write: &mut Write) -> u64 {
    use Step::{CreditNote, Dispute, Invoice, Payment, Resolution};
    use pb::DisputeOutcome::{Upheld, Withdrawn};
    use pb::DisputeReason::{NotDelivered, Price, Quality};
    let script = vec![
        Invoice(invoice(
            "C-FULL",
            SUB,
            "FD-1",
            "2000",
            "2026-01-05",
            "2026-02-04",
        )),
        Invoice(invoice(
            "C-PART",
            SUB,
            "PD-1",
            "1000",
            "2026-01-10",
            "2026-02-09",
        )),
        Invoice(invoice(
            "C-HALF",
            SUB,
            "HD-1",
            "5000",
            "2026-01-15",
            "2026-02-14",
        )),
        Invoice(invoice(
            "C-PART",
            SUB,
            "PD-2",
            "3000",
            "2026-02-01",
            "2026-03-03",
        )),
        Dispute(dispute("C-HALF", "HD-1", "2000", Price, "2026-02-20", "")),
        Dispute(dispute(
            "C-FULL",
            "FD-1",
            "2000",
            Quality,
            "2026-03-01",
            "2026-03-31",
        )),
        Dispute(dispute(
            "C-PART",
            "PD-1",
            "1000",
            NotDelivered,
            "2026-03-05",
            "",
        )),
        Payment(paid_to("C-FULL", "FD-1", "500", "2026-03-15")),
        Resolution(resolution("C-PART", "PD-1", "2026-04-10", Withdrawn, "")),
        Payment(paid_to("C-HALF", "HD-1", "2500", "2026-04-15")),
        CreditNote(pb::IssueCreditNoteRequest {
            command_id: command_id(),
            customer_id: "C-HALF".to_owned(),
            subsidiary_id: SUB.to_owned(),
            credit_note_number: "CN-H1".to_owned(),
            amount: cny("2000"),
            issue_date: "2026-05-10".to_owned(),
            reason: "price corrected".to_owned(),
            invoice: invoice_ref(SUB, "HD-1"),
        }),
        Resolution(resolution("C-HALF", "HD-1", "2026-05-10", Upheld, "CN-H1")),
    ];
    let mut last = 0;
    for step in script {
        let receipt = match step {
            Invoice(request) => write
                .issue_invoice(request)
                .await
                .map(|r| r.into_inner().receipt),
            Payment(request) => write
                .record_payment(request)
                .await
                .map(|r| r.into_inner().receipt),
            CreditNote(request) => write
                .issue_credit_note(request)
                .await
                .map(|r| r.into_inner().receipt),
            Dispute(request) => write
                .open_dispute(request)
                .await
                .map(|r| r.into_inner().receipt),
            Resolution(request) => write
                .resolve_dispute(request)
                .await
                .map(|r| r.into_inner().receipt),
        };
        let receipt = receipt
            .unwrap_or_else(|status| panic!("a command of the history was refused: {status:?}"));
        last = receipt.expect("a receipt").position;
    }
    last
}

// ---------------------------------------------------------------------------------------------
// The reports.

/// One aging line: group, the six buckets, open total, disputed (all whole yuan).
type Line = (String, Vec<String>, String, String);

async fn aging(
    read: &mut Read,
    as_of: &str,
    group_by: pb::AgingGroupBy,
    position: u64,
) -> Vec<Line> {
    let report = read
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: as_of.to_owned(),
                ..Default::default()
            }),
            group_by: group_by.into(),
            min_position: position,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.as_of, as_of);
    assert!(report.position >= position);
    report
        .lines
        .iter()
        .map(|line| {
            assert_eq!(line.currency, "CNY");
            let labels: Vec<&str> = line.buckets.iter().map(|b| b.label.as_str()).collect();
            assert_eq!(
                labels,
                vec!["current", "1-30", "31-60", "61-90", "91-120", "over 120"]
            );
            // Nothing is unapplied: every payment went to an invoice, the credit note too.
            assert_eq!(amount(line.unapplied.as_ref()), "0.00", "{as_of} {line:?}");
            (
                line.group.clone(),
                line.buckets
                    .iter()
                    .map(|b| amount(b.amount.as_ref()))
                    .collect(),
                amount(line.open_total.as_ref()),
                amount(line.disputed.as_ref()),
            )
        })
        .collect()
}

fn amount(money: Option<&pb::Money>) -> String {
    let money = money.expect("an amount");
    assert_eq!(money.currency, "CNY", "{money:?}");
    money.amount.clone()
}

/// An expected aging line, in whole yuan.
fn line(group: &str, buckets: [u32; 6], disputed: u32) -> Line {
    (
        group.to_owned(),
        buckets.iter().map(|b| format!("{b}.00")).collect(),
        format!("{}.00", buckets.iter().sum::<u32>()),
        format!("{disputed}.00"),
    )
}

/// One work item: customer, overdue, oldest due date, days past due, escalation, score.
type Item = (String, String, String, u32, pb::EscalationLevel, String);

async fn work_queue(read: &mut Read, as_of: &str, position: u64) -> Vec<Item> {
    let response = read
        .get_work_queue(pb::GetWorkQueueRequest {
            as_of: as_of.to_owned(),
            min_position: position,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(response.next_page_token.is_empty());
    assert!(response.position >= position);
    response
        .items
        .iter()
        .map(|i| {
            assert_eq!(i.currency, "CNY");
            assert_eq!(i.broken_promises, 0);
            assert_eq!(i.snoozed_until, "");
            (
                i.customer_id.clone(),
                amount(i.overdue.as_ref()),
                i.oldest_due_date.clone(),
                i.days_past_due,
                i.escalation(),
                i.score.clone(),
            )
        })
        .collect()
}

fn item(
    customer: &str,
    overdue: &str,
    oldest_due: &str,
    days: u32,
    level: pb::EscalationLevel,
    score: &str,
) -> Item {
    (
        customer.to_owned(),
        overdue.to_owned(),
        oldest_due.to_owned(),
        days,
        level,
        score.to_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    disputes_show_in_aging_and_pause_the_work_queue(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    disputes_show_in_aging_and_pause_the_work_queue(true).await;
}

async fn disputes_show_in_aging_and_pause_the_work_queue(embedded: bool) {
    init_logging();
    let Some(deployment) = Deployment::start(embedded).await else {
        return;
    };
    let mut write = deployment.commands().await;
    let last = post_history(&mut write).await;
    let mut read = deployment.queries().await;
    use pb::AgingGroupBy::Customer;
    use pb::EscalationLevel::{Call, DemandLetter, LegalOrAgency, Reminder, StopSupply};

    // Lines come ordered by customer id: C-FULL, C-HALF, C-PART. Buckets: current, 1-30,
    // 31-60, 61-90, 91-120, over 120. Each case: the aging, then the work queue.

    // 02-19 (day 50): no dispute holds yet.
    // FD-1 2000, 50 - 35 = 15 days -> 1-30. HD-1 5000, 50 - 45 = 5 -> 1-30. PD-1 1000,
    // 50 - 40 = 10 -> 1-30; PD-2 3000, 50 - 62 = -12 -> current.
    // Queue: C-FULL 2000 overdue, 15 days, Reminder, 2 + 15 = 17; C-PART 1000 (PD-2 not due),
    // 10 days, 1 + 10 = 11; C-HALF 5000, 5 days, 5 + 5 = 10.
    assert_eq!(
        aging(&mut read, "2026-02-19", Customer, last).await,
        vec![
            line("C-FULL", [0, 2000, 0, 0, 0, 0], 0),
            line("C-HALF", [0, 5000, 0, 0, 0, 0], 0),
            line("C-PART", [3000, 1000, 0, 0, 0, 0], 0),
        ],
        "aging as of 2026-02-19"
    );
    assert_eq!(
        work_queue(&mut read, "2026-02-19", last).await,
        vec![
            item("C-FULL", "2000.00", "2026-02-04", 15, Reminder, "17"),
            item("C-PART", "1000.00", "2026-02-09", 10, Reminder, "11"),
            item("C-HALF", "5000.00", "2026-02-14", 5, Reminder, "10"),
        ],
        "work queue as of 2026-02-19"
    );

    // 02-28 (day 59): DH holds (since 02-20); DF opens tomorrow.
    // FD-1 24 days -> 1-30, disputed 0. HD-1 14 days -> 1-30, disputed min(5000, 2000) = 2000.
    // PD-1 19 days -> 1-30; PD-2 -3 -> current.
    // Queue: C-FULL 2000, 24 days, Call, 2 + 24 = 26; C-PART 1000, 19 days, Call, 1 + 19 = 20;
    // C-HALF 5000 - 2000 = 3000, 14 days (HD-1 still has 3000 collectible), Reminder,
    // 3 + 14 = 17.
    assert_eq!(
        aging(&mut read, "2026-02-28", Customer, last).await,
        vec![
            line("C-FULL", [0, 2000, 0, 0, 0, 0], 0),
            line("C-HALF", [0, 5000, 0, 0, 0, 0], 2000),
            line("C-PART", [3000, 1000, 0, 0, 0, 0], 0),
        ],
        "aging as of 2026-02-28"
    );
    assert_eq!(
        work_queue(&mut read, "2026-02-28", last).await,
        vec![
            item("C-FULL", "2000.00", "2026-02-04", 24, Call, "26"),
            item("C-PART", "1000.00", "2026-02-09", 19, Call, "20"),
            item("C-HALF", "3000.00", "2026-02-14", 14, Reminder, "17"),
        ],
        "work queue as of 2026-02-28"
    );

    // 03-05 (day 64): all three hold (DP from today).
    // FD-1 2000, 29 days -> 1-30, disputed 2000. HD-1 5000, 19 -> 1-30, disputed 2000. PD-1
    // 24 -> 1-30, PD-2 2 -> 1-30: 4000 in 1-30, disputed 1000.
    // Queue: C-FULL has nothing collectible (2000 - 2000): absent. C-HALF 3000, 19 days, Call,
    // 3 + 19 = 22. C-PART 4000 - 1000 = 3000; PD-1 is all disputed, so its days count from
    // PD-2 due 03-03: 2 days, Reminder, 3 + 2 = 5.
    assert_eq!(
        aging(&mut read, "2026-03-05", Customer, last).await,
        vec![
            line("C-FULL", [0, 2000, 0, 0, 0, 0], 2000),
            line("C-HALF", [0, 5000, 0, 0, 0, 0], 2000),
            line("C-PART", [0, 4000, 0, 0, 0, 0], 1000),
        ],
        "aging as of 2026-03-05"
    );
    assert_eq!(
        work_queue(&mut read, "2026-03-05", last).await,
        vec![
            item("C-HALF", "3000.00", "2026-02-14", 19, Call, "22"),
            item("C-PART", "3000.00", "2026-03-03", 2, Reminder, "5"),
        ],
        "work queue as of 2026-03-05"
    );

    // 03-20 (day 79): C-FULL paid 500 on 03-15; FD-1 owes 1500, 44 days -> 31-60, all of it
    // disputed: min(1500, 2000) = 1500. HD-1 34 -> 31-60, disputed 2000. PD-1 39 -> 31-60,
    // PD-2 17 -> 1-30, disputed 1000.
    // Queue: C-FULL absent (1500 - 1500). C-HALF 3000, 34 days, DemandLetter, 3 + 34 = 37.
    // C-PART 3000, 17 days (PD-2), Call, 3 + 17 = 20.
    assert_eq!(
        aging(&mut read, "2026-03-20", Customer, last).await,
        vec![
            line("C-FULL", [0, 0, 1500, 0, 0, 0], 1500),
            line("C-HALF", [0, 0, 5000, 0, 0, 0], 2000),
            line("C-PART", [0, 3000, 1000, 0, 0, 0], 1000),
        ],
        "aging as of 2026-03-20"
    );
    assert_eq!(
        work_queue(&mut read, "2026-03-20", last).await,
        vec![
            item("C-HALF", "3000.00", "2026-02-14", 34, DemandLetter, "37"),
            item("C-PART", "3000.00", "2026-03-03", 17, Call, "20"),
        ],
        "work queue as of 2026-03-20"
    );
    // The whole group on 03-20: 1-30 PD-2 3000; 31-60 1500 + 5000 + 1000 = 7500; total 10500;
    // disputed 1500 + 2000 + 1000 = 4500.
    assert_eq!(
        aging(&mut read, "2026-03-20", pb::AgingGroupBy::Group, last).await,
        vec![line("GROUP", [0, 3000, 7500, 0, 0, 0], 4500)],
        "aging of the group as of 2026-03-20"
    );

    // 03-31 (day 90): DF's last day, it still holds.
    // FD-1 1500, 55 -> 31-60, disputed 1500. HD-1 45 -> 31-60, 2000. PD-1 50 -> 31-60, PD-2
    // 28 -> 1-30, 1000.
    // Queue: C-FULL absent. C-HALF 3000, 45, DemandLetter, 48. C-PART 3000, 28, Call, 31.
    assert_eq!(
        aging(&mut read, "2026-03-31", Customer, last).await,
        vec![
            line("C-FULL", [0, 0, 1500, 0, 0, 0], 1500),
            line("C-HALF", [0, 0, 5000, 0, 0, 0], 2000),
            line("C-PART", [0, 3000, 1000, 0, 0, 0], 1000),
        ],
        "aging as of 2026-03-31"
    );
    assert_eq!(
        work_queue(&mut read, "2026-03-31", last).await,
        vec![
            item("C-HALF", "3000.00", "2026-02-14", 45, DemandLetter, "48"),
            item("C-PART", "3000.00", "2026-03-03", 28, Call, "31"),
        ],
        "work queue as of 2026-03-31"
    );

    // 04-01 (day 91): DF expired; FD-1's 1500 is collectible again. Buckets as the day before,
    // one day older: FD-1 56 -> 31-60; HD-1 46 -> 31-60; PD-1 51 -> 31-60, PD-2 29 -> 1-30.
    // Queue: C-FULL back, 1500, 56 days, DemandLetter, 1.5 + 56 = 57.5. C-HALF 3000, 46,
    // 3 + 46 = 49. C-PART 3000, 29, Call, 3 + 29 = 32.
    assert_eq!(
        aging(&mut read, "2026-04-01", Customer, last).await,
        vec![
            line("C-FULL", [0, 0, 1500, 0, 0, 0], 0),
            line("C-HALF", [0, 0, 5000, 0, 0, 0], 2000),
            line("C-PART", [0, 3000, 1000, 0, 0, 0], 1000),
        ],
        "aging as of 2026-04-01"
    );
    assert_eq!(
        work_queue(&mut read, "2026-04-01", last).await,
        vec![
            item("C-FULL", "1500.00", "2026-02-04", 56, DemandLetter, "57.5"),
            item("C-HALF", "3000.00", "2026-02-14", 46, DemandLetter, "49"),
            item("C-PART", "3000.00", "2026-03-03", 29, Call, "32"),
        ],
        "work queue as of 2026-04-01"
    );

    // 04-09 (day 99): DP's last day before its withdrawal.
    // FD-1 64 -> 61-90. HD-1 54 -> 31-60, disputed 2000. PD-1 59 -> 31-60, PD-2 37 -> 31-60:
    // 4000 in 31-60, disputed 1000.
    // Queue: C-FULL 1500, 64, StopSupply, 65.5. C-HALF 3000, 54, DemandLetter, 57. C-PART
    // 3000, 37 (PD-2), DemandLetter, 40.
    assert_eq!(
        aging(&mut read, "2026-04-09", Customer, last).await,
        vec![
            line("C-FULL", [0, 0, 0, 1500, 0, 0], 0),
            line("C-HALF", [0, 0, 5000, 0, 0, 0], 2000),
            line("C-PART", [0, 0, 4000, 0, 0, 0], 1000),
        ],
        "aging as of 2026-04-09"
    );
    assert_eq!(
        work_queue(&mut read, "2026-04-09", last).await,
        vec![
            item("C-FULL", "1500.00", "2026-02-04", 64, StopSupply, "65.5"),
            item("C-HALF", "3000.00", "2026-02-14", 54, DemandLetter, "57"),
            item("C-PART", "3000.00", "2026-03-03", 37, DemandLetter, "40"),
        ],
        "work queue as of 2026-04-09"
    );

    // 04-10 (day 100): DP withdrawn today: PD-1 is collectible again from today.
    // FD-1 65 -> 61-90. HD-1 55 -> 31-60, 2000. PD-1 60 -> 31-60, PD-2 38 -> 31-60, disputed 0.
    // Queue: C-FULL 1500, 65, StopSupply, 66.5. C-PART 4000, 60 days from PD-1 again,
    // DemandLetter, 4 + 60 = 64. C-HALF 3000, 55, DemandLetter, 58.
    assert_eq!(
        aging(&mut read, "2026-04-10", Customer, last).await,
        vec![
            line("C-FULL", [0, 0, 0, 1500, 0, 0], 0),
            line("C-HALF", [0, 0, 5000, 0, 0, 0], 2000),
            line("C-PART", [0, 0, 4000, 0, 0, 0], 0),
        ],
        "aging as of 2026-04-10"
    );
    assert_eq!(
        work_queue(&mut read, "2026-04-10", last).await,
        vec![
            item("C-FULL", "1500.00", "2026-02-04", 65, StopSupply, "66.5"),
            item("C-PART", "4000.00", "2026-02-09", 60, DemandLetter, "64"),
            item("C-HALF", "3000.00", "2026-02-14", 55, DemandLetter, "58"),
        ],
        "work queue as of 2026-04-10"
    );

    // 05-09 (day 129): C-HALF paid 2500 on 04-15; HD-1 owes 2500, 84 -> 61-90, disputed
    // min(2500, 2000) = 2000. FD-1 94 -> 91-120. PD-1 89 -> 61-90, PD-2 67 -> 61-90.
    // Queue: C-FULL 1500, 94, LegalOrAgency, 95.5. C-PART 4000, 89, StopSupply, 93. C-HALF
    // 2500 - 2000 = 500, 84, StopSupply, 0.5 + 84 = 84.5.
    assert_eq!(
        aging(&mut read, "2026-05-09", Customer, last).await,
        vec![
            line("C-FULL", [0, 0, 0, 0, 1500, 0], 0),
            line("C-HALF", [0, 0, 0, 2500, 0, 0], 2000),
            line("C-PART", [0, 0, 0, 4000, 0, 0], 0),
        ],
        "aging as of 2026-05-09"
    );
    assert_eq!(
        work_queue(&mut read, "2026-05-09", last).await,
        vec![
            item("C-FULL", "1500.00", "2026-02-04", 94, LegalOrAgency, "95.5"),
            item("C-PART", "4000.00", "2026-02-09", 89, StopSupply, "93"),
            item("C-HALF", "500.00", "2026-02-14", 84, StopSupply, "84.5"),
        ],
        "work queue as of 2026-05-09"
    );

    // 05-10 (day 130): DH upheld today with CN-H1, which took 2000 off HD-1: it owes 500, none
    // of it disputed. HD-1 85 -> 61-90. FD-1 95 -> 91-120. PD-1 90 -> 61-90, PD-2 68 -> 61-90.
    // Queue: C-FULL 1500, 95, LegalOrAgency, 96.5. C-PART 4000, 90, StopSupply, 94. C-HALF 500,
    // 85, StopSupply, 85.5.
    assert_eq!(
        aging(&mut read, "2026-05-10", Customer, last).await,
        vec![
            line("C-FULL", [0, 0, 0, 0, 1500, 0], 0),
            line("C-HALF", [0, 0, 0, 500, 0, 0], 0),
            line("C-PART", [0, 0, 0, 4000, 0, 0], 0),
        ],
        "aging as of 2026-05-10"
    );
    assert_eq!(
        work_queue(&mut read, "2026-05-10", last).await,
        vec![
            item("C-FULL", "1500.00", "2026-02-04", 95, LegalOrAgency, "96.5"),
            item("C-PART", "4000.00", "2026-02-09", 90, StopSupply, "94"),
            item("C-HALF", "500.00", "2026-02-14", 85, StopSupply, "85.5"),
        ],
        "work queue as of 2026-05-10"
    );

    deployment.stop().await;
}
