//! Idempotency: the same command sent many times, concurrently, after a restart of the service
//! and after the JetStream duplicate window has passed, yields one event and the first reply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use receivables_api::pb;
use receivables_tests::*;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_command_sent_concurrently_is_appended_once() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let request = invoice("C-1", "SUB-A", "INV-1", "100", "2026-05-01", "2026-05-31");
    let mut tasks = Vec::new();
    for _ in 0..25 {
        let mut client = service.client().await;
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            client.issue_invoice(request).await.unwrap().into_inner()
        }));
    }
    let mut fresh = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        let receipt = reply.receipt.unwrap();
        assert_eq!(receipt.position, 1);
        if !receipt.replayed {
            fresh += 1;
        }
    }
    assert_eq!(
        fresh, 1,
        "exactly one submission appended, the others were answered"
    );
    assert_eq!(last_sequence(&nats.url()).await, 1);
}

#[tokio::test]
async fn a_retry_after_a_restart_of_the_service_returns_the_first_reply() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    client
        .issue_invoice(invoice(
            "C-1",
            "SUB-A",
            "INV-1",
            "300",
            "2026-05-01",
            "2026-05-31",
        ))
        .await
        .unwrap();
    let pay = payment("C-1", "SUB-A", "500", "2026-05-20");
    let first = client
        .record_payment(pay.clone())
        .await
        .unwrap()
        .into_inner();
    service.stop().await;

    // A new instance with a cold cache; in between, another invoice changes what an oldest-due
    // allocation would decide today.
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    client
        .issue_invoice(invoice(
            "C-1",
            "SUB-A",
            "INV-2",
            "400",
            "2026-04-01",
            "2026-04-30",
        ))
        .await
        .unwrap();
    let before = last_sequence(&nats.url()).await;
    let again = client.record_payment(pay).await.unwrap().into_inner();
    assert!(again.receipt.as_ref().unwrap().replayed);
    assert_eq!(
        again.receipt.as_ref().unwrap().position,
        first.receipt.as_ref().unwrap().position
    );
    assert_eq!(
        again.receipt.unwrap().event_id,
        first.receipt.unwrap().event_id
    );
    assert_eq!(
        again.allocations, first.allocations,
        "the decision is the recorded one"
    );
    assert_eq!(again.unapplied, first.unapplied);
    assert_eq!(last_sequence(&nats.url()).await, before);
}

#[tokio::test]
async fn a_retry_after_the_duplicate_window_is_still_recognised() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let mut args = service_args(&nats.url());
    args.nats.duplicate_window_secs = 1;
    let service = TestService::start_with(args.clone()).await;
    let mut client = service.client().await;
    let request = invoice("C-1", "SUB-A", "INV-1", "100", "2026-05-01", "2026-05-31");
    let first = client
        .issue_invoice(request.clone())
        .await
        .unwrap()
        .into_inner();
    service.stop().await;
    // Past the window the server no longer remembers the message id; only the account does.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let service = TestService::start_with(args).await;
    let mut client = service.client().await;
    let again = client
        .issue_invoice(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(again.receipt.as_ref().unwrap().replayed);
    assert_eq!(
        again.receipt.unwrap().position,
        first.receipt.unwrap().position
    );
    assert_eq!(last_sequence(&nats.url()).await, 1);

    // The same id with other content is refused, also now.
    let mut changed = request;
    changed.amount = cny("101");
    let status = client.issue_invoice(changed).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(
        status.get_error_details().error_info().unwrap().reason,
        "COMMAND_ID_REUSED"
    );
    assert_eq!(last_sequence(&nats.url()).await, 1);
}

#[tokio::test]
async fn a_command_id_used_for_another_customer_within_the_window_is_refused() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    let first = invoice("C-1", "SUB-A", "INV-1", "100", "2026-05-01", "2026-05-31");
    client.issue_invoice(first.clone()).await.unwrap();
    let mut other = invoice("C-2", "SUB-A", "INV-2", "100", "2026-05-01", "2026-05-31");
    other.command_id = first.command_id.clone();
    let status = client.issue_invoice(other).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(
        status.get_error_details().error_info().unwrap().reason,
        "COMMAND_ID_REUSED"
    );
    assert_eq!(last_sequence(&nats.url()).await, 1);
}

#[tokio::test]
async fn every_command_type_answers_a_retry_with_its_first_reply() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    let inv = invoice("C-1", "SUB-A", "INV-1", "100", "2026-05-01", "2026-05-31");
    let limit = credit_limit("C-1", "5000", pb::CreditPolicy::Warn);
    let prom = promise("C-1", "SUB-A", "50", "2026-05-02", "2026-05-10");
    let a = client
        .issue_invoice(inv.clone())
        .await
        .unwrap()
        .into_inner();
    let b = client
        .change_credit_limit(limit.clone())
        .await
        .unwrap()
        .into_inner();
    let c = client
        .record_promise_to_pay(prom.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(last_sequence(&nats.url()).await, 3);
    let a2 = client.issue_invoice(inv).await.unwrap().into_inner();
    let b2 = client
        .change_credit_limit(limit)
        .await
        .unwrap()
        .into_inner();
    let c2 = client
        .record_promise_to_pay(prom)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a2.receipt.unwrap().position, a.receipt.unwrap().position);
    assert_eq!(b2.receipt.unwrap().position, b.receipt.unwrap().position);
    assert_eq!(c2.promise_id, c.promise_id);
    assert_eq!(last_sequence(&nats.url()).await, 3);
}
