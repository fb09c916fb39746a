//! Business dates: the day a fact takes effect (issue, due, received, promised).
//!
//! Dates travel as ISO `YYYY-MM-DD` text; `chrono` refuses impossible dates such as 2026-02-30,
//! and the service refuses dates outside [`BUSINESS_DATE_MIN`]..=[`BUSINESS_DATE_MAX`], which no
//! real receivable has and which usually mean a client filled a field with a default.

use chrono::NaiveDate;

use crate::limits::{BUSINESS_DATE_MAX, BUSINESS_DATE_MIN};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("{0:?} is not a date in the form YYYY-MM-DD")]
    Malformed(String),
    #[error("{date} is outside the accepted range {min}..={max}")]
    OutOfRange {
        date: NaiveDate,
        min: NaiveDate,
        max: NaiveDate,
    },
}

fn bound((year, month, day): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The earliest accepted business date.
pub fn business_date_min() -> NaiveDate {
    bound(BUSINESS_DATE_MIN)
}

/// The latest accepted business date.
pub fn business_date_max() -> NaiveDate {
    bound(BUSINESS_DATE_MAX)
}

/// Parses a strict `YYYY-MM-DD` date within the accepted range.
pub fn parse_business_date(text: &str) -> Result<NaiveDate, DateError> {
    let malformed = || DateError::Malformed(text.to_owned());
    // chrono's %Y accepts signs and more digits; insist on exactly ten characters.
    if text.len() != 10 {
        return Err(malformed());
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| malformed())?;
    check_business_date(date)
}

/// Checks that `date` lies in the accepted range.
pub fn check_business_date(date: NaiveDate) -> Result<NaiveDate, DateError> {
    let (min, max) = (business_date_min(), business_date_max());
    if date < min || date > max {
        return Err(DateError::OutOfRange { date, min, max });
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_dates_only() {
        assert_eq!(
            parse_business_date("2026-02-28").unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026/01/01",
            "2026-1-1",
            "",
            "+2026-01-01",
        ] {
            assert!(parse_business_date(bad).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            parse_business_date("1900-01-01"),
            Err(DateError::OutOfRange { .. })
        ));
    }
}
