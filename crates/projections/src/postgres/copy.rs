//! A table's rows as PostgreSQL's binary `COPY` format, for the tables a batch only appends to
//! (no conflict clause): one `COPY ... FROM STDIN` instead of an `UNNEST` insert.
//!
//! The format (PostgreSQL's documentation, "COPY", binary format): a signature, a flags word
//! and a header extension length; then per row the number of fields (16 bits) and per field
//! its length in bytes (32 bits) and its value in the type's binary send form; then -1 (16
//! bits). Columns here are never NULL. Integers are big-endian; a date is the number of days
//! since 2000-01-01 (32 bits); a boolean one byte; text its UTF-8 bytes.

use chrono::NaiveDate;

use crate::error::ProjectionError;
use crate::rows::{Column, TableRows};

/// The binary COPY signature, then the flags word (no OIDs) and the header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// PostgreSQL's day zero for dates.
const DATE_EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(date) => date,
    None => panic!("2000-01-01 is a date"),
};

/// The `COPY` statement of `rows`' table, its columns in order.
pub(super) fn statement(rows: &TableRows) -> String {
    let table = rows.table();
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        table.name,
        names.join(", ")
    )
}

/// The rows in the binary COPY format.
pub(super) fn encode(rows: &TableRows) -> Result<Vec<u8>, ProjectionError> {
    let table = rows.table().name;
    let invalid = |problem: &str| ProjectionError::Rows {
        table,
        problem: problem.to_owned(),
    };
    let columns = rows.columns();
    let fields = i16::try_from(columns.len())
        .map_err(|_| invalid("more than 32,767 columns for a binary COPY"))?;
    let mut out = Vec::with_capacity(HEADER.len() + rows.len() * (2 + 16 * columns.len()) + 2);
    out.extend_from_slice(HEADER);
    for row in 0..rows.len() {
        out.extend_from_slice(&fields.to_be_bytes());
        for column in columns {
            match column {
                Column::Text(values) => {
                    let bytes = values[row].as_bytes();
                    let length = i32::try_from(bytes.len())
                        .map_err(|_| invalid("a text value of more than 2 GiB"))?;
                    out.extend_from_slice(&length.to_be_bytes());
                    out.extend_from_slice(bytes);
                }
                Column::BigInt(values) => field(&mut out, values[row].to_be_bytes()),
                Column::Integer(values) => field(&mut out, values[row].to_be_bytes()),
                Column::Date(values) => {
                    let days = i32::try_from((values[row] - DATE_EPOCH).num_days())
                        .map_err(|_| invalid("a date out of PostgreSQL's range"))?;
                    field(&mut out, days.to_be_bytes());
                }
                Column::Boolean(values) => field(&mut out, [u8::from(values[row])]),
            }
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

/// A fixed-size field (1 to 8 bytes): its length, then its bytes.
fn field<const N: usize>(out: &mut Vec<u8>, bytes: [u8; N]) {
    let length = i32::try_from(N).unwrap_or(i32::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{ColumnType as T, Table, Value};

    static EVERY_TYPE: Table = Table {
        name: "every_type",
        key: "t",
        columns: &[
            ("t", T::Text),
            ("b", T::BigInt),
            ("i", T::Integer),
            ("d", T::Date),
            ("f", T::Boolean),
        ],
        on_conflict: None,
    };

    #[test]
    fn rows_are_written_in_the_binary_copy_format_field_by_field() {
        // Given two rows of a table with a column of each type
        let mut rows = TableRows::new(&EVERY_TYPE);
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        rows.push([
            Value::from("ab"),
            Value::from(1i64),
            Value::from(2i32),
            Value::from(date(2000, 1, 2)),
            Value::from(true),
        ])
        .expect("the row fits");
        rows.push([
            Value::from(""),
            Value::from(-1i64),
            Value::from(-2i32),
            Value::from(date(1999, 12, 31)),
            Value::from(false),
        ])
        .expect("the row fits");
        // When they are encoded
        let encoded = encode(&rows).expect("the rows encode");
        // Then, byte by byte (worked out from PostgreSQL's description of the format): the
        // signature, no flags, no header extension; each row's five fields, each with its
        // length; the trailer
        let mut expected: Vec<u8> = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend([0, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend([0, 5]);
        expected.extend([0, 0, 0, 2, b'a', b'b']);
        expected.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        expected.extend([0, 0, 0, 4, 0, 0, 0, 2]);
        expected.extend([0, 0, 0, 4, 0, 0, 0, 1]); // one day after 2000-01-01
        expected.extend([0, 0, 0, 1, 1]);
        expected.extend([0, 5]);
        expected.extend([0, 0, 0, 0]);
        expected.extend([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        expected.extend([0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe]);
        expected.extend([0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]); // the day before
        expected.extend([0, 0, 0, 1, 0]);
        expected.extend([0xff, 0xff]);
        assert_eq!(encoded, expected);
        assert_eq!(
            statement(&rows),
            "COPY every_type (t, b, i, d, f) FROM STDIN (FORMAT binary)"
        );
    }
}
