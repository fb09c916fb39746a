//! Bad input to the commands of payment terms, instalment plans and discounts, over real gRPC
//! against a real `nats-server` with JetStream that every case starts for itself: each case
//! sends one bad request, checks the refusal (every offending field named, or the precondition
//! and its subject), then that nothing was appended to the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::terms_line::Due;
use receivables_tests::refusals::*;
use receivables_tests::*;

const CUSTOMER: &str = "ACME";
const SUBSIDIARY: &str = "SUB-SH";

fn line(portion: &str, due: Due) -> pb::TermsLine {
    pb::TermsLine {
        portion: portion.to_owned(),
        due: Some(due),
    }
}

/// `2-10-NET30`: due in 30 days, 2 % off within 10.
fn two_ten_net_thirty() -> pb::DefinePaymentTermsRequest {
    terms(vec![line("100", Due::NetDays(30))], Some(("2", 10)))
}

fn terms(
    lines: Vec<pb::TermsLine>,
    discount: Option<(&str, u32)>,
) -> pb::DefinePaymentTermsRequest {
    pb::DefinePaymentTermsRequest {
        command_id: command_id(),
        code: "2-10-NET30".to_owned(),
        description: String::new(),
        lines,
        discount: discount.map(|(percent, within_days)| pb::EarlyPaymentDiscount {
            percent: percent.to_owned(),
            within_days,
        }),
    }
}

fn rows(rows: &[(&str, &str, &str)]) -> Vec<pb::ScheduleRow> {
    rows.iter()
        .map(|(due, amount, currency)| pb::ScheduleRow {
            due_date: (*due).to_owned(),
            amount: money(amount, currency),
        })
        .collect()
}

/// A 1,000.00 CNY invoice issued 2026-06-01 on an explicit schedule of `rows`.
fn scheduled(number: &str, schedule: Vec<pb::ScheduleRow>) -> pb::IssueInvoiceRequest {
    pb::IssueInvoiceRequest {
        due: None,
        schedule,
        ..invoice(
            CUSTOMER,
            SUBSIDIARY,
            number,
            "1000",
            "2026-06-01",
            "2026-06-01",
        )
    }
}

fn names(status: &tonic::Status) -> Vec<String> {
    field_violations(status)
        .into_iter()
        .map(|v| v.field)
        .collect()
}

/// The fields the refusal of a template names, in its order.
async fn refused_terms(request: pb::DefinePaymentTermsRequest) -> Option<Vec<String>> {
    let world = RefusalWorld::start().await?;
    let status = world
        .refused(world.client.clone().define_payment_terms(request))
        .await;
    Some(names(&status))
}

/// The fields the refusal of an invoice names, in its order.
async fn refused_invoice(request: pb::IssueInvoiceRequest) -> Option<Vec<String>> {
    let world = RefusalWorld::start().await?;
    let status = world
        .refused(world.client.clone().issue_invoice(request))
        .await;
    Some(names(&status))
}

/// A world where INV-1 (1,000.00 CNY, issued 2026-06-01, due 2026-07-01) is issued.
async fn with_invoice() -> Option<RefusalWorld> {
    let world = RefusalWorld::start().await?;
    world
        .client
        .clone()
        .issue_invoice(invoice(
            CUSTOMER,
            SUBSIDIARY,
            "INV-1",
            "1000",
            "2026-06-01",
            "2026-07-01",
        ))
        .await
        .unwrap();
    Some(world)
}

fn plan(agreed_on: &str, instalments: &[(&str, &str, &str)]) -> pb::AgreeInstalmentPlanRequest {
    pb::AgreeInstalmentPlanRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        invoice: invoice_ref(SUBSIDIARY, "INV-1"),
        agreed_on: agreed_on.to_owned(),
        rows: rows(instalments),
        collector: "li.wei".to_owned(),
        note: String::new(),
    }
}

fn discount(payment_id: &str, amount: &str) -> pb::AllowDiscountRequest {
    pb::AllowDiscountRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        invoice: invoice_ref(SUBSIDIARY, "D-1"),
        payment_id: payment_id.to_owned(),
        amount: cny(amount),
        note: String::new(),
    }
}

/// A world where D-1 (1,000.00 CNY on 2-10-NET30, issued 2026-06-01: the window's last day is
/// 2026-06-11) is issued and a payment of `paid` received on `received` was applied to it;
/// with the payment's command id.
async fn with_discountable(paid: &str, received: &str) -> Option<(RefusalWorld, String)> {
    let world = RefusalWorld::start().await?;
    let mut client = world.client.clone();
    client
        .define_payment_terms(two_ten_net_thirty())
        .await
        .unwrap();
    client
        .issue_invoice(pb::IssueInvoiceRequest {
            due: Some(pb::issue_invoice_request::Due::PaymentTerms(
                "2-10-NET30".to_owned(),
            )),
            ..invoice(
                CUSTOMER,
                SUBSIDIARY,
                "D-1",
                "1000",
                "2026-06-01",
                "2026-06-01",
            )
        })
        .await
        .unwrap();
    let request = payment(CUSTOMER, SUBSIDIARY, paid, received);
    let id = request.command_id.clone();
    client.record_payment(request).await.unwrap();
    Some((world, id))
}

// DefinePaymentTerms

#[tokio::test]
async fn terms_whose_portions_add_up_to_99_are_refused() {
    let Some(fields) = refused_terms(terms(
        vec![line("49", Due::NetDays(0)), line("50", Due::NetDays(30))],
        None,
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["terms.lines"]);
}

#[tokio::test]
async fn terms_without_lines_are_refused() {
    let Some(fields) = refused_terms(terms(Vec::new(), None)).await else {
        return;
    };
    assert_eq!(fields, ["terms.lines"]);
}

#[tokio::test]
async fn a_portion_of_zero_is_refused() {
    let Some(fields) = refused_terms(terms(
        vec![line("100", Due::NetDays(0)), line("0", Due::NetDays(30))],
        None,
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["terms.lines[1].portion"]);
}

#[tokio::test]
async fn a_portion_with_three_decimals_is_refused() {
    let Some(fields) = refused_terms(terms(
        vec![
            line("33.333", Due::NetDays(0)),
            line("66.667", Due::NetDays(30)),
        ],
        None,
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["terms.lines[0].portion", "terms.lines[1].portion"]);
}

#[tokio::test]
async fn day_32_of_the_next_month_is_refused() {
    let Some(fields) = refused_terms(terms(vec![line("100", Due::DayOfNextMonth(32))], None)).await
    else {
        return;
    };
    assert_eq!(fields, ["terms.lines[0].due"]);
}

#[tokio::test]
async fn terms_of_more_than_ten_years_are_refused() {
    let Some(fields) = refused_terms(terms(
        vec![line("100", Due::DaysAfterMonthEnd(3_651))],
        None,
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["terms.lines[0].due"]);
}

#[tokio::test]
async fn a_line_without_a_rule_is_refused() {
    let Some(fields) = refused_terms(terms(
        vec![pb::TermsLine {
            portion: "100".to_owned(),
            due: None,
        }],
        None,
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["terms.lines[0].due"]);
}

#[tokio::test]
async fn a_discount_of_100_percent_is_refused() {
    let Some(fields) = refused_terms(terms(
        vec![line("100", Due::NetDays(30))],
        Some(("100", 10)),
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["terms.discount.percent"]);
}

#[tokio::test]
async fn a_code_with_a_space_is_refused() {
    let Some(fields) = refused_terms(pb::DefinePaymentTermsRequest {
        code: "NET 30".to_owned(),
        ..two_ten_net_thirty()
    })
    .await
    else {
        return;
    };
    assert_eq!(fields, ["code"]);
}

#[tokio::test]
async fn defining_a_template_again_as_it_is_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    world
        .client
        .clone()
        .define_payment_terms(two_ten_net_thirty())
        .await
        .unwrap();
    let status = world
        .refused(
            world
                .client
                .clone()
                .define_payment_terms(two_ten_net_thirty()),
        )
        .await;
    precondition_refused(
        &status,
        "PAYMENT_TERMS_UNCHANGED",
        "group/payment_terms/2-10-NET30",
    );
}

// IssueInvoice with terms or a schedule

#[tokio::test]
async fn an_invoice_on_unknown_terms_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().issue_invoice(pb::IssueInvoiceRequest {
            due: Some(pb::issue_invoice_request::Due::PaymentTerms(
                "NET45".to_owned(),
            )),
            ..invoice(
                CUSTOMER,
                SUBSIDIARY,
                "INV-1",
                "100",
                "2026-06-01",
                "2026-06-01",
            )
        }))
        .await;
    let (_, metadata) = precondition_refused(
        &status,
        "PAYMENT_TERMS_UNKNOWN",
        "group/payment_terms/NET45",
    );
    assert_eq!(metadata["payment_terms"], "NET45");
}

#[tokio::test]
async fn a_schedule_row_in_another_currency_than_the_invoice_is_refused() {
    let Some(fields) = refused_invoice(scheduled(
        "INV-1",
        rows(&[("2026-06-30", "500", "CNY"), ("2026-07-31", "500", "USD")]),
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["schedule[1].amount"]);
}

#[tokio::test]
async fn a_schedule_that_does_not_add_up_to_the_amount_is_refused() {
    let Some(fields) = refused_invoice(scheduled(
        "INV-1",
        rows(&[
            ("2026-06-30", "500", "CNY"),
            ("2026-07-31", "499.99", "CNY"),
        ]),
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["schedule"]);
}

#[tokio::test]
async fn a_schedule_row_due_before_the_issue_date_is_refused() {
    let Some(fields) = refused_invoice(scheduled(
        "INV-1",
        rows(&[("2026-05-31", "500", "CNY"), ("2026-07-31", "500", "CNY")]),
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["schedule[0].due_date"]);
}

#[tokio::test]
async fn two_schedule_rows_on_one_date_are_refused() {
    let Some(fields) = refused_invoice(scheduled(
        "INV-1",
        rows(&[("2026-06-30", "500", "CNY"), ("2026-06-30", "500", "CNY")]),
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["schedule[1].due_date"]);
}

#[tokio::test]
async fn a_schedule_beside_a_due_date_is_refused() {
    let Some(fields) = refused_invoice(pb::IssueInvoiceRequest {
        due: Some(pb::issue_invoice_request::Due::DueDate(
            "2026-07-01".to_owned(),
        )),
        ..scheduled("INV-1", rows(&[("2026-07-01", "1000", "CNY")]))
    })
    .await
    else {
        return;
    };
    assert_eq!(fields, ["schedule"]);
}

// AgreeInstalmentPlan and CancelInstalmentPlan

#[tokio::test]
async fn a_plan_for_an_invoice_not_yet_overdue_is_refused() {
    let Some(world) = with_invoice().await else {
        return;
    };
    // INV-1 is due 07-01: on 06-20 nothing is overdue.
    let status = world
        .refused(
            world
                .client
                .clone()
                .agree_instalment_plan(plan("2026-06-20", &[("2026-07-31", "1000", "CNY")])),
        )
        .await;
    precondition_refused(&status, "INVOICE_NOT_OVERDUE", "invoices/SUB-SH/INV-1");
}

#[tokio::test]
async fn a_plan_that_does_not_add_up_to_what_is_owed_is_refused() {
    let Some(world) = with_invoice().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().agree_instalment_plan(plan(
            "2026-07-15",
            &[("2026-07-31", "400", "CNY"), ("2026-08-31", "500", "CNY")],
        )))
        .await;
    let (_, metadata) =
        precondition_refused(&status, "PLAN_AMOUNT_MISMATCH", "invoices/SUB-SH/INV-1");
    assert_eq!(metadata["open_amount"], "1000.00");
    assert_eq!(metadata["instalments_total"], "900.00");
}

#[tokio::test]
async fn a_plan_in_another_currency_than_the_invoice_is_refused() {
    let Some(world) = with_invoice().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .agree_instalment_plan(plan("2026-07-15", &[("2026-07-31", "1000", "USD")])),
        )
        .await;
    precondition_refused(&status, "CURRENCY_MISMATCH", "invoices/SUB-SH/INV-1");
}

#[tokio::test]
async fn a_second_plan_while_one_holds_is_refused() {
    let Some(world) = with_invoice().await else {
        return;
    };
    let instalments = [("2026-07-31", "500", "CNY"), ("2026-08-31", "500", "CNY")];
    world
        .client
        .clone()
        .agree_instalment_plan(plan("2026-07-15", &instalments))
        .await
        .unwrap();
    let status = world
        .refused(
            world
                .client
                .clone()
                .agree_instalment_plan(plan("2026-07-20", &instalments)),
        )
        .await;
    precondition_refused(&status, "PLAN_ALREADY_IN_FORCE", "invoices/SUB-SH/INV-1");
}

#[tokio::test]
async fn a_plan_without_instalments_or_collector_names_both() {
    let Some(world) = with_invoice().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .agree_instalment_plan(pb::AgreeInstalmentPlanRequest {
                    collector: String::new(),
                    ..plan("2026-07-15", &[])
                }),
        )
        .await;
    assert_eq!(names(&status), ["rows", "collector"]);
}

#[tokio::test]
async fn cancelling_where_no_plan_holds_is_refused() {
    let Some(world) = with_invoice().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .cancel_instalment_plan(pb::CancelInstalmentPlanRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    invoice: invoice_ref(SUBSIDIARY, "INV-1"),
                    cancelled_on: "2026-07-20".to_owned(),
                    reason: "asked by mistake".to_owned(),
                }),
        )
        .await;
    precondition_refused(&status, "NO_PLAN_IN_FORCE", "invoices/SUB-SH/INV-1");
}

#[tokio::test]
async fn a_cancellation_without_a_reason_is_refused() {
    let Some(world) = with_invoice().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .cancel_instalment_plan(pb::CancelInstalmentPlanRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    invoice: invoice_ref(SUBSIDIARY, "INV-1"),
                    cancelled_on: "2026-07-20".to_owned(),
                    reason: "  ".to_owned(),
                }),
        )
        .await;
    assert_eq!(names(&status), ["reason"]);
}

// AllowDiscount

#[tokio::test]
async fn a_discount_for_a_payment_after_the_window_is_refused() {
    let Some((world, payment_id)) = with_discountable("980", "2026-06-12").await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .allow_discount(discount(&payment_id, "20")),
        )
        .await;
    let (_, metadata) =
        precondition_refused(&status, "DISCOUNT_WINDOW_CLOSED", "invoices/SUB-SH/D-1");
    assert_eq!(metadata["last_day"], "2026-06-11");
    assert_eq!(metadata["received_date"], "2026-06-12");
}

#[tokio::test]
async fn a_discount_above_what_the_terms_allow_is_refused() {
    let Some((world, payment_id)) = with_discountable("979.99", "2026-06-11").await else {
        return;
    };
    // 2 % of 1,000.00 = 20.00.
    let status = world
        .refused(
            world
                .client
                .clone()
                .allow_discount(discount(&payment_id, "20.01")),
        )
        .await;
    let (_, metadata) =
        precondition_refused(&status, "DISCOUNT_EXCEEDS_TERMS", "invoices/SUB-SH/D-1");
    assert_eq!(metadata["most_off"], "20.00");
}

#[tokio::test]
async fn a_discount_on_an_invoice_whose_terms_have_none_is_refused() {
    let Some(world) = with_invoice().await else {
        return;
    };
    let request = pb::RecordPaymentRequest {
        allocations: vec![allocation(SUBSIDIARY, "INV-1", "980")],
        ..payment(CUSTOMER, SUBSIDIARY, "980", "2026-06-05")
    };
    let payment_id = request.command_id.clone();
    world.client.clone().record_payment(request).await.unwrap();
    let status = world
        .refused(
            world
                .client
                .clone()
                .allow_discount(pb::AllowDiscountRequest {
                    invoice: invoice_ref(SUBSIDIARY, "INV-1"),
                    ..discount(&payment_id, "20")
                }),
        )
        .await;
    precondition_refused(&status, "NO_DISCOUNT_TERMS", "invoices/SUB-SH/INV-1");
}

#[tokio::test]
async fn a_discount_naming_a_payment_by_no_command_id_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .allow_discount(discount("payment-1", "0")),
        )
        .await;
    assert_eq!(names(&status), ["payment_id", "amount.amount"]);
}

#[tokio::test]
async fn a_discount_for_a_payment_applied_elsewhere_is_refused() {
    let Some((world, _)) = with_discountable("980", "2026-06-05").await else {
        return;
    };
    let mut client = world.client.clone();
    client
        .issue_invoice(invoice(
            CUSTOMER,
            SUBSIDIARY,
            "INV-9",
            "500",
            "2026-06-01",
            "2026-07-01",
        ))
        .await
        .unwrap();
    let request = pb::RecordPaymentRequest {
        allocations: vec![allocation(SUBSIDIARY, "INV-9", "500")],
        ..payment(CUSTOMER, SUBSIDIARY, "500", "2026-06-06")
    };
    let elsewhere = request.command_id.clone();
    client.record_payment(request).await.unwrap();
    let status = world
        .refused(client.allow_discount(discount(&elsewhere, "20")))
        .await;
    precondition_refused(&status, "PAYMENT_NOT_ON_INVOICE", "invoices/SUB-SH/D-1");
}

#[tokio::test]
async fn a_token_payment_earns_only_a_token_discount() {
    let Some((world, payment_id)) = with_discountable("100", "2026-06-05").await else {
        return;
    };
    // 100.00 paid earns 100 x 2 / 98 = 2.0408... -> 2.04, not the invoice's 20.00.
    let status = world
        .refused(
            world
                .client
                .clone()
                .allow_discount(discount(&payment_id, "20")),
        )
        .await;
    let (_, metadata) =
        precondition_refused(&status, "DISCOUNT_EXCEEDS_TERMS", "invoices/SUB-SH/D-1");
    assert_eq!(metadata["paid"], "100.00");
    assert_eq!(metadata["allowed"], "2.04");
}
