//! The points each piece of evidence is worth, and the caps that keep a candidate's confidence
//! below what it has not shown. The table, with the reasoning behind it, is at the top of
//! `matching/mod.rs`; these are its numbers, in one place.

use super::keys::KeyKind;
use super::{AUTO_THRESHOLD_DEFAULT, PayerSource, Resemblance};

/// The default threshold, in points.
const THRESHOLD: u32 = AUTO_THRESHOLD_DEFAULT as u32;

/// A reference naming a document, by the kind of key (`KeyKind`).
pub(crate) const REFERENCE_EXACT: u32 = 60;
/// Zero-padded sequences are padded to one width per subsidiary: a number without its zeros
/// names the same document as with them.
pub(crate) const REFERENCE_NO_LEADING_ZEROS: u32 = 60;
pub(crate) const REFERENCE_NO_PREFIX: u32 = 48;
pub(crate) const REFERENCE_DIGITS_ONLY: u32 = 25;
/// A reference whose words name documents of several customers alike.
pub(crate) const REFERENCE_AMBIGUOUS: u32 = 5;

/// The amount is what the named documents owe, or what one unnamed invoice owes.
pub(crate) const AMOUNT_EQUALS_OPEN: u32 = 32;
/// The amount is the row next due of an invoice due in several rows.
pub(crate) const AMOUNT_EQUALS_ROW: u32 = 30;
/// The amount is what the named invoices owe less the named credit notes.
pub(crate) const AMOUNT_NET_OF_CREDIT_NOTE: u32 = 30;
/// The amount is what a set of unnamed invoices owes together, found by searching.
pub(crate) const AMOUNT_EQUALS_FOUND_SET: u32 = 20;
/// The most any amount is worth when documents of another customer fit it as well and no
/// unambiguous reference says which customer paid.
pub(crate) const AMOUNT_SHARED: u32 = 10;

/// A payer account from the customer's own record.
pub(crate) const PAYER_ACCOUNT_RECORD: u32 = 30;
/// A payer account learned from accepted matches: a base and a step per match, up to a cap.
pub(crate) const PAYER_ACCOUNT_LEARNED_BASE: u32 = 15;
pub(crate) const PAYER_ACCOUNT_LEARNED_STEP: u32 = 3;
/// A payer name from the customer's own record.
pub(crate) const PAYER_NAME_RECORD: u32 = 15;
/// A payer name learned from accepted matches: a base and a step per match, up to a cap.
pub(crate) const PAYER_NAME_LEARNED_BASE: u32 = 10;
pub(crate) const PAYER_NAME_LEARNED_STEP: u32 = 2;
/// Matches after which learning a payer adds nothing more.
pub(crate) const PAYER_LEARNED_MATCHES_MAX: u32 = 5;
/// The payer's name, normalised, equal to the customer's name or legal name.
pub(crate) const NAME_EQUAL: u32 = 15;
/// One of them containing the other.
pub(crate) const NAME_CONTAINS: u32 = 8;
/// The most the payer's account and name together are worth: who sent the money says who the
/// customer probably is, not which invoices it pays.
pub(crate) const PAYER_MAX: u32 = 35;

/// The receipt arrives when this customer usually pays.
pub(crate) const USUAL_PATTERN: u32 = 5;

/// The most a candidate that allocates nothing can reach: a known payer alone.
pub(crate) const CONFIDENCE_NOTHING_ALLOCATED_MAX: u32 = 40;
/// The most a candidate whose allocations do not explain the amount (a partial payment, money
/// left on account) can reach: short payments often mean a deduction or a dispute, and money on
/// account often another invoice, which a person should see.
pub(crate) const CONFIDENCE_AMOUNT_UNEXPLAINED_MAX: u32 = 80;

pub(crate) fn reference(kind: KeyKind) -> u32 {
    match kind {
        KeyKind::Exact => REFERENCE_EXACT,
        KeyKind::NoLeadingZeros => REFERENCE_NO_LEADING_ZEROS,
        KeyKind::NoPrefix => REFERENCE_NO_PREFIX,
        KeyKind::DigitsOnly => REFERENCE_DIGITS_ONLY,
    }
}

pub(crate) fn payer_account(source: PayerSource) -> u32 {
    match source {
        PayerSource::Record => PAYER_ACCOUNT_RECORD,
        PayerSource::Learned { matches } => {
            PAYER_ACCOUNT_LEARNED_BASE
                + PAYER_ACCOUNT_LEARNED_STEP * matches.min(PAYER_LEARNED_MATCHES_MAX)
        }
    }
}

pub(crate) fn payer_name(source: PayerSource) -> u32 {
    match source {
        PayerSource::Record => PAYER_NAME_RECORD,
        PayerSource::Learned { matches } => {
            PAYER_NAME_LEARNED_BASE
                + PAYER_NAME_LEARNED_STEP * matches.min(PAYER_LEARNED_MATCHES_MAX)
        }
    }
}

pub(crate) fn resemblance(how: Resemblance) -> u32 {
    match how {
        Resemblance::Equal => NAME_EQUAL,
        Resemblance::Contains => NAME_CONTAINS,
    }
}

// What the module's doc promises of the table, checked when it compiles.
// A payer, the amount and the pattern at their best, with no reference: never automatic.
const _: () = assert!(PAYER_MAX + AMOUNT_EQUALS_OPEN + USUAL_PATTERN < THRESHOLD);
// Digits alone with the amount and a payer from the record: not automatic without the pattern.
const _: () =
    assert!(REFERENCE_DIGITS_ONLY + AMOUNT_EQUALS_OPEN + PAYER_ACCOUNT_RECORD < THRESHOLD);
// A reference without its leading zeros, with the weakest amount it explains, reaches it alone...
const _: () = assert!(REFERENCE_NO_LEADING_ZEROS + AMOUNT_EQUALS_ROW >= THRESHOLD);
const _: () = assert!(REFERENCE_NO_LEADING_ZEROS + AMOUNT_NET_OF_CREDIT_NOTE >= THRESHOLD);
// ... one without the subsidiary's prefix does not.
const _: () = assert!(REFERENCE_NO_PREFIX + AMOUNT_EQUALS_OPEN < THRESHOLD);
// A payer alone never reaches the cap of a candidate that allocates nothing.
const _: () = assert!(PAYER_MAX <= CONFIDENCE_NOTHING_ALLOCATED_MAX);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learned_account_reaches_the_record_at_most() {
        let most = PayerSource::Learned { matches: u32::MAX };
        assert_eq!(payer_account(most), PAYER_ACCOUNT_RECORD);
        assert_eq!(payer_name(most), 20);
        assert_eq!(payer_account(PayerSource::Learned { matches: 0 }), 15);
    }
}
