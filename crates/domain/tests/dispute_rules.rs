//! The rules of disputes, one test each: opening a dispute on (part of) an invoice, resolving it
//! as withdrawn or upheld by a credit note, at most one holding on an invoice at any date, the
//! refusals with their exact reasons, retries, and forged events the account rejects. Given
//! these events, when this command, then this event or this refusal. Every figure is worked out
//! by hand in the comments.
//!
//! The service's date in every decision is 2026-06-30 (a date up to 07-01 is accepted for
//! subsidiaries ahead of UTC). The invoice of most cases: INV-1, 1,000.00 CNY from SUB-A, issued
//! 2026-06-01, due 2026-07-01.

mod support;

use receivables_domain::account::CustomerAccount;
use receivables_domain::account::state::{DisputeOutcome, DisputeReason, DisputeState};
use receivables_domain::command::{CommandBody, InvoiceKey, OpenDispute, ResolveDispute};
use receivables_domain::event::{DisputeOpened, DisputeResolved, Event, RecordedEvent};
use receivables_domain::ids::{CommandId, CreditNoteNumber, DisputeId};
use receivables_domain::money::Money;
use receivables_domain::refusal::{Reason, Refusal, RefusalCode};
use support::*;

// ---------------------------------------------------------------------------------------------
// Builders of the two commands and their events
// ---------------------------------------------------------------------------------------------

/// `opening(key(SUB_A, "INV-1"), cny("300.00"))`: contested on price on 2026-06-10, until
/// resolved (no expiry), with a short note.
fn opening(invoice: InvoiceKey, amount: Money) -> Opening {
    Opening(OpenDispute {
        invoice,
        amount,
        reason: DisputeReason::Price,
        note: "price differs from the order".to_owned(),
        opened_on: date("2026-06-10"),
        expires_on: None,
    })
}

#[derive(Debug, Clone)]
struct Opening(OpenDispute);

impl Opening {
    fn on(mut self, opened_on: &str) -> Self {
        self.0.opened_on = date(opened_on);
        self
    }

    fn expires(mut self, expires_on: &str) -> Self {
        self.0.expires_on = Some(date(expires_on));
        self
    }

    fn reason(mut self, reason: DisputeReason) -> Self {
        self.0.reason = reason;
        self
    }

    fn note(mut self, note: &str) -> Self {
        self.0.note = note.to_owned();
        self
    }

    /// The event of this opening, recorded by command `id`.
    fn event(&self, id: CommandId) -> Event {
        let c = self.0.clone();
        Event::DisputeOpened(DisputeOpened {
            dispute_id: DisputeId::from(id),
            invoice: c.invoice,
            amount: c.amount,
            reason: c.reason,
            note: c.note,
            opened_on: c.opened_on,
            expires_on: c.expires_on,
        })
    }

    /// The dispute as the account keeps it once opened by command `id`, unresolved.
    fn state(&self, id: CommandId) -> DisputeState {
        DisputeState {
            dispute_id: DisputeId::from(id),
            amount: self.0.amount,
            reason: self.0.reason,
            opened_on: self.0.opened_on,
            expires_on: self.0.expires_on,
            resolved: None,
        }
    }
}

impl IntoBody for Opening {
    fn into_body(self) -> CommandBody {
        CommandBody::OpenDispute(self.0)
    }
}

/// `withdrawal(key(SUB_A, "INV-1"))`: the customer withdrew the dispute on 2026-06-20.
fn withdrawal(invoice: InvoiceKey) -> Resolution {
    Resolution(ResolveDispute {
        invoice,
        resolved_on: date("2026-06-20"),
        outcome: DisputeOutcome::Withdrawn,
        credit_note: None,
        note: "customer accepted the price".to_owned(),
    })
}

/// `upheld(key(SUB_A, "INV-1"), "CN-1")`: the customer was right, credited by SUB-A's credit
/// note `CN-1`, resolved on 2026-06-20.
fn upheld(invoice: InvoiceKey, credit_note: &str) -> Resolution {
    Resolution(ResolveDispute {
        invoice,
        resolved_on: date("2026-06-20"),
        outcome: DisputeOutcome::Upheld,
        credit_note: Some(credit_note_number(credit_note)),
        note: "price corrected".to_owned(),
    })
}

#[derive(Debug, Clone)]
struct Resolution(ResolveDispute);

impl Resolution {
    fn on(mut self, resolved_on: &str) -> Self {
        self.0.resolved_on = date(resolved_on);
        self
    }

    fn outcome(mut self, outcome: DisputeOutcome) -> Self {
        self.0.outcome = outcome;
        self
    }

    fn credit_note(mut self, credit_note: Option<&str>) -> Self {
        self.0.credit_note = credit_note.map(credit_note_number);
        self
    }

    fn note(mut self, note: &str) -> Self {
        self.0.note = note.to_owned();
        self
    }

    /// The event of this resolution of the dispute opened by command `opened_by`.
    fn event(&self, opened_by: CommandId) -> Event {
        let c = self.0.clone();
        Event::DisputeResolved(DisputeResolved {
            dispute_id: DisputeId::from(opened_by),
            invoice: c.invoice,
            resolved_on: c.resolved_on,
            outcome: c.outcome,
            credit_note: c.credit_note,
            note: c.note,
        })
    }
}

impl IntoBody for Resolution {
    fn into_body(self) -> CommandBody {
        CommandBody::ResolveDispute(self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn credit_note_number(text: &str) -> CreditNoteNumber {
    CreditNoteNumber::parse(text).expect("a valid credit-note number")
}

fn inv1() -> InvoiceKey {
    key(SUB_A, "INV-1")
}

/// INV-1 1,000.00 CNY from SUB-A, issued 06-01, due 07-01, nothing paid.
fn one_invoice() -> Scenario {
    given([invoice("INV-1").event()])
}

/// The disputes the account keeps on `invoice`.
fn disputes(scenario: &Scenario, invoice: &InvoiceKey) -> Vec<DisputeState> {
    scenario
        .account()
        .invoice(invoice)
        .unwrap_or_else(|| panic!("{invoice} is not on the account"))
        .disputes
        .clone()
}

/// The dispute on INV-1 opened by `id`, as the account keeps it.
fn dispute(scenario: &Scenario, id: CommandId) -> DisputeState {
    disputes(scenario, &inv1())
        .into_iter()
        .find(|d| d.dispute_id == DisputeId::from(id))
        .unwrap_or_else(|| panic!("no dispute {id} on INV-1"))
}

/// The one precondition violation of a refusal: its kind, subject and description.
fn violated(refusal: &Refusal) -> (Reason, &str, &str) {
    assert_eq!(
        refusal.precondition_violations.len(),
        1,
        "expected one violation: {refusal}"
    );
    let violation = &refusal.precondition_violations[0];
    (
        violation.kind,
        violation.subject.as_str(),
        violation.description.as_str(),
    )
}

/// The field violations of an invalid command, as (field, description).
fn fields(refusal: &Refusal) -> Vec<(&str, &str)> {
    refusal
        .field_violations
        .iter()
        .map(|v| (v.field.as_str(), v.description.as_str()))
        .collect()
}

/// `event` read back from the log as the next event of `account`.
fn next_of(account: &CustomerAccount, event: Event) -> RecordedEvent {
    recorded_after(account, event, account.position().get() + 1)
}

// ---------------------------------------------------------------------------------------------
// Opening
// ---------------------------------------------------------------------------------------------

#[test]
fn a_dispute_of_part_of_an_invoice_is_opened_under_the_id_of_its_command() {
    let mut scenario = one_invoice();
    let id = command_id();
    let command = opening(inv1(), cny("300.00"))
        .on("2026-06-10")
        .expires("2026-07-31");

    let recorded = scenario
        .when_command(id, command.clone())
        .then_event(command.event(id));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-10"));
    assert_eq!(recorded.envelope.subsidiary_id, Some(subsidiary(SUB_A)));
    assert_eq!(recorded.envelope.command_id, id);
    assert_eq!(
        disputes(&scenario, &inv1()),
        vec![DisputeState {
            dispute_id: DisputeId::from(id),
            amount: cny("300.00"),
            reason: DisputeReason::Price,
            opened_on: date("2026-06-10"),
            expires_on: Some(date("2026-07-31")),
            resolved: None,
        }]
    );
    // It holds from 06-10 to its last day 07-31; collectible again from 08-01.
    let held = dispute(&scenario, id);
    assert!(!held.holds_on(date("2026-06-09")));
    assert!(held.holds_on(date("2026-06-10")));
    assert!(held.holds_on(date("2026-07-31")));
    assert!(!held.holds_on(date("2026-08-01")));
    // Still owed: the open amount and the exposure stay 1,000.00.
    assert_eq!(scenario.open(&inv1()), dec("1000.00"));
    assert_eq!(scenario.account().exposure(currency("CNY")), dec("1000.00"));
}

#[test]
fn a_dispute_without_an_expiry_date_holds_until_it_is_resolved() {
    let mut scenario = one_invoice();
    let id = command_id();
    let command = opening(inv1(), cny("1000.00"))
        .on("2026-06-01")
        .reason(DisputeReason::NotDelivered)
        .note("");

    scenario
        .when_command(id, command.clone())
        .then_event(command.event(id));

    // The whole invoice, from its issue date on, with an empty note.
    assert_eq!(disputes(&scenario, &inv1()), vec![command.state(id)]);
    let held = dispute(&scenario, id);
    assert!(held.holds_on(date("2026-06-01")));
    assert!(held.holds_on(date("2030-01-01")));
    assert!(held.holds_from(date("2199-12-31")));
}

#[test]
fn a_dispute_names_the_subsidiary_of_the_invoice_in_its_envelope() {
    let mut scenario = given([invoice("INV-7").at(SUB_B).event()]);
    let id = command_id();
    let command = opening(key(SUB_B, "INV-7"), cny("50.00")).reason(DisputeReason::Quality);

    let recorded = scenario
        .when_command(id, command.clone())
        .then_event(command.event(id));

    assert_eq!(recorded.envelope.subsidiary_id, Some(subsidiary(SUB_B)));
    assert_eq!(
        disputes(&scenario, &key(SUB_B, "INV-7")),
        vec![command.state(id)]
    );
}

#[test]
fn a_dispute_on_an_invoice_the_customer_does_not_have_is_refused() {
    let mut scenario = one_invoice();

    let refusal = scenario
        .when(opening(key(SUB_A, "INV-9"), cny("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);
    assert_eq!(
        violated(&refusal),
        (
            Reason::InvoiceNotFound,
            "invoices/SUB-A/INV-9",
            "customer C-1 has no such invoice"
        )
    );

    // The same number at another subsidiary is another invoice, which the customer lacks.
    let refusal = scenario
        .when(opening(key(SUB_B, "INV-1"), cny("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);
    assert_eq!(violated(&refusal).1, "invoices/SUB-B/INV-1");
    assert_eq!(disputes(&scenario, &inv1()), Vec::new());
}

#[test]
fn a_dispute_in_another_currency_than_its_invoice_is_refused() {
    let mut scenario = one_invoice();

    let refusal = scenario
        .when(opening(inv1(), usd("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CurrencyMismatch);

    assert_eq!(
        violated(&refusal),
        (
            Reason::CurrencyMismatch,
            "invoices/SUB-A/INV-1",
            "the invoice is in CNY, the dispute in USD"
        )
    );
    assert_eq!(disputes(&scenario, &inv1()), Vec::new());
}

#[test]
fn a_dispute_dated_before_the_invoice_was_issued_is_refused() {
    let mut scenario = one_invoice();

    // Issued 06-01; a dispute of 05-31 is a day early.
    let refusal = scenario
        .when(opening(inv1(), cny("100.00")).on("2026-05-31"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::DisputeBeforeInvoiceDate,
        );
    assert_eq!(
        violated(&refusal),
        (
            Reason::DisputeBeforeInvoiceDate,
            "invoices/SUB-A/INV-1",
            "the dispute is dated 2026-05-31, before the invoice was issued on 2026-06-01"
        )
    );
    assert_eq!(disputes(&scenario, &inv1()), Vec::new());

    // On the issue date itself it is accepted.
    scenario
        .when(opening(inv1(), cny("100.00")).on("2026-06-01"))
        .then_accepted();
    assert_eq!(disputes(&scenario, &inv1()).len(), 1);
}

#[test]
fn a_dispute_above_what_the_invoice_owes_on_its_opening_day_is_refused() {
    let mut scenario = one_invoice();
    // 400.00 paid on 06-10: INV-1 owes 1,000.00 until 06-09 and 1,000.00 - 400.00 = 600.00
    // from 06-10.
    scenario
        .when(payment(cny("400.00")).received("2026-06-10"))
        .then_accepted();

    // 600.01 on 06-15 is a fen more than the 600.00 owed then.
    let refusal = scenario
        .when(opening(inv1(), cny("600.01")).on("2026-06-15"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::DisputeExceedsOpenAmount,
        );
    assert_eq!(
        violated(&refusal),
        (
            Reason::DisputeExceedsOpenAmount,
            "invoices/SUB-A/INV-1",
            "600.01 CNY is more than the 600.00 CNY the invoice owes on 2026-06-15"
        )
    );
    assert_eq!(disputes(&scenario, &inv1()), Vec::new());

    // Exactly what it owes is accepted.
    let id = command_id();
    let command = opening(inv1(), cny("600.00")).on("2026-06-15");
    scenario
        .when_command(id, command.clone())
        .then_event(command.event(id));
    assert_eq!(disputes(&scenario, &inv1()), vec![command.state(id)]);
}

#[test]
fn the_bound_of_a_dispute_is_what_the_invoice_owed_on_its_opening_day() {
    let mut scenario = one_invoice();
    // Paid 400.00 on 06-10: on 06-09 INV-1 still owed 1,000.00.
    scenario
        .when(payment(cny("400.00")).received("2026-06-10"))
        .then_accepted();

    // 700.00 is more than today's 600.00 but within the 1,000.00 owed on 06-09.
    scenario
        .when(opening(inv1(), cny("700.00")).on("2026-06-09"))
        .then_accepted();

    assert_eq!(disputes(&scenario, &inv1())[0].amount, cny("700.00"));
    assert_eq!(scenario.open(&inv1()), dec("600.00"));
}

#[test]
fn a_dispute_of_a_settled_invoice_is_refused() {
    let mut scenario = one_invoice();
    // Paid in full on 06-10: nothing is owed from then on.
    scenario
        .when(payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(opening(inv1(), cny("0.01")).on("2026-06-20"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::DisputeExceedsOpenAmount,
        );

    assert_eq!(
        violated(&refusal).2,
        "0.01 CNY is more than the 0.00 CNY the invoice owes on 2026-06-20"
    );
}

// ---------------------------------------------------------------------------------------------
// At most one dispute holds on an invoice at any date
// ---------------------------------------------------------------------------------------------

/// INV-1 with dispute D1 of 300.00 opened on 06-10 by the returned command, its last day 06-20.
fn disputed_until_the_20th() -> (Scenario, CommandId) {
    let mut scenario = one_invoice();
    let first = command_id();
    scenario
        .when_command(
            first,
            opening(inv1(), cny("300.00"))
                .on("2026-06-10")
                .expires("2026-06-20"),
        )
        .then_accepted();
    (scenario, first)
}

#[test]
fn a_second_dispute_while_one_holds_is_refused_naming_the_first() {
    let (mut scenario, first) = disputed_until_the_20th();
    let before = scenario.account().clone();

    // 06-15 and 06-20 (its last day) are within the first dispute.
    for opened_on in ["2026-06-15", "2026-06-20"] {
        let refusal = scenario
            .when(opening(inv1(), cny("100.00")).on(opened_on))
            .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeAlreadyOpen);
        assert_eq!(
            violated(&refusal),
            (
                Reason::DisputeAlreadyOpen,
                "invoices/SUB-A/INV-1",
                format!("dispute {first} opened on 2026-06-10 holds on {opened_on} or later")
                    .as_str()
            )
        );
        assert_eq!(
            refusal.metadata("dispute_id"),
            Some(first.to_string().as_str())
        );
    }
    assert_eq!(scenario.account(), &before);
}

#[test]
fn a_second_dispute_is_accepted_the_day_after_the_first_expired() {
    let (mut scenario, first) = disputed_until_the_20th();
    let second = command_id();
    let command = opening(inv1(), cny("500.00"))
        .on("2026-06-21")
        .reason(DisputeReason::Quantity);

    scenario
        .when_command(second, command.clone())
        .then_event(command.event(second));

    assert_eq!(
        disputes(&scenario, &inv1()),
        vec![
            DisputeState {
                dispute_id: DisputeId::from(first),
                amount: cny("300.00"),
                reason: DisputeReason::Price,
                opened_on: date("2026-06-10"),
                expires_on: Some(date("2026-06-20")),
                resolved: None,
            },
            command.state(second),
        ]
    );
    // On 06-20 the first holds, from 06-21 the second.
    let held = |on: &str| -> Vec<DisputeId> {
        disputes(&scenario, &inv1())
            .iter()
            .filter(|d| d.holds_on(date(on)))
            .map(|d| d.dispute_id)
            .collect()
    };
    assert_eq!(held("2026-06-20"), vec![DisputeId::from(first)]);
    assert_eq!(held("2026-06-21"), vec![DisputeId::from(second)]);
}

#[test]
fn a_second_dispute_is_accepted_from_the_day_the_first_was_resolved() {
    let mut scenario = one_invoice();
    let first = command_id();
    scenario
        .when_command(first, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    scenario
        .when(withdrawal(inv1()).on("2026-06-15"))
        .then_accepted();

    // On 06-14 the first still held (resolved on 06-15, collectible again from that day).
    let refusal = scenario
        .when(opening(inv1(), cny("200.00")).on("2026-06-14"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeAlreadyOpen);
    assert_eq!(
        refusal.metadata("dispute_id"),
        Some(first.to_string().as_str())
    );

    let second = command_id();
    let command = opening(inv1(), cny("200.00")).on("2026-06-15");
    scenario
        .when_command(second, command.clone())
        .then_event(command.event(second));
    let all = disputes(&scenario, &inv1());
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0].resolved,
        Some((date("2026-06-15"), DisputeOutcome::Withdrawn))
    );
    assert_eq!(all[1], command.state(second));
}

#[test]
fn disputes_on_two_invoices_hold_side_by_side() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);

    scenario
        .when(opening(inv1(), cny("300.00")))
        .then_accepted();
    scenario
        .when(opening(key(SUB_A, "INV-2"), cny("500.00")))
        .then_accepted();

    assert_eq!(disputes(&scenario, &inv1()).len(), 1);
    assert_eq!(disputes(&scenario, &key(SUB_A, "INV-2")).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Resolving
// ---------------------------------------------------------------------------------------------

#[test]
fn a_withdrawn_dispute_is_resolved_and_no_longer_holds_from_that_day() {
    let mut scenario = one_invoice();
    let opened = command_id();
    let opening = opening(inv1(), cny("300.00")).on("2026-06-10");
    scenario
        .when_command(opened, opening.clone())
        .then_accepted();
    let command = withdrawal(inv1()).on("2026-06-20");

    let recorded = scenario
        .when(command.clone())
        .then_event(command.event(opened));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-20"));
    assert_eq!(recorded.envelope.subsidiary_id, Some(subsidiary(SUB_A)));
    assert_eq!(
        disputes(&scenario, &inv1()),
        vec![DisputeState {
            resolved: Some((date("2026-06-20"), DisputeOutcome::Withdrawn)),
            ..opening.state(opened)
        }]
    );
    // Held on 06-19, collectible again from 06-20.
    let resolved = dispute(&scenario, opened);
    assert!(resolved.holds_on(date("2026-06-19")));
    assert!(!resolved.holds_on(date("2026-06-20")));
    // A withdrawal credits nothing: 1,000.00 still owed.
    assert_eq!(scenario.open(&inv1()), dec("1000.00"));
}

#[test]
fn an_upheld_dispute_names_the_credit_note_that_credited_the_customer() {
    let mut scenario = one_invoice();
    let opened = command_id();
    scenario
        .when_command(opened, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    // SUB-A credits the 300.00 against INV-1 on 06-20: 1,000.00 - 300.00 = 700.00 owed.
    scenario
        .when(
            credit_note("CN-1", cny("300.00"))
                .against(inv1())
                .dated("2026-06-20"),
        )
        .then_accepted();
    let command = upheld(inv1(), "CN-1").on("2026-06-20");

    scenario
        .when(command.clone())
        .then_event(Event::DisputeResolved(DisputeResolved {
            dispute_id: DisputeId::from(opened),
            invoice: inv1(),
            resolved_on: date("2026-06-20"),
            outcome: DisputeOutcome::Upheld,
            credit_note: Some(credit_note_number("CN-1")),
            note: "price corrected".to_owned(),
        }));

    let state = dispute(&scenario, opened);
    assert_eq!(
        state.resolved,
        Some((date("2026-06-20"), DisputeOutcome::Upheld))
    );
    assert!(!state.holds_on(date("2026-06-20")));
    let invoice = scenario.account().invoice(&inv1()).expect("INV-1");
    assert_eq!(invoice.open, dec("700.00"));
    assert_eq!(invoice.credited, dec("300.00"));
}

#[test]
fn a_dispute_is_resolved_on_its_last_day_but_not_after_it_expired() {
    let (mut scenario, first) = disputed_until_the_20th();

    // 06-21: the dispute expired after 06-20; nothing holds any more.
    let refusal = scenario
        .when(withdrawal(inv1()).on("2026-06-21"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeNotOpen);
    assert_eq!(
        violated(&refusal),
        (
            Reason::DisputeNotOpen,
            "invoices/SUB-A/INV-1",
            "no dispute holds on the invoice on 2026-06-21"
        )
    );
    assert_eq!(dispute(&scenario, first).resolved, None);

    // 06-20, its last day, it still holds.
    let command = withdrawal(inv1()).on("2026-06-20");
    scenario
        .when(command.clone())
        .then_event(command.event(first));
    assert_eq!(
        dispute(&scenario, first).resolved,
        Some((date("2026-06-20"), DisputeOutcome::Withdrawn))
    );
}

#[test]
fn resolving_when_no_dispute_was_opened_is_refused() {
    let mut scenario = one_invoice();
    let before = scenario.account().clone();

    let refusal = scenario
        .when(withdrawal(inv1()))
        .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeNotOpen);

    assert_eq!(
        violated(&refusal),
        (
            Reason::DisputeNotOpen,
            "invoices/SUB-A/INV-1",
            "no dispute holds on the invoice on 2026-06-20"
        )
    );
    assert_eq!(scenario.account(), &before);
}

#[test]
fn resolving_a_dispute_on_a_day_before_it_was_opened_is_refused() {
    let mut scenario = one_invoice();
    let opened = command_id();
    scenario
        .when_command(opened, opening(inv1(), cny("300.00")).on("2026-06-15"))
        .then_accepted();

    // 06-14 is the day before the dispute opened: it did not hold then.
    let refusal = scenario
        .when(withdrawal(inv1()).on("2026-06-14"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeNotOpen);
    assert_eq!(
        violated(&refusal).2,
        "no dispute holds on the invoice on 2026-06-14"
    );
    assert_eq!(dispute(&scenario, opened).resolved, None);

    // On the opening day itself it may be resolved.
    scenario
        .when(withdrawal(inv1()).on("2026-06-15"))
        .then_accepted();
    assert_eq!(
        dispute(&scenario, opened).resolved,
        Some((date("2026-06-15"), DisputeOutcome::Withdrawn))
    );
}

#[test]
fn a_dispute_is_resolved_once() {
    let mut scenario = one_invoice();
    scenario
        .when(opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    scenario
        .when(withdrawal(inv1()).on("2026-06-20"))
        .then_accepted();

    // Under another command id, a second resolution finds nothing holding on 06-25.
    let refusal = scenario
        .when(withdrawal(inv1()).on("2026-06-25"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeNotOpen);
    assert_eq!(
        violated(&refusal).2,
        "no dispute holds on the invoice on 2026-06-25"
    );
    assert_eq!(
        disputes(&scenario, &inv1())[0].resolved,
        Some((date("2026-06-20"), DisputeOutcome::Withdrawn))
    );
}

#[test]
fn resolving_a_dispute_of_an_invoice_the_customer_does_not_have_is_refused() {
    let mut scenario = one_invoice();

    let refusal = scenario
        .when(withdrawal(key(SUB_A, "INV-9")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);

    assert_eq!(
        violated(&refusal),
        (
            Reason::InvoiceNotFound,
            "invoices/SUB-A/INV-9",
            "customer C-1 has no such invoice"
        )
    );
}

#[test]
fn an_upheld_dispute_naming_a_credit_note_the_customer_does_not_have_is_refused() {
    let mut scenario = one_invoice();
    let opened = command_id();
    scenario
        .when_command(opened, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    // SUB-B issued a CN-1 of its own; the invoice is SUB-A's, so its CN-1 is SUB-A's.
    scenario
        .when(credit_note("CN-1", cny("300.00")).at(SUB_B))
        .then_accepted();

    for number in ["CN-9", "CN-1"] {
        let refusal = scenario
            .when(upheld(inv1(), number))
            .then_refused(RefusalCode::FailedPrecondition, Reason::CreditNoteNotFound);
        assert_eq!(
            violated(&refusal),
            (
                Reason::CreditNoteNotFound,
                format!("credit_notes/SUB-A/{number}").as_str(),
                "customer C-1 has no such credit note"
            )
        );
    }
    assert_eq!(dispute(&scenario, opened).resolved, None);
}

#[test]
fn an_upheld_dispute_may_name_a_credit_note_on_account() {
    // The rule asks for a credit note of the invoice's subsidiary to the customer; one on
    // account (not against the invoice) is one.
    let mut scenario = one_invoice();
    let opened = command_id();
    scenario
        .when_command(opened, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    scenario
        .when(credit_note("CN-2", cny("300.00")).dated("2026-06-18"))
        .then_accepted();

    let command = upheld(inv1(), "CN-2");
    scenario
        .when(command.clone())
        .then_event(command.event(opened));

    // INV-1 still owes 1,000.00; the customer holds 300.00 of unapplied credit.
    assert_eq!(scenario.open(&inv1()), dec("1000.00"));
    assert_eq!(scenario.unapplied_credit(), dec("300.00"));
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

#[test]
fn an_expiry_date_not_after_the_opening_day_is_refused() {
    let mut scenario = one_invoice();

    for expires_on in ["2026-06-10", "2026-06-09"] {
        let refusal = scenario
            .when(
                opening(inv1(), cny("100.00"))
                    .on("2026-06-10")
                    .expires(expires_on),
            )
            .then_invalid("expires_on");
        assert_eq!(
            fields(&refusal),
            vec![(
                "expires_on",
                format!("{expires_on} is not after the day the dispute was opened, 2026-06-10")
                    .as_str()
            )]
        );
    }

    // The day after is the shortest dispute: it holds one day.
    scenario
        .when(
            opening(inv1(), cny("100.00"))
                .on("2026-06-10")
                .expires("2026-06-11"),
        )
        .then_accepted();
    assert_eq!(disputes(&scenario, &inv1()).len(), 1);
}

#[test]
fn an_upheld_resolution_without_a_credit_note_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(opening(inv1(), cny("300.00")))
        .then_accepted();

    let refusal = scenario
        .when(withdrawal(inv1()).outcome(DisputeOutcome::Upheld))
        .then_invalid("credit_note_number");

    assert_eq!(
        fields(&refusal),
        vec![(
            "credit_note_number",
            "an upheld dispute names the credit note that credited the customer"
        )]
    );
    assert_eq!(disputes(&scenario, &inv1())[0].resolved, None);
}

#[test]
fn a_withdrawn_resolution_naming_a_credit_note_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(opening(inv1(), cny("300.00")))
        .then_accepted();
    scenario
        .when(credit_note("CN-1", cny("300.00")).against(inv1()))
        .then_accepted();

    let refusal = scenario
        .when(withdrawal(inv1()).credit_note(Some("CN-1")))
        .then_invalid("credit_note_number");

    assert_eq!(
        fields(&refusal),
        vec![(
            "credit_note_number",
            "a withdrawn dispute names no credit note"
        )]
    );
    assert_eq!(disputes(&scenario, &inv1())[0].resolved, None);
}

#[test]
fn a_dispute_opened_or_resolved_more_than_a_day_after_the_service_is_refused() {
    let mut scenario = one_invoice();

    // Today is 2026-06-30; 07-01 is allowed for subsidiaries ahead of UTC, 07-02 is not.
    let refusal = scenario
        .when(opening(inv1(), cny("100.00")).on("2026-07-02"))
        .then_invalid("opened_on");
    assert_eq!(
        fields(&refusal),
        vec![(
            "opened_on",
            "cannot be in the future: 2026-07-02 is after 2026-07-01"
        )]
    );
    assert_eq!(disputes(&scenario, &inv1()), Vec::new());

    scenario
        .when(opening(inv1(), cny("100.00")).on("2026-07-01"))
        .then_accepted();

    let refusal = scenario
        .when(withdrawal(inv1()).on("2026-07-02"))
        .then_invalid("resolved_on");
    assert_eq!(
        fields(&refusal),
        vec![(
            "resolved_on",
            "cannot be in the future: 2026-07-02 is after 2026-07-01"
        )]
    );
    scenario
        .when(withdrawal(inv1()).on("2026-07-01"))
        .then_accepted();
    assert_eq!(
        disputes(&scenario, &inv1())[0].resolved,
        Some((date("2026-07-01"), DisputeOutcome::Withdrawn))
    );
}

#[test]
fn a_note_longer_than_a_thousand_characters_is_refused() {
    let mut scenario = one_invoice();
    let long = "x".repeat(1_001);
    let longest = "x".repeat(1_000);

    let refusal = scenario
        .when(opening(inv1(), cny("100.00")).note(&long))
        .then_invalid("note");
    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
    assert_eq!(disputes(&scenario, &inv1()), Vec::new());

    // A thousand characters are accepted.
    scenario
        .when(opening(inv1(), cny("100.00")).note(&longest))
        .then_accepted();

    let refusal = scenario
        .when(withdrawal(inv1()).note(&long))
        .then_invalid("note");
    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
    scenario
        .when(withdrawal(inv1()).note(&longest))
        .then_accepted();
}

#[test]
fn a_dispute_of_nothing_is_refused() {
    let mut scenario = one_invoice();

    let refusal = scenario
        .when(opening(inv1(), cny("0.00")))
        .then_invalid("amount.amount");

    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
    assert_eq!(disputes(&scenario, &inv1()), Vec::new());
}

#[test]
fn every_bad_field_of_an_opening_is_named_at_once() {
    let mut scenario = one_invoice();

    let refusal = scenario
        .when(
            opening(inv1(), cny("0.00"))
                .on("2026-06-10")
                .expires("2026-06-01")
                .note(&"x".repeat(1_001)),
        )
        .then_invalid("amount.amount");

    let named: Vec<&str> = fields(&refusal).iter().map(|(field, _)| *field).collect();
    assert_eq!(named, vec!["amount.amount", "note", "expires_on"]);
}

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

#[test]
fn a_retried_opening_is_answered_with_its_first_event_not_refused_as_already_open() {
    let mut scenario = one_invoice();
    let id = command_id();
    let command = opening(inv1(), cny("300.00")).on("2026-06-10");

    let first = scenario.when_command(id, command.clone()).then_accepted();
    let again = scenario
        .when_command(id, command.clone())
        .then_already_accepted();

    assert_eq!(again, first);
    assert_eq!(disputes(&scenario, &inv1()), vec![command.state(id)]);

    // The same id with another amount is another command.
    let refusal = scenario
        .when_command(id, opening(inv1(), cny("301.00")).on("2026-06-10"))
        .then_refused(RefusalCode::AlreadyExists, Reason::CommandIdReused);
    assert_eq!(
        refusal.metadata("position"),
        Some(first.position.to_string().as_str())
    );
    // Under a fresh id it is a second dispute while the first holds.
    scenario
        .when(command)
        .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeAlreadyOpen);
    assert_eq!(disputes(&scenario, &inv1()).len(), 1);
}

#[test]
fn a_retried_resolution_is_answered_with_its_first_event_not_refused_as_not_open() {
    let mut scenario = one_invoice();
    let opened = command_id();
    scenario
        .when_command(opened, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    let id = command_id();
    let command = withdrawal(inv1()).on("2026-06-20");

    let first = scenario
        .when_command(id, command.clone())
        .then_event(command.event(opened));
    let again = scenario
        .when_command(id, command.clone())
        .then_already_accepted();

    assert_eq!(again, first);
    assert_eq!(
        dispute(&scenario, opened).resolved,
        Some((date("2026-06-20"), DisputeOutcome::Withdrawn))
    );
    // Under a fresh id nothing holds any more.
    scenario
        .when(command)
        .then_refused(RefusalCode::FailedPrecondition, Reason::DisputeNotOpen);
}

// ---------------------------------------------------------------------------------------------
// apply: a forged event that breaks the rules is rejected and changes nothing
// ---------------------------------------------------------------------------------------------

#[test]
fn apply_rejects_a_second_dispute_opened_while_one_holds() {
    let mut scenario = one_invoice();
    let first = command_id();
    scenario
        .when_command(first, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();

    // The first holds until resolved; a second opened on 06-20 overlaps it.
    let second = opening(inv1(), cny("200.00"))
        .on("2026-06-20")
        .event(command_id());
    let violation = account
        .apply(&next_of(&account, second))
        .expect_err("two disputes holding at once");

    assert!(violation.problem.contains("INV-1"), "{violation}");
    assert_eq!(account, before);
    assert_eq!(account.invoice(&inv1()).map(|i| i.disputes.len()), Some(1));
}

#[test]
fn apply_rejects_the_resolution_of_an_unknown_dispute() {
    let mut scenario = one_invoice();
    let first = command_id();
    scenario
        .when_command(first, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();

    // The figures of a withdrawal on 06-20, but another dispute's id.
    let unknown = command_id();
    let forged = withdrawal(inv1()).on("2026-06-20").event(unknown);
    let violation = account
        .apply(&next_of(&account, forged))
        .expect_err("an unknown dispute");

    assert!(violation.problem.contains("unknown dispute"), "{violation}");
    assert!(
        violation.problem.contains(&unknown.to_string()),
        "{violation}"
    );
    assert_eq!(account, before);
    assert_eq!(
        account.invoice(&inv1()).map(|i| i.disputes[0].resolved),
        Some(None)
    );
}

#[test]
fn apply_rejects_a_resolution_dated_when_the_dispute_did_not_hold() {
    let (scenario, first) = disputed_until_the_20th();
    let mut account = scenario.into_account();
    let before = account.clone();

    // Its last day was 06-20; on 06-21 it had expired. On 06-09 it had not opened.
    for resolved_on in ["2026-06-21", "2026-06-09"] {
        let forged = withdrawal(inv1()).on(resolved_on).event(first);
        let violation = account
            .apply(&next_of(&account, forged))
            .expect_err("a resolution when the dispute did not hold");
        assert!(violation.problem.contains("does not hold"), "{violation}");
        assert_eq!(account, before);
    }
}

#[test]
fn apply_rejects_a_second_resolution_of_a_resolved_dispute() {
    let mut scenario = one_invoice();
    let opened = command_id();
    scenario
        .when_command(opened, opening(inv1(), cny("300.00")).on("2026-06-10"))
        .then_accepted();
    scenario
        .when(withdrawal(inv1()).on("2026-06-20"))
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();

    // Withdrawn on 06-20; a second resolution of the same dispute, dated 06-15 (when it still
    // held, before the first resolution), would resolve it twice and move its end. The decision
    // refuses it (nothing holds any more), so a log that carries it was forged.
    let forged = withdrawal(inv1()).on("2026-06-15").event(opened);
    let result = account.apply(&next_of(&account, forged));

    assert!(
        result.is_err(),
        "a second resolution of dispute {opened} was applied: resolved is now {:?}",
        account.invoice(&inv1()).map(|i| i.disputes[0].resolved)
    );
    assert_eq!(account, before);
}

#[test]
fn apply_rejects_a_dispute_opened_under_the_id_of_another() {
    let (scenario, first) = disputed_until_the_20th();
    let mut account = scenario.into_account();
    let before = account.clone();

    // The first expired after 06-20; a new dispute opened on 06-25 is allowed, but not under
    // the first one's id: a resolution names the dispute by its id.
    let forged = opening(inv1(), cny("100.00")).on("2026-06-25").event(first);
    let result = account.apply(&next_of(&account, forged));

    assert!(
        result.is_err(),
        "a second dispute with id {first} was applied: {:?}",
        account.invoice(&inv1()).map(|i| i.disputes.clone())
    );
    assert_eq!(account, before);
}

#[test]
fn apply_rejects_a_dispute_of_an_unknown_invoice_in_another_currency_or_before_its_issue() {
    let mut account = one_invoice().into_account();
    let before = account.clone();

    for forged in [
        opening(key(SUB_A, "INV-9"), cny("100.00")).event(command_id()),
        opening(inv1(), usd("100.00")).event(command_id()),
        opening(inv1(), cny("100.00"))
            .on("2026-05-31")
            .event(command_id()),
    ] {
        account
            .apply(&next_of(&account, forged.clone()))
            .expect_err("a dispute the rules refuse");
        assert_eq!(account, before, "{forged:?}");
    }
}

#[test]
fn a_history_of_disputes_rebuilds_the_same_account() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);
    scenario
        .when(
            opening(inv1(), cny("300.00"))
                .on("2026-06-05")
                .expires("2026-06-12"),
        )
        .then_accepted();
    scenario
        .when(opening(inv1(), cny("250.00")).on("2026-06-13"))
        .then_accepted();
    scenario
        .when(
            credit_note("CN-1", cny("250.00"))
                .against(inv1())
                .dated("2026-06-25"),
        )
        .then_accepted();
    scenario
        .when(upheld(inv1(), "CN-1").on("2026-06-25"))
        .then_accepted();
    scenario
        .when(opening(key(SUB_A, "INV-2"), cny("500.00")).on("2026-06-20"))
        .then_accepted();
    scenario
        .when(withdrawal(key(SUB_A, "INV-2")).on("2026-06-28"))
        .then_accepted();

    let rebuilt = CustomerAccount::from_history(customer_id(), scenario.history())
        .expect("the history rebuilds");

    assert_eq!(&rebuilt, scenario.account());
    // INV-1: the first expired, the second upheld; INV-2: withdrawn. 1,000.00 - 250.00 = 750.00.
    let inv_1 = rebuilt.invoice(&inv1()).expect("INV-1");
    assert_eq!(inv_1.disputes.len(), 2);
    assert_eq!(inv_1.disputes[0].resolved, None);
    assert_eq!(
        inv_1.disputes[1].resolved,
        Some((date("2026-06-25"), DisputeOutcome::Upheld))
    );
    assert_eq!(inv_1.open, dec("750.00"));
    let inv_2 = rebuilt.invoice(&key(SUB_A, "INV-2")).expect("INV-2");
    assert_eq!(
        inv_2.disputes[0].resolved,
        Some((date("2026-06-28"), DisputeOutcome::Withdrawn))
    );
}
