//! The overview: totals per currency (and in the group's currency where rates exist), the
//! overdue rate, the last complete month's early-warning metrics (DSO, CEI, ...) with their
//! formulas, the
//! aging at each of the last twelve month-ends as a stacked bar chart, the ten most utilised
//! credit lines and the latest alerts.

use std::str::FromStr as _;

use chrono::{Datelike as _, NaiveDate};
use futures::StreamExt as _;
use maud::html;
use receivables_api::pb;
use receivables_api::pb::metrics_service_server::MetricsService;
use receivables_api::pb::query_service_server::QueryService;
use receivables_eventlog::EventLog;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

use super::{Page, Request, bucket_cells, bucket_labels, link};
use crate::web::chart::{self, Bar};
use crate::web::failure::Failure;
use crate::web::past::{PAST_STALE_MAX, kept};
use crate::web::state::as_caller;
use crate::web::table::{Cell, Table};

/// The metrics the overview shows (as the metrics service names them) and their titles.
const OVERVIEW_METRICS: [(&str, &str); 7] = [
    ("overdue_rate", "Overdue rate %"),
    ("dso_countback", "DSO (countback), days"),
    ("best_possible_dso", "Best-possible DSO, days"),
    ("average_days_delinquent", "Average days delinquent"),
    ("cei", "CEI %"),
    ("promise_kept_rate", "Promises kept %"),
    ("bad_debt_rate", "Bad debt %"),
];

/// Month-ends the chart shows.
pub const CHART_MONTHS: u32 = 12;
/// Credit lines the overview lists.
const TOP_LINES: u32 = 10;
/// Alerts the overview lists, newest first.
const ALERTS_SHOWN: usize = 10;
/// Most alerts read to find the newest (a longer history shows a note and the newest read).
const ALERTS_READ_MAX: usize = 10_000;

pub async fn page<L: EventLog>(request: Request<L>) -> Result<Page, Failure> {
    let caller = request.viewer.caller.clone();
    let queries = &request.state.queries;
    let subsidiary = request.subsidiary_filter();
    let aging = |as_of: String| {
        as_caller(
            caller.clone(),
            pb::GetAgingReportRequest {
                scope: Some(pb::AgingScope {
                    as_of,
                    subsidiary_id: subsidiary.clone(),
                    ..Default::default()
                }),
                group_by: pb::AgingGroupBy::Group as i32,
                min_position: 0,
            },
        )
    };
    let today = queries
        .get_aging_report(aging(request.param("as_of").to_owned()))
        .await?
        .into_inner();
    let as_of = NaiveDate::parse_from_str(&today.as_of, "%Y-%m-%d")
        .map_err(|_| Failure::internal("the aging's date is not a date"))?;

    let mut totals = Table::new(
        "totals",
        format!("Receivables as of {}", today.as_of),
        vec![
            "Currency",
            "Open",
            "Overdue",
            "Overdue rate",
            "Unapplied",
            "Disputed",
            "Open in group currency",
        ],
    );
    for line in &today.lines {
        let open = amount(line.open_total.as_ref());
        let current = line
            .buckets
            .first()
            .map_or(Decimal::ZERO, |b| amount(b.amount.as_ref()));
        let overdue = open - current;
        totals.push(vec![
            Cell::link(
                &line.currency,
                link(
                    "/aging",
                    &[("currency", &line.currency), ("group_by", "subsidiary")],
                ),
            ),
            Cell::money(line.open_total.as_ref()),
            Cell::Amount(overdue.to_string()),
            Cell::text(percent(overdue, open)),
            Cell::money(line.unapplied.as_ref()),
            Cell::money(line.disputed.as_ref()),
            Cell::text(
                line.in_group_currency
                    .as_ref()
                    .and_then(|g| g.open_total.as_ref())
                    .map_or_else(
                        || "no rate".to_owned(),
                        |m| format!("{} {}", m.amount, m.currency),
                    ),
            ),
        ]);
    }

    // The last complete month's metrics, in each currency and in the group's.
    let month_end = as_of
        .with_day(1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(as_of);
    let month = format!("{:04}-{:02}", month_end.year(), month_end.month());
    // The viewer may read this scope: the aging of today above was answered to it, so what
    // is kept of it may be shown.
    let past = &request.state.past;
    let metrics = kept(
        &past.months,
        (subsidiary.clone(), month_end),
        queries.get_metrics(as_caller(
            caller.clone(),
            pb::GetMetricsRequest {
                month,
                subsidiary_id: subsidiary.clone(),
                ..Default::default()
            },
        )),
    )
    .await?;
    let mut columns = vec!["Currency".to_owned()];
    columns.extend(
        OVERVIEW_METRICS
            .iter()
            .map(|(_, title)| (*title).to_owned()),
    );
    let mut figures = Table::new(
        "metrics",
        format!(
            "Early-warning metrics of {} to {}",
            metrics.from, metrics.to
        ),
        columns,
    );
    let mut formulas: Vec<(&str, String)> = Vec::new();
    let group_line = metrics.in_group_currency.as_ref().map(|g| {
        let mut line = g.clone();
        line.currency = format!("all in {}", g.currency);
        line
    });
    for currency in metrics.currencies.iter().chain(group_line.iter()) {
        let mut row = vec![Cell::text(&currency.currency)];
        for (metric, _) in OVERVIEW_METRICS {
            let figure = currency.figures.iter().find(|f| f.metric == *metric);
            if let Some(figure) = figure
                && !formulas.iter().any(|(m, _)| *m == metric)
            {
                formulas.push((metric, figure.formula.clone()));
            }
            row.push(Cell::Amount(
                figure.map(|f| f.value.clone()).unwrap_or_default(),
            ));
        }
        figures.push(row);
    }

    // The aging at each of the last month-ends, one chart per currency.
    let ends = month_ends_before(as_of, CHART_MONTHS);
    let reports = futures::future::try_join_all(ends.iter().map(|end| {
        kept(
            &past.month_ends,
            (subsidiary.clone(), *end),
            queries.get_aging_report(aging(end.to_string())),
        )
    }))
    .await?;
    let history_position = reports.iter().map(|r| r.position).min().unwrap_or_default();
    let labels = reports
        .iter()
        .map(|r| bucket_labels(&r.lines))
        .find(|labels| !labels.is_empty())
        .unwrap_or_default();
    let mut columns = vec!["Month-end".to_owned(), "Currency".to_owned()];
    columns.extend(labels.iter().cloned());
    columns.push("Open".to_owned());
    let mut history = Table::new(
        "history",
        format!("Aging at the last {CHART_MONTHS} month-ends"),
        columns,
    );
    let mut currencies: Vec<String> = reports
        .iter()
        .flat_map(|r| r.lines.iter().map(|l| l.currency.clone()))
        .collect();
    currencies.sort();
    currencies.dedup();
    let mut charts = Vec::new();
    for currency in &currencies {
        let mut series: Vec<String> = Vec::new();
        let mut bars = Vec::new();
        for (end, report) in ends.iter().zip(&reports) {
            let line = report.lines.iter().find(|l| &l.currency == currency);
            let buckets = line.map(|l| l.buckets.as_slice()).unwrap_or_default();
            if series.is_empty() {
                series = buckets.iter().map(|b| b.label.clone()).collect();
            }
            if let Some(line) = line {
                let mut row = vec![Cell::text(end.to_string()), Cell::text(currency)];
                row.extend(bucket_cells(line, labels.len()));
                history.push(row);
            }
            let values = buckets
                .iter()
                .map(|b| {
                    let value = amount(b.amount.as_ref());
                    (value.to_f64().unwrap_or(0.0), value.to_string())
                })
                .collect();
            bars.push(Bar {
                label: end.format("%Y-%m").to_string(),
                values,
            });
        }
        charts.push(chart::stacked_bars(
            &format!("Aging in {currency} at month-ends"),
            &series,
            &bars,
        ));
    }

    // The most utilised credit lines (the group's readers only).
    let mut lines = Table::new(
        "top-credit-lines",
        format!("The {TOP_LINES} most utilised credit lines"),
        vec![
            "Customer",
            "Name",
            "Currency",
            "Limit",
            "Exposure",
            "Available",
            "Utilisation",
        ],
    );
    if request.reads_group() {
        let exposures = queries
            .list_exposures(as_caller(
                caller.clone(),
                pb::ListExposuresRequest {
                    as_of: today.as_of.clone(),
                    sort: pb::ExposureSort::Utilisation as i32,
                    page_size: TOP_LINES,
                    ..Default::default()
                },
            ))
            .await?
            .into_inner();
        for line in &exposures.lines {
            lines.push(vec![
                Cell::link(
                    &line.customer_id,
                    link("/customer", &[("customer", &line.customer_id)]),
                ),
                Cell::text(&line.customer_name),
                Cell::text(&line.currency),
                Cell::money(line.limit.as_ref()),
                Cell::money(line.exposure.as_ref()),
                Cell::money(line.available.as_ref()),
                Cell::text(&line.utilisation),
            ]);
        }
    }

    // The newest alerts.
    let (alerts, alerts_capped) = newest_alerts(&request, &subsidiary).await?;
    let mut alert_table = Table::new(
        "alerts",
        "Latest alerts",
        vec![
            "No.",
            "Raised on",
            "Kind",
            "Customer",
            "Subsidiary",
            "Detail",
            "Value",
            "Threshold",
        ],
    );
    for alert in alerts.iter().rev() {
        alert_table.push(vec![
            Cell::Count(i64::try_from(alert.seq).unwrap_or(i64::MAX)),
            Cell::text(&alert.raised_on),
            Cell::text(&alert.kind),
            Cell::text(&alert.customer_id),
            Cell::text(&alert.subsidiary_id),
            Cell::text(&alert.detail),
            Cell::text(&alert.value),
            Cell::text(&alert.threshold),
        ]);
    }

    let here = request.here.clone();
    let body = html! {
        p.note {
            "As of " (today.as_of) ", the read model at log position " (today.position) ". "
            a href="/?refresh=60" { "Refresh every minute" }
        }
        (totals.html(&here))
        (figures.html(&here))
        details {
            summary { "Formulas" }
            dl { @for (metric, formula) in &formulas { dt { (metric) } dd { (formula) } } }
        }
        h2 { "Aging at the last " (CHART_MONTHS) " month-ends" }
        p.note {
            "Worked out at log position " (history_position) " or later; each month-end is kept up to "
            (PAST_STALE_MAX.as_secs()) " s (a past month-end moves only with an event dated on or before it)."
        }
        @for chart in &charts { (chart) }
        (history.html(&here))
        @if request.reads_group() { (lines.html(&here)) }
        @else { p.note { "Credit lines are the group's: a subsidiary's token does not see them." } }
        (alert_table.html(&here))
        @if alerts_capped { p.note { "Only the first " (ALERTS_READ_MAX) " alerts were read." } }
    };
    Ok(Page {
        title: "Overview".to_owned(),
        body,
        tables: vec![totals, figures, history, lines, alert_table],
    })
}

/// The newest alerts the viewer may see, and whether the read stopped at its bound.
async fn newest_alerts<L: EventLog>(
    request: &Request<L>,
    subsidiary: &str,
) -> Result<(Vec<pb::Alert>, bool), Failure> {
    let stream = request
        .state
        .queries
        .watch_alerts(as_caller(
            request.viewer.caller.clone(),
            pb::WatchAlertsRequest {
                subsidiary_id: subsidiary.to_owned(),
                no_follow: true,
                ..Default::default()
            },
        ))
        .await;
    let mut stream = match stream {
        Ok(stream) => stream.into_inner(),
        // A service that raises no alerts shows none.
        Err(status) if status.code() == tonic::Code::Unimplemented => {
            return Ok((Vec::new(), false));
        }
        Err(status) => return Err(status.into()),
    };
    let mut newest = std::collections::VecDeque::with_capacity(ALERTS_SHOWN + 1);
    let mut read = 0;
    while let Some(alert) = stream.next().await {
        newest.push_back(alert?);
        if newest.len() > ALERTS_SHOWN {
            newest.pop_front();
        }
        read += 1;
        if read >= ALERTS_READ_MAX {
            return Ok((newest.into(), true));
        }
    }
    Ok((newest.into(), false))
}

/// The last `count` month-ends before `date`, oldest first.
pub fn month_ends_before(date: NaiveDate, count: u32) -> Vec<NaiveDate> {
    let mut ends = Vec::new();
    let mut end = date.with_day(1).and_then(|d| d.pred_opt());
    while let Some(this) = end {
        if ends.len() >= count as usize {
            break;
        }
        ends.push(this);
        end = this.with_day(1).and_then(|d| d.pred_opt());
    }
    ends.reverse();
    ends
}

/// The amount of a wire `Money`; zero when absent or unreadable (the services write decimals).
pub fn amount(money: Option<&pb::Money>) -> Decimal {
    money
        .and_then(|m| Decimal::from_str(&m.amount).ok())
        .unwrap_or(Decimal::ZERO)
}

/// `part / whole` as a percentage with one decimal, or `-` when the whole is zero.
pub fn percent(part: Decimal, whole: Decimal) -> String {
    if whole.is_zero() {
        return "-".to_owned();
    }
    format!("{:.1}%", (part * Decimal::ONE_HUNDRED / whole).round_dp(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn the_month_ends_before_a_date_run_back_across_the_year() {
        assert_eq!(
            month_ends_before(date("2026-03-15"), 4),
            vec![
                date("2025-11-30"),
                date("2025-12-31"),
                date("2026-01-31"),
                date("2026-02-28")
            ]
        );
        assert_eq!(
            month_ends_before(date("2024-03-01"), 1),
            vec![date("2024-02-29")]
        );
    }

    #[test]
    fn rates_are_percentages_of_the_whole() {
        assert_eq!(percent(Decimal::new(25, 0), Decimal::new(200, 0)), "12.5%");
        assert_eq!(percent(Decimal::ONE, Decimal::new(3, 0)), "33.3%");
        assert_eq!(percent(Decimal::ONE, Decimal::ZERO), "-");
    }
}
