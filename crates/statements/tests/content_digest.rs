//! The content digest tells a re-import of a line from another line reusing its bank id: given
//! two lines, when their digests are compared, then they agree exactly when the content does.

mod support;

use receivables_statements::{Direction, StatementLine};
use support::{date, money, text};

fn line() -> StatementLine {
    StatementLine {
        ordinal: 1,
        source_line: 7,
        bank_transaction_id: "B-1".to_owned(),
        id_derived: false,
        value_date: date(2026, 3, 2),
        booking_date: Some(date(2026, 3, 2)),
        direction: Direction::Credit,
        amount: money("100.00", "CNY"),
        payer_name: text("Alpha"),
        payer_account: text("6222"),
        reference: "INV-1".to_owned(),
    }
}

#[test]
fn the_digest_is_hex_sha256_of_the_content_not_of_the_place_in_the_file() {
    let digest = line().content_digest();
    assert_eq!(digest.len(), 64);
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));

    // The same transaction at another place of another file, booked another day, is the same.
    let moved = StatementLine {
        ordinal: 9,
        source_line: 90,
        booking_date: Some(date(2026, 3, 3)),
        ..line()
    };
    assert_eq!(moved.content_digest(), digest);
}

#[test]
fn every_part_of_the_content_changes_the_digest() {
    let digest = line().content_digest();
    let changed = [
        StatementLine {
            value_date: date(2026, 3, 3),
            ..line()
        },
        StatementLine {
            direction: Direction::Debit,
            ..line()
        },
        StatementLine {
            amount: money("100.01", "CNY"),
            ..line()
        },
        StatementLine {
            amount: money("100.00", "HKD"),
            ..line()
        },
        StatementLine {
            payer_name: None,
            ..line()
        },
        StatementLine {
            payer_name: text(""),
            ..line()
        },
        StatementLine {
            payer_account: None,
            ..line()
        },
        StatementLine {
            reference: "INV-2".to_owned(),
            ..line()
        },
        // Text moved from one field to the next is a different line, not the same letters.
        StatementLine {
            payer_name: text("Alph"),
            payer_account: text("a6222"),
            ..line()
        },
    ];
    for other in changed {
        assert_ne!(other.content_digest(), digest, "{other:?}");
    }
}
