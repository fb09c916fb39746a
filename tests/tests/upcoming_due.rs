//! What falls due soon (`ListUpcomingDue`), the list collectors send reminders from, posted to
//! `receivables serve` on both backend pairs (the embedded SQLite log and read model; NATS
//! JetStream and PostgreSQL), every item worked out by hand.
//!
//! Collectors: Wang Fang is R1's; Li Na is SUB-BJ's default; R2 has none of its own and SUB-SH
//! no default. Invoices, every amount CNY:
//! - R1 SUB-SH INV-1 1,000.00 due 03-10; INV-2 500.00 due 03-17, paid on 03-12; INV-3 300.00
//!   due 03-18; INV-4 200.00 due 03-09.
//! - R2 SUB-BJ INV-5 800.00 due 03-12, 300.00 of it paid on 03-05; INV-6 400.00 due 03-15,
//!   disputed whole from 03-08.
//! - R2 SUB-SH INV-7 600.00 in two rows: 300.00 on 03-11, 300.00 on 04-11.
//!
//! As of 03-10, within 7 days (through 03-17), in due order: INV-1 (0 days, 1,000.00, Wang Fang),
//! INV-7's row 0 (1 day, 300.00, no collector), INV-5 (2 days, 500.00 left, Li Na), INV-2 (7
//! days, 500.00: its payment comes later, Wang Fang). INV-3 is a day too late, INV-4 overdue,
//! INV-6 held back by its dispute, INV-7's row 1 a month away. As of 03-12 within 5: INV-5 alone
//! (INV-2 is paid that day).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::*;
use tonic::transport::Channel;

type Read = QueryServiceClient<Channel>;

fn upcoming(as_of: &str, within_days: u32, at: u64) -> pb::ListUpcomingDueRequest {
    pb::ListUpcomingDueRequest {
        as_of: as_of.to_owned(),
        within_days,
        min_position: at,
        ..Default::default()
    }
}

/// Each item as `due days customer invoice[#row] open collector`.
async fn listed(read: &mut Read, request: pb::ListUpcomingDueRequest) -> Vec<String> {
    let reply = read.list_upcoming_due(request).await.unwrap().into_inner();
    assert!(reply.next_page_token.is_empty(), "{reply:?}");
    shown(&reply.items)
}

fn shown(items: &[pb::UpcomingDue]) -> Vec<String> {
    items
        .iter()
        .map(|item| {
            let invoice = item.invoice.as_ref().unwrap();
            let row = item.row_index.map_or(String::new(), |r| format!("#{r}"));
            let open = item.open.as_ref().unwrap();
            format!(
                "{} {} {} {}/{}{row} {} {} {}",
                item.due_date,
                item.days_until_due,
                item.customer_id,
                invoice.subsidiary_id,
                invoice.invoice_number,
                open.amount,
                open.currency,
                item.collector
            )
            .trim_end()
            .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    upcoming_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    upcoming_as_worked_out_by_hand(Backends::Servers).await;
}

async fn upcoming_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut read = service.queries().await;

    let assign = |customer: &str, default_for: &str, collector: &str| pb::AssignCollectorRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        default_for_subsidiary_id: default_for.to_owned(),
        collector: collector.to_owned(),
    };
    write
        .assign_collector(assign("R1", "", "Wang Fang"))
        .await
        .unwrap();
    write
        .assign_collector(assign("", "SUB-BJ", "Li Na"))
        .await
        .unwrap();
    for (customer, subsidiary, number, amount, due) in [
        ("R1", "SUB-SH", "INV-1", "1000", "2026-03-10"),
        ("R1", "SUB-SH", "INV-2", "500", "2026-03-17"),
        ("R1", "SUB-SH", "INV-3", "300", "2026-03-18"),
        ("R1", "SUB-SH", "INV-4", "200", "2026-03-09"),
        ("R2", "SUB-BJ", "INV-5", "800", "2026-03-12"),
        ("R2", "SUB-BJ", "INV-6", "400", "2026-03-15"),
    ] {
        write
            .issue_invoice(invoice(
                customer,
                subsidiary,
                number,
                amount,
                "2026-03-01",
                due,
            ))
            .await
            .unwrap();
    }
    write
        .issue_invoice(pb::IssueInvoiceRequest {
            due: None,
            schedule: [("2026-03-11", "300"), ("2026-04-11", "300")]
                .into_iter()
                .map(|(due, amount)| pb::ScheduleRow {
                    due_date: due.to_owned(),
                    amount: cny(amount),
                })
                .collect(),
            ..invoice("R2", "SUB-SH", "INV-7", "600", "2026-03-01", "2026-03-01")
        })
        .await
        .unwrap();
    write
        .record_payment(pb::RecordPaymentRequest {
            allocations: vec![allocation("SUB-BJ", "INV-5", "300")],
            ..payment("R2", "SUB-BJ", "300", "2026-03-05")
        })
        .await
        .unwrap();
    write
        .open_dispute(pb::OpenDisputeRequest {
            command_id: command_id(),
            customer_id: "R2".to_owned(),
            invoice: invoice_ref("SUB-BJ", "INV-6"),
            amount: cny("400"),
            reason: pb::DisputeReason::Quality.into(),
            note: String::new(),
            opened_on: "2026-03-08".to_owned(),
            expires_on: String::new(),
        })
        .await
        .unwrap();
    let last = write
        .record_payment(pb::RecordPaymentRequest {
            allocations: vec![allocation("SUB-SH", "INV-2", "500")],
            ..payment("R1", "SUB-SH", "500", "2026-03-12")
        })
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap()
        .position;

    let everything = [
        "2026-03-10 0 R1 SUB-SH/INV-1 1000.00 CNY Wang Fang",
        "2026-03-11 1 R2 SUB-SH/INV-7#0 300.00 CNY",
        "2026-03-12 2 R2 SUB-BJ/INV-5 500.00 CNY Li Na",
        "2026-03-17 7 R1 SUB-SH/INV-2 500.00 CNY Wang Fang",
    ];
    assert_eq!(
        listed(&mut read, upcoming("2026-03-10", 7, last)).await,
        everything
    );
    // Filtered by collector, by subsidiary, by customer.
    assert_eq!(
        listed(
            &mut read,
            pb::ListUpcomingDueRequest {
                collector: "Li Na".to_owned(),
                ..upcoming("2026-03-10", 7, last)
            }
        )
        .await,
        [everything[2]]
    );
    assert_eq!(
        listed(
            &mut read,
            pb::ListUpcomingDueRequest {
                subsidiary_id: "SUB-SH".to_owned(),
                ..upcoming("2026-03-10", 7, last)
            }
        )
        .await,
        [everything[0], everything[1], everything[3]]
    );
    assert_eq!(
        listed(
            &mut read,
            pb::ListUpcomingDueRequest {
                customer_id: "R1".to_owned(),
                ..upcoming("2026-03-10", 7, last)
            }
        )
        .await,
        [everything[0], everything[3]]
    );
    // Two pages of two, the second after the first's last item.
    let first = read
        .list_upcoming_due(pb::ListUpcomingDueRequest {
            page_size: 2,
            ..upcoming("2026-03-10", 7, last)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&first.items), everything[..2]);
    assert!(!first.next_page_token.is_empty());
    let second = read
        .list_upcoming_due(pb::ListUpcomingDueRequest {
            page_size: 2,
            page_token: first.next_page_token,
            ..upcoming("2026-03-10", 7, last)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&second.items), everything[2..]);
    assert!(second.next_page_token.is_empty());
    // Two days on, INV-2 is paid and INV-7's first row is past due.
    assert_eq!(
        listed(&mut read, upcoming("2026-03-12", 5, last)).await,
        ["2026-03-12 0 R2 SUB-BJ/INV-5 500.00 CNY Li Na"]
    );
    // A window beyond a quarter is refused, naming the field.
    let status = read
        .list_upcoming_due(upcoming("2026-03-10", 93, last))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("within_days"), "{status:?}");

    service.stop().await;
    data.remove().await;
}
