//! How a payment arrived.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

/// The channel a payment came through; collectors and reconciliation treat them differently
/// (a cheque can bounce, an Alipay transfer cannot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    BankTransfer,
    Alipay,
    WechatPay,
    UnionPay,
    Card,
    Cash,
    Cheque,
    Other,
}

impl PaymentMethod {
    /// The name events and read models store (`BANK_TRANSFER`, `ALIPAY`, ...).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator as _;

    use super::*;

    #[test]
    fn stored_names_are_the_names_in_events() {
        for method in PaymentMethod::iter() {
            let encoded = serde_json::to_value(method).expect("a name");
            assert_eq!(encoded.as_str(), Some(method.as_str()));
            assert_eq!(method.as_str().parse::<PaymentMethod>(), Ok(method));
        }
        assert_eq!(PaymentMethod::WechatPay.as_str(), "WECHAT_PAY");
    }
}
