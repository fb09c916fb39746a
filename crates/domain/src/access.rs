//! Who may do what: the roles a token grants and the one policy every RPC is checked against.
//!
//! The policy is a pure function of a [`Role`] and an [`Action`], so the whole matrix is tested
//! here without a server; the service maps each RPC to its action (with the subsidiary the request
//! names) and refuses with `PERMISSION_DENIED` whatever [`Role::permits`] refuses.
//!
//! A subsidiary poster is scoped to one subsidiary id: it posts invoices, payments and promises
//! only for that subsidiary and reads only reports filtered to it. Money it moves (payments,
//! credit notes, applications, refunds, reversals) may touch only its own subsidiary's
//! documents: paying or crediting another subsidiary's invoice is a decision of the group, taken
//! by the group-level roles (credit control, treasury), or made once for a pair of subsidiaries
//! by enabling collection on behalf (`account/collection_on_behalf.rs`, an admin's setting).
//! Write-offs are credit control's (or an admin's) alone. A subsidiary's order system may ask
//! whether an amount fits under any customer's group-wide limit (`CheckCredit`): the figures of
//! that answer are what the group lets its sales decide on. Reports that cannot be narrowed
//! to one subsidiary (an account, exposures, the work queue, promises) concern the whole group
//! and are refused to it.

use std::fmt;

use crate::ids::{IdError, SubsidiaryId};

/// The name of a role, as written on the command line and in the token store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleName {
    Subsidiary,
    Credit,
    Treasury,
    Reporting,
    Auditor,
    Admin,
}

impl RoleName {
    pub const ALL: [RoleName; 6] = [
        RoleName::Subsidiary,
        RoleName::Credit,
        RoleName::Treasury,
        RoleName::Reporting,
        RoleName::Auditor,
        RoleName::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Subsidiary => "subsidiary",
            RoleName::Credit => "credit",
            RoleName::Treasury => "treasury",
            RoleName::Reporting => "reporting",
            RoleName::Auditor => "auditor",
            RoleName::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Result<RoleName, AccessError> {
        RoleName::ALL
            .into_iter()
            .find(|name| name.as_str() == value)
            .ok_or_else(|| AccessError::UnknownRole(value.to_owned()))
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a token grants: a role, and for a subsidiary poster the one subsidiary it acts for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// Posts invoices, payments and promises for its own subsidiary; reads reports filtered to it.
    Subsidiary(SubsidiaryId),
    /// Credit control: changes credit limits, writes off bad debts, moves money for any
    /// subsidiary against any subsidiary's documents, and reads everything.
    Credit,
    /// The group's treasury (资金集中管理): moves money for any subsidiary against any
    /// subsidiary's documents (collection on behalf), and reads everything.
    Treasury,
    /// Reads every query.
    Reporting,
    /// Reads every query and replays and verifies the log.
    Auditor,
    /// Manages tokens and rebuilds read models.
    Admin,
}

/// Why a role could not be made, or a role name was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("unknown role {0:?} (subsidiary, credit, treasury, reporting, auditor or admin)")]
    UnknownRole(String),
    #[error("the subsidiary role needs the subsidiary it acts for")]
    SubsidiaryMissing,
    #[error("only the subsidiary role is scoped to a subsidiary")]
    SubsidiaryNotAllowed,
    #[error("bad subsidiary id: {0}")]
    BadSubsidiary(IdError),
}

impl Role {
    /// The role called `name`, scoped to `subsidiary` exactly when it is the subsidiary role.
    pub fn new(name: RoleName, subsidiary: Option<SubsidiaryId>) -> Result<Role, AccessError> {
        match (name, subsidiary) {
            (RoleName::Subsidiary, Some(subsidiary)) => Ok(Role::Subsidiary(subsidiary)),
            (RoleName::Subsidiary, None) => Err(AccessError::SubsidiaryMissing),
            (_, Some(_)) => Err(AccessError::SubsidiaryNotAllowed),
            (RoleName::Credit, None) => Ok(Role::Credit),
            (RoleName::Treasury, None) => Ok(Role::Treasury),
            (RoleName::Reporting, None) => Ok(Role::Reporting),
            (RoleName::Auditor, None) => Ok(Role::Auditor),
            (RoleName::Admin, None) => Ok(Role::Admin),
        }
    }

    /// Parses a role name and an optional subsidiary id, as stored or typed.
    pub fn parse(name: &str, subsidiary: Option<&str>) -> Result<Role, AccessError> {
        let subsidiary = subsidiary
            .map(SubsidiaryId::parse)
            .transpose()
            .map_err(AccessError::BadSubsidiary)?;
        Role::new(RoleName::parse(name)?, subsidiary)
    }

    pub fn name(&self) -> RoleName {
        match self {
            Role::Subsidiary(_) => RoleName::Subsidiary,
            Role::Credit => RoleName::Credit,
            Role::Treasury => RoleName::Treasury,
            Role::Reporting => RoleName::Reporting,
            Role::Auditor => RoleName::Auditor,
            Role::Admin => RoleName::Admin,
        }
    }

    /// The subsidiary a subsidiary poster acts for; `None` for every other role.
    pub fn subsidiary(&self) -> Option<&SubsidiaryId> {
        match self {
            Role::Subsidiary(subsidiary) => Some(subsidiary),
            _ => None,
        }
    }

    /// Whether this role may take `action`; the refusal says why, for the caller.
    pub fn permits(&self, action: &Action<'_>) -> Result<(), Denial> {
        let allowed = match (self, action) {
            (Role::Subsidiary(own), Action::Post { subsidiary }) => {
                if own != *subsidiary {
                    return Err(Denial::new(format!(
                        "a token of subsidiary {own} cannot post for subsidiary {subsidiary}"
                    )));
                }
                true
            }
            (Role::Subsidiary(own), Action::ReadSubsidiary { subsidiary }) => match subsidiary {
                Some(subsidiary) if own == *subsidiary => true,
                Some(subsidiary) => {
                    return Err(Denial::new(format!(
                        "a token of subsidiary {own} cannot read subsidiary {subsidiary}"
                    )));
                }
                None => {
                    return Err(Denial::new(format!(
                        "a token of subsidiary {own} must filter the report by subsidiary {own}"
                    )));
                }
            },
            (
                Role::Subsidiary(own),
                Action::Settle {
                    subsidiary,
                    touches,
                    on_behalf_of,
                },
            ) => {
                if own != *subsidiary {
                    return Err(Denial::new(format!(
                        "a token of subsidiary {own} cannot post for subsidiary {subsidiary}"
                    )));
                }
                if let Some(other) = touches
                    .iter()
                    .find(|s| **s != own && !on_behalf_of.contains(s))
                {
                    return Err(Denial::new(format!(
                        "a token of subsidiary {own} cannot move money against documents of \
                         subsidiary {other}: that takes a group role (credit or treasury), or \
                         the group enabling collection on behalf of {other} by {own}"
                    )));
                }
                true
            }
            (Role::Subsidiary(_), Action::CheckCredit) => true,
            (Role::Subsidiary(_), _) => false,
            (
                Role::Credit,
                Action::ChangeCreditLimit | Action::WriteOff | Action::MaintainCustomers,
            ) => true,
            (Role::Credit | Role::Treasury, Action::Settle { .. } | Action::ConfirmBalance) => true,
            (Role::Treasury, Action::PublishRates) => true,
            (Role::Treasury | Role::Admin, Action::ManageBankAccounts) => true,
            (Role::Admin, Action::WriteOff) => true,
            (
                Role::Credit | Role::Treasury | Role::Reporting | Role::Auditor,
                Action::ReadSubsidiary { .. } | Action::ReadGroup | Action::CheckCredit,
            ) => true,
            (Role::Auditor, Action::Audit) => true,
            (Role::Admin, Action::Rebuild | Action::ManageTokens | Action::ConfigureGroup) => true,
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Denial::new(format!(
                "the {} role may not {}",
                self.name(),
                action.describe()
            )))
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Subsidiary(subsidiary) => write!(f, "subsidiary {subsidiary}"),
            other => f.write_str(other.name().as_str()),
        }
    }
}

/// What an RPC does, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Issue an invoice, record a payment or a promise to pay for this subsidiary.
    Post { subsidiary: &'a SubsidiaryId },
    /// Move money for this subsidiary (a payment, credit note, application, refund or
    /// reversal) against documents of the subsidiaries in `touches`.
    Settle {
        subsidiary: &'a SubsidiaryId,
        touches: &'a [&'a SubsidiaryId],
        /// The subsidiaries the group lets `subsidiary` collect on behalf of: their documents
        /// count as its own for a subsidiary's token.
        on_behalf_of: &'a [SubsidiaryId],
    },
    /// Change a customer's credit limit (a group-wide decision).
    ChangeCreditLimit,
    /// Write off an invoice as bad debt.
    WriteOff,
    /// Read a report that can be filtered by subsidiary; `None` when it is not.
    ReadSubsidiary {
        subsidiary: Option<&'a SubsidiaryId>,
    },
    /// Read something that concerns the whole group (an account, exposures, the work queue,
    /// promises).
    ReadGroup,
    /// Replay or verify the log, or ask for a report as it was known.
    Audit,
    /// Rebuild the read model.
    Rebuild,
    /// Create, list or revoke tokens.
    ManageTokens,
    /// Change the group's settings (which subsidiary collects on behalf of which).
    ConfigureGroup,
    /// Record a customer's confirmation of its balance with the whole group.
    ConfirmBalance,
    /// Register or update a customer's record, assign collectors: the customer master data
    /// the credit department keeps for the whole group.
    MaintainCustomers,
    /// Publish the group's exchange rates: treasury's.
    PublishRates,
    /// Ask whether an amount would fit under a customer's limit (nothing appended): a
    /// subsidiary's order system for any customer, and the group's reading roles.
    CheckCredit,
    /// Register the group's bank accounts, whose statements are imported: treasury's (and an
    /// admin's). Importing a statement and matching its lines is moving money for the
    /// subsidiary that holds the account (`Settle`).
    ManageBankAccounts,
}

impl Action<'_> {
    fn describe(&self) -> String {
        match self {
            Action::Post { subsidiary } => format!("post for subsidiary {subsidiary}"),
            Action::Settle { subsidiary, .. } => {
                format!("move money for subsidiary {subsidiary}")
            }
            Action::ChangeCreditLimit => "change credit limits".to_owned(),
            Action::WriteOff => "write off invoices".to_owned(),
            Action::ReadSubsidiary { .. } | Action::ReadGroup => "read reports".to_owned(),
            Action::Audit => "replay or verify the log".to_owned(),
            Action::Rebuild => "rebuild the read model".to_owned(),
            Action::ManageTokens => "manage tokens".to_owned(),
            Action::ConfigureGroup => "change the group's settings".to_owned(),
            Action::ConfirmBalance => "record balance confirmations".to_owned(),
            Action::MaintainCustomers => {
                "maintain customer records and collector assignments".to_owned()
            }
            Action::PublishRates => "publish exchange rates".to_owned(),
            Action::CheckCredit => "check customers' credit".to_owned(),
            Action::ManageBankAccounts => "register bank accounts".to_owned(),
        }
    }
}

/// A refused action, with the reason given to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub reason: String,
}

impl Denial {
    fn new(reason: String) -> Denial {
        Denial { reason }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(id: &str) -> SubsidiaryId {
        SubsidiaryId::parse(id).expect("valid id")
    }

    /// Every role against every kind of action, written out as the issue states it.
    #[test]
    fn the_matrix() {
        let own = sub("SUB-1");
        let other = sub("SUB-2");
        let subsidiary = Role::Subsidiary(own.clone());
        let only_own = [&own];
        let with_other = [&own, &other];
        let enabled = [other.clone()];
        let actions = [
            ("post own", Action::Post { subsidiary: &own }),
            ("post other", Action::Post { subsidiary: &other }),
            (
                "settle own against own",
                Action::Settle {
                    subsidiary: &own,
                    touches: &only_own,
                    on_behalf_of: &[],
                },
            ),
            (
                "settle own against other",
                Action::Settle {
                    subsidiary: &own,
                    touches: &with_other,
                    on_behalf_of: &[],
                },
            ),
            (
                "settle own against other on behalf",
                Action::Settle {
                    subsidiary: &own,
                    touches: &with_other,
                    on_behalf_of: &enabled,
                },
            ),
            (
                "settle other",
                Action::Settle {
                    subsidiary: &other,
                    touches: &[],
                    on_behalf_of: &[],
                },
            ),
            ("write off", Action::WriteOff),
            ("credit limit", Action::ChangeCreditLimit),
            (
                "read own",
                Action::ReadSubsidiary {
                    subsidiary: Some(&own),
                },
            ),
            (
                "read other",
                Action::ReadSubsidiary {
                    subsidiary: Some(&other),
                },
            ),
            ("read all", Action::ReadSubsidiary { subsidiary: None }),
            ("read group", Action::ReadGroup),
            ("audit", Action::Audit),
            ("rebuild", Action::Rebuild),
            ("tokens", Action::ManageTokens),
            ("configure group", Action::ConfigureGroup),
            ("confirm balance", Action::ConfirmBalance),
            ("maintain customers", Action::MaintainCustomers),
            ("publish rates", Action::PublishRates),
            ("check credit", Action::CheckCredit),
        ];
        // Columns in the order of `actions`: post own, post other, settle own against own,
        // settle own against other, the same with collection on behalf of the other enabled,
        // settle other, write off, credit limit, read own, read other, read all, read group,
        // audit, rebuild, tokens, configure group, confirm balance, maintain customers, publish
        // rates, check credit.
        let expected: [(&Role, [bool; 20]); 6] = [
            (
                &subsidiary,
                [
                    true, false, true, false, true, false, false, false, true, false, false, false,
                    false, false, false, false, false, false, false, true,
                ],
            ),
            (
                &Role::Credit,
                [
                    false, false, true, true, true, true, true, true, true, true, true, true,
                    false, false, false, false, true, true, false, true,
                ],
            ),
            (
                &Role::Treasury,
                [
                    false, false, true, true, true, true, false, false, true, true, true, true,
                    false, false, false, false, true, false, true, true,
                ],
            ),
            (
                &Role::Reporting,
                [
                    false, false, false, false, false, false, false, false, true, true, true, true,
                    false, false, false, false, false, false, false, true,
                ],
            ),
            (
                &Role::Auditor,
                [
                    false, false, false, false, false, false, false, false, true, true, true, true,
                    true, false, false, false, false, false, false, true,
                ],
            ),
            (
                &Role::Admin,
                [
                    false, false, false, false, false, false, true, false, false, false, false,
                    false, false, true, true, true, false, false, false, false,
                ],
            ),
        ];
        for (role, row) in expected {
            for ((label, action), allowed) in actions.iter().zip(row) {
                assert_eq!(
                    role.permits(action).is_ok(),
                    allowed,
                    "{role} / {label}: {:?}",
                    role.permits(action)
                );
            }
        }
    }

    /// Collection on behalf is directed and per pair: S1 collecting for S2 lets S1 touch S2's
    /// documents, not S3's, and lets S2 touch nothing of S1's.
    #[test]
    fn collection_on_behalf_covers_only_the_pairs_enabled() {
        let (s1, s2, s3) = (sub("S1"), sub("S2"), sub("S3"));
        let for_s1 = [s2.clone()];
        let settle = |role: &Role, subsidiary, touches: &[&SubsidiaryId], on_behalf_of| {
            role.permits(&Action::Settle {
                subsidiary,
                touches,
                on_behalf_of,
            })
        };
        let collector = Role::Subsidiary(s1.clone());
        assert!(settle(&collector, &s1, &[&s1, &s2], &for_s1).is_ok());
        let denial = settle(&collector, &s1, &[&s2, &s3], &for_s1).expect_err("S3 not enabled");
        assert!(denial.reason.contains("S3"), "{denial}");
        let owner = Role::Subsidiary(s2.clone());
        assert!(settle(&owner, &s2, &[&s1], &[]).is_err());
    }

    #[test]
    fn denials_name_the_subsidiaries() {
        let role = Role::Subsidiary(sub("SUB-1"));
        let other = sub("SUB-2");
        let denial = role
            .permits(&Action::Post { subsidiary: &other })
            .expect_err("another subsidiary");
        assert!(denial.reason.contains("SUB-1") && denial.reason.contains("SUB-2"));
        let denial = Role::Reporting
            .permits(&Action::Audit)
            .expect_err("reporting does not audit");
        assert_eq!(
            denial.reason,
            "the reporting role may not replay or verify the log"
        );
    }

    #[test]
    fn only_the_subsidiary_role_has_a_subsidiary() {
        assert_eq!(
            Role::parse("subsidiary", Some("SUB-1")),
            Ok(Role::Subsidiary(sub("SUB-1")))
        );
        assert_eq!(
            Role::parse("subsidiary", None),
            Err(AccessError::SubsidiaryMissing)
        );
        assert_eq!(
            Role::parse("credit", Some("SUB-1")),
            Err(AccessError::SubsidiaryNotAllowed)
        );
        assert!(matches!(
            Role::parse("subsidiary", Some("SUB.1")),
            Err(AccessError::BadSubsidiary(_))
        ));
        assert_eq!(
            Role::parse("root", None),
            Err(AccessError::UnknownRole("root".to_owned()))
        );
        for name in RoleName::ALL {
            assert_eq!(RoleName::parse(name.as_str()), Ok(name));
        }
    }
}
