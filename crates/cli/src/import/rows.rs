//! The two CSV formats and how one row becomes one command: which columns there are, what a
//! well-formed row holds, the row's identity and the command id derived from it.
//!
//! Only the form of a row is checked here (columns present, dates `YYYY-MM-DD`, plain decimal
//! amounts, a known payment method, allocations that parse). Everything else (the currency
//! exists, due date not before issue date, credit limit, invoice open) is the service's
//! decision, and its refusal is reported with the row.

use std::collections::HashMap;

use clap::ValueEnum;
use receivables_api::pb;
use uuid::Uuid;

use crate::error::CliError;
use crate::values::{self, Method};

/// The namespace of the command ids derived from imported rows (UUID v5). Never change it: a
/// row imported before would get another id and be posted again (an invoice would then be
/// refused as a duplicate number, but a payment would be recorded twice).
pub const IMPORT_NAMESPACE: Uuid = Uuid::from_u128(0x0a5b_c31c_f758_4e3f_a1a9_c33a_1ac5_1e6e);

/// The reason given for a row that is not well formed.
pub const INVALID_ROW: &str = "INVALID_ROW";
/// The reason given for a second row with the identity of an earlier row of the same file.
pub const DUPLICATE_IN_FILE: &str = "DUPLICATE_IN_FILE";

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invoices,
    Payments,
}

const INVOICE_COLUMNS: &[&str] = &[
    "subsidiary",
    "customer",
    "number",
    "currency",
    "amount",
    "issue_date",
    "due_date",
];
const PAYMENT_COLUMNS: &[&str] = &[
    "subsidiary",
    "customer",
    "reference",
    "currency",
    "amount",
    "received_date",
    "method",
];
const PAYMENT_OPTIONAL_COLUMNS: &[&str] = &["allocations"];

impl Kind {
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Invoices => INVOICE_COLUMNS,
            Kind::Payments => PAYMENT_COLUMNS,
        }
    }

    pub fn optional_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Invoices => &[],
            Kind::Payments => PAYMENT_OPTIONAL_COLUMNS,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Invoices => "invoices",
            Kind::Payments => "payments",
        }
    }
}

/// The header row: the columns as the file names them, and where each known column is.
#[derive(Debug, Clone)]
pub struct Header {
    /// The header as written, for the refused-rows file.
    pub names: Vec<String>,
    positions: HashMap<&'static str, usize>,
}

impl Header {
    /// Reads the header row: column names are matched without regard to case, surrounding
    /// spaces or a byte-order mark; columns the format does not know are ignored; a missing
    /// required column refuses the whole file.
    pub fn read(kind: Kind, record: &csv::StringRecord) -> Result<Header, CliError> {
        let names: Vec<String> = record
            .iter()
            .map(|name| name.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        let normalised: Vec<String> = names
            .iter()
            .map(|name| name.to_lowercase().replace([' ', '-'], "_"))
            .collect();
        let mut positions = HashMap::new();
        let mut missing = Vec::new();
        let known = kind
            .required_columns()
            .iter()
            .map(|c| (c, true))
            .chain(kind.optional_columns().iter().map(|c| (c, false)));
        for (column, required) in known {
            match normalised.iter().position(|name| name == column) {
                Some(index) => {
                    positions.insert(*column, index);
                }
                None if required => missing.push(*column),
                None => {}
            }
        }
        if !missing.is_empty() {
            return Err(CliError::Usage(format!(
                "the header row lacks the column(s) {} (a {} file has {})",
                missing.join(", "),
                kind.noun(),
                kind.required_columns().join(", ")
            )));
        }
        Ok(Header { names, positions })
    }
}

/// One row ready to post.
#[derive(Debug, Clone)]
pub struct Posting {
    /// The line of the file where the row starts (the header is line 1).
    pub line: u64,
    pub customer: String,
    /// `invoice/<subsidiary>/<number>` or `payment/<subsidiary>/<reference>`.
    pub identity: String,
    pub command: RowCommand,
}

/// The command a row becomes.
#[derive(Debug, Clone)]
pub enum RowCommand {
    Invoice(pb::IssueInvoiceRequest),
    Payment(pb::RecordPaymentRequest),
}

/// The command id of a row: the same row always gets the same id, so the service answers a
/// second import of it with the first reply instead of recording it again.
pub fn command_id(identity: &str) -> String {
    Uuid::new_v5(&IMPORT_NAMESPACE, identity.as_bytes()).to_string()
}

/// The fields of one row, each found by its column.
struct Fields<'a> {
    header: &'a Header,
    record: &'a csv::StringRecord,
    problems: Vec<String>,
}

impl<'a> Fields<'a> {
    fn text(&self, column: &str) -> &'a str {
        self.header
            .positions
            .get(column)
            .and_then(|&i| self.record.get(i))
            .map_or("", str::trim)
    }

    fn required(&mut self, column: &str) -> String {
        let value = self.text(column);
        if value.is_empty() {
            self.problems.push(format!("{column}: is empty"));
        }
        value.to_owned()
    }

    fn checked(&mut self, column: &str, check: fn(&str) -> Result<String, String>) -> String {
        let value = self.text(column);
        if value.is_empty() {
            self.problems.push(format!("{column}: is empty"));
            return String::new();
        }
        check(value).unwrap_or_else(|problem| {
            self.problems.push(format!("{column}: {problem}"));
            String::new()
        })
    }
}

/// Reads one row into its command, or says everything that is wrong with it (the message of an
/// `INVALID_ROW` refusal).
pub fn parse(
    kind: Kind,
    header: &Header,
    line: u64,
    record: &csv::StringRecord,
) -> Result<Posting, String> {
    if record.len() != header.names.len() {
        return Err(format!(
            "has {} fields, the header has {}",
            record.len(),
            header.names.len()
        ));
    }
    let mut fields = Fields {
        header,
        record,
        problems: Vec::new(),
    };
    let subsidiary = fields.required("subsidiary");
    let customer = fields.required("customer");
    let currency = fields.required("currency");
    let amount = fields.checked("amount", values::decimal);
    let money = Some(pb::Money {
        amount,
        currency: currency.clone(),
    });
    let (identity, command) = match kind {
        Kind::Invoices => {
            let number = fields.required("number");
            let issue_date = fields.checked("issue_date", values::date);
            let due_date = fields.checked("due_date", values::date);
            let identity = format!("invoice/{subsidiary}/{number}");
            let request = pb::IssueInvoiceRequest {
                command_id: command_id(&identity),
                customer_id: customer.clone(),
                subsidiary_id: subsidiary,
                invoice_number: number,
                amount: money,
                issue_date,
                due: Some(pb::issue_invoice_request::Due::DueDate(due_date)),
            };
            (identity, RowCommand::Invoice(request))
        }
        Kind::Payments => {
            // The reference names the payment: without it a second import could not know the
            // row was posted already.
            let reference = fields.required("reference");
            let received_date = fields.checked("received_date", values::date);
            let method = fields.checked("method", method);
            let allocations = match values::allocations(fields.text("allocations")) {
                Ok(list) => list
                    .iter()
                    .map(|a| a.to_allocation(&subsidiary, &currency))
                    .collect(),
                Err(problem) => {
                    fields.problems.push(format!("allocations: {problem}"));
                    Vec::new()
                }
            };
            let method = Method::from_str(&method, true)
                .map_or(pb::PaymentMethod::Unspecified, Method::to_pb);
            let identity = format!("payment/{subsidiary}/{reference}");
            let request = pb::RecordPaymentRequest {
                command_id: command_id(&identity),
                customer_id: customer.clone(),
                subsidiary_id: subsidiary,
                amount: money,
                received_date,
                method: method.into(),
                reference,
                allocations,
                allocation_rule: pb::AllocationRule::Unspecified.into(),
            };
            (identity, RowCommand::Payment(request))
        }
    };
    if !fields.problems.is_empty() {
        return Err(fields.problems.join("; "));
    }
    Ok(Posting {
        line,
        customer,
        identity,
        command,
    })
}

/// A payment method as ERP exports spell it: `bank_transfer`, `Bank Transfer`, `bank-transfer`.
fn method(text: &str) -> Result<String, String> {
    let spelled = text.trim().to_lowercase().replace(['_', ' '], "-");
    match Method::from_str(&spelled, true) {
        Ok(_) => Ok(spelled),
        Err(_) => Err(format!(
            "{text:?} is not one of {}",
            Method::value_variants()
                .iter()
                .filter_map(|m| m.to_possible_value())
                .map(|v| v.get_name().replace('-', "_"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn header(kind: Kind, names: &[&str]) -> Header {
        Header::read(kind, &csv::StringRecord::from(names.to_vec())).unwrap()
    }

    #[test]
    fn the_same_row_always_gets_the_same_command_id() {
        assert_eq!(
            command_id("invoice/SUB-SH/INV-1"),
            command_id("invoice/SUB-SH/INV-1")
        );
        assert_ne!(
            command_id("invoice/SUB-SH/INV-1"),
            command_id("invoice/SUB-BJ/INV-1")
        );
        assert_eq!(
            Uuid::parse_str(&command_id("x")).unwrap().get_version_num(),
            5
        );
    }

    #[test]
    fn a_payment_row_becomes_a_payment_with_its_allocations() {
        let header = header(
            Kind::Payments,
            &[
                "\u{feff}Subsidiary",
                "customer",
                "reference",
                "currency",
                "amount",
                "received_date",
                "method",
                "allocations",
                "ignored",
            ],
        );
        let record = csv::StringRecord::from(vec![
            "SUB-SH",
            "C1",
            "BANK-1",
            "CNY",
            "150.00",
            "2026-03-01",
            "Bank Transfer",
            "INV-1:100.00;SUB-BJ:INV-9:50.00",
            "x",
        ]);
        let posting = parse(Kind::Payments, &header, 2, &record).unwrap();
        assert_eq!(posting.identity, "payment/SUB-SH/BANK-1");
        let RowCommand::Payment(request) = posting.command else {
            panic!("not a payment");
        };
        assert_eq!(request.method(), pb::PaymentMethod::BankTransfer);
        assert_eq!(request.allocations.len(), 2);
        assert_eq!(
            request.allocations[1]
                .invoice
                .as_ref()
                .unwrap()
                .subsidiary_id,
            "SUB-BJ"
        );
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let header = header(Kind::Invoices, INVOICE_COLUMNS);
        let record = csv::StringRecord::from(vec![
            "SUB-SH",
            "",
            "INV-1",
            "CNY",
            "1,000",
            "2026-02-30",
            "2026-03-31",
        ]);
        let problem = parse(Kind::Invoices, &header, 3, &record).unwrap_err();
        assert!(
            problem.starts_with("customer: is empty; amount: "),
            "{problem}"
        );
        assert!(problem.contains("issue_date: "), "{problem}");
    }

    #[test]
    fn a_missing_column_refuses_the_file() {
        let error = Header::read(
            Kind::Invoices,
            &csv::StringRecord::from(vec!["subsidiary", "customer"]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("number, currency"), "{error}");
    }
}
