//! A table of the dashboard, made once from a gRPC answer and written three ways: as HTML on
//! the page, as CSV and as XLSX for download, so that the three hold the same figures.
//!
//! Amounts are the answer's decimal text, never a float: HTML and CSV print that text. XLSX
//! holds numbers as binary floating point (that is the file format), so an amount is written
//! as a number only when the number Excel shows at the amount's scale is the amount (every
//! amount of up to 15 significant digits), formatted to that scale; any other is written as
//! its text, exact.

use std::str::FromStr as _;

use anyhow::Context as _;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook};

/// One cell.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    /// Text that links to another page of the dashboard.
    Link {
        text: String,
        href: String,
    },
    /// An amount as its decimal text (`1234.50`).
    Amount(String),
    /// A count or a number of days.
    Count(i64),
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell::Link {
            text: text.into(),
            href: href.into(),
        }
    }

    /// An amount of the wire's `Money` (empty when absent).
    pub fn money(money: Option<&receivables_api::pb::Money>) -> Cell {
        Cell::Amount(money.map(|m| m.amount.clone()).unwrap_or_default())
    }

    /// The cell as text, as HTML and CSV write it.
    pub fn as_text(&self) -> String {
        match self {
            Cell::Text(text) | Cell::Amount(text) => text.clone(),
            Cell::Link { text, .. } => text.clone(),
            Cell::Count(count) => count.to_string(),
        }
    }
}

/// A table: a name (the file it downloads as, and its `data-table` on the page), a caption,
/// its columns and its rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// How a table is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    Csv,
    Xlsx,
}

impl Download {
    /// From the `format` parameter of a page: `csv` or `xlsx`; anything else is the page.
    pub fn parse(format: Option<&str>) -> Option<Download> {
        match format {
            Some("csv") => Some(Download::Csv),
            Some("xlsx") => Some(Download::Xlsx),
            _ => None,
        }
    }
}

impl Table {
    pub fn new(
        name: &'static str,
        caption: impl Into<String>,
        columns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Table {
        Table {
            name,
            caption: caption.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(
            row.len(),
            self.columns.len(),
            "a row of {} has a cell per column",
            self.name
        );
        self.rows.push(row);
    }

    /// The table on a page, with links to download it (`export` is the page's own URL with
    /// its parameters, to which `format` and `table` are added).
    pub fn html(&self, export: &str) -> Markup {
        self.html_marking(export, &[], "")
    }

    /// The same, the rows at `marked` (indexes) given the class `class` (a breach, say).
    pub fn html_marking(&self, export: &str, marked: &[usize], class: &str) -> Markup {
        let separator = if export.contains('?') { '&' } else { '?' };
        html! {
            section.table {
                h2 { (self.caption) }
                p.exports {
                    "Download: "
                    a href=(format!("{export}{separator}format=csv&table={}", self.name)) { "CSV" }
                    " · "
                    a href=(format!("{export}{separator}format=xlsx&table={}", self.name)) { "XLSX" }
                }
                @if self.rows.is_empty() {
                    p.empty { "Nothing to show." }
                } @else {
                    table.data data-table=(self.name) {
                        thead { tr { @for column in &self.columns { th scope="col" { (column) } } } }
                        tbody {
                            @for (index, row) in self.rows.iter().enumerate() {
                                tr class=[marked.contains(&index).then_some(class)] {
                                    @for cell in row {
                                        @match cell {
                                            Cell::Text(text) => td { (text) },
                                            Cell::Link { text, href } => td { a href=(href) { (text) } },
                                            Cell::Amount(amount) => td.num { (amount) },
                                            Cell::Count(count) => td.num { (count) },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The table as CSV: a header line, then one line per row.
    pub fn csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.columns)?;
        for row in &self.rows {
            writer.write_record(row.iter().map(Cell::as_text))?;
        }
        writer.into_inner().context("the CSV was not finished")
    }

    /// The table as an XLSX workbook of one sheet.
    pub fn xlsx(&self) -> anyhow::Result<Vec<u8>> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name(&self.caption))?;
        let bold = Format::new().set_bold();
        for (column, name) in self.columns.iter().enumerate() {
            sheet.write_string_with_format(0, column_index(column)?, name, &bold)?;
        }
        for (index, row) in self.rows.iter().enumerate() {
            let line = u32::try_from(index + 1).context("too many rows for a sheet")?;
            for (column, cell) in row.iter().enumerate() {
                let column = column_index(column)?;
                match cell {
                    Cell::Amount(text) => match exact_number(text) {
                        Some((number, scale)) => {
                            let format = Format::new().set_num_format(number_format(scale));
                            sheet.write_number_with_format(line, column, number, &format)?;
                        }
                        None => {
                            sheet.write_string(line, column, text)?;
                        }
                    },
                    Cell::Count(count) => {
                        // Counts and days are far below 2^53: exact as a float.
                        #[allow(clippy::cast_precision_loss)]
                        sheet.write_number(line, column, *count as f64)?;
                    }
                    other => {
                        sheet.write_string(line, column, other.as_text())?;
                    }
                }
            }
        }
        Ok(workbook.save_to_buffer()?)
    }

    /// The download of this table in `format`.
    pub fn download(&self, format: Download) -> Response {
        let (bytes, content_type, extension) = match format {
            Download::Csv => (self.csv(), "text/csv; charset=utf-8", "csv"),
            Download::Xlsx => (
                self.xlsx(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ),
        };
        match bytes {
            Ok(bytes) => {
                let disposition = format!("attachment; filename=\"{}.{extension}\"", self.name);
                let mut response = bytes.into_response();
                let headers = response.headers_mut();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                if let Ok(value) = HeaderValue::from_str(&disposition) {
                    headers.insert(header::CONTENT_DISPOSITION, value);
                }
                response
            }
            Err(error) => {
                super::failure::Failure::internal(format!("the download failed: {error}"))
                    .into_response()
            }
        }
    }
}

/// Excel's column index, checked.
fn column_index(column: usize) -> anyhow::Result<u16> {
    u16::try_from(column).context("too many columns for a sheet")
}

/// A sheet's name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(caption: &str) -> String {
    let cleaned: String = caption
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "Sheet1".to_owned()
    } else {
        cleaned
    }
}

/// The amount as a number Excel shows at its scale exactly as the text says, with that scale;
/// `None` when the float would show something else (or the text is not a decimal).
pub fn exact_number(text: &str) -> Option<(f64, u32)> {
    let decimal = Decimal::from_str(text).ok()?;
    let scale = decimal.scale();
    let number: f64 = text.parse().ok()?;
    let shown = format!("{number:.prec$}", prec = scale as usize);
    (Decimal::from_str(&shown).ok()? == decimal).then_some((number, scale))
}

/// `#,##0.00` for two decimals, `#,##0` for none.
fn number_format(scale: u32) -> String {
    if scale == 0 {
        "#,##0".to_owned()
    } else {
        format!("#,##0.{}", "0".repeat(scale as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_numbers_only_when_exact_at_their_scale() {
        assert_eq!(exact_number("1234.50"), Some((1234.5, 2)));
        assert_eq!(exact_number("-0.01"), Some((-0.01, 2)));
        assert_eq!(exact_number("100"), Some((100.0, 0)));
        // 19 significant digits: the nearest float shows another amount.
        assert_eq!(exact_number("12345678901234567.89"), None);
        assert_eq!(exact_number("abc"), None);
    }

    #[test]
    fn sheet_names_are_what_excel_takes() {
        assert_eq!(sheet_name("Aging [by customer]"), "Aging  by customer ");
        assert_eq!(sheet_name(""), "Sheet1");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
    }
}
