//! A scripted history over gRPC, every expected figure worked out by hand (issue 3, first test):
//! three subsidiaries (SUB-SH, SUB-BJ, SUB-GZ), twelve customers (C01 to C12), invoices issued
//! from January to June 2026, partial payments (explicit and oldest due first), unapplied cash,
//! credit limits under WARN and BLOCK, and promises kept, partially kept, broken and open.
//!
//! Commands are posted in business-date order, so that the write side's "oldest due first"
//! (which looks at the invoices open when the command arrives) sees what was open on the
//! received date.
//!
//! Day numbers used below (day of the year, 2026 is not a leap year):
//! 01-31 = 31, 02-15 = 46, 02-28 = 59, 03-15 = 74, 03-31 = 90, 04-30 = 120, 05-15 = 135,
//! 05-31 = 151, 06-15 = 166, 06-30 = 181, 07-10 = 191, 07-31 = 212.
//! Buckets (default edges): current (<= 0 days), 1-30, 31-60, 61-90, 91-120, over 120.
//!
//! The history, customer by customer (invoice: issue date / due date, amount):
//! - C01, limit 20000 WARN, SUB-SH: SH-101 01-01/01-31 10000; SH-102 03-01/03-31 6000;
//!   SH-103 06-01/06-30 8000. Payment 04-10 5000 oldest due first -> SH-101 (5000 left).
//!   Promise 05-05 of 5000 for 05-20; payment 05-20 5000 oldest due first -> SH-101 (0 left).
//! - C02, no limit, SUB-SH: SH-201 02-01/02-28 4000; SH-202 04-01/04-30 4000. Payment 06-10
//!   10000 oldest due first -> SH-201 4000, SH-202 4000, 2000 unapplied.
//! - C03, limit 10000 BLOCK, SUB-SH: SH-301 03-01/03-15 3000; SH-302 05-01/05-31 5000;
//!   SH-303 06-01/06-30 3000 REFUSED (exposure 3000 + 5000 + 3000 = 11000 > 10000). Promise
//!   04-01 of 3000 for 04-15, nothing paid (broken). Payment 06-05 1000 allocated to SH-301.
//! - C04, no limit, SUB-SH: SH-401 06-10/07-10 2500. Payment 07-05 2500 (after 06-30).
//! - C05, limit 15000 WARN, SUB-SH and SUB-BJ: SH-501 01-15/02-15 6000; BJ-501 02-01/03-15
//!   6000; BJ-502 05-01/05-31 6000. Payment received by SUB-BJ 03-20 4000 explicitly allocated
//!   to SUB-SH's SH-501 (2000 left). Promise 06-15 of 5000 for 06-28; payment SUB-BJ 06-20
//!   3000 oldest due first among SUB-BJ's invoices -> BJ-501 (3000 left).
//! - C06, limit 5000 BLOCK, SUB-BJ: BJ-601 04-01/04-30 3000; BJ-602 06-01/06-30 2000 (exposure
//!   5000, not above the limit: accepted). Promise 06-25 of 3000 for 07-10, nothing paid.
//! - C07, no limit, SUB-BJ: BJ-701 01-01/01-31 1000. Promises 02-10 of 1000 for 02-20 and
//!   03-10 of 500 for 03-20. Payment 03-21 200 oldest due first -> BJ-701 (800 left).
//! - C08, limit 8000 WARN, SUB-BJ: BJ-801 03-01/03-31 5000; BJ-802 05-01/05-31 5000 (exposure
//!   10000 > 8000, accepted under WARN). Payment 05-25 1000 explicitly allocated to BJ-802.
//! - C09, no limit, SUB-GZ: GZ-901 02-01/02-28 3000. Promise 04-01 of 3000 for 04-15; payment
//!   04-15 3000 oldest due first -> GZ-901 (paid).
//! - C10, limit 12000 WARN, SUB-GZ: GZ-1001 04-01/04-30 4000; GZ-1002 05-01/05-15 4000;
//!   GZ-1003 06-01/06-15 4000. Payment 05-10 6000 oldest due first -> GZ-1001 4000, GZ-1002
//!   2000 (2000 left; GZ-1003 was not issued yet).
//! - C11, no limit, SUB-GZ: payment 02-15 1500 with nothing open -> 1500 unapplied;
//!   GZ-1101 05-01/05-31 1500 (issued after the payment, so the cash stays unapplied).
//! - C12, limit 6000 BLOCK, SUB-GZ: GZ-1201 02-15/03-15 2000; GZ-1202 06-20/07-31 3000
//!   (exposure 5000 <= 6000). Payment 06-25 2000 oldest due first -> GZ-1201 (paid).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_tests::*;
use tonic::Code;
use tonic::transport::Channel;

type Read = pb::query_service_client::QueryServiceClient<Channel>;

/// (customer, exposure, utilisation, over limit, overdue, oldest days past due, last payment).
type ExposureLine = (String, String, String, bool, String, Option<u32>, String);

fn explicit_payment(
    customer: &str,
    subsidiary: &str,
    amount: &str,
    received: &str,
    allocations: Vec<pb::Allocation>,
) -> pb::RecordPaymentRequest {
    pb::RecordPaymentRequest {
        allocations,
        ..payment(customer, subsidiary, amount, received)
    }
}

fn amount(money: &Option<pb::Money>) -> String {
    money.as_ref().unwrap().amount.clone()
}

/// One expected aging line: group, the six buckets (current, 1-30, 31-60, 61-90, 91-120,
/// over 120), open total, unapplied.
type Line = (&'static str, [&'static str; 6], &'static str, &'static str);

async fn aging(
    read: &mut Read,
    as_of: &str,
    group_by: pb::AgingGroupBy,
    min_position: u64,
) -> Vec<(String, Vec<String>, String, String)> {
    let report = read
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: as_of.to_owned(),
                ..Default::default()
            }),
            group_by: group_by.into(),
            min_position,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.as_of, as_of);
    assert!(report.position >= min_position);
    for line in &report.lines {
        assert_eq!(line.currency, "CNY");
        let labels: Vec<&str> = line.buckets.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(
            labels,
            vec!["current", "1-30", "31-60", "61-90", "91-120", "over 120"]
        );
    }
    report
        .lines
        .iter()
        .map(|line| {
            (
                line.group.clone(),
                line.buckets.iter().map(|b| amount(&b.amount)).collect(),
                amount(&line.open_total),
                amount(&line.unapplied),
            )
        })
        .collect()
}

fn expected(lines: &[Line]) -> Vec<(String, Vec<String>, String, String)> {
    lines
        .iter()
        .map(|(group, buckets, total, unapplied)| {
            (
                (*group).to_owned(),
                buckets.iter().map(|b| format!("{b}.00")).collect(),
                format!("{total}.00"),
                format!("{unapplied}.00"),
            )
        })
        .collect()
}

async fn promises(
    read: &mut Read,
    customer: &str,
    as_of: &str,
    min_position: u64,
) -> Vec<pb::PromiseView> {
    let mut promises = read
        .list_promises(pb::ListPromisesRequest {
            customer_id: customer.to_owned(),
            as_of: as_of.to_owned(),
            min_position,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .promises;
    promises.sort_by(|a, b| a.made_on.cmp(&b.made_on));
    promises
}

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

    async fn commands(&self) -> pb::command_service_client::CommandServiceClient<Channel> {
        match self {
            Deployment::Split { commands, .. } => commands.client().await,
            Deployment::Embedded { service, .. } => service.commands().await,
        }
    }

    async fn queries(&self) -> pb::query_service_client::QueryServiceClient<Channel> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    a_scripted_history_ages_exposes_and_queues_as_worked_out_by_hand(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    a_scripted_history_ages_exposes_and_queues_as_worked_out_by_hand(true).await;
}

async fn a_scripted_history_ages_exposes_and_queues_as_worked_out_by_hand(embedded: bool) {
    init_logging();
    let Some(deployment) = Deployment::start(embedded).await else {
        return;
    };
    let mut write = deployment.commands().await;
    use pb::CreditPolicy::{Block, Warn};

    for (customer, limit, policy) in [
        ("C01", "20000", Warn),
        ("C03", "10000", Block),
        ("C05", "15000", Warn),
        ("C06", "5000", Block),
        ("C08", "8000", Warn),
        ("C10", "12000", Warn),
        ("C12", "6000", Block),
    ] {
        write
            .change_credit_limit(credit_limit(customer, limit, policy))
            .await
            .unwrap();
    }

    enum Step {
        Invoice(pb::IssueInvoiceRequest),
        Payment(pb::RecordPaymentRequest),
        Promise(pb::RecordPromiseToPayRequest),
        Refused(pb::IssueInvoiceRequest),
    }
    use Step::{Invoice, Payment, Promise, Refused};
    let script = vec![
        Invoice(invoice(
            "C01",
            "SUB-SH",
            "SH-101",
            "10000",
            "2026-01-01",
            "2026-01-31",
        )),
        Invoice(invoice(
            "C07",
            "SUB-BJ",
            "BJ-701",
            "1000",
            "2026-01-01",
            "2026-01-31",
        )),
        Invoice(invoice(
            "C05",
            "SUB-SH",
            "SH-501",
            "6000",
            "2026-01-15",
            "2026-02-15",
        )),
        Invoice(invoice(
            "C02",
            "SUB-SH",
            "SH-201",
            "4000",
            "2026-02-01",
            "2026-02-28",
        )),
        Invoice(invoice(
            "C05",
            "SUB-BJ",
            "BJ-501",
            "6000",
            "2026-02-01",
            "2026-03-15",
        )),
        Invoice(invoice(
            "C09",
            "SUB-GZ",
            "GZ-901",
            "3000",
            "2026-02-01",
            "2026-02-28",
        )),
        Promise(promise("C07", "SUB-BJ", "1000", "2026-02-10", "2026-02-20")),
        Invoice(invoice(
            "C12",
            "SUB-GZ",
            "GZ-1201",
            "2000",
            "2026-02-15",
            "2026-03-15",
        )),
        Payment(payment("C11", "SUB-GZ", "1500", "2026-02-15")),
        Invoice(invoice(
            "C01",
            "SUB-SH",
            "SH-102",
            "6000",
            "2026-03-01",
            "2026-03-31",
        )),
        Invoice(invoice(
            "C03",
            "SUB-SH",
            "SH-301",
            "3000",
            "2026-03-01",
            "2026-03-15",
        )),
        Invoice(invoice(
            "C08",
            "SUB-BJ",
            "BJ-801",
            "5000",
            "2026-03-01",
            "2026-03-31",
        )),
        Promise(promise("C07", "SUB-BJ", "500", "2026-03-10", "2026-03-20")),
        Payment(explicit_payment(
            "C05",
            "SUB-BJ",
            "4000",
            "2026-03-20",
            vec![allocation("SUB-SH", "SH-501", "4000")],
        )),
        Payment(payment("C07", "SUB-BJ", "200", "2026-03-21")),
        Invoice(invoice(
            "C06",
            "SUB-BJ",
            "BJ-601",
            "3000",
            "2026-04-01",
            "2026-04-30",
        )),
        Invoice(invoice(
            "C02",
            "SUB-SH",
            "SH-202",
            "4000",
            "2026-04-01",
            "2026-04-30",
        )),
        Invoice(invoice(
            "C10",
            "SUB-GZ",
            "GZ-1001",
            "4000",
            "2026-04-01",
            "2026-04-30",
        )),
        Promise(promise("C03", "SUB-SH", "3000", "2026-04-01", "2026-04-15")),
        Promise(promise("C09", "SUB-GZ", "3000", "2026-04-01", "2026-04-15")),
        Payment(payment("C01", "SUB-SH", "5000", "2026-04-10")),
        Payment(payment("C09", "SUB-GZ", "3000", "2026-04-15")),
        Invoice(invoice(
            "C03",
            "SUB-SH",
            "SH-302",
            "5000",
            "2026-05-01",
            "2026-05-31",
        )),
        Invoice(invoice(
            "C05",
            "SUB-BJ",
            "BJ-502",
            "6000",
            "2026-05-01",
            "2026-05-31",
        )),
        Invoice(invoice(
            "C08",
            "SUB-BJ",
            "BJ-802",
            "5000",
            "2026-05-01",
            "2026-05-31",
        )),
        Invoice(invoice(
            "C10",
            "SUB-GZ",
            "GZ-1002",
            "4000",
            "2026-05-01",
            "2026-05-15",
        )),
        Invoice(invoice(
            "C11",
            "SUB-GZ",
            "GZ-1101",
            "1500",
            "2026-05-01",
            "2026-05-31",
        )),
        Promise(promise("C01", "SUB-SH", "5000", "2026-05-05", "2026-05-20")),
        Payment(payment("C10", "SUB-GZ", "6000", "2026-05-10")),
        Payment(payment("C01", "SUB-SH", "5000", "2026-05-20")),
        Payment(explicit_payment(
            "C08",
            "SUB-BJ",
            "1000",
            "2026-05-25",
            vec![allocation("SUB-BJ", "BJ-802", "1000")],
        )),
        Invoice(invoice(
            "C01",
            "SUB-SH",
            "SH-103",
            "8000",
            "2026-06-01",
            "2026-06-30",
        )),
        // C03 under BLOCK 10000: open 3000 + 5000 = 8000, plus 3000 = 11000 > 10000.
        Refused(invoice(
            "C03",
            "SUB-SH",
            "SH-303",
            "3000",
            "2026-06-01",
            "2026-06-30",
        )),
        // C06 under BLOCK 5000: 3000 + 2000 = 5000, not above the limit.
        Invoice(invoice(
            "C06",
            "SUB-BJ",
            "BJ-602",
            "2000",
            "2026-06-01",
            "2026-06-30",
        )),
        Invoice(invoice(
            "C10",
            "SUB-GZ",
            "GZ-1003",
            "4000",
            "2026-06-01",
            "2026-06-15",
        )),
        Payment(explicit_payment(
            "C03",
            "SUB-SH",
            "1000",
            "2026-06-05",
            vec![allocation("SUB-SH", "SH-301", "1000")],
        )),
        Invoice(invoice(
            "C04",
            "SUB-SH",
            "SH-401",
            "2500",
            "2026-06-10",
            "2026-07-10",
        )),
        Payment(payment("C02", "SUB-SH", "10000", "2026-06-10")),
        Promise(promise("C05", "SUB-BJ", "5000", "2026-06-15", "2026-06-28")),
        // C12 under BLOCK 6000: 2000 + 3000 = 5000.
        Invoice(invoice(
            "C12",
            "SUB-GZ",
            "GZ-1202",
            "3000",
            "2026-06-20",
            "2026-07-31",
        )),
        Payment(payment("C05", "SUB-BJ", "3000", "2026-06-20")),
        Payment(payment("C12", "SUB-GZ", "2000", "2026-06-25")),
        Promise(promise("C06", "SUB-BJ", "3000", "2026-06-25", "2026-07-10")),
        Payment(payment("C04", "SUB-SH", "2500", "2026-07-05")),
    ];
    let mut last = 0;
    for step in script {
        let receipt = match step {
            Invoice(request) => {
                write
                    .issue_invoice(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .receipt
            }
            Payment(request) => {
                write
                    .record_payment(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .receipt
            }
            Promise(request) => {
                write
                    .record_promise_to_pay(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .receipt
            }
            Refused(request) => {
                let status = write.issue_invoice(request).await.unwrap_err();
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                continue;
            }
        };
        last = receipt.unwrap().position;
    }
    let mut read = deployment.queries().await;

    // 1a. Aging by customer as of 2026-03-31 (day 90). Invoices issued by then, payments
    // received by then (C01's of 04-10 and 05-20, C09's of 04-15 do not count yet).
    // C01: SH-101 10000 due 01-31, 90 - 31 = 59 days -> 31-60; SH-102 6000 due 03-31, 0 days
    //      -> current. Total 6000 + 10000 = 16000.
    // C02: SH-201 4000 due 02-28, 90 - 59 = 31 days -> 31-60.
    // C03: SH-301 3000 due 03-15, 90 - 74 = 16 days -> 1-30.
    // C05: SH-501 6000 - 4000 (03-20) = 2000 due 02-15, 90 - 46 = 44 -> 31-60; BJ-501 6000
    //      due 03-15, 16 days -> 1-30. Total 8000.
    // C06: BJ-601 is issued 04-01: no line. C04, C10: nothing issued yet.
    // C07: BJ-701 1000 - 200 (03-21) = 800 due 01-31, 59 days -> 31-60.
    // C08: BJ-801 5000 due 03-31, 0 days -> current.
    // C09: GZ-901 3000 due 02-28, 31 days -> 31-60 (paid only on 04-15).
    // C11: nothing open (GZ-1101 issued 05-01), 1500 unapplied.
    // C12: GZ-1201 2000 due 03-15, 16 days -> 1-30.
    let march: &[Line] = &[
        ("C01", ["6000", "0", "10000", "0", "0", "0"], "16000", "0"),
        ("C02", ["0", "0", "4000", "0", "0", "0"], "4000", "0"),
        ("C03", ["0", "3000", "0", "0", "0", "0"], "3000", "0"),
        ("C05", ["0", "6000", "2000", "0", "0", "0"], "8000", "0"),
        ("C07", ["0", "0", "800", "0", "0", "0"], "800", "0"),
        ("C08", ["5000", "0", "0", "0", "0", "0"], "5000", "0"),
        ("C09", ["0", "0", "3000", "0", "0", "0"], "3000", "0"),
        ("C11", ["0", "0", "0", "0", "0", "0"], "0", "1500"),
        ("C12", ["0", "2000", "0", "0", "0", "0"], "2000", "0"),
    ];
    assert_eq!(
        aging(&mut read, "2026-03-31", pb::AgingGroupBy::Customer, last).await,
        expected(march),
        "aging by customer as of 2026-03-31"
    );

    // 1b. As of 2026-05-31 (day 151).
    // C01: SH-101 10000 - 5000 - 5000 = 0; SH-102 6000 due 03-31, 151 - 90 = 61 -> 61-90.
    // C02: SH-201 4000 due 02-28, 151 - 59 = 92 -> 91-120; SH-202 4000 due 04-30,
    //      151 - 120 = 31 -> 31-60 (the payment of 06-10 not yet). Total 8000.
    // C03: SH-301 3000 due 03-15, 151 - 74 = 77 -> 61-90; SH-302 5000 due 05-31 -> current.
    // C05: SH-501 2000, 151 - 46 = 105 -> 91-120; BJ-501 6000, 77 -> 61-90; BJ-502 6000 due
    //      05-31 -> current. Total 14000.
    // C06: BJ-601 3000 due 04-30, 31 -> 31-60.
    // C07: BJ-701 800, 151 - 31 = 120 -> 91-120.
    // C08: BJ-801 5000 due 03-31, 61 -> 61-90; BJ-802 5000 - 1000 (05-25) = 4000 -> current.
    // C09: paid on 04-15: no line. C04: nothing issued yet.
    // C10: GZ-1001 4000 - 4000 = 0; GZ-1002 4000 - 2000 = 2000 due 05-15, 151 - 135 = 16
    //      -> 1-30.
    // C11: GZ-1101 1500 due 05-31 -> current; 1500 unapplied.
    // C12: GZ-1201 2000 due 03-15, 77 -> 61-90.
    let may: &[Line] = &[
        ("C01", ["0", "0", "0", "6000", "0", "0"], "6000", "0"),
        ("C02", ["0", "0", "4000", "0", "4000", "0"], "8000", "0"),
        ("C03", ["5000", "0", "0", "3000", "0", "0"], "8000", "0"),
        ("C05", ["6000", "0", "0", "6000", "2000", "0"], "14000", "0"),
        ("C06", ["0", "0", "3000", "0", "0", "0"], "3000", "0"),
        ("C07", ["0", "0", "0", "0", "800", "0"], "800", "0"),
        ("C08", ["4000", "0", "0", "5000", "0", "0"], "9000", "0"),
        ("C10", ["0", "2000", "0", "0", "0", "0"], "2000", "0"),
        ("C11", ["1500", "0", "0", "0", "0", "0"], "1500", "1500"),
        ("C12", ["0", "0", "0", "2000", "0", "0"], "2000", "0"),
    ];
    assert_eq!(
        aging(&mut read, "2026-05-31", pb::AgingGroupBy::Customer, last).await,
        expected(may),
        "aging by customer as of 2026-05-31"
    );

    // 1c. As of 2026-06-30 (day 181).
    // C01: SH-102 6000, 181 - 90 = 91 -> 91-120; SH-103 8000 due 06-30 -> current. 14000.
    // C02: all paid on 06-10, 10000 - 8000 = 2000 unapplied.
    // C03: SH-301 3000 - 1000 = 2000, 181 - 74 = 107 -> 91-120; SH-302 5000 due 05-31,
    //      181 - 151 = 30 -> 1-30. Total 7000.
    // C04: SH-401 2500 due 07-10 -> current (the payment of 07-05 is after the date).
    // C05: SH-501 2000, 181 - 46 = 135 -> over 120; BJ-501 6000 - 3000 = 3000, 107 -> 91-120;
    //      BJ-502 6000, 30 -> 1-30. Total 11000.
    // C06: BJ-601 3000, 181 - 120 = 61 -> 61-90; BJ-602 2000 due 06-30 -> current. 5000.
    // C07: BJ-701 800, 181 - 31 = 150 -> over 120.
    // C08: BJ-801 5000, 91 -> 91-120; BJ-802 4000, 30 -> 1-30. 9000.
    // C10: GZ-1002 2000, 181 - 135 = 46 -> 31-60; GZ-1003 4000 due 06-15, 181 - 166 = 15
    //      -> 1-30. 6000.
    // C11: GZ-1101 1500, 30 -> 1-30; 1500 unapplied.
    // C12: GZ-1201 paid 06-25; GZ-1202 3000 due 07-31 -> current.
    let june: &[Line] = &[
        ("C01", ["8000", "0", "0", "0", "6000", "0"], "14000", "0"),
        ("C02", ["0", "0", "0", "0", "0", "0"], "0", "2000"),
        ("C03", ["0", "5000", "0", "0", "2000", "0"], "7000", "0"),
        ("C04", ["2500", "0", "0", "0", "0", "0"], "2500", "0"),
        ("C05", ["0", "6000", "0", "0", "3000", "2000"], "11000", "0"),
        ("C06", ["2000", "0", "0", "3000", "0", "0"], "5000", "0"),
        ("C07", ["0", "0", "0", "0", "0", "800"], "800", "0"),
        ("C08", ["0", "4000", "0", "0", "5000", "0"], "9000", "0"),
        ("C10", ["0", "4000", "2000", "0", "0", "0"], "6000", "0"),
        ("C11", ["0", "1500", "0", "0", "0", "0"], "1500", "1500"),
        ("C12", ["3000", "0", "0", "0", "0", "0"], "3000", "0"),
    ];
    assert_eq!(
        aging(&mut read, "2026-06-30", pb::AgingGroupBy::Customer, last).await,
        expected(june),
        "aging by customer as of 2026-06-30"
    );

    // 1d. As of 2026-06-30 by subsidiary (invoices by issuing subsidiary, unapplied cash by
    // receiving subsidiary), from the invoice figures of 1c:
    // SUB-BJ: current BJ-602 2000; 1-30 BJ-502 6000 + BJ-802 4000 = 10000; 61-90 BJ-601 3000;
    //         91-120 BJ-501 3000 + BJ-801 5000 = 8000; over 120 BJ-701 800.
    //         Total 2000 + 10000 + 3000 + 8000 + 800 = 23800; no unapplied cash.
    // SUB-GZ: current GZ-1202 3000; 1-30 GZ-1003 4000 + GZ-1101 1500 = 5500; 31-60 GZ-1002
    //         2000. Total 10500; unapplied C11's 1500.
    // SUB-SH: current SH-103 8000 + SH-401 2500 = 10500; 1-30 SH-302 5000; 91-120 SH-102 6000
    //         + SH-301 2000 = 8000; over 120 SH-501 2000. Total 25500; unapplied C02's 2000.
    let by_subsidiary: &[Line] = &[
        (
            "SUB-BJ",
            ["2000", "10000", "0", "3000", "8000", "800"],
            "23800",
            "0",
        ),
        (
            "SUB-GZ",
            ["3000", "5500", "2000", "0", "0", "0"],
            "10500",
            "1500",
        ),
        (
            "SUB-SH",
            ["10500", "5000", "0", "0", "8000", "2000"],
            "25500",
            "2000",
        ),
    ];
    assert_eq!(
        aging(&mut read, "2026-06-30", pb::AgingGroupBy::Subsidiary, last).await,
        expected(by_subsidiary),
        "aging by subsidiary as of 2026-06-30"
    );
    // The whole group: the customer lines of 1c added column by column.
    // current 8000 + 2500 + 2000 + 3000 = 15500; 1-30 5000 + 6000 + 4000 + 4000 + 1500 = 20500;
    // 31-60 2000; 61-90 3000; 91-120 6000 + 2000 + 3000 + 5000 = 16000; over 120 2000 + 800 =
    // 2800; total 15500 + 20500 + 2000 + 3000 + 16000 + 2800 = 59800 (= 23800 + 10500 + 25500);
    // unapplied 2000 + 1500 = 3500.
    let group: &[Line] = &[(
        "GROUP",
        ["15500", "20500", "2000", "3000", "16000", "2800"],
        "59800",
        "3500",
    )];
    assert_eq!(
        aging(&mut read, "2026-06-30", pb::AgingGroupBy::Group, last).await,
        expected(group),
        "aging of the whole group as of 2026-06-30"
    );

    // 2. Exposures as of 2026-06-30, by utilisation (exposure = open - unapplied; overdue =
    // open of the invoices due before 06-30; utilisation = exposure / limit to 4 places).
    // C08: 9000 / 8000 = 1.1250, over (9000 > 8000), available -1000, overdue 9000, oldest 91.
    // C06: 5000 / 5000 = 1.0000, not over, available 0, overdue BJ-601 3000 (BJ-602 is due on
    //      the date, not before), oldest 61.
    // C05: 11000 / 15000 = 0.73333 -> 0.7333, available 4000, overdue 11000, oldest 135.
    // C01: 14000 / 20000 = 0.7000, available 6000, overdue SH-102 6000, oldest 91.
    // C03: 7000 / 10000 = 0.7000 (tie with C01: customer id), available 3000, overdue 7000,
    //      oldest 107.
    // C10: 6000 / 12000 = 0.5000, available 6000, overdue 6000, oldest 46.
    // C12: 3000 / 6000 = 0.5000 (tie with C10), available 3000, overdue 0, none overdue.
    // Then the customers without a limit, by id:
    // C02: open 0, unapplied 2000, exposure -2000. C04: 2500 (not due). C07: 800, overdue 800,
    // oldest 150. C09: 0 (paid). C11: 1500 - 1500 = 0, overdue 1500, oldest 30.
    type Exp = (
        &'static str,
        &'static str,
        &'static str,
        bool,
        &'static str,
        Option<u32>,
        &'static str,
    );
    // (customer, exposure, utilisation, over limit, overdue, oldest days, last payment)
    let expected_exposures: Vec<Exp> = vec![
        (
            "C08",
            "9000.00",
            "1.1250",
            true,
            "9000.00",
            Some(91),
            "2026-05-25",
        ),
        ("C06", "5000.00", "1.0000", false, "3000.00", Some(61), ""),
        (
            "C05",
            "11000.00",
            "0.7333",
            false,
            "11000.00",
            Some(135),
            "2026-06-20",
        ),
        (
            "C01",
            "14000.00",
            "0.7000",
            false,
            "6000.00",
            Some(91),
            "2026-05-20",
        ),
        (
            "C03",
            "7000.00",
            "0.7000",
            false,
            "7000.00",
            Some(107),
            "2026-06-05",
        ),
        (
            "C10",
            "6000.00",
            "0.5000",
            false,
            "6000.00",
            Some(46),
            "2026-05-10",
        ),
        (
            "C12",
            "3000.00",
            "0.5000",
            false,
            "0.00",
            None,
            "2026-06-25",
        ),
        ("C02", "-2000.00", "", false, "0.00", None, "2026-06-10"),
        // C04's payment of 07-05 is after the date.
        ("C04", "2500.00", "", false, "0.00", None, ""),
        (
            "C07",
            "800.00",
            "",
            false,
            "800.00",
            Some(150),
            "2026-03-21",
        ),
        ("C09", "0.00", "", false, "0.00", None, "2026-04-15"),
        ("C11", "0.00", "", false, "1500.00", Some(30), "2026-02-15"),
    ];
    let exposures = read
        .list_exposures(pb::ListExposuresRequest {
            as_of: "2026-06-30".into(),
            sort: pb::ExposureSort::Utilisation.into(),
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(exposures.next_page_token.is_empty());
    let actual: Vec<ExposureLine> = exposures
        .lines
        .iter()
        .map(|l| {
            (
                l.customer_id.clone(),
                amount(&l.exposure),
                l.utilisation.clone(),
                l.over_limit,
                amount(&l.overdue),
                l.oldest_days_past_due,
                l.last_payment_date.clone(),
            )
        })
        .collect();
    let wanted: Vec<ExposureLine> = expected_exposures
        .iter()
        .map(|(c, e, u, o, d, days, p)| {
            (
                (*c).to_owned(),
                (*e).to_owned(),
                (*u).to_owned(),
                *o,
                (*d).to_owned(),
                *days,
                (*p).to_owned(),
            )
        })
        .collect();
    assert_eq!(actual, wanted, "exposures as of 2026-06-30 by utilisation");
    // Available = limit - exposure, by hand: C08 8000 - 9000 = -1000, C06 0, C05 4000,
    // C01 6000, C03 3000, C10 6000, C12 3000; none without a limit.
    let available: Vec<(&str, Option<String>)> = exposures
        .lines
        .iter()
        .map(|l| {
            (
                l.customer_id.as_str(),
                l.available.as_ref().map(|m| m.amount.clone()),
            )
        })
        .collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        available,
        vec![
            ("C08", some("-1000.00")),
            ("C06", some("0.00")),
            ("C05", some("4000.00")),
            ("C01", some("6000.00")),
            ("C03", some("3000.00")),
            ("C10", some("6000.00")),
            ("C12", some("3000.00")),
            ("C02", None),
            ("C04", None),
            ("C07", None),
            ("C09", None),
            ("C11", None),
        ]
    );

    // 3. The work queue as of 2026-06-30: score = 0.001 x overdue + 1 x days + 25 x failed
    // (broken or partially kept) promises.
    // C07: 0.8 + 150 + 25 x 2 = 200.8, over 90 days -> legal or agency (one promise broken, one
    //      partially kept).
    // C05: 11 + 135 + 0 = 146, legal (its promise is open: part paid, window not closed; its
    //      date 06-28 has passed, so it does not snooze C05).
    // C03: 7 + 107 + 25 = 139, legal.
    // C08: 9 + 91 + 0 = 100, legal.
    // C01: 6 + 91 + 0 = 97, legal (its promise was kept).
    // C06: 3 + 61 = 64, stop supply (61-90), but snoozed: open promise for 07-10 -> 07-11.
    // C10: 6 + 46 = 52, demand letter (31-60).
    // C11: 1.5 + 30 = 31.5, call (16-30): unapplied cash is not netted.
    // C02, C04, C09, C12: nothing overdue.
    use pb::EscalationLevel::{Call, DemandLetter, LegalOrAgency, StopSupply};
    let queue = |include_snoozed: bool| pb::GetWorkQueueRequest {
        as_of: "2026-06-30".into(),
        include_snoozed,
        min_position: last,
        ..Default::default()
    };
    type Item = (
        String,
        String,
        pb::EscalationLevel,
        u32,
        u32,
        String,
        String,
    );
    let items = |response: pb::GetWorkQueueResponse| -> Vec<Item> {
        assert!(response.next_page_token.is_empty());
        response
            .items
            .iter()
            .map(|i| {
                (
                    i.customer_id.clone(),
                    i.score.clone(),
                    i.escalation(),
                    i.days_past_due,
                    i.broken_promises, // broken or partially kept
                    amount(&i.overdue),
                    i.snoozed_until.clone(),
                )
            })
            .collect()
    };
    let item = |c: &str, score: &str, level, days, failed, overdue: &str, snoozed: &str| {
        (
            c.to_owned(),
            score.to_owned(),
            level,
            days,
            failed,
            overdue.to_owned(),
            snoozed.to_owned(),
        )
    };
    let unsnoozed = vec![
        item("C07", "200.8", LegalOrAgency, 150, 2, "800.00", ""),
        item("C05", "146", LegalOrAgency, 135, 0, "11000.00", ""),
        item("C03", "139", LegalOrAgency, 107, 1, "7000.00", ""),
        item("C08", "100", LegalOrAgency, 91, 0, "9000.00", ""),
        item("C01", "97", LegalOrAgency, 91, 0, "6000.00", ""),
        item("C10", "52", DemandLetter, 46, 0, "6000.00", ""),
        item("C11", "31.5", Call, 30, 0, "1500.00", ""),
    ];
    let work = read
        .get_work_queue(queue(false))
        .await
        .unwrap()
        .into_inner();
    let oldest: Vec<(String, String)> = work
        .items
        .iter()
        .map(|i| (i.customer_id.clone(), i.oldest_due_date.clone()))
        .collect();
    assert_eq!(items(work), unsnoozed, "work queue as of 2026-06-30");
    assert_eq!(
        oldest,
        [
            ("C07", "2026-01-31"),
            ("C05", "2026-02-15"),
            ("C03", "2026-03-15"),
            ("C08", "2026-03-31"),
            ("C01", "2026-03-31"),
            ("C10", "2026-05-15"),
            ("C11", "2026-05-31"),
        ]
        .map(|(c, d)| (c.to_owned(), d.to_owned()))
        .to_vec()
    );
    let mut with_snoozed = unsnoozed.clone();
    with_snoozed.insert(
        5,
        item("C06", "64", StopSupply, 61, 0, "3000.00", "2026-07-11"),
    );
    assert_eq!(
        items(read.get_work_queue(queue(true)).await.unwrap().into_inner()),
        with_snoozed,
        "work queue with the snoozed customers"
    );

    // 4. Promises as of 2026-06-30 (grace 3 days: window [made_on, promised + 3]).
    // C01: 5000 for 05-20, window to 05-23, paid 5000 on 05-20 -> kept (04-10 is before 05-05).
    // C03: 3000 for 04-15, window to 04-18, nothing paid (06-05 is after) -> broken.
    // C05: 5000 for 06-28, window to 07-01, paid 3000 on 06-20 -> open (not closed yet).
    // C06: 3000 for 07-10, window to 07-13, nothing paid -> open.
    // C07: 1000 for 02-20, window to 02-23, nothing -> broken; 500 for 03-20, window 03-10 to
    //      03-23, 200 paid on 03-21 -> partially kept with 200 paid.
    // C09: 3000 for 04-15, window to 04-18, paid 3000 on 04-15 -> kept.
    use pb::PromiseStatus::{Broken, Kept, Open, PartiallyKept};
    for (customer, wanted) in [
        ("C01", vec![(Kept, "5000.00", "2026-05-23")]),
        ("C03", vec![(Broken, "0.00", "2026-04-18")]),
        ("C05", vec![(Open, "3000.00", "2026-07-01")]),
        ("C06", vec![(Open, "0.00", "2026-07-13")]),
        (
            "C07",
            vec![
                (Broken, "0.00", "2026-02-23"),
                (PartiallyKept, "200.00", "2026-03-23"),
            ],
        ),
        ("C09", vec![(Kept, "3000.00", "2026-04-18")]),
    ] {
        let actual: Vec<(pb::PromiseStatus, String, String)> =
            promises(&mut read, customer, "2026-06-30", last)
                .await
                .iter()
                .map(|p| (p.status(), amount(&p.paid), p.window_end.clone()))
                .collect();
        let wanted: Vec<(pb::PromiseStatus, String, String)> = wanted
            .into_iter()
            .map(|(s, p, w)| (s, p.to_owned(), w.to_owned()))
            .collect();
        assert_eq!(actual, wanted, "promises of {customer} as of 2026-06-30");
    }
    // C05's promise on other dates: as of 06-18 nothing paid yet -> open; as of 07-01, the
    // window's last day, 3000 of 5000 -> still open; as of 07-02 the window has closed with
    // 3000 of 5000 -> partially kept.
    for (as_of, status, paid) in [
        ("2026-06-18", Open, "0.00"),
        ("2026-07-01", Open, "3000.00"),
        ("2026-07-02", PartiallyKept, "3000.00"),
    ] {
        let c05 = promises(&mut read, "C05", as_of, last).await;
        assert_eq!(c05.len(), 1);
        assert_eq!(
            (c05[0].status(), amount(&c05[0].paid)),
            (status, paid.to_owned()),
            "{as_of}"
        );
    }

    deployment.stop().await;
}
