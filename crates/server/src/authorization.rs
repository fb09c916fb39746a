//! The check at the top of every RPC: may this caller take this action?
//!
//! Authentication (see [`crate::authentication`]) has already turned the bearer token into a
//! [`Caller`] in the request's extensions. Each RPC names its [`Action`], with the subsidiary
//! the request concerns, and gets back the principal to record, or `PERMISSION_DENIED`. A
//! request that reaches a service without a caller (a listener built without the gate) is
//! refused as `UNAUTHENTICATED`: the check fails closed.

use receivables_api::status;
use receivables_domain::access::{Action, Role};
use receivables_domain::{Principal, SubsidiaryId};
use tonic::{Code, Request, Status};
use tracing::warn;

/// Who is calling, as authentication established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Recorded in every event the caller causes.
    pub principal: Principal,
    /// `None` only on a listener started without authentication (`--insecure`), where every
    /// caller may do everything.
    pub role: Option<Role>,
}

impl Caller {
    /// The caller on a listener without authentication.
    pub fn unauthenticated() -> Caller {
        Caller {
            principal: Principal::anonymous(),
            role: None,
        }
    }
}

/// The caller of `request`, if it is allowed to take `action`; its principal otherwise.
pub fn authorize<T>(request: &Request<T>, action: Action<'_>) -> Result<Principal, Status> {
    let caller = caller_of(request)?;
    if let Some(role) = &caller.role
        && let Err(denial) = role.permits(&action)
    {
        return Err(denied(caller, &denial.reason));
    }
    Ok(caller.principal.clone())
}

/// Posting for the subsidiary a request names (not yet validated): an id that does not even
/// parse cannot be a subsidiary poster's own, and no other role posts.
pub fn authorize_post<T>(request: &Request<T>, subsidiary: &str) -> Result<Principal, Status> {
    match SubsidiaryId::parse(subsidiary) {
        Ok(subsidiary) => authorize(
            request,
            Action::Post {
                subsidiary: &subsidiary,
            },
        ),
        Err(_) => {
            let caller = caller_of(request)?;
            match &caller.role {
                None => Ok(caller.principal.clone()),
                Some(role) => Err(denied(
                    caller,
                    &format!("the {role} token cannot post for subsidiary {subsidiary:?}"),
                )),
            }
        }
    }
}

/// Moving money for the subsidiary a request names (not yet validated): a subsidiary poster only
/// for its own, a group role (credit, treasury) for any. An id that does not parse is refused to
/// a subsidiary poster and to the roles that move no money, and left to the reading of the
/// request, which names it, for the others.
pub fn authorize_settle<T>(request: &Request<T>, subsidiary: &str) -> Result<Principal, Status> {
    match SubsidiaryId::parse(subsidiary) {
        Ok(subsidiary) => authorize(
            request,
            Action::Settle {
                subsidiary: &subsidiary,
                touches: &[],
                on_behalf_of: &[],
            },
        ),
        Err(_) => {
            let caller = caller_of(request)?;
            let group_role = matches!(caller.role, None | Some(Role::Credit | Role::Treasury));
            if group_role {
                return Ok(caller.principal.clone());
            }
            let role = caller
                .role
                .as_ref()
                .map_or_else(String::new, ToString::to_string);
            Err(denied(
                caller,
                &format!("the {role} token cannot move money for subsidiary {subsidiary:?}"),
            ))
        }
    }
}

/// Reading a report filtered by the subsidiary the request names ("" for none).
pub fn authorize_read<T>(request: &Request<T>, subsidiary: &str) -> Result<Principal, Status> {
    if subsidiary.is_empty() {
        return authorize(request, Action::ReadSubsidiary { subsidiary: None });
    }
    match SubsidiaryId::parse(subsidiary) {
        Ok(subsidiary) => authorize(
            request,
            Action::ReadSubsidiary {
                subsidiary: Some(&subsidiary),
            },
        ),
        // Not a subsidiary id at all: validation answers INVALID_ARGUMENT to whoever may read
        // unfiltered reports; a subsidiary poster cannot name it as its own.
        Err(_) => {
            let caller = caller_of(request)?;
            match &caller.role {
                Some(Role::Subsidiary(own)) => Err(denied(
                    caller,
                    &format!("a token of subsidiary {own} cannot read subsidiary {subsidiary:?}"),
                )),
                _ => authorize(request, Action::ReadSubsidiary { subsidiary: None }),
            }
        }
    }
}

/// The role of the caller, for the checks that need the decided event (money moved against
/// another subsidiary's documents); `None` when the service runs without tokens.
pub fn role_of<T>(request: &Request<T>) -> Option<Role> {
    request
        .extensions()
        .get::<Caller>()
        .and_then(|caller| caller.role.clone())
}

fn caller_of<T>(request: &Request<T>) -> Result<&Caller, Status> {
    request.extensions().get::<Caller>().ok_or_else(|| {
        warn!("a call reached a service without passing authentication; refused");
        status::with_reason(
            Code::Unauthenticated,
            "NOT_AUTHENTICATED",
            "the call was not authenticated",
        )
    })
}

fn denied(caller: &Caller, reason: &str) -> Status {
    warn!(
        principal = caller.principal.as_str(),
        reason, "permission denied"
    );
    status::with_reason(Code::PermissionDenied, "PERMISSION_DENIED", reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_from(role: Option<Role>) -> Request<()> {
        let mut request = Request::new(());
        let caller = match role {
            Some(role) => Caller {
                principal: Principal::parse("token:0123456789abcdef").expect("principal"),
                role: Some(role),
            },
            None => Caller::unauthenticated(),
        };
        request.extensions_mut().insert(caller);
        request
    }

    fn subsidiary(id: &str) -> Role {
        Role::Subsidiary(SubsidiaryId::parse(id).expect("id"))
    }

    #[test]
    fn no_caller_is_unauthenticated() {
        let status = authorize(&Request::new(()), Action::ReadGroup).expect_err("no caller");
        assert_eq!(status.code(), Code::Unauthenticated);
    }

    #[test]
    fn the_principal_is_the_callers() {
        let principal = authorize_post(&request_from(Some(subsidiary("SUB-1"))), "SUB-1")
            .expect("own subsidiary");
        assert_eq!(principal.as_str(), "token:0123456789abcdef");
        let principal = authorize(&request_from(None), Action::Rebuild).expect("open listener");
        assert_eq!(principal, Principal::anonymous());
    }

    #[test]
    fn unparsable_subsidiaries_are_never_a_posters_own() {
        for raw in ["SUB.1", "", "SUB-1 ", "ar.events.>"] {
            let status = authorize_post(&request_from(Some(subsidiary("SUB-1"))), raw)
                .expect_err("not its own");
            assert_eq!(status.code(), Code::PermissionDenied, "{raw:?}");
            let status = authorize_post(&request_from(Some(Role::Credit)), raw)
                .expect_err("credit does not post");
            assert_eq!(status.code(), Code::PermissionDenied, "{raw:?}");
        }
        // Without authentication validation decides (INVALID_ARGUMENT later).
        assert!(authorize_post(&request_from(None), "SUB.1").is_ok());
    }

    #[test]
    fn an_unparsable_subsidiary_is_left_to_validation_only_for_the_roles_that_move_money() {
        for raw in ["SUB.1", "", "ar.events.>"] {
            let status = authorize_settle(&request_from(Some(subsidiary("SUB-1"))), raw)
                .expect_err("not its own");
            assert_eq!(status.code(), Code::PermissionDenied, "{raw:?}");
            let status = authorize_settle(&request_from(Some(Role::Reporting)), raw)
                .expect_err("reporting moves no money");
            assert_eq!(status.code(), Code::PermissionDenied, "{raw:?}");
            // Credit control and treasury move money for any subsidiary: the reading of the
            // request names the bad id (INVALID_ARGUMENT later).
            assert!(authorize_settle(&request_from(Some(Role::Credit)), raw).is_ok());
            assert!(authorize_settle(&request_from(Some(Role::Treasury)), raw).is_ok());
        }
        assert!(authorize_settle(&request_from(None), "SUB.1").is_ok());
    }

    #[test]
    fn reading_is_scoped_for_subsidiaries() {
        let poster = || request_from(Some(subsidiary("SUB-1")));
        assert!(authorize_read(&poster(), "SUB-1").is_ok());
        for other in ["SUB-2", "", "SUB.1"] {
            let status = authorize_read(&poster(), other).expect_err("not its own");
            assert_eq!(status.code(), Code::PermissionDenied, "{other:?}");
        }
        assert!(authorize_read(&request_from(Some(Role::Reporting)), "").is_ok());
        assert!(authorize_read(&request_from(Some(Role::Reporting)), "SUB.1").is_ok());
        let status =
            authorize_read(&request_from(Some(Role::Admin)), "").expect_err("admin does not read");
        assert_eq!(status.code(), Code::PermissionDenied);
    }
}
