//! Bank statement files read into credit and debit lines.
//!
//! [`parse`] takes the bytes of a file and its [`Format`] (ISO 20022 camt.053, SWIFT MT940, or a
//! CSV export described by a [`CsvLayout`]) and returns a [`Statement`]: the file's account, its
//! id, and every booked credit and debit, in file order, each with the bank's own id of the
//! transaction. Nothing here does I/O; the caller reads the file and decides what the lines
//! become.
//!
//! A file is read whole or not at all: every problem found (up to [`PROBLEMS_MAX`]) is returned
//! in a [`StatementError`], with its line and field, and no line of a file with a problem is,
//! so that a statement is never imported in part.
//!
//! The formats, each in its own module: `camt` (XML, read with quick-xml, no DTD), `mt940` (a
//! strict reader of its tags), and `delimited` (any CSV layout; the presets in `layout` are
//! data for it, not code of their own).

mod amount;
mod camt;
mod delimited;
mod layout;
mod limits;
mod mt940;
mod problems;
mod text;

use std::collections::HashMap;

use chrono::NaiveDate;
use receivables_domain::money::Money;
use sha2::{Digest, Sha256};

pub use amount::DecimalSeparator;
pub use layout::{Column, CsvDirection, CsvLayout, CurrencySource};
pub use limits::{
    PROBLEMS_MAX, STATEMENT_BYTES_MAX, STATEMENT_LINES_MAX, TEXT_FIELD_CHARS_MAX, XML_DEPTH_MAX,
};
pub use problems::{Problem, StatementError};
pub use text::TextEncoding;

use problems::Problems;

/// The format of a statement file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a format is made once per file read; the layout stays a plain value for callers"
)]
pub enum Format {
    /// ISO 20022 camt.053 (BankToCustomerStatement), any version of its namespace.
    Camt053,
    /// SWIFT MT940 (customer statement message).
    Mt940,
    /// A CSV export, read as its layout says.
    Csv(CsvLayout),
}

/// Which way money moved on the statement's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Money in: a receipt.
    Credit,
    /// Money out, or a credit taken back.
    Debit,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Credit => "credit",
            Direction::Debit => "debit",
        }
    }
}

/// One credit or debit of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// The 1-based position of the transaction among all those the file lists (camt.053 entries,
    /// or each part of an entry split by its transaction details; MT940 `:61:` fields; CSV data
    /// rows), counting those left out (pending entries, rows whose status is not kept, repeats):
    /// stable for a file, with gaps where something was left out.
    pub ordinal: usize,
    /// The 1-based line of the file where the transaction starts, for messages.
    pub source_line: usize,
    /// The bank's own id of the transaction, or, where the file gives none, one derived from
    /// the line's content (`derived:` and 32 hex digits), the same on every import of the file.
    pub bank_transaction_id: String,
    /// Whether [`StatementLine::bank_transaction_id`] was derived rather than read.
    pub id_derived: bool,
    pub value_date: NaiveDate,
    pub booking_date: Option<NaiveDate>,
    pub direction: Direction,
    /// Always positive, at the currency's scale: the direction says which way it went.
    pub amount: Money,
    /// The other party's name: the payer of a credit, the payee of a debit.
    pub payer_name: Option<String>,
    /// The other party's account (an IBAN, a bank account number, a platform's user id).
    pub payer_account: Option<String>,
    /// The remittance text, the parts a format has joined by a space (may be empty).
    pub reference: String,
}

impl StatementLine {
    /// The hex SHA-256 of the line's content (value date, direction, amount, currency, payer
    /// name, payer account, reference), not of where it sits in the file: the same transaction
    /// imported again has the same digest, so a repeat (same id, same digest) can be skipped,
    /// and a different transaction reusing a bank id (same id, different digest) refused.
    pub fn content_digest(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_content().as_bytes()))
    }

    /// The content as text, each field named and its length written before it, so that no two
    /// different lines can give the same text ("ab" + "c" against "a" + "bc").
    fn canonical_content(&self) -> String {
        let mut text = String::from("statement-line/1\n");
        let mut field = |name: &str, value: Option<&str>| match value {
            Some(value) => {
                text.push_str(&format!("{name}:{}:{value}\n", value.chars().count()));
            }
            None => text.push_str(&format!("{name}:-\n")),
        };
        field("value_date", Some(&self.value_date.to_string()));
        field("direction", Some(self.direction.as_str()));
        field("amount", Some(&self.amount.amount().to_string()));
        field("currency", Some(self.amount.currency().code()));
        field("payer_name", self.payer_name.as_deref());
        field("payer_account", self.payer_account.as_deref());
        field("reference", Some(&self.reference));
        text
    }
}

/// A statement file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement's own account as the file names it: camt.053 `Acct/Id/IBAN` or
    /// `Acct/Id/Othr/Id`, MT940 `:25:`; none for CSV files, which do not say.
    pub account: Option<String>,
    /// camt.053 `Stmt/Id`; MT940 `:20:`, followed by `/` and `:28C:` when the file has one.
    pub statement_id: Option<String>,
    /// The booked credits and debits, in file order.
    pub lines: Vec<StatementLine>,
}

/// Reads a statement file. Refuses a file over [`STATEMENT_BYTES_MAX`] before reading any of
/// it; otherwise reads it whole and returns every problem found, or the statement.
pub fn parse(bytes: &[u8], format: &Format) -> Result<Statement, StatementError> {
    let mut problems = Problems::default();
    if bytes.len() > STATEMENT_BYTES_MAX {
        problems.report(
            None,
            "file",
            format!(
                "the file has {} bytes, more than the {STATEMENT_BYTES_MAX} a statement may have",
                bytes.len()
            ),
        );
        return Err(problems.into_error());
    }
    let read = match format {
        Format::Camt053 => camt::read(bytes, &mut problems),
        Format::Mt940 => mt940::read(bytes, &mut problems),
        Format::Csv(layout) => delimited::read(bytes, layout, &mut problems),
    };
    let statement = finish(read, &mut problems);
    if problems.is_empty() {
        Ok(statement)
    } else {
        Err(problems.into_error())
    }
}

/// What a format's reader found, before ids are derived and repeats dropped.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub account: Option<String>,
    pub statement_id: Option<String>,
    /// Lines whose `bank_transaction_id` is empty when the file gave none.
    pub lines: Vec<StatementLine>,
}

/// Gives every line an id (the file's, or one derived from its content) and keeps one of each
/// repeat: a bank sends the same transaction twice in one file when two statements overlap, and
/// it is still one transaction. The same id on a different transaction is a problem.
fn finish(read: Read, problems: &mut Problems) -> Statement {
    let account = read.account.clone().unwrap_or_default();
    let mut repeats: HashMap<String, usize> = HashMap::new();
    let mut seen: HashMap<String, (String, usize)> = HashMap::new();
    let mut lines = Vec::with_capacity(read.lines.len());
    for mut line in read.lines {
        if line.id_derived {
            let identity = derivation_text(&account, &line);
            let earlier = repeats.entry(identity.clone()).or_insert(0);
            let digest = Sha256::digest(format!("{identity}repeat:{earlier}\n").as_bytes());
            *earlier += 1;
            line.bank_transaction_id = format!("derived:{}", &hex::encode(digest)[..32]);
        }
        let digest = line.content_digest();
        match seen.get(&line.bank_transaction_id) {
            Some((first_digest, _)) if *first_digest == digest => continue,
            Some((_, first_line)) => {
                problems.at(
                    line.source_line,
                    "bank transaction id",
                    format!(
                        "duplicate bank transaction id {:?} with different content \
                         (first at line {first_line})",
                        line.bank_transaction_id
                    ),
                );
                continue;
            }
            None => {
                seen.insert(line.bank_transaction_id.clone(), (digest, line.source_line));
            }
        }
        lines.push(line);
    }
    Statement {
        account: read.account,
        statement_id: read.statement_id,
        lines,
    }
}

/// What a derived id is made of: the statement's account and the line's content. Two lines of
/// one file with the same content are told apart by how many came before (`repeat:`), so two
/// equal payments on one day stay two, and the ids come out the same on every import.
fn derivation_text(account: &str, line: &StatementLine) -> String {
    let mut text = format!(
        "derived-id/1\naccount:{}:{account}\n",
        account.chars().count()
    );
    text.push_str(&line.canonical_content());
    text
}

/// A text field of a line checked against [`TEXT_FIELD_CHARS_MAX`]: refused, not cut.
pub(crate) fn checked_text(
    problems: &mut Problems,
    line: usize,
    field: &str,
    value: String,
) -> Option<String> {
    if text::longer_than(&value, TEXT_FIELD_CHARS_MAX) {
        problems.at(
            line,
            field,
            format!(
                "{} characters, more than the {TEXT_FIELD_CHARS_MAX} a text field may have",
                value.chars().count()
            ),
        );
        return None;
    }
    Some(value)
}
