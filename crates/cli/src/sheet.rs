//! The three output formats, written once for every report: an aligned table for people
//! (comfy-table, amounts right-aligned), CSV for spreadsheets (csv crate, a header row of column
//! keys) and one JSON document for programs (serde_json; amounts stay the decimal strings the API
//! gives, never floats).
//!
//! A report is a [`Sheet`] (columns and rows) or a [`Record`] (one set of named fields); the
//! renderers in `tables.rs` build them from the response messages.

use comfy_table::{Cell as TableCell, CellAlignment, ContentArrangement, Table, presets};
use serde_json::{Map, Value};

use crate::error::CliError;

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, amounts right-aligned.
    #[default]
    Table,
    /// Comma-separated values with a header row of column keys.
    Csv,
    /// One JSON document.
    Json,
}

/// Where the text of a column sits in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One column: `key` names it in CSV headers and JSON objects, `header` in tables.
#[derive(Debug, Clone)]
pub struct Column {
    pub key: String,
    pub header: String,
    pub align: Align,
    /// Whether tables show it (long explanations go to CSV and JSON only).
    pub in_table: bool,
}

impl Column {
    pub fn left(key: &str, header: &str) -> Column {
        Column {
            key: key.to_owned(),
            header: header.to_owned(),
            align: Align::Left,
            in_table: true,
        }
    }

    pub fn right(key: &str, header: &str) -> Column {
        Column {
            align: Align::Right,
            ..Column::left(key, header)
        }
    }

    /// The same column, left out of tables.
    pub fn not_in_table(mut self) -> Column {
        self.in_table = false;
        self
    }
}

/// One value as each format shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    table: String,
    csv: String,
    json: Value,
}

impl Cell {
    /// Text; an empty string is `null` in JSON.
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        let json = if text.is_empty() {
            Value::Null
        } else {
            Value::String(text.clone())
        };
        Cell {
            table: text.clone(),
            csv: text,
            json,
        }
    }

    /// A decimal string as the API gives it ("1234.50"); a string in JSON too, so that no
    /// reader turns it into a float.
    pub fn decimal(text: impl Into<String>) -> Cell {
        Cell::text(text)
    }

    /// A decimal string shown in tables rounded half away from zero to `places` (a score of
    /// 976.50215 reads 976.50), and exact in CSV and JSON, where a program reads it.
    pub fn rounded(text: &str, places: u32) -> Cell {
        let mut cell = Cell::decimal(text);
        if let Ok(value) = text.parse::<rust_decimal::Decimal>() {
            let mut shown = value.round_dp_with_strategy(
                places,
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            );
            shown.rescale(places);
            cell.table = shown.to_string();
        }
        cell
    }

    pub fn int(value: impl Into<i128>) -> Cell {
        let value: i128 = value.into();
        Cell {
            table: value.to_string(),
            csv: value.to_string(),
            json: serde_json::Number::from_i128(value).map_or(Value::Null, Value::Number),
        }
    }

    pub fn optional_int(value: Option<impl Into<i128>>) -> Cell {
        value.map_or_else(Cell::missing, Cell::int)
    }

    /// A flag: "yes" or empty in tables (so that the exceptions stand out), true/false elsewhere.
    pub fn flag(value: bool) -> Cell {
        Cell {
            table: if value {
                "yes".to_owned()
            } else {
                String::new()
            },
            csv: value.to_string(),
            json: Value::Bool(value),
        }
    }

    /// A yes-or-no answer: "yes" or "no" in tables (a record's field, where an empty value
    /// would read as unknown), true/false elsewhere.
    pub fn yes_no(value: bool) -> Cell {
        Cell {
            table: if value { "yes" } else { "no" }.to_owned(),
            ..Cell::flag(value)
        }
    }

    pub fn missing() -> Cell {
        Cell::text("")
    }

    /// A structured value: `text` in tables and CSV, `json` in JSON.
    pub fn structured(text: impl Into<String>, json: Value) -> Cell {
        let text = text.into();
        Cell {
            table: text.clone(),
            csv: text,
            json,
        }
    }

    pub fn json(&self) -> &Value {
        &self.json
    }
}

/// Rows under named columns.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// A line above the table (tables only; JSON carries `meta`).
    pub caption: Option<String>,
    /// Fields of the JSON document besides the rows.
    pub meta: Vec<(String, Value)>,
    /// The name of the JSON array of rows ("lines", "items").
    pub rows_key: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    pub fn new(rows_key: &str, columns: Vec<Column>) -> Sheet {
        Sheet {
            rows_key: rows_key.to_owned(),
            columns,
            ..Sheet::default()
        }
    }

    pub fn render(&self, format: Format) -> Result<String, CliError> {
        match format {
            Format::Table => Ok(self.table()),
            Format::Csv => self.csv(),
            Format::Json => json_document(&self.json()),
        }
    }

    /// The table, with its caption, ending in a line break.
    pub fn table(&self) -> String {
        let shown: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.columns[i].in_table)
            .collect();
        let mut table = new_table();
        table.set_header(
            shown
                .iter()
                .map(|&i| aligned(&self.columns[i].header, self.columns[i].align)),
        );
        for row in &self.rows {
            table.add_row(shown.iter().map(|&i| {
                let text = row.get(i).map_or("", |cell| cell.table.as_str());
                aligned(text, self.columns[i].align)
            }));
        }
        let mut text = String::new();
        if let Some(caption) = &self.caption {
            text.push_str(caption);
            text.push('\n');
        }
        text.push_str(&table.to_string());
        text.push('\n');
        text
    }

    pub fn csv(&self) -> Result<String, CliError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(self.columns.iter().map(|c| c.key.as_str()))
            .map_err(|e| CliError::Output(e.to_string()))?;
        for row in &self.rows {
            writer
                .write_record(
                    (0..self.columns.len()).map(|i| row.get(i).map_or("", |c| c.csv.as_str())),
                )
                .map_err(|e| CliError::Output(e.to_string()))?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| CliError::Output(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| CliError::Output(e.to_string()))
    }

    /// `{ meta..., rows_key: [ { column key: value } ] }`.
    pub fn json(&self) -> Value {
        let mut document = Map::new();
        for (key, value) in &self.meta {
            document.insert(key.clone(), value.clone());
        }
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let mut object = Map::new();
                for (i, column) in self.columns.iter().enumerate() {
                    let value = row.get(i).map_or(Value::Null, |c| c.json.clone());
                    object.insert(column.key.clone(), value);
                }
                Value::Object(object)
            })
            .collect();
        document.insert(self.rows_key.clone(), Value::Array(rows));
        Value::Object(document)
    }
}

/// Named fields of one thing (a command's reply, an import's summary).
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub fields: Vec<(Column, Cell)>,
}

impl Record {
    pub fn push(&mut self, column: Column, cell: Cell) -> &mut Record {
        self.fields.push((column, cell));
        self
    }

    pub fn render(&self, format: Format) -> Result<String, CliError> {
        match format {
            Format::Table => Ok(self.table()),
            Format::Csv => self.as_sheet().csv(),
            Format::Json => json_document(&self.json()),
        }
    }

    /// Two columns, field and value; amounts right-aligned.
    pub fn table(&self) -> String {
        let mut table = new_table();
        for (column, cell) in self.fields.iter().filter(|(c, _)| c.in_table) {
            table.add_row(vec![
                TableCell::new(&column.header),
                aligned(&cell.table, column.align),
            ]);
        }
        let mut text = table.to_string();
        text.push('\n');
        text
    }

    pub fn json(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|(column, cell)| (column.key.clone(), cell.json.clone()))
                .collect(),
        )
    }

    /// One row under the fields' keys, for CSV.
    pub fn as_sheet(&self) -> Sheet {
        Sheet {
            columns: self.fields.iter().map(|(c, _)| c.clone()).collect(),
            rows: vec![self.fields.iter().map(|(_, cell)| cell.clone()).collect()],
            rows_key: "rows".to_owned(),
            ..Sheet::default()
        }
    }
}

/// A pretty-printed JSON document ending in a line break.
pub fn json_document(value: &Value) -> Result<String, CliError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| CliError::Output(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        // Never wrap: a report piped to a file or pager keeps one line per row.
        .set_content_arrangement(ContentArrangement::Disabled);
    table
}

fn aligned(text: &str, align: Align) -> TableCell {
    TableCell::new(text).set_alignment(match align {
        Align::Left => CellAlignment::Left,
        Align::Right => CellAlignment::Right,
    })
}

/// Where a subcommand writes what it prints: stdout, or a buffer in tests.
pub type Output<'a> = dyn std::io::Write + Send + 'a;

/// Writes `text` to `out`. A closed pipe (`receivables aging | head`) is not an error: the
/// reader has all it wanted.
pub fn emit(out: &mut Output<'_>, text: &str) -> Result<(), CliError> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(CliError::Output(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn sheet() -> Sheet {
        let mut sheet = Sheet::new(
            "lines",
            vec![
                Column::left("customer", "customer"),
                Column::right("amount", "amount"),
                Column::left("over", "over").not_in_table(),
            ],
        );
        sheet.rows.push(vec![
            Cell::text("C, 1"),
            Cell::decimal("1200.00"),
            Cell::flag(true),
        ]);
        sheet.rows.push(vec![
            Cell::text("C2"),
            Cell::decimal("5.00"),
            Cell::flag(false),
        ]);
        sheet
    }

    #[test]
    fn csv_quotes_and_keeps_every_column() {
        assert_eq!(
            sheet().csv().unwrap(),
            "customer,amount,over\n\"C, 1\",1200.00,true\nC2,5.00,false\n"
        );
    }

    #[test]
    fn json_keeps_amounts_as_strings() {
        let json = sheet().json();
        assert_eq!(json["lines"][0]["amount"], "1200.00");
        assert_eq!(json["lines"][1]["over"], false);
    }

    #[test]
    fn tables_right_align_amounts_and_hide_long_columns() {
        let table = sheet().table();
        assert!(!table.contains("over"), "{table}");
        assert!(table.contains("   5.00"), "{table}");
    }
}
