//! MT940 statements read into lines: given a bank's file, when it is parsed, then every `:61:`
//! becomes the line worked out by hand from it and its `:86:`.

mod support;

use receivables_statements::{Direction, Format, StatementLine, parse};
use support::{assert_derived, date, file, money, text};

#[test]
fn an_mt940_file_gives_every_transaction_with_its_details() {
    // Given two messages of one account in their SWIFT envelopes,
    let bytes = file("statement.mt940");

    // when the file is parsed,
    let statement = parse(&bytes, &Format::Mt940).expect("the statement reads");

    // then the account is :25:, the id the first :20: with its :28C:,
    assert_eq!(statement.account, text("37040044/0532013000"));
    assert_eq!(statement.statement_id, text("STARTUMSE/00058/001"));
    assert_eq!(statement.lines.len(), 6);

    // a credit with an entry date, a funds code, the bank's reference and a structured :86:
    // whose subfields are joined as written;
    assert_eq!(
        statement.lines[0],
        StatementLine {
            ordinal: 1,
            source_line: 6,
            bank_transaction_id: "BANKREF-0001".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 2),
            booking_date: Some(date(2026, 3, 2)),
            direction: Direction::Credit,
            amount: money("1500.00", "EUR"),
            payer_name: text("Mueller Maschinenbau GmbH"),
            payer_account: text("DE02120300000000202051"),
            reference: "EREF+INV-1001SVWZ+Rechnung INV-1001 vom 01.03.2026".to_owned(),
        }
    );
    // a debit with NONREF and no bank reference: its id is derived; its :86: is free text;
    assert_derived(
        &statement.lines[1],
        StatementLine {
            ordinal: 2,
            source_line: 10,
            bank_transaction_id: String::new(),
            id_derived: true,
            value_date: date(2026, 3, 3),
            booking_date: None,
            direction: Direction::Debit,
            amount: money("25.50", "EUR"),
            payer_name: None,
            payer_account: None,
            reference: "Kontofuehrung Februar 2026".to_owned(),
        },
    );
    // a credit of "800," with supplementary details and a /-keyed :86:;
    assert_eq!(
        statement.lines[2],
        StatementLine {
            ordinal: 3,
            source_line: 13,
            bank_transaction_id: "B2603040001".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 4),
            booking_date: Some(date(2026, 3, 4)),
            direction: Direction::Credit,
            amount: money("800.00", "EUR"),
            payer_name: text("Alpha Trading Ltd"),
            payer_account: text("NL91ABNA0417164300"),
            reference: "Invoice INV-1005".to_owned(),
        }
    );
    // a reversal of a credit (RC) is a debit, and has no :86:;
    assert_eq!(
        statement.lines[3],
        StatementLine {
            ordinal: 4,
            source_line: 16,
            bank_transaction_id: "REV-0001".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 5),
            booking_date: Some(date(2026, 3, 5)),
            direction: Direction::Debit,
            amount: money("100.00", "EUR"),
            payer_name: None,
            payer_account: None,
            reference: String::new(),
        }
    );
    // a reversal of a debit (RD) is a credit;
    assert_eq!(
        statement.lines[4],
        StatementLine {
            ordinal: 5,
            source_line: 17,
            bank_transaction_id: "RVD-0002".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 5),
            booking_date: Some(date(2026, 3, 5)),
            direction: Direction::Credit,
            amount: money("40.00", "EUR"),
            payer_name: None,
            payer_account: None,
            reference: "Rueckgabe Lastschrift 4711".to_owned(),
        }
    );
    // and in the second message, an S type code, and an entry date of 31 December for a value
    // date of 2 January, in the year before.
    assert_eq!(
        statement.lines[5],
        StatementLine {
            ordinal: 6,
            source_line: 26,
            bank_transaction_id: "B-YEAR-END".to_owned(),
            id_derived: false,
            value_date: date(2026, 1, 2),
            booking_date: Some(date(2025, 12, 31)),
            direction: Direction::Debit,
            amount: money("10.00", "EUR"),
            payer_name: None,
            payer_account: None,
            reference: "Jahresabschluss".to_owned(),
        }
    );
}

#[test]
fn the_customer_reference_is_the_id_when_the_bank_gives_none() {
    // Given a :61: with a customer reference and no bank reference,
    let text_file = ":20:S1\r\n:25:ACC-1\r\n:28C:1\r\n:60F:C260301CHF0,00\r\n\
                     :61:260302C99,95NTRFCUST-REF-9\r\n:62F:C260302CHF99,95\r\n";

    // when it is parsed,
    let statement = parse(text_file.as_bytes(), &Format::Mt940).expect("the statement reads");

    // then its id is the customer's reference, and lines end with CR LF as well as LF.
    assert_eq!(
        statement.lines,
        vec![StatementLine {
            ordinal: 1,
            source_line: 5,
            bank_transaction_id: "CUST-REF-9".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 2),
            booking_date: None,
            direction: Direction::Credit,
            amount: money("99.95", "CHF"),
            payer_name: None,
            payer_account: None,
            reference: String::new(),
        }]
    );
    assert_eq!(statement.statement_id, text("S1/1"));
}

#[test]
fn every_wrong_part_of_the_transactions_is_reported_with_its_line() {
    // Given a file whose second :61: has no mark and whose third has a date that does not
    // exist and an amount with a point,
    let text_file = ":20:S1\n:25:ACC-1\n:60F:C260301EUR0,00\n\
                     :61:260302C10,00NTRFOK//B1\n\
                     :61:260302X10,00NTRFBAD-MARK\n\
                     :61:260231C10.00NTRFBAD-DATE\n\
                     :62F:C260302EUR10,00\n";

    // when it is parsed,
    let error = parse(text_file.as_bytes(), &Format::Mt940).expect_err("the file is wrong");

    // then all three are reported, each with its line.
    assert_eq!(
        support::places(&error),
        vec![
            support::problem(Some(5), ":61:"),
            support::problem(Some(6), ":61:"),
            support::problem(Some(6), ":61:"),
        ]
    );
    support::assert_message(&error.problems[0], "C, D, RC or RD");
    support::assert_message(&error.problems[1], "\"260231\" is not a value date");
    support::assert_message(&error.problems[2], "\"10.00\" is not an amount");
}
