//! `audit report aging|exposure|queue --known-at RFC3339`: a report as it was known at a past
//! moment, answered by the service from the rows of its read model recorded until then, for
//! any business `--as-of` date.
//!
//! Each report takes the live command's own flags (the same argument structs, flattened) and
//! prints with the same tables, so an auditor compares like with like. `--min-position` is
//! accepted for that reason but has no effect: the service waits for its read model to apply
//! the whole log before answering.
//!
//! A listing that follows several pages (the exposure list and the work queue) asks for pages
//! of [`crate::paging::PAGE_SIZE_MAX`] lines; each call is bounded by `--timeout`.

use chrono::{DateTime, Utc};
use receivables_api::pb;

use crate::cmd::aging::AgingArgs;
use crate::cmd::exposure::ExposureArgs;
use crate::cmd::queue::QueueArgs;
use crate::cmd::{self, Output};
use crate::connection::{Audit, Connection};
use crate::error::CliError;
use crate::tables;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub report: Report,
}

/// The reports that can be read as known at a past moment.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Report {
    /// The aging report as it was known at --known-at.
    Aging {
        #[command(flatten)]
        known: KnownAt,
        #[command(flatten)]
        args: AgingArgs,
    },
    /// The exposure list (or one customer's lines) as it was known at --known-at.
    Exposure {
        #[command(flatten)]
        known: KnownAt,
        #[command(flatten)]
        args: ExposureArgs,
    },
    /// The collector work queue as it was known at --known-at.
    Queue {
        #[command(flatten)]
        known: KnownAt,
        #[command(flatten)]
        args: QueueArgs,
    },
}

/// The moment the report is wanted as of: only events recorded until then count.
#[derive(Debug, Clone, clap::Args)]
pub struct KnownAt {
    /// The recorded time, RFC 3339 (`2026-03-01T09:00:00Z`, `2026-03-01T17:00:00+08:00`):
    /// events recorded after it are left out.
    #[arg(long, value_parser = instant, value_name = "RFC3339")]
    pub known_at: DateTime<Utc>,
}

impl KnownAt {
    fn timestamp(&self) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp::from(std::time::SystemTime::from(
            self.known_at,
        )))
    }
}

/// An RFC 3339 instant, in any offset.
fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2026-03-01T09:00:00Z: {e}"))
}

impl ReportArgs {
    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let audit = connection.audit().await?;
        let text = match &self.report {
            Report::Aging { known, args } => {
                let request = pb::GetAgingReportAsKnownRequest {
                    known_at: known.timestamp(),
                    report: Some(args.request()),
                };
                let report = audit
                    .call(request, |mut client, request| async move {
                        client.get_aging_report_as_known(request).await
                    })
                    .await?;
                tables::aging(&report, connection.format)?
            }
            Report::Exposure { known, args } => {
                tables::exposures(&exposures(&audit, known, args).await?, connection.format)?
            }
            Report::Queue { known, args } => {
                let limit = args.limit.and_then(|n| usize::try_from(n).ok());
                let items = audit
                    .pages(
                        limit,
                        |size, token| pb::GetWorkQueueAsKnownRequest {
                            known_at: known.timestamp(),
                            report: Some(args.request(size, token)),
                        },
                        |mut client, request| async move {
                            client.get_work_queue_as_known(request).await
                        },
                        |page| (page.items, page.next_page_token),
                    )
                    .await?;
                tables::work_queue(&items, connection.format)?
            }
        };
        cmd::emit(out, &text)
    }
}

/// The exposure list as known; with `--customer`, that customer's lines of the whole list (the
/// audit service rebuilds lists, not single accounts).
async fn exposures(
    audit: &Audit,
    known: &KnownAt,
    args: &ExposureArgs,
) -> Result<Vec<pb::Exposure>, CliError> {
    let limit = match args.customer {
        Some(_) => None,
        None => args.limit.and_then(|n| usize::try_from(n).ok()),
    };
    let lines = audit
        .pages(
            limit,
            |size, token| pb::ListExposuresAsKnownRequest {
                known_at: known.timestamp(),
                report: Some(args.list_request(size, token)),
            },
            |mut client, request| async move { client.list_exposures_as_known(request).await },
            |page| (page.lines, page.next_page_token),
        )
        .await?;
    Ok(match &args.customer {
        Some(customer) => lines
            .into_iter()
            .filter(|line| &line.customer_id == customer)
            .collect(),
        None => lines,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        report: Report,
    }

    #[test]
    fn known_at_is_read_in_any_offset() {
        let cli = Cli::try_parse_from([
            "x",
            "aging",
            "--known-at",
            "2026-03-01T17:00:00+08:00",
            "--as-of",
            "2026-02-28",
            "--group-by",
            "subsidiary",
        ])
        .unwrap();
        let Report::Aging { known, args } = cli.report else {
            panic!("not aging: {:?}", cli.report)
        };
        assert_eq!(known.known_at.to_rfc3339(), "2026-03-01T09:00:00+00:00");
        assert_eq!(args.request().scope.unwrap().as_of, "2026-02-28");
        assert_eq!(
            known.timestamp().unwrap().seconds,
            known.known_at.timestamp()
        );
    }

    #[test]
    fn known_at_is_required_and_checked() {
        assert!(Cli::try_parse_from(["x", "queue"]).is_err());
        assert!(Cli::try_parse_from(["x", "exposure", "--known-at", "2026-03-01"]).is_err());
        assert!(
            Cli::try_parse_from(["x", "exposure", "--known-at", "2026-03-01T00:00:00Z"]).is_ok()
        );
    }
}
