//! `GetAllowance`: the allowance for doubtful accounts by aging, per currency.

use std::collections::BTreeMap;

use receivables_domain::metrics::{AllowanceEntry, LOSS_RATE_PERCENT_MAX, LOSS_RATE_PERCENT_MIN};
use receivables_domain::money::Money;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, Position, SubsidiaryId};
use receivables_projections::allowance::{AllowanceQuery, BUCKETS, CurrencyAllowance};
use rust_decimal::Decimal;

use crate::fields::Fields;
use crate::{pb, responses};

/// Most decimals of a loss rate: a hundredth of a basis point.
pub const LOSS_RATE_DECIMALS_MAX: u32 = 4;

/// Reads and validates a `GetAllowance` request; every bad field at once.
pub fn read(message: &pb::GetAllowanceRequest) -> Result<AllowanceQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let as_of = fields.as_of("as_of", &message.as_of);
    let subsidiary = fields.optional("subsidiary_id", &message.subsidiary_id, SubsidiaryId::parse);
    let customer = fields.optional("customer_id", &message.customer_id, CustomerId::parse);
    let mut rates = [Decimal::ZERO; BUCKETS.len()];
    if message.loss_rates.len() != BUCKETS.len() {
        fields.violation(
            "loss_rates",
            format!(
                "one loss rate per bucket ({}), got {}",
                BUCKETS.join(", "),
                message.loss_rates.len()
            ),
        );
    } else {
        for (index, text) in message.loss_rates.iter().enumerate() {
            match Decimal::from_str_exact(text) {
                Ok(rate)
                    if (LOSS_RATE_PERCENT_MIN..=LOSS_RATE_PERCENT_MAX).contains(&rate)
                        && rate.scale() <= LOSS_RATE_DECIMALS_MAX =>
                {
                    rates[index] = rate;
                }
                _ => fields.violation(
                    format!("loss_rates[{index}]"),
                    format!(
                        "{text:?} is not a percentage from 0 to 100 with at most \
                         {LOSS_RATE_DECIMALS_MAX} decimals"
                    ),
                ),
            }
        }
    }
    let mut balances = BTreeMap::new();
    for (index, money) in message.allowance_balances.iter().enumerate() {
        let path = format!("allowance_balances[{index}]");
        if let Some(balance) = fields.money_parsed(&path, Some(money), Money::signed)
            && balances
                .insert(balance.currency(), balance.amount())
                .is_some()
        {
            fields.violation(
                format!("{path}.currency"),
                format!("{} is given more than once", balance.currency()),
            );
        }
    }
    match (as_of, subsidiary, customer) {
        (Some(as_of), Some(subsidiary), Some(customer)) if fields.is_clean() => {
            Ok(AllowanceQuery {
                as_of,
                subsidiary,
                customer,
                loss_rates: rates,
                balances,
            })
        }
        _ => Err(fields.violations),
    }
}

/// The allowance as a reply.
pub fn answer(
    as_of: chrono::NaiveDate,
    allowances: Vec<CurrencyAllowance>,
    position: Position,
) -> pb::GetAllowanceResponse {
    pb::GetAllowanceResponse {
        as_of: responses::date(as_of),
        currencies: allowances
            .into_iter()
            .map(
                |CurrencyAllowance {
                     currency,
                     allowance,
                 }| {
                    let money =
                        |amount: Decimal| Some(responses::money(Money::of(amount, currency)));
                    pb::CurrencyAllowance {
                        currency: currency.code().to_owned(),
                        lines: allowance
                            .lines
                            .iter()
                            .map(|line| pb::AllowanceLine {
                                bucket: line.bucket.clone(),
                                balance: money(line.balance),
                                loss_rate: line.loss_rate_percent.normalize().to_string(),
                                provision: money(line.provision),
                            })
                            .collect(),
                        total_receivables: money(allowance.total_receivables),
                        required_allowance: money(allowance.required_allowance),
                        current_allowance_balance: money(allowance.current_allowance_balance),
                        adjustment: money(allowance.adjustment),
                        entry: match allowance.entry() {
                            AllowanceEntry::Charge(_) => "charge",
                            AllowanceEntry::Release(_) => "release",
                            AllowanceEntry::NoEntry => "none",
                        }
                        .to_owned(),
                        net_receivables: money(allowance.net_receivables),
                    }
                },
            )
            .collect(),
        position: position.get(),
    }
}
