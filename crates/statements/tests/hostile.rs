//! Wrong and hostile files: given a file that is wrong (or built to hurt), when it is parsed,
//! then it is refused, quickly, with the precise problems and nothing of it returned.

mod support;

use std::time::{Duration, Instant};

use receivables_statements::{
    CsvLayout, Format, PROBLEMS_MAX, STATEMENT_BYTES_MAX, StatementError, parse,
};
use support::{assert_message, places, problem};

fn preset(name: &str) -> Format {
    Format::Csv(CsvLayout::preset(name).expect("a preset"))
}

fn camt(entries: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n\
         <BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>\n\
         {entries}\
         </Stmt></BkToCstmrStmt></Document>\n"
    )
}

fn entry(amount: &str, currency: &str, reference: &str) -> String {
    format!(
        "<Ntry><Amt Ccy=\"{currency}\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>\
         <BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>{reference}</AcctSvcrRef></Ntry>\n"
    )
}

fn only_problem(error: &StatementError) -> &receivables_statements::Problem {
    assert_eq!(error.problems.len(), 1, "{error}");
    &error.problems[0]
}

#[test]
fn an_unclosed_tag_is_malformed_xml() {
    // Given a statement whose Ntry is never closed before its Stmt is,
    let xml = camt("<Ntry><Amt Ccy=\"EUR\">1.00</Amt>\n");

    // when it is parsed,
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("malformed");

    // then the XML is refused where the wrong end tag is.
    let problem = only_problem(&error);
    assert_eq!((problem.line, problem.field.as_str()), (Some(5), "XML"));
    assert_message(problem, "malformed XML");
}

#[test]
fn a_file_that_ends_inside_an_element_is_malformed_xml() {
    // Given a statement cut off after its first entry,
    let xml = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n\
               <BkToCstmrStmt>\n<Stmt>\n";

    // when it is parsed,
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("cut off");

    // then the innermost element left open is named, at its line.
    let problem = only_problem(&error);
    assert_eq!((problem.line, problem.field.as_str()), (Some(3), "Stmt"));
    assert_message(problem, "<Stmt> is not closed");
}

#[test]
fn an_entity_bomb_fails_at_its_declaration_without_expanding() {
    // Given the "billion laughs": ten levels of ten entities each, a billion "lol"s expanded,
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE Document [\n<!ENTITY lol \"lol\">\n");
    for level in 1..=9 {
        let previous = if level == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        let refs = format!("&{previous};").repeat(10);
        xml.push_str(&format!("<!ENTITY lol{level} \"{refs}\">\n"));
    }
    xml.push_str("]>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">&lol9;</Document>\n");

    // when it is parsed,
    let started = Instant::now();
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("a DTD");

    // then the DTD is refused at once, at its line.
    assert!(started.elapsed() < Duration::from_secs(1));
    let problem = only_problem(&error);
    assert_eq!((problem.line, problem.field.as_str()), (Some(2), "XML"));
    assert_message(problem, "document type declaration");
}

#[test]
fn an_entity_without_a_dtd_is_refused_not_ignored() {
    // Given a reference to an entity no one declared,
    let xml = camt("<Ntry><AddtlNtryInf>&lol9;</AddtlNtryInf></Ntry>\n");

    // when it is parsed, then it is refused by name.
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("an entity");
    let problem = only_problem(&error);
    assert_eq!((problem.line, problem.field.as_str()), (Some(4), "XML"));
    assert_message(problem, "&lol9;");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    // Given 100 MB of anything,
    let bytes = vec![b'<'; 100 * 1024 * 1024];
    assert!(bytes.len() > STATEMENT_BYTES_MAX);

    // when it is parsed in any format,
    let started = Instant::now();
    for format in [Format::Camt053, Format::Mt940, preset("cn-bank")] {
        let error = parse(&bytes, &format).expect_err("too large");

        // then it is refused as too large, for the file, without reading it.
        let problem = only_problem(&error);
        assert_eq!((problem.line, problem.field.as_str()), (None, "file"));
        assert_message(problem, "104857600 bytes");
    }
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn gbk_bytes_under_a_utf8_layout_are_refused() {
    // Given a WeChat Pay bill saved in GBK, whose preset says UTF-8,
    let text = "交易时间,微信订单号\n`2026-03-01 09:15:02,`4200001\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);

    // when it is parsed,
    let error = parse(&bytes, &preset("wechat-pay")).expect_err("not UTF-8");

    // then it is refused as not UTF-8, at the first line.
    let problem = only_problem(&error);
    assert_eq!((problem.line, problem.field.as_str()), (Some(1), "file"));
    assert_message(problem, "not UTF-8");
}

#[test]
fn bytes_that_are_neither_utf8_nor_gbk_are_refused() {
    // Given a header and then bytes no text encoding here has,
    let mut bytes = b"a,b\n1,2\n".to_vec();
    bytes.extend_from_slice(&[0xFF, 0xFE, 0x80, 0xFF, 0x00, 0xC3]);

    // when it is parsed with a layout that reads UTF-8 or GBK,
    let error = parse(&bytes, &preset("cn-bank")).expect_err("not text");

    // then it is refused, at the line of the bad bytes.
    let problem = only_problem(&error);
    assert_eq!((problem.line, problem.field.as_str()), (Some(3), "file"));
    assert_message(problem, "neither UTF-8 nor GBK");
}

#[test]
fn a_decimal_comma_in_a_decimal_point_layout_is_refused_not_guessed() {
    // Given a bank export whose layout writes decimal points, with "1.234,56" in it,
    let csv = "交易日期,交易流水号,贷方发生额,借方发生额\n2026-03-05,CB1,\"1.234,56\",\n";

    // when it is parsed, then the amount is refused: not 1.23456, not 1234.56.
    let error = parse(csv.as_bytes(), &preset("cn-bank")).expect_err("a comma decimal");
    let problem = only_problem(&error);
    assert_eq!(
        (problem.line, problem.field.as_str()),
        (Some(2), "贷方发生额")
    );
    assert_message(problem, "\"1.234,56\" is not an amount written with '.'");
}

#[test]
fn negative_and_zero_amounts_are_refused() {
    // Given a camt.053 entry of -5.00 and one of 0.00,
    let xml = camt(&(entry("-5.00", "EUR", "A") + &entry("0.00", "EUR", "B")));

    // when it is parsed, then both are refused, each at its entry: the sign is CdtDbtInd's.
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("not positive");
    assert_eq!(
        places(&error),
        vec![
            problem(Some(4), "Ntry[1]/Amt"),
            problem(Some(5), "Ntry[2]/Amt")
        ]
    );
    assert_message(&error.problems[0], "greater than zero");
    assert_message(&error.problems[1], "greater than zero");

    // Given a bank export with a negative credit and a row of zeros,
    let csv = "交易日期,交易流水号,贷方发生额,借方发生额\n\
               2026-03-05,CB1,-100.00,\n\
               2026-03-05,CB2,0.00,0.00\n";

    // when it is parsed, then both rows are refused.
    let error = parse(csv.as_bytes(), &preset("cn-bank")).expect_err("not positive");
    assert_eq!(
        places(&error),
        vec![
            problem(Some(2), "贷方发生额"),
            problem(Some(3), "贷方发生额/借方发生额")
        ]
    );
    assert_message(&error.problems[0], "negative");
    assert_message(&error.problems[1], "zero");
}

#[test]
fn a_currency_not_in_iso_4217_is_refused() {
    // Given a camt.053 entry, an MT940 balance and a bank export row in "XYZ",
    let xml = camt(&entry("10.00", "XYZ", "A"));
    let mt940 = ":20:S\n:25:A\n:60F:C260301XYZ0,00\n:61:260302C1,00NTRFX//Y\n";
    let csv = "交易日期,交易流水号,贷方发生额,借方发生额,币种\n2026-03-05,CB1,10.00,,XYZ\n";

    // when each is parsed, then the currency is refused where it is written.
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("XYZ");
    assert_eq!(places(&error), vec![problem(Some(4), "Ntry[1]/Amt/@Ccy")]);
    assert_message(
        &error.problems[0],
        "\"XYZ\" is not an ISO 4217 currency code",
    );

    let error = parse(mt940.as_bytes(), &Format::Mt940).expect_err("XYZ");
    assert_eq!(
        places(&error),
        vec![problem(Some(3), ":60F:"), problem(Some(4), ":61:")]
    );
    assert_message(
        &error.problems[0],
        "\"XYZ\" is not an ISO 4217 currency code",
    );
    assert_message(&error.problems[1], "no opening balance");

    let error = parse(csv.as_bytes(), &preset("cn-bank")).expect_err("XYZ");
    assert_eq!(places(&error), vec![problem(Some(2), "币种")]);
    assert_message(
        &error.problems[0],
        "\"XYZ\" is not an ISO 4217 currency code",
    );
}

#[test]
fn more_decimals_than_the_currency_has_are_refused() {
    // Given 10.005 CNY (fen are the smallest unit),
    let csv = "交易日期,交易流水号,贷方发生额,借方发生额\n2026-03-05,CB1,10.005,\n";

    // when it is parsed, then it is refused, not rounded.
    let error = parse(csv.as_bytes(), &preset("cn-bank")).expect_err("three decimals");
    assert_eq!(places(&error), vec![problem(Some(2), "贷方发生额")]);
    assert_message(&error.problems[0], "CNY has 2 decimal places");
}

#[test]
fn one_bank_id_on_two_different_transactions_is_refused() {
    // Given two entries with one AcctSvcrRef and different amounts,
    let xml = camt(&(entry("10.00", "EUR", "SAME") + &entry("20.00", "EUR", "SAME")));

    // when it is parsed, then the second is refused, pointing at the first.
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("a reused id");
    assert_eq!(
        places(&error),
        vec![problem(Some(5), "bank transaction id")]
    );
    assert_message(
        &error.problems[0],
        "duplicate bank transaction id \"SAME\" with different content (first at line 4)",
    );
}

#[test]
fn the_same_transaction_twice_in_one_file_is_kept_once() {
    // Given two statements of one file that both list the same transaction,
    let csv = "交易日期,交易流水号,贷方发生额,借方发生额\n\
               2026-03-05,CB1,10.00,\n\
               2026-03-05,CB1,10.00,\n";

    // when it is parsed, then it is one line, the first.
    let statement = parse(csv.as_bytes(), &preset("cn-bank")).expect("a repeat");
    assert_eq!(statement.lines.len(), 1);
    assert_eq!(statement.lines[0].source_line, 2);
}

#[test]
fn several_bad_rows_are_reported_together() {
    // Given a bank export whose second row has a date that does not exist and whose fourth
    // has a thousands group of two digits,
    let csv = "交易日期,交易流水号,贷方发生额,借方发生额\n\
               2026-02-30,CB1,10.00,\n\
               2026-03-01,CB2,10.00,\n\
               2026-03-02,CB3,\"1,00.00\",\n";

    // when it is parsed,
    let error = parse(csv.as_bytes(), &preset("cn-bank")).expect_err("two bad rows");

    // then both rows are reported, each with its line and column, and nothing is returned.
    assert_eq!(
        places(&error),
        vec![problem(Some(2), "交易日期"), problem(Some(4), "贷方发生额")]
    );
    assert_message(&error.problems[0], "\"2026-02-30\" is not a date");
    assert_message(&error.problems[1], "\"1,00.00\"");
}

#[test]
fn reading_stops_at_the_most_problems_reported() {
    // Given a thousand rows with a bad date each,
    let mut csv = String::from("交易日期,交易流水号,贷方发生额,借方发生额\n");
    for row in 0..1000 {
        csv.push_str(&format!("bad,CB{row},10.00,\n"));
    }

    // when it is parsed, then the first PROBLEMS_MAX are reported and the error says so.
    let error = parse(csv.as_bytes(), &preset("cn-bank")).expect_err("bad dates");
    assert_eq!(error.problems.len(), PROBLEMS_MAX);
    assert_eq!(
        error.problems[PROBLEMS_MAX - 1].line,
        Some(PROBLEMS_MAX + 1)
    );
    assert!(error.to_string().contains("at least 100 problems"));
}

#[test]
fn a_text_field_longer_than_the_limit_is_refused_not_cut() {
    // Given a reference of 1,001 characters,
    let long = "x".repeat(1001);
    let csv =
        format!("交易日期,交易流水号,贷方发生额,借方发生额,摘要\n2026-03-05,CB1,10.00,,{long}\n");

    // when it is parsed, then it is refused.
    let error = parse(csv.as_bytes(), &preset("cn-bank")).expect_err("too long");
    assert_eq!(places(&error), vec![problem(Some(2), "摘要")]);
    assert_message(&error.problems[0], "1001 characters");
}

#[test]
fn xml_nested_deeper_than_the_limit_is_refused() {
    // Given an entry with 40 levels of elements inside it,
    let deep = format!("{}{}", "<X>".repeat(40), "</X>".repeat(40));
    let xml = camt(&format!("<Ntry>{deep}</Ntry>\n"));

    // when it is parsed, then the nesting is refused.
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("too deep");
    let problem = only_problem(&error);
    assert_eq!((problem.line, problem.field.as_str()), (Some(4), "XML"));
    assert_message(problem, "nested deeper than 32");
}

#[test]
fn another_iso_20022_message_is_not_a_statement() {
    // Given a camt.054 notification,
    let xml = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.02\"></Document>";

    // when it is parsed as camt.053, then it is refused by its namespace.
    let error = parse(xml.as_bytes(), &Format::Camt053).expect_err("camt.054");
    let problem = only_problem(&error);
    assert_eq!(
        (problem.line, problem.field.as_str()),
        (Some(1), "Document")
    );
    assert_message(problem, "camt.054.001.02");
}
