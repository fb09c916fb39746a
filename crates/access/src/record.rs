//! What the service remembers of a token: who it is for, what it may do, when it ends, and the
//! hash of its secret (never the secret).
//!
//! A record changes once at most after it is written: [`TokenRecord::revoked_at`] is set by a
//! revocation and never cleared or moved. Expiry needs no change at all; it is a comparison with
//! the time of each request.

use std::fmt;

use chrono::{DateTime, Utc};
use receivables_domain::Principal;
use receivables_domain::access::Role;

use crate::token::{Bearer, Secret, SecretHash, TokenId};

/// Longest label of a token, in characters.
pub const LABEL_LENGTH_MAX: usize = 200;

/// Who or what a token is for ("SH-TRADING ERP", "credit desk: J. Wang"), as shown in listings.
/// Trimmed, not empty, at most [`LABEL_LENGTH_MAX`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenLabel(String);

/// Why a label was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadLabel {
    #[error("the label must not be empty")]
    Empty,
    #[error("the label must be at most {max} characters, got {actual}")]
    TooLong { max: usize, actual: usize },
    #[error("the label must be printable; character {position} is a control character")]
    ControlCharacter { position: usize },
}

impl TokenLabel {
    pub fn parse(value: &str) -> Result<TokenLabel, BadLabel> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(BadLabel::Empty);
        }
        let actual = trimmed.chars().count();
        if actual > LABEL_LENGTH_MAX {
            return Err(BadLabel::TooLong {
                max: LABEL_LENGTH_MAX,
                actual,
            });
        }
        if let Some(index) = trimmed.chars().position(char::is_control) {
            return Err(BadLabel::ControlCharacter {
                position: index + 1,
            });
        }
        Ok(TokenLabel(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub secret_sha256: SecretHash,
    pub role: Role,
    pub label: TokenLabel,
    pub created_at: DateTime<Utc>,
    /// The first instant at which the token is refused; `None`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked; set once, never moved.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who issued it: `token:<id>` of an admin token, or `local-admin` for the command line
    /// working on the data directory.
    pub created_by: Principal,
}

/// Whether a token may be used at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired { at: DateTime<Utc> },
    Revoked { at: DateTime<Utc> },
}

impl TokenRecord {
    /// The token's standing at `now`. A revoked token is reported revoked even once it has
    /// expired as well: revocation is the decision someone took.
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        match (self.revoked_at, self.expires_at) {
            (Some(at), _) => TokenStatus::Revoked { at },
            (None, Some(at)) if now >= at => TokenStatus::Expired { at },
            _ => TokenStatus::Active,
        }
    }
}

/// Why a token could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    #[error("the token would expire at {expires_at}, not after it is issued at {now}")]
    ExpiresBeforeIssue {
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
}

/// Makes a new token: a fresh id and secret, and the record to store. The [`Bearer`] is the only
/// copy of the secret: hand it to its holder and drop it; the record holds only its hash.
pub fn issue(
    role: Role,
    label: TokenLabel,
    expires_at: Option<DateTime<Utc>>,
    created_by: Principal,
    now: DateTime<Utc>,
) -> Result<(Bearer, TokenRecord), IssueError> {
    if let Some(expires_at) = expires_at
        && expires_at <= now
    {
        return Err(IssueError::ExpiresBeforeIssue { expires_at, now });
    }
    let id = TokenId::generate();
    let secret = Secret::generate();
    let record = TokenRecord {
        id: id.clone(),
        secret_sha256: secret.sha256(),
        role,
        label,
        created_at: now,
        expires_at,
        revoked_at: None,
        created_by,
    };
    Ok((Bearer::new(&id, &secret), record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::parse_bearer;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn labels_are_trimmed_bounded_and_printable() {
        assert_eq!(
            TokenLabel::parse("  SH-TRADING ERP ").unwrap().as_str(),
            "SH-TRADING ERP"
        );
        assert_eq!(TokenLabel::parse(" \t "), Err(BadLabel::Empty));
        assert!(TokenLabel::parse(&"é".repeat(LABEL_LENGTH_MAX)).is_ok());
        assert_eq!(
            TokenLabel::parse(&"x".repeat(LABEL_LENGTH_MAX + 1)),
            Err(BadLabel::TooLong {
                max: LABEL_LENGTH_MAX,
                actual: LABEL_LENGTH_MAX + 1
            })
        );
        assert_eq!(
            TokenLabel::parse("a\u{7}b"),
            Err(BadLabel::ControlCharacter { position: 2 })
        );
    }

    #[test]
    fn an_issued_token_is_stored_only_as_its_hash() {
        let (bearer, record) = issue(
            Role::Credit,
            TokenLabel::parse("credit desk").unwrap(),
            None,
            Principal::parse("local-admin").unwrap(),
            now(),
        )
        .unwrap();
        let (id, secret) = parse_bearer(bearer.expose()).unwrap();
        assert_eq!(id, record.id);
        assert_eq!(bearer.id(), &record.id);
        assert!(record.secret_sha256.matches(&secret));
        assert!(!format!("{record:?}").contains(secret.expose_hex()));
        assert_eq!(record.status(now()), TokenStatus::Active);
    }

    #[test]
    fn a_token_cannot_be_born_expired() {
        let outcome = issue(
            Role::Reporting,
            TokenLabel::parse("reports").unwrap(),
            Some(now()),
            Principal::parse("local-admin").unwrap(),
            now(),
        );
        assert_eq!(
            outcome.err(),
            Some(IssueError::ExpiresBeforeIssue {
                expires_at: now(),
                now: now()
            })
        );
    }

    #[test]
    fn status_prefers_revocation_then_expiry() {
        let expires = now() + chrono::Duration::hours(1);
        let (_, mut record) = issue(
            Role::Auditor,
            TokenLabel::parse("audit").unwrap(),
            Some(expires),
            Principal::parse("local-admin").unwrap(),
            now(),
        )
        .unwrap();
        assert_eq!(
            record.status(expires - chrono::Duration::nanoseconds(1)),
            TokenStatus::Active
        );
        assert_eq!(record.status(expires), TokenStatus::Expired { at: expires });
        record.revoked_at = Some(now());
        assert_eq!(record.status(expires), TokenStatus::Revoked { at: now() });
    }

    proptest! {
        #[test]
        fn issued_tokens_parse_back(label in "[a-zA-Z0-9 ]{1,40}") {
            prop_assume!(!label.trim().is_empty());
            let (bearer, record) = issue(
                Role::Admin,
                TokenLabel::parse(&label).unwrap(),
                None,
                Principal::parse("local-admin").unwrap(),
                now(),
            )
            .unwrap();
            let (id, secret) = parse_bearer(bearer.expose()).unwrap();
            prop_assert_eq!(id, record.id);
            prop_assert!(record.secret_sha256.matches(&secret));
        }
    }
}
