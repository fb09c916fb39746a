//! Reading a request's fields, collecting every problem as a `BadRequest` field violation named
//! by its path in the request (`amount.currency`, `scope.as_of`), so that a client hears of
//! every bad field in one reply. Used by the mapping of commands and of queries alike.

use std::fmt::Display;

use chrono::{NaiveDate, Utc};
use receivables_domain::calendar::parse_business_date;
use receivables_domain::ids::PersonName;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::terms::{EarlyPaymentDiscount, ScheduleRow};
use receivables_domain::{
    CommandId, Currency, CustomerId, InvoiceKey, InvoiceNumber, Money, SubsidiaryId,
};
use rust_decimal::Decimal;

use crate::pb;

/// Collects field violations while a request is read.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub(crate) violations: Vec<FieldViolation>,
}

/// An optional text field: empty means absent.
pub(crate) fn optional(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

impl Fields {
    pub(crate) fn violation(&mut self, path: impl Into<String>, problem: impl Display) {
        self.violations.push(FieldViolation::new(path, problem));
    }

    /// The violations of a rule checked on values already read, added as they are.
    pub(crate) fn extend(&mut self, violations: Vec<FieldViolation>) {
        self.violations.extend(violations);
    }

    pub(crate) fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    pub(crate) fn check<T, E: Display>(&mut self, path: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.violation(path, error);
                None
            }
        }
    }

    /// A field that must not be empty.
    pub(crate) fn required(&mut self, path: &str, value: &str) -> bool {
        if value.is_empty() {
            self.violation(path, "is required");
            return false;
        }
        true
    }

    pub(crate) fn command_id(&mut self, value: &str) -> Option<CommandId> {
        self.required("command_id", value)
            .then(|| self.check("command_id", CommandId::parse(value)))
            .flatten()
    }

    /// A customer's id: never the group's own account, which only the group's settings
    /// address (and auditors read by its id).
    pub(crate) fn customer_id(&mut self, path: &str, value: &str) -> Option<CustomerId> {
        let id = self.check(path, CustomerId::parse(value))?;
        if id.is_group() {
            self.violation(
                path,
                format!("{id} is reserved for the group's own account, not a customer's"),
            );
            return None;
        }
        if id.is_bank_account() {
            self.violation(
                path,
                format!("{id} is reserved for a bank account's stream, not a customer's"),
            );
            return None;
        }
        Some(id)
    }

    pub(crate) fn subsidiary_id(&mut self, path: &str, value: &str) -> Option<SubsidiaryId> {
        self.check(path, SubsidiaryId::parse(value))
    }

    /// An optional id or name: `Some(None)` when empty, `None` when bad.
    pub(crate) fn optional<T, E: Display>(
        &mut self,
        path: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match optional(value) {
            None => Some(None),
            Some(text) => self.check(path, parse(text)).map(Some),
        }
    }

    pub(crate) fn date(&mut self, path: &str, value: &str) -> Option<NaiveDate> {
        self.check(path, parse_business_date(value))
    }

    /// An optional date: `Some(None)` when empty, `None` when bad.
    pub(crate) fn optional_date(&mut self, path: &str, value: &str) -> Option<Option<NaiveDate>> {
        self.optional(path, value, parse_business_date)
    }

    /// A query's business date: empty means the service's own date (UTC).
    pub(crate) fn as_of(&mut self, path: &str, value: &str) -> Option<NaiveDate> {
        if value.is_empty() {
            return Some(Utc::now().date_naive());
        }
        self.date(path, value)
    }

    pub(crate) fn person(&mut self, path: &str, value: &str) -> Option<PersonName> {
        self.check(path, PersonName::parse(value))
    }

    pub(crate) fn currency(&mut self, path: &str, money: &pb::Money) -> Option<Currency> {
        self.check(
            &format!("{path}.currency"),
            Currency::parse(&money.currency),
        )
    }

    /// A strictly positive amount of money.
    pub(crate) fn money(&mut self, path: &str, money: Option<&pb::Money>) -> Option<Money> {
        self.money_parsed(path, money, Money::positive)
    }

    /// A required amount of money whose sign `parse` rules on ([`Money::positive`],
    /// [`Money::non_negative`], [`Money::signed`]).
    pub(crate) fn money_parsed(
        &mut self,
        path: &str,
        money: Option<&pb::Money>,
        parse: fn(&str, Currency) -> Result<Money, receivables_domain::money::MoneyError>,
    ) -> Option<Money> {
        let Some(money) = money else {
            self.violation(path, "is required");
            return None;
        };
        let currency = self.currency(path, money)?;
        self.check(&format!("{path}.amount"), parse(&money.amount, currency))
    }

    pub(crate) fn invoice(
        &mut self,
        path: &str,
        invoice: Option<&pb::InvoiceRef>,
    ) -> Option<InvoiceKey> {
        let Some(invoice) = invoice else {
            self.violation(path, "is required");
            return None;
        };
        let subsidiary_id =
            self.subsidiary_id(&format!("{path}.subsidiary_id"), &invoice.subsidiary_id);
        let invoice_number = self.check(
            &format!("{path}.invoice_number"),
            InvoiceNumber::parse(&invoice.invoice_number),
        );
        Some(InvoiceKey {
            subsidiary_id: subsidiary_id?,
            invoice_number: invoice_number?,
        })
    }

    /// The rows of a schedule (an invoice's, an instalment plan's), each under `path[i]`; their
    /// rules together are the domain's (`terms::check_schedule`).
    pub(crate) fn schedule(
        &mut self,
        path: &str,
        rows: &[pb::ScheduleRow],
    ) -> Option<Vec<ScheduleRow>> {
        let read: Vec<Option<ScheduleRow>> = rows
            .iter()
            .enumerate()
            .map(|(index, row)| {
                let due_date = self.date(&format!("{path}[{index}].due_date"), &row.due_date);
                let amount = self.money(&format!("{path}[{index}].amount"), row.amount.as_ref());
                Some(ScheduleRow {
                    due_date: due_date?,
                    amount: amount?,
                })
            })
            .collect();
        read.into_iter().collect()
    }

    /// An early-payment discount: a percentage and a number of days (their bounds are the
    /// terms' rules).
    pub(crate) fn discount(
        &mut self,
        path: &str,
        discount: &pb::EarlyPaymentDiscount,
    ) -> Option<EarlyPaymentDiscount> {
        let percent = self.check(
            &format!("{path}.percent"),
            discount.percent.trim().parse::<Decimal>(),
        )?;
        Some(EarlyPaymentDiscount {
            percent,
            within_days: discount.within_days,
        })
    }

    /// A required choice: a known value other than UNSPECIFIED (which `map` maps to `None`).
    pub(crate) fn enumeration<T, P>(
        &mut self,
        path: &str,
        value: i32,
        map: impl Fn(P) -> Option<T>,
    ) -> Option<T>
    where
        P: TryFrom<i32>,
    {
        match P::try_from(value) {
            Err(_) => {
                self.violation(path, format!("{value} is not a known value"));
                None
            }
            Ok(known) => {
                let mapped = map(known);
                if mapped.is_none() {
                    self.violation(path, "is required (UNSPECIFIED is not a choice)");
                }
                mapped
            }
        }
    }

    /// An optional choice: any known value, UNSPECIFIED included (`map` gives its meaning).
    pub(crate) fn known<T, P>(&mut self, path: &str, value: i32, map: impl Fn(P) -> T) -> Option<T>
    where
        P: TryFrom<i32>,
    {
        match P::try_from(value) {
            Ok(known) => Some(map(known)),
            Err(_) => {
                self.violation(path, format!("{value} is not a known value"));
                None
            }
        }
    }

    /// A non-negative decimal string, or `default` when empty.
    pub(crate) fn decimal(&mut self, path: &str, text: &str, default: Decimal) -> Option<Decimal> {
        if text.is_empty() {
            return Some(default);
        }
        match Decimal::from_str_exact(text) {
            Ok(value) if value >= Decimal::ZERO => Some(value),
            _ => {
                self.violation(
                    path,
                    format!("{text:?} is not a non-negative decimal number"),
                );
                None
            }
        }
    }
}
