//! From a request's `authorization` header to who is calling, with a role.
//!
//! The check runs on every request and reads the store every time, so a revocation or an expiry
//! takes effect on the next call. Its order matters: the secret is checked before anything
//! about the token's standing is told, so someone who knows only a token's id (it is public: it
//! appears in every event the token posted) learns whether it exists and nothing more; whether
//! it is expired or revoked is told only to a caller who holds the secret.
//!
//! Every refusal is precise enough for the caller to fix the request, and none quotes the
//! header: it may hold a real token.

use chrono::{DateTime, Utc};
use receivables_domain::Principal;
use receivables_domain::access::Role;

use crate::store::{StoreError, TokenStore};
use crate::token::{MalformedToken, Secret, TOKEN_PREFIX, TokenId, parse_bearer};

/// The authorization scheme, matched without regard to case (RFC 9110 section 11.1).
pub const AUTHORIZATION_SCHEME: &str = "Bearer";

/// Why an authorization header is not `Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedHeader {
    #[error("the authorization header is empty; send \"Bearer <token>\"")]
    Empty,
    #[error(
        "the authorization header must be \"Bearer <token>\", with \"Bearer \" before the token"
    )]
    MissingScheme,
    #[error("the authorization header must use the Bearer scheme: \"Bearer <token>\"")]
    NotBearer,
    #[error("the authorization header has no token after \"Bearer \"")]
    NoToken,
    #[error(
        "the authorization header must be \"Bearer <token>\" with one space between them and none around"
    )]
    Whitespace,
    #[error("{0}")]
    Token(MalformedToken),
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no authorization header; send \"authorization: Bearer <token>\"")]
    Missing,
    #[error("{0}")]
    Malformed(MalformedHeader),
    #[error("unknown token {id}")]
    Unknown { id: TokenId },
    #[error("wrong secret for token {id}")]
    WrongSecret { id: TokenId },
    #[error("token {id} expired at {at}")]
    Expired { id: TokenId, at: DateTime<Utc> },
    #[error("token {id} was revoked at {at}")]
    Revoked { id: TokenId, at: DateTime<Utc> },
    /// The store could not answer: the request may be fine; answer "unavailable".
    #[error("cannot check the token: {0}")]
    Store(StoreError),
}

impl AuthError {
    /// Whether the failure is the store's rather than the caller's (gRPC `UNAVAILABLE` rather
    /// than `UNAUTHENTICATED`).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AuthError::Store(_))
    }
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        AuthError::Store(error)
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub id: TokenId,
    pub role: Role,
    /// `token:<id>`, recorded in the events this caller posts.
    pub principal: Principal,
}

/// Splits `Bearer <token>` and checks the token's grammar; the store is not asked.
pub fn parse_authorization(header: &str) -> Result<(TokenId, Secret), MalformedHeader> {
    if header.is_empty() {
        return Err(MalformedHeader::Empty);
    }
    if header.starts_with(char::is_whitespace) || header.ends_with(char::is_whitespace) {
        return Err(MalformedHeader::Whitespace);
    }
    let Some((scheme, token)) = header.split_once(' ') else {
        return Err(if header.starts_with(TOKEN_PREFIX) {
            MalformedHeader::MissingScheme
        } else if header.eq_ignore_ascii_case(AUTHORIZATION_SCHEME) {
            MalformedHeader::NoToken
        } else {
            MalformedHeader::NotBearer
        });
    };
    if !scheme.eq_ignore_ascii_case(AUTHORIZATION_SCHEME) {
        return Err(if header.starts_with(TOKEN_PREFIX) {
            MalformedHeader::MissingScheme
        } else {
            MalformedHeader::NotBearer
        });
    }
    if token.starts_with(char::is_whitespace) {
        return Err(MalformedHeader::Whitespace);
    }
    parse_bearer(token).map_err(MalformedHeader::Token)
}

/// Authenticates a request from its raw `authorization` header value (`None`: the request
/// had none), reading the token's record from `store` now.
pub async fn authenticate<S: TokenStore + ?Sized>(
    store: &S,
    authorization: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Authenticated, AuthError> {
    let header = authorization.ok_or(AuthError::Missing)?;
    let (id, secret) = parse_authorization(header).map_err(AuthError::Malformed)?;
    let Some(record) = store.get(&id).await? else {
        return Err(AuthError::Unknown { id });
    };
    if !record.secret_sha256.matches(&secret) {
        return Err(AuthError::WrongSecret { id });
    }
    if let Some(at) = record.revoked_at {
        return Err(AuthError::Revoked { id, at });
    }
    if let Some(at) = record.expires_at
        && now >= at
    {
        return Err(AuthError::Expired { id, at });
    }
    Ok(Authenticated {
        principal: id.principal(),
        id,
        role: record.role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenPart;

    const TOKEN: &str =
        "rcv_0123456789abcdef_abababababababababababababababababababababababababababababababab";

    #[test]
    fn the_scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let (id, _) = parse_authorization(&format!("{scheme} {TOKEN}")).unwrap();
            assert_eq!(id.as_str(), "0123456789abcdef");
        }
    }

    #[test]
    fn malformed_headers_say_precisely_why() {
        let cases: Vec<(String, MalformedHeader)> = vec![
            (String::new(), MalformedHeader::Empty),
            (TOKEN.to_owned(), MalformedHeader::MissingScheme),
            (format!("Token {TOKEN}"), MalformedHeader::NotBearer),
            (format!("Basic {TOKEN}"), MalformedHeader::NotBearer),
            (format!("Bearer:{TOKEN}"), MalformedHeader::NotBearer),
            ("Bearer".to_owned(), MalformedHeader::NoToken),
            ("Bearer ".to_owned(), MalformedHeader::Whitespace),
            (format!("Bearer  {TOKEN}"), MalformedHeader::Whitespace),
            (format!("Bearer\t{TOKEN}"), MalformedHeader::NotBearer),
            (format!(" Bearer {TOKEN}"), MalformedHeader::Whitespace),
            (format!("Bearer {TOKEN} "), MalformedHeader::Whitespace),
            (
                "Bearer rcv_0123".to_owned(),
                MalformedHeader::Token(MalformedToken::MissingSeparator),
            ),
            (
                format!("Bearer {}", TOKEN.to_uppercase()),
                MalformedHeader::Token(MalformedToken::MissingPrefix),
            ),
            (
                format!("Bearer {TOKEN} {TOKEN}"),
                MalformedHeader::Token(MalformedToken::WrongLength {
                    part: TokenPart::Secret,
                    expected: 64,
                    actual: 150,
                }),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                parse_authorization(&header).err(),
                Some(expected),
                "{header:?}"
            );
        }
    }

    #[test]
    fn refusals_never_quote_the_secret() {
        let secret = &TOKEN[21..];
        let errors = [
            AuthError::Malformed(parse_authorization(TOKEN).unwrap_err()),
            AuthError::Malformed(parse_authorization(&format!("Basic {TOKEN}")).unwrap_err()),
            AuthError::Malformed(parse_authorization(&format!("Bearer {TOKEN}x")).unwrap_err()),
            AuthError::Malformed(
                parse_authorization(&format!("Bearer {TOKEN} {TOKEN}")).unwrap_err(),
            ),
        ];
        for error in errors {
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
