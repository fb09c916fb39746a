//! The demo: the all-in-one service on a fresh data directory, loaded with a year of a demo
//! group's receivables through the public gRPC API, then the reports a finance team looks at
//! first: group aging, the most utilised credit lines, the top of the collector work queue.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use receivables_api::pb;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_cli::{Format, tables};
use receivables_demo::{DemoSize, LoadSummary};
use tonic::transport::Channel;
use tracing::info;

use crate::all_in_one::{Serving, is_fresh};
use crate::config::{DemoArgs, DemoScale, ServeArgs};
use crate::shutdown::Shutdown;

/// Lines of the utilisation and work-queue reports the demo prints.
pub const REPORT_LINES: u32 = 10;

/// How long the demo's queries wait for the projector to apply everything loaded.
const CATCH_UP_WAIT: Duration = Duration::from_secs(120);

/// Runs the demo: serve, load, print; then serve until `shutdown` (or stop at once with
/// `--exit-after-load`).
pub async fn run(args: &DemoArgs, shutdown: impl Shutdown) -> anyhow::Result<()> {
    if !args.insecure {
        bail!(
            "the demo serves without TLS and without tokens, so that anyone who can reach {} \
             may do anything; start it with --insecure to say you know (or run `receivables \
             serve` with --tls-cert and --tls-key and post with tokens)",
            args.listen
        );
    }
    // A temporary directory is removed when `_temporary` drops, after the service stopped.
    let (data_dir, _temporary) = match &args.data_dir {
        Some(directory) => {
            if !is_fresh(directory)? {
                bail!(
                    "the demo needs a fresh data directory, and {} is not empty",
                    directory.display()
                );
            }
            (directory.clone(), None)
        }
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("receivables-demo-")
                .tempdir()
                .context("cannot create a temporary data directory")?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    };
    // Alerts are raised as of the day the data set ends, as if the demo ran that day.
    let mut serve = ServeArgs::embedded(args.listen, &data_dir);
    serve.alerts.business_date = Some(today(args));
    serve.web.http_listen = Some(args.http_listen);
    let serving = Serving::build(&serve).await?;
    let address = serving.local_addr()?;
    let dashboard = serving
        .http_addr()
        .map_or_else(String::new, |http| format!("http://{http}/"));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serving.run_until(async move {
        let _ = stop_rx.await;
    }));

    let outcome = load_and_report(args, &data_dir, address).await;
    if outcome.is_ok() && !args.exit_after_load {
        println!(
            "\nReceivables is serving on {address} (data in {}). Open the dashboard at \
             {dashboard} (JSON at {dashboard}api/v1/aging). Try:\n  \
             cargo run --profile demo -p receivables -- aging --server http://{address}\n  \
             cargo run --profile demo -p receivables -- queue --server http://{address}\n  \
             grpcurl -plaintext {address} list\n\
             Ctrl-C stops it.",
            data_dir.display()
        );
        shutdown.await;
    }
    let _ = stop_tx.send(());
    server.await.context("the service task failed")??;
    outcome
}

async fn load_and_report(
    args: &DemoArgs,
    data_dir: &std::path::Path,
    address: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let today = today(args);
    let size = match args.scale {
        DemoScale::Full => DemoSize::FULL,
        DemoScale::Small => DemoSize::SMALL,
    };
    let commands = receivables_demo::generate(args.seed, &size, today);
    println!(
        "Receivables demo: {} commands for {} customers of three subsidiaries, {} months to {today}, \
         data in {}",
        commands.len(),
        size.customers,
        size.months,
        data_dir.display()
    );
    let channel = Channel::from_shared(format!("http://{address}"))
        .context("the service address")?
        .connect()
        .await
        .with_context(|| format!("cannot connect to the demo service at {address}"))?;
    let started = Instant::now();
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let summary = receivables_demo::load(channel.clone(), commands, progress).await?;
    let elapsed = started.elapsed();
    info!(
        commands = summary.accepted.total() + summary.refused_total(),
        seconds = elapsed.as_secs_f64(),
        "demo data loaded"
    );
    print_summary(&summary, elapsed);
    if summary.unexpected > 0 {
        bail!(
            "{} commands of the demo data were not answered as the generator expected",
            summary.unexpected
        );
    }
    print_reports(channel, &summary, today).await
}

/// The day the data set ends on: `--today`, or the machine's date.
fn today(args: &DemoArgs) -> chrono::NaiveDate {
    args.today
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

fn print_summary(summary: &LoadSummary, elapsed: Duration) {
    let accepted = &summary.accepted;
    println!(
        "\nLoaded in {:.1} s: {} credit limits, {} invoices, {} payments, {} promises, \
         {} credit notes, {} write-offs, {} reversals, {} applications, {} refunds, {} disputes, \
         {} dispute resolutions, {} customer records, {} collector assignments, {} publications \
         of exchange rates accepted; {} refused ({}).",
        elapsed.as_secs_f64(),
        accepted.credit_limits,
        accepted.invoices,
        accepted.payments,
        accepted.promises,
        accepted.credit_notes,
        accepted.write_offs,
        accepted.reversals,
        accepted.applications,
        accepted.refunds,
        accepted.disputes,
        accepted.dispute_resolutions,
        accepted.customer_records,
        accepted.collectors,
        accepted.exchange_rates,
        summary.refused_total(),
        summary
            .refused
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Posted, per currency (from the command replies; invoiced net of credit notes against \
         invoices and write-offs, paid with credit notes on account and net of reversals and \
         refunds):"
    );
    for (currency, totals) in &summary.totals {
        println!(
            "  {currency}: invoiced {}, paid {}, allocated {}, open {}, unapplied {}",
            totals.invoiced,
            totals.paid,
            totals.allocated,
            totals.open(),
            totals.unapplied()
        );
    }
}

async fn print_reports(
    channel: Channel,
    summary: &LoadSummary,
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let mut queries = QueryServiceClient::new(channel);
    let as_of = today.to_string();
    let mut request = tonic::Request::new(pb::GetAgingReportRequest {
        scope: Some(pb::AgingScope {
            as_of: as_of.clone(),
            ..Default::default()
        }),
        group_by: pb::AgingGroupBy::Group.into(),
        min_position: summary.last_position,
    });
    request.set_timeout(CATCH_UP_WAIT);
    let aging = queries
        .get_aging_report(request)
        .await
        .context("the aging report")?
        .into_inner();
    let exposures = queries
        .list_exposures(pb::ListExposuresRequest {
            as_of: as_of.clone(),
            sort: pb::ExposureSort::Utilisation.into(),
            page_size: REPORT_LINES,
            min_position: summary.last_position,
            ..Default::default()
        })
        .await
        .context("the exposure list")?
        .into_inner();
    let queue = queries
        .get_work_queue(pb::GetWorkQueueRequest {
            as_of: as_of.clone(),
            page_size: REPORT_LINES,
            min_position: summary.last_position,
            ..Default::default()
        })
        .await
        .context("the work queue")?
        .into_inner();
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nGroup aging as of {as_of} (by due date):")?;
    writeln!(out, "{}", tables::aging(&aging, Format::Table)?)?;
    writeln!(out, "\nThe {REPORT_LINES} most utilised credit lines:")?;
    writeln!(
        out,
        "{}",
        tables::exposures(&exposures.lines, Format::Table)?
    )?;
    writeln!(out, "\nTop of the collector work queue:")?;
    writeln!(out, "{}", tables::work_queue(&queue.items, Format::Table)?)?;
    out.flush()?;
    Ok(())
}
