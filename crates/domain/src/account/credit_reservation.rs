//! Credit reservations: a subsidiary's order system reserves part of the customer's group-wide
//! limit when it accepts a sales order (下单), before the goods ship and the invoice is posted,
//! so that two subsidiaries cannot each accept an order that only one of them fits under the
//! limit. Two commands and two events: `ReserveCredit` → `CreditReserved`, and
//! `ReleaseCredit` → `CreditReleased` for an order cancelled or shrunk.
//!
//! - A reservation names its order by the subsidiary's order number, unique per subsidiary
//!   across all customers (reserved in the event log like an invoice number). It goes through
//!   the invoice's credit check (`credit_check.rs`): refused under `block` when it would take
//!   exposure above the limit, flagged under `warn`, refused by the overdue hold.
//! - It counts in the exposure from the day it is made up to and including its expiry date
//!   (at most [`RESERVATION_DAYS_MAX`] days later), and stops counting from the day after.
//! - An invoice of the same subsidiary may name the order (`invoice.rs`): the reservation
//!   shrinks by the invoice's amount (by what it still holds, if that is less) from the issue
//!   date, and the invoice's check counts that part as already inside the exposure. Invoices
//!   may consume a reservation in parts.
//! - A release takes all or part of what it still holds off, with a reason.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::credit_check::{self, Commitment, CreditCheckRecord};
use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::{AccountState, ReservationState};
use crate::ids::{CommandId, NumberKey, OrderKey, OrderNumber, SubsidiaryId};
use crate::limits::{REASON_LENGTH_MAX, RESERVATION_DAYS_MAX};
use crate::money::Money;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_positive, check_required_text, invalid,
    positive, required_text,
};

/// A subsidiary reserves credit for a sales order it accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveCredit {
    pub subsidiary_id: SubsidiaryId,
    pub order_number: OrderNumber,
    pub amount: Money,
    pub reserved_on: NaiveDate,
    /// The last day it counts; it stops counting from the day after.
    pub expires_on: NaiveDate,
}

impl ReserveCredit {
    pub fn key(&self) -> OrderKey {
        OrderKey {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
        }
    }
}

/// The expiry date against the reservation's date: not before it, and at most
/// [`RESERVATION_DAYS_MAX`] days after. Shared with the wire mapping.
pub fn check_expiry(
    violations: &mut Vec<FieldViolation>,
    reserved_on: NaiveDate,
    expires_on: NaiveDate,
) {
    if expires_on < reserved_on {
        violations.push(FieldViolation::new(
            "expires_on",
            format!("{expires_on} is before the reservation's date {reserved_on}"),
        ));
    } else if reserved_on
        .checked_add_days(Days::new(u64::from(RESERVATION_DAYS_MAX)))
        .is_some_and(|latest| expires_on > latest)
    {
        violations.push(FieldViolation::new(
            "expires_on",
            format!(
                "at most {RESERVATION_DAYS_MAX} days after the reservation's date {reserved_on}, \
                 got {expires_on}"
            ),
        ));
    }
}

/// Credit was reserved for a sales order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditReserved {
    pub subsidiary_id: SubsidiaryId,
    pub order_number: OrderNumber,
    pub amount: Money,
    pub reserved_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// Accepted under a `warn` policy although it took exposure above the limit.
    pub over_limit: bool,
    /// The check against the limit; absent when the customer had no limit.
    pub credit_check: Option<CreditCheckRecord>,
}

impl CreditReserved {
    pub fn key(&self) -> OrderKey {
        OrderKey {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
        }
    }
}

impl CommandRules for ReserveCredit {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_expiry(&mut violations, self.reserved_on, self.expires_on);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.reserved_on
    }

    fn reserves(&self) -> Option<NumberKey> {
        Some(NumberKey::Order(self.key()))
    }

    fn needs_group_settings(&self, state: &AccountState) -> bool {
        credit_check::converts(state, self.amount.currency(), self.reserved_on)
    }
}

impl Decide for ReserveCredit {
    type Event = CreditReserved;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<CreditReserved, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "reserved_on", self.reserved_on, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let key = self.key();
        if account.reservations.contains_key(&key) {
            return Err(Refusal::already_exists(
                Reason::DuplicateOrderNumber,
                format!(
                    "{key} already has credit reserved for customer {}",
                    account.customer_id
                ),
            )
            .with_metadata("subsidiary_id", &key.subsidiary_id)
            .with_metadata("order_number", &key.order_number));
        }
        let (over_limit, credit_check) = credit_check::check(
            account,
            &Commitment {
                kind: "reservation",
                amount: self.amount,
                adds: self.amount.amount(),
                date: self.reserved_on,
                rates: &context.rates,
            },
        )?;
        Ok(CreditReserved {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
            amount: self.amount,
            reserved_on: self.reserved_on,
            expires_on: self.expires_on,
            over_limit,
            credit_check,
        })
    }
}

impl EventRules for CreditReserved {
    fn takes_number(&self) -> Option<NumberKey> {
        Some(NumberKey::Order(self.key()))
    }

    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("reservation date", self.reserved_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.reserved_on", self.reserved_on)?;
        business_date("data.expires_on", self.expires_on)?;
        let mut violations = Vec::new();
        check_expiry(&mut violations, self.reserved_on, self.expires_on);
        if let Some(violation) = violations.first() {
            return Err(invalid("data.expires_on", &violation.description));
        }
        if let Some(check) = &self.credit_check
            && check.exposure_after.currency() != check.limit.currency()
        {
            return Err(invalid(
                "data.credit_check.exposure_after",
                "is not in the limit's currency",
            ));
        }
        let warned = self
            .credit_check
            .as_ref()
            .is_some_and(|check| check.policy == crate::credit::CreditPolicy::Warn);
        if self.over_limit && !warned {
            return Err(invalid(
                "data.over_limit",
                "only a reservation checked under policy WARN goes over the limit",
            ));
        }
        Ok(())
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let key = self.key();
        if account.reservations.contains_key(&key) {
            return Err(format!("{key} reserved twice"));
        }
        if self.amount.amount() <= Decimal::ZERO || self.expires_on < self.reserved_on {
            return Err(format!("{key} has a bad amount or expiry date"));
        }
        let reservation = ReservationState::new(
            key.clone(),
            self.amount,
            self.reserved_on,
            self.expires_on,
            self.over_limit,
        );
        account.reservations.insert(key, reservation);
        Ok(())
    }
}

/// The subsidiary releases all or part of the credit reserved for an order (cancelled or
/// shrunk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseCredit {
    pub subsidiary_id: SubsidiaryId,
    pub order_number: OrderNumber,
    /// What to release; `None`: everything it holds on `released_on` and after.
    pub amount: Option<Money>,
    pub released_on: NaiveDate,
    pub reason: String,
}

impl ReleaseCredit {
    pub fn key(&self) -> OrderKey {
        OrderKey {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
        }
    }
}

/// Credit reserved for an order was released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditReleased {
    pub subsidiary_id: SubsidiaryId,
    pub order_number: OrderNumber,
    /// What was released.
    pub amount: Money,
    pub released_on: NaiveDate,
    pub reason: String,
    /// What the reservation still holds after the release.
    #[serde(with = "crate::money::derived")]
    pub remaining: Money,
}

impl CreditReleased {
    pub fn key(&self) -> OrderKey {
        OrderKey {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
        }
    }
}

impl CommandRules for ReleaseCredit {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        if let Some(amount) = &self.amount {
            check_positive(&mut violations, "amount", amount);
        }
        check_required_text(&mut violations, "reason", &self.reason, REASON_LENGTH_MAX);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.released_on
    }
}

impl Decide for ReleaseCredit {
    type Event = CreditReleased;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<CreditReleased, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "released_on", self.released_on, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let key = self.key();
        let reservation = reservation_of(account, &key)?;
        if let Some(amount) = &self.amount
            && amount.currency() != reservation.amount.currency()
        {
            return Err(refusal(
                Reason::CurrencyMismatch,
                &key,
                format!(
                    "the release is in {}, the reservation in {}",
                    amount.currency(),
                    reservation.amount.currency()
                ),
            ));
        }
        let available = open_on(reservation, self.released_on, "a release")?;
        let amount = match self.amount {
            None => available,
            Some(amount) if amount.amount() > available.amount() => {
                return Err(refusal(
                    Reason::ReleaseExceedsReservation,
                    &key,
                    format!(
                        "releases {amount} but it holds {available} on {} and after",
                        self.released_on
                    ),
                )
                .with_metadata("amount", amount.amount())
                .with_metadata("open", available.amount())
                .with_metadata("currency", amount.currency()));
            }
            Some(amount) => amount,
        };
        Ok(CreditReleased {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
            amount,
            released_on: self.released_on,
            reason: self.reason.clone(),
            remaining: Money::of(
                reservation.open - amount.amount(),
                reservation.amount.currency(),
            ),
        })
    }
}

impl EventRules for CreditReleased {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("release date", self.released_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.released_on", self.released_on)?;
        required_text("data.reason", &self.reason, REASON_LENGTH_MAX)?;
        if self.remaining.currency() != self.amount.currency()
            || self.remaining.amount() < Decimal::ZERO
        {
            return Err(invalid(
                "data.remaining",
                "is negative or not in the release's currency",
            ));
        }
        Ok(())
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let key = self.key();
        let reservation = account
            .reservations
            .get_mut(&key)
            .ok_or_else(|| format!("{key} released but never reserved"))?;
        if reservation.amount.currency() != self.amount.currency() {
            return Err(format!("{key} released in another currency"));
        }
        if reservation.open - self.amount.amount() != self.remaining.amount() {
            return Err(format!(
                "{key} holds {} after the release, not the {} the event says",
                reservation.open - self.amount.amount(),
                self.remaining
            ));
        }
        reservation.take(self.released_on, self.amount.amount())?;
        reservation.released += self.amount.amount();
        Ok(())
    }
}

/// What an invoice took off the credit reserved for its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationConsumed {
    /// The order, of the invoice's subsidiary.
    pub order_number: OrderNumber,
    /// The invoice's amount, or what the reservation still held if that was less.
    pub amount: Money,
}

/// What an invoice of `amount` dated `date` takes off the reservation of `subsidiary`'s
/// `order`; refused when there is none, it is in another currency, or it holds nothing on that
/// date (not made yet, expired, consumed or released).
pub(super) fn consumption(
    account: &AccountState,
    subsidiary: &SubsidiaryId,
    order: &OrderNumber,
    amount: Money,
    date: NaiveDate,
) -> Result<ReservationConsumed, Refusal> {
    let key = OrderKey {
        subsidiary_id: subsidiary.clone(),
        order_number: order.clone(),
    };
    let reservation = reservation_of(account, &key)?;
    if amount.currency() != reservation.amount.currency() {
        return Err(refusal(
            Reason::CurrencyMismatch,
            &key,
            format!(
                "the invoice is in {}, the reservation in {}",
                amount.currency(),
                reservation.amount.currency()
            ),
        ));
    }
    if date > reservation.expires_on {
        return Err(refusal(
            Reason::ReservationNotOpen,
            &key,
            format!(
                "it expired on {}, before the invoice's issue date {date}",
                reservation.expires_on
            ),
        )
        .with_metadata("expires_on", reservation.expires_on));
    }
    let available = open_on(reservation, date, "an invoice")?;
    Ok(ReservationConsumed {
        order_number: order.clone(),
        amount: if amount.amount() < available.amount() {
            amount
        } else {
            available
        },
    })
}

/// Takes what an invoice consumed off its order's reservation, from the issue date.
pub(super) fn consume(
    account: &mut AccountState,
    subsidiary: &SubsidiaryId,
    consumed: &ReservationConsumed,
    date: NaiveDate,
) -> Result<(), String> {
    let key = OrderKey {
        subsidiary_id: subsidiary.clone(),
        order_number: consumed.order_number.clone(),
    };
    let reservation = account
        .reservations
        .get_mut(&key)
        .ok_or_else(|| format!("an invoice consumes {key}, which was never reserved"))?;
    if reservation.amount.currency() != consumed.amount.currency() {
        return Err(format!("an invoice consumes {key} in another currency"));
    }
    reservation.take(date, consumed.amount.amount())?;
    reservation.consumed += consumed.amount.amount();
    Ok(())
}

/// The reservation a command names, or the refusal naming it.
fn reservation_of<'a>(
    account: &'a AccountState,
    key: &OrderKey,
) -> Result<&'a ReservationState, Refusal> {
    account.reservation(key).ok_or_else(|| {
        refusal(
            Reason::ReservationNotFound,
            key,
            format!(
                "customer {} has no credit reserved for it",
                account.customer_id
            ),
        )
    })
}

/// What the reservation holds on `date` and after, for `what` taking from it then; refused
/// when that is nothing, or `date` is before it was made.
fn open_on(reservation: &ReservationState, date: NaiveDate, what: &str) -> Result<Money, Refusal> {
    if date < reservation.reserved_on {
        return Err(refusal(
            Reason::ReservationNotOpen,
            &reservation.key,
            format!(
                "it was made on {}, after {what} dated {date}",
                reservation.reserved_on
            ),
        )
        .with_metadata("reserved_on", reservation.reserved_on));
    }
    let available = reservation.available_on(date);
    if available <= Decimal::ZERO {
        return Err(refusal(
            Reason::ReservationNotOpen,
            &reservation.key,
            format!(
                "it holds nothing on {date} and after: {} consumed by invoices, {} released",
                Money::of(reservation.consumed, reservation.amount.currency()),
                Money::of(reservation.released, reservation.amount.currency()),
            ),
        ));
    }
    Ok(Money::of(available, reservation.amount.currency()))
}

/// A refusal of `reason` about one reservation.
fn refusal(reason: Reason, subject: &OrderKey, description: String) -> Refusal {
    Refusal::precondition(
        reason,
        vec![PreconditionViolation {
            kind: reason,
            subject: subject.to_string(),
            description,
        }],
    )
    .with_metadata("subsidiary_id", &subject.subsidiary_id)
    .with_metadata("order_number", &subject.order_number)
}

#[cfg(feature = "testing")]
impl CreditReserved {
    /// A valid reservation for tests: 500.00 CNY for `SUB-A`'s order `SO-1`, made 2026-06-02
    /// and expiring 2026-06-30, no credit check.
    pub fn sample() -> Self {
        CreditReserved {
            subsidiary_id: SubsidiaryId::parse("SUB-A").expect("a subsidiary id"),
            order_number: OrderNumber::parse("SO-1").expect("an order number"),
            amount: Money::cny("500.00"),
            reserved_on: NaiveDate::from_ymd_opt(2026, 6, 2).expect("a date"),
            expires_on: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"),
            over_limit: false,
            credit_check: None,
        }
    }

    /// The command this event records.
    pub fn command(&self) -> ReserveCredit {
        ReserveCredit {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
            amount: self.amount,
            reserved_on: self.reserved_on,
            expires_on: self.expires_on,
        }
    }
}

#[cfg(feature = "testing")]
impl CreditReleased {
    /// A valid release for tests: 200.00 CNY of the sample reservation, on 2026-06-03.
    pub fn sample() -> Self {
        let reserved = CreditReserved::sample();
        CreditReleased {
            subsidiary_id: reserved.subsidiary_id,
            order_number: reserved.order_number,
            amount: Money::cny("200.00"),
            released_on: NaiveDate::from_ymd_opt(2026, 6, 3).expect("a date"),
            reason: "order shrunk".to_owned(),
            remaining: Money::cny("300.00"),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> ReleaseCredit {
        ReleaseCredit {
            subsidiary_id: self.subsidiary_id.clone(),
            order_number: self.order_number.clone(),
            amount: Some(self.amount),
            released_on: self.released_on,
            reason: self.reason.clone(),
        }
    }
}
