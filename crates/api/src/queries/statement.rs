//! `GetStatement`: a customer's statement of account for a period.

use crate::commands::customer::wire_profile;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{Currency, Position};
use receivables_projections::aging::DEFAULT_EDGES_DAYS;
use receivables_projections::statement::{
    CurrencyStatement, Movement, MovementKind, Statement, StatementRequest,
};

use super::aging::{aging_line, bucket_labels};
use crate::fields::Fields;
use crate::{pb, responses};

/// Reads and validates a `GetStatement` request; every bad field at once.
pub fn read(message: &pb::GetStatementRequest) -> Result<StatementRequest, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let customer = fields.customer_id("customer_id", &message.customer_id);
    let from = fields.date("from_date", &message.from_date);
    let to = fields.date("to_date", &message.to_date);
    let subsidiary = fields.optional(
        "subsidiary_id",
        &message.subsidiary_id,
        receivables_domain::SubsidiaryId::parse,
    );
    let currency = fields.optional("currency", &message.currency, Currency::parse);
    let (Some(customer), Some(from), Some(to), Some(subsidiary), Some(currency)) =
        (customer, from, to, subsidiary, currency)
    else {
        return Err(fields.violations);
    };
    let request = fields.check("to_date", StatementRequest::new(customer, from, to));
    match request {
        Some(mut request) if fields.is_clean() => {
            request.subsidiary = subsidiary;
            request.currency = currency;
            Ok(request)
        }
        _ => Err(fields.violations),
    }
}

fn kind(kind: MovementKind) -> pb::MovementKind {
    match kind {
        MovementKind::Invoice => pb::MovementKind::Invoice,
        MovementKind::Payment => pb::MovementKind::Payment,
        MovementKind::Allocation => pb::MovementKind::Allocation,
        MovementKind::CreditNote => pb::MovementKind::CreditNote,
        MovementKind::WriteOff => pb::MovementKind::WriteOff,
        MovementKind::Application => pb::MovementKind::Application,
        MovementKind::Reversal => pb::MovementKind::Reversal,
        MovementKind::Refund => pb::MovementKind::Refund,
        MovementKind::DisputeOpened => pb::MovementKind::DisputeOpened,
        MovementKind::DisputeResolved => pb::MovementKind::DisputeResolved,
        MovementKind::Discount => pb::MovementKind::Discount,
    }
}

fn movement(movement: Movement) -> pb::StatementMovement {
    pb::StatementMovement {
        date: responses::date(movement.date),
        kind: kind(movement.kind).into(),
        subsidiary_id: movement.subsidiary.to_string(),
        document: movement.document,
        invoice: movement.invoice.map(|(subsidiary, number)| pb::InvoiceRef {
            subsidiary_id: subsidiary.to_string(),
            invoice_number: number,
        }),
        amount: Some(responses::money(movement.amount)),
        debit: Some(responses::money(movement.debit)),
        credit: Some(responses::money(movement.credit)),
        balance: Some(responses::money(movement.balance)),
        note: movement.note,
        position: movement.position,
    }
}

fn part(part: CurrencyStatement, labels: &[String]) -> pb::CurrencyStatement {
    pb::CurrencyStatement {
        currency: part.currency.code().to_owned(),
        opening_balance: Some(responses::money(part.opening)),
        debits: Some(responses::money(part.debits)),
        credits: Some(responses::money(part.credits)),
        closing_balance: Some(responses::money(part.closing)),
        movements: part.movements.into_iter().map(movement).collect(),
        aging: part.aging.map(|line| aging_line(line, labels)),
        reserved: Some(responses::money(part.reserved)),
    }
}

/// The statement as a reply, stamped with the position the read model had applied.
pub fn answer(
    request: &StatementRequest,
    statement: Statement,
    position: Position,
) -> pb::GetStatementResponse {
    let labels = bucket_labels(&DEFAULT_EDGES_DAYS);
    pb::GetStatementResponse {
        customer_id: request.customer().to_string(),
        from_date: responses::date(request.from()),
        to_date: responses::date(request.to()),
        currencies: statement
            .currencies
            .into_iter()
            .map(|p| part(p, &labels))
            .collect(),
        position: position.get(),
        customer: statement.customer.as_ref().map(wire_profile),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named_at_once() {
        let violations = read(&pb::GetStatementRequest {
            customer_id: "_group".to_owned(),
            from_date: "2026-02-30".to_owned(),
            to_date: "".to_owned(),
            subsidiary_id: "a.b".to_owned(),
            currency: "XXY".to_owned(),
            min_position: 0,
        })
        .expect_err("every field is bad");
        let named: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            named,
            [
                "customer_id",
                "from_date",
                "to_date",
                "subsidiary_id",
                "currency"
            ]
        );
    }

    #[test]
    fn a_period_that_ends_before_it_starts_is_refused_naming_its_end() {
        let violations = read(&pb::GetStatementRequest {
            customer_id: "ACME".to_owned(),
            from_date: "2026-03-31".to_owned(),
            to_date: "2026-03-01".to_owned(),
            ..pb::GetStatementRequest::default()
        })
        .expect_err("backwards period");
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "to_date");
        assert_eq!(
            violations[0].description,
            "the period ends (2026-03-01) before it starts (2026-03-31)"
        );
    }
}
