//! `aging`: open receivables as of a date in buckets of days past due, per customer,
//! subsidiary or the whole group.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct AgingArgs {
    /// The business date the report is as of, YYYY-MM-DD; default: today (the service's date,
    /// UTC). Payments received after it do not count.
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// One line per customer, per subsidiary, or one for the whole group (per currency).
    #[arg(long, value_enum, ignore_case = true, default_value_t = GroupBy::Customer)]
    pub group_by: GroupBy,
    /// Age by due date, by invoice date, or by payment terms (each row of an invoice's schedule,
    /// or of its instalment plan, by its own due date).
    #[arg(long, value_enum, ignore_case = true, default_value_t = Basis::DueDate)]
    pub basis: Basis,
    /// Only this subsidiary's invoices.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only this customer's invoices.
    #[arg(long)]
    pub customer: Option<String>,
    /// Only invoices in this currency.
    #[arg(long)]
    pub currency: Option<String>,
    /// Upper edges of the overdue buckets in days, strictly increasing; default 30,60,90,120
    /// (buckets current, 1-30, 31-60, 61-90, 91-120, over 120).
    #[arg(long, value_delimiter = ',', value_name = "DAYS,...")]
    pub edges: Vec<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    Customer,
    Subsidiary,
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Basis {
    DueDate,
    InvoiceDate,
    PaymentTerms,
}

impl AgingArgs {
    /// The scope of the report (also the scope of its open items).
    pub fn scope(&self) -> pb::AgingScope {
        pb::AgingScope {
            as_of: self.as_of.clone().unwrap_or_default(),
            basis: match self.basis {
                Basis::DueDate => pb::AgingBasis::DueDate,
                Basis::InvoiceDate => pb::AgingBasis::InvoiceDate,
                Basis::PaymentTerms => pb::AgingBasis::PaymentTerms,
            }
            .into(),
            bucket_edges_days: self.edges.clone(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            customer_id: self.customer.clone().unwrap_or_default(),
            currency: self.currency.clone().unwrap_or_default(),
        }
    }

    pub fn request(&self) -> pb::GetAgingReportRequest {
        pb::GetAgingReportRequest {
            scope: Some(self.scope()),
            group_by: match self.group_by {
                GroupBy::Customer => pb::AgingGroupBy::Customer,
                GroupBy::Subsidiary => pb::AgingGroupBy::Subsidiary,
                GroupBy::Group => pb::AgingGroupBy::Group,
            }
            .into(),
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let queries = connection.queries().await?;
        let report = queries
            .call(self.request(), |mut client, request| async move {
                client.get_aging_report(request).await
            })
            .await?;
        cmd::emit(out, &tables::aging(&report, connection.format)?)
    }
}
