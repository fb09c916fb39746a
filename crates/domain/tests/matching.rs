//! Cash application: given the evidence the read side gathered, when a receipt arrives, then
//! these candidates, with these confidences, and this one (or none) posted automatically.
//!
//! Every expected confidence is worked out by hand from the table of weights at the top of
//! `matching/mod.rs`; the comment above each expectation shows the sum. Every `when` also checks
//! the invariants of every candidate: each allocation positive and at most what its invoice
//! owes, allocations and money on account adding up to the receipt.

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::sample::Index;
use receivables_domain::ids::{CustomerId, SubsidiaryId};
use receivables_domain::matching::{
    AutoPolicy, CANDIDATES_MAX, Candidate, Confidence, CustomerName, DocumentKind, Evidence, Key,
    KeyKind, OpenDocument, PayerBy, PayerHint, PayerSource, PayingPattern, REFERENCE_KEYS_MAX,
    Reason, Receipt, Resemblance, automatic, document_keys, payer_key, rank, reference_keys,
};
use receivables_domain::money::{Currency, Money};
use rust_decimal::Decimal;

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// The receipts' value date in every scenario.
const VALUE_DATE: &str = "2026-06-15";

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

fn cny(text: &str) -> Money {
    Money::cny(text)
}

fn usd(text: &str) -> Money {
    Money::positive(text, Currency::parse("USD").expect("USD")).expect("an amount")
}

fn customer(id: &str) -> CustomerId {
    CustomerId::parse(id).expect("a customer id")
}

/// The subsidiary a number's style belongs to, as in the demo group.
fn subsidiary_of(number: &str) -> SubsidiaryId {
    let id = if number.starts_with("SZE") {
        "SZ-ELECTRONICS"
    } else if number.starts_with("HK") {
        "HK-SERVICES"
    } else {
        "SH-TRADING"
    };
    SubsidiaryId::parse(id).expect("a subsidiary id")
}

fn invoice(of: &str, number: &str, open: Money, due: &str) -> OpenDocument {
    OpenDocument {
        customer: customer(of),
        subsidiary: subsidiary_of(number),
        kind: DocumentKind::Invoice,
        number: number.to_owned(),
        open,
        due_date: date(due),
        next_row: None,
    }
}

fn credit_note(of: &str, number: &str, open: Money) -> OpenDocument {
    OpenDocument {
        kind: DocumentKind::CreditNote,
        ..invoice(of, number, open, "2026-05-31")
    }
}

fn receipt(amount: Money, reference: &str) -> Receipt {
    Receipt {
        amount,
        value_date: date(VALUE_DATE),
        payer_name: None,
        payer_account: None,
        reference: reference.to_owned(),
    }
}

fn learned(matches: u32) -> PayerSource {
    PayerSource::Learned { matches }
}

fn exact(number: &str) -> Reason {
    names(number, KeyKind::Exact)
}

fn names(number: &str, how: KeyKind) -> Reason {
    Reason::ReferenceNamesDocument {
        number: number.to_owned(),
        how,
    }
}

fn equals_open(number: &str) -> Reason {
    Reason::AmountEqualsOpen {
        number: number.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Given / when / then
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Given {
    evidence: Evidence,
}

fn given() -> Given {
    Given::default()
}

impl Given {
    fn document(mut self, document: OpenDocument) -> Self {
        self.evidence.documents.push(document);
        self
    }

    fn payer(mut self, of: &str, by: PayerBy, source: PayerSource) -> Self {
        self.evidence.payers.push(PayerHint {
            customer: customer(of),
            by,
            source,
        });
        self
    }

    fn pattern(mut self, of: &str, median_days_after_due: i32, payments: u32) -> Self {
        self.evidence.patterns.push(PayingPattern {
            customer: customer(of),
            median_days_after_due,
            payments,
        });
        self
    }

    fn named(mut self, of: &str, names: &[&str]) -> Self {
        self.evidence.names.push(CustomerName {
            customer: customer(of),
            names: names.iter().map(|name| (*name).to_owned()).collect(),
        });
        self
    }

    fn when_received(&self, receipt: Receipt) -> Then {
        let candidates = rank(&receipt, &self.evidence);
        check_invariants(&receipt, &self.evidence, &candidates);
        Then { candidates }
    }
}

/// What every candidate of every receipt must satisfy.
fn check_invariants(receipt: &Receipt, evidence: &Evidence, candidates: &[Candidate]) {
    assert!(candidates.len() <= CANDIDATES_MAX);
    for pair in candidates.windows(2) {
        assert!(
            (pair[0].confidence, &pair[1].customer) >= (pair[1].confidence, &pair[0].customer),
            "candidates out of order: {candidates:#?}"
        );
    }
    for candidate in candidates {
        let mut total = candidate.on_account.amount();
        assert!(
            total >= Decimal::ZERO,
            "negative on account: {candidate:#?}"
        );
        assert_eq!(candidate.on_account.currency(), receipt.amount.currency());
        for allocation in &candidate.allocations {
            let document = evidence
                .documents
                .iter()
                .find(|d| {
                    d.customer == candidate.customer
                        && d.subsidiary == allocation.subsidiary
                        && d.number == allocation.number
                        && d.kind == DocumentKind::Invoice
                })
                .expect("an allocation to an invoice of the candidate");
            assert_eq!(allocation.amount.currency(), receipt.amount.currency());
            assert!(allocation.amount.amount() > Decimal::ZERO);
            assert!(
                allocation.amount.amount() <= document.open.amount(),
                "{allocation:?} is more than {document:?} owes"
            );
            total += allocation.amount.amount();
        }
        assert_eq!(total, receipt.amount.amount(), "{candidate:#?}");
        // Credit goes only to invoices of the candidate, never past what the payment leaves
        // open, and is never more than the credit notes of the candidate hold.
        let mut credited = Decimal::ZERO;
        for credit in &candidate.credit_applications {
            let document = evidence
                .documents
                .iter()
                .find(|d| {
                    d.customer == candidate.customer
                        && d.subsidiary == credit.subsidiary
                        && d.number == credit.number
                        && d.kind == DocumentKind::Invoice
                })
                .expect("credit applied to an invoice of the candidate");
            let paid: Decimal = candidate
                .allocations
                .iter()
                .filter(|a| a.subsidiary == credit.subsidiary && a.number == credit.number)
                .map(|a| a.amount.amount())
                .sum();
            assert!(credit.amount.amount() > Decimal::ZERO);
            assert!(
                paid + credit.amount.amount() <= document.open.amount(),
                "{credit:?} and the payment are more than {document:?} owes"
            );
            credited += credit.amount.amount();
        }
        let held: Decimal = evidence
            .documents
            .iter()
            .filter(|d| d.customer == candidate.customer && d.kind == DocumentKind::CreditNote)
            .filter(|d| d.open.currency() == receipt.amount.currency())
            .map(|d| d.open.amount().max(Decimal::ZERO))
            .sum();
        assert!(
            credited <= held,
            "{candidate:#?} applies more credit than is held"
        );
    }
}

/// Asserts that `actual` takes these amounts off these invoices, in this order.
fn assert_numbered(
    actual: &[receivables_domain::matching::Allocation],
    expected: &[(&str, Money)],
) {
    let actual: Vec<(&str, Money)> = actual
        .iter()
        .map(|a| (a.number.as_str(), a.amount))
        .collect();
    assert_eq!(actual, expected);
}

struct Then {
    candidates: Vec<Candidate>,
}

impl Then {
    fn candidate(&self, of: &str) -> &Candidate {
        self.candidates
            .iter()
            .find(|c| c.customer == customer(of))
            .unwrap_or_else(|| panic!("no candidate {of} in {:#?}", self.candidates))
    }

    fn then_customers(&self, expected: &[(&str, u8)]) -> &Self {
        let actual: Vec<(String, u8)> = self
            .candidates
            .iter()
            .map(|c| (c.customer.to_string(), c.confidence.percent()))
            .collect();
        let expected: Vec<(String, u8)> = expected
            .iter()
            .map(|(id, confidence)| ((*id).to_owned(), *confidence))
            .collect();
        assert_eq!(actual, expected, "{:#?}", self.candidates);
        self
    }

    fn then_allocations(&self, of: &str, expected: &[(&str, Money)]) -> &Self {
        assert_numbered(&self.candidate(of).allocations, expected);
        self
    }

    fn then_credit_applications(&self, of: &str, expected: &[(&str, Money)]) -> &Self {
        assert_numbered(&self.candidate(of).credit_applications, expected);
        self
    }

    fn then_on_account(&self, of: &str, expected: Money) -> &Self {
        assert_eq!(self.candidate(of).on_account, expected);
        self
    }

    fn then_reasons(&self, of: &str, expected: &[Reason]) -> &Self {
        assert_eq!(self.candidate(of).reasons, expected);
        self
    }

    fn then_automatic(&self, of: &str) -> &Self {
        let chosen = automatic(&self.candidates, &AutoPolicy::default());
        assert_eq!(
            chosen.map(|c| c.customer.to_string()),
            Some(of.to_owned()),
            "{:#?}",
            self.candidates
        );
        self
    }

    fn then_not_automatic(&self) -> &Self {
        assert_eq!(
            automatic(&self.candidates, &AutoPolicy::default()),
            None,
            "{:#?}",
            self.candidates
        );
        self
    }
}

const INV_123: &str = "SHT-INV-2026-000123";

/// Customer C-1 owes 1,000.00 on SHT-INV-2026-000123.
fn one_invoice() -> Given {
    given().document(invoice("C-1", INV_123, cny("1000.00"), "2026-05-31"))
}

// ---------------------------------------------------------------------------------------------
// The reference
// ---------------------------------------------------------------------------------------------

#[test]
fn an_exact_reference_and_the_exact_amount_post_automatically() {
    // C-2's SZE/2026/000123 shares the digits 2026-000123, but the stretch of the reference
    // that holds them names C-1's invoice exactly, which is the stronger reading.
    one_invoice()
        .document(invoice(
            "C-2",
            "SZE/2026/000123",
            cny("1000.00"),
            "2026-05-31",
        ))
        .when_received(receipt(cny("1000.00"), INV_123))
        // C-1: exact 60 + amount 32. C-2: the amount alone, which C-1's invoice fits too: 10.
        .then_customers(&[("C-1", 92), ("C-2", 10)])
        .then_allocations("C-1", &[(INV_123, cny("1000.00"))])
        .then_on_account("C-1", cny("0.00"))
        .then_reasons("C-1", &[exact(INV_123), equals_open(INV_123)])
        .then_reasons(
            "C-2",
            &[equals_open("SZE/2026/000123"), Reason::AmbiguousAmount],
        )
        .then_automatic("C-1");
}

/// A reference mangled one way: still the exact key, 60 + 32.
fn exactly_despite(reference: &str) {
    one_invoice()
        .when_received(receipt(cny("1000.00"), reference))
        .then_customers(&[("C-1", 92)])
        .then_reasons("C-1", &[exact(INV_123), equals_open(INV_123)])
        .then_automatic("C-1");
}

#[test]
fn spaces_instead_of_dashes_are_exact() {
    exactly_despite("SHT INV 2026 000123");
}

#[test]
fn lower_case_is_exact() {
    exactly_despite("sht-inv-2026-000123");
}

#[test]
fn slashes_and_dots_instead_of_dashes_are_exact() {
    exactly_despite("SHT/INV.2026/000123");
}

#[test]
fn no_separators_at_all_is_exact() {
    exactly_despite("SHTINV2026000123");
}

#[test]
fn full_width_characters_are_exact() {
    exactly_despite("ＳＨＴ－ＩＮＶ－２０２６－０００１２３");
}

#[test]
fn a_number_inside_other_words_is_exact() {
    exactly_despite("货款 Payment for invoice SHT-INV-2026-000123, thanks");
}

#[test]
fn dropped_leading_zeros_still_post_automatically() {
    one_invoice()
        .when_received(receipt(cny("1000.00"), "SHT-INV-2026-123"))
        // No leading zeros 60 + amount 32.
        .then_customers(&[("C-1", 92)])
        .then_reasons(
            "C-1",
            &[
                names(INV_123, KeyKind::NoLeadingZeros),
                equals_open(INV_123),
            ],
        )
        .then_automatic("C-1");
}

#[test]
fn the_other_subsidiaries_number_styles_are_read_without_leading_zeros_too() {
    given()
        .document(invoice(
            "C-1",
            "SZE/2026/000045",
            cny("450.00"),
            "2026-05-31",
        ))
        .document(invoice(
            "C-2",
            "HKS-202603-000007",
            cny("780.00"),
            "2026-05-31",
        ))
        .when_received(receipt(cny("450.00"), "sze 2026 45"))
        .then_customers(&[("C-1", 92)])
        .then_reasons(
            "C-1",
            &[
                names("SZE/2026/000045", KeyKind::NoLeadingZeros),
                equals_open("SZE/2026/000045"),
            ],
        )
        .then_automatic("C-1");
    given()
        .document(invoice(
            "C-1",
            "SZE/2026/000045",
            cny("450.00"),
            "2026-05-31",
        ))
        .document(invoice(
            "C-2",
            "HKS-202603-000007",
            cny("780.00"),
            "2026-05-31",
        ))
        .when_received(receipt(cny("780.00"), "hks202603-7"))
        .then_customers(&[("C-2", 92)])
        .then_automatic("C-2");
}

#[test]
fn a_missing_subsidiary_prefix_needs_a_known_payer_to_post() {
    one_invoice()
        .when_received(receipt(cny("1000.00"), "INV 2026 123"))
        // No prefix 48 + amount 32.
        .then_customers(&[("C-1", 80)])
        .then_reasons(
            "C-1",
            &[names(INV_123, KeyKind::NoPrefix), equals_open(INV_123)],
        )
        .then_not_automatic();
    one_invoice()
        .payer("C-1", PayerBy::Account, PayerSource::Record)
        .when_received(receipt(cny("1000.00"), "INV 2026 123"))
        // 48 + 32 + payer account from the record 30, capped at 100.
        .then_customers(&[("C-1", 100)])
        .then_automatic("C-1");
}

#[test]
fn digits_alone_are_never_enough_without_the_payer_and_the_pattern() {
    let sze = || {
        given().document(invoice(
            "C-1",
            "SZE/2026/000045",
            cny("450.00"),
            "2026-05-31",
        ))
    };
    sze()
        .when_received(receipt(cny("450.00"), "2026/45"))
        // Digits only 25 + amount 32.
        .then_customers(&[("C-1", 57)])
        .then_reasons(
            "C-1",
            &[
                names("SZE/2026/000045", KeyKind::DigitsOnly),
                equals_open("SZE/2026/000045"),
            ],
        )
        .then_not_automatic();
    sze()
        .payer("C-1", PayerBy::Account, PayerSource::Record)
        .when_received(receipt(cny("450.00"), "2026/45"))
        // 25 + 32 + 30.
        .then_customers(&[("C-1", 87)])
        .then_not_automatic();
    sze()
        .payer("C-1", PayerBy::Account, PayerSource::Record)
        .pattern("C-1", 14, 12)
        .when_received(receipt(cny("450.00"), "2026/45"))
        // 25 + 32 + 30 + the usual pattern 5 (15 days after the due date, usually 14).
        .then_customers(&[("C-1", 92)])
        .then_automatic("C-1");
}

#[test]
fn a_key_shared_by_two_customers_is_ambiguous_and_never_automatic() {
    // Two subsidiaries' numbers without their prefixes: INV 2026 123 reads as either.
    one_invoice()
        .document(invoice(
            "C-2",
            "HKX-INV-2026-000123",
            cny("800.00"),
            "2026-05-31",
        ))
        .when_received(receipt(cny("1000.00"), "INV 2026 123"))
        // C-1: ambiguous 5 + amount 32 (no one else fits it). C-2: ambiguous 5, and 800.00 of
        // the 1,000.00 leaves money on account.
        .then_customers(&[("C-1", 37), ("C-2", 5)])
        .then_reasons("C-1", &[Reason::AmbiguousReference, equals_open(INV_123)])
        .then_on_account("C-2", cny("200.00"))
        .then_not_automatic();
}

#[test]
fn several_numbers_in_one_reference_pay_each_invoice_oldest_due_first() {
    given()
        .document(invoice(
            "C-1",
            "SHT-INV-2026-000130",
            cny("250.00"),
            "2026-06-10",
        ))
        .document(invoice("C-1", INV_123, cny("1000.00"), "2026-05-31"))
        .when_received(receipt(
            cny("1250.00"),
            "SHT-INV-2026-000130 / SHT-INV-2026-000123",
        ))
        // Exact 60 + what the named invoices owe together 32.
        .then_customers(&[("C-1", 92)])
        .then_allocations(
            "C-1",
            &[
                (INV_123, cny("1000.00")),
                ("SHT-INV-2026-000130", cny("250.00")),
            ],
        )
        .then_automatic("C-1");
}

#[test]
fn an_amount_that_pays_one_of_several_named_invoices_pays_that_one_for_a_person_to_confirm() {
    given()
        .document(invoice(
            "C-1",
            "SHT-INV-2026-000130",
            cny("250.00"),
            "2026-06-10",
        ))
        .document(invoice("C-1", INV_123, cny("1000.00"), "2026-05-31"))
        .when_received(receipt(
            cny("250.00"),
            "SHT-INV-2026-000123 SHT-INV-2026-000130",
        ))
        // Exact 60 + amount 32 = 92, capped at 80: the reference names an invoice it does not
        // pay. Oldest due first would have put the 250.00 on SHT-INV-2026-000123.
        .then_customers(&[("C-1", 80)])
        .then_allocations("C-1", &[("SHT-INV-2026-000130", cny("250.00"))])
        .then_reasons(
            "C-1",
            &[
                exact(INV_123),
                exact("SHT-INV-2026-000130"),
                equals_open("SHT-INV-2026-000130"),
                Reason::NamedNotPaid {
                    numbers: vec![INV_123.to_owned()],
                },
            ],
        )
        .then_not_automatic();
}

#[test]
fn an_amount_net_of_a_named_credit_note_pays_the_invoice_and_leaves_the_rest_to_the_note() {
    one_invoice()
        .document(credit_note("C-1", "SHT-CN-2026-000010", cny("200.00")))
        .when_received(receipt(
            cny("800.00"),
            "SHT-INV-2026-000123 less SHT-CN-2026-000010",
        ))
        // Exact 60 + net of the credit note 30.
        .then_customers(&[("C-1", 90)])
        .then_allocations("C-1", &[(INV_123, cny("800.00"))])
        .then_credit_applications("C-1", &[(INV_123, cny("200.00"))])
        .then_on_account("C-1", cny("0.00"))
        .then_reasons(
            "C-1",
            // The documents in their order: due the same day, the credit note's number first.
            &[
                exact("SHT-CN-2026-000010"),
                exact(INV_123),
                Reason::NetOfCreditNote {
                    invoices: vec![INV_123.to_owned()],
                    credit_notes: vec!["SHT-CN-2026-000010".to_owned()],
                },
            ],
        )
        .then_automatic("C-1");
}

#[test]
fn two_invoices_less_a_credit_note_pay_the_older_and_leave_the_newer_to_the_credit() {
    // Owed 1,000.00 + 500.00 = 1,500.00, the note holds 300.00: 1,200.00 pays the older
    // invoice (due 31 May) in full and 200.00 of the newer; the note's 300.00 settles the
    // newer's last 300.00.
    one_invoice()
        .document(invoice(
            "C-1",
            "SHT-INV-2026-000124",
            cny("500.00"),
            "2026-06-15",
        ))
        .document(credit_note("C-1", "SHT-CN-2026-000011", cny("300.00")))
        .when_received(receipt(
            cny("1200.00"),
            "INV SHT-INV-2026-000123 SHT-INV-2026-000124 CN SHT-CN-2026-000011",
        ))
        .then_customers(&[("C-1", 90)])
        .then_allocations(
            "C-1",
            &[
                (INV_123, cny("1000.00")),
                ("SHT-INV-2026-000124", cny("200.00")),
            ],
        )
        .then_credit_applications("C-1", &[("SHT-INV-2026-000124", cny("300.00"))])
        .then_on_account("C-1", cny("0.00"))
        .then_automatic("C-1");
}

#[test]
fn a_credit_note_holding_less_than_the_difference_is_a_partial_payment_for_a_person() {
    // The note holds only 150.00 (the rest of it was applied elsewhere): 800.00 is not the
    // invoice less what the note holds (850.00), so the amount pays the invoice in part, no
    // credit is applied and a person decides.
    one_invoice()
        .document(credit_note("C-1", "SHT-CN-2026-000010", cny("150.00")))
        .when_received(receipt(
            cny("800.00"),
            "SHT-INV-2026-000123 less SHT-CN-2026-000010",
        ))
        .then_allocations("C-1", &[(INV_123, cny("800.00"))])
        .then_credit_applications("C-1", &[])
        .then_not_automatic();
}

// ---------------------------------------------------------------------------------------------
// The amount
// ---------------------------------------------------------------------------------------------

#[test]
fn an_amount_equal_to_one_invoice_with_a_learned_payer_is_a_candidate_for_a_person() {
    // Without a reference nothing posts automatically: a learned account may come from a wrong
    // match, and customers have many invoices of one amount.
    one_invoice()
        .payer("C-1", PayerBy::Account, learned(4))
        .when_received(receipt(cny("1000.00"), "PAYMENT"))
        // Amount 32 + learned account 15 + 3 x 4.
        .then_customers(&[("C-1", 59)])
        .then_allocations("C-1", &[(INV_123, cny("1000.00"))])
        .then_reasons(
            "C-1",
            &[
                equals_open(INV_123),
                Reason::PayerAccountKnown { source: learned(4) },
            ],
        )
        .then_not_automatic();
}

#[test]
fn an_amount_equal_to_three_invoices_of_a_known_payer_pays_the_three() {
    given()
        .document(invoice(
            "C-1",
            "SZE/2026/000050",
            cny("500.00"),
            "2026-05-10",
        ))
        .document(invoice(
            "C-1",
            "SZE/2026/000040",
            cny("300.00"),
            "2026-04-10",
        ))
        .document(invoice(
            "C-1",
            "SZE/2026/000060",
            cny("100.00"),
            "2026-05-20",
        ))
        .document(invoice(
            "C-1",
            "SZE/2026/000045",
            cny("200.00"),
            "2026-04-20",
        ))
        .payer("C-1", PayerBy::Account, PayerSource::Record)
        .when_received(receipt(cny("1000.00"), ""))
        // A set found by searching 20 + the account from the record 30.
        .then_customers(&[("C-1", 50)])
        .then_allocations(
            "C-1",
            &[
                ("SZE/2026/000040", cny("300.00")),
                ("SZE/2026/000045", cny("200.00")),
                ("SZE/2026/000050", cny("500.00")),
            ],
        )
        .then_reasons(
            "C-1",
            &[
                Reason::AmountEqualsSet {
                    numbers: vec![
                        "SZE/2026/000040".to_owned(),
                        "SZE/2026/000045".to_owned(),
                        "SZE/2026/000050".to_owned(),
                    ],
                },
                Reason::PayerAccountKnown {
                    source: PayerSource::Record,
                },
            ],
        )
        .then_not_automatic();
}

#[test]
fn the_row_next_due_of_an_invoice_due_in_several_is_an_exact_amount() {
    let instalments = || {
        given().document(OpenDocument {
            next_row: Some(cny("1000.00")),
            ..invoice("C-1", INV_123, cny("3000.00"), "2026-06-01")
        })
    };
    instalments()
        .when_received(receipt(cny("1000.00"), INV_123))
        // Exact 60 + the row 30.
        .then_customers(&[("C-1", 90)])
        .then_allocations("C-1", &[(INV_123, cny("1000.00"))])
        .then_reasons(
            "C-1",
            &[
                exact(INV_123),
                Reason::AmountEqualsRow {
                    number: INV_123.to_owned(),
                },
            ],
        )
        .then_automatic("C-1");
    instalments()
        .when_received(receipt(cny("1000.00"), ""))
        // The row alone: 30.
        .then_customers(&[("C-1", 30)])
        .then_not_automatic();
}

#[test]
fn a_partial_payment_pays_what_it_can_and_a_person_sees_it() {
    one_invoice()
        .payer("C-1", PayerBy::Account, PayerSource::Record)
        .when_received(receipt(cny("600.00"), INV_123))
        // Exact 60 + payer 30 = 90, capped at 80: the amount is not what the invoice owes.
        .then_customers(&[("C-1", 80)])
        .then_allocations("C-1", &[(INV_123, cny("600.00"))])
        .then_on_account("C-1", cny("0.00"))
        .then_reasons(
            "C-1",
            &[
                exact(INV_123),
                Reason::PartialPayment {
                    number: INV_123.to_owned(),
                    open: cny("1000.00"),
                },
                Reason::PayerAccountKnown {
                    source: PayerSource::Record,
                },
            ],
        )
        .then_not_automatic();
}

#[test]
fn an_over_payment_pays_the_invoice_and_leaves_the_rest_on_account() {
    one_invoice()
        .when_received(receipt(cny("1200.00"), INV_123))
        // Exact 60; no amount points.
        .then_customers(&[("C-1", 60)])
        .then_allocations("C-1", &[(INV_123, cny("1000.00"))])
        .then_on_account("C-1", cny("200.00"))
        .then_reasons(
            "C-1",
            &[
                exact(INV_123),
                Reason::OverPayment {
                    on_account: cny("200.00"),
                },
            ],
        )
        .then_not_automatic();
}

#[test]
fn the_same_amount_at_two_customers_says_neither() {
    given()
        .document(invoice(
            "C-2",
            "SZE/2026/000045",
            cny("1000.00"),
            "2026-05-31",
        ))
        .document(invoice("C-1", INV_123, cny("1000.00"), "2026-05-31"))
        .when_received(receipt(cny("1000.00"), "PAYMENT"))
        // The amount 32, shared: 10 each, in the order of the customers' ids.
        .then_customers(&[("C-1", 10), ("C-2", 10)])
        .then_reasons("C-1", &[equals_open(INV_123), Reason::AmbiguousAmount])
        .then_not_automatic();
}

#[test]
fn documents_in_another_currency_never_match() {
    given()
        .document(invoice("C-1", INV_123, usd("1000.00"), "2026-05-31"))
        .when_received(receipt(cny("1000.00"), INV_123))
        .then_customers(&[]);
}

// ---------------------------------------------------------------------------------------------
// The payer
// ---------------------------------------------------------------------------------------------

#[test]
fn a_payer_paying_for_a_sister_company_loses_to_the_reference_and_the_amount() {
    given()
        .document(invoice("C-B", INV_123, cny("1000.00"), "2026-05-31"))
        .payer("C-A", PayerBy::Account, learned(5))
        .when_received(receipt(cny("1000.00"), INV_123))
        // C-B: exact 60 + amount 32. C-A: the learned account 15 + 3 x 5, nothing allocated.
        .then_customers(&[("C-B", 92), ("C-A", 30)])
        .then_allocations("C-A", &[])
        .then_on_account("C-A", cny("1000.00"))
        .then_automatic("C-B");
}

#[test]
fn a_known_payer_alone_is_a_candidate_with_nothing_allocated_and_never_posts() {
    let then = given()
        .payer("C-1", PayerBy::Account, PayerSource::Record)
        .payer("C-1", PayerBy::Name, learned(2))
        .when_received(receipt(cny("1000.00"), "PAYMENT"));
    // Account 30 + learned name 10 + 2 x 2, at most 35 for the payer.
    then.then_customers(&[("C-1", 35)])
        .then_allocations("C-1", &[])
        .then_on_account("C-1", cny("1000.00"))
        .then_not_automatic();
    let lenient = AutoPolicy {
        threshold: Confidence::new(10).expect("a confidence"),
        margin: 0,
    };
    assert_eq!(automatic(&then.candidates, &lenient), None);
}

#[test]
fn a_payer_name_equal_to_the_customers_legal_name_is_read_through_its_suffix() {
    given()
        .named("C-1", &["Huadong", "上海华东贸易有限公司"])
        .named("C-2", &["Shenzhen Huadong Electronics Co., Ltd."])
        .when_received(Receipt {
            payer_name: Some("上海华东贸易 有限公司".to_owned()),
            ..receipt(cny("1000.00"), "")
        })
        // Equal names 15; C-2's name does not contain 上海华东贸易, nor the other way round.
        .then_customers(&[("C-1", 15)])
        .then_reasons(
            "C-1",
            &[Reason::PayerNameResembles {
                name: "上海华东贸易有限公司".to_owned(),
                how: Resemblance::Equal,
            }],
        );
    given()
        .named("C-2", &["Shenzhen Huadong Electronics Co., Ltd."])
        .when_received(Receipt {
            payer_name: Some("HUADONG ELECTRONICS".to_owned()),
            ..receipt(cny("1000.00"), "")
        })
        // One name containing the other: 8.
        .then_customers(&[("C-2", 8)]);
}

#[test]
fn the_usual_paying_pattern_adds_a_little() {
    one_invoice()
        .pattern("C-1", 12, 8)
        .when_received(receipt(cny("1000.00"), INV_123))
        // Exact 60 + amount 32 + pattern 5: paid 15 days after the due date, usually 12.
        .then_customers(&[("C-1", 97)])
        .then_reasons(
            "C-1",
            &[
                exact(INV_123),
                equals_open(INV_123),
                Reason::UsualPattern { days_after_due: 15 },
            ],
        );
    one_invoice()
        .pattern("C-1", 12, 2)
        .pattern("C-2", 15, 9)
        .when_received(receipt(cny("1000.00"), INV_123))
        // Two payments are no pattern, and C-2's is not C-1's.
        .then_customers(&[("C-1", 92)]);
}

// ---------------------------------------------------------------------------------------------
// The automatic rule
// ---------------------------------------------------------------------------------------------

fn scored(id: &str, confidence: u8, allocated: bool) -> Candidate {
    Candidate {
        customer: customer(id),
        allocations: if allocated {
            vec![receivables_domain::matching::Allocation {
                number: INV_123.to_owned(),
                subsidiary: subsidiary_of(INV_123),
                amount: cny("1.00"),
            }]
        } else {
            Vec::new()
        },
        on_account: cny("0.00"),
        credit_applications: Vec::new(),
        confidence: Confidence::new(confidence).expect("a confidence"),
        reasons: Vec::new(),
    }
}

#[test]
fn only_a_sure_best_candidate_far_enough_ahead_posts() {
    let policy = AutoPolicy::default();
    let best =
        |candidates: &[Candidate]| automatic(candidates, &policy).map(|c| c.customer.to_string());
    assert_eq!(best(&[]), None);
    assert_eq!(best(&[scored("C-1", 90, true)]), Some("C-1".to_owned()));
    assert_eq!(best(&[scored("C-1", 89, true)]), None);
    assert_eq!(
        best(&[scored("C-1", 95, true), scored("C-2", 75, true)]),
        Some("C-1".to_owned())
    );
    assert_eq!(
        best(&[scored("C-1", 95, true), scored("C-2", 76, true)]),
        None
    );
    assert_eq!(best(&[scored("C-1", 100, false)]), None);
    assert_eq!(
        AutoPolicy::default(),
        AutoPolicy {
            threshold: Confidence::new(90).expect("a confidence"),
            margin: 20
        }
    );
    assert!(Confidence::new(101).is_err());
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

fn keys(expected: &[(&str, KeyKind)]) -> Vec<Key> {
    expected
        .iter()
        .map(|(text, kind)| Key {
            text: (*text).to_owned(),
            kind: *kind,
        })
        .collect()
}

#[test]
fn the_keys_of_the_three_number_styles() {
    use KeyKind::*;
    assert_eq!(
        document_keys("SHT-INV-2026-000123"),
        keys(&[
            ("SHTINV2026000123", Exact),
            ("SHTINV2026-123", NoLeadingZeros),
            ("INV2026000123", NoPrefix),
            ("INV2026-123", NoPrefix),
            ("2026000123", DigitsOnly),
            ("2026-123", DigitsOnly),
        ])
    );
    assert_eq!(
        document_keys("SZE/2026/000045"),
        keys(&[
            ("SZE2026000045", Exact),
            ("SZE2026-45", NoLeadingZeros),
            ("2026000045", DigitsOnly),
            ("2026-45", DigitsOnly),
        ])
    );
    assert_eq!(
        document_keys("HKS-202603-000007"),
        keys(&[
            ("HKS202603000007", Exact),
            ("HKS202603-7", NoLeadingZeros),
            ("202603000007", DigitsOnly),
            ("202603-7", DigitsOnly),
        ])
    );
}

#[test]
fn short_numbers_keep_only_their_exact_key() {
    assert_eq!(document_keys("INV-7"), keys(&[("INV7", KeyKind::Exact)]));
    assert_eq!(document_keys("--"), Vec::new());
}

#[test]
fn the_keys_a_reference_may_hold() {
    assert_eq!(
        reference_keys("inv 2026 123"),
        [
            "INV",
            "INV2026",
            "INV2026123",
            "INV2026-123",
            "2026",
            "2026123",
            "2026-123",
            "123"
        ]
    );
    assert_eq!(
        reference_keys("ＳＺＥ／２０２６／００００４５"),
        [
            "SZE",
            "SZE2026",
            "SZE2026000045",
            "SZE2026-45",
            "2026",
            "2026000045",
            "2026-45",
            "000045",
            "45"
        ]
    );
    assert_eq!(reference_keys("货款，谢谢"), Vec::<String>::new());
    let long = "A1 ".repeat(1_000);
    assert!(reference_keys(&long).len() <= REFERENCE_KEYS_MAX);
}

#[test]
fn every_document_key_is_among_the_keys_of_a_reference_that_names_it() {
    for number in [INV_123, "SZE/2026/000045", "HKS-202603-000007"] {
        let found = reference_keys(&format!("paid {number} thanks"));
        for key in document_keys(number) {
            assert!(found.contains(&key.text), "{key:?} of {number}");
        }
    }
}

#[test]
fn payer_keys_of_names_and_accounts() {
    let key = |text: &str| payer_key(text);
    let some = |text: &str| Some(text.to_owned());
    assert_eq!(
        key("Shanghai Huadong Trading Co., Ltd."),
        some("SHANGHAIHUADONGTRADING")
    );
    assert_eq!(
        key("SHANGHAI HUADONG TRADING LIMITED"),
        some("SHANGHAIHUADONGTRADING")
    );
    assert_eq!(key("上海华东贸易有限公司"), some("上海华东贸易"));
    assert_eq!(key("深圳市华强电子股份有限公司"), some("深圳市华强电子"));
    assert_eq!(key("北京京西物流有限责任公司"), some("北京京西物流"));
    assert_eq!(
        key("ＡＣＭＥ　Ｔｒａｄｉｎｇ　Ｌｔｄ．"),
        some("ACMETRADING")
    );
    assert_eq!(key("Müller GmbH"), some("MÜLLER"));
    assert_eq!(key("Acme Inc"), some("ACME"));
    assert_eq!(key("Limited Editions Ltd"), some("LIMITEDEDITIONS"));
    assert_eq!(key("6222 0210-0112 3456"), some("6222021001123456"));
    assert_eq!(key("ＤＥ８９ ３７０４"), some("DE893704"));
    assert_eq!(key("Co., Ltd."), None);
    assert_eq!(key("  "), None);
}

// ---------------------------------------------------------------------------------------------
// Properties over random evidence
// ---------------------------------------------------------------------------------------------

const CUSTOMERS: [&str; 3] = ["C-1", "C-2", "C-3"];

#[derive(Debug, Clone)]
struct DocumentSpec {
    customer: usize,
    style: usize,
    credit_note: bool,
    sequence: u32,
    /// In units of 50 fen, so that amounts coincide often.
    open_halves: i64,
    due_day: u32,
    row_halves: Option<i64>,
    /// A document in USD instead of CNY.
    foreign: bool,
}

fn document_of(spec: &DocumentSpec) -> OpenDocument {
    let sequence = spec.sequence;
    let number = match (spec.style, spec.credit_note) {
        (0, false) => format!("SHT-INV-2026-{sequence:06}"),
        (0, true) => format!("SHT-CN-2026-{sequence:06}"),
        (1, false) => format!("SZE/2026/{sequence:06}"),
        (1, true) => format!("SZE/CN/2026/{sequence:06}"),
        (_, false) => format!("HKS-202603-{sequence:06}"),
        (_, true) => format!("HKS-CN-202603-{sequence:06}"),
    };
    let money = |halves: i64| {
        let amount = Decimal::new(halves * 50, 2);
        if spec.foreign {
            Money::of(amount, Currency::parse("USD").expect("USD"))
        } else {
            Money::of(amount, Currency::parse("CNY").expect("CNY"))
        }
    };
    OpenDocument {
        customer: customer(CUSTOMERS[spec.customer]),
        subsidiary: subsidiary_of(&number),
        kind: if spec.credit_note {
            DocumentKind::CreditNote
        } else {
            DocumentKind::Invoice
        },
        open: money(spec.open_halves),
        due_date: date("2026-05-01") + chrono::Days::new(u64::from(spec.due_day)),
        next_row: spec.row_halves.map(money),
        number,
    }
}

fn document_spec() -> impl Strategy<Value = DocumentSpec> {
    (
        0..CUSTOMERS.len(),
        0..3usize,
        prop::bool::weighted(0.2),
        1u32..8,
        1i64..12,
        0u32..40,
        prop::option::weighted(0.2, 1i64..12),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(customer, style, credit_note, sequence, open_halves, due_day, row, foreign)| {
                DocumentSpec {
                    customer,
                    style,
                    credit_note,
                    sequence,
                    open_halves,
                    due_day,
                    row_halves: row,
                    foreign,
                }
            },
        )
}

/// How a reference writes a document's number.
fn mangled(number: &str, how: usize) -> String {
    match how {
        0 => number.to_owned(),
        1 => number.to_lowercase().replace(['-', '/'], " "),
        2 => number.replace("0000", ""),
        _ => number.chars().filter(char::is_ascii_digit).collect(),
    }
}

fn payer_hint() -> impl Strategy<Value = PayerHint> {
    (
        0..CUSTOMERS.len(),
        prop::bool::ANY,
        prop::option::of(1u32..8),
    )
        .prop_map(|(who, by_account, learned)| PayerHint {
            customer: customer(CUSTOMERS[who]),
            by: if by_account {
                PayerBy::Account
            } else {
                PayerBy::Name
            },
            source: learned.map_or(PayerSource::Record, |matches| PayerSource::Learned {
                matches,
            }),
        })
}

fn pattern() -> impl Strategy<Value = PayingPattern> {
    (0..CUSTOMERS.len(), -5i32..40, 0u32..10).prop_map(|(who, median, payments)| PayingPattern {
        customer: customer(CUSTOMERS[who]),
        median_days_after_due: median,
        payments,
    })
}

/// A receipt and its evidence, with each list of the evidence also shuffled.
fn scenario() -> impl Strategy<Value = (Receipt, Evidence, Evidence)> {
    (
        prop::collection::vec(document_spec(), 0..14),
        prop::collection::vec((any::<Index>(), 0..4usize), 0..3),
        prop_oneof![
            (any::<Index>(), Just(1usize)).boxed(),
            (any::<Index>(), 2usize..4).boxed(),
            (any::<Index>(), Just(0usize)).boxed(),
        ],
        1i64..40,
        prop::collection::vec(payer_hint(), 0..4),
        prop::collection::vec(pattern(), 0..3),
        prop::option::of(prop::sample::select(vec![
            "Huadong Trading Co., Ltd.",
            "上海华东贸易有限公司",
            "Pearl River",
        ])),
    )
        .prop_map(
            |(specs, named, (pick, taken), halves, payers, patterns, payer_name)| {
                let mut documents: Vec<OpenDocument> = Vec::new();
                for spec in &specs {
                    let document = document_of(spec);
                    // Numbers are unique per subsidiary and kind, across customers.
                    if !documents.iter().any(|d| {
                        d.subsidiary == document.subsidiary
                            && d.kind == document.kind
                            && d.number == document.number
                    }) {
                        documents.push(document);
                    }
                }
                let reference = named
                    .iter()
                    .filter(|_| !documents.is_empty())
                    .map(|(index, how)| {
                        mangled(&documents[index.index(documents.len())].number, *how)
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                // Often what one, two or three documents owe, else a random amount.
                let amount = if documents.is_empty() || taken == 0 {
                    Decimal::new(halves * 50, 2)
                } else {
                    let first = pick.index(documents.len());
                    documents
                        .iter()
                        .cycle()
                        .skip(first)
                        .take(taken.min(documents.len()))
                        .map(|d| d.open.amount())
                        .sum()
                };
                let receipt = Receipt {
                    amount: Money::of(amount, Currency::parse("CNY").expect("CNY")),
                    value_date: date(VALUE_DATE),
                    payer_name: payer_name.map(str::to_owned),
                    payer_account: None,
                    reference,
                };
                let names = vec![
                    CustomerName {
                        customer: customer("C-1"),
                        names: vec!["上海华东贸易有限公司".to_owned()],
                    },
                    CustomerName {
                        customer: customer("C-2"),
                        names: vec!["Huadong Trading".to_owned(), "Pearl River Ltd".to_owned()],
                    },
                ];
                let evidence = Evidence {
                    documents,
                    payers,
                    patterns,
                    names,
                };
                (receipt, evidence)
            },
        )
        .prop_flat_map(|(receipt, evidence)| {
            let shuffled = (
                Just(evidence.documents.clone()).prop_shuffle(),
                Just(evidence.payers.clone()).prop_shuffle(),
                Just(evidence.patterns.clone()).prop_shuffle(),
                Just(evidence.names.clone()).prop_shuffle(),
            )
                .prop_map(|(documents, payers, patterns, names)| Evidence {
                    documents,
                    payers,
                    patterns,
                    names,
                });
            (Just(receipt), Just(evidence), shuffled)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn allocations_stay_within_what_is_owed_and_add_up_to_the_receipt(
        (receipt, evidence, _) in scenario()
    ) {
        let candidates = rank(&receipt, &evidence);
        check_invariants(&receipt, &evidence, &candidates);
    }

    #[test]
    fn the_order_of_the_evidence_changes_nothing((receipt, evidence, shuffled) in scenario()) {
        prop_assert_eq!(rank(&receipt, &evidence), rank(&receipt, &shuffled));
    }
}
