//! The group: its subsidiaries and how their ERPs number invoices and state due dates, the
//! collectors and credit officers, what collectors note, how payment references look.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;
use receivables_api::pb;
use receivables_domain::Currency;

use crate::draw::pick;

/// The currencies of the group's customers, by ISO 4217 code.
pub(crate) const CNY: &str = "CNY";
pub(crate) const USD: &str = "USD";
pub(crate) const HKD: &str = "HKD";

/// How a subsidiary's ERP states when an invoice is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DueRule {
    /// Sends the payment terms (`terms_days`); the service derives the due date.
    Terms,
    /// Sends the due date: issue date plus terms.
    Date,
    /// Sends the due date: the end of the month in which issue date plus terms falls (Hong Kong
    /// practice, "30 days end of month").
    MonthEnd,
}

pub(crate) struct Subsidiary {
    pub(crate) id: &'static str,
    pub(crate) due_rule: DueRule,
    /// The collectors who call this subsidiary's customers.
    pub(crate) collectors: &'static [&'static str],
    /// The short name on cash receipts.
    pub(crate) short: &'static str,
}

pub(crate) const SH_TRADING: usize = 0;
pub(crate) const SZ_ELECTRONICS: usize = 1;
pub(crate) const HK_SERVICES: usize = 2;

pub(crate) const SUBSIDIARIES: [Subsidiary; 3] = [
    Subsidiary {
        id: "SH-TRADING",
        due_rule: DueRule::Terms,
        collectors: &["Wang Fang", "Zhang Wei"],
        short: "SHT",
    },
    Subsidiary {
        id: "SZ-ELECTRONICS",
        due_rule: DueRule::Date,
        collectors: &["Liu Yang", "Huang Min"],
        short: "SZE",
    },
    Subsidiary {
        id: "HK-SERVICES",
        due_rule: DueRule::MonthEnd,
        collectors: &["Karen Lam", "Wong Siu Ming"],
        short: "HKS",
    },
];

/// The number an invoice gets in its subsidiary's ERP. The sequence runs across years and is
/// zero-padded to six digits, so that numbers sort in the order they were issued.
pub(crate) fn invoice_number(subsidiary: usize, issue: NaiveDate, sequence: u32) -> String {
    match subsidiary {
        SH_TRADING => format!("SHT-INV-{}-{sequence:06}", issue.year()),
        SZ_ELECTRONICS => format!("SZE/{}/{sequence:06}", issue.year()),
        _ => format!("HKS-{}{:02}-{sequence:06}", issue.year(), issue.month()),
    }
}

/// The number a credit note gets in its subsidiary's ERP: a sequence of its own (red-letter
/// fapiao, 红字发票, in the mainland subsidiaries), zero-padded like the invoices'.
pub(crate) fn credit_note_number(subsidiary: usize, issue: NaiveDate, sequence: u32) -> String {
    match subsidiary {
        SH_TRADING => format!("SHT-CN-{}-{sequence:06}", issue.year()),
        SZ_ELECTRONICS => format!("SZE/CN/{}/{sequence:06}", issue.year()),
        _ => format!("HKS-CN-{}{:02}-{sequence:06}", issue.year(), issue.month()),
    }
}

/// The group credit department's officers, who approve limits and write-offs.
pub(crate) const CREDIT_OFFICERS: [&str; 3] = ["Chen Jing", "Zhou Ming", "Li Na"];

/// What collectors write down with a promise.
pub(crate) const PROMISE_NOTES: [&str; 8] = [
    "called the treasurer: payment in the next run",
    "CFO confirmed by WeChat",
    "AP clerk says the invoices are approved and queued",
    "waiting for their own customer to pay; asked for part now",
    "asked for a corrected VAT fapiao first; sent it today",
    "visited the office: the director signed a repayment schedule",
    "email from accounts payable with the payment date",
    "agreed to clear the oldest invoices first",
];

/// Why goods came back, written on the credit note.
pub(crate) const RETURN_REASONS: [&str; 5] = [
    "goods returned: damaged in transit",
    "goods returned: wrong model delivered",
    "goods returned: quality defect found at incoming inspection",
    "short delivery: missing cartons credited",
    "price difference: invoiced above the agreed contract price",
];

/// The reason on a quarterly volume rebate, credited on account.
pub(crate) const REBATE_REASON: &str = "quarterly volume rebate (返利) credited on account";

/// The reason on the credit note of an upheld dispute.
pub(crate) const UPHELD_REASON: &str =
    "dispute upheld: the customer is credited the disputed amount";

/// Why the credit department wrote a debt off.
pub(crate) const WRITE_OFF_REASONS: [&str; 3] = [
    "customer in bankruptcy liquidation (破产清算): claim filed, no recovery expected",
    "customer ceased trading; the collection agency returned the file uncollected",
    "debtor untraceable after repeated reminders; approved by the credit committee",
];

/// The reason on the limit of a customer whose debts were written off.
pub(crate) const CREDIT_WITHDRAWN_REASON: &str =
    "bad debt written off: credit withdrawn, cash in advance only";

/// What customers dispute and what the subsidiary notes down, with weights.
pub(crate) const DISPUTE_REASONS: [((pb::DisputeReason, &str), u32); 5] = [
    (
        (
            pb::DisputeReason::Price,
            "customer says the price differs from the purchase order",
        ),
        30,
    ),
    (
        (
            pb::DisputeReason::Quantity,
            "customer counted fewer units than invoiced at goods receipt",
        ),
        25,
    ),
    (
        (
            pb::DisputeReason::Quality,
            "customer reports defective units; photos requested",
        ),
        25,
    ),
    (
        (
            pb::DisputeReason::NotDelivered,
            "customer has no proof of delivery for part of the shipment",
        ),
        10,
    ),
    (
        (
            pb::DisputeReason::DuplicateBilling,
            "customer says the delivery was invoiced twice",
        ),
        10,
    ),
];

/// What the subsidiary notes when a dispute is withdrawn or upheld.
pub(crate) const WITHDRAWN_NOTE: &str = "customer found the signed delivery note; withdrawn";
pub(crate) const UPHELD_NOTE: &str = "sales confirmed the customer's claim; credit note issued";

/// A refund's reference, as the paying bank prints it.
pub(crate) fn refund_reference(rng: &mut StdRng, date: NaiveDate, subsidiary: usize) -> String {
    let digits: String = (0..8)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    format!(
        "REFUND {}-{}-{digits}",
        SUBSIDIARIES[subsidiary].short,
        date.format("%Y%m%d")
    )
}

/// A payment reference as the channel would print it: bank references, Alipay and WeChat Pay
/// transaction numbers, cheque numbers...
pub(crate) fn reference(
    rng: &mut StdRng,
    method: pb::PaymentMethod,
    currency: Currency,
    date: NaiveDate,
    subsidiary: usize,
) -> String {
    use pb::PaymentMethod as M;
    let bank = pick(rng, &["ICBC", "CCB", "BOC", "ABC", "CMB", "BOCOM"]).unwrap_or("ICBC");
    let mut digits = |count: usize| -> String {
        (0..count)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    let ymd = date.format("%Y%m%d");
    match (method, currency.code()) {
        (M::BankTransfer, USD) => format!("MT103 {ymd} {}", digits(12)),
        (M::BankTransfer, HKD) => format!("CHATS-{ymd}-{}", digits(10)),
        (M::BankTransfer, _) => format!("{bank}-{ymd}-{}", digits(10)),
        (M::Alipay, _) => format!("{ymd}2200{}", digits(16)),
        (M::WechatPay, _) => format!("4200{}{ymd}{}", digits(6), digits(10)),
        (M::UnionPay, _) => format!("UP{ymd}{}", digits(12)),
        (M::Card, _) => format!("CARD ****{} AUTH {}", digits(4), digits(6)),
        (M::Cash, _) => format!(
            "CASH RECEIPT {}-{}",
            SUBSIDIARIES[subsidiary].short,
            digits(5)
        ),
        (M::Cheque, _) => format!("CHQ {}", digits(6)),
        (M::Other, HKD) => format!("FPS {ymd}{}", digits(8)),
        (M::Other, _) => format!("BANK ACCEPTANCE BILL {}", digits(16)),
        (M::Unspecified, _) => format!("REF-{ymd}-{}", digits(8)),
    }
}

/// The group's currency: the treasury publishes the other currencies' rates to it.
pub(crate) const GROUP_CURRENCY: &str = CNY;

/// Where the treasury takes its rates from.
pub(crate) const RATE_SOURCE: &str = "PBOC central parity, month end";

/// The rates to CNY the treasury publishes for the `month`th date of the window: units of CNY
/// per unit, moving a little from month to month (USD 7.10 to 7.18, HKD 0.910 to 0.916).
pub(crate) fn rates_of_month(month: usize) -> [(&'static str, String); 2] {
    let usd = 71_000 + (month % 5) * 200;
    let hkd = 9_100 + (month % 4) * 20;
    [
        (USD, format!("{}.{:04}", usd / 10_000, usd % 10_000)),
        (HKD, format!("0.{hkd:04}")),
    ]
}

/// Words the customers' names are made of (a demo group's customers, not real companies).
const NAME_WORDS: [&str; 16] = [
    "Hongda",
    "Jinhua",
    "Xinyuan",
    "Huaxin",
    "Tianrui",
    "Dongfang",
    "Yongsheng",
    "Baoli",
    "Zhongtai",
    "Kaiyuan",
    "Ruifeng",
    "Hengtong",
    "Minsheng",
    "Changjiang",
    "Longteng",
    "Guanghua",
];
const TRADES: [&str; 10] = [
    "Trading",
    "Electronics",
    "Logistics",
    "Machinery",
    "Textiles",
    "Foods",
    "Chemicals",
    "Retail",
    "Construction",
    "Packaging",
];
const PAYABLES_CLERKS: [&str; 6] = [
    "Chen Li", "Wu Jun", "Sun Yan", "Ma Lin", "Xu Ning", "Zhao Hui",
];

/// The record of the `index`th customer, who buys in `currency`: a name, a legal name and tax
/// id as the customer's country writes them, and its accounts-payable clerk.
pub(crate) fn customer_record(index: usize, currency: &str) -> pb::CustomerProfile {
    let word = NAME_WORDS[index % NAME_WORDS.len()];
    let trade = TRADES[(index / NAME_WORDS.len()) % TRADES.len()];
    let round = index / (NAME_WORDS.len() * TRADES.len());
    let name = if round == 0 {
        format!("{word} {trade}")
    } else {
        format!("{word} {trade} {}", round + 1)
    };
    let serial = (index * 7_919) % 10_000;
    let (legal_name, country, tax_id, phone) = match currency {
        USD => (
            format!("{name} Inc."),
            "US",
            format!("94-{:07}", index * 7_919 % 10_000_000),
            format!("+1 415 555 {serial:04}"),
        ),
        HKD => (
            format!("{name} (Hong Kong) Limited"),
            "HK",
            format!("{:08}", 30_000_000 + index * 7_919 % 10_000_000),
            format!("+852 2888 {serial:04}"),
        ),
        _ => (
            format!("Shanghai {name} Co., Ltd."),
            "CN",
            format!("91310000{:010}", index * 7_919 % 10_000_000_000),
            format!("+86 21 5888 {serial:04}"),
        ),
    };
    pb::CustomerProfile {
        name,
        legal_name,
        tax_id,
        country: country.to_owned(),
        contacts: vec![pb::Contact {
            name: PAYABLES_CLERKS[index % PAYABLES_CLERKS.len()].to_owned(),
            email: format!("ap@{}-{index}.example.com", word.to_lowercase()),
            phone,
            role: "accounts payable".to_owned(),
        }],
        industry: trade.to_lowercase(),
        notes: String::new(),
    }
}
