//! Reading stored values back into domain types: every value a read model holds was written
//! from a valid domain value, and is checked again where it is read (a row that does not parse
//! is an error, never a default).

use std::fmt::Display;
use std::str::FromStr;

use receivables_domain::ids::{PersonName, PromiseId};
use receivables_domain::{Currency, CustomerId, SubsidiaryId};

use crate::error::ProjectionError;

fn stored<T, E: Display>(
    what: &str,
    text: &str,
    parsed: Result<T, E>,
) -> Result<T, ProjectionError> {
    parsed.map_err(|e| ProjectionError::Stored(format!("{what} {text:?}: {e}")))
}

pub(crate) fn currency(code: &str) -> Result<Currency, ProjectionError> {
    stored("currency", code, Currency::parse(code))
}

pub(crate) fn customer(id: &str) -> Result<CustomerId, ProjectionError> {
    stored("customer", id, CustomerId::parse(id))
}

pub(crate) fn subsidiary(id: &str) -> Result<SubsidiaryId, ProjectionError> {
    stored("subsidiary", id, SubsidiaryId::parse(id))
}

pub(crate) fn person(name: &str) -> Result<PersonName, ProjectionError> {
    stored("person", name, PersonName::parse(name))
}

pub(crate) fn promise_id(id: &str) -> Result<PromiseId, ProjectionError> {
    stored("promise id", id, PromiseId::parse(id))
}

/// A domain enumeration stored by its name (`as_str`), such as a credit policy or grade.
pub(crate) fn name<T: FromStr>(what: &str, text: &str) -> Result<T, ProjectionError> {
    text.parse()
        .map_err(|_| ProjectionError::Stored(format!("{what} {text:?}")))
}
