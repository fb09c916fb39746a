//! What an import did: the counts of its summary and the refused rows, written to a CSV file
//! with the original columns plus `line` and `reason` so that they can be corrected and
//! imported again.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::error::CliError;
use crate::import::rows::Kind;
use crate::sheet::{Cell, Column, Format, Record};

/// A row that was not posted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRow {
    pub line: u64,
    /// The row as read.
    pub fields: Vec<String>,
    /// A stable code: `INVALID_ROW`, `DUPLICATE_IN_FILE`, or the service's `ErrorInfo.reason`.
    pub reason: String,
    pub message: String,
}

/// The running counts of an import.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Rows read from the file.
    pub rows: u64,
    /// Rows the service recorded now.
    pub accepted: u64,
    /// Of those, invoices accepted above the customer's limit under policy `warn`.
    pub over_limit: u64,
    /// Rows the service had recorded before (same command id): nothing new was recorded.
    pub already_posted: u64,
    pub refused: Vec<RefusedRow>,
}

impl Tally {
    /// Rows with an outcome (posted, found posted before, or refused).
    pub fn done(&self) -> u64 {
        self.accepted + self.already_posted + self.refused_count()
    }

    pub fn refused_count(&self) -> u64 {
        u64::try_from(self.refused.len()).unwrap_or(u64::MAX)
    }

    /// Refused rows per reason.
    pub fn refused_by_reason(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for row in &self.refused {
            *counts.entry(row.reason.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// The summary printed at the end of an import.
    pub fn summary(
        &self,
        kind: Kind,
        file: &Path,
        refused_file: Option<&Path>,
        total_rows: u64,
        complete: bool,
    ) -> Record {
        let by_reason = self.refused_by_reason();
        let reasons_text = by_reason
            .iter()
            .map(|(reason, count)| format!("{reason}: {count}"))
            .collect::<Vec<_>>()
            .join(", ");
        let reasons_json = Value::Object(
            by_reason
                .iter()
                .map(|(reason, count)| (reason.clone(), json!(count)))
                .collect(),
        );
        let mut record = Record::default();
        record
            .push(
                Column::left("file", "file"),
                Cell::text(file.display().to_string()),
            )
            .push(Column::left("kind", "kind"), Cell::text(kind.noun()))
            .push(Column::left("complete", "complete"), Cell::yes_no(complete))
            .push(Column::right("rows", "rows in file"), Cell::int(total_rows))
            .push(
                Column::right("rows_read", "rows read"),
                Cell::int(self.rows),
            )
            .push(
                Column::right("accepted", "accepted (new)"),
                Cell::int(self.accepted),
            );
        if kind == Kind::Invoices {
            record.push(
                Column::right("over_limit", "of which over the credit limit (warn)"),
                Cell::int(self.over_limit),
            );
        }
        record
            .push(
                Column::right("already_posted", "already posted before"),
                Cell::int(self.already_posted),
            )
            .push(
                Column::right("refused", "refused"),
                Cell::int(self.refused_count()),
            )
            .push(
                Column::left("refused_by_reason", "refused by reason"),
                Cell::structured(reasons_text, reasons_json),
            )
            .push(
                Column::left("refused_file", "refused rows in"),
                Cell::text(
                    refused_file
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                ),
            );
        record
    }

    /// Writes the refused rows, in file order, to `path`: the header of the file plus `line`
    /// and `reason` (`CODE: message`).
    pub fn write_refused(&self, header: &[String], path: &Path) -> Result<(), CliError> {
        let cannot = |e: &dyn std::fmt::Display| {
            CliError::Output(format!("cannot write {}: {e}", path.display()))
        };
        let mut rows: Vec<&RefusedRow> = self.refused.iter().collect();
        rows.sort_by_key(|row| row.line);
        let mut writer = csv::Writer::from_path(path).map_err(|e| cannot(&e))?;
        writer
            .write_record(header.iter().map(String::as_str).chain(["line", "reason"]))
            .map_err(|e| cannot(&e))?;
        for row in rows {
            // A row read with fewer fields than the header is padded, one with more is written
            // as read: the file keeps every value the row had.
            let padding = header.len().saturating_sub(row.fields.len());
            let line = row.line.to_string();
            let reason = format!("{}: {}", row.reason, row.message);
            writer
                .write_record(
                    row.fields
                        .iter()
                        .map(String::as_str)
                        .chain(std::iter::repeat_n("", padding))
                        .chain([line.as_str(), reason.as_str()]),
                )
                .map_err(|e| cannot(&e))?;
        }
        writer.flush().map_err(|e| cannot(&e))
    }
}

/// The summary in `format`.
pub fn render(record: &Record, format: Format) -> Result<String, CliError> {
    record.render(format)
}
