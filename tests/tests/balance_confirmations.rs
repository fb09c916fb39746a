//! Balance confirmations end to end: `ConfirmBalance` over real gRPC against a real
//! `nats-server` with JetStream that every case starts for itself.
//!
//! Acceptances: a confirmation that agrees and one that differs, each answered with the balance
//! the account held for the day and the difference, worked out by hand; a retry answered with
//! the first receipt. Refusals: each case sends one bad request and checks the field violations
//! exactly, then that nothing was appended to the stream.
//!
//! The history: `ACME` owes SUB-SH's INV-1 (1,000.00 CNY, issued 2026-01-10), paid 400.00 on
//! 2026-01-20: 600.00 owed from then on, 1,000.00 before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_tests::refusals::*;
use receivables_tests::*;
use tonic::transport::Channel;

const CUSTOMER: &str = "ACME";
const SUB: &str = "SUB-SH";

struct World {
    client: CommandServiceClient<Channel>,
    _service: TestService,
    nats: NatsServer,
}

impl World {
    /// Starts a server and a service and posts the history; `None` when no `nats-server` is
    /// available (outside CI).
    async fn start() -> Option<World> {
        init_logging();
        let nats = NatsServer::start_default().await?;
        let service = TestService::start(&nats.url()).await;
        let mut client = service.client().await;
        client
            .issue_invoice(invoice(
                CUSTOMER,
                SUB,
                "INV-1",
                "1000",
                "2026-01-10",
                "2026-02-09",
            ))
            .await
            .expect("the invoice");
        client
            .record_payment(pb::RecordPaymentRequest {
                allocations: vec![allocation(SUB, "INV-1", "400")],
                ..payment(CUSTOMER, SUB, "400", "2026-01-20")
            })
            .await
            .expect("the payment");
        Some(World {
            client,
            _service: service,
            nats,
        })
    }

    async fn position(&self) -> u64 {
        last_sequence(&self.nats.url()).await
    }

    /// Sends `request`, which must be refused; then checks that nothing was appended.
    async fn refused(&mut self, request: pb::ConfirmBalanceRequest) -> tonic::Status {
        let before = self.position().await;
        let status = self
            .client
            .confirm_balance(request)
            .await
            .expect_err("a bad confirmation was accepted");
        assert_eq!(self.position().await, before, "a refused command appended");
        status
    }
}

/// `CUSTOMER` confirms owing `amount` CNY at the end of `as_of`.
fn confirmation(as_of: &str, amount: &str) -> pb::ConfirmBalanceRequest {
    pb::ConfirmBalanceRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        as_of: as_of.to_owned(),
        confirmed: cny(amount),
        confirmed_by: "Li Na".to_owned(),
        note: "statement of January".to_owned(),
    }
}

fn amount(money: Option<&pb::Money>) -> (String, String) {
    let money = money.expect("an amount");
    (money.amount.clone(), money.currency.clone())
}

fn cny_text(text: &str) -> (String, String) {
    (text.to_owned(), "CNY".to_owned())
}

#[tokio::test]
async fn a_confirmation_that_agrees_has_no_difference_and_a_retry_appends_nothing() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let request = confirmation("2026-01-31", "600");

    let reply = world
        .client
        .confirm_balance(request.clone())
        .await
        .expect("a confirmation")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .confirm_balance(request)
        .await
        .expect("a retry")
        .into_inner();

    // 1,000.00 - 400.00 = 600.00 held; 600.00 - 600.00 = 0.00.
    assert_eq!(amount(reply.balance.as_ref()), cny_text("600.00"));
    assert_eq!(amount(reply.difference.as_ref()), cny_text("0.00"));
    assert!(again.receipt.unwrap().replayed);
    assert_eq!(world.position().await, position);
}

#[tokio::test]
async fn a_confirmation_of_a_day_before_the_payment_differs_by_what_was_paid_later() {
    let Some(mut world) = World::start().await else {
        return;
    };

    // On 01-15 the payment of 01-20 had not arrived: 1,000.00 held; the customer confirms
    // 600.00, as if it had: 600.00 - 1,000.00 = -400.00.
    let reply = world
        .client
        .confirm_balance(confirmation("2026-01-15", "600"))
        .await
        .expect("a confirmation")
        .into_inner();

    assert_eq!(amount(reply.balance.as_ref()), cny_text("1000.00"));
    assert_eq!(amount(reply.difference.as_ref()), cny_text("-400.00"));
}

#[tokio::test]
async fn a_day_in_the_future_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world
        .refused(confirmation(&date_from_today(3), "600"))
        .await;
    assert_eq!(single_field_violation(&status).field, "as_of");
}

#[tokio::test]
async fn a_missing_amount_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world
        .refused(pb::ConfirmBalanceRequest {
            confirmed: None,
            ..confirmation("2026-01-31", "600")
        })
        .await;
    let violation = single_field_violation(&status);
    assert_eq!(
        (violation.field.as_str(), violation.description.as_str()),
        ("confirmed", "is required")
    );
}

#[tokio::test]
async fn an_amount_with_more_decimals_than_its_currency_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world.refused(confirmation("2026-01-31", "600.001")).await;
    assert_eq!(single_field_violation(&status).field, "confirmed.amount");
}

#[tokio::test]
async fn an_unknown_currency_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world
        .refused(pb::ConfirmBalanceRequest {
            confirmed: money("600", "ABC"),
            ..confirmation("2026-01-31", "600")
        })
        .await;
    assert_eq!(single_field_violation(&status).field, "confirmed.currency");
}

#[tokio::test]
async fn a_confirmation_without_whom_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world
        .refused(pb::ConfirmBalanceRequest {
            confirmed_by: String::new(),
            ..confirmation("2026-01-31", "600")
        })
        .await;
    assert_eq!(single_field_violation(&status).field, "confirmed_by");
}

#[tokio::test]
async fn the_groups_own_account_is_refused_as_a_customer() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world
        .refused(pb::ConfirmBalanceRequest {
            customer_id: "_group".to_owned(),
            ..confirmation("2026-01-31", "600")
        })
        .await;
    assert_eq!(single_field_violation(&status).field, "customer_id");
}

#[tokio::test]
async fn an_overlong_note_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world
        .refused(pb::ConfirmBalanceRequest {
            note: "x".repeat(1_001),
            ..confirmation("2026-01-31", "600")
        })
        .await;
    assert_eq!(single_field_violation(&status).field, "note");
}

#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let status = world
        .refused(pb::ConfirmBalanceRequest {
            command_id: "not a uuid".to_owned(),
            customer_id: "a.b".to_owned(),
            as_of: "2026-02-30".to_owned(),
            confirmed: money("1", "ABC"),
            confirmed_by: String::new(),
            note: "x".repeat(1_001),
        })
        .await;
    let fields: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "command_id",
            "customer_id",
            "as_of",
            "confirmed.currency",
            "confirmed_by",
            "note"
        ]
    );
}
