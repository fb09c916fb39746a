//! A batch's rows, table by table and column by column, as a projection adds them and the
//! engines write them: one multi-row insert per table (an `UNNEST` of column arrays on
//! PostgreSQL, multi-row `VALUES` on SQLite), not a statement per event, so that catching up
//! over millions of events is bound by the database's row throughput rather than round trips.
//!
//! A projection declares its tables as [`Table`]s (name, columns with their types, and an
//! upsert's conflict clause) and adds rows with [`TableRows::push`] or, for a table keyed by
//! something a later event of the same batch may change again, [`TableRows::upsert`] (one
//! statement cannot change a row twice).

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::error::ProjectionError;

/// The SQL type of a column, as both engines spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    BigInt,
    Integer,
    Date,
    Boolean,
}

impl ColumnType {
    /// The type's name in SQL.
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Integer => "INTEGER",
            ColumnType::Date => "DATE",
            ColumnType::Boolean => "BOOLEAN",
        }
    }
}

/// A table a projection writes.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// The columns that name a row (its primary key, comma-separated): the order in which rows
    /// are listed when a read model is compared with another.
    pub key: &'static str,
    /// The columns written, in order, with their types.
    pub columns: &'static [(&'static str, ColumnType)],
    /// Appended to the insert, such as `ON CONFLICT (customer_id) DO UPDATE SET ...`.
    pub on_conflict: Option<&'static str>,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    BigInt(i64),
    Integer(i32),
    Date(NaiveDate),
    Boolean(bool),
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_owned())
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::BigInt(value)
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Self {
        Value::Integer(value)
    }
}

impl From<NaiveDate> for Value {
    fn from(value: NaiveDate) -> Self {
        Value::Date(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Boolean(value)
    }
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Text(Vec<String>),
    BigInt(Vec<i64>),
    Integer(Vec<i32>),
    Date(Vec<NaiveDate>),
    Boolean(Vec<bool>),
}

impl Column {
    fn new(column_type: ColumnType) -> Self {
        match column_type {
            ColumnType::Text => Column::Text(Vec::new()),
            ColumnType::BigInt => Column::BigInt(Vec::new()),
            ColumnType::Integer => Column::Integer(Vec::new()),
            ColumnType::Date => Column::Date(Vec::new()),
            ColumnType::Boolean => Column::Boolean(Vec::new()),
        }
    }

    fn accepts(&self, value: &Value) -> bool {
        matches!(
            (self, value),
            (Column::Text(_), Value::Text(_))
                | (Column::BigInt(_), Value::BigInt(_))
                | (Column::Integer(_), Value::Integer(_))
                | (Column::Date(_), Value::Date(_))
                | (Column::Boolean(_), Value::Boolean(_))
        )
    }

    /// Puts `value` at `row` (appended when `row` is the column's length); a value of another
    /// type than the column is left out (callers check [`Column::accepts`] first).
    fn set(&mut self, row: usize, value: Value) {
        fn put<T>(values: &mut Vec<T>, row: usize, value: T) {
            match values.get_mut(row) {
                Some(slot) => *slot = value,
                None => values.push(value),
            }
        }
        match (self, value) {
            (Column::Text(values), Value::Text(value)) => put(values, row, value),
            (Column::BigInt(values), Value::BigInt(value)) => put(values, row, value),
            (Column::Integer(values), Value::Integer(value)) => put(values, row, value),
            (Column::Date(values), Value::Date(value)) => put(values, row, value),
            (Column::Boolean(values), Value::Boolean(value)) => put(values, row, value),
            _ => {}
        }
    }
}

/// One table's rows of a batch.
#[derive(Debug)]
pub struct TableRows {
    table: &'static Table,
    columns: Vec<Column>,
    len: usize,
    /// The row of each key given to [`TableRows::upsert`].
    keys: HashMap<String, usize>,
}

impl TableRows {
    pub fn new(table: &'static Table) -> Self {
        TableRows {
            table,
            columns: table.columns.iter().map(|(_, t)| Column::new(*t)).collect(),
            len: 0,
            keys: HashMap::new(),
        }
    }

    pub fn table(&self) -> &'static Table {
        self.table
    }

    /// The columns, in the table's order, each holding [`TableRows::len`] values.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a row: one value per column, in the table's order and of its types.
    pub fn push<const N: usize>(&mut self, values: [Value; N]) -> Result<(), ProjectionError> {
        self.write(self.len, values)?;
        self.len += 1;
        Ok(())
    }

    /// Adds the row of `key`, or replaces the one added for it earlier in the batch: the last
    /// change of a key wins, as it would row by row.
    pub fn upsert<const N: usize>(
        &mut self,
        key: String,
        values: [Value; N],
    ) -> Result<(), ProjectionError> {
        match self.keys.get(&key) {
            Some(&row) => self.write(row, values),
            None => {
                self.keys.insert(key, self.len);
                self.push(values)
            }
        }
    }

    /// Writes a whole row at `row`, or nothing when a value does not fit its column.
    fn write<const N: usize>(
        &mut self,
        row: usize,
        values: [Value; N],
    ) -> Result<(), ProjectionError> {
        if N != self.columns.len() {
            return Err(self.misfit(format!("{N} values for {} columns", self.columns.len())));
        }
        for (index, (column, value)) in self.columns.iter().zip(&values).enumerate() {
            if !column.accepts(value) {
                let (name, column_type) = self.table.columns[index];
                return Err(self.misfit(format!("column {name} takes {}", column_type.sql())));
            }
        }
        for (column, value) in self.columns.iter_mut().zip(values) {
            column.set(row, value);
        }
        Ok(())
    }

    fn misfit(&self, problem: String) -> ProjectionError {
        ProjectionError::Rows {
            table: self.table.name,
            problem,
        }
    }
}

/// The rows of a batch for every table of a projection, in the order they are written.
#[derive(Debug)]
pub struct RowSet {
    tables: Vec<TableRows>,
}

impl RowSet {
    pub fn new(tables: &[&'static Table]) -> Self {
        RowSet {
            tables: tables.iter().map(|table| TableRows::new(table)).collect(),
        }
    }

    /// The rows of `table`, which the projection must have declared.
    pub fn of(&mut self, table: &'static Table) -> Result<&mut TableRows, ProjectionError> {
        self.tables
            .iter_mut()
            .find(|rows| std::ptr::eq(rows.table, table))
            .ok_or(ProjectionError::Rows {
                table: table.name,
                problem: "the projection does not declare it".to_owned(),
            })
    }

    /// Sets the row of `key` in `live` (one row per key, as last set) and keeps the same row in
    /// `history` (the same columns, keyed by the key and the position), where every value the
    /// key held stays: what a report as known at an earlier position reads (`known.rs`).
    pub fn upsert_kept<const N: usize>(
        &mut self,
        live: &'static Table,
        history: &'static Table,
        key: String,
        values: [Value; N],
    ) -> Result<(), ProjectionError> {
        debug_assert_eq!(
            live.columns, history.columns,
            "{} keeps its own columns",
            history.name
        );
        self.of(history)?.push(values.clone())?;
        self.of(live)?.upsert(key, values)
    }

    /// Every table's rows, in the order they are written.
    pub fn tables(&self) -> &[TableRows] {
        &self.tables
    }

    /// Rows in all tables.
    pub fn len(&self) -> usize {
        self.tables.iter().map(TableRows::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static PEOPLE: Table = Table {
        name: "people",
        key: "name",
        columns: &[("name", ColumnType::Text), ("age", ColumnType::BigInt)],
        on_conflict: None,
    };

    #[test]
    fn rows_go_into_their_columns_and_upserts_replace_in_the_batch() {
        let mut rows = TableRows::new(&PEOPLE);
        rows.push(["Ann".into(), 30_i64.into()]).unwrap();
        assert!(rows.push(["Cy".into(), "old".into()]).is_err());
        rows.upsert("bo".into(), ["Bo".into(), 40_i64.into()])
            .unwrap();
        rows.upsert("bo".into(), ["Bo".into(), 41_i64.into()])
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows.columns(),
            [
                Column::Text(vec!["Ann".into(), "Bo".into()]),
                Column::BigInt(vec![30, 41])
            ]
        );
    }

    #[test]
    fn rows_that_do_not_fit_are_refused() {
        let mut rows = TableRows::new(&PEOPLE);
        assert!(rows.push(["Ann".into()]).is_err());
        assert!(rows.push([30_i64.into(), "Ann".into()]).is_err());
        let mut set = RowSet::new(&[]);
        assert!(set.of(&PEOPLE).is_err());
    }
}
