//! The CSV reader: one reader for every [`CsvLayout`], the presets included.
//!
//! The file is decoded in the layout's encoding, the lines before the header skipped, and the
//! rest read with the `csv` crate (quotes, delimiters and `#` comment lines are its business).
//! Each cell is cleaned the same way before use: surrounding spaces and tabs, a byte order mark,
//! one leading backtick or `=` (WeChat Pay and spreadsheet exports write them so that long
//! numbers stay text), and surrounding quotes are removed.

use chrono::{NaiveDate, NaiveDateTime};
use receivables_domain::money::{Currency, Money, parse_amount};
use rust_decimal::Decimal;

use crate::amount::{self, DecimalSeparator};
use crate::layout::{Column, CsvDirection, CsvLayout, CurrencySource};
use crate::limits::STATEMENT_LINES_MAX;
use crate::problems::Problems;
use crate::text::{self, LineIndex};
use crate::{Direction, Read, StatementLine, checked_text};

/// A cell without what exports wrap values in.
pub(crate) fn clean(cell: &str) -> &str {
    let trimmed = cell.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let unmarked = trimmed
        .strip_prefix('`')
        .or_else(|| trimmed.strip_prefix('='))
        .unwrap_or(trimmed)
        .trim();
    let unquoted = unmarked
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(unmarked);
    unquoted.trim()
}

pub(crate) fn read(bytes: &[u8], layout: &CsvLayout, problems: &mut Problems) -> Read {
    let mut read = Read::default();
    let decoded = match text::decode(bytes, layout.encoding) {
        Ok(decoded) => decoded,
        Err(not_text) => {
            problems.at(not_text.line, "file", not_text.message);
            return read;
        }
    };
    let (body, skipped) = skip_lines(&decoded, layout.skip_lines);
    if skipped < layout.skip_lines {
        problems.at(
            skipped.max(1),
            "file",
            format!(
                "the file has {skipped} lines, and the layout skips {} before its header",
                layout.skip_lines
            ),
        );
        return read;
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(layout.delimiter)
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(body.as_bytes());
    let lines = LineIndex::new(body);
    let line_of = |record: &csv::StringRecord| {
        skipped + line_at(body, &lines, record.position().map(csv::Position::byte))
    };
    let mut records = reader.records();
    let header = loop {
        match records.next() {
            None => {
                problems.at(skipped + 1, "file", "the file has no header row");
                return read;
            }
            Some(Err(error)) => {
                problems.at(
                    skipped + line_at(body, &lines, error.position().map(csv::Position::byte)),
                    "file",
                    format!("malformed CSV: {error}"),
                );
                return read;
            }
            Some(Ok(record)) if record.iter().all(|cell| clean(cell).is_empty()) => {}
            Some(Ok(record)) => break record,
        }
    };
    let header_line = line_of(&header);
    let names: Vec<String> = header.iter().map(|cell| clean(cell).to_owned()).collect();
    let Some(columns) = Columns::find(layout, &names, header_line, problems) else {
        return read;
    };
    let mut ordinal = 0;
    for record in records {
        if problems.is_full() {
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.at(
                    skipped + line_at(body, &lines, error.position().map(csv::Position::byte)),
                    "file",
                    format!("malformed CSV: {error}"),
                );
                continue;
            }
        };
        if record.iter().all(|cell| clean(cell).is_empty()) {
            continue;
        }
        let first = record.get(0).map(clean).unwrap_or("");
        if layout.end_marker.as_deref() == Some(first) {
            break;
        }
        ordinal += 1;
        let line = line_of(&record);
        if ordinal > STATEMENT_LINES_MAX {
            problems.at(
                line,
                "file",
                format!("more than {STATEMENT_LINES_MAX} rows in one file"),
            );
            break;
        }
        let row = Row {
            record: &record,
            line,
            names: &names,
        };
        if let Some(line) = columns.line(layout, &row, ordinal, problems) {
            read.lines.push(line);
        }
    }
    read
}

/// The line a record starts on, from its byte offset. The `csv` crate's own line count is one
/// short after a CR LF line end (the record starts at the LF of the line before, which is why
/// the line ends at the offset are skipped first).
fn line_at(body: &str, lines: &LineIndex, byte: Option<u64>) -> usize {
    let Some(mut at) = byte.and_then(|byte| usize::try_from(byte).ok()) else {
        return 0;
    };
    while matches!(body.as_bytes().get(at), Some(b'\r' | b'\n')) {
        at += 1;
    }
    lines.line(at)
}

/// The text after `count` lines, and how many lines were there to skip.
fn skip_lines(text: &str, count: usize) -> (&str, usize) {
    let mut rest = text;
    for skipped in 0..count {
        match rest.find('\n') {
            Some(end) => rest = &rest[end + 1..],
            None => return ("", skipped + usize::from(!rest.is_empty())),
        }
    }
    (rest, count)
}

/// One data row.
struct Row<'a> {
    record: &'a csv::StringRecord,
    line: usize,
    names: &'a [String],
}

impl Row<'_> {
    fn cell(&self, index: usize) -> &str {
        self.record.get(index).map(clean).unwrap_or("")
    }

    /// The column's name for messages: its header, or its position when the header is blank.
    fn field(&self, index: usize) -> String {
        match self.names.get(index) {
            Some(name) if !name.is_empty() => name.clone(),
            _ => format!("column {}", index + 1),
        }
    }
}

/// The amount columns, found in the header.
enum Amounts<'a> {
    Signed {
        amount: usize,
    },
    TwoColumns {
        credit: usize,
        debit: usize,
    },
    ByColumn {
        amount: usize,
        column: usize,
        credit_values: &'a [String],
    },
}

enum CurrencyAt<'a> {
    Fixed(Currency),
    Column {
        index: usize,
        names: &'a [(String, String)],
    },
}

/// The layout's columns, found in the header.
struct Columns<'a> {
    date: usize,
    booking_date: Option<usize>,
    amounts: Amounts<'a>,
    currency: CurrencyAt<'a>,
    id: Option<usize>,
    payer_name: Option<usize>,
    payer_account: Option<usize>,
    reference: Vec<usize>,
    keep_only: Option<(usize, &'a [String])>,
}

/// Where a column is in the header: `Ok(None)` when it is not there, `Err` when it is there
/// twice (and so not one column).
fn position(column: &Column, names: &[String]) -> Result<Option<usize>, String> {
    let named = |name: &str| -> Result<Option<usize>, String> {
        let mut found = names
            .iter()
            .enumerate()
            .filter(|(_, header)| header.as_str() == name);
        match (found.next(), found.next()) {
            (Some((index, _)), None) => Ok(Some(index)),
            (Some(_), Some(_)) => Err(format!("the header has more than one column {name:?}")),
            (None, _) => Ok(None),
        }
    };
    match column {
        Column::Name(name) => named(name),
        Column::OneOf(candidates) => {
            for name in candidates {
                if let Some(index) = named(name)? {
                    return Ok(Some(index));
                }
            }
            Ok(None)
        }
        Column::Index(index) => Ok((*index < names.len()).then_some(*index)),
    }
}

impl<'a> Columns<'a> {
    /// Finds every column of the layout, reporting all that are missing at once.
    fn find(
        layout: &'a CsvLayout,
        names: &[String],
        line: usize,
        problems: &mut Problems,
    ) -> Option<Columns<'a>> {
        let mut missing = false;
        let mut required = |column: &Column, problems: &mut Problems| match position(column, names)
        {
            Ok(Some(index)) => Some(index),
            Ok(None) => {
                problems.at(
                    line,
                    column.describe(),
                    format!("the header has no column {}", column.describe()),
                );
                missing = true;
                None
            }
            Err(message) => {
                problems.at(line, column.describe(), message);
                missing = true;
                None
            }
        };
        let date = required(&layout.date, problems);
        let booking_date = layout
            .booking_date
            .as_ref()
            .and_then(|column| required(column, problems));
        let amounts = match &layout.direction {
            CsvDirection::Signed { amount } => {
                required(amount, problems).map(|amount| Amounts::Signed { amount })
            }
            CsvDirection::TwoColumns { credit, debit } => {
                let credit = required(credit, problems);
                let debit = required(debit, problems);
                credit
                    .zip(debit)
                    .map(|(credit, debit)| Amounts::TwoColumns { credit, debit })
            }
            CsvDirection::ByColumn {
                amount,
                column,
                credit_values,
            } => {
                let amount = required(amount, problems);
                let column = required(column, problems);
                amount
                    .zip(column)
                    .map(|(amount, column)| Amounts::ByColumn {
                        amount,
                        column,
                        credit_values,
                    })
            }
        };
        let currency = match &layout.currency {
            CurrencySource::Fixed(currency) => Some(CurrencyAt::Fixed(*currency)),
            CurrencySource::Column {
                column,
                names: aliases,
                when_absent: Some(currency),
            } => match position(column, names) {
                Ok(Some(index)) => Some(CurrencyAt::Column {
                    index,
                    names: aliases,
                }),
                Ok(None) => Some(CurrencyAt::Fixed(*currency)),
                Err(_) => required(column, problems).map(|index| CurrencyAt::Column {
                    index,
                    names: aliases,
                }),
            },
            CurrencySource::Column {
                column,
                names: aliases,
                when_absent: None,
            } => required(column, problems).map(|index| CurrencyAt::Column {
                index,
                names: aliases,
            }),
        };
        let id = layout
            .bank_transaction_id
            .as_ref()
            .and_then(|column| required(column, problems));
        let keep_only = match &layout.keep_only {
            Some((column, values)) => required(column, problems).map(|index| (index, &values[..])),
            None => None,
        };
        let mut optional = |column: &Column| match position(column, names) {
            Ok(found) => found,
            Err(message) => {
                problems.at(line, column.describe(), message);
                missing = true;
                None
            }
        };
        let payer_name = layout.payer_name.as_ref().and_then(&mut optional);
        let payer_account = layout.payer_account.as_ref().and_then(&mut optional);
        let reference = layout.reference.iter().filter_map(&mut optional).collect();
        if missing {
            return None;
        }
        Some(Columns {
            date: date?,
            booking_date,
            amounts: amounts?,
            currency: currency?,
            id,
            payer_name,
            payer_account,
            reference,
            keep_only,
        })
    }

    /// Reads one data row into a line, reporting every field of it that is wrong; none when
    /// the row is not kept or has a problem.
    fn line(
        &self,
        layout: &CsvLayout,
        row: &Row<'_>,
        ordinal: usize,
        problems: &mut Problems,
    ) -> Option<StatementLine> {
        if let Some((index, values)) = self.keep_only
            && !values.iter().any(|value| value == row.cell(index))
        {
            return None;
        }
        let line = row.line;
        let value_date = date(row, self.date, &layout.date_formats, problems, true);
        let booking_date = self
            .booking_date
            .and_then(|index| date(row, index, &layout.date_formats, problems, false));
        let currency = match &self.currency {
            CurrencyAt::Fixed(currency) => Some(*currency),
            CurrencyAt::Column { index, names } => {
                let text = row.cell(*index);
                let code = names
                    .iter()
                    .find(|(name, _)| name == text)
                    .map_or(text, |(_, code)| code.as_str());
                if text.is_empty() {
                    problems.at(line, row.field(*index), "the currency is missing");
                    None
                } else {
                    match Currency::parse(code) {
                        Ok(currency) => Some(currency),
                        Err(error) => {
                            problems.at(line, row.field(*index), error.to_string());
                            None
                        }
                    }
                }
            }
        };
        let separator = layout.decimal_separator;
        let (direction, magnitude) = self.amount(row, separator, currency, problems)?;
        let text = |index: Option<usize>, problems: &mut Problems| {
            let index = index?;
            let value = row.cell(index);
            if value.is_empty() {
                return None;
            }
            checked_text(problems, line, &row.field(index), value.to_owned())
        };
        let id = text(self.id, problems);
        let payer_name = text(self.payer_name, problems);
        let payer_account = text(self.payer_account, problems);
        let parts: Vec<&str> = self
            .reference
            .iter()
            .map(|&index| row.cell(index))
            .filter(|part| !part.is_empty())
            .collect();
        let reference_field = self
            .reference
            .first()
            .map_or_else(|| "reference".to_owned(), |&index| row.field(index));
        let reference = checked_text(problems, line, &reference_field, parts.join(" "))?;
        let (value_date, currency, magnitude) = (value_date?, currency?, magnitude?);
        Some(StatementLine {
            ordinal,
            source_line: line,
            id_derived: id.is_none(),
            bank_transaction_id: id.unwrap_or_default(),
            value_date,
            booking_date,
            direction,
            amount: Money::of(magnitude, currency),
            payer_name,
            payer_account,
            reference,
        })
    }

    /// The row's direction and positive amount (none when the currency is unknown: the text
    /// is still checked).
    fn amount(
        &self,
        row: &Row<'_>,
        separator: DecimalSeparator,
        currency: Option<Currency>,
        problems: &mut Problems,
    ) -> Option<(Direction, Option<Decimal>)> {
        let line = row.line;
        let read = |index: usize, problems: &mut Problems| -> Result<Option<Amount>, ()> {
            amount_cell(
                row.cell(index),
                &row.field(index),
                line,
                separator,
                currency,
                problems,
            )
        };
        match self.amounts {
            Amounts::Signed { amount } => {
                let Ok(found) = read(amount, problems) else {
                    return None;
                };
                let Some(found) = found else {
                    problems.at(line, row.field(amount), "the amount is missing");
                    return None;
                };
                if found.is_zero() {
                    problems.at(
                        line,
                        row.field(amount),
                        "a zero amount is not a transaction",
                    );
                    return None;
                }
                let direction = if found.negative {
                    Direction::Debit
                } else {
                    Direction::Credit
                };
                Some((direction, found.magnitude))
            }
            Amounts::TwoColumns { credit, debit } => {
                let credit_read = read(credit, problems);
                let debit_read = read(debit, problems);
                let (Ok(credit_found), Ok(debit_found)) = (credit_read, debit_read) else {
                    return None;
                };
                if credit_found.as_ref().is_some_and(|found| found.negative) {
                    problems.at(
                        line,
                        row.field(credit),
                        "a negative amount in the credit column",
                    );
                    return None;
                }
                let credit_found = credit_found.filter(|found| !found.is_zero());
                let debit_found = debit_found.filter(|found| !found.is_zero());
                match (credit_found, debit_found) {
                    (Some(found), None) => Some((Direction::Credit, found.magnitude)),
                    (None, Some(found)) => Some((Direction::Debit, found.magnitude)),
                    (Some(_), Some(_)) => {
                        problems.at(
                            line,
                            format!("{}/{}", row.field(credit), row.field(debit)),
                            "both the credit and the debit column are filled",
                        );
                        None
                    }
                    (None, None) => {
                        problems.at(
                            line,
                            format!("{}/{}", row.field(credit), row.field(debit)),
                            "neither the credit nor the debit column has an amount \
                             (a zero amount is not a transaction)",
                        );
                        None
                    }
                }
            }
            Amounts::ByColumn {
                amount,
                column,
                credit_values,
            } => {
                let indicator = row.cell(column);
                let direction = if indicator.is_empty() {
                    problems.at(line, row.field(column), "the direction is missing");
                    None
                } else if credit_values.iter().any(|value| value == indicator) {
                    Some(Direction::Credit)
                } else {
                    Some(Direction::Debit)
                };
                let found = match read(amount, problems) {
                    Ok(Some(found)) => found,
                    Ok(None) => {
                        problems.at(line, row.field(amount), "the amount is missing");
                        return None;
                    }
                    Err(()) => return None,
                };
                if found.negative || found.is_zero() {
                    problems.at(
                        line,
                        row.field(amount),
                        format!(
                            "the amount must be positive: its direction is in {}",
                            row.field(column)
                        ),
                    );
                    return None;
                }
                Some((direction?, found.magnitude))
            }
        }
    }
}

/// An amount cell read: its sign, and its magnitude when the currency is known.
struct Amount {
    negative: bool,
    magnitude: Option<Decimal>,
}

impl Amount {
    fn is_zero(&self) -> bool {
        self.magnitude.is_some_and(|magnitude| magnitude.is_zero())
    }
}

/// `Ok(None)` for an empty cell, `Err` when a problem was reported.
fn amount_cell(
    text: &str,
    field: &str,
    line: usize,
    separator: DecimalSeparator,
    currency: Option<Currency>,
    problems: &mut Problems,
) -> Result<Option<Amount>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    let plain = amount::plain(text, separator).map_err(|message| {
        problems.at(line, field, message);
    })?;
    let magnitude = match currency {
        Some(currency) => Some(parse_amount(&plain.magnitude, currency).map_err(|error| {
            problems.at(line, field, format!("{text:?}: {error}"));
        })?),
        None => None,
    };
    Ok(Some(Amount {
        negative: plain.negative,
        magnitude,
    }))
}

/// The date of a cell, tried with each format as a date-time and as a date.
fn date(
    row: &Row<'_>,
    index: usize,
    formats: &[String],
    problems: &mut Problems,
    required: bool,
) -> Option<NaiveDate> {
    let text = row.cell(index);
    if text.is_empty() {
        if required {
            problems.at(row.line, row.field(index), "the date is missing");
        }
        return None;
    }
    let found = formats.iter().find_map(|format| {
        NaiveDateTime::parse_from_str(text, format)
            .map(|date_time| date_time.date())
            .or_else(|_| NaiveDate::parse_from_str(text, format))
            .ok()
    });
    if found.is_none() {
        problems.at(
            row.line,
            row.field(index),
            format!(
                "{text:?} is not a date in the layout's formats ({})",
                formats.join(", ")
            ),
        );
    }
    found
}
