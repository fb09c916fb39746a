//! `metrics`: the early-warning metrics of a period (预警指标), each with its formula and the
//! numbers that went into it; with `--collectors`, each collector's work in the period.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct MetricsArgs {
    /// The period: a month, YYYY-MM.
    #[arg(long, conflicts_with_all = ["quarter", "from", "to"])]
    pub month: Option<String>,
    /// The period: a quarter, YYYY-Q1 to YYYY-Q4.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub quarter: Option<String>,
    /// The period's first day, YYYY-MM-DD (with --to).
    #[arg(long, value_parser = values::date, requires = "to")]
    pub from: Option<String>,
    /// The period's last day, YYYY-MM-DD (with --from).
    #[arg(long, value_parser = values::date, requires = "from")]
    pub to: Option<String>,
    /// Only this subsidiary's.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only this customer's.
    #[arg(long)]
    pub customer: Option<String>,
    /// Only what this collector chases (the customers assigned to the collector, and the
    /// invoices of subsidiaries whose default the collector is for customers without one).
    #[arg(long)]
    pub collector: Option<String>,
    /// Also each of the last 12 month-ends, oldest first.
    #[arg(long)]
    pub series: bool,
    /// Print each collector's work in the period instead of the figures.
    #[arg(long)]
    pub collectors: bool,
    /// Days after a promised date during which payments still count (service default 3).
    #[arg(long, value_name = "DAYS")]
    pub grace_days: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl MetricsArgs {
    pub fn request(&self) -> pb::GetMetricsRequest {
        pb::GetMetricsRequest {
            month: self.month.clone().unwrap_or_default(),
            quarter: self.quarter.clone().unwrap_or_default(),
            from: self.from.clone().unwrap_or_default(),
            to: self.to.clone().unwrap_or_default(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            customer_id: self.customer.clone().unwrap_or_default(),
            collector: self.collector.clone().unwrap_or_default(),
            series: self.series,
            grace_days: self.grace_days,
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let metrics = connection.metrics().await?;
        let reply = metrics
            .call(self.request(), |mut client, request| async move {
                client.get_metrics(request).await
            })
            .await?;
        let text = if self.collectors {
            tables::collector_figures(&reply.collectors, connection.format)?
        } else {
            tables::metrics(&reply, connection.format)?
        };
        cmd::emit(out, &text)
    }
}
