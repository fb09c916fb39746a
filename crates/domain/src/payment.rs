//! How a payment arrived.

use serde::{Deserialize, Serialize};

/// The channel a payment came through; collectors and reconciliation treat them differently
/// (a cheque can bounce, an Alipay transfer cannot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
