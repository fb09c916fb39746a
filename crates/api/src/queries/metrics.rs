//! `GetMetrics`: the early-warning metrics of a period, each with its formula and inputs.

use chrono::{Months, NaiveDate};
use receivables_domain::ids::PersonName;
use receivables_domain::metrics::{Figure, Metric, Unit};
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, Position, SubsidiaryId};
use receivables_projections::metrics::{
    CollectorFigures, CurrencyFigures, MetricsQuery, MetricsReport,
};
use receivables_projections::promises::PROMISE_GRACE_DAYS_DEFAULT;

use crate::fields::Fields;
use crate::{pb, responses};

/// The first and last day of a month written `YYYY-MM`.
fn month(text: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let bad = || format!("{text:?} is not a month YYYY-MM");
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    let (year, month): (i32, u32) = (
        year.parse().map_err(|_| bad())?,
        month.parse().map_err(|_| bad())?,
    );
    if year.to_string().len() != 4 || text.len() != 7 {
        return Err(bad());
    }
    let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .ok_or_else(bad)?;
    Ok((first, last))
}

/// The first and last day of a quarter written `YYYY-Qn`.
fn quarter(text: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let bad = || format!("{text:?} is not a quarter YYYY-Q1 to YYYY-Q4");
    let (year, quarter) = text.split_once("-Q").ok_or_else(bad)?;
    let quarter: u32 = quarter.parse().map_err(|_| bad())?;
    if !(1..=4).contains(&quarter) || year.len() != 4 {
        return Err(bad());
    }
    let (first, _) = month(&format!("{year}-{:02}", (quarter - 1) * 3 + 1)).map_err(|_| bad())?;
    let (_, last) = month(&format!("{year}-{:02}", quarter * 3)).map_err(|_| bad())?;
    Ok((first, last))
}

/// Reads and validates a `GetMetrics` request; every bad field at once.
pub fn read(message: &pb::GetMetricsRequest) -> Result<MetricsQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let given = [
        !message.month.is_empty(),
        !message.quarter.is_empty(),
        !message.from.is_empty() || !message.to.is_empty(),
    ];
    let period = match given {
        [true, false, false] => fields.check("month", month(&message.month)),
        [false, true, false] => fields.check("quarter", quarter(&message.quarter)),
        [false, false, true] => {
            let from = fields.date("from", &message.from);
            let to = fields.date("to", &message.to);
            from.zip(to)
        }
        _ => {
            fields.violation(
                "month",
                "give exactly one period: month, quarter, or from and to",
            );
            None
        }
    };
    let subsidiary = fields.optional("subsidiary_id", &message.subsidiary_id, SubsidiaryId::parse);
    let customer = fields.optional("customer_id", &message.customer_id, CustomerId::parse);
    let collector = fields.optional("collector", &message.collector, PersonName::parse);
    let grace_days = message.grace_days.unwrap_or(PROMISE_GRACE_DAYS_DEFAULT);
    let field = if message.month.is_empty() && message.quarter.is_empty() {
        "to"
    } else if message.month.is_empty() {
        "quarter"
    } else {
        "month"
    };
    let query =
        period.and_then(|(from, to)| fields.check(field, MetricsQuery::new(from, to, grace_days)));
    match (query, subsidiary, customer, collector) {
        (Some(mut query), Some(subsidiary), Some(customer), Some(collector))
            if fields.is_clean() =>
        {
            query.subsidiary = subsidiary;
            query.customer = customer;
            query.collector = collector;
            query.series = message.series;
            Ok(query)
        }
        _ => Err(fields.violations),
    }
}

/// A metric's name on the wire.
pub fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::OverdueRate => "overdue_rate",
        Metric::DsoSimple => "dso_simple",
        Metric::DsoCountback => "dso_countback",
        Metric::BestPossibleDso => "best_possible_dso",
        Metric::AverageDaysDelinquent => "average_days_delinquent",
        Metric::Cei => "cei",
        Metric::BadDebtRate => "bad_debt_rate",
        Metric::PromiseKeptRate => "promise_kept_rate",
        Metric::AverageDaysToPay => "average_days_to_pay",
        Metric::AverageDaysLate => "average_days_late",
        Metric::DisputeRate => "dispute_rate",
    }
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Percent => "percent",
        Unit::Days => "days",
        Unit::Amount => "amount",
        Unit::AmountDays => "amount_days",
        Unit::Count => "count",
    }
}

/// A figure as a message.
pub fn figure(figure: Figure) -> pb::Figure {
    pb::Figure {
        metric: metric_name(figure.metric).to_owned(),
        value: figure.value.map(|v| v.to_string()).unwrap_or_default(),
        unit: unit_name(figure.unit).to_owned(),
        formula: figure.formula.to_owned(),
        inputs: figure
            .inputs
            .into_iter()
            .map(|input| pb::FigureInput {
                name: input.name.to_owned(),
                value: input.value.normalize().to_string(),
                unit: unit_name(input.unit).to_owned(),
            })
            .collect(),
        note: figure.note.unwrap_or_default(),
    }
}

fn currency_figures(figures: CurrencyFigures) -> pb::CurrencyFigures {
    pb::CurrencyFigures {
        currency: figures.currency.code().to_owned(),
        figures: figures.figures.into_iter().map(figure).collect(),
    }
}

fn collector(figures: CollectorFigures) -> pb::CollectorFigures {
    pb::CollectorFigures {
        collector: figures.collector,
        activities: figures.activities,
        reached: figures.reached,
        promises_obtained: figures.promises_obtained,
        promises_kept: figures.promises_kept,
        promises_broken: figures.promises_broken,
        collected: figures
            .collected
            .into_iter()
            .map(responses::money)
            .collect(),
    }
}

/// The metrics as a reply.
pub fn answer(report: MetricsReport, position: Position) -> pb::GetMetricsResponse {
    pb::GetMetricsResponse {
        from: responses::date(report.from),
        to: responses::date(report.to),
        currencies: report
            .currencies
            .into_iter()
            .map(currency_figures)
            .collect(),
        in_group_currency: report.in_group_currency.map(currency_figures),
        collectors: report.collectors.into_iter().map(collector).collect(),
        series: report
            .series
            .into_iter()
            .map(|month| pb::MonthFigures {
                month_end: responses::date(month.month_end),
                currencies: month.currencies.into_iter().map(currency_figures).collect(),
                in_group_currency: month.in_group_currency.map(currency_figures),
            })
            .collect(),
        position: position.get(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Datelike as _;

    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn months_and_quarters_are_read_to_their_days() {
        assert_eq!(
            month("2024-02"),
            Ok((date("2024-02-01"), date("2024-02-29")))
        );
        assert_eq!(
            quarter("2026-Q4"),
            Ok((date("2026-10-01"), date("2026-12-31")))
        );
        assert!(month("2024-13").is_err());
        assert!(month("2024-2").is_err());
        assert!(quarter("2026-Q5").is_err());
        assert!(quarter("2026Q1").is_err());
        assert_eq!(date("2026-12-31").month(), 12);
    }

    #[test]
    fn exactly_one_period_is_read_and_every_bad_field_named() {
        let both = pb::GetMetricsRequest {
            month: "2026-03".to_owned(),
            quarter: "2026-Q1".to_owned(),
            customer_id: "bad id!".to_owned(),
            ..Default::default()
        };
        let named: Vec<String> = read(&both)
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(named, ["month", "customer_id"]);
        let reversed = pb::GetMetricsRequest {
            from: "2026-03-31".to_owned(),
            to: "2026-03-01".to_owned(),
            ..Default::default()
        };
        let named: Vec<String> = read(&reversed)
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(named, ["to"]);
        let query = read(&pb::GetMetricsRequest {
            quarter: "2026-Q1".to_owned(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (query.from(), query.to()),
            (date("2026-01-01"), date("2026-03-31"))
        );
    }
}
