//! `alerts`: the early-warning alerts raised so far, or with `--follow` each one as it is
//! raised, resuming after the last one seen when the service goes away and comes back.

use std::time::Duration;

use receivables_api::pb;
use tonic::Code;

use crate::cmd::{self, Output};
use crate::connection::{Connection, Metrics};
use crate::error::CliError;
use crate::sheet::Format;
use crate::tables;

/// Pause before connecting again when a followed stream ended or the service went away.
pub const RECONNECT_DELAY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, clap::Args)]
pub struct AlertsArgs {
    /// Only the alerts after this one (its `seq`); default: from the first.
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub after: u64,
    /// Only this kind (aged_31_60, promise_broken, utilisation...); repeat for several.
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// Only this customer's ("_group": the group's and subsidiaries' metrics).
    #[arg(long)]
    pub customer: Option<String>,
    /// Only those concerning this subsidiary.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Keep printing each new alert as it is raised (one line each; JSON Lines with
    /// --format json), reconnecting after the last one printed when the service goes away.
    #[arg(long)]
    pub follow: bool,
}

impl AlertsArgs {
    pub fn request(&self, after: u64) -> pb::WatchAlertsRequest {
        pb::WatchAlertsRequest {
            after_seq: after,
            kinds: self.kinds.clone(),
            customer_id: self.customer.clone().unwrap_or_default(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            no_follow: !self.follow,
        }
    }

    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        if !self.follow {
            let metrics = connection.metrics().await?;
            let mut alerts = Vec::new();
            let mut stream = open(&metrics, self.request(self.after)).await?;
            while let Some(alert) = stream.message().await.map_err(|s| metrics.error(&s))? {
                alerts.push(alert);
            }
            return cmd::emit(out, &tables::alerts(&alerts, connection.format)?);
        }
        let mut after = self.after;
        let mut header = connection.format == Format::Csv;
        loop {
            let metrics = match connection.metrics().await {
                Ok(metrics) => metrics,
                Err(error) if error.is_transient() => {
                    tokio::time::sleep(RECONNECT_DELAY).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let mut stream = match open(&metrics, self.request(after)).await {
                Ok(stream) => stream,
                Err(error) if error.is_transient() => {
                    tokio::time::sleep(RECONNECT_DELAY).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            loop {
                match stream.message().await {
                    Ok(Some(alert)) => {
                        after = alert.seq;
                        let line = tables::alert_line(&alert, connection.format, header)?;
                        header = false;
                        cmd::emit(out, &line)?;
                    }
                    // The service stopped (or the connection broke): resume after `after`.
                    Ok(None) => break,
                    Err(status) if transient(status.code()) => break,
                    Err(status) => return Err(metrics.error(&status)),
                }
            }
            tokio::time::sleep(RECONNECT_DELAY).await;
        }
    }
}

/// Whether a stream that ended with `code` is worth opening again.
fn transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Aborted | Code::Internal
    )
}

/// Opens the stream; it carries no deadline (it lasts as long as the client follows).
async fn open(
    metrics: &Metrics,
    request: pb::WatchAlertsRequest,
) -> Result<tonic::Streaming<pb::Alert>, CliError> {
    metrics
        .client
        .clone()
        .watch_alerts(tonic::Request::new(request))
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| metrics.error(&status))
}
