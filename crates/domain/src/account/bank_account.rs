//! Bank accounts: the group registers one of its bank accounts before its statements are
//! imported (`receipt.rs`).
//!
//! A bank account is an aggregate of its own, a stream beside the customers'
//! ([`crate::ids::CustomerId::bank_account`]): its statement lines are decided there (imported
//! once, matched or excluded once), whoever imports them. The registration says which
//! subsidiary holds the account, so that the payments made of its receipts are that
//! subsidiary's (and a subsidiary's token imports only into its own accounts), in which
//! currency its statements are, and the number its statements name it by, so that a statement
//! of another account is refused rather than imported into this one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules, Scope};
use super::state::{AccountState, BankAccountRecord};
use crate::ids::{CommandId, SubsidiaryId};
use crate::limits::{BANK_ACCOUNT_NUMBER_LENGTH_MAX, CUSTOMER_NAME_LENGTH_MAX};
use crate::money::Currency;
use crate::refusal::{FieldViolation, Reason, Refusal};
use crate::rules::{InvalidEvent, check_required_text, invalid, required_text};

/// The group registers one of its bank accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterBankAccount {
    /// The subsidiary that holds the account.
    pub subsidiary_id: SubsidiaryId,
    /// The currency of its statements.
    pub currency: Currency,
    /// The account's number as its statements name it (an IBAN, a domestic number): compared
    /// with a statement's own, spaces and case aside ([`account_number_key`]).
    pub number: String,
    /// The bank, and the account's name, for people reading the review queue.
    pub bank: String,
    pub name: String,
}

/// The group registered one of its bank accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccountRegistered {
    pub subsidiary_id: SubsidiaryId,
    pub currency: Currency,
    pub number: String,
    pub bank: String,
    pub name: String,
}

/// An account number as compared: without spaces, dashes and case, as banks print them
/// differently (`CN12 3456 ...`, `6222-0210-...`).
pub fn account_number_key(number: &str) -> String {
    number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The registration's text fields. Shared with the wire mapping.
pub fn check_registration(
    violations: &mut Vec<FieldViolation>,
    number: &str,
    bank: &str,
    name: &str,
) {
    check_required_text(violations, "number", number, BANK_ACCOUNT_NUMBER_LENGTH_MAX);
    check_required_text(violations, "bank", bank, CUSTOMER_NAME_LENGTH_MAX);
    check_required_text(violations, "name", name, CUSTOMER_NAME_LENGTH_MAX);
}

impl CommandRules for RegisterBankAccount {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_registration(&mut violations, &self.number, &self.bank, &self.name);
        violations
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

impl Decide for RegisterBankAccount {
    type Event = BankAccountRegistered;

    /// An account is registered once: which subsidiary holds it and its currency are what its
    /// lines were imported and matched under.
    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<BankAccountRegistered, Refusal> {
        if let Some(account) = state.bank().account() {
            return Err(Refusal::already_exists(
                Reason::BankAccountAlreadyRegistered,
                format!(
                    "{} is registered already, held by {} in {}",
                    state.customer_id(),
                    account.subsidiary_id,
                    account.currency
                ),
            ));
        }
        Ok(BankAccountRegistered {
            subsidiary_id: self.subsidiary_id.clone(),
            currency: self.currency,
            number: self.number.trim().to_owned(),
            bank: self.bank.trim().to_owned(),
            name: self.name.trim().to_owned(),
        })
    }
}

impl EventRules for BankAccountRegistered {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        required_text("data.number", &self.number, BANK_ACCOUNT_NUMBER_LENGTH_MAX)?;
        required_text("data.bank", &self.bank, CUSTOMER_NAME_LENGTH_MAX)?;
        required_text("data.name", &self.name, CUSTOMER_NAME_LENGTH_MAX)?;
        if account_number_key(&self.number).is_empty() {
            return Err(invalid("data.number", "holds no digit or letter"));
        }
        Ok(())
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        if state.bank.account.is_some() {
            return Err("registers a bank account registered already".to_owned());
        }
        state.bank.account = Some(BankAccountRecord {
            subsidiary_id: self.subsidiary_id.clone(),
            currency: self.currency,
            number: self.number.clone(),
        });
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

#[cfg(feature = "testing")]
impl BankAccountRegistered {
    /// A valid registration for tests: SUB-A's CNY account at ICBC.
    pub fn sample() -> Self {
        BankAccountRegistered {
            subsidiary_id: SubsidiaryId::parse("SUB-A").expect("an id"),
            currency: Currency::parse("CNY").expect("a currency"),
            number: "6222 0210 0100 1234 567".to_owned(),
            bank: "ICBC Shanghai Pudong".to_owned(),
            name: "SUB-A collections".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> RegisterBankAccount {
        RegisterBankAccount {
            subsidiary_id: self.subsidiary_id.clone(),
            currency: self.currency,
            number: self.number.clone(),
            bank: self.bank.clone(),
            name: self.name.clone(),
        }
    }
}
