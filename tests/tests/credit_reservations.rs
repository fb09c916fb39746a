//! Credit at order time end to end: subsidiaries reserve credit for sales orders, an order
//! system asks whether an order fits, invoices consume their order's reservation, a release
//! shrinks one, reservations stop counting after their expiry, and an overdue hold. Posted to
//! `receivables serve` on both backend pairs (the embedded SQLite log and read model; NATS
//! JetStream and PostgreSQL), with what the exposure report, the statement and the account view
//! make of it; and two subsidiaries reserving concurrently through two command-service
//! instances on one stream. Every figure worked out by hand.
//!
//! Customer ACME, limit 10,000.00 CNY under BLOCK with a 60-day overdue hold, every amount CNY:
//! - INV-1 4,000.00 from SUB-SH, issued 03-01, due 03-31.
//! - 03-05 SUB-SH reserves 3,000.00 for SO-1 until 03-31: exposure 4,000 + 3,000 = 7,000.00.
//! - 03-06 SUB-BJ reserves 2,500.00 for SO-2 until 04-15: 9,500.00.
//! - 03-10 an order of 600.00 would make 10,100.00: over the limit (available 500.00); one of
//!   500.00 fits exactly.
//! - 03-12 SUB-SH invoices INV-2 1,200.00 for SO-1 (due 04-11): it consumes 1,200.00 of SO-1,
//!   so exposure stays 4,000 + 1,200 + 1,800 + 2,500 = 9,500.00.
//! - 03-20 SUB-BJ releases 1,000.00 of SO-2: 1,500.00 left; exposure 8,500.00.
//! - As of 04-01 SO-1 (expired 03-31) no longer counts: 5,200 + 1,500 = 6,700.00.
//! - On 06-01 INV-1 is 62 days overdue (30 days of April, 31 of May, 1), beyond the hold's 60;
//!   INV-2 (due 04-11) is 51: the check answers CUSTOMER_OVERDUE for 4,000.00.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};

use receivables_api::pb;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::*;
use tonic::Code;
use tonic::transport::Channel;

const CUSTOMER: &str = "ACME";

fn reserve(
    subsidiary: &str,
    order: &str,
    amount: &str,
    reserved_on: &str,
    expires_on: &str,
) -> pb::ReserveCreditRequest {
    pb::ReserveCreditRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: subsidiary.to_owned(),
        order_number: order.to_owned(),
        amount: cny(amount),
        reserved_on: reserved_on.to_owned(),
        expires_on: expires_on.to_owned(),
    }
}

fn check(amount: &str, date: &str) -> pb::CheckCreditRequest {
    pb::CheckCreditRequest {
        customer_id: CUSTOMER.to_owned(),
        amount: cny(amount),
        date: date.to_owned(),
    }
}

fn shown(money: &Option<pb::Money>) -> String {
    let money = money.as_ref().expect("an amount");
    format!("{} {}", money.amount, money.currency)
}

/// The customer's exposure line as of `as_of`: (open, reserved, unapplied, exposure,
/// available).
async fn exposure(
    read: &mut QueryServiceClient<Channel>,
    as_of: &str,
    at: u64,
) -> (String, String, String, String, String) {
    let lines = read
        .get_exposure(pb::GetExposureRequest {
            customer_id: CUSTOMER.to_owned(),
            as_of: as_of.to_owned(),
            min_position: at,
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    (
        shown(&line.open),
        shown(&line.reserved),
        shown(&line.unapplied),
        shown(&line.exposure),
        shown(&line.available),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    credit_at_order_time_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    credit_at_order_time_as_worked_out_by_hand(Backends::Servers).await;
}

async fn credit_at_order_time_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut read = service.queries().await;

    write
        .change_credit_limit(pb::ChangeCreditLimitRequest {
            overdue_hold_days: Some(60),
            ..credit_limit(CUSTOMER, "10000", pb::CreditPolicy::Block)
        })
        .await
        .unwrap();
    write
        .issue_invoice(invoice(
            CUSTOMER,
            "SUB-SH",
            "INV-1",
            "4000",
            "2026-03-01",
            "2026-03-31",
        ))
        .await
        .unwrap();

    // Two subsidiaries reserve for their orders.
    let so1 = write
        .reserve_credit(reserve(
            "SUB-SH",
            "SO-1",
            "3000",
            "2026-03-05",
            "2026-03-31",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!so1.over_limit);
    assert_eq!(
        shown(&so1.credit_check.unwrap().exposure_after),
        "7000.00 CNY"
    );
    let so2 = write
        .reserve_credit(reserve(
            "SUB-BJ",
            "SO-2",
            "2500",
            "2026-03-06",
            "2026-04-15",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        shown(&so2.credit_check.unwrap().exposure_after),
        "9500.00 CNY"
    );

    // The order system asks before it accepts more.
    let over = write
        .check_credit(check("600", "2026-03-10"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(over.decision(), pb::CreditDecision::OverLimit);
    assert!(!over.would_accept);
    assert_eq!(shown(&over.exposure), "9500.00 CNY");
    assert_eq!(shown(&over.available), "500.00 CNY");
    assert_eq!(shown(&over.exposure_after), "10100.00 CNY");
    assert_eq!(over.overdue_hold_days, Some(60));
    assert_eq!(over.lines.len(), 1);
    let line = &over.lines[0];
    assert_eq!(
        (
            shown(&line.open_invoices),
            shown(&line.reserved),
            shown(&line.overdue)
        ),
        (
            "4000.00 CNY".to_owned(),
            "5500.00 CNY".to_owned(),
            "0.00 CNY".to_owned()
        )
    );
    assert_eq!(over.position, so2.receipt.as_ref().unwrap().position);
    let fits = write
        .check_credit(check("500", "2026-03-10"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fits.decision(), pb::CreditDecision::WithinLimit);
    assert!(fits.would_accept);

    // The order ships in part: the invoice consumes its reservation.
    let inv2 = write
        .issue_invoice(pb::IssueInvoiceRequest {
            order_number: "SO-1".to_owned(),
            ..invoice(
                CUSTOMER,
                "SUB-SH",
                "INV-2",
                "1200",
                "2026-03-12",
                "2026-04-11",
            )
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&inv2.reservation_consumed), "1200.00 CNY");
    assert_eq!(
        shown(&inv2.credit_check.unwrap().exposure_after),
        "9500.00 CNY"
    );

    // SUB-BJ's order shrinks.
    let released = write
        .release_credit(pb::ReleaseCreditRequest {
            command_id: command_id(),
            customer_id: CUSTOMER.to_owned(),
            subsidiary_id: "SUB-BJ".to_owned(),
            order_number: "SO-2".to_owned(),
            amount: cny("1000"),
            released_on: "2026-03-20".to_owned(),
            reason: "order shrunk".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&released.remaining), "1500.00 CNY");
    let last = released.receipt.unwrap().position;

    // The exposure report counts reservations by date.
    assert_eq!(
        exposure(&mut read, "2026-03-10", last).await,
        (
            "4000.00 CNY".to_owned(),
            "5500.00 CNY".to_owned(),
            "0.00 CNY".to_owned(),
            "9500.00 CNY".to_owned(),
            "500.00 CNY".to_owned()
        )
    );
    assert_eq!(
        exposure(&mut read, "2026-03-20", last).await,
        (
            "5200.00 CNY".to_owned(),
            "3300.00 CNY".to_owned(),
            "0.00 CNY".to_owned(),
            "8500.00 CNY".to_owned(),
            "1500.00 CNY".to_owned()
        )
    );
    assert_eq!(
        exposure(&mut read, "2026-04-01", last).await,
        (
            "5200.00 CNY".to_owned(),
            "1500.00 CNY".to_owned(),
            "0.00 CNY".to_owned(),
            "6700.00 CNY".to_owned(),
            "3300.00 CNY".to_owned()
        )
    );

    // The statement shows what is reserved beside the balance, not in it.
    let statement = read
        .get_statement(pb::GetStatementRequest {
            customer_id: CUSTOMER.to_owned(),
            from_date: "2026-03-01".to_owned(),
            to_date: "2026-03-31".to_owned(),
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let part = &statement.currencies[0];
    assert_eq!(shown(&part.closing_balance), "5200.00 CNY");
    assert_eq!(shown(&part.reserved), "3300.00 CNY");
    let of_sh = read
        .get_statement(pb::GetStatementRequest {
            customer_id: CUSTOMER.to_owned(),
            from_date: "2026-03-01".to_owned(),
            to_date: "2026-03-31".to_owned(),
            subsidiary_id: "SUB-SH".to_owned(),
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&of_sh.currencies[0].reserved), "1800.00 CNY");

    // The account view lists each reservation; on the service's date both have expired.
    let account = write
        .get_account(pb::GetAccountRequest {
            customer_id: CUSTOMER.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let reservations: Vec<(String, String, String, String)> = account
        .reservations
        .iter()
        .map(|r| {
            (
                r.order_number.clone(),
                shown(&r.open),
                shown(&r.consumed),
                shown(&r.released),
            )
        })
        .collect();
    assert_eq!(
        reservations,
        [
            (
                "SO-2".to_owned(),
                "1500.00 CNY".to_owned(),
                "0.00 CNY".to_owned(),
                "1000.00 CNY".to_owned()
            ),
            (
                "SO-1".to_owned(),
                "1800.00 CNY".to_owned(),
                "1200.00 CNY".to_owned(),
                "0.00 CNY".to_owned()
            ),
        ]
    );
    let credit = account.credit.unwrap();
    assert_eq!(shown(&credit.exposure), "5200.00 CNY");
    assert_eq!(credit.overdue_hold_days, Some(60));
    assert_eq!(shown(&account.balances[0].reserved), "0.00 CNY");

    // Two months on, INV-1 is beyond the hold.
    let held = write
        .check_credit(check("1", "2026-06-01"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(held.decision(), pb::CreditDecision::CustomerOverdue);
    assert!(!held.would_accept);
    assert_eq!(held.oldest_overdue_days, Some(62));
    let beyond: Vec<String> = held
        .overdue_beyond_hold
        .iter()
        .map(|m| format!("{} {}", m.amount, m.currency))
        .collect();
    assert_eq!(beyond, ["4000.00 CNY"]);
    assert_eq!(shown(&held.lines[0].overdue), "5200.00 CNY");

    service.stop().await;
    data.remove().await;
}

// ---------------------------------------------------------------------------------------------
// Two subsidiaries, two instances, one limit
// ---------------------------------------------------------------------------------------------

const CLIENTS: usize = 40;
/// 14 reservations of 700.00 make 9,800.00 under 10,000.00; a 15th would make 10,500.00.
const RESERVATIONS_THAT_FIT: usize = 14;
const LIMIT_FEN: i64 = 1_000_000;
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_subsidiaries_reserving_through_two_instances_never_pass_the_limit() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let services = [
        TestService::start(&nats.url()).await,
        TestService::start(&nats.url()).await,
    ];
    services[0]
        .client()
        .await
        .change_credit_limit(credit_limit(CUSTOMER, "10000", pb::CreditPolicy::Block))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for index in 0..CLIENTS {
        let client = services[index % 2].client().await;
        let subsidiary = if index % 2 == 0 { "SUB-SH" } else { "SUB-BJ" };
        let request = reserve(
            subsidiary,
            &format!("SO-{index:03}"),
            "700",
            "2026-05-01",
            "2026-05-31",
        );
        tasks.push(tokio::spawn(async move {
            let id = request.command_id.clone();
            (
                id,
                with_retries(|| {
                    let mut client = client.clone();
                    let request = request.clone();
                    async move { client.reserve_credit(request).await }
                })
                .await
                .map(drop),
            )
        }));
    }
    let mut accepted = BTreeSet::new();
    let mut refusals: HashMap<(Code, String), usize> = HashMap::new();
    for task in tasks {
        let (id, result) = task.await.unwrap();
        match result {
            Ok(()) => {
                accepted.insert(id);
            }
            Err(refusal) => *refusals.entry(refusal).or_default() += 1,
        }
    }
    assert_eq!(
        accepted.len(),
        RESERVATIONS_THAT_FIT,
        "refusals {refusals:?}"
    );
    assert_eq!(
        refusals.get(&(Code::FailedPrecondition, "CREDIT_LIMIT_EXCEEDED".into())),
        Some(&(CLIENTS - RESERVATIONS_THAT_FIT)),
        "{refusals:?}"
    );

    // The stream is the truth: replayed, what is reserved never passes the limit, and every
    // accepted command has exactly one event.
    let mut reserved = 0;
    let mut recorded = BTreeSet::new();
    for event in raw_events(&nats.url()).await {
        match event.json["type"].as_str().unwrap() {
            "CreditLimitChanged" => {}
            "CreditReserved" => {
                reserved += fen(event.json["data"]["amount"]["amount"].as_str().unwrap());
                assert_eq!(
                    reserved,
                    fen(
                        event.json["data"]["credit_check"]["exposure_after"]["amount"]
                            .as_str()
                            .unwrap()
                    )
                );
                assert!(
                    reserved <= LIMIT_FEN,
                    "reserved {reserved} above the limit at {}",
                    event.sequence
                );
                assert!(recorded.insert(event.json["command_id"].as_str().unwrap().to_owned()));
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(recorded, accepted);
    for service in services {
        service.stop().await;
    }
}
