//! The gate in front of every service: the bearer token of each call is looked up in the token
//! store and turned into a [`Caller`] that the RPCs authorise against (see
//! [`crate::authorization`]).
//!
//! The store is read on every call, with no cache, so that a revocation takes effect on the very
//! next call in every process that serves. Health checks and server reflection pass without a
//! token: load balancers probe health, and the schema the reflection service describes is
//! public. Anything else without a valid token is `UNAUTHENTICATED`, before any service sees it.
//!
//! The token's secret never leaves this module: it is not logged, and the reasons given to the
//! caller and to the log name only the token's public id.

use std::sync::Arc;

use chrono::Utc;
use futures::future::BoxFuture;
use receivables_access::{AuthError, TokenStore, authenticate};
use receivables_api::status;
use tonic::Code;
use tower_http::auth::{AsyncAuthorizeRequest, AsyncRequireAuthorizationLayer};
use tracing::{info, warn};

use crate::authorization::Caller;

/// Paths reachable without a token: the health and reflection services.
const OPEN_PATH_PREFIXES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// Who may call a listener.
#[derive(Clone)]
pub enum Gate {
    /// Anyone, as the anonymous principal, with every right (`--insecure`).
    Open,
    /// Holders of a valid token of this store, with their role's rights.
    Tokens(Arc<dyn TokenStore>),
}

impl Gate {
    /// The tower layer that authenticates every call of a listener.
    pub fn layer(&self) -> AsyncRequireAuthorizationLayer<Gate> {
        AsyncRequireAuthorizationLayer::new(self.clone())
    }
}

impl<B: Send + 'static> AsyncAuthorizeRequest<B> for Gate {
    type RequestBody = B;
    type ResponseBody = tonic::body::Body;
    type Future = BoxFuture<'static, Result<http::Request<B>, http::Response<tonic::body::Body>>>;

    fn authorize(&mut self, mut request: http::Request<B>) -> Self::Future {
        let gate = self.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            if OPEN_PATH_PREFIXES
                .iter()
                .any(|prefix| path.starts_with(prefix))
            {
                return Ok(request);
            }
            let store = match gate {
                Gate::Open => {
                    request.extensions_mut().insert(Caller::unauthenticated());
                    return Ok(request);
                }
                Gate::Tokens(store) => store,
            };
            let header = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .map(|value| value.to_str().unwrap_or("\u{fffd}"));
            match authenticate(store.as_ref(), header, Utc::now()).await {
                Ok(authenticated) => {
                    request.extensions_mut().insert(Caller {
                        principal: authenticated.principal,
                        role: Some(authenticated.role),
                    });
                    Ok(request)
                }
                Err(error) => Err(refusal(&path, &error).into_http()),
            }
        })
    }
}

/// The status for a call whose token was not accepted; logged once, here.
fn refusal(path: &str, error: &AuthError) -> tonic::Status {
    let (code, reason) = match error {
        AuthError::Missing => (Code::Unauthenticated, "TOKEN_MISSING"),
        AuthError::Malformed(_) => (Code::Unauthenticated, "TOKEN_MALFORMED"),
        // One answer for an unknown id and a wrong secret: a caller must not learn which ids
        // exist.
        AuthError::Unknown { .. } | AuthError::WrongSecret { .. } => {
            (Code::Unauthenticated, "TOKEN_INVALID")
        }
        AuthError::Expired { .. } => (Code::Unauthenticated, "TOKEN_EXPIRED"),
        AuthError::Revoked { .. } => (Code::Unauthenticated, "TOKEN_REVOKED"),
        AuthError::Store(_) => (Code::Unavailable, "TOKEN_STORE_UNAVAILABLE"),
    };
    if code == Code::Unavailable {
        warn!(path, %error, "token store unavailable; call refused");
    } else {
        info!(path, reason, %error, "call not authenticated");
    }
    let message = match error {
        AuthError::Unknown { .. } | AuthError::WrongSecret { .. } => {
            "the token is not valid".to_owned()
        }
        other => other.to_string(),
    };
    status::with_reason(code, reason, message)
}
