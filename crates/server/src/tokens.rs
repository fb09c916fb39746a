//! `receivables tokens`: issuing, listing and revoking bearer tokens, working on the token store
//! directly (the data directory's `access.sqlite`, or the token bucket on NATS).
//!
//! This is the operator's tool on the machine that runs the service: whoever can open the store
//! can issue an admin token, exactly as whoever can open the event log can read it. With
//! `--remote` the same commands go through the running service's `AdminService` instead, with an
//! admin token. A token is printed once, alone on standard output (so that a script can capture
//! it); only its hash is stored. A revocation is seen by the service on the next call that
//! presents the token.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Days, Utc};
use receivables_access::{
    SqliteTokenStore, TokenId, TokenLabel, TokenRecord, TokenStatus, TokenStore, issue,
};
use receivables_api::pb;
use receivables_cli::connection::Connection;
use receivables_cli::error::CliError;
use receivables_domain::Principal;
use receivables_domain::access::Role;

use crate::config::{LOCAL_ADMIN, TOKEN_STORE_FILE, TokensArgs, TokensCommand};
use crate::nats;

/// Runs a tokens command, printing to `out`: on the store, or with `--remote` through the
/// service that `connection` names.
pub async fn run(
    args: &TokensArgs,
    connection: &Connection,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if args.remote {
        return remote(&args.command, connection, out).await;
    }
    let store = open(args).await?;
    let now = Utc::now();
    match &args.command {
        TokensCommand::Create {
            role,
            subsidiary,
            label,
            expires_in_days,
        } => {
            let role = Role::parse(role, subsidiary.as_deref())?;
            let label = TokenLabel::parse(label)?;
            let expires_at = expires_in_days
                .map(|days| now.checked_add_days(Days::new(days)))
                .map(|at| at.context("the expiry is out of range"))
                .transpose()?;
            let created_by = Principal::parse(LOCAL_ADMIN)?;
            let (bearer, record) = issue(role, label, expires_at, created_by, now)?;
            store.insert(&record).await?;
            eprintln!(
                "token {} for {} ({}){}; it is shown once, keep it now:",
                record.id.as_str(),
                record.role,
                record.label,
                expiry(record.expires_at)
            );
            writeln!(out, "{}", bearer.expose())?;
        }
        TokensCommand::List => {
            let records = store.list().await?;
            writeln!(
                out,
                "{:<16}  {:<22}  {:<20}  {:<20}  {:<20}  LABEL",
                "ID", "ROLE", "CREATED", "EXPIRES", "STATUS"
            )?;
            for record in records {
                writeln!(out, "{}", line(&record, now))?;
            }
        }
        TokensCommand::Revoke { id } => {
            let id = TokenId::parse(id)?;
            match store.revoke(&id, now).await? {
                Some(record) => {
                    let at = record.revoked_at.unwrap_or(now);
                    writeln!(out, "token {} revoked at {}", id.as_str(), stamp(at))?;
                }
                None => bail!("there is no token {}", id.as_str()),
            }
        }
    }
    Ok(())
}

/// The same commands through the `AdminService` of a running service.
async fn remote(
    command: &TokensCommand,
    connection: &Connection,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut admin = connection.admin().await?;
    let address = connection.query_address();
    let failed = |status: tonic::Status| anyhow::anyhow!(CliError::status(&address, &status));
    match command {
        TokensCommand::Create {
            role,
            subsidiary,
            label,
            expires_in_days,
        } => {
            let expires_at = expires_in_days
                .map(|days| Utc::now().checked_add_days(Days::new(days)))
                .map(|at| at.context("the expiry is out of range"))
                .transpose()?
                .map(|at| std::time::SystemTime::from(at).into());
            let reply = admin
                .create_token(pb::CreateTokenRequest {
                    role: role.clone(),
                    subsidiary_id: subsidiary.clone().unwrap_or_default(),
                    label: label.clone(),
                    expires_at,
                })
                .await
                .map_err(failed)?
                .into_inner();
            if let Some(info) = &reply.info {
                eprintln!(
                    "token {} for {} ({}); it is shown once, keep it now:",
                    info.id, info.role, info.label
                );
            }
            writeln!(out, "{}", reply.token)?;
        }
        TokensCommand::List => {
            let reply = admin
                .list_tokens(pb::ListTokensRequest {})
                .await
                .map_err(failed)?
                .into_inner();
            writeln!(out, "{:<16}  {:<22}  LABEL", "ID", "ROLE")?;
            for info in reply.tokens {
                let role = match info.subsidiary_id.as_str() {
                    "" => info.role,
                    subsidiary => format!("{} {subsidiary}", info.role),
                };
                let revoked = if info.revoked_at.is_some() {
                    "  (revoked)"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{:<16}  {:<22}  {}{revoked}",
                    info.id, role, info.label
                )?;
            }
        }
        TokensCommand::Revoke { id } => {
            admin
                .revoke_token(pb::RevokeTokenRequest { id: id.clone() })
                .await
                .map_err(failed)?;
            writeln!(out, "token {id} revoked")?;
        }
    }
    Ok(())
}

async fn open(args: &TokensArgs) -> anyhow::Result<Arc<dyn TokenStore>> {
    match &args.nats.nats_url {
        Some(url) => {
            let client = nats::connect(url, "receivables-tokens").await?;
            nats::token_store(client, &args.nats.tokens_bucket, args.nats.replicas).await
        }
        None => {
            std::fs::create_dir_all(&args.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {}",
                    args.data_dir.display()
                )
            })?;
            let path = args.data_dir.join(TOKEN_STORE_FILE);
            let store = SqliteTokenStore::open(&path)
                .await
                .with_context(|| format!("cannot open the token store {}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

fn expiry(at: Option<DateTime<Utc>>) -> String {
    at.map_or(", no expiry".to_owned(), |at| {
        format!(", expires {}", stamp(at))
    })
}

fn line(record: &TokenRecord, now: DateTime<Utc>) -> String {
    let status = match record.status(now) {
        TokenStatus::Active => "active".to_owned(),
        TokenStatus::Expired { .. } => "expired".to_owned(),
        TokenStatus::Revoked { at } => format!("revoked {}", stamp(at)),
    };
    format!(
        "{:<16}  {:<22}  {:<20}  {:<20}  {:<20}  {}",
        record.id.as_str(),
        record.role.to_string(),
        stamp(record.created_at),
        record.expires_at.map_or("-".to_owned(), stamp),
        status,
        record.label
    )
}
