//! Collection on behalf: the group lets one subsidiary move money against another's documents
//! (资金集中管理, a shared service centre or a sister company collecting for it).
//!
//! Moving money against another subsidiary's invoices (allocating a payment to them, applying
//! cash to them, crediting them, re-opening them by a reversal) reduces that subsidiary's
//! receivables without any of its tokens, so it is a decision of the group (`access.rs`): the
//! group-level roles may always, and a subsidiary's token may only where the group has enabled
//! it to collect on behalf of the other. That setting is a fact auditors must be able to see
//! (who enabled it, when, approved by whom), so it is an event, in the group's own account
//! ([`crate::ids::CustomerId::group`]) rather than in any customer's: one setting covers every customer.
//!
//! The setting is directed: "S1 collects on behalf of S2" lets S1's token move money against
//! S2's documents, not the other way round; a group that pools both ways enables both. It
//! applies from the moment it is recorded, to the commands decided after it: it says who may
//! post, not what a customer owes, so it has no business date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::credit_limit::check_reason;
use super::feature::{CommandRules, Decide, DecisionContext, EventRules, Scope};
use super::state::AccountState;
use crate::ids::{CommandId, PersonName, SubsidiaryId};
use crate::limits::REASON_LENGTH_MAX;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{InvalidEvent, invalid, required_text};

/// The group enables or disables collection on behalf of one subsidiary by another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCollectionOnBehalf {
    /// The subsidiary whose token may move money against the other's documents.
    pub collector_id: SubsidiaryId,
    /// The subsidiary whose documents it may move money against.
    pub on_behalf_of_id: SubsidiaryId,
    pub enabled: bool,
    pub reason: String,
    pub approved_by: PersonName,
}

/// The group enabled or disabled collection on behalf of one subsidiary by another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionOnBehalfSet {
    pub collector_id: SubsidiaryId,
    pub on_behalf_of_id: SubsidiaryId,
    pub enabled: bool,
    pub reason: String,
    pub approved_by: PersonName,
}

/// A subsidiary collecting on its own behalf needs no setting. Shared with the wire mapping.
pub fn check_pair(
    violations: &mut Vec<FieldViolation>,
    collector: &SubsidiaryId,
    on_behalf_of: &SubsidiaryId,
) {
    if collector == on_behalf_of {
        violations.push(FieldViolation::new(
            "on_behalf_of_id",
            format!("must differ from collector_id: {collector} always collects for itself"),
        ));
    }
}

impl CommandRules for SetCollectionOnBehalf {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_pair(&mut violations, &self.collector_id, &self.on_behalf_of_id);
        check_reason(&mut violations, &self.reason);
        violations
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

impl Decide for SetCollectionOnBehalf {
    type Event = CollectionOnBehalfSet;

    /// A setting already as asked is refused rather than recorded again, so that the log says
    /// only what changed and a client learns its view of the settings was stale.
    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<CollectionOnBehalfSet, Refusal> {
        let current = state
            .collection_on_behalf()
            .permits(&self.collector_id, &self.on_behalf_of_id);
        if current == self.enabled {
            let state = if current { "enabled" } else { "not enabled" };
            return Err(Refusal::precondition(
                Reason::CollectionOnBehalfUnchanged,
                vec![PreconditionViolation {
                    kind: Reason::CollectionOnBehalfUnchanged,
                    subject: format!(
                        "group/collection_on_behalf/{}/{}",
                        self.collector_id, self.on_behalf_of_id
                    ),
                    description: format!(
                        "collection on behalf of {} by {} is already {state}",
                        self.on_behalf_of_id, self.collector_id
                    ),
                }],
            ));
        }
        Ok(CollectionOnBehalfSet {
            collector_id: self.collector_id.clone(),
            on_behalf_of_id: self.on_behalf_of_id.clone(),
            enabled: self.enabled,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        })
    }
}

impl EventRules for CollectionOnBehalfSet {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        if self.collector_id == self.on_behalf_of_id {
            return Err(invalid("data.on_behalf_of_id", "is the collector itself"));
        }
        required_text("data.reason", &self.reason, REASON_LENGTH_MAX)
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let settings = &mut state.collection_on_behalf.enabled;
        let pair = (self.collector_id.clone(), self.on_behalf_of_id.clone());
        let changed = if self.enabled {
            settings.insert(pair)
        } else {
            settings.remove(&pair)
        };
        if !changed {
            return Err(format!(
                "sets collection on behalf of {} by {} to what it already was",
                self.on_behalf_of_id, self.collector_id
            ));
        }
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::Group
    }
}

#[cfg(feature = "testing")]
impl CollectionOnBehalfSet {
    /// A valid setting for tests: S2 collects on behalf of S1.
    pub fn sample() -> Self {
        CollectionOnBehalfSet {
            collector_id: SubsidiaryId::parse("S2").expect("an id"),
            on_behalf_of_id: SubsidiaryId::parse("S1").expect("an id"),
            enabled: true,
            reason: "treasury centralisation".to_owned(),
            approved_by: PersonName::parse("Chen Jing").expect("a name"),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> SetCollectionOnBehalf {
        SetCollectionOnBehalf {
            collector_id: self.collector_id.clone(),
            on_behalf_of_id: self.on_behalf_of_id.clone(),
            enabled: self.enabled,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}
