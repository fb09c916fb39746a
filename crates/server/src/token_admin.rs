//! The token RPCs of the `AdminService`: issuing, listing and revoking tokens over gRPC, for
//! callers with the admin role. The same store as `receivables tokens` works on directly; the
//! issuer recorded is the admin's own principal.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use receivables_access::{StoreError, TokenId, TokenLabel, TokenRecord, TokenStore, issue};
use receivables_api::{pb, status};
use receivables_domain::Principal;
use receivables_domain::access::Role;
use receivables_domain::refusal::{FieldViolation, Refusal};
use tonic::{Code, Status};
use tracing::{info, warn};

/// `google.protobuf.Timestamp.nanos` is below one second.
const NANOS_PER_SECOND: i32 = 1_000_000_000;

/// Issues a token as `admin` asks; the reply holds its text, once.
pub async fn create(
    store: &dyn TokenStore,
    request: &pb::CreateTokenRequest,
    admin: Principal,
) -> Result<pb::CreateTokenResponse, Status> {
    let now = Utc::now();
    let mut violations = Vec::new();
    let subsidiary = (!request.subsidiary_id.is_empty()).then_some(request.subsidiary_id.as_str());
    let role = Role::parse(&request.role, subsidiary)
        .map_err(|error| violations.push(FieldViolation::new("role", error)))
        .ok();
    let label = TokenLabel::parse(&request.label)
        .map_err(|error| violations.push(FieldViolation::new("label", error)))
        .ok();
    let expires_at = match &request.expires_at {
        None => None,
        Some(at) => {
            let instant = (0..NANOS_PER_SECOND)
                .contains(&at.nanos)
                .then(|| DateTime::from_timestamp(at.seconds, at.nanos.unsigned_abs()))
                .flatten();
            match instant {
                Some(instant) if instant > now => Some(instant),
                Some(instant) => {
                    violations.push(FieldViolation::new(
                        "expires_at",
                        format!("{instant} is not in the future"),
                    ));
                    None
                }
                None => {
                    violations.push(FieldViolation::new(
                        "expires_at",
                        "is not a valid timestamp",
                    ));
                    None
                }
            }
        }
    };
    let (Some(role), Some(label), true) = (role, label, violations.is_empty()) else {
        return Err(status::refusal(&Refusal::invalid(violations)));
    };
    let (bearer, record) = issue(role, label, expires_at, admin, now).map_err(|error| {
        status::refusal(&Refusal::invalid(vec![FieldViolation::new(
            "expires_at",
            error,
        )]))
    })?;
    store.insert(&record).await.map_err(|e| store_status(&e))?;
    info!(
        token = record.id.as_str(),
        role = %record.role,
        created_by = record.created_by.as_str(),
        "token issued"
    );
    Ok(pb::CreateTokenResponse {
        token: bearer.expose().to_owned(),
        info: Some(info_of(&record)),
    })
}

/// Every token, without secrets.
pub async fn list(store: &dyn TokenStore) -> Result<pb::ListTokensResponse, Status> {
    let records = store.list().await.map_err(|e| store_status(&e))?;
    Ok(pb::ListTokensResponse {
        tokens: records.iter().map(info_of).collect(),
    })
}

/// Revokes the token `request.id`.
pub async fn revoke(
    store: &dyn TokenStore,
    request: &pb::RevokeTokenRequest,
    admin: &Principal,
) -> Result<pb::RevokeTokenResponse, Status> {
    let id = TokenId::parse(&request.id).map_err(|error| {
        status::refusal(&Refusal::invalid(vec![FieldViolation::new("id", error)]))
    })?;
    match store
        .revoke(&id, Utc::now())
        .await
        .map_err(|e| store_status(&e))?
    {
        Some(record) => {
            info!(token = id.as_str(), by = admin.as_str(), "token revoked");
            Ok(pb::RevokeTokenResponse {
                info: Some(info_of(&record)),
            })
        }
        None => Err(status::with_reason(
            Code::NotFound,
            "TOKEN_NOT_FOUND",
            format!("there is no token {}", id.as_str()),
        )),
    }
}

/// The status of an admin call on a listener without tokens.
pub fn disabled() -> Status {
    status::with_reason(
        Code::FailedPrecondition,
        "TOKENS_DISABLED",
        "this listener runs without tokens (--insecure); there are none to manage",
    )
}

fn store_status(error: &StoreError) -> Status {
    warn!(%error, "token store failed");
    match error {
        StoreError::Unavailable(_) => status::with_reason(
            Code::Unavailable,
            "TOKEN_STORE_UNAVAILABLE",
            error.to_string(),
        ),
        _ => status::with_reason(Code::Internal, "TOKEN_STORE_FAILED", error.to_string()),
    }
}

/// As every other timestamp of the API: through `SystemTime`, which prost converts.
fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    std::time::SystemTime::from(at).into()
}

fn info_of(record: &TokenRecord) -> pb::TokenInfo {
    pb::TokenInfo {
        id: record.id.as_str().to_owned(),
        role: record.role.name().as_str().to_owned(),
        subsidiary_id: record
            .role
            .subsidiary()
            .map(ToString::to_string)
            .unwrap_or_default(),
        label: record.label.as_str().to_owned(),
        created_at: Some(timestamp(record.created_at)),
        expires_at: record.expires_at.map(timestamp),
        revoked_at: record.revoked_at.map(timestamp),
        created_by: record.created_by.as_str().to_owned(),
    }
}

/// The store of a listener, or the refusal of a listener without one.
pub fn store_of(tokens: &Option<Arc<dyn TokenStore>>) -> Result<&dyn TokenStore, Status> {
    tokens.as_deref().ok_or_else(disabled)
}
