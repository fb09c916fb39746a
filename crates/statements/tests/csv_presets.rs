//! The CSV presets read the exports they are named for: given an export written as the
//! platform or bank writes it, when it is parsed with its preset, then its receipts and
//! payments are the lines worked out by hand from it.

mod support;

use receivables_statements::{CsvLayout, Direction, Format, StatementLine, parse};
use support::{assert_derived, date, file, money, text};

fn preset(name: &str) -> Format {
    Format::Csv(CsvLayout::preset(name).expect("a preset"))
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "the fixture has a character GBK lacks");
    bytes.into_owned()
}

/// An Alipay account statement as its "账务明细" export writes it: `#` lines around the table,
/// a tab after each value.
const ALIPAY: &str = "\
#支付宝账务明细查询\r
#账号：[20880000000000000156]\r
#起始日期：[2026年03月01日 00:00:00]   终止日期：[2026年03月02日 00:00:00]\r
#-----------------------------------------账务明细列表----------------------------------------\r
账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\r
20260301100001\t,2026030122001400001\t,INV-3001\t,机床配件\t,2026-03-01 10:02:06,张三 (zhangsan@example.com)\t,2274.00,0.00,12274.00,支付宝,在线支付,\r
20260301100002\t,2026030122001400002\t,INV-3002\t,维修服务\t,2026-03-01 11:31:32,李四 (13800000000)\t,\"1,393.50\",0.00,13667.50,支付宝,在线支付,分期一\r
20260301100003\t,2026030122001400003\t,\t,服务费\t,2026-03-01 23:59:59,支付宝（中国）网络技术有限公司\t,0.00,-13.67,13653.83,支付宝,收费,\r
#-----------------------------------------账务明细列表结束------------------------------------\r
#支出合计：1笔，共-13.67元\r
#收入合计：2笔，共3667.50元\r
#导出时间：[2026年03月02日 09:00:00]\r
";

#[test]
fn the_alipay_preset_reads_a_gbk_account_statement() {
    // Given Alipay's export in GBK,
    let bytes = gbk(ALIPAY);

    // when it is parsed with the alipay preset,
    let statement = parse(&bytes, &preset("alipay")).expect("the export reads");

    // then the two receipts and the fee are its lines, the `#` lines skipped, the tabs
    // trimmed, and the thousands separator of "1,393.50" read.
    assert_eq!(statement.account, None);
    assert_eq!(statement.statement_id, None);
    assert_eq!(
        statement.lines,
        vec![
            StatementLine {
                ordinal: 1,
                source_line: 6,
                bank_transaction_id: "20260301100001".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 1),
                booking_date: None,
                direction: Direction::Credit,
                amount: money("2274.00", "CNY"),
                payer_name: None,
                payer_account: text("张三 (zhangsan@example.com)"),
                reference: "INV-3001 机床配件".to_owned(),
            },
            StatementLine {
                ordinal: 2,
                source_line: 7,
                bank_transaction_id: "20260301100002".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 1),
                booking_date: None,
                direction: Direction::Credit,
                amount: money("1393.50", "CNY"),
                payer_name: None,
                payer_account: text("李四 (13800000000)"),
                reference: "INV-3002 维修服务 分期一".to_owned(),
            },
            StatementLine {
                ordinal: 3,
                source_line: 8,
                bank_transaction_id: "20260301100003".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 1),
                booking_date: None,
                direction: Direction::Debit,
                amount: money("13.67", "CNY"),
                payer_name: None,
                payer_account: text("支付宝（中国）网络技术有限公司"),
                reference: "服务费".to_owned(),
            },
        ]
    );
}

#[test]
fn the_wechat_pay_preset_keeps_successful_payments_and_ignores_the_summary() {
    // Given a WeChat Pay trade bill: backticks before every value, a refund row, and the
    // summary after the data,
    let bytes = file("wechat_pay_trade_bill.csv");

    // when it is parsed with the wechat-pay preset,
    let statement = parse(&bytes, &preset("wechat-pay")).expect("the bill reads");

    // then the two SUCCESS rows are receipts of their settlement amount (the refund row, the
    // second, is left out, and so is the summary).
    assert_eq!(
        statement.lines,
        vec![
            StatementLine {
                ordinal: 1,
                source_line: 2,
                bank_transaction_id: "4200001234202603011234567890".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 1),
                booking_date: None,
                direction: Direction::Credit,
                amount: money("880.00", "CNY"),
                payer_name: None,
                payer_account: text("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
                reference: "INV-4001 设备租赁三月 contract-17".to_owned(),
            },
            StatementLine {
                ordinal: 3,
                source_line: 4,
                bank_transaction_id: "4200001234202603011234567892".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 1),
                booking_date: None,
                direction: Direction::Credit,
                amount: money("99.90", "CNY"),
                payer_name: None,
                payer_account: text("oUpF9vNvBKP_N3qyc2R0aOkXfT7p"),
                reference: "INV-4003 耗材".to_owned(),
            },
        ]
    );
}

#[test]
fn the_cn_bank_preset_reads_utf8_with_a_byte_order_mark() {
    // Given a bank export in UTF-8 with a byte order mark, debit and credit columns, the
    // currency by its Chinese name, and two ways of writing a date,
    let csv = "\u{feff}交易日期,交易时间,交易流水号,对方户名,对方账号,借方发生额,贷方发生额,币种,摘要,用途,附言\n\
               2026-03-05,09:30:11,CB202603050001,北京某某科技有限公司,110060123456789,,\"12,500.00\",人民币,货款,INV-5001,三月\n\
               20260306,14:02:45,CB202603060002,上海某某物流有限公司,310066000000001,320.00,,CNY,运费,,\n";

    // when it is parsed with the cn-bank preset,
    let statement = parse(csv.as_bytes(), &preset("cn-bank")).expect("the export reads");

    // then 贷方 is a credit and 借方 a debit, the reference the non-empty 摘要, 用途, 附言.
    assert_eq!(
        statement.lines,
        vec![
            StatementLine {
                ordinal: 1,
                source_line: 2,
                bank_transaction_id: "CB202603050001".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 5),
                booking_date: None,
                direction: Direction::Credit,
                amount: money("12500.00", "CNY"),
                payer_name: text("北京某某科技有限公司"),
                payer_account: text("110060123456789"),
                reference: "货款 INV-5001 三月".to_owned(),
            },
            StatementLine {
                ordinal: 2,
                source_line: 3,
                bank_transaction_id: "CB202603060002".to_owned(),
                id_derived: false,
                value_date: date(2026, 3, 6),
                booking_date: None,
                direction: Direction::Debit,
                amount: money("320.00", "CNY"),
                payer_name: text("上海某某物流有限公司"),
                payer_account: text("310066000000001"),
                reference: "运费".to_owned(),
            },
        ]
    );
}

#[test]
fn the_cn_bank_preset_reads_gbk_and_derives_distinct_ids_for_equal_rows() {
    // Given a GBK export with 收入金额/支出金额, no currency column, and two equal receipts
    // without an id,
    let csv = "交易日期,流水号,对方户名,对方账号,收入金额,支出金额,摘要\r\n\
               2026/03/07,GB0001,广州某某贸易有限公司,4400123,5000.00,,货款\r\n\
               2026/03/07,,广州某某贸易有限公司,4400123,5000.00,,货款\r\n\
               2026/03/07,,广州某某贸易有限公司,4400123,5000.00,,货款\r\n";
    let bytes = gbk(csv);

    // when it is parsed with the cn-bank preset, twice,
    let statement = parse(&bytes, &preset("cn-bank")).expect("the export reads");
    let again = parse(&bytes, &preset("cn-bank")).expect("the export reads");

    // then the rows are in CNY, the first has the bank's id, the equal two are both kept with
    // derived ids of their own, and the ids are the same on every import.
    let receipt = |ordinal: usize, source_line: usize| StatementLine {
        ordinal,
        source_line,
        bank_transaction_id: String::new(),
        id_derived: true,
        value_date: date(2026, 3, 7),
        booking_date: None,
        direction: Direction::Credit,
        amount: money("5000.00", "CNY"),
        payer_name: text("广州某某贸易有限公司"),
        payer_account: text("4400123"),
        reference: "货款".to_owned(),
    };
    assert_eq!(statement.lines.len(), 3);
    assert_eq!(
        statement.lines[0],
        StatementLine {
            bank_transaction_id: "GB0001".to_owned(),
            id_derived: false,
            ..receipt(1, 2)
        }
    );
    assert_derived(&statement.lines[1], receipt(2, 3));
    assert_derived(&statement.lines[2], receipt(3, 4));
    assert_ne!(
        statement.lines[1].bank_transaction_id,
        statement.lines[2].bank_transaction_id
    );
    assert_eq!(statement, again);
}

#[test]
fn every_preset_named_is_there_and_no_other() {
    for name in CsvLayout::PRESETS {
        assert!(CsvLayout::preset(name).is_some(), "{name} has no layout");
    }
    assert_eq!(CsvLayout::preset("paypal"), None);
}
