//! A bank account's stream, one rule per test: given its registration and lines, when a line is
//! imported, matched or excluded, then this event or this refusal. A line is imported once (the
//! same id and content: known; another content: refused), settled once, matched only in full
//! and in its currency; and a bank account's events live in its own stream only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use receivables_domain::account::bank_account::BankAccountRegistered;
use receivables_domain::account::receipt::{
    ExcludeStatementLine, ExclusionReason, ImportStatementLine, MatchMethod, MatchStatementLine,
    ReceiptPart, StatementLine, StatementLineImported, receipt_credit_application,
    receipt_credit_id, receipt_payment_id,
};
use receivables_domain::account::state::LineStatus;
use receivables_domain::account::state::UnappliedSource;
use receivables_domain::allocation::AllocationRequest;
use receivables_domain::command::CommandBody;
use receivables_domain::event::Event;
use receivables_domain::ids::{BankAccountId, BankLineId, CustomerId};
use receivables_domain::ids::{InvoiceKey, InvoiceNumber};
use receivables_domain::money::Money;
use receivables_domain::refusal::{Reason, RefusalCode};
use support::*;

fn stream() -> CustomerId {
    CustomerId::bank_account(&BankAccountId::parse("ICBC-SH-001").unwrap())
}

fn registered() -> Event {
    Event::BankAccountRegistered(BankAccountRegistered {
        subsidiary_id: subsidiary("SUB-A"),
        currency: cny("1").currency(),
        number: "6222 0210 0100 1234 567".to_owned(),
        bank: "ICBC".to_owned(),
        name: "SUB-A collections".to_owned(),
    })
}

/// Line `id` of `amount` CNY on 2026-06-15, its content's digest `digest` (one hex digit
/// repeated).
fn line(id: &str, amount: &str, digest: char) -> StatementLine {
    StatementLine {
        line_id: BankLineId::parse(id).unwrap(),
        statement_id: None,
        value_date: date("2026-06-15"),
        booking_date: None,
        amount: cny(amount),
        payer_name: Some("Acme".to_owned()),
        payer_account: None,
        reference: "INV-1".to_owned(),
        digest: digest.to_string().repeat(64),
    }
}

fn imported(id: &str, amount: &str) -> Event {
    Event::StatementLineImported(StatementLineImported {
        subsidiary_id: subsidiary("SUB-A"),
        line: line(id, amount, 'a'),
    })
}

fn import(id: &str, amount: &str, digest: char) -> CommandBody {
    CommandBody::ImportStatementLine(ImportStatementLine {
        subsidiary_id: subsidiary("SUB-A"),
        line: line(id, amount, digest),
    })
}

fn part(customer: &str, amount: &str) -> ReceiptPart {
    ReceiptPart {
        customer_id: CustomerId::parse(customer).unwrap(),
        amount: cny(amount),
        allocations: Vec::new(),
        on_account: false,
        credit_applications: Vec::new(),
    }
}

fn matching(id: &str, parts: Vec<ReceiptPart>) -> CommandBody {
    CommandBody::MatchStatementLine(MatchStatementLine {
        subsidiary_id: subsidiary("SUB-A"),
        line_id: BankLineId::parse(id).unwrap(),
        parts,
        method: MatchMethod::Reviewed,
    })
}

fn exclude(id: &str) -> CommandBody {
    CommandBody::ExcludeStatementLine(ExcludeStatementLine {
        subsidiary_id: subsidiary("SUB-A"),
        line_id: BankLineId::parse(id).unwrap(),
        reason: ExclusionReason::Interest,
        note: String::new(),
    })
}

#[test]
fn a_new_line_is_imported_waiting_and_dated_by_its_value_date() {
    let mut bank = given_in(stream(), [registered()]);

    let recorded = bank.when(import("L-1", "600.00", 'a')).then_accepted();

    assert_eq!(recorded.envelope.effective_date, date("2026-06-15"));
    let state = bank.account().state().bank();
    let line = state.line(&BankLineId::parse("L-1").unwrap()).unwrap();
    assert_eq!(line.status, LineStatus::Unmatched);
    assert_eq!(line.amount, cny("600.00"));
}

#[test]
fn the_same_line_again_is_known_and_another_content_under_its_id_is_refused() {
    let mut bank = given_in(stream(), [registered(), imported("L-1", "600.00")]);

    bank.when(import("L-1", "600.00", 'a'))
        .then_refused(RefusalCode::AlreadyExists, Reason::StatementLineKnown);
    let refusal = bank.when(import("L-1", "900.00", 'b')).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::StatementLineConflict,
    );

    // The refusal says both transactions: the one imported and the one refused.
    assert!(
        refusal.message.contains("600.00 CNY"),
        "{}",
        refusal.message
    );
    assert!(
        refusal.message.contains("900.00 CNY"),
        "{}",
        refusal.message
    );
}

#[test]
fn a_line_into_an_account_not_registered_or_of_another_subsidiary_is_refused() {
    let mut unregistered = given_in(stream(), []);
    unregistered
        .when(import("L-1", "600.00", 'a'))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::BankAccountNotRegistered,
        );

    let mut bank = given_in(stream(), [registered()]);
    bank.when(CommandBody::ImportStatementLine(ImportStatementLine {
        subsidiary_id: subsidiary("SUB-B"),
        line: line("L-1", "600.00", 'a'),
    }))
    .then_refused(RefusalCode::FailedPrecondition, Reason::BankAccountMismatch);
}

#[test]
fn a_line_in_another_currency_than_the_account_is_refused() {
    let mut bank = given_in(stream(), [registered()]);
    let mut usd = line("L-1", "600.00", 'a');
    usd.amount = money("600.00", "USD");

    bank.when(CommandBody::ImportStatementLine(ImportStatementLine {
        subsidiary_id: subsidiary("SUB-A"),
        line: usd,
    }))
    .then_refused(RefusalCode::FailedPrecondition, Reason::BankAccountMismatch);
}

#[test]
fn a_line_split_across_two_customers_names_a_payment_derived_from_the_line_for_each() {
    let mut bank = given_in(stream(), [registered(), imported("L-1", "600.00")]);

    let recorded = bank
        .when(matching(
            "L-1",
            vec![part("C-1", "400.00"), part("C-2", "200.00")],
        ))
        .then_accepted();

    let Event::StatementLineMatched(matched) = &recorded.envelope.event else {
        panic!("not a match: {recorded:?}");
    };
    let line = BankLineId::parse("L-1").unwrap();
    let ids: Vec<_> = matched.parts.iter().map(|p| p.payment_id).collect();
    assert_eq!(
        ids,
        vec![
            receipt_payment_id(&stream(), &line, 0),
            receipt_payment_id(&stream(), &line, 1)
        ]
    );
    assert_ne!(ids[0], ids[1]);
    assert_eq!(
        bank.account().state().bank().line(&line).unwrap().status,
        LineStatus::Matched
    );
}

#[test]
fn parts_that_do_not_add_up_to_the_line_are_refused() {
    let mut bank = given_in(stream(), [registered(), imported("L-1", "600.00")]);

    let refusal = bank
        .when(matching(
            "L-1",
            vec![part("C-1", "400.00"), part("C-2", "100.00")],
        ))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::ReceiptAmountMismatch,
        );

    assert!(refusal.message.contains("500.00"), "{}", refusal.message);
}

#[test]
fn a_line_is_settled_once_matched_or_excluded() {
    let mut bank = given_in(stream(), [registered(), imported("L-1", "600.00")]);
    bank.when(exclude("L-1")).then_accepted();

    bank.when(matching("L-1", vec![part("C-1", "600.00")]))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::StatementLineSettled,
        );
    bank.when(exclude("L-1")).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::StatementLineSettled,
    );
    bank.when(exclude("L-2")).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::StatementLineNotFound,
    );
}

#[test]
fn a_part_for_a_reserved_stream_or_twice_for_one_customer_is_refused_with_both_fields() {
    let mut bank = given_in(stream(), [registered(), imported("L-1", "600.00")]);

    let refusal = bank
        .when(matching(
            "L-1",
            vec![
                part("_group", "100.00"),
                part("C-1", "250.00"),
                part("C-1", "250.00"),
            ],
        ))
        .then_refused(RefusalCode::InvalidArgument, Reason::InvalidCommand);

    let fields: Vec<&str> = refusal
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, vec!["parts[0].customer_id", "parts[2].customer_id"]);
}

fn invoice_key(number: &str) -> InvoiceKey {
    InvoiceKey {
        subsidiary_id: subsidiary("SUB-A"),
        invoice_number: InvoiceNumber::parse(number).unwrap(),
    }
}

fn credit(number: &str, amount: Money) -> AllocationRequest {
    AllocationRequest {
        invoice: invoice_key(number),
        amount,
    }
}

#[test]
fn a_part_less_a_credit_note_records_its_credit_and_derives_the_applications_id() {
    let mut bank = given_in(stream(), [registered(), imported("L-1", "800.00")]);
    let paid = ReceiptPart {
        allocations: vec![credit("INV-1", cny("800.00"))],
        credit_applications: vec![credit("INV-1", cny("200.00"))],
        ..part("C-1", "800.00")
    };

    let recorded = bank
        .when(matching("L-1", vec![paid.clone()]))
        .then_accepted();

    let Event::StatementLineMatched(matched) = &recorded.envelope.event else {
        panic!("not a match: {recorded:?}");
    };
    assert_eq!(matched.parts[0].part, paid);
    let line = BankLineId::parse("L-1").unwrap();
    let credit_id = receipt_credit_id(&stream(), &line, 0);
    assert_ne!(credit_id, receipt_payment_id(&stream(), &line, 0));
    // The application the poster sends: SUB-A's, on the line's value date, 200.00 of credit
    // to INV-1.
    let application =
        receipt_credit_application(&subsidiary("SUB-A"), date("2026-03-04"), &paid).unwrap();
    assert_eq!(application.source, UnappliedSource::Credit);
    assert_eq!(application.amount, cny("200.00"));
    assert_eq!(application.application_date, date("2026-03-04"));
    assert_eq!(application.allocations, paid.credit_applications);
    assert!(
        receipt_credit_application(
            &subsidiary("SUB-A"),
            date("2026-03-04"),
            &part("C-1", "1.00")
        )
        .is_none()
    );
}

#[test]
fn a_part_without_credit_is_written_as_before_credit_existed() {
    // Matches recorded before parts could apply credit hash as they were written: a part
    // without credit has no `credit_applications` member, and one without it reads as none.
    let written = serde_json::to_value(part("C-1", "600.00")).unwrap();
    assert_eq!(
        written,
        serde_json::json!({"customer_id": "C-1", "amount": {"amount": "600.00", "currency": "CNY"}})
    );
    let read: ReceiptPart = serde_json::from_value(written).unwrap();
    assert!(read.credit_applications.is_empty());
}

#[test]
fn credit_without_allocations_twice_on_an_invoice_or_in_another_currency_is_refused_by_name() {
    let mut bank = given_in(stream(), [registered(), imported("L-1", "600.00")]);
    let alone = ReceiptPart {
        credit_applications: vec![credit("INV-1", cny("50.00"))],
        ..part("C-1", "100.00")
    };
    let twice = ReceiptPart {
        allocations: vec![credit("INV-2", cny("200.00"))],
        credit_applications: vec![
            credit("INV-2", cny("10.00")),
            credit("INV-2", cny("20.00")),
            credit("INV-3", usd("5.00")),
        ],
        ..part("C-2", "200.00")
    };
    let negative = ReceiptPart {
        allocations: vec![credit("INV-4", cny("300.00"))],
        credit_applications: vec![credit("INV-4", Money::of(dec("-1.00"), currency("CNY")))],
        ..part("C-3", "300.00")
    };

    let refusal = bank
        .when(matching("L-1", vec![alone, twice, negative]))
        .then_refused(RefusalCode::InvalidArgument, Reason::InvalidCommand);

    let fields: Vec<&str> = refusal
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(
        fields,
        vec![
            "parts[0].credit_applications",
            "parts[1].credit_applications[1].invoice",
            "parts[1].credit_applications[2].amount.currency",
            "parts[2].credit_applications[0].amount.amount",
        ]
    );
}

#[test]
fn a_bank_account_command_in_a_customers_account_is_refused() {
    let mut customer = given([]);

    customer
        .when(import("L-1", "600.00", 'a'))
        .then_refused(RefusalCode::InvalidArgument, Reason::InvalidCommand);
}
