//! What the group knows of a customer beyond its id: its names, tax id, country, the people to
//! contact and notes (`account/customer.rs` records it).
//!
//! A record is checked as a whole, every bad field at once, with paths in the wire contract's
//! names (`profile.contacts[1].email`), so that the command, its event and the CSV import state
//! one rule set. Text fields other than the name are optional: an empty string means "not
//! known", which the wire and the read model keep as such.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{PersonName, check_free_text};
use crate::limits::{
    CONTACT_ROLE_LENGTH_MAX, CONTACTS_PER_CUSTOMER_MAX, CUSTOMER_NAME_LENGTH_MAX, EMAIL_LENGTH_MAX,
    INDUSTRY_LENGTH_MAX, NOTE_LENGTH_MAX, PHONE_DIGITS_MIN, PHONE_LENGTH_MAX, TAX_ID_LENGTH_MAX,
};
use crate::refusal::FieldViolation;

/// A country as ISO 3166-1 alpha-2 names it (`CN`, `DE`): two capital letters of an assigned
/// code, so that a typo such as `XX` or `UK` (the code is `GB`) is refused where it is typed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(value: &str) -> Result<Self, String> {
        let well_formed = value.len() == 2 && value.chars().all(|c| c.is_ascii_uppercase());
        if !well_formed {
            return Err(format!(
                "must be an ISO 3166-1 alpha-2 code of two capital letters (CN, DE), got {value:?}"
            ));
        }
        celes::Country::from_alpha2(value)
            .map_err(|_| format!("{value} is not an assigned ISO 3166-1 alpha-2 code"))?;
        Ok(CountryCode(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CountryCode {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        CountryCode::parse(&value)
    }
}

impl From<CountryCode> for String {
    fn from(code: CountryCode) -> String {
        code.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person at the customer to contact: at least one way to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: PersonName,
    /// Empty when unknown.
    pub email: String,
    /// Empty when unknown.
    pub phone: String,
    /// What they do for the customer ("accounts payable"); empty when unknown.
    pub role: String,
}

/// The customer's record as the group keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerProfile {
    /// The name people use; required.
    pub name: String,
    /// The registered legal name, as on invoices and statements.
    pub legal_name: String,
    /// The tax or company registration id (统一社会信用代码, VAT number).
    pub tax_id: String,
    pub country: Option<CountryCode>,
    pub contacts: Vec<Contact>,
    pub industry: String,
    pub notes: String,
}

/// The text of a record as typed, before its contacts' names and its country are parsed: the
/// rules of [`CustomerProfile::check`] over it, which the wire mapping states over a request
/// whose other fields may not parse.
#[derive(Debug, Clone, Copy)]
pub struct ProfileText<'a> {
    pub name: &'a str,
    pub legal_name: &'a str,
    pub tax_id: &'a str,
    pub industry: &'a str,
    pub notes: &'a str,
    pub contacts: usize,
}

impl ProfileText<'_> {
    /// Every rule of the record's text, each violation with its path under `prefix`.
    pub fn check(&self, violations: &mut Vec<FieldViolation>, prefix: &str) {
        let mut text = |field: &str, value: &str, max: usize| {
            if let Err(error) = check_free_text(value, max) {
                violations.push(FieldViolation::new(format!("{prefix}.{field}"), error));
            }
        };
        text("legal_name", self.legal_name, CUSTOMER_NAME_LENGTH_MAX);
        text("industry", self.industry, INDUSTRY_LENGTH_MAX);
        text("notes", self.notes, NOTE_LENGTH_MAX);
        if self.name.trim().is_empty() {
            violations.push(FieldViolation::new(
                format!("{prefix}.name"),
                "a customer's name is required",
            ));
        } else if self.name.trim() != self.name {
            violations.push(FieldViolation::new(
                format!("{prefix}.name"),
                "must not start or end with blanks",
            ));
        } else {
            check_single_line(
                violations,
                format!("{prefix}.name"),
                self.name,
                CUSTOMER_NAME_LENGTH_MAX,
            );
        }
        check_tax_id(violations, format!("{prefix}.tax_id"), self.tax_id);
        if self.contacts > CONTACTS_PER_CUSTOMER_MAX {
            violations.push(FieldViolation::new(
                format!("{prefix}.contacts"),
                format!(
                    "at most {CONTACTS_PER_CUSTOMER_MAX} contacts, got {}",
                    self.contacts
                ),
            ));
        }
    }
}

impl CustomerProfile {
    /// Every rule of the record, each violation with its path under `prefix` (`profile`).
    pub fn check(&self, prefix: &str) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        ProfileText {
            name: &self.name,
            legal_name: &self.legal_name,
            tax_id: &self.tax_id,
            industry: &self.industry,
            notes: &self.notes,
            contacts: self.contacts.len(),
        }
        .check(&mut violations, prefix);
        for (index, contact) in self.contacts.iter().enumerate() {
            check_contact(
                &mut violations,
                &format!("{prefix}.contacts[{index}]"),
                &contact.email,
                &contact.phone,
                &contact.role,
            );
        }
        violations
    }
}

/// A contact's rules beside its name: a way to reach them, a well-formed address and number,
/// a role on one line. Shared with the wire mapping.
pub fn check_contact(
    violations: &mut Vec<FieldViolation>,
    path: &str,
    email: &str,
    phone: &str,
    role: &str,
) {
    if email.is_empty() && phone.is_empty() {
        violations.push(FieldViolation::new(
            format!("{path}.email"),
            "a contact needs an e-mail address or a telephone number",
        ));
    }
    if !email.is_empty()
        && let Err(problem) = check_email(email)
    {
        violations.push(FieldViolation::new(format!("{path}.email"), problem));
    }
    if !phone.is_empty()
        && let Err(problem) = check_phone(phone)
    {
        violations.push(FieldViolation::new(format!("{path}.phone"), problem));
    }
    check_single_line(
        violations,
        format!("{path}.role"),
        role,
        CONTACT_ROLE_LENGTH_MAX,
    );
}

/// Bounded text on one line (a name, a role): no control characters at all.
fn check_single_line(violations: &mut Vec<FieldViolation>, path: String, text: &str, max: usize) {
    let count = text.chars().count();
    if count > max {
        violations.push(FieldViolation::new(
            path,
            format!("at most {max} characters, got {count}"),
        ));
    } else if text.chars().any(char::is_control) {
        violations.push(FieldViolation::new(
            path,
            "must be one line of printable characters",
        ));
    }
}

/// A tax id: letters, digits and the separators registries print (`-`, `.`, `/`, space).
fn check_tax_id(violations: &mut Vec<FieldViolation>, path: String, tax_id: &str) {
    let count = tax_id.chars().count();
    if count > TAX_ID_LENGTH_MAX {
        violations.push(FieldViolation::new(
            path,
            format!("at most {TAX_ID_LENGTH_MAX} characters, got {count}"),
        ));
    } else if let Some(bad) = tax_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | ' ')))
    {
        violations.push(FieldViolation::new(
            path,
            format!("{bad:?} is not allowed: ASCII letters, digits, '-', '.', '/' and spaces"),
        ));
    }
}

/// An e-mail address as a mail server would take it: one `@`, a local part, and a domain of
/// dot-separated labels of letters, digits and hyphens; no blanks.
pub fn check_email(email: &str) -> Result<(), String> {
    let count = email.chars().count();
    if count > EMAIL_LENGTH_MAX {
        return Err(format!(
            "at most {EMAIL_LENGTH_MAX} characters, got {count}"
        ));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(format!("{email:?} is not an e-mail address: no '@'"));
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@');
    let domain_ok = domain.contains('.') && domain.split('.').all(label_ok);
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(format!("{email:?} is not an e-mail address"))
    }
}

/// A telephone number as written: an optional leading `+`, then digits, blanks, `-`, `.`,
/// `(`, `)`, and an optional extension after `x`; at least [`PHONE_DIGITS_MIN`] digits.
pub fn check_phone(phone: &str) -> Result<(), String> {
    let count = phone.chars().count();
    if count > PHONE_LENGTH_MAX {
        return Err(format!(
            "at most {PHONE_LENGTH_MAX} characters, got {count}"
        ));
    }
    let number = phone.strip_prefix('+').unwrap_or(phone);
    let (number, extension) = number.split_once('x').unwrap_or((number, ""));
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')');
    if let Some(bad) = number.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "{bad:?} is not allowed in a telephone number: digits, blanks, '-', '.', '(' and ')', \
             a leading '+' and an extension after 'x'"
        ));
    }
    if !extension.chars().all(|c| c.is_ascii_digit())
        || (phone.contains('x') && extension.is_empty())
    {
        return Err("an extension after 'x' is digits only".to_owned());
    }
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if digits < PHONE_DIGITS_MIN {
        return Err(format!(
            "a telephone number has at least {PHONE_DIGITS_MIN} digits, got {digits}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_assigned_alpha_2_codes() {
        assert_eq!(
            CountryCode::parse("CN").map(String::from),
            Ok("CN".to_owned())
        );
        assert!(CountryCode::parse("DE").is_ok());
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("UK").is_err());
        assert!(CountryCode::parse("cn").is_err());
        assert!(CountryCode::parse("CHN").is_err());
        assert!(CountryCode::parse("").is_err());
    }

    #[test]
    fn e_mail_addresses() {
        assert!(check_email("ap@hongda.example.cn").is_ok());
        assert!(check_email("li.na+ar@example.com").is_ok());
        for bad in [
            "li.na",
            "@example.com",
            "li na@example.com",
            "li@example",
            "li@-example.com",
            "li@example..com",
            "li@@example.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn telephone_numbers() {
        for good in [
            "+86 21 5888 1234",
            "(021) 5888-1234",
            "+49.30.1234567",
            "021 5888 1234x205",
        ] {
            assert_eq!(check_phone(good), Ok(()), "{good}");
        }
        for bad in [
            "1234",
            "+86 21 CALL ME",
            "021-5888 x",
            "+86 21 5888 1234 ext 5",
        ] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
    }
}
