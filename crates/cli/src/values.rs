//! The values a person types (dates, amounts, invoice references, allocations, payment methods),
//! read the same way on the command line and in imported CSV files.
//!
//! Only the form is checked here: whether a currency exists, an invoice is open or an amount has
//! too many decimals for its currency is the service's decision, and its refusal says so.

use std::str::FromStr;

use chrono::NaiveDate;
use receivables_api::pb;
use rust_decimal::Decimal;

/// Payment methods, as `--method` and the import's `method` column spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    #[value(alias = "bank_transfer")]
    BankTransfer,
    Alipay,
    #[value(alias = "wechat_pay")]
    WechatPay,
    #[value(alias = "union_pay")]
    UnionPay,
    Card,
    Cash,
    Cheque,
    Other,
}

impl Method {
    pub fn to_pb(self) -> pb::PaymentMethod {
        match self {
            Method::BankTransfer => pb::PaymentMethod::BankTransfer,
            Method::Alipay => pb::PaymentMethod::Alipay,
            Method::WechatPay => pb::PaymentMethod::WechatPay,
            Method::UnionPay => pb::PaymentMethod::UnionPay,
            Method::Card => pb::PaymentMethod::Card,
            Method::Cash => pb::PaymentMethod::Cash,
            Method::Cheque => pb::PaymentMethod::Cheque,
            Method::Other => pb::PaymentMethod::Other,
        }
    }
}

/// How a collector reached a customer, as `--channel` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ContactChannel {
    Call,
    Email,
    Letter,
    Visit,
    Sms,
}

impl ContactChannel {
    pub fn to_pb(self) -> pb::ContactChannel {
        match self {
            ContactChannel::Call => pb::ContactChannel::Call,
            ContactChannel::Email => pb::ContactChannel::Email,
            ContactChannel::Letter => pb::ContactChannel::Letter,
            ContactChannel::Visit => pb::ContactChannel::Visit,
            ContactChannel::Sms => pb::ContactChannel::Sms,
        }
    }
}

/// What a contact came to, as `--outcome` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ContactOutcome {
    Reached,
    #[value(alias = "no_answer")]
    NoAnswer,
    Promised,
    Disputed,
    Refused,
    #[value(alias = "wrong_contact")]
    WrongContact,
}

impl ContactOutcome {
    pub fn to_pb(self) -> pb::ContactOutcome {
        match self {
            ContactOutcome::Reached => pb::ContactOutcome::Reached,
            ContactOutcome::NoAnswer => pb::ContactOutcome::NoAnswer,
            ContactOutcome::Promised => pb::ContactOutcome::Promised,
            ContactOutcome::Disputed => pb::ContactOutcome::Disputed,
            ContactOutcome::Refused => pb::ContactOutcome::Refused,
            ContactOutcome::WrongContact => pb::ContactOutcome::WrongContact,
        }
    }
}

/// Why a payment was reversed, as `--reason` and the import's `reason` column spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReversalReason {
    #[value(alias = "insufficient_funds")]
    InsufficientFunds,
    #[value(alias = "returned_by_bank")]
    ReturnedByBank,
    Fraud,
    #[value(alias = "entered_in_error")]
    EnteredInError,
}

impl ReversalReason {
    pub fn to_pb(self) -> pb::ReversalReason {
        match self {
            ReversalReason::InsufficientFunds => pb::ReversalReason::InsufficientFunds,
            ReversalReason::ReturnedByBank => pb::ReversalReason::ReturnedByBank,
            ReversalReason::Fraud => pb::ReversalReason::Fraud,
            ReversalReason::EnteredInError => pb::ReversalReason::EnteredInError,
        }
    }
}

/// What a customer contests, as `--reason` of a dispute spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DisputeReason {
    Price,
    Quantity,
    Quality,
    #[value(alias = "not_delivered")]
    NotDelivered,
    #[value(alias = "duplicate_billing")]
    DuplicateBilling,
    Other,
}

impl DisputeReason {
    pub fn to_pb(self) -> pb::DisputeReason {
        match self {
            DisputeReason::Price => pb::DisputeReason::Price,
            DisputeReason::Quantity => pb::DisputeReason::Quantity,
            DisputeReason::Quality => pb::DisputeReason::Quality,
            DisputeReason::NotDelivered => pb::DisputeReason::NotDelivered,
            DisputeReason::DuplicateBilling => pb::DisputeReason::DuplicateBilling,
            DisputeReason::Other => pb::DisputeReason::Other,
        }
    }
}

/// How a dispute ended, as `--outcome` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DisputeOutcome {
    Withdrawn,
    Upheld,
}

impl DisputeOutcome {
    pub fn to_pb(self) -> pb::DisputeOutcome {
        match self {
            DisputeOutcome::Withdrawn => pb::DisputeOutcome::Withdrawn,
            DisputeOutcome::Upheld => pb::DisputeOutcome::Upheld,
        }
    }
}

/// Unapplied cash or unapplied credit, as `--source` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    Cash,
    Credit,
}

impl Source {
    pub fn to_pb(self) -> pb::UnappliedSource {
        match self {
            Source::Cash => pb::UnappliedSource::Cash,
            Source::Credit => pb::UnappliedSource::Credit,
        }
    }
}

/// The one date format of the API.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// A business date `YYYY-MM-DD`, normalised (`2026-3-1` is refused: ERP exports that write
/// dates otherwise must be converted first, rather than guessed at).
pub fn date(text: &str) -> Result<String, String> {
    let text = text.trim();
    let well_formed = text.len() == 10
        && text.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(format!("{text:?} is not a date of the form YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(text, DATE_FORMAT)
        .map(|d| d.format(DATE_FORMAT).to_string())
        .map_err(|e| format!("{text:?} is not a date: {e}"))
}

/// An event type as events name it (`InvoiceIssued`); the list is the domain's own.
pub fn event_type(text: &str) -> Result<String, String> {
    let text = text.trim();
    receivables_domain::EventType::parse(text)
        .map(|event_type| event_type.as_str().to_owned())
        .ok_or_else(|| {
            let known: Vec<&str> = receivables_domain::EventType::all()
                .map(receivables_domain::EventType::as_str)
                .collect();
            format!("{text:?} is not an event type ({})", known.join(", "))
        })
}

/// A plain decimal amount (`1234.50`, `-3`), kept as written so that the service sees exactly
/// what was typed; no thousands separators, exponents or currency signs.
pub fn decimal(text: &str) -> Result<String, String> {
    let text = text.trim();
    let plain = !text.is_empty()
        && text
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')));
    match Decimal::from_str(text) {
        Ok(_) if plain => Ok(text.to_owned()),
        _ => Err(format!("{text:?} is not a decimal amount such as 1234.50")),
    }
}

/// An invoice as `[SUBSIDIARY:]NUMBER`; without a subsidiary, the one the command is posted
/// for. (Neither subsidiary ids nor invoice numbers may contain `:`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceSpec {
    pub subsidiary_id: Option<String>,
    pub invoice_number: String,
}

impl InvoiceSpec {
    pub fn to_ref(&self, default_subsidiary: &str) -> pb::InvoiceRef {
        pb::InvoiceRef {
            subsidiary_id: self
                .subsidiary_id
                .clone()
                .unwrap_or_else(|| default_subsidiary.to_owned()),
            invoice_number: self.invoice_number.clone(),
        }
    }
}

impl FromStr for InvoiceSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.trim().split(':').map(str::trim).collect();
        let spec = match parts.as_slice() {
            [number] => InvoiceSpec {
                subsidiary_id: None,
                invoice_number: (*number).to_owned(),
            },
            [subsidiary, number] => InvoiceSpec {
                subsidiary_id: Some((*subsidiary).to_owned()),
                invoice_number: (*number).to_owned(),
            },
            _ => return Err(format!("{text:?} is not [SUBSIDIARY:]NUMBER")),
        };
        if spec.invoice_number.is_empty() || spec.subsidiary_id.as_deref() == Some("") {
            return Err(format!("{text:?} is not [SUBSIDIARY:]NUMBER"));
        }
        Ok(spec)
    }
}

/// An allocation of a payment as `[SUBSIDIARY:]NUMBER:AMOUNT`, in the payment's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationSpec {
    pub invoice: InvoiceSpec,
    pub amount: String,
}

impl AllocationSpec {
    pub fn to_allocation(&self, default_subsidiary: &str, currency: &str) -> pb::Allocation {
        pb::Allocation {
            invoice: Some(self.invoice.to_ref(default_subsidiary)),
            amount: Some(pb::Money {
                amount: self.amount.clone(),
                currency: currency.to_owned(),
            }),
        }
    }
}

impl FromStr for AllocationSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let wrong = || format!("{text:?} is not [SUBSIDIARY:]NUMBER:AMOUNT");
        let (invoice, amount) = text.rsplit_once(':').ok_or_else(wrong)?;
        Ok(AllocationSpec {
            invoice: invoice.parse().map_err(|_| wrong())?,
            amount: decimal(amount).map_err(|e| format!("{}: {e}", wrong()))?,
        })
    }
}

/// A list of allocations separated by `;` (`INV-1:100.00;INV-2:50.00`); empty means none.
pub fn allocations(text: &str) -> Result<Vec<AllocationSpec>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(AllocationSpec::from_str)
        .collect()
}

/// A customer's contact as `name;email;phone;role`, parts left empty when unknown (a trailing
/// part may be left out): whether the address or number is well formed is the service's rule.
pub fn contact(text: &str) -> Result<pb::Contact, String> {
    let parts: Vec<&str> = text.split(';').map(str::trim).collect();
    if parts.len() > 4 || parts[0].is_empty() {
        return Err(format!("{text:?} is not name;email;phone;role"));
    }
    let part = |n: usize| parts.get(n).copied().unwrap_or_default().to_owned();
    Ok(pb::Contact {
        name: part(0),
        email: part(1),
        phone: part(2),
        role: part(3),
    })
}

/// An exchange rate as `CURRENCY=RATE` (`USD=7.1234`): whether the currency exists or the
/// rate is in bounds is the service's rule.
pub fn rate(text: &str) -> Result<pb::ExchangeRateEntry, String> {
    let (currency, rate) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not CURRENCY=RATE"))?;
    Ok(pb::ExchangeRateEntry {
        currency: currency.trim().to_owned(),
        rate: decimal(rate)?,
    })
}

/// A row of a schedule as `DATE=AMOUNT` (`2026-07-31=500.00`), in the command's currency.
pub fn schedule_row(text: &str) -> Result<(String, String), String> {
    let (due, amount) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not DATE=AMOUNT"))?;
    Ok((date(due)?, decimal(amount)?))
}

/// The wire rows of `rows` (from [`schedule_row`]) in `currency`.
pub fn schedule(rows: &[(String, String)], currency: &str) -> Vec<pb::ScheduleRow> {
    rows.iter()
        .map(|(due_date, amount)| pb::ScheduleRow {
            due_date: due_date.clone(),
            amount: Some(pb::Money {
                amount: amount.clone(),
                currency: currency.to_owned(),
            }),
        })
        .collect()
}

/// A line of payment terms as `PORTION/RULE`: `30/net0` (30 % on the issue date), `50/net60`,
/// `100/eom30` (30 days after the month's end), `100/day10` (the 10th of the next month).
pub fn terms_line(text: &str) -> Result<pb::TermsLine, String> {
    use pb::terms_line::Due;
    let wrong = || format!("{text:?} is not PORTION/RULE, such as 30/net0, 100/eom30 or 100/day10");
    let (portion, rule) = text.trim().split_once('/').ok_or_else(wrong)?;
    let number = |digits: &str| digits.parse::<u32>().map_err(|_| wrong());
    let due = if let Some(days) = rule.strip_prefix("net") {
        Due::NetDays(number(days)?)
    } else if let Some(days) = rule.strip_prefix("eom") {
        Due::DaysAfterMonthEnd(number(days)?)
    } else if let Some(day) = rule.strip_prefix("day") {
        Due::DayOfNextMonth(number(day)?)
    } else {
        return Err(wrong());
    };
    Ok(pb::TermsLine {
        portion: decimal(portion).map_err(|_| wrong())?,
        due: Some(due),
    })
}

/// An early-payment discount as `PERCENT/DAYS` (`2/10`: 2 % off within 10 days).
pub fn discount(text: &str) -> Result<pb::EarlyPaymentDiscount, String> {
    let wrong = || format!("{text:?} is not PERCENT/DAYS, such as 2/10");
    let (percent, days) = text.trim().split_once('/').ok_or_else(wrong)?;
    Ok(pb::EarlyPaymentDiscount {
        percent: decimal(percent).map_err(|_| wrong())?,
        within_days: days.trim().parse().map_err(|_| wrong())?,
    })
}

/// Contacts separated by `|` (the import's `contacts` column); empty means none.
pub fn contacts(text: &str) -> Result<Vec<pb::Contact>, String> {
    text.split('|')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(contact)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn contacts_are_name_email_phone_role() {
        let wang =
            contact("Wang Fang; ap@hongda.example.cn ;+86 21 5888 1234;accounts payable").unwrap();
        assert_eq!(wang.name, "Wang Fang");
        assert_eq!(wang.email, "ap@hongda.example.cn");
        assert_eq!(wang.phone, "+86 21 5888 1234");
        assert_eq!(wang.role, "accounts payable");
        let li = contact("Li Na;;021 6000 2000").unwrap();
        assert_eq!((li.email.as_str(), li.role.as_str()), ("", ""));
        assert!(contact(";a@b.cn").is_err());
        assert!(contact("a;b;c;d;e").is_err());
        assert_eq!(contacts("A;a@b.cn | B;;12345").unwrap().len(), 2);
        assert!(contacts("").unwrap().is_empty());
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(date(" 2026-03-01 ").unwrap(), "2026-03-01");
        assert!(date("2026-02-30").is_err());
        assert!(date("2026-3-1").is_err());
        assert!(date("01/03/2026").is_err());
    }

    #[test]
    fn amounts_are_kept_as_written() {
        assert_eq!(decimal("1200.50").unwrap(), "1200.50");
        assert_eq!(decimal("100").unwrap(), "100");
        assert!(decimal("1,200.50").is_err());
        assert!(decimal("1e3").is_err());
        assert!(decimal("").is_err());
    }

    #[test]
    fn allocations_name_an_invoice_of_the_same_or_another_subsidiary() {
        let list = allocations("INV-1:100.00; SUB-BJ:BJ/7:50").unwrap();
        assert_eq!(
            list[0].to_allocation("SUB-SH", "CNY").invoice.unwrap(),
            pb::InvoiceRef {
                subsidiary_id: "SUB-SH".into(),
                invoice_number: "INV-1".into()
            }
        );
        assert_eq!(list[1].invoice.subsidiary_id.as_deref(), Some("SUB-BJ"));
        assert_eq!(list[1].invoice.invoice_number, "BJ/7");
        assert_eq!(list[1].amount, "50");
        assert!(allocations("INV-1").is_err());
        assert!(allocations("A:B:C:1").is_err());
        assert!(allocations("").unwrap().is_empty());
    }
}
