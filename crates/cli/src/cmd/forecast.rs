//! `forecast`: the cash expected in each of the next weeks per subsidiary and currency
//! (预测收款趋势); with `--explain`, each customer's method; with `--backtest`, the forecast of
//! a past date against what was collected, beside the naive forecast.

use receivables_api::pb;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::{tables, values};

#[derive(Debug, Clone, clap::Args)]
pub struct ForecastArgs {
    /// The first week's first day, YYYY-MM-DD; default: today (the service's date, UTC). With
    /// --backtest, the past date the forecast is made as of (required).
    #[arg(long, value_parser = values::date)]
    pub as_of: Option<String>,
    /// Weeks, 1 to 26 (default 13; 8 with --backtest).
    #[arg(long, value_name = "N")]
    pub weeks: Option<u32>,
    /// Only this subsidiary's.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only this customer's.
    #[arg(long)]
    pub customer: Option<String>,
    /// Print each customer's delay, where it comes from and its inputs instead.
    #[arg(long, conflicts_with = "backtest")]
    pub explain: bool,
    /// Compare the forecast made as of --as-of with what was collected, week by week.
    #[arg(long, requires = "as_of")]
    pub backtest: bool,
    /// Days after a promised date during which payments still count (service default 3).
    #[arg(long, value_name = "DAYS")]
    pub grace_days: Option<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl ForecastArgs {
    pub fn request(&self) -> pb::GetCollectionsForecastRequest {
        pb::GetCollectionsForecastRequest {
            as_of: self.as_of.clone().unwrap_or_default(),
            weeks: self.weeks.unwrap_or(0),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            customer_id: self.customer.clone().unwrap_or_default(),
            explain: self.explain,
            grace_days: self.grace_days,
            min_position: self.read.min_position,
        }
    }

    pub fn backtest_request(&self) -> pb::BacktestCollectionsForecastRequest {
        pb::BacktestCollectionsForecastRequest {
            as_of: self.as_of.clone().unwrap_or_default(),
            weeks: self.weeks.unwrap_or(0),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            customer_id: self.customer.clone().unwrap_or_default(),
            grace_days: self.grace_days,
            min_position: self.read.min_position,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let metrics = connection.metrics().await?;
        let text = if self.backtest {
            let reply = metrics
                .call(self.backtest_request(), |mut client, request| async move {
                    client.backtest_collections_forecast(request).await
                })
                .await?;
            tables::backtest(&reply, connection.format)?
        } else {
            let reply = metrics
                .call(self.request(), |mut client, request| async move {
                    client.get_collections_forecast(request).await
                })
                .await?;
            if self.explain {
                tables::forecast_methods(&reply.methods, connection.format)?
            } else {
                tables::forecast(&reply, connection.format)?
            }
        };
        cmd::emit(out, &text)
    }
}
