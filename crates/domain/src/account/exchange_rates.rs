//! Exchange rates: the group's treasury publishes, for a date, the rates of other currencies to
//! the group's currency (`exchange.rs` says how they are looked up and applied).
//!
//! Rates are a setting of the whole group, so they are events of the group's own account
//! ([`crate::ids::CustomerId::group`]): who published which rate when stays on record, and a
//! credit check that converted an exposure names the rate it used. The first publication fixes
//! the group's currency (the base); a publication naming another base is refused, since every
//! stored rate would change meaning. Publishing a date again corrects its rates: the later
//! publication's rate applies for that date from then on, for the decisions made after it.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules, Scope};
use super::state::AccountState;
use crate::exchange::ExchangeRate;
use crate::ids::{CommandId, SubsidiaryId};
use crate::limits::{RATES_PER_PUBLICATION_MAX, REFERENCE_LENGTH_MAX};
use crate::money::Currency;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{InvalidEvent, business_date, check_text, free_text, invalid};

/// Publish the rates of `rate_date`: one unit of each currency is worth `rate` units of `base`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishExchangeRates {
    pub base: Currency,
    pub rate_date: NaiveDate,
    pub rates: Vec<ExchangeRate>,
    /// Where the rates come from (`PBOC central parity`, `ECB reference`); may be empty.
    pub source: String,
}

/// The rates of `rate_date` to `base` were published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRatesPublished {
    pub base: Currency,
    pub rate_date: NaiveDate,
    pub rates: Vec<ExchangeRate>,
    pub source: String,
}

/// The rules of a publication's list of rates: at least one, at most
/// [`RATES_PER_PUBLICATION_MAX`], each currency once, never the base (its rate is 1). Shared
/// with the wire mapping; each violation names `rates[i].currency` or `rates`.
pub fn check_rates(violations: &mut Vec<FieldViolation>, base: Currency, rates: &[Currency]) {
    if rates.is_empty() {
        violations.push(FieldViolation::new(
            "rates",
            "at least one rate is required",
        ));
    } else if rates.len() > RATES_PER_PUBLICATION_MAX {
        violations.push(FieldViolation::new(
            "rates",
            format!(
                "at most {RATES_PER_PUBLICATION_MAX} rates, got {}",
                rates.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for (index, currency) in rates.iter().enumerate() {
        if *currency == base {
            violations.push(FieldViolation::new(
                format!("rates[{index}].currency"),
                format!("{base} is the base: its rate is 1"),
            ));
        } else if !seen.insert(*currency) {
            violations.push(FieldViolation::new(
                format!("rates[{index}].currency"),
                format!("{currency} is listed twice"),
            ));
        }
    }
}

impl CommandRules for PublishExchangeRates {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        let currencies: Vec<Currency> = self.rates.iter().map(|r| r.currency).collect();
        check_rates(&mut violations, self.base, &currencies);
        check_text(
            &mut violations,
            "source",
            &self.source,
            REFERENCE_LENGTH_MAX,
        );
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.rate_date
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

impl Decide for PublishExchangeRates {
    type Event = ExchangeRatesPublished;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<ExchangeRatesPublished, Refusal> {
        if let Some(base) = state.exchange_rates().base()
            && base != self.base
        {
            return Err(Refusal::precondition(
                Reason::BaseCurrencyMismatch,
                vec![PreconditionViolation {
                    kind: Reason::BaseCurrencyMismatch,
                    subject: "group/exchange_rates/base".to_owned(),
                    description: format!(
                        "the group's rates are to {base}, not {}: every rate is published to \
                         the group's currency",
                        self.base
                    ),
                }],
            )
            .with_metadata("base", base));
        }
        Ok(ExchangeRatesPublished {
            base: self.base,
            rate_date: self.rate_date,
            rates: self.rates.clone(),
            source: self.source.clone(),
        })
    }
}

impl EventRules for ExchangeRatesPublished {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("rate_date", self.rate_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        business_date("data.rate_date", self.rate_date)?;
        let mut violations = Vec::new();
        let currencies: Vec<Currency> = self.rates.iter().map(|r| r.currency).collect();
        check_rates(&mut violations, self.base, &currencies);
        if let Some(violation) = violations.first() {
            return Err(invalid(
                format!("data.{}", violation.field),
                &violation.description,
            ));
        }
        free_text("data.source", &self.source, REFERENCE_LENGTH_MAX)
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        if let Some(base) = state.exchange_rates.base()
            && base != self.base
        {
            return Err(format!(
                "publishes rates to {}, but the group's rates are to {base}",
                self.base
            ));
        }
        // Shared with the decisions that convert (`DecisionContext::rates`): copied only here.
        Arc::make_mut(&mut state.exchange_rates).publish(self.base, self.rate_date, &self.rates);
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

#[cfg(feature = "testing")]
impl ExchangeRatesPublished {
    /// A valid publication for tests: 1 USD = 7.1 CNY on 2026-06-30.
    pub fn sample() -> Self {
        ExchangeRatesPublished {
            base: Currency::parse("CNY").expect("a currency"),
            rate_date: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"),
            rates: vec![ExchangeRate {
                currency: Currency::parse("USD").expect("a currency"),
                rate: crate::exchange::Rate::parse("7.1").expect("a rate"),
            }],
            source: "PBOC central parity".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> PublishExchangeRates {
        PublishExchangeRates {
            base: self.base,
            rate_date: self.rate_date,
            rates: self.rates.clone(),
            source: self.source.clone(),
        }
    }
}
