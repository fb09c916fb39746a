//! What a CSV export looks like: which column holds what, and how its text is written. The
//! presets of the exports this service knows are values of [`CsvLayout`], read by the one CSV
//! reader like any layout a user writes.
//!
//! The presets were written from the column names of the published exports:
//!
//! - `alipay`: Alipay's merchant account statement ("账务明细" export, 支付宝账务明细查询): GBK,
//!   `#` lines above and below the table, columns 账务流水号, 业务流水号, 商户订单号, 商品名称,
//!   发生时间, 对方账号, 收入金额（+元）, 支出金额（-元）, 账户余额（元）, 交易渠道, 业务类型, 备注,
//!   each value followed by a tab (so that spreadsheets keep long numbers as text). In CNY. Some
//!   exports name the id 支付宝交易号 and write the headers with ASCII parentheses; both are
//!   accepted. The payout column may carry a minus sign, as its header says.
//! - `wechat-pay`: WeChat Pay's merchant trade bill ("交易账单"): UTF-8, every value prefixed
//!   with a backtick, columns 交易时间, 公众账号ID, 商户号, 特约商户号, 设备号, 微信订单号,
//!   商户订单号, 用户标识, 交易类型, 交易状态, 付款银行, 货币种类, 应结订单金额, 代金券金额, ...,
//!   商品名称, 商户数据包, 手续费, 费率, 订单金额, 申请退款金额, 费率备注, then a summary (总交易单数,
//!   ...) that is not data. Only rows whose 交易状态 is SUCCESS are receipts (refunds are rows of
//!   their own); the amount is 应结订单金额, what the merchant is owed for the order (without
//!   vouchers the platform pays); the payer is known only by 用户标识.
//! - `cn-bank`: a generic Chinese bank account export, for which no single published layout
//!   exists: 交易日期, 交易流水号 (or 流水号), 对方户名, 对方账号, 贷方发生额/借方发生额 (or
//!   收入金额/支出金额), 币种 (optional: CNY without it), 摘要, 用途, 附言; UTF-8 or GBK. 贷方
//!   (credit) is money into the account, as a bank's statement to its customer writes it.

use receivables_domain::money::Currency;
use serde::{Deserialize, Serialize};

use crate::amount::DecimalSeparator;
use crate::text::TextEncoding;

/// Where a value is in a row.
///
/// Header names are compared exactly, after the header cell is cleaned as every cell is
/// (surrounding spaces and tabs, a byte order mark, a leading backtick or `=`, and quotes
/// removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    /// The column with this header.
    Name(String),
    /// The first of these headers the file has: exports of one source name a column
    /// differently from one version to the next.
    OneOf(Vec<String>),
    /// The column at this 0-based position.
    Index(usize),
}

impl Column {
    pub fn name(name: &str) -> Column {
        Column::Name(name.to_owned())
    }

    pub fn one_of(names: &[&str]) -> Column {
        Column::OneOf(names.iter().map(|name| (*name).to_owned()).collect())
    }

    /// How the column is named in a message when the file lacks it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Column::Name(name) => name.clone(),
            Column::OneOf(names) => names.join(" / "),
            Column::Index(index) => format!("column {}", index + 1),
        }
    }
}

/// Where the amount is and which way it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CsvDirection {
    /// One amount column: negative is a debit, positive a credit.
    Signed { amount: Column },
    /// A credit column and a debit column, one of them filled in each row (the other empty or
    /// zero). The debit column may carry a minus sign (exports that head it "支出金额（-元）" do);
    /// the credit column may not.
    TwoColumns { credit: Column, debit: Column },
    /// A positive amount, and a column saying which way it went: a row whose value there is one
    /// of `credit_values` is a credit, any other a debit.
    ByColumn {
        amount: Column,
        column: Column,
        credit_values: Vec<String>,
    },
}

/// The currency of the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CurrencySource {
    /// Every row is in this currency.
    Fixed(Currency),
    /// A column holds an ISO 4217 code, or a name that `names` maps to one ("人民币" → "CNY").
    /// When the file has no such column at all, the rows are in `when_absent`, if given; an
    /// empty cell in a column that is there is a problem.
    Column {
        column: Column,
        names: Vec<(String, String)>,
        when_absent: Option<Currency>,
    },
}

/// How a CSV export is written.
///
/// Required columns (date, amounts, direction, currency, the status of `keep_only`, and the id
/// when given) must be in the header. The payer and reference columns are looked for and left
/// out when absent, because exports of one kind differ in which of them they have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvLayout {
    /// The field delimiter, usually `b','`.
    pub delimiter: u8,
    /// Lines before the header. Lines starting with `#` are skipped anywhere: exports put their
    /// title, period and totals in them.
    pub skip_lines: usize,
    pub encoding: TextEncoding,
    /// The value date.
    pub date: Column,
    /// chrono formats tried in turn; a date-time format takes the date of a date-time column.
    pub date_formats: Vec<String>,
    /// The booking date, where the export has one apart from the value date.
    pub booking_date: Option<Column>,
    pub decimal_separator: DecimalSeparator,
    pub direction: CsvDirection,
    pub currency: CurrencySource,
    /// The bank's (or platform's) id of the transaction; without it, or in a row where it is
    /// empty, an id is derived from the row's content.
    pub bank_transaction_id: Option<Column>,
    pub payer_name: Option<Column>,
    pub payer_account: Option<Column>,
    /// The columns whose non-empty values, joined by a space, are the reference.
    pub reference: Vec<Column>,
    /// Only rows whose value in the column is one of the values are statement lines (WeChat
    /// Pay's 交易状态 = SUCCESS); the others are not read further.
    pub keep_only: Option<(Column, Vec<String>)>,
    /// A row whose first cell is this ends the data; what follows is a summary, not read.
    pub end_marker: Option<String>,
}

impl CsvLayout {
    /// The names [`CsvLayout::preset`] knows.
    pub const PRESETS: &'static [&'static str] = &["alipay", "wechat-pay", "cn-bank"];

    /// The layout of a known export, by name (one of [`CsvLayout::PRESETS`]).
    pub fn preset(name: &str) -> Option<CsvLayout> {
        let cny = Currency::parse("CNY").ok()?;
        let names = |names: &[&str]| names.iter().map(|name| Column::name(name)).collect();
        let strings = |values: &[&str]| values.iter().map(|value| (*value).to_owned()).collect();
        match name {
            "alipay" => Some(CsvLayout {
                delimiter: b',',
                skip_lines: 0,
                encoding: TextEncoding::Gbk,
                date: Column::name("发生时间"),
                date_formats: strings(&["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d"]),
                booking_date: None,
                decimal_separator: DecimalSeparator::Point,
                direction: CsvDirection::TwoColumns {
                    credit: Column::one_of(&["收入金额（+元）", "收入金额(+元)", "收入金额"]),
                    debit: Column::one_of(&["支出金额（-元）", "支出金额(-元)", "支出金额"]),
                },
                currency: CurrencySource::Fixed(cny),
                bank_transaction_id: Some(Column::one_of(&["账务流水号", "支付宝交易号"])),
                payer_name: None,
                payer_account: Some(Column::name("对方账号")),
                reference: names(&["商户订单号", "商品名称", "备注"]),
                keep_only: None,
                end_marker: None,
            }),
            "wechat-pay" => Some(CsvLayout {
                delimiter: b',',
                skip_lines: 0,
                encoding: TextEncoding::Utf8,
                date: Column::name("交易时间"),
                date_formats: strings(&["%Y-%m-%d %H:%M:%S"]),
                booking_date: None,
                decimal_separator: DecimalSeparator::Point,
                direction: CsvDirection::Signed {
                    amount: Column::name("应结订单金额"),
                },
                currency: CurrencySource::Column {
                    column: Column::name("货币种类"),
                    names: Vec::new(),
                    when_absent: None,
                },
                bank_transaction_id: Some(Column::name("微信订单号")),
                payer_name: None,
                payer_account: Some(Column::name("用户标识")),
                reference: names(&["商户订单号", "商品名称", "商户数据包"]),
                keep_only: Some((Column::name("交易状态"), strings(&["SUCCESS"]))),
                end_marker: Some("总交易单数".to_owned()),
            }),
            "cn-bank" => Some(CsvLayout {
                delimiter: b',',
                skip_lines: 0,
                encoding: TextEncoding::Utf8OrGbk,
                date: Column::one_of(&["交易日期", "记账日期"]),
                date_formats: strings(&["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S"]),
                booking_date: None,
                decimal_separator: DecimalSeparator::Point,
                direction: CsvDirection::TwoColumns {
                    credit: Column::one_of(&["贷方发生额", "收入金额", "贷方金额"]),
                    debit: Column::one_of(&["借方发生额", "支出金额", "借方金额"]),
                },
                currency: CurrencySource::Column {
                    column: Column::one_of(&["币种", "货币"]),
                    names: [
                        ("人民币", "CNY"),
                        ("RMB", "CNY"),
                        ("美元", "USD"),
                        ("港币", "HKD"),
                        ("港元", "HKD"),
                        ("欧元", "EUR"),
                        ("日元", "JPY"),
                        ("英镑", "GBP"),
                    ]
                    .iter()
                    .map(|(name, code)| ((*name).to_owned(), (*code).to_owned()))
                    .collect(),
                    when_absent: Some(cny),
                },
                bank_transaction_id: Some(Column::one_of(&["交易流水号", "流水号"])),
                payer_name: Some(Column::one_of(&["对方户名", "对方账户名称", "对方名称"])),
                payer_account: Some(Column::one_of(&["对方账号", "对方账户"])),
                reference: names(&["摘要", "用途", "附言"]),
                keep_only: None,
                end_marker: None,
            }),
            _ => None,
        }
    }
}
