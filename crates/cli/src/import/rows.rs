//! The CSV formats and how one row becomes one command: which columns there are, what a
//! well-formed row holds, the row's identity and the command id derived from it.
//!
//! Only the form of a row is checked here (columns present, dates `YYYY-MM-DD`, plain decimal
//! amounts, a known payment method or reversal reason, invoices and allocations that parse, a
//! reversal's payment named once). Everything else (the currency exists, due date not before
//! issue date, credit limit, invoice open, payment known and not reversed) is the service's
//! decision, and its refusal is reported with the row.

use std::collections::HashMap;

use clap::ValueEnum;
use receivables_api::pb;
use uuid::Uuid;

use crate::error::CliError;
use crate::values::{self, InvoiceSpec, Method, ReversalReason};

/// The namespace of the command ids derived from imported rows (UUID v5). Never change it: a
/// row imported before would get another id and be posted again (an invoice would then be
/// refused as a duplicate number, but a payment would be recorded twice).
pub const IMPORT_NAMESPACE: Uuid = Uuid::from_u128(0x0a5b_c31c_f758_4e3f_a1a9_c33a_1ac5_1e6e);

/// The lane every rate goes to: the group's own account's id, so that a file's rates are
/// posted in file order.
const GROUP_ACCOUNT: &str = "_group";

/// The reason given for a row that is not well formed.
pub const INVALID_ROW: &str = "INVALID_ROW";
/// The reason given for a second row with the identity of an earlier row of the same file.
pub const DUPLICATE_IN_FILE: &str = "DUPLICATE_IN_FILE";

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invoices,
    Payments,
    CreditNotes,
    Reversals,
    Customers,
    ExchangeRates,
}

const INVOICE_COLUMNS: &[&str] = &[
    "subsidiary",
    "customer",
    "number",
    "currency",
    "amount",
    "issue_date",
];
/// The two ways an invoice says when it falls due: a file has at least one of the columns,
/// and each row fills exactly one (the code of one of the group's payment-terms templates).
const INVOICE_DUE_COLUMNS: &[&str] = &["due_date", "payment_terms"];
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
const CREDIT_NOTE_COLUMNS: &[&str] = &[
    "subsidiary",
    "customer",
    "number",
    "currency",
    "amount",
    "issue_date",
    "reason",
];
const CREDIT_NOTE_OPTIONAL_COLUMNS: &[&str] = &["invoice"];
const REVERSAL_COLUMNS: &[&str] = &["subsidiary", "customer", "reversal_date", "reason"];
/// The two ways a reversal names its payment: a file has at least one of the columns, and
/// each row fills exactly one.
const REVERSAL_PAYMENT_COLUMNS: &[&str] = &[PAYMENT_REFERENCE, PAYMENT_COMMAND_ID];
const CUSTOMER_COLUMNS: &[&str] = &["customer", "name"];
const CUSTOMER_OPTIONAL_COLUMNS: &[&str] = &[
    "legal_name",
    "tax_id",
    "country",
    "industry",
    "notes",
    "contacts",
];
const RATE_COLUMNS: &[&str] = &["base", "date", "currency", "rate"];
const RATE_OPTIONAL_COLUMNS: &[&str] = &["source"];
const PAYMENT_REFERENCE: &str = "payment_reference";
const PAYMENT_COMMAND_ID: &str = "payment_command_id";

impl Kind {
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Invoices => INVOICE_COLUMNS,
            Kind::Payments => PAYMENT_COLUMNS,
            Kind::CreditNotes => CREDIT_NOTE_COLUMNS,
            Kind::Reversals => REVERSAL_COLUMNS,
            Kind::Customers => CUSTOMER_COLUMNS,
            Kind::ExchangeRates => RATE_COLUMNS,
        }
    }

    pub fn optional_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Invoices => INVOICE_DUE_COLUMNS,
            Kind::Payments => PAYMENT_OPTIONAL_COLUMNS,
            Kind::CreditNotes => CREDIT_NOTE_OPTIONAL_COLUMNS,
            Kind::Reversals => REVERSAL_PAYMENT_COLUMNS,
            Kind::Customers => CUSTOMER_OPTIONAL_COLUMNS,
            Kind::ExchangeRates => RATE_OPTIONAL_COLUMNS,
        }
    }

    /// Optional columns of which the header must have at least one.
    pub fn one_of_columns(self) -> &'static [&'static str] {
        match self {
            Kind::Reversals => REVERSAL_PAYMENT_COLUMNS,
            Kind::Invoices => INVOICE_DUE_COLUMNS,
            Kind::Payments | Kind::CreditNotes | Kind::Customers | Kind::ExchangeRates => &[],
        }
    }

    /// The kind as its `import` subcommand and the summary name it.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Invoices => "invoices",
            Kind::Payments => "payments",
            Kind::CreditNotes => "credit-notes",
            Kind::Reversals => "reversals",
            Kind::Customers => "customers",
            Kind::ExchangeRates => "exchange-rates",
        }
    }

    /// The columns a file must have, as a refusal of its header lists them.
    fn columns_needed(self) -> String {
        let mut text = self.required_columns().join(", ");
        if !self.one_of_columns().is_empty() {
            text.push_str(" and ");
            text.push_str(&self.one_of_columns().join(" or "));
        }
        text
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
    /// required column refuses the whole file. When a name appears twice, the first column
    /// counts (so a refused-rows file, which appends its own `line` and `reason`, can be
    /// corrected and imported again even when the rows have a `reason` of their own).
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
                None if required => missing.push((*column).to_owned()),
                None => {}
            }
        }
        let one_of = kind.one_of_columns();
        if !one_of.is_empty() && !one_of.iter().any(|c| positions.contains_key(c)) {
            missing.push(one_of.join(" or "));
        }
        if !missing.is_empty() {
            return Err(CliError::Usage(format!(
                "the header row lacks the column(s) {} (a {} file has {})",
                missing.join(", "),
                kind.noun(),
                kind.columns_needed()
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
    /// `invoice/<subsidiary>/<number>`, `payment/<subsidiary>/<reference>`,
    /// `credit-note/<subsidiary>/<number>` or `reversal/<subsidiary>/<payment command id>`.
    pub identity: String,
    pub command: RowCommand,
}

/// The command a row becomes.
#[derive(Debug, Clone)]
pub enum RowCommand {
    Invoice(pb::IssueInvoiceRequest),
    Payment(pb::RecordPaymentRequest),
    CreditNote(pb::IssueCreditNoteRequest),
    Reversal(pb::ReversePaymentRequest),
    /// One currency's rate of a date, published to the group's account.
    ExchangeRate(pb::PublishExchangeRatesRequest),
    /// A customer's record: registered, or its record updated when it is registered already.
    Customer {
        register: pb::RegisterCustomerRequest,
        update: pb::UpdateCustomerRequest,
    },
}

/// The command id of a row: the same row always gets the same id, so the service answers a
/// second import of it with the first reply instead of recording it again.
pub fn command_id(identity: &str) -> String {
    Uuid::new_v5(&IMPORT_NAMESPACE, identity.as_bytes()).to_string()
}

/// The identity of an imported payment; a reversal that names the payment by its reference
/// finds the payment's command id through it.
pub fn payment_identity(subsidiary: &str, reference: &str) -> String {
    format!("payment/{subsidiary}/{reference}")
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

    /// A required value of a closed list, spelled as ERP exports spell it.
    fn choice<E: ValueEnum>(&mut self, column: &str) -> Option<E> {
        let value = self.text(column);
        if value.is_empty() {
            self.problems.push(format!("{column}: is empty"));
            return None;
        }
        spelled(value)
            .map_err(|problem| self.problems.push(format!("{column}: {problem}")))
            .ok()
    }

    /// The `currency` and `amount` columns as money.
    fn money(&mut self) -> pb::Money {
        let currency = self.required("currency");
        let amount = self.checked("amount", values::decimal);
        pb::Money { amount, currency }
    }

    /// An optional invoice `[SUBSIDIARY:]NUMBER`, of `subsidiary` when it names none.
    fn invoice(&mut self, column: &str, subsidiary: &str) -> Option<pb::InvoiceRef> {
        let value = self.text(column);
        if value.is_empty() {
            return None;
        }
        value
            .parse::<InvoiceSpec>()
            .map(|spec| spec.to_ref(subsidiary))
            .map_err(|problem| self.problems.push(format!("{column}: {problem}")))
            .ok()
    }

    /// When an invoice falls due: by exactly one of `due_date` and `payment_terms` (a
    /// template's code; whether the group has it is the service's rule).
    fn due(&mut self) -> pb::issue_invoice_request::Due {
        use pb::issue_invoice_request::Due;
        match (self.text("due_date"), self.text("payment_terms")) {
            ("", "") => {
                self.problems.push(
                    "due_date, payment_terms: both are empty (exactly one says when it is due)"
                        .to_owned(),
                );
                Due::DueDate(String::new())
            }
            (_, "") => Due::DueDate(self.checked("due_date", values::date)),
            ("", code) => Due::PaymentTerms(code.to_owned()),
            (_, _) => {
                self.problems.push(
                    "due_date, payment_terms: both are filled (exactly one says when it is due)"
                        .to_owned(),
                );
                Due::DueDate(String::new())
            }
        }
    }

    /// The command id of the payment a reversal names, by exactly one of
    /// `payment_reference` (a payment imported by `subsidiary`: the id its import derived) and
    /// `payment_command_id` (written as the service prints ids, whatever form the file uses).
    fn payment(&mut self, subsidiary: &str) -> String {
        let (by_reference, by_id) = (PAYMENT_REFERENCE, PAYMENT_COMMAND_ID);
        match (self.text(by_reference), self.text(by_id)) {
            ("", "") => {
                self.problems.push(format!(
                    "{by_reference}, {by_id}: both are empty (exactly one names the payment)"
                ));
                String::new()
            }
            (reference, "") => command_id(&payment_identity(subsidiary, reference)),
            ("", id) => match Uuid::parse_str(id) {
                Ok(uuid) if !uuid.is_nil() => uuid.hyphenated().to_string(),
                Ok(_) => {
                    self.problems.push(format!(
                        "{by_id}: {id:?} is the nil UUID, which names nothing"
                    ));
                    String::new()
                }
                Err(error) => {
                    self.problems
                        .push(format!("{by_id}: {id:?} is not a UUID: {error}"));
                    String::new()
                }
            },
            (_, _) => {
                self.problems.push(format!(
                    "{by_reference}, {by_id}: both are given (exactly one names the payment)"
                ));
                String::new()
            }
        }
    }
}

/// Reads one row into its command, or says everything that is wrong with it (the message of an
/// `INVALID_ROW` refusal), column by column in the order of the format.
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
    // A customer's record and a rate belong to no subsidiary, and a rate to no customer: the
    // group's own account takes it.
    let subsidiary = if matches!(kind, Kind::Customers | Kind::ExchangeRates) {
        String::new()
    } else {
        fields.required("subsidiary")
    };
    let customer = if kind == Kind::ExchangeRates {
        GROUP_ACCOUNT.to_owned()
    } else {
        fields.required("customer")
    };
    let (identity, command) = match kind {
        Kind::Invoices => {
            let number = fields.required("number");
            let amount = fields.money();
            let issue_date = fields.checked("issue_date", values::date);
            let due = fields.due();
            let identity = format!("invoice/{subsidiary}/{number}");
            let request = pb::IssueInvoiceRequest {
                command_id: command_id(&identity),
                customer_id: customer.clone(),
                subsidiary_id: subsidiary,
                invoice_number: number,
                amount: Some(amount),
                issue_date,
                due: Some(due),
                schedule: Vec::new(),
                order_number: String::new(),
            };
            (identity, RowCommand::Invoice(request))
        }
        Kind::Payments => {
            // The reference names the payment: without it a second import could not know the
            // row was posted already.
            let reference = fields.required("reference");
            let amount = fields.money();
            let received_date = fields.checked("received_date", values::date);
            let method = fields
                .choice::<Method>("method")
                .map_or(pb::PaymentMethod::Unspecified, Method::to_pb);
            let allocations = match values::allocations(fields.text("allocations")) {
                Ok(list) => list
                    .iter()
                    .map(|a| a.to_allocation(&subsidiary, &amount.currency))
                    .collect(),
                Err(problem) => {
                    fields.problems.push(format!("allocations: {problem}"));
                    Vec::new()
                }
            };
            let identity = payment_identity(&subsidiary, &reference);
            let request = pb::RecordPaymentRequest {
                command_id: command_id(&identity),
                customer_id: customer.clone(),
                subsidiary_id: subsidiary,
                amount: Some(amount),
                received_date,
                method: method.into(),
                reference,
                allocations,
                allocation_rule: pb::AllocationRule::Unspecified.into(),
            };
            (identity, RowCommand::Payment(request))
        }
        Kind::CreditNotes => {
            let number = fields.required("number");
            let amount = fields.money();
            let issue_date = fields.checked("issue_date", values::date);
            let reason = fields.required("reason");
            let invoice = fields.invoice("invoice", &subsidiary);
            let identity = format!("credit-note/{subsidiary}/{number}");
            let request = pb::IssueCreditNoteRequest {
                command_id: command_id(&identity),
                customer_id: customer.clone(),
                subsidiary_id: subsidiary,
                credit_note_number: number,
                amount: Some(amount),
                issue_date,
                reason,
                invoice,
            };
            (identity, RowCommand::CreditNote(request))
        }
        Kind::Reversals => {
            let reversal_date = fields.checked("reversal_date", values::date);
            let reason = fields
                .choice::<ReversalReason>("reason")
                .map_or(pb::ReversalReason::Unspecified, ReversalReason::to_pb);
            let payment = fields.payment(&subsidiary);
            // Named by its reference or by its id, a payment is reversed under one identity.
            let identity = format!("reversal/{subsidiary}/{payment}");
            let request = pb::ReversePaymentRequest {
                command_id: command_id(&identity),
                customer_id: customer.clone(),
                subsidiary_id: subsidiary,
                payment_command_id: payment,
                reversal_date,
                reason: reason.into(),
            };
            (identity, RowCommand::Reversal(request))
        }
        Kind::ExchangeRates => {
            let base = fields.required("base");
            let date = fields.checked("date", values::date);
            let currency = fields.required("currency");
            let rate = fields.checked("rate", values::decimal);
            let source = fields.text("source").to_owned();
            // A corrected rate is another command (the id comes from the row's content); the
            // same row posts nothing new.
            let identity = format!("rate/{date}/{currency}");
            let request = pb::PublishExchangeRatesRequest {
                command_id: command_id(&format!("{identity}/{base}/{rate}/{source}")),
                base,
                rate_date: date,
                rates: vec![pb::ExchangeRateEntry { currency, rate }],
                source,
            };
            (identity, RowCommand::ExchangeRate(request))
        }
        Kind::Customers => {
            let contacts = values::contacts(fields.text("contacts")).unwrap_or_else(|problem| {
                fields.problems.push(format!("contacts: {problem}"));
                Vec::new()
            });
            let profile = pb::CustomerProfile {
                name: fields.required("name"),
                legal_name: fields.text("legal_name").to_owned(),
                tax_id: fields.text("tax_id").to_owned(),
                country: fields.text("country").to_owned(),
                contacts,
                industry: fields.text("industry").to_owned(),
                notes: fields.text("notes").to_owned(),
            };
            // A changed row is another command: the ids come from the record as the row states
            // it, so the same row posts nothing new and a changed one updates the record.
            let content = fields.record.iter().collect::<Vec<_>>().join("\u{1f}");
            let identity = format!("customer/{customer}");
            let register = pb::RegisterCustomerRequest {
                command_id: command_id(&format!("{identity}/register/{content}")),
                customer_id: customer.clone(),
                profile: Some(profile.clone()),
            };
            let update = pb::UpdateCustomerRequest {
                command_id: command_id(&format!("{identity}/update/{content}")),
                customer_id: customer.clone(),
                profile: Some(profile),
            };
            (identity, RowCommand::Customer { register, update })
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

/// A value of a closed list as ERP exports spell it: `bank_transfer`, `Bank Transfer`,
/// `bank-transfer`.
fn spelled<E: ValueEnum>(text: &str) -> Result<E, String> {
    let spelled = text.trim().to_lowercase().replace(['_', ' '], "-");
    E::from_str(&spelled, true).map_err(|_| {
        format!(
            "{text:?} is not one of {}",
            E::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value)
                .map(|v| v.get_name().replace('-', "_"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
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
        let mut columns = INVOICE_COLUMNS.to_vec();
        columns.push("due_date");
        let header = header(Kind::Invoices, &columns);
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

    const REVERSAL_HEADER: &[&str] = &[
        "subsidiary",
        "customer",
        "reversal_date",
        "reason",
        "payment_reference",
        "payment_command_id",
    ];

    fn reversal(fields: &[&str]) -> Result<Posting, String> {
        let header = header(Kind::Reversals, REVERSAL_HEADER);
        parse(
            Kind::Reversals,
            &header,
            2,
            &csv::StringRecord::from(fields.to_vec()),
        )
    }

    fn reversal_request(posting: Posting) -> pb::ReversePaymentRequest {
        match posting.command {
            RowCommand::Reversal(request) => request,
            other => panic!("not a reversal: {other:?}"),
        }
    }

    #[test]
    fn a_credit_note_credits_an_invoice_of_its_subsidiary_another_or_none() {
        let header = header(
            Kind::CreditNotes,
            &[
                "Invoice",
                "Subsidiary",
                "Customer",
                "Number",
                "Currency",
                "Amount",
                "Issue Date",
                "Reason",
            ],
        );
        let invoice_of = |invoice: &str| {
            let record = csv::StringRecord::from(vec![
                invoice,
                "SUB-SH",
                "C1",
                "CN-1",
                "CNY",
                "10.00",
                "2026-03-01",
                "price",
            ]);
            let posting = parse(Kind::CreditNotes, &header, 2, &record)?;
            assert_eq!(posting.identity, "credit-note/SUB-SH/CN-1");
            let RowCommand::CreditNote(request) = posting.command else {
                panic!("not a credit note");
            };
            assert_eq!(request.credit_note_number, "CN-1");
            assert_eq!(request.reason, "price");
            Ok::<_, String>(request.invoice.map(|i| (i.subsidiary_id, i.invoice_number)))
        };
        assert_eq!(invoice_of("").unwrap(), None);
        assert_eq!(
            invoice_of("SH-1").unwrap(),
            Some(("SUB-SH".to_owned(), "SH-1".to_owned()))
        );
        assert_eq!(
            invoice_of("SUB-BJ:BJ/7").unwrap(),
            Some(("SUB-BJ".to_owned(), "BJ/7".to_owned()))
        );
        let problem = invoice_of("A:B:C").unwrap_err();
        assert!(problem.starts_with("invoice: "), "{problem}");

        // Without the column, every note goes on account.
        let header = header_without_invoice();
        let record = csv::StringRecord::from(vec![
            "SUB-SH",
            "C1",
            "CN-2",
            "CNY",
            "10.00",
            "2026-03-01",
            "goodwill",
        ]);
        let posting = parse(Kind::CreditNotes, &header, 2, &record).unwrap();
        let RowCommand::CreditNote(request) = posting.command else {
            panic!("not a credit note");
        };
        assert_eq!(request.invoice, None);
    }

    fn header_without_invoice() -> Header {
        header(Kind::CreditNotes, CREDIT_NOTE_COLUMNS)
    }

    #[test]
    fn every_problem_of_a_credit_note_is_reported_in_column_order() {
        let header = header_without_invoice();
        let record =
            csv::StringRecord::from(vec!["SUB-SH", "C1", "", "CNY", "1,0", "2026-13-01", ""]);
        let problem = parse(Kind::CreditNotes, &header, 2, &record).unwrap_err();
        let columns: Vec<&str> = problem
            .split("; ")
            .map(|p| p.split_once(':').unwrap().0)
            .collect();
        assert_eq!(
            columns,
            vec!["number", "amount", "issue_date", "reason"],
            "{problem}"
        );
    }

    #[test]
    fn a_reversal_by_reference_names_the_command_id_of_the_imported_payment() {
        let payments = header(Kind::Payments, PAYMENT_COLUMNS);
        let payment = parse(
            Kind::Payments,
            &payments,
            2,
            &csv::StringRecord::from(vec![
                "SUB-SH",
                "C1",
                "CHQ-9",
                "CNY",
                "10.00",
                "2026-03-01",
                "cheque",
            ]),
        )
        .unwrap();
        let RowCommand::Payment(payment) = payment.command else {
            panic!("not a payment");
        };

        let posting = reversal(&[
            "SUB-SH",
            "C1",
            "2026-03-05",
            "Insufficient Funds",
            "CHQ-9",
            "",
        ])
        .unwrap();
        assert_eq!(
            posting.identity,
            format!("reversal/SUB-SH/{}", payment.command_id)
        );
        let request = reversal_request(posting);
        assert_eq!(request.payment_command_id, payment.command_id);
        assert_eq!(request.reason(), pb::ReversalReason::InsufficientFunds);
        assert_eq!(
            request.command_id,
            command_id(&format!("reversal/SUB-SH/{}", payment.command_id))
        );
        assert_ne!(request.command_id, payment.command_id);

        // The same payment named by its id, in another form: the same reversal.
        let braced = format!("{{{}}}", payment.command_id.to_uppercase());
        let by_id = reversal(&[
            "SUB-SH",
            "C1",
            "2026-03-05",
            "returned_by_bank",
            "",
            &braced,
        ])
        .unwrap();
        assert_eq!(
            by_id.identity,
            format!("reversal/SUB-SH/{}", payment.command_id)
        );
        let request = reversal_request(by_id);
        assert_eq!(request.payment_command_id, payment.command_id);
        assert_eq!(request.reason(), pb::ReversalReason::ReturnedByBank);
    }

    #[test]
    fn a_reversal_names_its_payment_exactly_once() {
        let id = "0195f0c2-7a4e-7c1d-9b2e-3f4a5b6c7d8e";
        let both = reversal(&["SUB-SH", "C1", "2026-03-05", "fraud", "CHQ-9", id]).unwrap_err();
        assert_eq!(
            both,
            "payment_reference, payment_command_id: both are given (exactly one names the payment)"
        );
        let neither = reversal(&["SUB-SH", "C1", "2026-3-5", "bounced", "", ""]).unwrap_err();
        let columns: Vec<&str> = neither
            .split("; ")
            .map(|p| p.split_once(": ").unwrap().0)
            .collect();
        assert_eq!(
            columns,
            vec![
                "reversal_date",
                "reason",
                "payment_reference, payment_command_id"
            ],
            "{neither}"
        );
        assert!(
            neither.contains(
                "reason: \"bounced\" is not one of insufficient_funds, returned_by_bank, fraud, \
                 entered_in_error"
            ),
            "{neither}"
        );
        let not_uuid = reversal(&["SUB-SH", "C1", "2026-03-05", "fraud", "", "CHQ-9"]).unwrap_err();
        assert!(
            not_uuid.starts_with("payment_command_id: \"CHQ-9\" is not a UUID"),
            "{not_uuid}"
        );
        let nil = reversal(&[
            "SUB-SH",
            "C1",
            "2026-03-05",
            "fraud",
            "",
            "00000000-0000-0000-0000-000000000000",
        ])
        .unwrap_err();
        assert!(nil.contains("nil UUID"), "{nil}");
    }

    #[test]
    fn a_reversals_file_has_one_payment_column_at_least() {
        let only_id = Header::read(
            Kind::Reversals,
            &csv::StringRecord::from(vec![
                "subsidiary",
                "customer",
                "reversal_date",
                "reason",
                "payment_command_id",
            ]),
        );
        assert!(only_id.is_ok());
        let error = Header::read(
            Kind::Reversals,
            &csv::StringRecord::from(vec!["subsidiary", "customer", "reversal_date", "reason"]),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the header row lacks the column(s) payment_reference or payment_command_id (a \
             reversals file has subsidiary, customer, reversal_date, reason and \
             payment_reference or payment_command_id)"
        );
    }

    #[test]
    fn a_refused_rows_file_is_read_with_the_rows_own_reason() {
        // The refused-rows file of a reversals file: the row's columns, then `line` and the
        // refusal's `reason`. Corrected, it imports with the row's reason.
        let mut names = REVERSAL_HEADER.to_vec();
        names.extend(["line", "reason"]);
        let header = header(Kind::Reversals, &names);
        let record = csv::StringRecord::from(vec![
            "SUB-SH",
            "C1",
            "2026-03-05",
            "fraud",
            "CHQ-9",
            "",
            "7",
            "PAYMENT_NOT_FOUND: no such payment",
        ]);
        let request = reversal_request(parse(Kind::Reversals, &header, 2, &record).unwrap());
        assert_eq!(request.reason(), pb::ReversalReason::Fraud);
    }
}
