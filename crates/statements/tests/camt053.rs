//! camt.053 statements read into lines: given a bank's file, when it is parsed, then every
//! booked entry becomes the lines worked out by hand from the file.

mod support;

use receivables_statements::{Direction, Format, StatementLine, parse};
use support::{assert_derived, date, file, money, text};

#[test]
fn a_camt_053_001_02_statement_gives_every_booked_entry_with_all_its_fields() {
    // Given a .02 statement with a credit, a debit, a batch of two, a pending entry and a
    // deposit without transaction details,
    let bytes = file("camt053_001_02.xml");

    // when it is parsed,
    let statement = parse(&bytes, &Format::Camt053).expect("the statement reads");

    // then the account and id are the statement's,
    assert_eq!(statement.account, text("DE89370400440532013000"));
    assert_eq!(statement.statement_id, text("STMT-2026-03-04-001"));
    assert_eq!(statement.lines.len(), 5);

    // the credit has the entry's AcctSvcrRef (its TxDtls has none of its own), both Ustrd
    // joined by a space, and the debtor with an IBAN;
    assert_eq!(
        statement.lines[0],
        StatementLine {
            ordinal: 1,
            source_line: 24,
            bank_transaction_id: "BANKREF-0001".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 2),
            booking_date: Some(date(2026, 3, 2)),
            direction: Direction::Credit,
            amount: money("1500.00", "EUR"),
            payer_name: text("Müller Maschinenbau GmbH"),
            payer_account: text("DE02120300000000202051"),
            reference: "Invoice INV-1001 & INV-1002 second half of March".to_owned(),
        }
    );
    // the debit has TxId (no AcctSvcrRef, and EndToEndId NOTPROVIDED) and its creditor;
    assert_eq!(
        statement.lines[1],
        StatementLine {
            ordinal: 2,
            source_line: 48,
            bank_transaction_id: "TX-FEE-7".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 3),
            booking_date: Some(date(2026, 3, 2)),
            direction: Direction::Debit,
            amount: money("25.50", "EUR"),
            payer_name: text("Stadtwerke Musterstadt"),
            payer_account: text("DE88100900001234567892"),
            reference: "Electricity February".to_owned(),
        }
    );
    // the batch of 800.00 is split in 500.00 and 300.00, each with its own debtor: one with an
    // Othr/Id account and a structured reference, the other with an IBAN and, having no id of
    // its own, the entry's reference and its position;
    assert_eq!(
        statement.lines[2],
        StatementLine {
            ordinal: 3,
            source_line: 79,
            bank_transaction_id: "BATCH-0003-1".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 3),
            booking_date: Some(date(2026, 3, 3)),
            direction: Direction::Credit,
            amount: money("500.00", "EUR"),
            payer_name: text("Alpha Trading Ltd"),
            payer_account: text("123456789"),
            reference: "RF18INV1003".to_owned(),
        }
    );
    assert_eq!(
        statement.lines[3],
        StatementLine {
            ordinal: 4,
            source_line: 92,
            bank_transaction_id: "BATCH-0003/2".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 3),
            booking_date: Some(date(2026, 3, 3)),
            direction: Direction::Credit,
            amount: money("300.00", "EUR"),
            payer_name: text("Beta Retail SA"),
            payer_account: text("FR1420041010050500013M02606"),
            reference: "INV-1004".to_owned(),
        }
    );
    // the pending entry is left out (its ordinal, 5, is not given), and the deposit, with no
    // id, no value date and no details, has a derived id, its booking day as value date and
    // its additional information as reference.
    assert_derived(
        &statement.lines[4],
        StatementLine {
            ordinal: 6,
            source_line: 114,
            bank_transaction_id: String::new(),
            id_derived: true,
            value_date: date(2026, 3, 4),
            booking_date: Some(date(2026, 3, 4)),
            direction: Direction::Credit,
            amount: money("42.00", "EUR"),
            payer_name: None,
            payer_account: None,
            reference: "Cash deposit".to_owned(),
        },
    );
}

#[test]
fn a_camt_053_001_08_statement_with_a_prefixed_namespace_reads_the_same_way() {
    // Given a .08 statement (Sts/Cd, Dbtr/Pty/Nm, TxDtls/Amt) whose elements carry a prefix,
    let bytes = file("camt053_001_08.xml");

    // when it is parsed,
    let statement = parse(&bytes, &Format::Camt053).expect("the statement reads");

    // then the account is the Othr/Id of the statement,
    assert_eq!(statement.account, text("1001234509876543210"));
    assert_eq!(statement.statement_id, text("CNSTMT-20260401"));
    let expected = vec![
        StatementLine {
            ordinal: 1,
            source_line: 16,
            bank_transaction_id: "CN-0001-A".to_owned(),
            id_derived: false,
            value_date: date(2026, 4, 1),
            booking_date: Some(date(2026, 4, 1)),
            direction: Direction::Credit,
            amount: money("1200.00", "CNY"),
            payer_name: text("上海某某贸易有限公司"),
            payer_account: text("6222020200001234567"),
            reference: "货款 INV-2001".to_owned(),
        },
        // the batch is split by the amounts of its TxDtls, ids from the entry's reference,
        StatementLine {
            ordinal: 2,
            source_line: 42,
            bank_transaction_id: "CN-0002/1".to_owned(),
            id_derived: false,
            value_date: date(2026, 4, 2),
            booking_date: Some(date(2026, 4, 1)),
            direction: Direction::Credit,
            amount: money("100.00", "CNY"),
            payer_name: text("Gamma Co"),
            payer_account: None,
            reference: "INV-2002".to_owned(),
        },
        StatementLine {
            ordinal: 3,
            source_line: 50,
            bank_transaction_id: "CN-0002/2".to_owned(),
            id_derived: false,
            value_date: date(2026, 4, 2),
            booking_date: Some(date(2026, 4, 1)),
            direction: Direction::Credit,
            amount: money("200.00", "CNY"),
            payer_name: text("Delta Co"),
            payer_account: None,
            reference: "INV-2003 <urgent>".to_owned(),
        },
        // and the debit names its creditor.
        StatementLine {
            ordinal: 4,
            source_line: 60,
            bank_transaction_id: "CN-0003".to_owned(),
            id_derived: false,
            value_date: date(2026, 4, 1),
            booking_date: Some(date(2026, 4, 1)),
            direction: Direction::Debit,
            amount: money("50.00", "CNY"),
            payer_name: text("某某物业管理有限公司"),
            payer_account: text("31001234567"),
            reference: "物业费 四月".to_owned(),
        },
    ];
    assert_eq!(statement.lines, expected);
}

#[test]
fn a_batch_whose_parts_do_not_add_up_to_the_entry_is_refused() {
    // Given a batch of 300.00 whose two transactions say 100.00 and 150.00,
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
<Ntry>
<Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>B-1</AcctSvcrRef>
<NtryDtls>
<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls></TxDtls>
<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">150.00</Amt></TxAmt></AmtDtls></TxDtls>
</NtryDtls>
</Ntry>
</Stmt></BkToCstmrStmt></Document>
"#;

    // when it is parsed,
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("the sums differ");

    // then the entry is refused, with both sums named.
    assert_eq!(error.problems.len(), 1);
    let problem = &error.problems[0];
    assert_eq!(
        (problem.line, problem.field.as_str()),
        (Some(4), "Ntry[1]/NtryDtls")
    );
    support::assert_message(problem, "add up to 250.00 EUR");
    support::assert_message(problem, "300.00 EUR");
}

#[test]
fn a_batch_without_amounts_per_transaction_stays_one_line() {
    // Given a batch of two transactions that give no amounts of their own,
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
<Ntry>
<Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>B-1</AcctSvcrRef>
<NtryDtls>
<TxDtls><Refs><TxId>T-1</TxId></Refs><RltdPties><Dbtr><Nm>One</Nm></Dbtr></RltdPties></TxDtls>
<TxDtls><Refs><TxId>T-2</TxId></Refs><RltdPties><Dbtr><Nm>Two</Nm></Dbtr></RltdPties></TxDtls>
</NtryDtls>
<AddtlNtryInf>Collective credit 2 items</AddtlNtryInf>
</Ntry>
</Stmt></BkToCstmrStmt></Document>
"#;

    // when it is parsed,
    let statement = parse(xml.as_bytes(), &Format::Camt053).expect("the statement reads");

    // then it is one line of the entry's amount and reference, with no one party.
    assert_eq!(
        statement.lines,
        vec![StatementLine {
            ordinal: 1,
            source_line: 4,
            bank_transaction_id: "B-1".to_owned(),
            id_derived: false,
            value_date: date(2026, 3, 2),
            booking_date: Some(date(2026, 3, 2)),
            direction: Direction::Credit,
            amount: money("300.00", "EUR"),
            payer_name: None,
            payer_account: None,
            reference: "Collective credit 2 items".to_owned(),
        }]
    );
}
