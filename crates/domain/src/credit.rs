//! Credit control: the group-wide limit of a customer, its policy and grade, and the check an
//! invoice must pass.
//!
//! Exposure is open invoices minus unapplied cash and credit, plus the credit reserved for
//! orders not yet invoiced (`account/credit_reservation.rs`), across all subsidiaries. The limit
//! is set in one currency and covers the customer's business in every currency: exposure in
//! another currency counts converted into the limit's at the rates of the invoice's issue date
//! (`exchange.rs`), and an invoice that cannot be converted (no rate) is refused under a limit.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::money::Money;

/// What happens to an invoice that would take exposure above the limit. Its name (`BLOCK`,
/// `WARN`) is the same in events and in read models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum CreditPolicy {
    /// Refuse the invoice.
    Block,
    /// Accept the invoice and flag it as over the limit.
    Warn,
}

/// The credit department's grade of a customer (`A` to `D`, in events and read models alike).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
)]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum CreditGrade {
    A,
    B,
    C,
    D,
}

impl CreditPolicy {
    /// The name events and read models store.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl CreditGrade {
    /// The name events and read models store.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The credit terms in force for a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditTerms {
    pub limit: Money,
    pub policy: CreditPolicy,
    pub grade: CreditGrade,
    /// The overdue hold: while the customer owes anything more than this many days overdue,
    /// new invoices and credit reservations are refused (`CUSTOMER_OVERDUE`), whatever the
    /// limit; `None`: no hold.
    pub overdue_hold_days: Option<u32>,
}

/// The outcome of checking one invoice against the credit terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditCheck {
    /// No limit is set for the customer: nothing to check.
    NoLimit,
    /// Within the limit.
    Within { exposure_after: Decimal },
    /// Above the limit.
    Over {
        policy: CreditPolicy,
        limit: Money,
        exposure_before: Decimal,
        exposure_after: Decimal,
    },
}

impl CreditCheck {
    /// Checks an invoice against `terms`, given the customer's exposure before and after it,
    /// both in the limit's currency (every currency converted, `account/invoice.rs`).
    pub fn evaluate(
        terms: Option<&CreditTerms>,
        exposure_before: Decimal,
        exposure_after: Decimal,
    ) -> Self {
        let Some(terms) = terms else {
            return CreditCheck::NoLimit;
        };
        if exposure_after > terms.limit.amount() {
            CreditCheck::Over {
                policy: terms.policy,
                limit: terms.limit,
                exposure_before,
                exposure_after,
            }
        } else {
            CreditCheck::Within { exposure_after }
        }
    }

    /// The amount by which the limit would be exceeded, in the limit's currency.
    pub fn shortfall(&self) -> Option<Money> {
        match self {
            CreditCheck::Over {
                limit,
                exposure_after,
                ..
            } => Some(Money::of(
                *exposure_after - limit.amount(),
                limit.currency(),
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator as _;

    use super::*;

    #[test]
    fn stored_names_are_the_names_in_events() {
        for policy in CreditPolicy::iter() {
            let encoded = serde_json::to_value(policy).expect("a name");
            assert_eq!(encoded.as_str(), Some(policy.as_str()));
            assert_eq!(policy.as_str().parse::<CreditPolicy>(), Ok(policy));
        }
        for grade in CreditGrade::iter() {
            let encoded = serde_json::to_value(grade).expect("a name");
            assert_eq!(encoded.as_str(), Some(grade.as_str()));
            assert_eq!(grade.as_str().parse::<CreditGrade>(), Ok(grade));
        }
        assert_eq!(CreditPolicy::Block.as_str(), "BLOCK");
        assert_eq!(CreditGrade::D.as_str(), "D");
        assert!("block".parse::<CreditPolicy>().is_err());
    }
}
