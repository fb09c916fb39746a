//! `GetExposure` and `ListExposures`: one customer's credit exposure, and every customer's
//! sorted, filtered and paged.

use chrono::NaiveDate;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{Currency, CustomerId, Position};
use receivables_projections::exposure::{ExposureLine, ExposurePage, ExposureQuery, ExposureSort};
use rust_decimal::Decimal;

use crate::fields::Fields;
use crate::queries::{page_size, paged};
use crate::{pb, responses};

/// Reads a `GetExposure` request: the customer and the as-of date.
pub fn read_one(
    message: &pb::GetExposureRequest,
) -> Result<(CustomerId, NaiveDate), Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let customer = fields.customer_id("customer_id", &message.customer_id);
    let as_of = fields.as_of("as_of", &message.as_of);
    match (customer, as_of) {
        (Some(customer), Some(as_of)) if fields.is_clean() => Ok((customer, as_of)),
        _ => Err(fields.violations),
    }
}

/// Reads and validates a `ListExposures` request; every bad field at once.
pub fn read(message: &pb::ListExposuresRequest) -> Result<ExposureQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let as_of = fields.as_of("as_of", &message.as_of);
    let sort = fields.known("sort", message.sort, |sort| match sort {
        pb::ExposureSort::Unspecified | pb::ExposureSort::Utilisation => ExposureSort::Utilisation,
        pb::ExposureSort::Exposure => ExposureSort::Exposure,
    });
    let min_utilisation = if message.min_utilisation.is_empty() {
        Some(None)
    } else {
        fields
            .decimal("min_utilisation", &message.min_utilisation, Decimal::ZERO)
            .map(Some)
    };
    let currency = fields.optional("currency", &message.currency, Currency::parse);
    let size = page_size(&mut fields, message.page_size);
    let (Some(as_of), Some(sort), Some(min_utilisation), Some(currency), Some(size)) =
        (as_of, sort, min_utilisation, currency, size)
    else {
        return Err(fields.violations);
    };
    let query = ExposureQuery::new(as_of, sort);
    let query = paged(&mut fields, query, Some(size), &message.page_token);
    match query {
        Some(mut query) if fields.is_clean() => {
            query.only_over_limit = message.only_over_limit;
            query.min_utilisation = min_utilisation;
            query.currency = currency;
            Ok(query)
        }
        _ => Err(fields.violations),
    }
}

/// One exposure line as a message.
pub fn line(line: ExposureLine) -> pb::Exposure {
    pb::Exposure {
        customer_id: line.customer.to_string(),
        currency: line.currency.code().to_owned(),
        limit: line.limit.map(responses::money),
        policy: line
            .policy
            .map_or(pb::CreditPolicy::Unspecified, responses::credit_policy)
            .into(),
        grade: line
            .grade
            .map_or(pb::CreditGrade::Unspecified, responses::credit_grade)
            .into(),
        open: Some(responses::money(line.open)),
        unapplied: Some(responses::money(line.unapplied)),
        exposure: Some(responses::money(line.exposure)),
        overdue: Some(responses::money(line.overdue)),
        available: line.available.map(responses::money),
        utilisation: line.utilisation.map(|u| u.to_string()).unwrap_or_default(),
        over_limit: line.over_limit,
        oldest_days_past_due: line.oldest_days_past_due,
        last_payment_date: line
            .last_payment_date
            .map(responses::date)
            .unwrap_or_default(),
        customer_name: line.customer_name.unwrap_or_default(),
        conversions: line
            .conversions
            .into_iter()
            .map(|c| pb::ExposureConversion {
                exposure: Some(responses::money(c.exposure)),
                rate: c.rate.to_string(),
                converted: Some(responses::money(c.converted)),
            })
            .collect(),
        missing_rates: line
            .missing_rates
            .iter()
            .map(|c| c.code().to_owned())
            .collect(),
        in_group_currency: line.in_group_currency.map(|c| pb::ExposureConversion {
            exposure: Some(responses::money(c.from)),
            rate: c.rate.to_string(),
            converted: Some(responses::money(c.to)),
        }),
        reserved: Some(responses::money(line.reserved)),
    }
}

/// One customer's lines as a reply.
pub fn answer_one(lines: Vec<ExposureLine>, position: Position) -> pb::GetExposureResponse {
    pb::GetExposureResponse {
        lines: lines.into_iter().map(line).collect(),
        position: position.get(),
    }
}

/// A page of the exposure report as a reply.
pub fn answer(page: ExposurePage, position: Position) -> pb::ListExposuresResponse {
    pb::ListExposuresResponse {
        lines: page.lines.into_iter().map(line).collect(),
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    }
}
