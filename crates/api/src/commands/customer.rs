//! `RegisterCustomer` and `UpdateCustomer`: the customer's record, registered and replaced.

use receivables_domain::command::{RegisterCustomer, UpdateCustomer};
use receivables_domain::customer::{
    Contact, CountryCode, CustomerProfile, ProfileText, check_contact,
};
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The wire path of the record in both requests.
const PROFILE: &str = "profile";

/// The record of a request, with every bad field of it named in `fields`.
pub(crate) fn profile(
    fields: &mut Fields,
    wire: Option<&pb::CustomerProfile>,
) -> Option<CustomerProfile> {
    let Some(wire) = wire else {
        fields.violation(PROFILE, "is required");
        return None;
    };
    let mut rules = Vec::new();
    ProfileText {
        name: &wire.name,
        legal_name: &wire.legal_name,
        tax_id: &wire.tax_id,
        industry: &wire.industry,
        notes: &wire.notes,
        contacts: wire.contacts.len(),
    }
    .check(&mut rules, PROFILE);
    let country = fields.optional(
        &format!("{PROFILE}.country"),
        &wire.country,
        CountryCode::parse,
    );
    let mut contacts = Vec::with_capacity(wire.contacts.len());
    for (index, contact) in wire.contacts.iter().enumerate() {
        let path = format!("{PROFILE}.contacts[{index}]");
        let name = fields.person(&format!("{path}.name"), &contact.name);
        check_contact(
            &mut rules,
            &path,
            &contact.email,
            &contact.phone,
            &contact.role,
        );
        contacts.push(name.map(|name| Contact {
            name,
            email: contact.email.clone(),
            phone: contact.phone.clone(),
            role: contact.role.clone(),
        }));
    }
    fields.extend(rules);
    Some(CustomerProfile {
        name: wire.name.clone(),
        legal_name: wire.legal_name.clone(),
        tax_id: wire.tax_id.clone(),
        country: country?,
        contacts: contacts.into_iter().collect::<Option<Vec<_>>>()?,
        industry: wire.industry.clone(),
        notes: wire.notes.clone(),
    })
}

/// A record as the wire carries it.
pub fn wire_profile(profile: &CustomerProfile) -> pb::CustomerProfile {
    pb::CustomerProfile {
        name: profile.name.clone(),
        legal_name: profile.legal_name.clone(),
        tax_id: profile.tax_id.clone(),
        country: profile
            .country
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        contacts: profile
            .contacts
            .iter()
            .map(|contact| pb::Contact {
                name: contact.name.to_string(),
                email: contact.email.clone(),
                phone: contact.phone.clone(),
                role: contact.role.clone(),
            })
            .collect(),
        industry: profile.industry.clone(),
        notes: profile.notes.clone(),
    }
}

/// A `RegisterCustomer` request as a command, or a refusal naming every bad field.
pub fn read_registration(request: &pb::RegisterCustomerRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let profile = profile(&mut fields, request.profile.as_ref());
    let body = profile.map(|profile| CommandBody::RegisterCustomer(RegisterCustomer { profile }));
    finish(fields, customer_id, id, body)
}

/// An `UpdateCustomer` request as a command, or a refusal naming every bad field.
pub fn read_update(request: &pb::UpdateCustomerRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let profile = profile(&mut fields, request.profile.as_ref());
    let body = profile.map(|profile| CommandBody::UpdateCustomer(UpdateCustomer { profile }));
    finish(fields, customer_id, id, body)
}

/// The reply to a registration, from the event that recorded it (see [`crate::commands`]).
pub fn registration_reply(
    event: &RecordedEvent,
    replayed: bool,
) -> Option<pb::RegisterCustomerResponse> {
    let Event::CustomerRegistered(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::RegisterCustomerResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}

/// The reply to an update, from the event that recorded it (see [`crate::commands`]).
pub fn update_reply(event: &RecordedEvent, replayed: bool) -> Option<pb::UpdateCustomerResponse> {
    let Event::CustomerUpdated(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::UpdateCustomerResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
