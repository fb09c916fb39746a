//! Customer records: the group registers a customer with its names, tax id, country, contacts,
//! industry and notes, and later updates the record.
//!
//! A customer's account exists from its first event, whichever that is: a record may be
//! registered before the first invoice (a new customer set up by the credit department) or after
//! it (an existing customer whose invoices arrived first). An update states the whole record as
//! it now stands, so that every version is on record as it was and no merge rule has to be
//! guessed; one that changes nothing is refused, so that the log says only what changed. The
//! record says who the customer is, not what it owes: it has no business date and applies from
//! the moment it is recorded.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::AccountState;
use crate::customer::CustomerProfile;
use crate::ids::{CommandId, SubsidiaryId};
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{InvalidEvent, invalid};

/// Register the customer's record; refused when it is registered already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterCustomer {
    pub profile: CustomerProfile,
}

/// Replace the customer's record with this one; refused when none is registered or nothing
/// changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCustomer {
    pub profile: CustomerProfile,
}

/// The customer's record was registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRegistered {
    pub profile: CustomerProfile,
}

/// The customer's record now reads as `profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerUpdated {
    pub profile: CustomerProfile,
}

/// The wire path of the record in both requests.
pub const PROFILE: &str = "profile";

/// A record's rules restated over an event: the first violation, under `data.profile`.
fn check_event(profile: &CustomerProfile) -> Result<(), InvalidEvent> {
    match profile.check("data.profile").into_iter().next() {
        Some(violation) => Err(invalid(&violation.field, violation.description)),
        None => Ok(()),
    }
}

fn refusal(state: &AccountState, reason: Reason, description: String) -> Refusal {
    Refusal::precondition(
        reason,
        vec![PreconditionViolation {
            kind: reason,
            subject: format!("customer/{}", state.customer_id()),
            description,
        }],
    )
}

impl CommandRules for RegisterCustomer {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        self.profile.check(PROFILE)
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }
}

impl Decide for RegisterCustomer {
    type Event = CustomerRegistered;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<CustomerRegistered, Refusal> {
        if let Some(profile) = state.profile() {
            return Err(refusal(
                state,
                Reason::CustomerAlreadyRegistered,
                format!(
                    "is registered already as {:?}: change the record with UpdateCustomer",
                    profile.name
                ),
            ));
        }
        Ok(CustomerRegistered {
            profile: self.profile.clone(),
        })
    }
}

impl EventRules for CustomerRegistered {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        check_event(&self.profile)
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        if state.profile.is_some() {
            return Err("registers a customer that is registered already".to_owned());
        }
        state.profile = Some(self.profile.clone());
        Ok(())
    }
}

impl CommandRules for UpdateCustomer {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        self.profile.check(PROFILE)
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }
}

impl Decide for UpdateCustomer {
    type Event = CustomerUpdated;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<CustomerUpdated, Refusal> {
        match state.profile() {
            None => Err(refusal(
                state,
                Reason::CustomerNotRegistered,
                "has no record to update: register it with RegisterCustomer".to_owned(),
            )),
            Some(current) if *current == self.profile => Err(refusal(
                state,
                Reason::CustomerUnchanged,
                "the record already reads as asked".to_owned(),
            )),
            Some(_) => Ok(CustomerUpdated {
                profile: self.profile.clone(),
            }),
        }
    }
}

impl EventRules for CustomerUpdated {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        check_event(&self.profile)
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        match &state.profile {
            None => return Err("updates a customer that is not registered".to_owned()),
            Some(current) if *current == self.profile => {
                return Err("updates a customer's record to what it already was".to_owned());
            }
            Some(_) => {}
        }
        state.profile = Some(self.profile.clone());
        Ok(())
    }
}

#[cfg(feature = "testing")]
mod samples {
    use super::*;
    use crate::customer::{Contact, CountryCode};
    use crate::ids::PersonName;

    /// The record the samples register: a customer in Shanghai with one contact in accounts
    /// payable.
    pub fn profile() -> CustomerProfile {
        CustomerProfile {
            name: "Hongda Trading".to_owned(),
            legal_name: "Shanghai Hongda Trading Co., Ltd.".to_owned(),
            tax_id: "91310000MA1FL0XX1X".to_owned(),
            country: Some(CountryCode::parse("CN").expect("a country")),
            contacts: vec![Contact {
                name: PersonName::parse("Wang Fang").expect("a name"),
                email: "ap@hongda.example.cn".to_owned(),
                phone: "+86 21 5888 1234".to_owned(),
                role: "accounts payable".to_owned(),
            }],
            industry: "wholesale".to_owned(),
            notes: String::new(),
        }
    }

    impl CustomerRegistered {
        /// A valid registration for tests (see [`profile`]).
        pub fn sample() -> Self {
            CustomerRegistered { profile: profile() }
        }

        /// The command this event records.
        pub fn command(&self) -> RegisterCustomer {
            RegisterCustomer {
                profile: self.profile.clone(),
            }
        }
    }

    impl CustomerUpdated {
        /// A valid update of the sample registration: the customer moved its accounts payable
        /// to a shared service centre with a new contact.
        pub fn sample() -> Self {
            let mut profile = profile();
            profile.contacts = vec![Contact {
                name: PersonName::parse("Zhao Lei").expect("a name"),
                email: "ssc@hongda.example.cn".to_owned(),
                phone: String::new(),
                role: "shared service centre".to_owned(),
            }];
            CustomerUpdated { profile }
        }

        /// The command this event records.
        pub fn command(&self) -> UpdateCustomer {
            UpdateCustomer {
                profile: self.profile.clone(),
            }
        }
    }
}

#[cfg(feature = "testing")]
pub use samples::profile as sample_profile;
