//! `GetCollectionsForecast` and `BacktestCollectionsForecast`: the cash expected week by week,
//! and the forecast of a past date against what was collected.

use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, Position, SubsidiaryId};
use receivables_projections::forecast::{
    BACKTEST_WEEKS_DEFAULT, Backtest, DelaySource, FORECAST_WEEKS_DEFAULT, Forecast, ForecastQuery,
};
use receivables_projections::promises::PROMISE_GRACE_DAYS_DEFAULT;

use crate::fields::Fields;
use crate::{pb, responses};

/// The query of either request: its date, weeks (0: `default_weeks`) and filters.
fn query(
    fields: &mut Fields,
    as_of: Option<chrono::NaiveDate>,
    weeks: u32,
    default_weeks: u32,
    subsidiary_id: &str,
    customer_id: &str,
    grace_days: Option<u32>,
) -> Option<ForecastQuery> {
    let subsidiary = fields.optional("subsidiary_id", subsidiary_id, SubsidiaryId::parse);
    let customer = fields.optional("customer_id", customer_id, CustomerId::parse);
    let weeks = if weeks == 0 { default_weeks } else { weeks };
    let grace_days = grace_days.unwrap_or(PROMISE_GRACE_DAYS_DEFAULT);
    let query =
        as_of.and_then(|as_of| fields.check("weeks", ForecastQuery::new(as_of, weeks, grace_days)));
    let (Some(mut query), Some(subsidiary), Some(customer)) = (query, subsidiary, customer) else {
        return None;
    };
    query.subsidiary = subsidiary;
    query.customer = customer;
    Some(query)
}

/// Reads and validates a `GetCollectionsForecast` request; every bad field at once.
pub fn read(
    message: &pb::GetCollectionsForecastRequest,
) -> Result<ForecastQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let as_of = fields.as_of("as_of", &message.as_of);
    let query = query(
        &mut fields,
        as_of,
        message.weeks,
        FORECAST_WEEKS_DEFAULT,
        &message.subsidiary_id,
        &message.customer_id,
        message.grace_days,
    );
    match query {
        Some(mut query) if fields.is_clean() => {
            query.explain = message.explain;
            Ok(query)
        }
        _ => Err(fields.violations),
    }
}

/// Reads and validates a `BacktestCollectionsForecast` request; every bad field at once.
pub fn read_backtest(
    message: &pb::BacktestCollectionsForecastRequest,
) -> Result<ForecastQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let as_of = fields.date("as_of", &message.as_of);
    let query = query(
        &mut fields,
        as_of,
        message.weeks,
        BACKTEST_WEEKS_DEFAULT,
        &message.subsidiary_id,
        &message.customer_id,
        message.grace_days,
    );
    match query {
        Some(query) if fields.is_clean() => Ok(query),
        _ => Err(fields.violations),
    }
}

fn source(source: DelaySource) -> String {
    match source {
        DelaySource::Own => "own".to_owned(),
        DelaySource::Grade(grade) => format!("grade {}", grade.as_str()),
        DelaySource::Group => "group".to_owned(),
        DelaySource::None => "none".to_owned(),
    }
}

/// The forecast as a reply.
pub fn answer(forecast: Forecast, position: Position) -> pb::GetCollectionsForecastResponse {
    pb::GetCollectionsForecastResponse {
        as_of: responses::date(forecast.as_of),
        week_starts: forecast
            .week_starts
            .into_iter()
            .map(responses::date)
            .collect(),
        lines: forecast
            .lines
            .into_iter()
            .map(|line| pb::ForecastLine {
                subsidiary_id: line.subsidiary.to_string(),
                currency: line.currency.code().to_owned(),
                weeks: line.weeks.into_iter().map(responses::money).collect(),
                later: Some(responses::money(line.later)),
                disputed_left_out: Some(responses::money(line.disputed_left_out)),
                written_off_left_out: Some(responses::money(line.written_off_left_out)),
                legal_left_out: Some(responses::money(line.legal_left_out)),
            })
            .collect(),
        methods: forecast
            .methods
            .into_iter()
            .map(|method| pb::CustomerForecastMethod {
                customer_id: method.customer.to_string(),
                delay_days: method.delay_days,
                delay_source: source(method.source),
                invoices_paid: method.invoices_paid,
                amount_paid: method.amount_paid.normalize().to_string(),
                own_delay: method
                    .own_delay
                    .map(|d| d.round_dp(2).normalize().to_string())
                    .unwrap_or_default(),
                open_promises: method.promises,
            })
            .collect(),
        position: position.get(),
    }
}

/// The backtest as a reply.
pub fn answer_backtest(
    as_of: chrono::NaiveDate,
    backtests: Vec<Backtest>,
    position: Position,
) -> pb::BacktestCollectionsForecastResponse {
    let text =
        |value: Option<rust_decimal::Decimal>| value.map(|v| v.to_string()).unwrap_or_default();
    pb::BacktestCollectionsForecastResponse {
        as_of: responses::date(as_of),
        currencies: backtests
            .into_iter()
            .map(|backtest| pb::CurrencyBacktest {
                currency: backtest.currency.code().to_owned(),
                weeks: backtest
                    .weeks
                    .into_iter()
                    .map(|week| pb::BacktestWeek {
                        start: responses::date(week.start),
                        forecast: Some(responses::money(week.forecast)),
                        naive: Some(responses::money(week.naive)),
                        actual: Some(responses::money(week.actual)),
                        forecast_error: text(week.forecast_error),
                        naive_error: text(week.naive_error),
                    })
                    .collect(),
                forecast_mape: text(backtest.forecast_mape),
                naive_mape: text(backtest.naive_mape),
                forecast_total_error: text(backtest.forecast_total_error),
                naive_total_error: text(backtest.naive_total_error),
            })
            .collect(),
        position: position.get(),
    }
}
