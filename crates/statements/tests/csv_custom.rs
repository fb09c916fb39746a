//! A layout written for one bank's export: given a German-style export (semicolons, decimal
//! commas, a preamble), when it is parsed with a layout that says so, then its rows are read
//! with those separators.

mod support;

use receivables_statements::{
    Column, CsvDirection, CsvLayout, CurrencySource, DecimalSeparator, Direction, Format,
    StatementLine, TextEncoding, parse,
};
use support::{date, money, text};

fn layout() -> CsvLayout {
    CsvLayout {
        delimiter: b';',
        skip_lines: 2,
        encoding: TextEncoding::Utf8,
        date: Column::name("Valuta"),
        date_formats: vec!["%d.%m.%Y".to_owned()],
        booking_date: Some(Column::name("Buchungstag")),
        decimal_separator: DecimalSeparator::Comma,
        direction: CsvDirection::Signed {
            amount: Column::name("Betrag"),
        },
        currency: CurrencySource::Column {
            column: Column::name("Waehrung"),
            names: Vec::new(),
            when_absent: None,
        },
        bank_transaction_id: Some(Column::name("Referenz")),
        payer_name: Some(Column::name("Auftraggeber")),
        payer_account: Some(Column::Index(5)),
        reference: vec![Column::name("Verwendungszweck")],
        keep_only: None,
        end_marker: None,
    }
}

#[test]
fn a_custom_layout_reads_decimal_commas_and_points_between_thousands() {
    // Given an export with two preamble lines, a credit of "1.234,56" and a debit of "-99,90",
    let csv = "Kontoauszug\n\
               Konto;DE89370400440532013000\n\
               Buchungstag;Valuta;Betrag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Referenz\n\
               02.03.2026;03.03.2026;1.234,56;EUR;Mueller GmbH;DE02120300000000202051;Rechnung INV-6001;REF-6001\n\
               02.03.2026;03.03.2026;-99,90;EUR;Stadtwerke;DE88100900001234567892;Strom Maerz;REF-6002\n";

    // when it is parsed with its layout,
    let statement = parse(csv.as_bytes(), &Format::Csv(layout())).expect("the export reads");

    // then the amounts are 1234.56 and 99.90, the sign gives the direction, and the lines are
    // numbered in the file, preamble included.
    assert_eq!(
        statement.lines,
        vec![
            StatementLine {
                ordinal: 1,
                source_line: 4,
                bank_transaction_id: "REF-6001".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 3),
                booking_date: Some(date(2026, 3, 2)),
                direction: Direction::Credit,
                amount: money("1234.56", "EUR"),
                payer_name: text("Mueller GmbH"),
                payer_account: text("DE02120300000000202051"),
                reference: "Rechnung INV-6001".to_owned(),
            },
            StatementLine {
                ordinal: 2,
                source_line: 5,
                bank_transaction_id: "REF-6002".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 3),
                booking_date: Some(date(2026, 3, 2)),
                direction: Direction::Debit,
                amount: money("99.90", "EUR"),
                payer_name: text("Stadtwerke"),
                payer_account: text("DE88100900001234567892"),
                reference: "Strom Maerz".to_owned(),
            },
        ]
    );
}

#[test]
fn a_point_decimal_in_a_comma_layout_is_refused_not_guessed() {
    // Given the same export with "1,234.56" written the English way,
    let csv = "Kontoauszug\n\
               Konto;DE89370400440532013000\n\
               Buchungstag;Valuta;Betrag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Referenz\n\
               02.03.2026;03.03.2026;1,234.56;EUR;Mueller GmbH;DE02120300000000202051;Rechnung;REF-6001\n";

    // when it is parsed with the comma layout,
    let error = parse(csv.as_bytes(), &Format::Csv(layout())).expect_err("the amount is wrong");

    // then the amount is refused at its row and column.
    assert_eq!(
        support::places(&error),
        vec![support::problem(Some(4), "Betrag")]
    );
    support::assert_message(&error.problems[0], "\"1,234.56\"");
}

#[test]
fn a_layout_whose_columns_the_file_lacks_names_every_missing_one() {
    // Given an export without Valuta and Betrag,
    let csv = "x\ny\nBuchungstag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Referenz\n";

    // when it is parsed,
    let error = parse(csv.as_bytes(), &Format::Csv(layout())).expect_err("columns are missing");

    // then both are named, at the header's line.
    assert_eq!(
        support::places(&error),
        vec![
            support::problem(Some(3), "Valuta"),
            support::problem(Some(3), "Betrag")
        ]
    );
}
