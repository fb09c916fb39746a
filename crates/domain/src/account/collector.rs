//! Collector assignment: who chases a customer's overdue invoices.
//!
//! A collections manager assigns a collector to a customer, or a default collector to a
//! subsidiary for its customers that have none of their own. The work queue names, for each
//! customer, its own collector, else the default of the subsidiary owed most of what it
//! collects (`projections/work_queue.rs`). A customer's assignment is an event of the
//! customer's account; a subsidiary's default one of the group's own account
//! ([`crate::ids::CustomerId::group`]), since it holds for every customer. Removing an
//! assignment is the same event without a collector. It says who works on an account, not what
//! the account owes: it has no business date and applies from the moment it is recorded.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules, Scope};
use super::state::AccountState;
use crate::ids::{CommandId, PersonName, SubsidiaryId};
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::InvalidEvent;

/// Assign (or, without a collector, unassign) the customer's collector, or a subsidiary's
/// default collector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignCollector {
    /// `None`: the customer's own collector. `Some(s)`: the default collector of subsidiary
    /// `s`'s customers, in the group's account.
    pub default_for: Option<SubsidiaryId>,
    /// `None` removes the assignment.
    pub collector: Option<PersonName>,
}

/// A collector was assigned (or the assignment removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectorAssigned {
    pub default_for: Option<SubsidiaryId>,
    pub collector: Option<PersonName>,
}

fn scope_of(default_for: &Option<SubsidiaryId>) -> Scope {
    match default_for {
        None => Scope::Customer,
        Some(_) => Scope::Group,
    }
}

/// The assignment the account holds for `default_for`.
fn current<'a>(
    state: &'a AccountState,
    default_for: &Option<SubsidiaryId>,
) -> Option<&'a PersonName> {
    match default_for {
        None => state.collector(),
        Some(subsidiary) => state.default_collector(subsidiary),
    }
}

impl CommandRules for AssignCollector {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn check(&self) -> Vec<FieldViolation> {
        Vec::new()
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }

    fn scope(&self) -> Scope {
        scope_of(&self.default_for)
    }
}

impl Decide for AssignCollector {
    type Event = CollectorAssigned;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<CollectorAssigned, Refusal> {
        if current(state, &self.default_for) == self.collector.as_ref() {
            let (subject, whose) = match &self.default_for {
                None => (
                    format!("customer/{}/collector", state.customer_id()),
                    format!("customer {}", state.customer_id()),
                ),
                Some(subsidiary) => (
                    format!("group/default_collector/{subsidiary}"),
                    format!("the customers of subsidiary {subsidiary}"),
                ),
            };
            let description = match &self.collector {
                Some(collector) => format!("{collector} is already the collector of {whose}"),
                None => format!("{whose} have no collector assigned to remove"),
            };
            return Err(Refusal::precondition(
                Reason::CollectorUnchanged,
                vec![PreconditionViolation {
                    kind: Reason::CollectorUnchanged,
                    subject,
                    description,
                }],
            ));
        }
        Ok(CollectorAssigned {
            default_for: self.default_for.clone(),
            collector: self.collector.clone(),
        })
    }
}

impl EventRules for CollectorAssigned {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        None
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        Ok(())
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        if current(state, &self.default_for) == self.collector.as_ref() {
            return Err("assigns the collector already assigned".to_owned());
        }
        match (&self.default_for, &self.collector) {
            (None, collector) => state.collector = collector.clone(),
            (Some(subsidiary), Some(collector)) => {
                state
                    .default_collectors
                    .insert(subsidiary.clone(), collector.clone());
            }
            (Some(subsidiary), None) => {
                state.default_collectors.remove(subsidiary);
            }
        }
        Ok(())
    }

    fn scope(&self) -> Scope {
        scope_of(&self.default_for)
    }
}

#[cfg(feature = "testing")]
impl CollectorAssigned {
    /// A valid assignment for tests: Zhou Min collects from the customer.
    pub fn sample() -> Self {
        CollectorAssigned {
            default_for: None,
            collector: Some(PersonName::parse("Zhou Min").expect("a name")),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> AssignCollector {
        AssignCollector {
            default_for: self.default_for.clone(),
            collector: self.collector.clone(),
        }
    }
}
