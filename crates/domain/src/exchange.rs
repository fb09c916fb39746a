//! Exchange rates to the group's currency, and conversion of amounts by them.
//!
//! The group's treasury publishes, for a date, how many units of the group's currency (the
//! base) one unit of each other currency is worth (`account/exchange_rates.rs`). The rate of a
//! currency on a date is the one published for the latest date on or before it (among
//! publications for the same date, the later recorded); the base's rate is 1 on every date. A
//! currency with no rate on or before a date cannot be converted on it, which is an error the
//! caller states, never a guess.
//!
//! Converting an amount from currency `c` to currency `t` on a date uses the cross rate
//! `rate(c) / rate(t)`, rounded half away from zero to [`RATE_DECIMALS_MAX`] places, and the
//! converted amount is `amount x cross rate` rounded half away from zero to `t`'s minor units:
//! anyone holding the cross rate and the amount can recompute the converted amount.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::limits::{RATE_DECIMALS_MAX, RATE_MAX};
use crate::money::{Currency, Money};

/// A rate: units of one currency per unit of another, strictly positive, at most
/// [`RATE_MAX`], with at most [`RATE_DECIMALS_MAX`] decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Rate(Decimal);

impl Rate {
    pub fn new(value: Decimal) -> Result<Rate, String> {
        if value <= Decimal::ZERO {
            return Err(format!("must be greater than zero, got {value}"));
        }
        if value > Decimal::from(RATE_MAX) {
            return Err(format!("at most {RATE_MAX}, got {value}"));
        }
        if value.scale() > RATE_DECIMALS_MAX {
            return Err(format!(
                "at most {RATE_DECIMALS_MAX} decimal places, got {value}"
            ));
        }
        Ok(Rate(value))
    }

    /// A rate written as a plain decimal (`7.1234`).
    pub fn parse(text: &str) -> Result<Rate, String> {
        let value: Decimal = text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a decimal number"))?;
        if text.trim().contains(['e', 'E']) {
            return Err(format!("{text:?} is not a plain decimal number"));
        }
        Rate::new(value)
    }

    /// The rate of the base currency itself.
    pub fn one() -> Rate {
        Rate(Decimal::ONE)
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Rate {
    type Error = String;

    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Rate::new(value)
    }
}

impl From<Rate> for Decimal {
    fn from(rate: Rate) -> Decimal {
        rate.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One currency's rate to the base: one unit of `currency` is worth `rate` units of the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRate {
    pub currency: Currency,
    pub rate: Rate,
}

/// No rate of `currency` was published for `date` or any day before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no exchange rate of {currency} to {base} on or before {date}")]
pub struct MissingRate {
    pub currency: Currency,
    pub base: Currency,
    pub date: NaiveDate,
}

/// An amount converted: what it was, the cross rate used, and what it became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    pub from: Money,
    pub rate: Rate,
    pub to: Money,
}

/// The rates the group has published, by currency and date (the group's own account keeps
/// them; the command service hands a copy to the decisions that convert).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRates {
    /// The group's currency, set by the first publication; every later one must name it.
    pub(crate) base: Option<Currency>,
    pub(crate) rates: BTreeMap<Currency, BTreeMap<NaiveDate, Rate>>,
}

impl ExchangeRates {
    /// The group's currency, once rates were published.
    pub fn base(&self) -> Option<Currency> {
        self.base
    }

    /// Records rates published for `date` (a later publication for a date replaces the rate),
    /// as the group's account does when it applies a publication.
    pub fn publish(&mut self, base: Currency, date: NaiveDate, rates: &[ExchangeRate]) {
        self.base = Some(base);
        for rate in rates {
            self.rates
                .entry(rate.currency)
                .or_default()
                .insert(date, rate.rate);
        }
    }

    /// The rate of `currency` to the base on `date`: the latest published on or before it; 1
    /// for the base itself.
    pub fn rate_on(&self, currency: Currency, date: NaiveDate) -> Result<Rate, MissingRate> {
        let missing = || MissingRate {
            currency,
            base: self.base.unwrap_or(currency),
            date,
        };
        let base = self.base.ok_or_else(missing)?;
        if currency == base {
            return Ok(Rate::one());
        }
        self.rates
            .get(&currency)
            .and_then(|by_date| by_date.range(..=date).next_back())
            .map(|(_, rate)| *rate)
            .ok_or_else(missing)
    }

    /// The cross rate from `from` to `to` on `date` (see the module's documentation).
    pub fn cross_rate(
        &self,
        from: Currency,
        to: Currency,
        date: NaiveDate,
    ) -> Result<Rate, MissingRate> {
        if from == to {
            return Ok(Rate::one());
        }
        let (from_rate, to_rate) = (self.rate_on(from, date)?, self.rate_on(to, date)?);
        if self.base == Some(to) {
            // To the base, the rate as published, written as it was.
            return Ok(from_rate);
        }
        let cross = (from_rate.value() / to_rate.value())
            .round_dp_with_strategy(RATE_DECIMALS_MAX, RoundingStrategy::MidpointAwayFromZero);
        // Two rates within bounds give a cross rate within them unless it rounds to nothing
        // (a currency worth less than 10^-10 of the other), which no real pair is.
        Rate::new(cross).map_err(|_| MissingRate {
            currency: from,
            base: to,
            date,
        })
    }

    /// `amount` in `to` on `date` (see the module's documentation).
    pub fn convert(
        &self,
        amount: Money,
        to: Currency,
        date: NaiveDate,
    ) -> Result<Converted, MissingRate> {
        let rate = self.cross_rate(amount.currency(), to, date)?;
        Ok(Converted {
            from: amount,
            rate,
            to: convert_at(amount.amount(), rate, to),
        })
    }
}

/// `amount x rate` in `to`, rounded half away from zero to `to`'s minor units.
pub fn convert_at(amount: Decimal, rate: Rate, to: Currency) -> Money {
    let value = (amount * rate.value())
        .round_dp_with_strategy(to.minor_units(), RoundingStrategy::MidpointAwayFromZero);
    Money::of(value, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn rate(text: &str) -> Rate {
        Rate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn published() -> ExchangeRates {
        let mut rates = ExchangeRates::default();
        let (cny, usd, eur, jpy) = (
            currency("CNY"),
            currency("USD"),
            currency("EUR"),
            currency("JPY"),
        );
        rates.publish(
            cny,
            date("2026-03-01"),
            &[
                ExchangeRate {
                    currency: usd,
                    rate: rate("7.1000"),
                },
                ExchangeRate {
                    currency: eur,
                    rate: rate("7.8000"),
                },
            ],
        );
        rates.publish(
            cny,
            date("2026-03-15"),
            &[
                ExchangeRate {
                    currency: usd,
                    rate: rate("7.2000"),
                },
                ExchangeRate {
                    currency: jpy,
                    rate: rate("0.0480"),
                },
            ],
        );
        rates
    }

    #[test]
    fn rates_are_positive_bounded_and_plain() {
        assert!(Rate::parse("7.1234567890").is_ok());
        assert!(Rate::parse("0").is_err());
        assert!(Rate::parse("-7.1").is_err());
        assert!(Rate::parse("7.12345678901").is_err());
        assert!(Rate::parse("1e3").is_err());
        assert!(Rate::parse("1000000001").is_err());
        assert!(Rate::parse("seven").is_err());
    }

    #[test]
    fn the_latest_rate_on_or_before_the_date_applies() {
        let rates = published();
        let usd = currency("USD");
        assert_eq!(rates.rate_on(usd, date("2026-03-01")), Ok(rate("7.1000")));
        assert_eq!(rates.rate_on(usd, date("2026-03-14")), Ok(rate("7.1000")));
        assert_eq!(rates.rate_on(usd, date("2026-03-15")), Ok(rate("7.2000")));
        assert_eq!(rates.rate_on(usd, date("2026-12-31")), Ok(rate("7.2000")));
        assert_eq!(
            rates.rate_on(usd, date("2026-02-28")),
            Err(MissingRate {
                currency: usd,
                base: currency("CNY"),
                date: date("2026-02-28")
            })
        );
        // JPY was first published on 03-15; the base is 1 on any date.
        assert!(rates.rate_on(currency("JPY"), date("2026-03-14")).is_err());
        assert_eq!(
            rates.rate_on(currency("CNY"), date("1999-01-01")),
            Ok(Rate::one())
        );
        // Nothing published at all: nothing converts, not even to itself by the base.
        assert!(
            ExchangeRates::default()
                .rate_on(usd, date("2026-03-01"))
                .is_err()
        );
    }

    #[test]
    fn amounts_convert_to_the_base_and_across_by_hand() {
        let rates = published();
        let (cny, usd, eur, jpy) = (
            currency("CNY"),
            currency("USD"),
            currency("EUR"),
            currency("JPY"),
        );
        let on = date("2026-03-20");
        // 1,234.56 USD x 7.2 = 8,888.832 -> 8,888.83 CNY.
        let converted = rates
            .convert(Money::of("1234.56".parse().unwrap(), usd), cny, on)
            .unwrap();
        assert_eq!(converted.rate, rate("7.2"));
        assert_eq!(converted.to.to_string(), "8888.83 CNY");
        // EUR to USD: 7.8 / 7.2 = 1.083333333333... -> 1.0833333333; 100.00 EUR -> 108.33 USD.
        let converted = rates
            .convert(Money::of("100.00".parse().unwrap(), eur), usd, on)
            .unwrap();
        assert_eq!(converted.rate, rate("1.0833333333"));
        assert_eq!(converted.to.to_string(), "108.33 USD");
        // 10,000 JPY x 0.048 = 480.00 CNY; CNY to JPY: 1 / 0.048 = 20.8333333333.
        let converted = rates
            .convert(Money::of("10000".parse().unwrap(), jpy), cny, on)
            .unwrap();
        assert_eq!(converted.to.to_string(), "480.00 CNY");
        let converted = rates
            .convert(Money::of("1.00".parse().unwrap(), cny), jpy, on)
            .unwrap();
        assert_eq!(converted.rate, rate("20.8333333333"));
        assert_eq!(converted.to.to_string(), "21 JPY");
        // Half away from zero: 0.005 x 1 stays; -0.125 USD x 7.2 = -0.9 CNY.
        assert_eq!(
            convert_at("-0.125".parse().unwrap(), rate("7.2"), cny).to_string(),
            "-0.90 CNY"
        );
        assert_eq!(
            convert_at("0.0625".parse().unwrap(), rate("1"), cny).to_string(),
            "0.06 CNY"
        );
        assert_eq!(
            convert_at("0.065".parse().unwrap(), rate("1"), cny).to_string(),
            "0.07 CNY"
        );
    }

    #[test]
    fn a_republished_date_replaces_its_rate() {
        let mut rates = published();
        let usd = currency("USD");
        rates.publish(
            currency("CNY"),
            date("2026-03-15"),
            &[ExchangeRate {
                currency: usd,
                rate: rate("7.1900"),
            }],
        );
        assert_eq!(rates.rate_on(usd, date("2026-03-16")), Ok(rate("7.1900")));
    }
}
