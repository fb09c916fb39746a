//! The reports and replies as tables, CSV or JSON, built from the response messages alone, so
//! that any caller holding a response (the subcommands here, the demo) prints it the same way.
//!
//! Amounts are printed exactly as the API gives them (decimal strings), right-aligned in
//! tables; a line's currency is its own column, and an amount in another currency than its line
//! (which the API does not send today) would be printed with its code rather than mislabelled.
//! Enumerations are printed in lower case (`block`, `legal_or_agency`, `partially_kept`).

use receivables_api::pb;
use serde_json::{Value, json};

use crate::error::CliError;
use crate::sheet::{Cell, Column, Format, Record, Sheet, json_document};

// ---------------------------------------------------------------------------------------------
// Reports.

/// The aging report: one row per group and currency, a column per bucket, the open total, the
/// unapplied cash and credit and the disputed part; the table's caption gives the date and the
/// log position.
pub fn aging(report: &pb::GetAgingReportResponse, format: Format) -> Result<String, CliError> {
    aging_sheet(report).render(format)
}

/// The sheet behind [`aging`].
pub fn aging_sheet(report: &pb::GetAgingReportResponse) -> Sheet {
    // Every line of one report has the same buckets; the first line names them.
    let labels: Vec<String> = report
        .lines
        .first()
        .map(|line| line.buckets.iter().map(|b| b.label.clone()).collect())
        .unwrap_or_default();
    let mut columns = vec![
        Column::left("group", "group"),
        Column::left("name", "name"),
        Column::left("currency", "currency"),
    ];
    columns.extend(labels.iter().map(|label| Column::right(label, label)));
    columns.push(Column::right("open_total", "open total"));
    columns.push(Column::right("unapplied", "unapplied"));
    columns.push(Column::right("disputed", "disputed"));
    columns.push(Column::right(
        "open_total_group",
        "open total, group currency",
    ));
    columns.push(Column::right("group_rate", "rate").not_in_table());
    let mut sheet = Sheet::new("lines", columns);
    sheet.caption = Some(format!(
        "Aging as of {} (log position {})",
        report.as_of, report.position
    ));
    sheet.meta = vec![
        ("as_of".to_owned(), json!(report.as_of)),
        ("position".to_owned(), json!(report.position)),
    ];
    for line in &report.lines {
        let currency = line.currency.as_str();
        let mut row = vec![
            Cell::text(&line.group),
            Cell::text(&line.name),
            Cell::text(currency),
        ];
        row.extend(labels.iter().map(|label| {
            line.buckets
                .iter()
                .find(|bucket| &bucket.label == label)
                .map_or_else(Cell::missing, |bucket| {
                    money(bucket.amount.as_ref(), currency)
                })
        }));
        row.push(money(line.open_total.as_ref(), currency));
        row.push(money(line.unapplied.as_ref(), currency));
        row.push(money(line.disputed.as_ref(), currency));
        let group = line.in_group_currency.as_ref();
        row.push(money(group.and_then(|g| g.open_total.as_ref()), ""));
        row.push(group.map_or_else(Cell::missing, |g| Cell::decimal(&g.rate)));
        sheet.rows.push(row);
    }
    sheet
}

/// Credit exposure lines (one customer's, or a page of the list sorted by utilisation).
pub fn exposures(lines: &[pb::Exposure], format: Format) -> Result<String, CliError> {
    exposures_sheet(lines).render(format)
}

/// The sheet behind [`exposures`].
pub fn exposures_sheet(lines: &[pb::Exposure]) -> Sheet {
    let mut sheet = Sheet::new(
        "lines",
        vec![
            Column::left("customer_id", "customer"),
            Column::left("customer_name", "name"),
            Column::left("currency", "currency"),
            Column::right("limit", "limit"),
            Column::left("policy", "policy"),
            Column::left("grade", "grade"),
            Column::right("open", "open"),
            Column::right("unapplied", "unapplied"),
            Column::right("reserved", "reserved"),
            Column::right("exposure", "exposure"),
            Column::right("overdue", "overdue"),
            Column::right("available", "available"),
            Column::right("utilisation", "utilisation"),
            Column::left("over_limit", "over limit"),
            Column::right("oldest_days_past_due", "oldest days past due"),
            Column::left("last_payment_date", "last payment"),
            Column::left("converted", "converted").not_in_table(),
            Column::left("missing_rates", "no rate for"),
            Column::right("exposure_group", "exposure, group currency"),
            Column::right("group_rate", "rate").not_in_table(),
        ],
    );
    for line in lines {
        let currency = line.currency.as_str();
        let group = line.in_group_currency.as_ref();
        sheet.rows.push(vec![
            Cell::text(&line.customer_id),
            Cell::text(&line.customer_name),
            Cell::text(currency),
            money(line.limit.as_ref(), currency),
            Cell::text(policy(line.policy())),
            Cell::text(grade(line.grade())),
            money(line.open.as_ref(), currency),
            money(line.unapplied.as_ref(), currency),
            money(line.reserved.as_ref(), currency),
            money(line.exposure.as_ref(), currency),
            money(line.overdue.as_ref(), currency),
            money(line.available.as_ref(), currency),
            Cell::decimal(&line.utilisation),
            Cell::flag(line.over_limit),
            Cell::optional_int(line.oldest_days_past_due),
            Cell::text(&line.last_payment_date),
            Cell::text(conversions(&line.conversions)),
            Cell::text(line.missing_rates.join(" ")),
            money(group.and_then(|g| g.converted.as_ref()), ""),
            group.map_or_else(Cell::missing, |g| Cell::decimal(&g.rate)),
        ]);
    }
    sheet
}

/// Decimal places of a work-queue score in a table; CSV and JSON carry the exact score.
pub const SCORE_DECIMALS_SHOWN: u32 = 2;

/// The collector work queue, highest priority first, ranked from 1. The score's computation
/// (`rule`) goes to CSV and JSON only: it is too long for a table.
pub fn work_queue(items: &[pb::WorkItem], format: Format) -> Result<String, CliError> {
    work_queue_sheet(items).render(format)
}

/// The sheet behind [`work_queue`].
pub fn work_queue_sheet(items: &[pb::WorkItem]) -> Sheet {
    let mut sheet = Sheet::new(
        "items",
        vec![
            Column::right("rank", "#"),
            Column::left("customer_id", "customer"),
            Column::left("customer_name", "name"),
            Column::left("currency", "currency"),
            Column::right("overdue", "overdue"),
            Column::left("oldest_due_date", "oldest due"),
            Column::right("days_past_due", "days past due"),
            // The wire's name for promises broken or partially kept.
            Column::right("broken_promises", "failed promises"),
            Column::left("escalation", "escalation"),
            Column::left("next_action", "next action"),
            Column::left("collector", "collector"),
            Column::left("collector_default_of", "default of").not_in_table(),
            Column::right("score", "score"),
            Column::left("snoozed_until", "snoozed until"),
            Column::left("last_contact", "last contact"),
            Column::left("last_contact_outcome", "outcome"),
            Column::right("days_since_contact", "days since contact").not_in_table(),
            Column::left("rule", "rule").not_in_table(),
        ],
    );
    for (index, item) in items.iter().enumerate() {
        let currency = item.currency.as_str();
        let (last_contact, last_outcome) = match &item.last_contact {
            Some(contact) => (
                contact.occurred_on.as_str(),
                contact_outcome(contact.outcome()),
            ),
            None => ("", ""),
        };
        sheet.rows.push(vec![
            Cell::int(u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1)),
            Cell::text(&item.customer_id),
            Cell::text(&item.customer_name),
            Cell::text(currency),
            money(item.overdue.as_ref(), currency),
            Cell::text(&item.oldest_due_date),
            Cell::int(item.days_past_due),
            Cell::int(item.broken_promises),
            Cell::text(escalation(item.escalation())),
            Cell::text(&item.next_action),
            Cell::text(&item.collector),
            Cell::text(&item.collector_default_of),
            Cell::rounded(&item.score, SCORE_DECIMALS_SHOWN),
            Cell::text(&item.snoozed_until),
            Cell::text(last_contact),
            Cell::text(last_outcome),
            Cell::int(item.days_since_contact),
            Cell::text(&item.rule),
        ]);
    }
    sheet
}

/// The metrics of a period, a row per figure: the period's, then the series' month by month.
pub fn metrics(reply: &pb::GetMetricsResponse, format: Format) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "figures",
        vec![
            Column::left("period_end", "period end"),
            Column::left("currency", "currency"),
            Column::left("metric", "metric"),
            Column::right("value", "value"),
            Column::left("unit", "unit"),
            Column::left("formula", "formula").not_in_table(),
            Column::left("inputs", "inputs"),
            Column::left("note", "note"),
        ],
    );
    let mut push = |end: &str, currency: String, figures: &[pb::Figure]| {
        for figure in figures {
            let inputs = figure
                .inputs
                .iter()
                .map(|input| format!("{} {}", input.name, input.value))
                .collect::<Vec<_>>()
                .join("; ");
            sheet.rows.push(vec![
                Cell::text(end),
                Cell::text(currency.as_str()),
                Cell::text(&figure.metric),
                Cell::text(&figure.value),
                Cell::text(&figure.unit),
                Cell::text(&figure.formula),
                Cell::text(inputs),
                Cell::text(&figure.note),
            ]);
        }
    };
    let blocks = |currencies: &[pb::CurrencyFigures], group: Option<&pb::CurrencyFigures>| {
        let mut all: Vec<(String, Vec<pb::Figure>)> = currencies
            .iter()
            .map(|c| (c.currency.clone(), c.figures.clone()))
            .collect();
        if let Some(group) = group {
            all.push((format!("group {}", group.currency), group.figures.clone()));
        }
        all
    };
    for (currency, figures) in blocks(&reply.currencies, reply.in_group_currency.as_ref()) {
        push(&reply.to, currency, &figures);
    }
    for month in &reply.series {
        for (currency, figures) in blocks(&month.currencies, month.in_group_currency.as_ref()) {
            push(&month.month_end, currency, &figures);
        }
    }
    sheet.render(format)
}

/// The allowance by aging: a row per bucket and currency, then the currency's totals (the
/// `bucket` column names them).
pub fn allowance(reply: &pb::GetAllowanceResponse, format: Format) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "allowance",
        vec![
            Column::left("currency", "currency"),
            Column::left("bucket", "bucket"),
            Column::right("balance", "balance"),
            Column::right("loss_rate", "loss rate %"),
            Column::right("provision", "provision"),
        ],
    );
    for currency in &reply.currencies {
        let code = currency.currency.as_str();
        for line in &currency.lines {
            sheet.rows.push(vec![
                Cell::text(code),
                Cell::text(&line.bucket),
                money(line.balance.as_ref(), code),
                Cell::text(&line.loss_rate),
                money(line.provision.as_ref(), code),
            ]);
        }
        let entry = format!("adjustment ({})", currency.entry);
        for (name, amount, in_balance) in [
            ("total receivables", &currency.total_receivables, true),
            ("required allowance", &currency.required_allowance, false),
            (
                "allowance balance before",
                &currency.current_allowance_balance,
                false,
            ),
            (entry.as_str(), &currency.adjustment, false),
            ("net receivables", &currency.net_receivables, true),
        ] {
            let (balance, provision) = if in_balance {
                (money(amount.as_ref(), code), Cell::text(""))
            } else {
                (Cell::text(""), money(amount.as_ref(), code))
            };
            sheet.rows.push(vec![
                Cell::text(code),
                Cell::text(name),
                balance,
                Cell::text(""),
                provision,
            ]);
        }
    }
    sheet.render(format)
}

/// The forecast: a row per subsidiary, currency and week (`later` after the last), with what
/// was left out on the line's first row.
pub fn forecast(
    reply: &pb::GetCollectionsForecastResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "forecast",
        vec![
            Column::left("subsidiary_id", "subsidiary"),
            Column::left("currency", "currency"),
            Column::left("week", "week from"),
            Column::right("expected", "expected"),
        ],
    );
    for line in &reply.lines {
        let code = line.currency.as_str();
        let mut push = |week: &str, amount: Option<&pb::Money>| {
            sheet.rows.push(vec![
                Cell::text(&line.subsidiary_id),
                Cell::text(code),
                Cell::text(week),
                money(amount, code),
            ]);
        };
        for (start, amount) in reply.week_starts.iter().zip(&line.weeks) {
            push(start, Some(amount));
        }
        push("later", line.later.as_ref());
        push("left out: disputed", line.disputed_left_out.as_ref());
        push("left out: written off", line.written_off_left_out.as_ref());
        push("left out: legal", line.legal_left_out.as_ref());
    }
    sheet.render(format)
}

/// Each customer's forecasting method and its inputs.
pub fn forecast_methods(
    methods: &[pb::CustomerForecastMethod],
    format: Format,
) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "methods",
        vec![
            Column::left("customer_id", "customer"),
            Column::right("delay_days", "delay days"),
            Column::left("delay_source", "from"),
            Column::right("invoices_paid", "invoices paid"),
            Column::right("amount_paid", "amount paid"),
            Column::right("own_delay", "own delay"),
            Column::right("open_promises", "open promises"),
        ],
    );
    for method in methods {
        sheet.rows.push(vec![
            Cell::text(&method.customer_id),
            Cell::text(method.delay_days.to_string()),
            Cell::text(&method.delay_source),
            Cell::int(method.invoices_paid),
            Cell::text(&method.amount_paid),
            Cell::text(&method.own_delay),
            Cell::int(method.open_promises),
        ]);
    }
    sheet.render(format)
}

/// A backtest: a row per currency and week, then the currency's errors.
pub fn backtest(
    reply: &pb::BacktestCollectionsForecastResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "backtest",
        vec![
            Column::left("currency", "currency"),
            Column::left("week", "week from"),
            Column::right("forecast", "forecast"),
            Column::right("naive", "naive"),
            Column::right("actual", "actual"),
            Column::right("forecast_error", "forecast error %"),
            Column::right("naive_error", "naive error %"),
        ],
    );
    for currency in &reply.currencies {
        let code = currency.currency.as_str();
        for week in &currency.weeks {
            sheet.rows.push(vec![
                Cell::text(code),
                Cell::text(&week.start),
                money(week.forecast.as_ref(), code),
                money(week.naive.as_ref(), code),
                money(week.actual.as_ref(), code),
                Cell::text(&week.forecast_error),
                Cell::text(&week.naive_error),
            ]);
        }
        for (name, forecast, naive) in [
            ("mean", &currency.forecast_mape, &currency.naive_mape),
            (
                "total",
                &currency.forecast_total_error,
                &currency.naive_total_error,
            ),
        ] {
            sheet.rows.push(vec![
                Cell::text(code),
                Cell::text(name),
                Cell::text(""),
                Cell::text(""),
                Cell::text(""),
                Cell::text(forecast),
                Cell::text(naive),
            ]);
        }
    }
    sheet.render(format)
}

/// Each collector's work in a period.
pub fn collector_figures(
    collectors: &[pb::CollectorFigures],
    format: Format,
) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "collectors",
        vec![
            Column::left("collector", "collector"),
            Column::right("activities", "activities"),
            Column::right("reached", "reached"),
            Column::right("promises_obtained", "promises"),
            Column::right("promises_kept", "kept"),
            Column::right("promises_broken", "broken"),
            Column::left("collected", "collected"),
        ],
    );
    for collector in collectors {
        let collected = collector
            .collected
            .iter()
            .map(|m| format!("{} {}", m.amount, m.currency))
            .collect::<Vec<_>>()
            .join("; ");
        sheet.rows.push(vec![
            Cell::text(&collector.collector),
            Cell::int(collector.activities),
            Cell::int(collector.reached),
            Cell::int(collector.promises_obtained),
            Cell::int(collector.promises_kept),
            Cell::int(collector.promises_broken),
            Cell::text(collected),
        ]);
    }
    sheet.render(format)
}

/// Collectors' contacts with customers, newest first.
pub fn activities(
    activities: &[pb::CollectionActivity],
    format: Format,
) -> Result<String, CliError> {
    activities_sheet(activities).render(format)
}

/// The sheet behind [`activities`].
pub fn activities_sheet(activities: &[pb::CollectionActivity]) -> Sheet {
    let mut sheet = Sheet::new(
        "activities",
        vec![
            Column::left("occurred_on", "date"),
            Column::left("customer_id", "customer"),
            Column::left("subsidiary_id", "subsidiary"),
            Column::left("channel", "channel"),
            Column::left("outcome", "outcome"),
            Column::left("collector", "collector"),
            Column::left("contact", "contact"),
            Column::left("next_action_on", "next action"),
            Column::left("invoices", "invoices"),
            Column::left("note", "note"),
            Column::right("position", "position").not_in_table(),
        ],
    );
    for activity in activities {
        sheet.rows.push(vec![
            Cell::text(&activity.occurred_on),
            Cell::text(&activity.customer_id),
            Cell::text(&activity.subsidiary_id),
            Cell::text(contact_channel(activity.channel())),
            Cell::text(contact_outcome(activity.outcome())),
            Cell::text(&activity.collector),
            Cell::text(&activity.contact),
            Cell::text(&activity.next_action_on),
            Cell::text(activity.invoices.join(" ")),
            Cell::text(&activity.note),
            Cell::int(activity.position),
        ]);
    }
    sheet
}

/// Alerts, in the order they were raised.
pub fn alerts(alerts: &[pb::Alert], format: Format) -> Result<String, CliError> {
    alerts_sheet(alerts).render(format)
}

/// The sheet behind [`alerts`].
pub fn alerts_sheet(alerts: &[pb::Alert]) -> Sheet {
    let mut sheet = Sheet::new(
        "alerts",
        vec![
            Column::right("seq", "#"),
            Column::left("raised_on", "raised on"),
            Column::left("kind", "kind"),
            Column::left("customer_id", "customer"),
            Column::left("subsidiary_id", "subsidiary"),
            Column::left("detail", "detail"),
            Column::left("id", "id").not_in_table(),
            Column::left("subject", "subject").not_in_table(),
            Column::right("position", "position").not_in_table(),
            Column::right("value", "value").not_in_table(),
            Column::right("threshold", "threshold").not_in_table(),
        ],
    );
    for alert in alerts {
        sheet.rows.push(vec![
            Cell::int(alert.seq),
            Cell::text(&alert.raised_on),
            Cell::text(&alert.kind),
            Cell::text(&alert.customer_id),
            Cell::text(&alert.subsidiary_id),
            Cell::text(&alert.detail),
            Cell::text(&alert.id),
            Cell::text(&alert.subject),
            Cell::int(alert.position),
            Cell::text(&alert.value),
            Cell::text(&alert.threshold),
        ]);
    }
    sheet
}

/// One alert as a line of a followed stream: words for people, a CSV row (after the header
/// when `header`), or one JSON object (JSON Lines).
pub fn alert_line(alert: &pb::Alert, format: Format, header: bool) -> Result<String, CliError> {
    let sheet = alerts_sheet(std::slice::from_ref(alert));
    match format {
        Format::Table => {
            let subsidiary = if alert.subsidiary_id.is_empty() {
                String::new()
            } else {
                format!(" ({})", alert.subsidiary_id)
            };
            Ok(format!(
                "#{} {} {} {}{subsidiary}: {}\n",
                alert.seq, alert.raised_on, alert.kind, alert.customer_id, alert.detail
            ))
        }
        Format::Csv => {
            let csv = sheet.csv()?;
            Ok(if header {
                csv
            } else {
                csv.split_once('\n')
                    .map_or(String::new(), |(_, row)| row.to_owned())
            })
        }
        Format::Json => {
            let row = sheet.json()["alerts"][0].clone();
            let mut line =
                serde_json::to_string(&row).map_err(|e| CliError::Output(e.to_string()))?;
            line.push('\n');
            Ok(line)
        }
    }
}

/// Promises to pay with their status.
pub fn promises(promises: &[pb::PromiseView], format: Format) -> Result<String, CliError> {
    promises_sheet(promises).render(format)
}

/// The sheet behind [`promises`].
pub fn promises_sheet(promises: &[pb::PromiseView]) -> Sheet {
    let mut sheet = Sheet::new(
        "promises",
        vec![
            Column::left("promise_id", "promise"),
            Column::left("customer_id", "customer"),
            Column::left("subsidiary_id", "subsidiary"),
            Column::left("currency", "currency"),
            Column::right("amount", "amount"),
            Column::right("paid", "paid"),
            Column::left("made_on", "made on"),
            Column::left("promised_date", "promised"),
            Column::left("window_end", "window end"),
            Column::left("collector", "collector"),
            Column::left("status", "status"),
        ],
    );
    for promise in promises {
        let currency = promise
            .amount
            .as_ref()
            .map_or("", |money| money.currency.as_str());
        sheet.rows.push(vec![
            Cell::text(&promise.promise_id),
            Cell::text(&promise.customer_id),
            Cell::text(&promise.subsidiary_id),
            Cell::text(currency),
            money(promise.amount.as_ref(), currency),
            money(promise.paid.as_ref(), currency),
            Cell::text(&promise.made_on),
            Cell::text(&promise.promised_date),
            Cell::text(&promise.window_end),
            Cell::text(&promise.collector),
            Cell::text(promise_status(promise.status())),
        ]);
    }
    sheet
}

/// Open invoices (of an aging scope or one account), with their days past the reference date.
pub fn open_items(items: &[pb::OpenItem], format: Format) -> Result<String, CliError> {
    open_items_sheet(items).render(format)
}

/// The sheet behind [`open_items`].
pub fn open_items_sheet(items: &[pb::OpenItem]) -> Sheet {
    let mut sheet = Sheet::new(
        "open_items",
        vec![
            Column::left("subsidiary_id", "subsidiary"),
            Column::left("invoice_number", "invoice"),
            Column::left("customer_id", "customer"),
            Column::left("currency", "currency"),
            Column::right("amount", "amount"),
            Column::right("open_amount", "open"),
            Column::left("issue_date", "issued"),
            Column::left("due_date", "due"),
            Column::right("days", "days"),
            Column::left("over_limit", "over limit"),
        ],
    );
    for item in items {
        let currency = item
            .amount
            .as_ref()
            .map_or("", |money| money.currency.as_str());
        let (subsidiary, number) = invoice_ref(item.invoice.as_ref());
        sheet.rows.push(vec![
            Cell::text(subsidiary),
            Cell::text(number),
            Cell::text(&item.customer_id),
            Cell::text(currency),
            money(item.amount.as_ref(), currency),
            money(item.open_amount.as_ref(), currency),
            Cell::text(&item.issue_date),
            Cell::text(&item.due_date),
            Cell::int(item.days),
            Cell::flag(item.over_limit),
        ]);
    }
    sheet
}

/// One customer's account as the read side sees it on a date.
#[derive(Debug, Clone, Default)]
pub struct AccountView {
    pub customer_id: String,
    /// The date asked for; empty means the service's today.
    pub as_of: String,
    /// The lowest log position the three answers were read at.
    pub position: u64,
    pub exposure: Vec<pb::Exposure>,
    pub open_items: Vec<pb::OpenItem>,
    pub promises: Vec<pb::PromiseView>,
}

/// An account: its exposure lines, open invoices and promises. Tables print three captioned
/// tables; CSV prints three CSV blocks, each after a `# exposure` / `# open_items` /
/// `# promises` line and separated by an empty line; JSON one document with the three arrays.
pub fn account(view: &AccountView, format: Format) -> Result<String, CliError> {
    let mut exposure = exposures_sheet(&view.exposure);
    let mut open = open_items_sheet(&view.open_items);
    let mut promised = promises_sheet(&view.promises);
    match format {
        Format::Table => {
            let as_of = if view.as_of.is_empty() {
                "today".to_owned()
            } else {
                view.as_of.clone()
            };
            exposure.caption = Some(format!(
                "Account {} as of {as_of} (log position {})",
                view.customer_id, view.position
            ));
            open.caption = Some(format!("Open invoices ({})", view.open_items.len()));
            promised.caption = Some(format!("Promises ({})", view.promises.len()));
            Ok(format!(
                "{}\n{}\n{}",
                exposure.table(),
                open.table(),
                promised.table()
            ))
        }
        Format::Csv => Ok(format!(
            "# exposure\n{}\n# open_items\n{}\n# promises\n{}",
            exposure.csv()?,
            open.csv()?,
            promised.csv()?
        )),
        Format::Json => json_document(&json!({
            "customer_id": view.customer_id,
            "as_of": if view.as_of.is_empty() { Value::Null } else { json!(view.as_of) },
            "position": view.position,
            "exposure": exposure.json()["lines"],
            "open_items": open.json()["open_items"],
            "promises": promised.json()["promises"],
        })),
    }
}

/// Balance confirmations: one row each, with the balance the account held and the difference.
pub fn confirmations(
    lines: &[pb::BalanceConfirmation],
    format: Format,
) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "confirmations",
        vec![
            Column::left("customer_id", "customer"),
            Column::left("as_of", "as of"),
            Column::left("currency", "currency"),
            Column::right("confirmed", "confirmed"),
            Column::right("balance", "balance held"),
            Column::right("difference", "difference"),
            Column::left("confirmed_by", "confirmed by"),
            Column::left("note", "note"),
            Column::right("position", "position"),
        ],
    );
    for line in lines {
        let currency = line.confirmed.as_ref().map_or("", |m| m.currency.as_str());
        sheet.rows.push(vec![
            Cell::text(&line.customer_id),
            Cell::text(&line.as_of),
            Cell::text(currency),
            money(line.confirmed.as_ref(), currency),
            money(line.balance.as_ref(), currency),
            money(line.difference.as_ref(), currency),
            Cell::text(&line.confirmed_by),
            Cell::text(&line.note),
            Cell::int(line.position),
        ]);
    }
    sheet.render(format)
}

/// What falls due soon, in due order: one row per invoice or row of a schedule or plan.
pub fn upcoming(items: &[pb::UpcomingDue], format: Format) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "items",
        vec![
            Column::left("due_date", "due"),
            Column::right("days_until_due", "in days"),
            Column::left("customer_id", "customer"),
            Column::left("customer_name", "name"),
            Column::left("invoice", "invoice"),
            Column::right("row_index", "row"),
            Column::left("currency", "currency"),
            Column::right("open", "open"),
            Column::right("disputed", "disputed"),
            Column::left("collector", "collector"),
        ],
    );
    for item in items {
        let currency = item.open.as_ref().map_or("", |m| m.currency.as_str());
        let invoice = item.invoice.as_ref().map_or_else(String::new, |i| {
            format!("{}/{}", i.subsidiary_id, i.invoice_number)
        });
        sheet.rows.push(vec![
            Cell::text(&item.due_date),
            Cell::int(item.days_until_due),
            Cell::text(&item.customer_id),
            Cell::text(&item.customer_name),
            Cell::text(invoice),
            Cell::optional_int(item.row_index),
            Cell::text(currency),
            money(item.open.as_ref(), currency),
            money(item.disputed.as_ref(), currency),
            Cell::text(&item.collector),
        ]);
    }
    sheet.render(format)
}

/// A statement of account: one sheet of movements (each currency's opening balance, its
/// movements with the running balance, its closing balance) and one of the aging at the
/// period's end.
pub fn statement(statement: &pb::GetStatementResponse, format: Format) -> Result<String, CliError> {
    let mut movements = statement_sheet(statement);
    let mut aging = aging_sheet(&pb::GetAgingReportResponse {
        as_of: statement.to_date.clone(),
        lines: statement
            .currencies
            .iter()
            .filter_map(|part| part.aging.clone())
            .collect(),
        position: statement.position,
    });
    match format {
        Format::Table => {
            movements.caption = Some(format!(
                "Statement of {} from {} to {} (log position {})",
                addressee(statement),
                statement.from_date,
                statement.to_date,
                statement.position
            ));
            aging.caption = Some(format!("Aging as of {}", statement.to_date));
            Ok(format!("{}\n{}", movements.table(), aging.table()))
        }
        Format::Csv => Ok(format!(
            "# movements\n{}\n# aging\n{}",
            movements.csv()?,
            aging.csv()?
        )),
        Format::Json => json_document(&json!({
            "customer_id": statement.customer_id,
            "customer": statement.customer.as_ref().map(profile_json),
            "from_date": statement.from_date,
            "to_date": statement.to_date,
            "position": statement.position,
            "movements": movements.json()["movements"],
            "aging": aging.json()["lines"],
        })),
    }
}

/// Whom a statement is addressed to: the customer's id, with its legal name (else its name)
/// and tax id once registered.
fn addressee(statement: &pb::GetStatementResponse) -> String {
    let Some(profile) = &statement.customer else {
        return statement.customer_id.clone();
    };
    let name = if profile.legal_name.is_empty() {
        &profile.name
    } else {
        &profile.legal_name
    };
    let mut text = format!("{} {name}", statement.customer_id);
    if !profile.tax_id.is_empty() {
        text.push_str(&format!(" (tax id {})", profile.tax_id));
    }
    text
}

/// A customer's record as JSON, field by field as the wire names them.
fn profile_json(profile: &pb::CustomerProfile) -> serde_json::Value {
    json!({
        "name": profile.name,
        "legal_name": profile.legal_name,
        "tax_id": profile.tax_id,
        "country": profile.country,
        "contacts": profile.contacts.iter().map(|c| json!({
            "name": c.name, "email": c.email, "phone": c.phone, "role": c.role,
        })).collect::<Vec<_>>(),
        "industry": profile.industry,
        "notes": profile.notes,
    })
}

/// Registered customers found by a search, one row each, the contacts in one cell as the import
/// takes them (`name;email;phone;role`, separated by ` | `).
pub fn customers(customers: &[pb::CustomerView], format: Format) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "customers",
        vec![
            Column::left("customer_id", "customer"),
            Column::left("name", "name"),
            Column::left("legal_name", "legal name"),
            Column::left("tax_id", "tax id"),
            Column::left("country", "country"),
            Column::left("industry", "industry"),
            Column::left("collector", "collector"),
            Column::left("contacts", "contacts"),
            Column::left("notes", "notes").not_in_table(),
        ],
    );
    for view in customers {
        let profile = view.profile.clone().unwrap_or_default();
        let contacts = profile
            .contacts
            .iter()
            .map(|c| {
                [
                    c.name.as_str(),
                    c.email.as_str(),
                    c.phone.as_str(),
                    c.role.as_str(),
                ]
                .join(";")
            })
            .collect::<Vec<_>>()
            .join(" | ");
        sheet.rows.push(vec![
            Cell::text(&view.customer_id),
            Cell::text(&profile.name),
            Cell::text(&profile.legal_name),
            Cell::text(&profile.tax_id),
            Cell::text(&profile.country),
            Cell::text(&profile.industry),
            Cell::text(&view.collector),
            Cell::text(&contacts),
            Cell::text(&profile.notes),
        ]);
    }
    sheet.render(format)
}

/// The movements of [`statement`], with an opening and a closing row per currency.
fn statement_sheet(statement: &pb::GetStatementResponse) -> Sheet {
    let mut sheet = Sheet::new(
        "movements",
        vec![
            Column::left("currency", "currency"),
            Column::left("date", "date"),
            Column::left("kind", "kind"),
            Column::left("subsidiary_id", "subsidiary"),
            Column::left("document", "document"),
            Column::left("invoice", "invoice"),
            Column::right("amount", "amount"),
            Column::right("debit", "debit"),
            Column::right("credit", "credit"),
            Column::right("balance", "balance"),
            Column::left("note", "note"),
        ],
    );
    let blank = || Cell::text("");
    for part in &statement.currencies {
        let currency = part.currency.as_str();
        let edge = |date: &str, kind: &str, balance: Option<&pb::Money>| {
            vec![
                Cell::text(currency),
                Cell::text(date),
                Cell::text(kind),
                blank(),
                blank(),
                blank(),
                blank(),
                blank(),
                blank(),
                money(balance, currency),
                blank(),
            ]
        };
        sheet.rows.push(edge(
            &statement.from_date,
            "opening",
            part.opening_balance.as_ref(),
        ));
        for movement in &part.movements {
            let invoice = movement.invoice.as_ref().map_or_else(String::new, |i| {
                format!("{}/{}", i.subsidiary_id, i.invoice_number)
            });
            let kind = movement.kind().as_str_name();
            let kind = kind
                .strip_prefix("MOVEMENT_KIND_")
                .unwrap_or(kind)
                .to_ascii_lowercase();
            let figure = |m: Option<&pb::Money>| match m {
                Some(m) if m.amount.trim_start_matches(['0', '.']).is_empty() => blank(),
                other => money(other, currency),
            };
            sheet.rows.push(vec![
                Cell::text(currency),
                Cell::text(&movement.date),
                Cell::text(kind),
                Cell::text(&movement.subsidiary_id),
                Cell::text(&movement.document),
                Cell::text(invoice),
                money(movement.amount.as_ref(), currency),
                figure(movement.debit.as_ref()),
                figure(movement.credit.as_ref()),
                money(movement.balance.as_ref(), currency),
                Cell::text(&movement.note),
            ]);
        }
        sheet.rows.push(edge(
            &statement.to_date,
            "closing",
            part.closing_balance.as_ref(),
        ));
        // Credit reserved for orders is not owed: a row of its own, outside the balance.
        if let Some(reserved) = part
            .reserved
            .as_ref()
            .filter(|m| !m.amount.trim_start_matches(['0', '.']).is_empty())
        {
            sheet.rows.push(vec![
                Cell::text(currency),
                Cell::text(&statement.to_date),
                Cell::text("reserved"),
                blank(),
                blank(),
                blank(),
                money(Some(reserved), currency),
                blank(),
                blank(),
                blank(),
                Cell::text("credit reserved for sales orders, not owed"),
            ]);
        }
    }
    sheet
}

// ---------------------------------------------------------------------------------------------
// Replies to commands.

/// An accepted invoice: receipt, due date, over-limit flag and the credit check.
pub fn invoice_reply(
    command_id: &str,
    reply: &pb::IssueInvoiceResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    record
        .push(
            Column::left("due_date", "due date"),
            Cell::text(&reply.due_date),
        )
        .push(
            Column::left("schedule", "schedule"),
            Cell::text(schedule(&reply.schedule)),
        )
        .push(
            Column::left("discount", "discount"),
            Cell::text(reply.discount.as_ref().map_or(String::new(), |d| {
                format!("{} % within {} days", d.percent, d.within_days)
            })),
        )
        .push(
            Column::left("over_limit", "over limit"),
            Cell::yes_no(reply.over_limit),
        );
    if let Some(consumed) = &reply.reservation_consumed {
        record.push(
            Column::right("reservation_consumed", "reservation consumed"),
            money(Some(consumed), &consumed.currency),
        );
    }
    credit_check(&mut record, reply.credit_check.as_ref());
    record.render(format)
}

/// An accepted credit reservation: receipt, whether it went over the limit, its credit check.
pub fn reservation_reply(
    command_id: &str,
    reply: &pb::ReserveCreditResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    record.push(
        Column::left("over_limit", "over limit"),
        Cell::yes_no(reply.over_limit),
    );
    credit_check(&mut record, reply.credit_check.as_ref());
    record.render(format)
}

/// An accepted release of reserved credit: receipt, what was released and what is left.
pub fn release_reply(
    command_id: &str,
    reply: &pb::ReleaseCreditResponse,
    format: Format,
) -> Result<String, CliError> {
    let currency = reply.released.as_ref().map_or("", |m| m.currency.as_str());
    let mut record = receipt(command_id, reply.receipt.as_ref());
    record
        .push(
            Column::right("released", "released"),
            money(reply.released.as_ref(), currency),
        )
        .push(
            Column::right("remaining", "remaining"),
            money(reply.remaining.as_ref(), currency),
        )
        .push(Column::left("currency", "currency"), Cell::text(currency));
    record.render(format)
}

/// The credit check a commitment went through, in the columns of its reply (empty without a
/// limit).
fn credit_check(record: &mut Record, check: Option<&pb::CreditCheck>) {
    let limit = check.and_then(|c| c.limit.as_ref());
    let currency = limit.map_or("", |m| m.currency.as_str());
    record
        .push(
            Column::right("credit_limit", "credit limit"),
            money(limit, currency),
        )
        .push(
            Column::left("limit_currency", "limit currency"),
            Cell::text(currency),
        )
        .push(
            Column::left("policy", "policy"),
            Cell::text(check.map_or("", |c| policy(c.policy()))),
        )
        .push(
            Column::right("exposure_after", "exposure after"),
            money(check.and_then(|c| c.exposure_after.as_ref()), currency),
        )
        .push(
            Column::left("converted", "converted"),
            Cell::text(conversions(check.map_or(&[][..], |c| &c.conversions))),
        );
}

/// A credit check's converted exposures as `1000.00 USD at 7.1 = 7100.00 CNY; ...`.
fn conversions(conversions: &[pb::ExposureConversion]) -> String {
    let text = |money: Option<&pb::Money>| {
        money.map_or_else(String::new, |m| format!("{} {}", m.amount, m.currency))
    };
    conversions
        .iter()
        .map(|c| {
            format!(
                "{} at {} = {}",
                text(c.exposure.as_ref()),
                c.rate,
                text(c.converted.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An accepted payment: receipt, the allocation rule applied, every allocation and the
/// unapplied remainder. In tables and CSV the allocations read `SUBSIDIARY:NUMBER:AMOUNT`
/// separated by `;` (the import's syntax); in JSON they are an array.
pub fn payment_reply(
    command_id: &str,
    reply: &pb::RecordPaymentResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    let currency = reply.unapplied.as_ref().map_or("", |m| m.currency.as_str());
    record
        .push(
            Column::left("allocation_rule", "allocation rule"),
            Cell::text(allocation_rule(reply.allocation_rule())),
        )
        .push(
            Column::left("allocations", "allocations"),
            allocations(&reply.allocations),
        )
        .push(
            Column::right("unapplied", "unapplied"),
            money(reply.unapplied.as_ref(), currency),
        )
        .push(Column::left("currency", "currency"), Cell::text(currency));
    record.render(format)
}

/// Allocations as `SUBSIDIARY:NUMBER:AMOUNT;...` in a table, a list in JSON.
fn allocations(allocations: &[pb::Allocation]) -> Cell {
    let text = allocations
        .iter()
        .map(|a| {
            let (subsidiary, number) = invoice_ref(a.invoice.as_ref());
            let amount = a.amount.as_ref().map_or("", |m| m.amount.as_str());
            format!("{subsidiary}:{number}:{amount}")
        })
        .collect::<Vec<_>>()
        .join(";");
    let list: Vec<Value> = allocations
        .iter()
        .map(|a| {
            let (subsidiary, number) = invoice_ref(a.invoice.as_ref());
            json!({
                "subsidiary_id": subsidiary,
                "invoice_number": number,
                "amount": a.amount.as_ref().map(|m| m.amount.clone()),
            })
        })
        .collect();
    Cell::structured(text, Value::Array(list))
}

/// An accepted credit note: receipt, the invoice credited or the unapplied credit it made.
pub fn credit_note_reply(
    command_id: &str,
    reply: &pb::IssueCreditNoteResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    let (subsidiary, number) = invoice_ref(reply.invoice.as_ref());
    let credited = if number.is_empty() {
        String::new()
    } else {
        format!("{subsidiary}:{number}")
    };
    let currency = reply
        .unapplied_credit
        .as_ref()
        .map_or("", |m| m.currency.as_str());
    record
        .push(
            Column::left("invoice", "invoice credited"),
            Cell::text(&credited),
        )
        .push(
            Column::right("unapplied_credit", "unapplied credit"),
            money(reply.unapplied_credit.as_ref(), currency),
        )
        .push(Column::left("currency", "currency"), Cell::text(currency));
    record.render(format)
}

/// An accepted write-off: its receipt.
pub fn write_off_reply(
    command_id: &str,
    reply: &pb::WriteOffInvoiceResponse,
    format: Format,
) -> Result<String, CliError> {
    receipt(command_id, reply.receipt.as_ref()).render(format)
}

/// An accepted reversal: receipt, the allocations re-opened and the unapplied cash removed.
pub fn reversal_reply(
    command_id: &str,
    reply: &pb::ReversePaymentResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    let currency = reply
        .unapplied_removed
        .as_ref()
        .map_or("", |m| m.currency.as_str());
    record
        .push(
            Column::left("reopened", "re-opened"),
            allocations(&reply.reopened),
        )
        .push(
            Column::right("unapplied_removed", "unapplied removed"),
            money(reply.unapplied_removed.as_ref(), currency),
        )
        .push(Column::left("currency", "currency"), Cell::text(currency));
    record.render(format)
}

/// An accepted application: receipt, rule, allocations and what was applied.
pub fn application_reply(
    command_id: &str,
    reply: &pb::ApplyUnappliedCashResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    let currency = reply.applied.as_ref().map_or("", |m| m.currency.as_str());
    record
        .push(
            Column::left("allocation_rule", "allocation rule"),
            Cell::text(allocation_rule(reply.allocation_rule())),
        )
        .push(
            Column::left("allocations", "allocations"),
            allocations(&reply.allocations),
        )
        .push(
            Column::right("applied", "applied"),
            money(reply.applied.as_ref(), currency),
        )
        .push(Column::left("currency", "currency"), Cell::text(currency));
    record.render(format)
}

/// An accepted dispute or resolution: receipt and the dispute's id.
pub fn dispute_reply(
    command_id: &str,
    receipt_of: Option<&pb::CommandReceipt>,
    dispute_id: &str,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, receipt_of);
    record.push(
        Column::left("dispute_id", "dispute id"),
        Cell::text(dispute_id),
    );
    record.render(format)
}

/// An accepted refund: its receipt.
pub fn refund_reply(
    command_id: &str,
    reply: &pb::IssueRefundResponse,
    format: Format,
) -> Result<String, CliError> {
    receipt(command_id, reply.receipt.as_ref()).render(format)
}

/// An accepted balance confirmation: receipt, the account's balance and the difference.
pub fn balance_confirmation_reply(
    command_id: &str,
    reply: &pb::ConfirmBalanceResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    record.push(
        Column::right("balance", "balance held"),
        money(reply.balance.as_ref(), ""),
    );
    record.push(
        Column::right("difference", "difference"),
        money(reply.difference.as_ref(), ""),
    );
    record.render(format)
}

/// An accepted command whose reply is its receipt alone (a group setting).
pub fn receipt_reply(
    command_id: &str,
    reply: Option<&pb::CommandReceipt>,
    format: Format,
) -> Result<String, CliError> {
    receipt(command_id, reply).render(format)
}

/// Schedule rows in one cell: `2026-07-31 500.00; 2026-08-31 500.00`.
fn schedule(rows: &[pb::ScheduleRow]) -> String {
    rows.iter()
        .map(|row| {
            let amount = row.amount.as_ref().map_or("", |m| m.amount.as_str());
            format!("{} {amount}", row.due_date)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An accepted instalment plan: receipt, the plan's id, what was open and overdue.
pub fn instalment_plan_reply(
    command_id: &str,
    reply: &pb::AgreeInstalmentPlanResponse,
    format: Format,
) -> Result<String, CliError> {
    let currency = reply
        .open_amount
        .as_ref()
        .map_or("", |m| m.currency.as_str());
    let mut record = receipt(command_id, reply.receipt.as_ref());
    record
        .push(
            Column::left("plan_id", "plan id"),
            Cell::text(&reply.plan_id),
        )
        .push(
            Column::right("open_amount", "open amount"),
            money(reply.open_amount.as_ref(), currency),
        )
        .push(
            Column::right("overdue_amount", "overdue amount"),
            money(reply.overdue_amount.as_ref(), currency),
        )
        .push(Column::left("currency", "currency"), Cell::text(currency));
    record.render(format)
}

/// An accepted discount: receipt, the day it settles the invoice from, the most allowed.
pub fn discount_reply(
    command_id: &str,
    reply: &pb::AllowDiscountResponse,
    format: Format,
) -> Result<String, CliError> {
    let currency = reply.most_off.as_ref().map_or("", |m| m.currency.as_str());
    let mut record = receipt(command_id, reply.receipt.as_ref());
    record
        .push(
            Column::left("allowed_on", "allowed on"),
            Cell::text(&reply.allowed_on),
        )
        .push(
            Column::right("most_off", "most off"),
            money(reply.most_off.as_ref(), currency),
        )
        .push(Column::left("currency", "currency"), Cell::text(currency));
    record.render(format)
}

/// An accepted change of credit limit: its receipt.
pub fn credit_limit_reply(
    command_id: &str,
    reply: &pb::ChangeCreditLimitResponse,
    format: Format,
) -> Result<String, CliError> {
    receipt(command_id, reply.receipt.as_ref()).render(format)
}

/// An accepted promise to pay: receipt and the promise's id.
pub fn promise_reply(
    command_id: &str,
    reply: &pb::RecordPromiseToPayResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    record.push(
        Column::left("promise_id", "promise id"),
        Cell::text(&reply.promise_id),
    );
    record.render(format)
}

/// The fields every accepted command shares. `replayed` says the command id had been accepted
/// before and this is its first reply again (nothing new was recorded).
fn receipt(command_id: &str, receipt: Option<&pb::CommandReceipt>) -> Record {
    let mut record = Record::default();
    record
        .push(
            Column::left("command_id", "command id"),
            Cell::text(command_id),
        )
        .push(
            Column::left("event_id", "event id"),
            Cell::text(receipt.map_or("", |r| r.event_id.as_str())),
        )
        .push(
            Column::right("position", "position"),
            Cell::optional_int(receipt.map(|r| r.position)),
        )
        .push(
            Column::left("recorded_at", "recorded at"),
            Cell::text(
                receipt
                    .and_then(|r| r.recorded_at.as_ref())
                    .map(timestamp)
                    .unwrap_or_default(),
            ),
        )
        .push(
            Column::left("replayed", "already recorded before"),
            Cell::yes_no(receipt.is_some_and(|r| r.replayed)),
        );
    record
}

// ---------------------------------------------------------------------------------------------
// Values.

/// An amount of the line's currency as the API gave it; in another currency, with its code.
fn money(money: Option<&pb::Money>, line_currency: &str) -> Cell {
    match money {
        None => Cell::missing(),
        Some(m) if m.currency == line_currency || line_currency.is_empty() => {
            Cell::decimal(&m.amount)
        }
        Some(m) => Cell::text(format!("{} {}", m.amount, m.currency)),
    }
}

fn invoice_ref(invoice: Option<&pb::InvoiceRef>) -> (&str, &str) {
    invoice.map_or(("", ""), |i| {
        (i.subsidiary_id.as_str(), i.invoice_number.as_str())
    })
}

/// RFC 3339 in UTC, to the second.
fn timestamp(timestamp: &prost_types::Timestamp) -> String {
    u32::try_from(timestamp.nanos)
        .ok()
        .and_then(|nanos| chrono::DateTime::from_timestamp(timestamp.seconds, nanos))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

pub(crate) fn policy(policy: pb::CreditPolicy) -> &'static str {
    match policy {
        pb::CreditPolicy::Unspecified => "",
        pb::CreditPolicy::Block => "block",
        pb::CreditPolicy::Warn => "warn",
    }
}

pub(crate) fn grade(grade: pb::CreditGrade) -> &'static str {
    match grade {
        pb::CreditGrade::Unspecified => "",
        pb::CreditGrade::A => "A",
        pb::CreditGrade::B => "B",
        pb::CreditGrade::C => "C",
        pb::CreditGrade::D => "D",
    }
}

pub(crate) fn escalation(level: pb::EscalationLevel) -> &'static str {
    match level {
        pb::EscalationLevel::Unspecified => "",
        pb::EscalationLevel::Reminder => "reminder",
        pb::EscalationLevel::Call => "call",
        pb::EscalationLevel::DemandLetter => "demand_letter",
        pb::EscalationLevel::StopSupply => "stop_supply",
        pb::EscalationLevel::LegalOrAgency => "legal_or_agency",
    }
}

pub(crate) fn contact_channel(channel: pb::ContactChannel) -> &'static str {
    match channel {
        pb::ContactChannel::Unspecified => "",
        pb::ContactChannel::Call => "call",
        pb::ContactChannel::Email => "email",
        pb::ContactChannel::Letter => "letter",
        pb::ContactChannel::Visit => "visit",
        pb::ContactChannel::Sms => "sms",
    }
}

pub(crate) fn contact_outcome(outcome: pb::ContactOutcome) -> &'static str {
    match outcome {
        pb::ContactOutcome::Unspecified => "",
        pb::ContactOutcome::Reached => "reached",
        pb::ContactOutcome::NoAnswer => "no_answer",
        pb::ContactOutcome::Promised => "promised",
        pb::ContactOutcome::Disputed => "disputed",
        pb::ContactOutcome::Refused => "refused",
        pb::ContactOutcome::WrongContact => "wrong_contact",
    }
}

pub(crate) fn promise_status(status: pb::PromiseStatus) -> &'static str {
    match status {
        pb::PromiseStatus::Unspecified => "",
        pb::PromiseStatus::Open => "open",
        pb::PromiseStatus::PartiallyKept => "partially_kept",
        pb::PromiseStatus::Kept => "kept",
        pb::PromiseStatus::Broken => "broken",
    }
}

pub(crate) fn allocation_rule(rule: pb::AllocationRule) -> &'static str {
    match rule {
        pb::AllocationRule::Unspecified => "",
        pb::AllocationRule::Explicit => "explicit",
        pb::AllocationRule::OldestDueFirst => "oldest_due_first",
        pb::AllocationRule::OnAccount => "on_account",
    }
}

/// The answer of a credit check: the decision and why, the terms, the exposure before and
/// after the amount and what is available, what is overdue, and each currency's part.
pub fn credit_check_answer(
    reply: &pb::CheckCreditResponse,
    format: Format,
) -> Result<String, CliError> {
    let currency = reply.limit.as_ref().map_or("", |m| m.currency.as_str());
    let decision = match reply.decision() {
        pb::CreditDecision::WithinLimit => "WITHIN_LIMIT",
        pb::CreditDecision::OverLimit => "OVER_LIMIT",
        pb::CreditDecision::CustomerOverdue => "CUSTOMER_OVERDUE",
        pb::CreditDecision::NoLimit => "NO_LIMIT",
        pb::CreditDecision::Unspecified => "",
    };
    let mut record = Record::default();
    record
        .push(Column::left("decision", "decision"), Cell::text(decision))
        .push(
            Column::left("would_accept", "would accept"),
            Cell::yes_no(reply.would_accept),
        )
        .push(Column::left("date", "date"), Cell::text(&reply.date))
        .push(
            Column::right("credit_limit", "credit limit"),
            money(reply.limit.as_ref(), currency),
        )
        .push(
            Column::left("limit_currency", "limit currency"),
            Cell::text(currency),
        )
        .push(
            Column::left("policy", "policy"),
            Cell::text(if reply.limit.is_some() {
                policy(reply.policy())
            } else {
                ""
            }),
        )
        .push(
            Column::right("overdue_hold_days", "overdue hold days"),
            Cell::optional_int(reply.overdue_hold_days),
        )
        .push(
            Column::right("exposure", "exposure"),
            money(reply.exposure.as_ref(), currency),
        )
        .push(
            Column::right("exposure_after", "exposure after"),
            money(reply.exposure_after.as_ref(), currency),
        )
        .push(
            Column::right("available", "available"),
            money(reply.available.as_ref(), currency),
        )
        .push(
            Column::right("oldest_overdue_days", "oldest overdue days"),
            Cell::optional_int(reply.oldest_overdue_days),
        )
        .push(
            Column::left("overdue_beyond_hold", "overdue beyond hold"),
            Cell::text(
                reply
                    .overdue_beyond_hold
                    .iter()
                    .map(|m| format!("{} {}", m.amount, m.currency))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        )
        .push(
            Column::left("by_currency", "by currency"),
            Cell::text(
                reply
                    .lines
                    .iter()
                    .map(|line| {
                        let amount = |m: &Option<pb::Money>| {
                            m.as_ref().map_or("", |m| m.amount.as_str()).to_owned()
                        };
                        format!(
                            "{}: open {}, unapplied {}, reserved {}, exposure {}, overdue {}",
                            line.currency,
                            amount(&line.open_invoices),
                            amount(&line.unapplied),
                            amount(&line.reserved),
                            amount(&line.exposure),
                            amount(&line.overdue),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        )
        .push(
            Column::left("converted", "converted"),
            Cell::text(conversions(&reply.conversions)),
        )
        .push(
            Column::left("explanation", "explanation"),
            Cell::text(&reply.explanation),
        )
        .push(
            Column::right("position", "position"),
            Cell::int(reply.position),
        );
    record.render(format)
}

/// A statement's import: a line per entry of the file, what became of it, and the totals.
pub fn statement_import(
    reply: &pb::ImportStatementResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "lines",
        vec![
            Column::right("ordinal", "#"),
            Column::left("line_id", "bank id"),
            Column::left("outcome", "import"),
            Column::left("match", "match"),
            Column::left("value_date", "value date"),
            Column::right("amount", "amount"),
            Column::left("currency", "currency"),
            Column::left("payer_name", "payer"),
            Column::left("reference", "reference"),
            Column::left("problem", "problem"),
            Column::right("source_line", "file line").not_in_table(),
            Column::right("position", "position").not_in_table(),
        ],
    );
    sheet.caption = Some(format!(
        "Statement {}: {} imported, {} known, {} debits, {} refused; {} matched automatically, \
         {} waiting for review (log position {})",
        if reply.statement_id.is_empty() {
            "(no id)"
        } else {
            reply.statement_id.as_str()
        },
        reply.imported,
        reply.known,
        reply.debits,
        reply.refused,
        reply.matched_automatically,
        reply.waiting,
        reply.position
    ));
    sheet.meta = vec![
        ("statement_id".to_owned(), json!(reply.statement_id)),
        ("imported".to_owned(), json!(reply.imported)),
        ("known".to_owned(), json!(reply.known)),
        ("debits".to_owned(), json!(reply.debits)),
        ("refused".to_owned(), json!(reply.refused)),
        (
            "matched_automatically".to_owned(),
            json!(reply.matched_automatically),
        ),
        ("waiting".to_owned(), json!(reply.waiting)),
        ("position".to_owned(), json!(reply.position)),
    ];
    for line in &reply.lines {
        let currency = line.amount.as_ref().map_or("", |m| m.currency.as_str());
        let outcome = pb::LineOutcome::try_from(line.outcome)
            .map_or("", |o| o.as_str_name().trim_start_matches("LINE_OUTCOME_"));
        let matched = pb::MatchOutcome::try_from(line.r#match)
            .map_or("", |o| o.as_str_name().trim_start_matches("MATCH_OUTCOME_"));
        sheet.rows.push(vec![
            Cell::int(line.ordinal),
            Cell::text(&line.line_id),
            Cell::text(outcome),
            Cell::text(if matched == "UNSPECIFIED" {
                ""
            } else {
                matched
            }),
            Cell::text(&line.value_date),
            money(line.amount.as_ref(), currency),
            Cell::text(currency),
            Cell::text(&line.payer_name),
            Cell::text(&line.reference),
            Cell::text(&line.problem),
            Cell::int(line.source_line),
            Cell::int(line.position),
        ]);
    }
    sheet.render(format)
}

/// The review queue: a row per waiting line and candidate (the line's first row holds its
/// best candidate; a line without any has one row).
pub fn unmatched_receipts(
    receipts: &[pb::UnmatchedReceipt],
    format: Format,
) -> Result<String, CliError> {
    let mut sheet = Sheet::new(
        "candidates",
        vec![
            Column::left("bank_account_id", "bank account"),
            Column::left("line_id", "bank id"),
            Column::left("value_date", "value date"),
            Column::right("amount", "amount"),
            Column::left("currency", "currency"),
            Column::left("payer_name", "payer"),
            Column::left("reference", "reference"),
            Column::left("customer_id", "candidate"),
            Column::left("customer_name", "name"),
            Column::right("confidence", "confidence %"),
            Column::left("allocations", "would pay"),
            Column::left("reasons", "why"),
            Column::left("payer_account", "payer account").not_in_table(),
            Column::right("position", "position").not_in_table(),
        ],
    );
    for receipt in receipts {
        let currency = receipt.amount.as_ref().map_or("", |m| m.currency.as_str());
        let line = |first: bool| {
            let text = |value: &str| Cell::text(if first { value } else { "" });
            vec![
                Cell::text(&receipt.bank_account_id),
                Cell::text(&receipt.line_id),
                text(&receipt.value_date),
                if first {
                    money(receipt.amount.as_ref(), currency)
                } else {
                    Cell::text("")
                },
                text(currency),
                text(&receipt.payer_name),
                text(&receipt.reference),
            ]
        };
        if receipt.candidates.is_empty() {
            let mut row = line(true);
            row.extend([
                Cell::text(""),
                Cell::text(""),
                Cell::missing(),
                Cell::text(""),
                Cell::text("nothing points to a customer"),
                Cell::text(&receipt.payer_account),
                Cell::int(receipt.position),
            ]);
            sheet.rows.push(row);
        }
        for (index, candidate) in receipt.candidates.iter().enumerate() {
            let described = |allocations: &[pb::Allocation]| -> Vec<String> {
                allocations
                    .iter()
                    .map(|a| {
                        let invoice = a.invoice.as_ref();
                        format!(
                            "{}/{} {}",
                            invoice.map_or("", |i| i.subsidiary_id.as_str()),
                            invoice.map_or("", |i| i.invoice_number.as_str()),
                            a.amount.as_ref().map_or("", |m| m.amount.as_str())
                        )
                    })
                    .collect()
            };
            let allocations = described(&candidate.allocations);
            let credit = Some(described(&candidate.credit_applications))
                .filter(|credit| !credit.is_empty())
                .map(|credit| format!("credit applied {}", credit.join(", ")));
            let on_account = candidate
                .on_account
                .as_ref()
                .filter(|m| !m.amount.trim_start_matches(['0', '.']).is_empty())
                .map(|m| format!("on account {}", m.amount));
            let mut row = line(index == 0);
            row.extend([
                Cell::text(&candidate.customer_id),
                Cell::text(&candidate.customer_name),
                Cell::int(candidate.confidence),
                Cell::text(
                    allocations
                        .into_iter()
                        .chain(credit)
                        .chain(on_account)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Cell::text(candidate.reasons.join("; ")),
                Cell::text(&receipt.payer_account),
                Cell::int(receipt.position),
            ]);
            sheet.rows.push(row);
        }
    }
    sheet.render(format)
}

/// What a pass of the matcher did.
pub fn receipts_matched(
    reply: &pb::MatchReceiptsResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = Record::default();
    record
        .push(
            Column::right("looked_at", "lines looked at"),
            Cell::int(reply.looked_at),
        )
        .push(
            Column::right("matched_automatically", "matched automatically"),
            Cell::int(reply.matched_automatically),
        )
        .push(
            Column::right("waiting", "waiting for review"),
            Cell::int(reply.waiting),
        )
        .push(
            Column::right("payments_posted", "payments posted"),
            Cell::int(reply.payments_posted),
        )
        .push(
            Column::right("position", "position"),
            Cell::int(reply.position),
        );
    record.render(format)
}

/// A person's decision on a line: the receipt, and each payment posted.
pub fn receipt_resolution(
    command_id: &str,
    reply: &pb::ResolveReceiptResponse,
    format: Format,
) -> Result<String, CliError> {
    let mut record = receipt(command_id, reply.receipt.as_ref());
    let payments: Vec<String> = reply
        .payments
        .iter()
        .map(|p| {
            let amount = p
                .amount
                .as_ref()
                .map_or(String::new(), |m| format!("{} {}", m.amount, m.currency));
            let how = if p.posted_on_account {
                format!(" on account ({})", p.problem)
            } else {
                String::new()
            };
            let credit = match (&p.credit_applied, p.credit_problem.as_str()) {
                (Some(m), _) => format!(", credit {} {} applied", m.amount, m.currency),
                (None, "") => String::new(),
                (None, problem) => format!(", credit not applied ({problem})"),
            };
            format!(
                "{} {amount} payment {}{how}{credit}",
                p.customer_id, p.payment_id
            )
        })
        .collect();
    record.push(
        Column::left("payments", "payments posted"),
        Cell::text(payments.join("; ")),
    );
    record.render(format)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn cny(amount: &str) -> Option<pb::Money> {
        Some(pb::Money {
            amount: amount.to_owned(),
            currency: "CNY".to_owned(),
        })
    }

    #[test]
    fn aging_has_a_column_per_bucket() {
        let report = pb::GetAgingReportResponse {
            as_of: "2026-06-30".to_owned(),
            position: 7,
            lines: vec![pb::AgingLine {
                group: "C1".to_owned(),
                currency: "CNY".to_owned(),
                buckets: vec![
                    pb::AgingBucket {
                        label: "current".to_owned(),
                        amount: cny("10.00"),
                    },
                    pb::AgingBucket {
                        label: "1-30".to_owned(),
                        amount: cny("2.50"),
                    },
                ],
                open_total: cny("12.50"),
                unapplied: cny("0.00"),
                disputed: cny("2.50"),
                name: "Hongda Trading".to_owned(),
                in_group_currency: None,
            }],
        };
        assert_eq!(
            aging(&report, Format::Csv).unwrap(),
            "group,name,currency,current,1-30,open_total,unapplied,disputed,open_total_group,\
             group_rate\n\
             C1,Hongda Trading,CNY,10.00,2.50,12.50,0.00,2.50,,\n"
        );
        let table = aging(&report, Format::Table).unwrap();
        assert!(
            table.starts_with("Aging as of 2026-06-30 (log position 7)\n"),
            "{table}"
        );
    }
}
