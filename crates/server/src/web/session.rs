//! Who is looking: a bearer token on every request (the API, as tools call it) or a session
//! that a login with a token opened (the dashboard, as a browser uses it).
//!
//! A session is a random id in a cookie that is `HttpOnly` (no script reads it), `Secure` and
//! `SameSite=Strict` (never sent by another site's page), under the `__Host-` prefix (only
//! this host, path `/`). The token itself stays on the server, in the session, and is checked
//! against the token store on every request, exactly as the gRPC gate does: a revoked or
//! expired token ends its sessions at the next page. Forms that change something (logout, the
//! review queue's decisions) carry the session's own CSRF token and are refused from another
//! origin, as the login form is.
//!
//! Sessions live in this process's memory: behind a load balancer, route a browser to one
//! query service (sticky sessions), or it logs in again on another.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use receivables_access::{AuthError, authenticate};
use receivables_eventlog::EventLog;
use serde::Deserialize;
use tracing::info;

use super::failure::Failure;
use super::layout;
use super::session_store::{SESSION_COOKIE, SESSION_LIFETIME_MAX};
use super::state::WebState;
use crate::authentication::Gate;
use crate::authorization::Caller;

/// Whoever a request comes from, as the services see them.
pub struct Viewer {
    pub caller: Caller,
    /// The session's CSRF token (empty without a session: a listener without tokens, or a
    /// bearer token).
    pub csrf: String,
    /// Whether the viewer came through a session (and can log out).
    pub in_session: bool,
}

/// Why a request has no viewer.
pub enum NoViewer {
    /// Neither a token nor a session: a page sends the browser to the login form.
    Anonymous,
    /// A token or session that is not (or no longer) good.
    Refused(Failure),
}

/// The viewer of a request: on a listener without tokens anyone, as the anonymous principal;
/// otherwise the `Authorization` header's token, or the session cookie's.
pub async fn viewer<L: EventLog>(
    state: &WebState<L>,
    headers: &HeaderMap,
) -> Result<Viewer, NoViewer> {
    let store = match &state.gate {
        Gate::Open => {
            return Ok(Viewer {
                caller: Caller::unauthenticated(),
                csrf: String::new(),
                in_session: false,
            });
        }
        Gate::Tokens(store) => store,
    };
    let (authorization, csrf, session) = match headers.get(header::AUTHORIZATION) {
        Some(value) => (
            value.to_str().unwrap_or("\u{fffd}").to_owned(),
            String::new(),
            None,
        ),
        None => {
            let (id, session) = cookie(headers, SESSION_COOKIE)
                .and_then(|id| state.sessions.get(&id).map(|session| (id, session)))
                .ok_or(NoViewer::Anonymous)?;
            (
                session.authorization.clone(),
                session.csrf.clone(),
                Some(id),
            )
        }
    };
    match authenticate(store.as_ref(), Some(&authorization), Utc::now()).await {
        Ok(authenticated) => Ok(Viewer {
            caller: Caller {
                principal: authenticated.principal,
                role: Some(authenticated.role),
            },
            csrf,
            in_session: session.is_some(),
        }),
        Err(error) => {
            // A session whose token is revoked or expired is over; one whose store cannot be
            // reached is kept for when it can.
            if let Some(id) = session
                && !matches!(error, AuthError::Store(_))
            {
                state.sessions.close(&id);
            }
            Err(NoViewer::Refused(refusal(&error)))
        }
    }
}

/// The answer to a token that was not accepted: the reasons the gRPC gate gives.
fn refusal(error: &AuthError) -> Failure {
    let reason = match error {
        AuthError::Missing => "TOKEN_MISSING",
        AuthError::Malformed(_) => "TOKEN_MALFORMED",
        AuthError::Unknown { .. } | AuthError::WrongSecret { .. } => "TOKEN_INVALID",
        AuthError::Expired { .. } => "TOKEN_EXPIRED",
        AuthError::Revoked { .. } => "TOKEN_REVOKED",
        AuthError::Store(_) => {
            return Failure {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "UNAVAILABLE",
                reason: Some("TOKEN_STORE_UNAVAILABLE".to_owned()),
                message: error.to_string(),
                fields: Vec::new(),
            };
        }
    };
    let message = match error {
        // One answer for an unknown id and a wrong secret: nobody learns which ids exist.
        AuthError::Unknown { .. } | AuthError::WrongSecret { .. } => {
            "the token is not valid".to_owned()
        }
        other => other.to_string(),
    };
    Failure::unauthenticated(reason, message)
}

/// The value of the cookie `name`, if the request carries it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

pub fn routes<L: EventLog>() -> Router<Arc<WebState<L>>> {
    Router::new()
        .route("/login", get(login_form::<L>).post(login::<L>))
        .route("/logout", post(logout::<L>))
}

async fn login_form<L: EventLog>(State(state): State<Arc<WebState<L>>>) -> Response {
    layout::login(matches!(state.gate, Gate::Open), None).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// Opens a session for a good token; the form again, with the reason, for a bad one.
async fn login<L: EventLog>(
    State(state): State<Arc<WebState<L>>>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers, &uri) {
        return (
            StatusCode::FORBIDDEN,
            layout::login(false, Some("The login form was sent from another site.")),
        )
            .into_response();
    }
    let Gate::Tokens(store) = &state.gate else {
        return Redirect::to("/").into_response();
    };
    let authorization = format!("Bearer {}", form.token.trim());
    match authenticate(store.as_ref(), Some(&authorization), Utc::now()).await {
        Ok(authenticated) => {
            info!(token = %authenticated.id, "dashboard login");
            let id = state.sessions.open(authorization);
            let cookie = format!(
                "{SESSION_COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
                SESSION_LIFETIME_MAX.as_secs()
            );
            with_cookie(Redirect::to("/").into_response(), &cookie)
        }
        Err(error) => {
            let failure = refusal(&error);
            (
                failure.status,
                layout::login(false, Some(&format!("Not logged in: {}", failure.message))),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

/// Closes the session, if the form carries its CSRF token.
async fn logout<L: EventLog>(
    State(state): State<Arc<WebState<L>>>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let Some(id) = cookie(&headers, SESSION_COOKIE) else {
        return Redirect::to("/login").into_response();
    };
    match state.sessions.get(&id) {
        Some(session) if constant_time_eq(session.csrf.as_bytes(), form.csrf.as_bytes()) => {
            state.sessions.close(&id);
            let cookie =
                format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
            with_cookie(Redirect::to("/login").into_response(), &cookie)
        }
        Some(_) => (
            StatusCode::FORBIDDEN,
            "the form's CSRF token is not this session's",
        )
            .into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Whether a form came from a page of this host: its `Origin` (browsers send it with every
/// POST) names the host the request was sent to (the `Host` header over HTTP/1.1, the URI's
/// authority over HTTP/2). A request without `Origin` (a tool, not a browser) passes.
pub(super) fn same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !host.is_empty() && origin_host == host
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-receivables-session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn a_login_from_another_site_is_not_same_origin() {
        let mut headers = HeaderMap::new();
        let path = Uri::from_static("/login");
        headers.insert(header::HOST, HeaderValue::from_static("localhost:8443"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://localhost:8443"),
        );
        assert!(same_origin(&headers, &path));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers, &path));
        // HTTP/2: no Host header, the authority in the URI.
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://localhost:8443"),
        );
        let absolute = Uri::from_static("https://localhost:8443/login");
        assert!(same_origin(&headers, &absolute));
        assert!(!same_origin(&headers, &path), "no host to compare: refused");
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
