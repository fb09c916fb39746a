//! Amounts written by people's software: thousands separators and a decimal comma, read only as
//! the layout says, never guessed.
//!
//! "1.234,56" is 1234.56 in a layout with a decimal comma and an error in one with a decimal
//! point: read with a point it could only be taken for 1.23456 or, dropping the comma, for
//! 1234.56, and either guess would book a wrong amount. Thousands groups must be exactly three
//! digits for the same reason: "12,50" in a decimal-point layout is a decimal comma someone
//! typed, not twelve hundred and fifty.

use serde::{Deserialize, Serialize};

/// The decimal separator of the amounts in a CSV file, which also fixes the thousands separators
/// allowed: ',' or ' ' with a decimal point, '.' or ' ' with a decimal comma.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecimalSeparator {
    Point,
    Comma,
}

impl DecimalSeparator {
    fn decimal(self) -> char {
        match self {
            DecimalSeparator::Point => '.',
            DecimalSeparator::Comma => ',',
        }
    }

    fn thousands(self) -> [char; 2] {
        match self {
            DecimalSeparator::Point => [',', ' '],
            DecimalSeparator::Comma => ['.', ' '],
        }
    }
}

/// An amount's text made plain: its sign and its magnitude as `digits[.digits]`, ready for
/// `receivables_domain::money::parse_amount`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PlainAmount {
    pub negative: bool,
    pub magnitude: String,
}

/// Reads `text` (already trimmed) with the layout's separators.
pub(crate) fn plain(text: &str, separator: DecimalSeparator) -> Result<PlainAmount, String> {
    let wrong = || {
        let [first, second] = separator.thousands();
        format!(
            "{text:?} is not an amount written with {:?} as the decimal separator \
             (and {first:?} or {second:?} between thousands)",
            separator.decimal()
        )
    };
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut parts = unsigned.split(separator.decimal());
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    if parts.next().is_some() {
        return Err(wrong());
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if fraction.is_some_and(|f| !digits(f)) {
        return Err(wrong());
    }
    let whole = ungrouped(whole, separator.thousands()).ok_or_else(wrong)?;
    let magnitude = match fraction {
        Some(fraction) => format!("{whole}.{fraction}"),
        None => whole,
    };
    Ok(PlainAmount {
        negative,
        magnitude,
    })
}

/// The whole part without its thousands separators: digits only, or groups of exactly three
/// digits after a first group of one to three, all separated by the same separator.
fn ungrouped(whole: &str, thousands: [char; 2]) -> Option<String> {
    let Some(separator) = whole.chars().find(|c| thousands.contains(c)) else {
        return (!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()))
            .then(|| whole.to_owned());
    };
    let mut groups = whole.split(separator);
    let first = groups.next()?;
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() || first.len() > 3 || !is_digits(first) {
        return None;
    }
    let mut plain = first.to_owned();
    for group in groups {
        if group.len() != 3 || !is_digits(group) {
            return None;
        }
        plain.push_str(group);
    }
    Some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(text: &str) -> Result<PlainAmount, String> {
        plain(text, DecimalSeparator::Point)
    }

    fn comma(text: &str) -> Result<PlainAmount, String> {
        plain(text, DecimalSeparator::Comma)
    }

    fn ok(negative: bool, magnitude: &str) -> Result<PlainAmount, String> {
        Ok(PlainAmount {
            negative,
            magnitude: magnitude.to_owned(),
        })
    }

    #[test]
    fn a_decimal_point_layout_reads_commas_and_spaces_between_thousands_only() {
        assert_eq!(point("1234.56"), ok(false, "1234.56"));
        assert_eq!(point("1,234.56"), ok(false, "1234.56"));
        assert_eq!(point("1 234 567.8"), ok(false, "1234567.8"));
        assert_eq!(point("-12.50"), ok(true, "12.50"));
        assert_eq!(point("+7"), ok(false, "7"));
        for wrong in [
            "1.234,56",
            "12,50",
            "1,2345.00",
            ",123",
            "1.2.3",
            "1,234 567",
            "",
            "-",
            "1.",
            "¥5",
            "1e5",
            "12,34,567",
        ] {
            assert!(point(wrong).is_err(), "{wrong:?} was read");
        }
    }

    #[test]
    fn a_decimal_comma_layout_reads_points_and_spaces_between_thousands_only() {
        assert_eq!(comma("1.234,56"), ok(false, "1234.56"));
        assert_eq!(comma("1 234,56"), ok(false, "1234.56"));
        assert_eq!(comma("-0,5"), ok(true, "0.5"));
        for wrong in ["1,234.56", "1234.56", "1,2,3", "12.34,5.6"] {
            assert!(comma(wrong).is_err(), "{wrong:?} was read");
        }
    }
}
