//! SWIFT MT940, the customer statement message, read by a small strict reader of its tags.
//!
//! Why not the `mt940` crate: it is well kept and strict, but it stops at the first error with
//! no line number, where this crate reports every problem with its line; it does not give the
//! line each `:61:` starts at; it refuses the `S` (SWIFT transfer) transaction type; and its
//! library pulls in a command-line parser and a grammar generator. MT940 is a list of tagged
//! fields, not a nested language: the reader below is its tags, one function each.
//!
//! Tags read: `:20:` (the statement's reference), `:25:` (the account), `:28C:` (statement
//! number), `:60F:`/`:60M:` (the opening balance, for its currency: every amount of a message is
//! in it), `:61:` (a transaction), `:86:` right after a `:61:` (its details), `:62F:`/`:62M:`
//! (closing balance). Other tags (`:21:`, `:64:`, `:65:`, ...) are allowed and not read; the
//! SWIFT envelope (`{1:...}{2:...}{4:` and `-}`) is skipped. A file may hold several messages of
//! one account.
//!
//! `:61:` is: value date `YYMMDD` (years are 20YY), an optional entry date `MMDD` (the booking
//! date, in the year that puts it nearest the value date), the mark, an optional funds code
//! letter, the amount with a decimal comma, the transaction type (`N`, `F` or `S` and three
//! characters), the customer's reference (up to 16 characters), `//` and the bank's reference
//! (up to 16) when there is one, and optional supplementary details on the next line (not read).
//! The marks: `C` credit, `D` debit, `RC` (reversal of a credit: the money goes back out) a
//! debit, `RD` (reversal of a debit: the money comes back) a credit.
//!
//! The bank id of a line: the bank's reference after `//`, else the customer's reference unless
//! it is `NONREF`.
//!
//! `:86:` is read in one of three ways. German banks' structured form (`NNN?00...?20...`):
//! `?20`-`?29` and `?60`-`?63` are the purpose, `?32`/`?33` the other party's name, `?31` its
//! account; each subfield is a slice of at most 27 characters of one text, so the slices are
//! joined as they are, with nothing between them. The `/`-keyed form (`/REMI/.../NAME/...`):
//! `/REMI/` the reference, `/NAME/` the name, `/ACCT/` or `/IBAN/` the account (or `/CNTP/`
//! account/BIC/name/city). Anything else is free text, its lines joined by a space.

use chrono::{Datelike, NaiveDate};
use receivables_domain::money::{Currency, Money};

use crate::limits::STATEMENT_LINES_MAX;
use crate::problems::Problems;
use crate::text;
use crate::{Direction, Read, StatementLine, checked_text};

/// The customer reference of a transaction the customer gave no reference for.
const NO_REFERENCE: &str = "NONREF";

/// The longest customer's and bank's reference of `:61:` (SWIFT `16x`).
const REFERENCE_CHARS_MAX: usize = 16;

/// The longest amount of `:61:` and of the balances (SWIFT `15d`, its comma included).
const AMOUNT_CHARS_MAX: usize = 15;

/// The keys of the `/`-keyed form of `:86:`: its values end where the next key starts.
const SLASH_KEYS: &[&str] = &[
    "ACCT", "ADDR", "BENM", "BIC", "BKID", "CHGS", "CNTP", "CSID", "EREF", "EXCH", "IBAN", "ID",
    "ISDT", "MARF", "NAME", "OCMT", "ORDP", "PREF", "PURP", "REMI", "RTRN", "SVCL", "TRCD", "ULTB",
    "ULTC", "ULTD",
];

/// One tagged field: its tag, the line it starts on and its lines.
struct Field<'a> {
    tag: &'a str,
    line: usize,
    lines: Vec<&'a str>,
}

pub(crate) fn read(bytes: &[u8], problems: &mut Problems) -> Read {
    let text = text::utf8_or_latin1(bytes);
    let fields = fields(&text, problems);
    let mut reader = Reader::default();
    for field in &fields {
        if problems.is_full() {
            break;
        }
        reader.field(field, problems);
        if reader.ordinal > STATEMENT_LINES_MAX {
            problems.at(
                field.line,
                ":61:",
                format!("more than {STATEMENT_LINES_MAX} transactions in one file"),
            );
            break;
        }
    }
    reader.flush();
    if reader.messages == 0 && problems.is_empty() {
        problems.at(1, ":20:", "no MT940 message (no :20: field) in the file");
    }
    reader.read
}

/// Splits the text into tagged fields; a line that starts no tag continues the field before it.
fn fields<'a>(text: &'a str, problems: &mut Problems) -> Vec<Field<'a>> {
    let mut fields: Vec<Field<'a>> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let content = raw.trim_end_matches('\r');
        if content.trim().is_empty() || is_envelope(content) {
            continue;
        }
        if let Some((tag, value)) = tag(content) {
            fields.push(Field {
                tag,
                line: number,
                lines: vec![value],
            });
            continue;
        }
        match fields.last_mut() {
            Some(field) => field.lines.push(content),
            None => problems.at(number, "file", "text before the first MT940 tag"),
        }
    }
    fields
}

/// The SWIFT envelope around a message: `{1:...}{2:...}{4:` before it, `-}` (or `-`) after.
fn is_envelope(line: &str) -> bool {
    line.starts_with('{') || line == "-}" || line == "-"
}

/// `:NN:` or `:NNa:` at the start of a line, and what follows it.
fn tag(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let tag = &rest[..end];
    let bytes = tag.as_bytes();
    let well_formed = matches!(bytes.len(), 2 | 3)
        && bytes[..2].iter().all(u8::is_ascii_digit)
        && bytes.get(2).is_none_or(u8::is_ascii_uppercase);
    well_formed.then(|| (tag, &rest[end + 1..]))
}

#[derive(Default)]
struct Reader {
    read: Read,
    messages: usize,
    currency: Option<Currency>,
    /// The last `:61:`, until a `:86:` completes it or another tag shows it has none.
    pending: Option<StatementLine>,
    ordinal: usize,
}

impl Reader {
    fn field(&mut self, field: &Field<'_>, problems: &mut Problems) {
        let value = field.lines.first().map_or("", |first| first.trim());
        match field.tag {
            "86" => {
                if let Some(mut line) = self.pending.take() {
                    details(&mut line, field, problems);
                    self.read.lines.push(line);
                }
                return;
            }
            _ => self.flush(),
        }
        match field.tag {
            "20" => {
                self.messages += 1;
                self.currency = None;
                if self.messages == 1 {
                    self.read.statement_id = Some(value.to_owned()).filter(|id| !id.is_empty());
                }
            }
            "25" => {
                if self.messages <= 1 && self.read.account.is_none() {
                    self.read.account = Some(value.to_owned()).filter(|id| !id.is_empty());
                } else if self.read.account.as_deref() != Some(value) {
                    problems.at(
                        field.line,
                        ":25:",
                        format!(
                            "the file's messages are of different accounts ({} and {value}); \
                             one file, one account",
                            self.read.account.as_deref().unwrap_or("none")
                        ),
                    );
                }
            }
            "28C" | "28" => {
                if self.messages == 1
                    && let Some(id) = &mut self.read.statement_id
                {
                    id.push('/');
                    id.push_str(value);
                }
            }
            "60F" | "60M" => {
                self.currency = balance_currency(value, field, problems);
            }
            "61" => {
                self.ordinal += 1;
                if self.messages == 0 {
                    problems.at(
                        field.line,
                        ":61:",
                        "a transaction before the message's :20:",
                    );
                }
                self.pending = transaction(field, self.currency, self.ordinal, problems);
            }
            _ => {}
        }
    }

    /// Keeps the last `:61:` as it is: the field after it is not its `:86:`.
    fn flush(&mut self) {
        if let Some(line) = self.pending.take() {
            self.read.lines.push(line);
        }
    }
}

/// The currency of an opening balance `:60F:`/`:60M:`: mark, date, currency, amount.
fn balance_currency(value: &str, field: &Field<'_>, problems: &mut Problems) -> Option<Currency> {
    let tag = format!(":{}:", field.tag);
    let code = value.get(7..10);
    let well_formed = matches!(value.get(..1), Some("C" | "D"))
        && value
            .get(1..7)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        && value
            .get(10..)
            .is_some_and(|amount| swift_amount(amount).is_some());
    let Some(code) = code.filter(|_| well_formed) else {
        problems.at(
            field.line,
            tag,
            format!("{value:?} is not a balance (C or D, YYMMDD, currency, amount)"),
        );
        return None;
    };
    match Currency::parse(code) {
        Ok(currency) => Some(currency),
        Err(error) => {
            problems.at(field.line, tag, error.to_string());
            None
        }
    }
}

/// A SWIFT amount (`123,45`, `100,`) as plain decimal text (`123.45`, `100`).
fn swift_amount(text: &str) -> Option<String> {
    let (whole, fraction) = text.split_once(',')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || text.len() > AMOUNT_CHARS_MAX {
        return None;
    }
    Some(if fraction.is_empty() {
        whole.to_owned()
    } else {
        format!("{whole}.{fraction}")
    })
}

/// Reads `:61:`; reports every part of it that is wrong.
fn transaction(
    field: &Field<'_>,
    currency: Option<Currency>,
    ordinal: usize,
    problems: &mut Problems,
) -> Option<StatementLine> {
    let line = field.line;
    let mut bad = |message: String| problems.at(line, ":61:", message);
    let text = field.lines.first().map_or("", |first| first.trim());
    let mut rest = text;
    // The value date is six digits: one that is no date leaves the rest readable.
    let Some(six) = rest
        .get(..6)
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
    else {
        bad(format!(
            "{text:?} does not start with a value date (YYMMDD)"
        ));
        return None;
    };
    let value_date = short_date(six);
    if value_date.is_none() {
        bad(format!("{six:?} is not a value date (YYMMDD)"));
    }
    rest = &rest[6..];
    let mut booking_date = None;
    if let Some(month_day) = rest
        .get(..4)
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
    {
        booking_date = value_date.and_then(|value| entry_date(value, month_day));
        if value_date.is_some() && booking_date.is_none() {
            bad(format!("{month_day:?} is not an entry date (MMDD)"));
        }
        rest = &rest[4..];
    }
    let (direction, after_mark) = if let Some(after) = rest.strip_prefix("RC") {
        (Direction::Debit, after)
    } else if let Some(after) = rest.strip_prefix("RD") {
        (Direction::Credit, after)
    } else if let Some(after) = rest.strip_prefix('C') {
        (Direction::Credit, after)
    } else if let Some(after) = rest.strip_prefix('D') {
        (Direction::Debit, after)
    } else {
        bad(format!("{rest:?} does not start with C, D, RC or RD"));
        return None;
    };
    rest = after_mark;
    if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        rest = &rest[1..];
    }
    // A point is read into the amount, to be refused there as what it is.
    let amount_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .unwrap_or(rest.len());
    let amount_text = &rest[..amount_end];
    rest = &rest[amount_end..];
    let amount = match (swift_amount(amount_text), currency) {
        (None, _) => {
            bad(format!(
                "{amount_text:?} is not an amount (digits with a decimal comma, at most {AMOUNT_CHARS_MAX} characters)"
            ));
            None
        }
        (Some(_), None) => {
            bad("no opening balance (:60F:) before it gives the currency".to_owned());
            None
        }
        (Some(plain), Some(currency)) => match Money::positive(&plain, currency) {
            Ok(amount) => Some(amount),
            Err(error) => {
                bad(format!("{amount_text:?}: {error}"));
                None
            }
        },
    };
    let type_code = rest.get(..4);
    let type_ok = type_code.is_some_and(|code| {
        matches!(code.as_bytes()[0], b'N' | b'F' | b'S')
            && code.bytes().skip(1).all(|b| b.is_ascii_alphanumeric())
    });
    if !type_ok {
        bad(format!(
            "{rest:?} does not start with a transaction type (N, F or S and three characters)"
        ));
        return None;
    }
    rest = &rest[4..];
    let (customer, bank) = match rest.split_once("//") {
        Some((customer, bank)) => (customer, Some(bank.trim())),
        None => (rest.trim_end(), None),
    };
    if customer.is_empty() || customer.chars().count() > REFERENCE_CHARS_MAX {
        bad(format!(
            "the customer's reference {customer:?} is not 1 to {REFERENCE_CHARS_MAX} characters"
        ));
    }
    if let Some(bank) = bank
        && (bank.is_empty() || bank.chars().count() > REFERENCE_CHARS_MAX)
    {
        bad(format!(
            "the bank's reference {bank:?} is not 1 to {REFERENCE_CHARS_MAX} characters"
        ));
    }
    let id = bank
        .filter(|bank| !bank.is_empty())
        .or(Some(customer).filter(|customer| !customer.is_empty() && *customer != NO_REFERENCE))
        .map(str::to_owned);
    Some(StatementLine {
        ordinal,
        source_line: line,
        id_derived: id.is_none(),
        bank_transaction_id: id.unwrap_or_default(),
        value_date: value_date?,
        booking_date,
        direction,
        amount: amount?,
        payer_name: None,
        payer_account: None,
        reference: String::new(),
    })
}

/// `YYMMDD`, in this century.
fn short_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let year = i32::try_from(number(0..2)?).ok()? + 2000;
    NaiveDate::from_ymd_opt(year, number(2..4)?, number(4..6)?)
}

/// `MMDD` in the year that puts it nearest the value date: an entry booked on 31 December for a
/// value date of 2 January belongs to the year before.
fn entry_date(value_date: NaiveDate, month_day: &str) -> Option<NaiveDate> {
    let month = month_day.get(..2)?.parse::<u32>().ok()?;
    let day = month_day.get(2..)?.parse::<u32>().ok()?;
    let year = value_date.year();
    [year - 1, year, year + 1]
        .into_iter()
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .min_by_key(|date| (*date - value_date).num_days().abs())
}

/// Completes a line with its `:86:`.
fn details(line: &mut StatementLine, field: &Field<'_>, problems: &mut Problems) {
    let joined: String = field.lines.iter().map(|part| part.trim_end()).collect();
    let (name, account, reference) = if is_structured(&joined) {
        structured(&joined)
    } else if is_slash_keyed(&joined) {
        slash_keyed(&joined)
    } else {
        let free: Vec<&str> = field
            .lines
            .iter()
            .map(|part| part.trim())
            .filter(|part| !part.is_empty())
            .collect();
        (None, None, free.join(" "))
    };
    let at = field.line;
    line.payer_name = name.and_then(|name| checked_text(problems, at, ":86:", name));
    line.payer_account = account.and_then(|account| checked_text(problems, at, ":86:", account));
    line.reference = checked_text(problems, at, ":86:", reference).unwrap_or_default();
}

/// `NNN?` : a three-digit business code and the first subfield.
fn is_structured(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 4 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'?'
}

/// German banks' `?NN` subfields: (name, account, purpose).
fn structured(text: &str) -> (Option<String>, Option<String>, String) {
    let mut purpose = String::new();
    let mut name = String::new();
    let mut account = String::new();
    for (key, value) in question_mark_subfields(text) {
        match key {
            20..=29 | 60..=63 => purpose.push_str(value),
            31 => account.push_str(value),
            32 | 33 => name.push_str(value),
            _ => {}
        }
    }
    let some = |text: String| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    (some(name), some(account), purpose.trim().to_owned())
}

/// The `?NN` subfields of a structured `:86:` after its business code.
fn question_mark_subfields(text: &str) -> Vec<(u8, &str)> {
    let starts: Vec<usize> = text
        .char_indices()
        .filter(|&(at, c)| {
            c == '?'
                && text
                    .get(at + 1..at + 3)
                    .is_some_and(|key| key.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(at, _)| at)
        .collect();
    starts
        .iter()
        .enumerate()
        .filter_map(|(index, &start)| {
            let end = starts.get(index + 1).copied().unwrap_or(text.len());
            let key = text.get(start + 1..start + 3)?.parse::<u8>().ok()?;
            Some((key, text.get(start + 3..end)?))
        })
        .collect()
}

fn is_slash_keyed(text: &str) -> bool {
    text.starts_with('/')
        && ["REMI", "NAME", "ACCT", "IBAN", "CNTP"]
            .iter()
            .any(|key| text.contains(&format!("/{key}/")))
}

/// The `/KEY/value` form: (name, account, reference).
fn slash_keyed(text: &str) -> (Option<String>, Option<String>, String) {
    let mut starts: Vec<(usize, &str)> = Vec::new();
    for key in SLASH_KEYS {
        let marker = format!("/{key}/");
        starts.extend(text.match_indices(&marker).map(|(at, _)| (at, *key)));
    }
    starts.sort_unstable();
    let mut values: Vec<(&str, &str)> = Vec::new();
    for (index, &(start, key)) in starts.iter().enumerate() {
        let from = start + key.len() + 2;
        let end = starts
            .get(index + 1)
            .map_or(text.len(), |&(next, _)| next)
            .max(from);
        values.push((key, text.get(from..end).unwrap_or("")));
    }
    let value = |wanted: &str| {
        values
            .iter()
            .find(|(key, _)| *key == wanted)
            .map(|(_, value)| value.trim_matches('/').trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let counterparty: Vec<String> = value("CNTP")
        .map(|cntp| cntp.split('/').map(str::to_owned).collect())
        .unwrap_or_default();
    let from_counterparty = |index: usize| {
        counterparty
            .get(index)
            .filter(|part| !part.is_empty())
            .cloned()
    };
    let name = value("NAME").or_else(|| from_counterparty(2));
    let account = value("ACCT")
        .or_else(|| value("IBAN"))
        .or_else(|| from_counterparty(0));
    let reference = match value("REMI") {
        Some(remi) => {
            let unstructured = remi
                .strip_prefix("USTD/")
                .or_else(|| remi.strip_prefix("STRD/CUR/"))
                .unwrap_or(&remi);
            unstructured.trim_matches('/').trim().to_owned()
        }
        None => text.to_owned(),
    };
    (name, account, reference)
}
