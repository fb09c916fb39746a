//! Collection activities (`RecordCollectionActivity`, `ListCollectionActivities`) and what the
//! work queue makes of them, posted to `receivables serve` on both backend pairs (the embedded
//! SQLite log and read model; NATS JetStream and PostgreSQL), every figure worked out by hand.
//!
//! Invoices, every amount CNY, issued 2026-02-01:
//! - A1 SUB-SH INV-1 1,000.00 due 03-01; A2 SUB-SH INV-2 2,000.00 due 03-05; A3 SUB-BJ INV-3
//!   500.00 due 03-10.
//!
//! Activities, in the order recorded:
//! 1. A2, 03-08, visit by Li Na, reached, next action 03-30.
//! 2. A1, 03-10, call by Wang Fang, reached, next action 03-25.
//! 3. A1, 03-10, SMS by Wang Fang, no answer, next action 03-22: the later of the day, so A1's
//!    plan is 03-22 from now on.
//! 4. A2, 03-12, email by Li Na, no answer, no plan: it replaces the visit's plan.
//!
//! As of 03-09: A1 is 8 days past due, never contacted (8 days since contact: its days past
//! due): 0.001 × 1000 + 8 = 9; A2 is 4 days past due, snoozed by the visit's plan until 03-30
//! (with snoozed items 0.001 × 2000 + 4 = 6, 1 day since the visit); A3 is not due yet.
//!
//! As of 03-20, weighing each day since the last contact 2 points:
//! - A1: snoozed until 03-22; with snoozed items 0.001 × 1000 + 19 + 2 × 10 = 40.
//! - A2: 0.001 × 2000 + 15 + 2 × 8 (since 03-12) = 33.
//! - A3: 0.001 × 500 + 10 + 2 × 10 (never contacted: its 10 days past due) = 30.5.
//!
//! As of 03-22, default weights: A1 is back: 1 + 21 = 22; A2 2 + 17 = 19; A3 0.5 + 12 = 12.5.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::*;
use tonic::Code;
use tonic::transport::Channel;

type Read = QueryServiceClient<Channel>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    activities_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    activities_as_worked_out_by_hand(Backends::Servers).await;
}

struct Contact {
    customer: &'static str,
    on: &'static str,
    channel: pb::ContactChannel,
    outcome: pb::ContactOutcome,
    collector: &'static str,
    next: &'static str,
}

fn request(contact: &Contact) -> pb::RecordCollectionActivityRequest {
    pb::RecordCollectionActivityRequest {
        command_id: command_id(),
        customer_id: contact.customer.to_owned(),
        subsidiary_id: "SUB-SH".to_owned(),
        channel: contact.channel.into(),
        outcome: contact.outcome.into(),
        occurred_on: contact.on.to_owned(),
        collector: contact.collector.to_owned(),
        contact: "accounts payable".to_owned(),
        note: format!("{} {}", contact.customer, contact.on),
        next_action_on: contact.next.to_owned(),
        invoices: Vec::new(),
    }
}

fn queue(as_of: &str, since_contact: &str, at: u64) -> pb::GetWorkQueueRequest {
    pb::GetWorkQueueRequest {
        as_of: as_of.to_owned(),
        weights: Some(pb::WorkQueueWeights {
            since_contact: since_contact.to_owned(),
            ..Default::default()
        }),
        min_position: at,
        ..Default::default()
    }
}

/// Each item as `customer score days-since-contact last-contact-date snoozed-until`.
async fn items(read: &mut Read, request: pb::GetWorkQueueRequest) -> Vec<String> {
    let reply = read.get_work_queue(request).await.unwrap().into_inner();
    reply
        .items
        .iter()
        .map(|item| {
            let last = item
                .last_contact
                .as_ref()
                .map_or("-", |c| c.occurred_on.as_str());
            format!(
                "{} {} {} {last} {}",
                item.customer_id, item.score, item.days_since_contact, item.snoozed_until
            )
            .trim_end()
            .to_owned()
        })
        .collect()
}

/// Each activity as `date customer channel outcome collector next`.
fn shown(activities: &[pb::CollectionActivity]) -> Vec<String> {
    activities
        .iter()
        .map(|a| {
            format!(
                "{} {} {:?} {:?} {} {}",
                a.occurred_on,
                a.customer_id,
                a.channel(),
                a.outcome(),
                a.collector,
                a.next_action_on
            )
            .trim_end()
            .to_owned()
        })
        .collect()
}

fn listing(at: u64) -> pb::ListCollectionActivitiesRequest {
    pb::ListCollectionActivitiesRequest {
        from: "2026-03-01".to_owned(),
        to: "2026-03-31".to_owned(),
        min_position: at,
        ..Default::default()
    }
}

async fn activities_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut read = service.queries().await;

    for (customer, subsidiary, number, amount, due) in [
        ("A1", "SUB-SH", "INV-1", "1000", "2026-03-01"),
        ("A2", "SUB-SH", "INV-2", "2000", "2026-03-05"),
        ("A3", "SUB-BJ", "INV-3", "500", "2026-03-10"),
    ] {
        write
            .issue_invoice(invoice(
                customer,
                subsidiary,
                number,
                amount,
                "2026-02-01",
                due,
            ))
            .await
            .unwrap();
    }
    use pb::ContactChannel::{Call, Email, Sms, Visit};
    use pb::ContactOutcome::{NoAnswer, Reached};
    let contacts = [
        Contact {
            customer: "A2",
            on: "2026-03-08",
            channel: Visit,
            outcome: Reached,
            collector: "Li Na",
            next: "2026-03-30",
        },
        Contact {
            customer: "A1",
            on: "2026-03-10",
            channel: Call,
            outcome: Reached,
            collector: "Wang Fang",
            next: "2026-03-25",
        },
        Contact {
            customer: "A1",
            on: "2026-03-10",
            channel: Sms,
            outcome: NoAnswer,
            collector: "Wang Fang",
            next: "2026-03-22",
        },
        Contact {
            customer: "A2",
            on: "2026-03-12",
            channel: Email,
            outcome: NoAnswer,
            collector: "Li Na",
            next: "",
        },
    ];
    let mut last = 0;
    for contact in &contacts {
        let sent = request(contact);
        let receipt = write
            .record_collection_activity(sent.clone())
            .await
            .unwrap()
            .into_inner()
            .receipt
            .unwrap();
        // The same command again is answered with its first reply.
        let again = write
            .record_collection_activity(sent)
            .await
            .unwrap()
            .into_inner()
            .receipt
            .unwrap();
        assert_eq!(again.position, receipt.position);
        assert!(again.replayed);
        last = receipt.position;
    }

    // As of 03-09: A1 alone, never contacted; A2 snoozed by the visit's plan.
    assert_eq!(
        items(&mut read, queue("2026-03-09", "", last)).await,
        ["A1 9 8 -"]
    );
    assert_eq!(
        items(
            &mut read,
            pb::GetWorkQueueRequest {
                include_snoozed: true,
                ..queue("2026-03-09", "", last)
            }
        )
        .await,
        ["A1 9 8 -", "A2 6 1 2026-03-08 2026-03-30"]
    );

    // As of 03-20, two points per day since the last contact.
    assert_eq!(
        items(&mut read, queue("2026-03-20", "2", last)).await,
        ["A2 33 8 2026-03-12", "A3 30.5 10 -"]
    );
    let with_snoozed = read
        .get_work_queue(pb::GetWorkQueueRequest {
            include_snoozed: true,
            ..queue("2026-03-20", "2", last)
        })
        .await
        .unwrap()
        .into_inner();
    let a1 = &with_snoozed.items[0];
    assert_eq!(
        (
            a1.customer_id.as_str(),
            a1.score.as_str(),
            a1.snoozed_until.as_str()
        ),
        ("A1", "40", "2026-03-22")
    );
    assert_eq!(
        a1.rule,
        "0.001 * 1000.00 CNY overdue + 1 * 19 days past due + 25 * 0 broken or partially kept \
         promises + 2 * 10 days since the last contact = 40"
    );
    // The last contact is the later of the two on 03-10: the SMS.
    let contact = a1.last_contact.as_ref().unwrap();
    assert_eq!(
        (
            contact.channel(),
            contact.outcome(),
            contact.collector.as_str()
        ),
        (Sms, NoAnswer, "Wang Fang")
    );
    assert_eq!(contact.next_action_on, "2026-03-22");
    assert_eq!(contact.note, "A1 2026-03-10");

    // As of 03-22, default weights: A1's plan has come, it is back.
    assert_eq!(
        items(&mut read, queue("2026-03-22", "", last)).await,
        ["A1 22 12 2026-03-10", "A2 19 10 2026-03-12", "A3 12.5 12 -"]
    );

    // The listing, newest first, the later of one day first.
    let everything = [
        "2026-03-12 A2 Email NoAnswer Li Na",
        "2026-03-10 A1 Sms NoAnswer Wang Fang 2026-03-22",
        "2026-03-10 A1 Call Reached Wang Fang 2026-03-25",
        "2026-03-08 A2 Visit Reached Li Na 2026-03-30",
    ];
    let all = read
        .list_collection_activities(listing(last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&all.activities), everything);
    assert!(all.next_page_token.is_empty());
    let by_collector = read
        .list_collection_activities(pb::ListCollectionActivitiesRequest {
            collector: "Li Na".to_owned(),
            ..listing(last)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        shown(&by_collector.activities),
        [everything[0], everything[3]]
    );
    let by_customer = read
        .list_collection_activities(pb::ListCollectionActivitiesRequest {
            customer_id: "A1".to_owned(),
            from: "2026-03-09".to_owned(),
            to: "2026-03-11".to_owned(),
            ..listing(last)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&by_customer.activities), everything[1..3]);
    // Pages of three: the second starts after the first's last.
    let first = read
        .list_collection_activities(pb::ListCollectionActivitiesRequest {
            page_size: 3,
            ..listing(last)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&first.activities), everything[..3]);
    let second = read
        .list_collection_activities(pb::ListCollectionActivitiesRequest {
            page_size: 3,
            page_token: first.next_page_token,
            ..listing(last)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown(&second.activities), everything[3..]);
    assert!(second.next_page_token.is_empty());

    // Bad input: every field named at once, nothing appended.
    let status = write
        .record_collection_activity(pb::RecordCollectionActivityRequest {
            command_id: command_id(),
            customer_id: "A1".to_owned(),
            subsidiary_id: "SUB-SH".to_owned(),
            channel: 0,
            outcome: 99,
            occurred_on: "2026-03-10".to_owned(),
            collector: String::new(),
            next_action_on: "2026-03-01".to_owned(),
            invoices: vec![
                pb::InvoiceRef {
                    subsidiary_id: "SUB-SH".to_owned(),
                    invoice_number: "INV-1".to_owned(),
                },
                pb::InvoiceRef {
                    subsidiary_id: "SUB-SH".to_owned(),
                    invoice_number: "INV-1".to_owned(),
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let named = bad_fields(&status);
    assert_eq!(
        named,
        [
            "channel",
            "outcome",
            "collector",
            "invoices[1]",
            "next_action_on"
        ]
    );
    // An invoice the customer was never sent.
    let status = write
        .record_collection_activity(pb::RecordCollectionActivityRequest {
            invoices: vec![pb::InvoiceRef {
                subsidiary_id: "SUB-SH".to_owned(),
                invoice_number: "INV-2".to_owned(),
            }],
            ..request(&contacts[1])
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = read
        .list_collection_activities(pb::ListCollectionActivitiesRequest {
            from: "2026-03-31".to_owned(),
            to: "2026-03-01".to_owned(),
            customer_id: "bad id!".to_owned(),
            ..listing(0)
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let named = bad_fields(&status);
    assert_eq!(named, ["customer_id", "to"]);
    let after = read
        .list_collection_activities(listing(last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.activities.len(), 4, "nothing appended");

    service.stop().await;
    data.remove().await;
}
