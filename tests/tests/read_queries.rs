//! The read queries over the open-items read model: promise statuses, credit exposure and the
//! collector work queue. Each test builds a small history of events by hand (no NATS: recorded
//! events at positions 1, 2, 3... applied straight to a fresh PostgreSQL database) and checks
//! every figure against numbers worked out by hand in the comments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, Utc};
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::event::{
    Allocation, AllocationRule, CollectorAssigned, CreditLimitChanged, InvoiceIssued,
    PaymentReceived, PromiseToPay,
};
use receivables_domain::ids::{PersonName, PromiseId};
use receivables_domain::payment::PaymentMethod;
use receivables_domain::testing::EnvelopeBuilder;
use receivables_domain::{
    Currency, CustomerId, Event, InvoiceKey, InvoiceNumber, Money, RecordedEvent, SubsidiaryId,
};
use receivables_projections::ProjectionError;
use receivables_projections::exposure::{self, ExposureLine, ExposureQuery, ExposureSort};
use receivables_projections::paging::{PAGE_SIZE_MAX, PageRequestError, Paged};
use receivables_projections::promises::{
    PROMISE_GRACE_DAYS_DEFAULT, PromiseLine, PromiseQuery, PromiseStatus, list_promises,
};
use receivables_projections::work_queue::{
    EscalationLevel, WorkItem, WorkQueueQuery, WorkQueueWeights, work_queue,
};
use receivables_tests::{Engine, TestReadModel, on_both_engines};

/// Every promise of `customer` (all customers' when `None`) in `status` (every status when
/// `None`) as of `as_of`, in one unpaged listing.
async fn promises_of(
    pool: &receivables_projections::ReadPool,
    customer: Option<&CustomerId>,
    status: Option<PromiseStatus>,
    as_of: NaiveDate,
    grace_days: u32,
) -> Result<Vec<PromiseLine>, ProjectionError> {
    let mut query = PromiseQuery::new(as_of).unpaged();
    query.customer = customer.cloned();
    query.status = status;
    query.grace_days = grace_days;
    Ok(list_promises(pool, &query).await?.promises)
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn money(amount: &str, currency: &str) -> Money {
    Money::non_negative(amount, Currency::parse(currency).unwrap()).unwrap()
}

fn customer(id: &str) -> CustomerId {
    CustomerId::parse(id).unwrap()
}

fn subsidiary(id: &str) -> SubsidiaryId {
    SubsidiaryId::parse(id).unwrap()
}

fn key(subsidiary_id: &str, number: &str) -> InvoiceKey {
    InvoiceKey {
        subsidiary_id: subsidiary(subsidiary_id),
        invoice_number: InvoiceNumber::parse(number).unwrap(),
    }
}

/// A promise id that reads as its name in failures: `...-0000000000a1` for `a1`.
fn promise_id(suffix: &str) -> PromiseId {
    PromiseId::parse(&format!("00000000-0000-0000-0000-{suffix:0>12}")).unwrap()
}

/// A history of one group's events, recorded at positions 1, 2, 3... in the order written.
#[derive(Default)]
struct History {
    events: Vec<RecordedEvent>,
}

impl History {
    fn record(&mut self, customer_id: &str, effective: &str, event: Event) {
        let position = u64::try_from(self.events.len()).unwrap() + 1;
        // The read models do not check the chain; the command service's tests do.
        let recorded = EnvelopeBuilder::new(customer(customer_id), event)
            .recorded_at(Utc::now())
            .effective_date(date(effective))
            .at(position);
        self.events.push(recorded);
    }

    #[allow(clippy::too_many_arguments)]
    fn invoice(
        &mut self,
        customer_id: &str,
        subsidiary_id: &str,
        number: &str,
        amount: &str,
        currency: &str,
        issued: &str,
        due: &str,
    ) {
        let event = Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: subsidiary(subsidiary_id),
            invoice_number: InvoiceNumber::parse(number).unwrap(),
            amount: money(amount, currency),
            issue_date: date(issued),
            due_date: date(due),
            terms_days: None,
            payment_terms: None,
            schedule: Vec::new(),
            discount: None,
            over_limit: false,
            credit_check: None,
            consumes: None,
        });
        self.record(customer_id, issued, event);
    }

    /// A payment: `allocations` are (subsidiary, invoice number, amount); `unapplied` is what is
    /// left of `amount` after them (written by hand, as the command service would decide it).
    #[allow(clippy::too_many_arguments)]
    fn payment(
        &mut self,
        customer_id: &str,
        subsidiary_id: &str,
        amount: &str,
        currency: &str,
        received: &str,
        allocations: &[(&str, &str, &str)],
        unapplied: &str,
    ) {
        let event = Event::PaymentReceived(PaymentReceived {
            subsidiary_id: subsidiary(subsidiary_id),
            amount: money(amount, currency),
            received_date: date(received),
            method: PaymentMethod::BankTransfer,
            reference: format!("REF-{}", self.events.len() + 1),
            allocation_rule: AllocationRule::Explicit,
            allocations: allocations
                .iter()
                .map(|(sub, number, part)| Allocation {
                    invoice: key(sub, number),
                    amount: money(part, currency),
                })
                .collect(),
            unapplied: money(unapplied, currency),
        });
        self.record(customer_id, received, event);
    }

    fn limit(
        &mut self,
        customer_id: &str,
        limit: &str,
        currency: &str,
        policy: CreditPolicy,
        grade: CreditGrade,
        effective: &str,
    ) {
        let event = Event::CreditLimitChanged(CreditLimitChanged {
            limit: money(limit, currency),
            policy,
            grade,
            reason: "annual review".to_owned(),
            approved_by: PersonName::parse("Credit Committee").unwrap(),
            overdue_hold_days: None,
        });
        self.record(customer_id, effective, event);
    }

    #[allow(clippy::too_many_arguments)]
    fn promise(
        &mut self,
        customer_id: &str,
        subsidiary_id: &str,
        id: &str,
        amount: &str,
        currency: &str,
        made_on: &str,
        promised: &str,
        collector: &str,
    ) {
        let event = Event::PromiseToPay(PromiseToPay {
            promise_id: promise_id(id),
            subsidiary_id: subsidiary(subsidiary_id),
            amount: money(amount, currency),
            made_on: date(made_on),
            promised_date: date(promised),
            invoices: Vec::new(),
            collector: PersonName::parse(collector).unwrap(),
            note: String::new(),
        });
        self.record(customer_id, made_on, event);
    }

    /// `collector` is assigned to the customer.
    fn collector(&mut self, customer_id: &str, collector: &str) {
        let event = Event::CollectorAssigned(CollectorAssigned {
            default_for: None,
            collector: Some(PersonName::parse(collector).unwrap()),
        });
        self.record(customer_id, "2026-01-01", event);
    }

    /// `collector` is the default collector of `subsidiary_id`'s customers (an event of the
    /// group's own account).
    fn default_collector(&mut self, subsidiary_id: &str, collector: &str) {
        let event = Event::CollectorAssigned(CollectorAssigned {
            default_for: Some(subsidiary(subsidiary_id)),
            collector: Some(PersonName::parse(collector).unwrap()),
        });
        self.record(CustomerId::group().as_str(), "2026-01-01", event);
    }

    /// Applies every event, in order, in one transaction.
    async fn apply(&self, database: &TestReadModel) {
        receivables_projections::runtime::apply_events(&database.read, &self.events)
            .await
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Promises
// ---------------------------------------------------------------------------------------------

/// Customer P1 (CNY and USD) with two promises, P2 with one.
fn promise_history() -> History {
    let mut h = History::default();
    h.invoice(
        "P1",
        "SUB-1",
        "INV-P1",
        "1000",
        "CNY",
        "2026-03-01",
        "2026-03-31",
    );
    h.invoice(
        "P1",
        "SUB-1",
        "INV-P1U",
        "800",
        "USD",
        "2026-03-01",
        "2026-03-31",
    );
    h.invoice(
        "P2",
        "SUB-1",
        "INV-P2",
        "100",
        "CNY",
        "2026-02-13",
        "2026-03-15",
    );
    // 04-01: 100.00 CNY, the day before promise A was made: never counts for it.
    h.payment(
        "P1",
        "SUB-1",
        "100",
        "CNY",
        "2026-04-01",
        &[("SUB-1", "INV-P1", "100")],
        "0",
    );
    // Promise A: 600.00 CNY, made 04-02, promised 04-10 (window ends 04-13 with 3 grace days).
    h.promise(
        "P1",
        "SUB-1",
        "a1",
        "600",
        "CNY",
        "2026-04-02",
        "2026-04-10",
        "Li Wei",
    );
    // Promise C of P2: 50.00 CNY, made 04-01, promised 04-03 (window ends 04-06); never paid.
    h.promise(
        "P2",
        "SUB-1",
        "c1",
        "50",
        "CNY",
        "2026-04-01",
        "2026-04-03",
        "Li Wei",
    );
    // 04-05: 200.00 CNY received by another subsidiary (left unapplied there): it counts.
    h.payment("P1", "SUB-2", "200", "CNY", "2026-04-05", &[], "200");
    // 04-13: 400.00 CNY, on the last day of promise A's window.
    h.payment(
        "P1",
        "SUB-1",
        "400",
        "CNY",
        "2026-04-13",
        &[("SUB-1", "INV-P1", "400")],
        "0",
    );
    // Promise B: 300.00 CNY, made 04-20, promised 04-25 (window ends 04-28).
    h.promise(
        "P1",
        "SUB-1",
        "b1",
        "300",
        "CNY",
        "2026-04-20",
        "2026-04-25",
        "Zhang Min",
    );
    // 04-22: 500.00 USD: another currency, does not count for promise B.
    h.payment(
        "P1",
        "SUB-1",
        "500",
        "USD",
        "2026-04-22",
        &[("SUB-1", "INV-P1U", "500")],
        "0",
    );
    // 04-29: 100.00 CNY, the day after promise B's window ended.
    h.payment(
        "P1",
        "SUB-1",
        "100",
        "CNY",
        "2026-04-29",
        &[("SUB-1", "INV-P1", "100")],
        "0",
    );
    h
}

/// A promise line as (customer, promise id suffix, paid, status).
fn promise_rows(lines: &[PromiseLine]) -> Vec<(String, String, String, PromiseStatus)> {
    lines
        .iter()
        .map(|line| {
            let id = line.promise_id.to_string();
            (
                line.customer.to_string(),
                id.trim_start_matches("00000000-0000-0000-0000-")
                    .trim_start_matches('0')
                    .to_owned(),
                line.paid.amount().to_string(),
                line.status,
            )
        })
        .collect()
}

fn promise_row(
    customer_id: &str,
    id: &str,
    paid: &str,
    status: PromiseStatus,
) -> (String, String, String, PromiseStatus) {
    (
        customer_id.to_owned(),
        id.to_owned(),
        paid.to_owned(),
        status,
    )
}

async fn promise_statuses_follow_the_payments_in_their_window(engine: Engine) {
    use PromiseStatus::{Broken, Kept, Open, PartiallyKept};
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    promise_history().apply(&database).await;
    let pool = &database.read;
    let p1 = customer("P1");
    let grace = PROMISE_GRACE_DAYS_DEFAULT;
    assert_eq!(grace, 3);
    let of_p1 = |as_of: &'static str, grace: u32| async move {
        promise_rows(
            &promises_of(pool, Some(&customer("P1")), None, date(as_of), grace)
                .await
                .unwrap(),
        )
    };

    // 04-01: promise A is made only on 04-02 and is left out; P2's promise C was made that day,
    // nothing paid: open.
    assert_eq!(of_p1("2026-04-01", grace).await, vec![]);
    assert_eq!(
        promise_rows(
            &promises_of(pool, None, None, date("2026-04-01"), grace)
                .await
                .unwrap()
        ),
        vec![promise_row("P2", "c1", "0.00", Open)]
    );
    // 04-02: A's window is [04-02, 04-02]; the 100.00 of 04-01 is before it: open, 0.00.
    assert_eq!(
        of_p1("2026-04-02", grace).await,
        vec![promise_row("P1", "a1", "0.00", Open)]
    );
    // 04-05: 200.00 received by SUB-2 counts (any subsidiary): 200.00 of 600.00 paid, the
    // window runs to 04-13: open, with the 200.00 shown.
    let lines = promises_of(pool, Some(&p1), None, date("2026-04-05"), grace)
        .await
        .unwrap();
    assert_eq!(
        lines,
        vec![PromiseLine {
            promise_id: promise_id("a1"),
            customer: customer("P1"),
            subsidiary: subsidiary("SUB-1"),
            amount: money("600", "CNY"),
            paid: money("200", "CNY"),
            made_on: date("2026-04-02"),
            promised_date: date("2026-04-10"),
            window_end: date("2026-04-13"),
            collector: PersonName::parse("Li Wei").unwrap(),
            status: Open,
        }]
    );
    // 04-12: past the promised date but inside the grace period: still open.
    assert_eq!(
        of_p1("2026-04-12", grace).await,
        vec![promise_row("P1", "a1", "200.00", Open)]
    );
    // 04-13, the window's last day: 200.00 + 400.00 = 600.00 reaches the amount: kept.
    assert_eq!(
        of_p1("2026-04-13", grace).await,
        vec![promise_row("P1", "a1", "600.00", Kept)]
    );
    // Grace boundary: with 2 grace days A's window ends 04-12, so on 04-12 it is still open,
    // and on 04-13 (the 400.00 arrives a day too late) partially kept with 200.00.
    assert_eq!(
        of_p1("2026-04-12", 2).await,
        vec![promise_row("P1", "a1", "200.00", Open)]
    );
    assert_eq!(
        of_p1("2026-04-13", 2).await,
        vec![promise_row("P1", "a1", "200.00", PartiallyKept)]
    );
    // Without grace: open on the promised date 04-10, partially kept on 04-11.
    assert_eq!(
        of_p1("2026-04-10", 0).await,
        vec![promise_row("P1", "a1", "200.00", Open)]
    );
    assert_eq!(
        of_p1("2026-04-11", 0).await,
        vec![promise_row("P1", "a1", "200.00", PartiallyKept)]
    );
    // 04-28, B's last window day: the 500.00 USD of 04-22 does not count for a CNY promise:
    // B is open with 0.00. A stays kept with the 600.00 of its window.
    assert_eq!(
        of_p1("2026-04-28", grace).await,
        vec![
            promise_row("P1", "a1", "600.00", Kept),
            promise_row("P1", "b1", "0.00", Open),
        ]
    );
    // 04-29: B's window closed on 04-28 with nothing paid; the 100.00 of 04-29 is too late.
    assert_eq!(
        of_p1("2026-04-29", grace).await,
        vec![
            promise_row("P1", "a1", "600.00", Kept),
            promise_row("P1", "b1", "0.00", Broken),
        ]
    );
    // P2's promise C: window ends 04-03 + 3 = 04-06. Open on 04-06, broken on 04-07.
    let of_p2 = |as_of: &'static str| async move {
        promise_rows(
            &promises_of(pool, Some(&customer("P2")), None, date(as_of), grace)
                .await
                .unwrap(),
        )
    };
    assert_eq!(
        of_p2("2026-04-06").await,
        vec![promise_row("P2", "c1", "0.00", Open)]
    );
    assert_eq!(
        of_p2("2026-04-07").await,
        vec![promise_row("P2", "c1", "0.00", Broken)]
    );

    // Filters as of 04-30: ordered by customer, then promised date.
    let as_of = date("2026-04-30");
    let by_status = |status: PromiseStatus, who: Option<CustomerId>| async move {
        promise_rows(
            &promises_of(pool, who.as_ref(), Some(status), as_of, grace)
                .await
                .unwrap(),
        )
    };
    assert_eq!(
        by_status(Broken, None).await,
        vec![
            promise_row("P1", "b1", "0.00", Broken),
            promise_row("P2", "c1", "0.00", Broken),
        ]
    );
    assert_eq!(
        by_status(Broken, Some(customer("P1"))).await,
        vec![promise_row("P1", "b1", "0.00", Broken)]
    );
    assert_eq!(
        by_status(Kept, None).await,
        vec![promise_row("P1", "a1", "600.00", Kept)]
    );
    assert_eq!(by_status(Open, None).await, vec![]);
    assert_eq!(by_status(PartiallyKept, None).await, vec![]);
    // With 2 grace days A's window ended on 04-12 with 200.00 of 600.00: partially kept.
    assert_eq!(
        promise_rows(
            &promises_of(pool, None, Some(PartiallyKept), as_of, 2)
                .await
                .unwrap()
        ),
        vec![promise_row("P1", "a1", "200.00", PartiallyKept)]
    );
    assert_eq!(
        promises_of(pool, Some(&customer("NOBODY")), None, as_of, grace)
            .await
            .unwrap(),
        vec![]
    );

    database.remove().await;
}

/// Five promises of three customers, by two collectors for two subsidiaries, none paid.
fn promises_across_customers() -> History {
    let mut h = History::default();
    h.promise(
        "Q1",
        "SUB-1",
        "f1",
        "100",
        "CNY",
        "2026-05-01",
        "2026-05-05",
        "Li Wei",
    );
    h.promise(
        "Q1",
        "SUB-2",
        "f2",
        "100",
        "CNY",
        "2026-05-01",
        "2026-05-20",
        "Zhang Min",
    );
    h.promise(
        "Q2",
        "SUB-1",
        "f3",
        "100",
        "CNY",
        "2026-05-02",
        "2026-05-10",
        "Zhang Min",
    );
    h.promise(
        "Q3",
        "SUB-2",
        "f4",
        "100",
        "CNY",
        "2026-05-03",
        "2026-05-06",
        "Li Wei",
    );
    h.promise(
        "Q3",
        "SUB-1",
        "f5",
        "100",
        "CNY",
        "2026-05-03",
        "2026-05-31",
        "Li Wei",
    );
    h
}

async fn promises_are_listed_across_customers_by_filter_and_page(engine: Engine) {
    use PromiseStatus::{Broken, Open};
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    promises_across_customers().apply(&database).await;
    let pool = &database.read;
    // As of 05-15 with 3 grace days, nothing paid: f1 (window to 05-08), f3 (05-13) and p4
    // (05-09) are broken; f2 (05-23) and f5 (06-03) are open.
    let as_of = date("2026-05-15");
    let list = |query: PromiseQuery| async move {
        let page = list_promises(pool, &query).await.unwrap();
        (promise_rows(&page.promises), page.next_page_token)
    };
    let query = || PromiseQuery::new(as_of).unpaged();

    let mut by_collector = query();
    by_collector.collector = Some(PersonName::parse("Li Wei").unwrap());
    assert_eq!(
        list(by_collector.clone()).await,
        (
            vec![
                promise_row("Q1", "f1", "0.00", Broken),
                promise_row("Q3", "f4", "0.00", Broken),
                promise_row("Q3", "f5", "0.00", Open),
            ],
            None
        )
    );
    let mut broken_of_collector = by_collector;
    broken_of_collector.status = Some(Broken);
    assert_eq!(
        list(broken_of_collector).await.0,
        vec![
            promise_row("Q1", "f1", "0.00", Broken),
            promise_row("Q3", "f4", "0.00", Broken),
        ]
    );
    let mut of_subsidiary = query();
    of_subsidiary.subsidiary = Some(subsidiary("SUB-2"));
    assert_eq!(
        list(of_subsidiary).await.0,
        vec![
            promise_row("Q1", "f2", "0.00", Open),
            promise_row("Q3", "f4", "0.00", Broken),
        ]
    );
    // Promised from 05-05 to 05-10, both days included.
    let mut in_window = query();
    in_window.promised_from = Some(date("2026-05-05"));
    in_window.promised_to = Some(date("2026-05-10"));
    assert_eq!(
        list(in_window).await.0,
        vec![
            promise_row("Q1", "f1", "0.00", Broken),
            promise_row("Q2", "f3", "0.00", Broken),
            promise_row("Q3", "f4", "0.00", Broken),
        ]
    );

    // Two at a time: every promise once, in the listing's order, and no token after the last.
    let paged = PromiseQuery::new(as_of).with_page_size(2).unwrap();
    let (first, token) = list(paged.clone()).await;
    assert_eq!(
        first,
        vec![
            promise_row("Q1", "f1", "0.00", Broken),
            promise_row("Q1", "f2", "0.00", Open),
        ]
    );
    let (second, token) = list(paged.clone().with_page_token(&token.unwrap()).unwrap()).await;
    assert_eq!(
        second,
        vec![
            promise_row("Q2", "f3", "0.00", Broken),
            promise_row("Q3", "f4", "0.00", Broken),
        ]
    );
    let (third, token) = list(paged.clone().with_page_token(&token.unwrap()).unwrap()).await;
    assert_eq!(third, vec![promise_row("Q3", "f5", "0.00", Open)]);
    assert_eq!(token, None);
    // The broken ones two at a time: the status filter counts before the page is cut.
    let mut broken = paged;
    broken.status = Some(Broken);
    let (first, token) = list(broken.clone()).await;
    assert_eq!(
        first,
        vec![
            promise_row("Q1", "f1", "0.00", Broken),
            promise_row("Q2", "f3", "0.00", Broken),
        ]
    );
    let token = token.unwrap();
    let (rest, end) = list(broken.clone().with_page_token(&token).unwrap()).await;
    assert_eq!(
        (rest, end),
        (vec![promise_row("Q3", "f4", "0.00", Broken)], None)
    );
    // A token is for the date it was given for.
    assert!(matches!(
        PromiseQuery::new(date("2026-05-16")).with_page_token(&token),
        Err(PageRequestError::ForeignToken(_))
    ));

    database.remove().await;
}

// ---------------------------------------------------------------------------------------------
// Promise outcomes, one transition at a time
// ---------------------------------------------------------------------------------------------

/// Given: customer T1 owes 1000.00 CNY (due 03-31) and on 04-02 promised 600.00 for 04-10; with
/// the default 3 grace days the window is [04-02, 04-13] and closes on 04-14. Then the payments
/// (amount, received date), each left unapplied: a promise counts a payment whether or not it
/// was applied.
fn one_promise_paid(payments: &[(&str, &str)]) -> History {
    let mut h = History::default();
    h.invoice(
        "T1",
        "SUB-1",
        "INV-T1",
        "1000",
        "CNY",
        "2026-03-01",
        "2026-03-31",
    );
    h.promise(
        "T1",
        "SUB-1",
        "e1",
        "600",
        "CNY",
        "2026-04-02",
        "2026-04-10",
        "Li Wei",
    );
    for (amount, received) in payments {
        h.payment("T1", "SUB-1", amount, "CNY", received, &[], amount);
    }
    h
}

/// When: T1's promise as of `as_of` with the default grace, as (paid, status).
async fn t1_promise(
    pool: &receivables_projections::ReadPool,
    as_of: &str,
) -> (String, PromiseStatus) {
    let lines = promises_of(
        pool,
        Some(&customer("T1")),
        None,
        date(as_of),
        PROMISE_GRACE_DAYS_DEFAULT,
    )
    .await
    .unwrap();
    assert_eq!(lines.len(), 1, "as of {as_of}: {lines:?}");
    assert_eq!(lines[0].window_end, date("2026-04-13"));
    (lines[0].paid.amount().to_string(), lines[0].status)
}

async fn a_partial_payment_inside_the_window_leaves_the_promise_open(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    // Given 200.00 of the 600.00 paid on 04-05.
    one_promise_paid(&[("200", "2026-04-05")])
        .apply(&database)
        .await;
    let pool = &database.read;

    // When asked before the promised date, on it and on the last day of grace, then open with
    // the 200.00 shown: the window has not closed.
    for as_of in ["2026-04-05", "2026-04-10", "2026-04-13"] {
        assert_eq!(
            t1_promise(pool, as_of).await,
            ("200.00".to_owned(), PromiseStatus::Open),
            "as of {as_of}"
        );
    }

    database.remove().await;
}

async fn a_promise_paid_in_full_before_its_date_is_kept(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    // Given 250.00 on 04-06 and 350.00 on 04-08: 600.00 two days before the promised date.
    one_promise_paid(&[("250", "2026-04-06"), ("350", "2026-04-08")])
        .apply(&database)
        .await;
    let pool = &database.read;

    // When asked on 04-07, then open with 250.00; on 04-08, then kept with 600.00, without
    // waiting for the window to close; and still kept once it has.
    assert_eq!(
        t1_promise(pool, "2026-04-07").await,
        ("250.00".to_owned(), PromiseStatus::Open)
    );
    for as_of in ["2026-04-08", "2026-04-09", "2026-04-30"] {
        assert_eq!(
            t1_promise(pool, as_of).await,
            ("600.00".to_owned(), PromiseStatus::Kept),
            "as of {as_of}"
        );
    }

    database.remove().await;
}

async fn a_payment_within_grace_keeps_the_promise(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    // Given 250.00 on 04-06 and the other 350.00 on 04-13, three days after the promised date:
    // the last day of grace.
    one_promise_paid(&[("250", "2026-04-06"), ("350", "2026-04-13")])
        .apply(&database)
        .await;
    let pool = &database.read;

    // When asked on 04-11 and 04-12 (past the promised date, inside grace), then open with
    // 250.00; on 04-13, then kept with 250.00 + 350.00 = 600.00, and kept after.
    for as_of in ["2026-04-11", "2026-04-12"] {
        assert_eq!(
            t1_promise(pool, as_of).await,
            ("250.00".to_owned(), PromiseStatus::Open),
            "as of {as_of}"
        );
    }
    for as_of in ["2026-04-13", "2026-04-14"] {
        assert_eq!(
            t1_promise(pool, as_of).await,
            ("600.00".to_owned(), PromiseStatus::Kept),
            "as of {as_of}"
        );
    }

    database.remove().await;
}

async fn a_window_closed_with_part_paid_is_partially_kept(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    // Given 250.00 on 04-06, and 350.00 on 04-14: the day after the window's last day.
    one_promise_paid(&[("250", "2026-04-06"), ("350", "2026-04-14")])
        .apply(&database)
        .await;
    let pool = &database.read;

    // When asked on 04-13, then open with 250.00; on 04-14, the window closed with 250.00 of
    // 600.00 in it (the 350.00 is too late): partially kept, and it stays so.
    assert_eq!(
        t1_promise(pool, "2026-04-13").await,
        ("250.00".to_owned(), PromiseStatus::Open)
    );
    for as_of in ["2026-04-14", "2026-05-31"] {
        assert_eq!(
            t1_promise(pool, as_of).await,
            ("250.00".to_owned(), PromiseStatus::PartiallyKept),
            "as of {as_of}"
        );
    }
    // The status filter finds it as partially kept only.
    let filtered = |status| async move {
        promises_of(
            pool,
            None,
            Some(status),
            date("2026-04-14"),
            PROMISE_GRACE_DAYS_DEFAULT,
        )
        .await
        .unwrap()
        .len()
    };
    assert_eq!(filtered(PromiseStatus::PartiallyKept).await, 1);
    assert_eq!(filtered(PromiseStatus::Broken).await, 0);
    assert_eq!(filtered(PromiseStatus::Open).await, 0);

    database.remove().await;
}

async fn a_window_closed_with_nothing_paid_is_broken(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    // Given 600.00 on 04-01, the day before the promise was made, and 600.00 on 04-14, the day
    // after its window: neither is in the window.
    one_promise_paid(&[("600", "2026-04-01"), ("600", "2026-04-14")])
        .apply(&database)
        .await;
    let pool = &database.read;

    // When asked on 04-13, then open with 0.00; on 04-14, then broken with 0.00.
    assert_eq!(
        t1_promise(pool, "2026-04-13").await,
        ("0.00".to_owned(), PromiseStatus::Open)
    );
    assert_eq!(
        t1_promise(pool, "2026-04-14").await,
        ("0.00".to_owned(), PromiseStatus::Broken)
    );

    database.remove().await;
}

async fn the_work_queue_weighs_a_partially_kept_promise_as_much_as_a_broken_one(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    // Given F1 owing 5000.00 CNY due 03-31, of which 500.00 paid on 04-08 and applied;
    // promise g1 of 2000.00 made 04-01 for 04-10 (window to 04-13), which the 500.00 pays part
    // of; promise g2 of 1000.00 made 05-01 for 05-15 (window to 05-18) by another collector,
    // never paid.
    let mut h = History::default();
    h.invoice(
        "F1",
        "SUB-1",
        "INV-F1",
        "5000",
        "CNY",
        "2026-03-01",
        "2026-03-31",
    );
    h.promise(
        "F1",
        "SUB-1",
        "91",
        "2000",
        "CNY",
        "2026-04-01",
        "2026-04-10",
        "Li Wei",
    );
    h.payment(
        "F1",
        "SUB-1",
        "500",
        "CNY",
        "2026-04-08",
        &[("SUB-1", "INV-F1", "500")],
        "0",
    );
    h.promise(
        "F1",
        "SUB-1",
        "92",
        "1000",
        "CNY",
        "2026-05-01",
        "2026-05-15",
        "Zhang Min",
    );
    // Li Wei recorded the first promise; F1's collector is Zhang Min.
    h.collector("F1", "Zhang Min");
    h.apply(&database).await;
    let pool = &database.read;
    let snoozed_too = |as_of: &str| {
        let mut query = WorkQueueQuery::new(date(as_of));
        query.include_snoozed = true;
        query
    };

    // When the queue is asked as of 06-30, then g1 is partially kept (500.00 of 2000.00 by
    // 04-13) and g2 broken (nothing by 05-18):
    assert_eq!(
        promise_rows(
            &promises_of(
                pool,
                Some(&customer("F1")),
                None,
                date("2026-06-30"),
                PROMISE_GRACE_DAYS_DEFAULT
            )
            .await
            .unwrap()
        ),
        vec![
            promise_row("F1", "91", "500.00", PromiseStatus::PartiallyKept),
            promise_row("F1", "92", "0.00", PromiseStatus::Broken),
        ]
    );
    // and both count: 5000 - 500 = 4500.00 overdue, 03-31 to 06-30 is 30 + 31 + 30 = 91 days,
    // 0.001 * 4500 + 1 * 91 + 25 * 2 = 4.5 + 91 + 50 = 145.5; the customer's collector.
    let page = work_queue(pool, &WorkQueueQuery::new(date("2026-06-30")))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(item).collect::<Vec<_>>(),
        ["F1/CNY 4500.00 91d 2f LegalOrAgency Zhang_Min score=145.5 snoozed=-"]
    );
    assert_eq!(
        page.items[0].rule,
        "0.001 * 4500.00 CNY overdue + 1 * 91 days past due \
         + 25 * 2 broken or partially kept promises = 145.5"
    );

    // Before: as of 04-09 g1 is open with 500.00 paid and its date (04-10) has not passed, so
    // it snoozes F1 until 04-11: 9 days, 4.5 + 9 = 13.5, left out unless snoozed items are
    // asked for. Its collector is today's assignment, whatever the date asked.
    assert_eq!(
        queue(pool, WorkQueueQuery::new(date("2026-04-09"))).await.0,
        Vec::<String>::new()
    );
    assert_eq!(
        queue(pool, snoozed_too("2026-04-09")).await.0,
        ["F1/CNY 4500.00 9d 0f Reminder Zhang_Min score=13.5 snoozed=2026-04-11"]
    );
    // As of 04-12 g1 is still open (grace to 04-13), past its date: no snooze and no weight,
    // 12 days, 4.5 + 12 = 16.5.
    assert_eq!(
        queue(pool, snoozed_too("2026-04-12")).await.0,
        ["F1/CNY 4500.00 12d 0f Reminder Zhang_Min score=16.5 snoozed=-"]
    );
    // As of 04-14 g1's window has closed short: partially kept, one failed promise (g2 is not
    // made yet): 14 days, 4.5 + 14 + 25 = 43.5.
    assert_eq!(
        queue(pool, snoozed_too("2026-04-14")).await.0,
        ["F1/CNY 4500.00 14d 1f Reminder Zhang_Min score=43.5 snoozed=-"]
    );

    database.remove().await;
}

// ---------------------------------------------------------------------------------------------
// Exposure
// ---------------------------------------------------------------------------------------------

/// Six customers: E1 within its limit, E2 over it (with unapplied cash), E3 without a limit in
/// two currencies, E4 with a zero limit, E5 with a utilisation that must be rounded, E6 with a
/// limit and nothing else.
fn exposure_history() -> History {
    use CreditGrade::{A, B, C, D};
    use CreditPolicy::{Block, Warn};
    let mut h = History::default();
    // E1's limit is raised from 8000.00 to 10000.00: the terms in force on the date count.
    h.limit("E1", "8000", "CNY", Block, C, "2026-01-01");
    h.limit("E1", "10000", "CNY", Warn, B, "2026-02-01");
    h.invoice(
        "E1",
        "SUB-1",
        "INV-E1-1",
        "6000",
        "CNY",
        "2026-05-01",
        "2026-05-31",
    );
    h.invoice(
        "E1",
        "SUB-1",
        "INV-E1-2",
        "3000",
        "CNY",
        "2026-06-01",
        "2026-07-01",
    );
    h.payment(
        "E1",
        "SUB-1",
        "1000",
        "CNY",
        "2026-06-10",
        &[("SUB-1", "INV-E1-1", "1000")],
        "0",
    );

    h.invoice(
        "E2",
        "SUB-1",
        "INV-E2-1",
        "4000",
        "CNY",
        "2026-04-01",
        "2026-05-01",
    );
    h.invoice(
        "E2",
        "SUB-2",
        "INV-E2-2",
        "2000",
        "CNY",
        "2026-06-01",
        "2026-07-01",
    );
    h.payment(
        "E2",
        "SUB-1",
        "700",
        "CNY",
        "2026-06-20",
        &[("SUB-1", "INV-E2-1", "500")],
        "200",
    );
    // E2's limit is cut to 5000.00 after the invoices.
    h.limit("E2", "5000", "CNY", Block, C, "2026-06-25");

    h.invoice(
        "E3",
        "SUB-1",
        "INV-E3-1",
        "1000",
        "CNY",
        "2026-06-01",
        "2026-06-15",
    );
    h.invoice(
        "E3",
        "SUB-2",
        "INV-E3-2",
        "200",
        "USD",
        "2026-06-10",
        "2026-07-10",
    );
    h.payment(
        "E3",
        "SUB-2",
        "250",
        "USD",
        "2026-06-25",
        &[("SUB-2", "INV-E3-2", "200")],
        "50",
    );

    h.limit("E4", "0", "CNY", Block, D, "2026-05-01");
    h.invoice(
        "E4",
        "SUB-1",
        "INV-E4-1",
        "100",
        "CNY",
        "2026-06-01",
        "2026-06-30",
    );

    h.limit("E5", "30000", "CNY", Warn, A, "2026-05-01");
    h.invoice(
        "E5",
        "SUB-3",
        "INV-E5-1",
        "20000",
        "CNY",
        "2026-06-01",
        "2026-07-31",
    );

    h.limit("E6", "20000", "CNY", Warn, A, "2026-05-01");
    h
}

/// A line as one line of text: customer, currency, limit, policy, grade, open, unapplied,
/// exposure, overdue, available, utilisation, over limit, oldest days past due, last payment.
fn describe(line: &ExposureLine) -> String {
    let amount = |m: &Money| m.amount().to_string();
    let or_dash = |text: Option<String>| text.unwrap_or_else(|| "-".to_owned());
    format!(
        "{} {} limit={} {} {} open={} unapplied={} exposure={} overdue={} available={} \
         util={} over={} dpd={} last={}",
        line.customer,
        line.currency,
        or_dash(line.limit.as_ref().map(amount)),
        or_dash(line.policy.map(|p| format!("{p:?}"))),
        or_dash(line.grade.map(|g| format!("{g:?}"))),
        amount(&line.open),
        amount(&line.unapplied),
        amount(&line.exposure),
        amount(&line.overdue),
        or_dash(line.available.as_ref().map(amount)),
        or_dash(line.utilisation.map(|u| u.to_string())),
        line.over_limit,
        or_dash(line.oldest_days_past_due.map(|d| d.to_string())),
        or_dash(line.last_payment_date.map(|d| d.to_string())),
    )
}

fn names(lines: &[ExposureLine]) -> Vec<String> {
    lines
        .iter()
        .map(|line| format!("{}/{}", line.customer, line.currency))
        .collect()
}

async fn exposure_lines_sorting_filters_and_pages_match_the_figures_worked_out_by_hand(
    engine: Engine,
) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    exposure_history().apply(&database).await;
    let pool = &database.read;
    let june_30 = date("2026-06-30");
    let one = |who: &'static str, as_of: NaiveDate| async move {
        exposure::exposure(pool, &customer(who), as_of)
            .await
            .unwrap()
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
    };

    // E1 as of 06-30: open 6000 - 1000 + 3000 = 8000.00; exposure 8000.00; overdue INV-E1-1
    // (due 05-31) 5000.00, 30 days; available 10000 - 8000 = 2000.00; 8000 / 10000 = 0.8000.
    assert_eq!(
        one("E1", june_30).await,
        vec![
            "E1 CNY limit=10000.00 Warn B open=8000.00 unapplied=0.00 exposure=8000.00 \
             overdue=5000.00 available=2000.00 util=0.8000 over=false dpd=30 last=2026-06-10"
        ]
    );
    // E1 as of 06-05, before its payment: open 6000 + 3000 = 9000.00; INV-E1-1 5 days overdue
    // with 6000.00; 1000.00 available; 0.9000; no payment yet.
    assert_eq!(
        one("E1", date("2026-06-05")).await,
        vec![
            "E1 CNY limit=10000.00 Warn B open=9000.00 unapplied=0.00 exposure=9000.00 \
             overdue=6000.00 available=1000.00 util=0.9000 over=false dpd=5 last=-"
        ]
    );
    // E1 as of 05-15: only INV-E1-1 issued, not yet due: 6000.00, 0.6000, nothing overdue.
    assert_eq!(
        one("E1", date("2026-05-15")).await,
        vec![
            "E1 CNY limit=10000.00 Warn B open=6000.00 unapplied=0.00 exposure=6000.00 \
             overdue=0.00 available=4000.00 util=0.6000 over=false dpd=- last=-"
        ]
    );
    // E2 as of 06-30: open 4000 - 500 + 2000 = 5500.00, unapplied 200.00, exposure 5300.00;
    // overdue INV-E2-1 3500.00 (due 05-01: 60 days); available 5000 - 5300 = -300.00;
    // 5300 / 5000 = 1.0600; over the limit.
    assert_eq!(
        one("E2", june_30).await,
        vec![
            "E2 CNY limit=5000.00 Block C open=5500.00 unapplied=200.00 exposure=5300.00 \
             overdue=3500.00 available=-300.00 util=1.0600 over=true dpd=60 last=2026-06-20"
        ]
    );
    // E3 has no limit: one line per currency. CNY: 1000.00 open, due 06-15 (15 days). USD:
    // INV-E3-2 fully paid, 50.00 unapplied, exposure -50.00. The last payment (06-25, USD) is
    // the customer's, on both lines.
    assert_eq!(
        one("E3", june_30).await,
        vec![
            "E3 CNY limit=- - - open=1000.00 unapplied=0.00 exposure=1000.00 overdue=1000.00 \
             available=- util=- over=false dpd=15 last=2026-06-25",
            "E3 USD limit=- - - open=0.00 unapplied=50.00 exposure=-50.00 overdue=0.00 \
             available=- util=- over=false dpd=- last=2026-06-25",
        ]
    );
    // E4: a zero limit: no utilisation, over the limit with 100.00 (due 06-30: not overdue on
    // 06-30 itself); available 0 - 100 = -100.00.
    assert_eq!(
        one("E4", june_30).await,
        vec![
            "E4 CNY limit=0.00 Block D open=100.00 unapplied=0.00 exposure=100.00 overdue=0.00 \
             available=-100.00 util=- over=true dpd=- last=-"
        ]
    );
    // E5: 20000 / 30000 = 0.66666... rounded to 0.6667.
    assert_eq!(
        one("E5", june_30).await,
        vec![
            "E5 CNY limit=30000.00 Warn A open=20000.00 unapplied=0.00 exposure=20000.00 \
             overdue=0.00 available=10000.00 util=0.6667 over=false dpd=- last=-"
        ]
    );
    // E6: a limit and nothing else: a line with zero exposure.
    assert_eq!(
        one("E6", june_30).await,
        vec![
            "E6 CNY limit=20000.00 Warn A open=0.00 unapplied=0.00 exposure=0.00 overdue=0.00 \
             available=20000.00 util=0.0000 over=false dpd=- last=-"
        ]
    );
    // A customer the read model does not know: no lines.
    assert_eq!(one("NOBODY", june_30).await, Vec::<String>::new());
    // E3 as of 05-31: nothing issued yet, no limit: no lines either.
    assert_eq!(one("E3", date("2026-05-31")).await, Vec::<String>::new());

    // By utilisation, pages of 4: E2 1.0600, E1 0.8000, E5 0.6667, E6 0.0000, then the lines
    // without a utilisation by customer and currency: E3/CNY, E3/USD, E4.
    let query = ExposureQuery::new(june_30, ExposureSort::Utilisation)
        .with_page_size(4)
        .unwrap();
    let first = exposure::list_exposures(pool, &query).await.unwrap();
    assert_eq!(
        names(&first.lines),
        ["E2/CNY", "E1/CNY", "E5/CNY", "E6/CNY"]
    );
    // Every line of the report equals the customer's own exposure line.
    assert_eq!(describe(&first.lines[0]), one("E2", june_30).await[0]);
    let token = first.next_page_token.expect("a second page");
    let second = exposure::list_exposures(
        pool,
        &ExposureQuery::new(june_30, ExposureSort::Utilisation)
            .with_page_size(4)
            .unwrap()
            .with_page_token(&token)
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(names(&second.lines), ["E3/CNY", "E3/USD", "E4/CNY"]);
    assert_eq!(second.next_page_token, None);

    // By exposure: 20000.00, 8000.00, 5300.00, 1000.00, 100.00, 0.00, -50.00.
    let by_exposure =
        exposure::list_exposures(pool, &ExposureQuery::new(june_30, ExposureSort::Exposure))
            .await
            .unwrap();
    assert_eq!(
        names(&by_exposure.lines),
        [
            "E5/CNY", "E1/CNY", "E2/CNY", "E3/CNY", "E4/CNY", "E6/CNY", "E3/USD"
        ]
    );
    assert_eq!(by_exposure.next_page_token, None);
    // Pages of 3 by exposure: the token carries the sort, the pages join up.
    let mut seen = Vec::new();
    let mut query = ExposureQuery::new(june_30, ExposureSort::Exposure)
        .with_page_size(3)
        .unwrap();
    loop {
        let page = exposure::list_exposures(pool, &query).await.unwrap();
        seen.extend(names(&page.lines));
        let Some(token) = page.next_page_token else {
            break;
        };
        query = query.with_page_token(&token).unwrap();
    }
    assert_eq!(seen, names(&by_exposure.lines));

    // The breaches: E2 (5300.00 > 5000.00) and E4 (100.00 > 0.00).
    let mut breaches = ExposureQuery::new(june_30, ExposureSort::Utilisation);
    breaches.only_over_limit = true;
    let page = exposure::list_exposures(pool, &breaches).await.unwrap();
    assert_eq!(names(&page.lines), ["E2/CNY", "E4/CNY"]);
    // At least 0.8: E2 and E1 (0.8000 itself included).
    let mut high = ExposureQuery::new(june_30, ExposureSort::Utilisation);
    high.min_utilisation = Some("0.8".parse().unwrap());
    let page = exposure::list_exposures(pool, &high).await.unwrap();
    assert_eq!(names(&page.lines), ["E2/CNY", "E1/CNY"]);
    // One currency: only E3's USD line.
    let mut usd = ExposureQuery::new(june_30, ExposureSort::Exposure);
    usd.currency = Some(Currency::parse("USD").unwrap());
    let page = exposure::list_exposures(pool, &usd).await.unwrap();
    assert_eq!(names(&page.lines), ["E3/USD"]);
    // As of 06-05 (before E2's payment and E3's USD items): E1 0.9000; E5 0.6667; E6 0.0000;
    // then without a utilisation E2 (its only limit takes effect on 06-25: none in force on
    // 06-05), E3 (its CNY invoice of 06-01 only) and E4.
    let early = exposure::list_exposures(
        pool,
        &ExposureQuery::new(date("2026-06-05"), ExposureSort::Utilisation),
    )
    .await
    .unwrap();
    assert_eq!(
        early
            .lines
            .iter()
            .map(|l| format!(
                "{} {}",
                l.customer,
                l.utilisation.map_or("-".to_owned(), |u| u.to_string())
            ))
            .collect::<Vec<_>>(),
        [
            "E1 0.9000",
            "E5 0.6667",
            "E6 0.0000",
            "E2 -",
            "E3 -",
            "E4 -"
        ]
    );
    // The terms in force on a date: E1's first limit (8000.00, BLOCK, C, from 01-01) on 01-15,
    // its second (10000.00, WARN, B, from 02-01) from 02-01 on; nothing owed yet on either.
    for (as_of, limit, policy, grade) in [
        ("2026-01-15", "8000.00", CreditPolicy::Block, CreditGrade::C),
        ("2026-02-01", "10000.00", CreditPolicy::Warn, CreditGrade::B),
    ] {
        let lines = exposure::exposure(pool, &customer("E1"), date(as_of))
            .await
            .unwrap();
        assert_eq!(lines.len(), 1, "{as_of}");
        assert_eq!(
            lines[0].limit.map(|l| l.amount().to_string()),
            Some(limit.to_owned())
        );
        assert_eq!(
            (lines[0].policy, lines[0].grade),
            (Some(policy), Some(grade))
        );
        assert_eq!(lines[0].exposure.amount().to_string(), "0.00", "{as_of}");
    }

    // Bad page sizes and tokens are refused before any query runs.
    let fresh = || ExposureQuery::new(june_30, ExposureSort::Utilisation);
    assert_eq!(
        fresh().with_page_size(0).unwrap_err(),
        PageRequestError::PageSize(0)
    );
    assert_eq!(
        fresh().with_page_size(PAGE_SIZE_MAX + 1).unwrap_err(),
        PageRequestError::PageSize(1001)
    );
    assert_eq!(
        fresh().with_page_size(PAGE_SIZE_MAX).unwrap().page_size(),
        1000
    );
    assert!(matches!(
        fresh().with_page_token("not-a-token"),
        Err(PageRequestError::MalformedToken(_))
    ));
    assert!(matches!(
        fresh().with_page_token(""),
        Err(PageRequestError::MalformedToken(_))
    ));
    assert!(matches!(
        fresh().with_page_token(&"ab".repeat(1000)),
        Err(PageRequestError::MalformedToken(_))
    ));
    // A token of the utilisation order is refused by the exposure order and by another date.
    assert!(matches!(
        ExposureQuery::new(june_30, ExposureSort::Exposure).with_page_token(&token),
        Err(PageRequestError::ForeignToken(_))
    ));
    assert!(matches!(
        ExposureQuery::new(date("2026-06-29"), ExposureSort::Utilisation).with_page_token(&token),
        Err(PageRequestError::ForeignToken(_))
    ));
    // ... and by the work queue.
    assert!(matches!(
        WorkQueueQuery::new(june_30).with_page_token(&token),
        Err(PageRequestError::ForeignToken(_))
    ));

    database.remove().await;
}

// ---------------------------------------------------------------------------------------------
// Work queue
// ---------------------------------------------------------------------------------------------

/// Customers W1..W8, all in CNY but W6 (CNY and USD).
fn work_queue_history() -> History {
    let mut h = History::default();
    // W1: 10000.00 due 05-31; a promise of 2000.00 for 06-05 (window to 06-08), never paid.
    h.invoice(
        "W1",
        "SUB-1",
        "INV-W1",
        "10000",
        "CNY",
        "2026-05-01",
        "2026-05-31",
    );
    h.promise(
        "W1",
        "SUB-1",
        "11",
        "2000",
        "CNY",
        "2026-06-01",
        "2026-06-05",
        "Li Wei",
    );
    // W2: 50000.00 due 04-30, 20000.00 paid on 06-10; no promise, so no collector.
    h.invoice(
        "W2",
        "SUB-2",
        "INV-W2",
        "50000",
        "CNY",
        "2026-04-01",
        "2026-04-30",
    );
    h.payment(
        "W2",
        "SUB-2",
        "20000",
        "CNY",
        "2026-06-10",
        &[("SUB-2", "INV-W2", "20000")],
        "0",
    );
    // W3: 1000.00 due 06-15; promised 500.00 for 07-05, nothing paid yet: snoozed.
    h.invoice(
        "W3",
        "SUB-1",
        "INV-W3",
        "1000",
        "CNY",
        "2026-06-01",
        "2026-06-15",
    );
    h.promise(
        "W3",
        "SUB-1",
        "31",
        "500",
        "CNY",
        "2026-06-20",
        "2026-07-05",
        "Zhang Min",
    );
    // W4: 3000.00 due 03-31; promise A (1000.00 for 04-10, window to 04-13) got only 300.00 on
    // 04-12: partially kept; promise B (1000.00 for 05-10, made 05-01 by another collector) got
    // nothing: broken. Two failed promises.
    h.invoice(
        "W4",
        "SUB-1",
        "INV-W4",
        "3000",
        "CNY",
        "2026-03-01",
        "2026-03-31",
    );
    h.promise(
        "W4",
        "SUB-1",
        "41",
        "1000",
        "CNY",
        "2026-04-05",
        "2026-04-10",
        "Li Wei",
    );
    h.payment(
        "W4",
        "SUB-1",
        "300",
        "CNY",
        "2026-04-12",
        &[("SUB-1", "INV-W4", "300")],
        "0",
    );
    h.promise(
        "W4",
        "SUB-1",
        "42",
        "1000",
        "CNY",
        "2026-05-01",
        "2026-05-10",
        "Zhang Min",
    );
    // W5: 2000.00 due 06-30: not overdue on 06-30.
    h.invoice(
        "W5",
        "SUB-3",
        "INV-W5",
        "2000",
        "CNY",
        "2026-06-01",
        "2026-06-30",
    );
    // W6: 500.00 CNY due 06-14 and 100.00 USD due 05-30: two items.
    h.invoice(
        "W6",
        "SUB-1",
        "INV-W6-CNY",
        "500",
        "CNY",
        "2026-06-01",
        "2026-06-14",
    );
    h.invoice(
        "W6",
        "SUB-2",
        "INV-W6-USD",
        "100",
        "USD",
        "2026-05-01",
        "2026-05-30",
    );
    // W7: 4000.00 due 05-15; promise of 1000.00 for 06-10 kept by 1000.00 on 06-09.
    h.invoice(
        "W7",
        "SUB-1",
        "INV-W7",
        "4000",
        "CNY",
        "2026-04-15",
        "2026-05-15",
    );
    h.promise(
        "W7",
        "SUB-1",
        "71",
        "1000",
        "CNY",
        "2026-06-01",
        "2026-06-10",
        "Li Wei",
    );
    h.payment(
        "W7",
        "SUB-1",
        "1000",
        "CNY",
        "2026-06-09",
        &[("SUB-1", "INV-W7", "1000")],
        "0",
    );
    // Collectors: W1's own is Li Wei, W3's and W4's Zhang Min; SUB-1's default is Li Wei (W7,
    // and W6's CNY item, owed to SUB-1); SUB-2 and SUB-3 have none (W2, W6's USD item).
    h.collector("W1", "Li Wei");
    h.collector("W3", "Zhang Min");
    h.collector("W4", "Zhang Min");
    h.default_collector("SUB-1", "Li Wei");
    // W8: 700.00 due 04-30, paid in full on 05-05: nothing overdue.
    h.invoice(
        "W8",
        "SUB-1",
        "INV-W8",
        "700",
        "CNY",
        "2026-04-01",
        "2026-04-30",
    );
    h.payment(
        "W8",
        "SUB-1",
        "700",
        "CNY",
        "2026-05-05",
        &[("SUB-1", "INV-W8", "700")],
        "0",
    );
    h
}

/// An item as text: customer/currency, overdue, days, failed (broken or partially kept)
/// promises, level, collector, score, snoozed until.
fn item(item: &WorkItem) -> String {
    format!(
        "{}/{} {} {}d {}f {:?} {} score={} snoozed={}",
        item.customer,
        item.currency,
        item.overdue.amount(),
        item.days_past_due,
        item.failed_promises,
        item.escalation,
        item.collector
            .as_ref()
            .map_or("-".to_owned(), |c| c.as_str().replace(' ', "_")),
        item.score,
        item.snoozed_until.map_or("-".to_owned(), |d| d.to_string()),
    )
}

async fn queue(
    pool: &receivables_projections::ReadPool,
    query: WorkQueueQuery,
) -> (Vec<String>, Option<String>) {
    let page = work_queue(pool, &query).await.unwrap();
    (page.items.iter().map(item).collect(), page.next_page_token)
}

async fn the_work_queue_orders_scores_snoozes_and_filters_as_worked_out_by_hand(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    work_queue_history().apply(&database).await;
    let pool = &database.read;
    let june_30 = date("2026-06-30");

    // As of 06-30, default weights (0.001 per unit, 1 per day, 25 per failed promise):
    //   W4: 3000 - 300 = 2700.00, due 03-31: 91 days, 1 partially kept and 1 broken:
    //       2.7 + 91 + 50 = 143.7; its own collector Zhang Min.
    //   W2: 50000 - 20000 = 30000.00, due 04-30: 61 days: 30 + 61 = 91.
    //   W1: 10000.00, due 05-31: 30 days, 1 broken (window ended 06-08): 10 + 30 + 25 = 65.
    //   W7: 4000 - 1000 = 3000.00, due 05-15: 46 days, promise kept: 3 + 46 = 49.
    //   W6 USD: 100.00, due 05-30: 31 days: 0.1 + 31 = 31.1.
    //   W6 CNY: 500.00, due 06-14: 16 days: 0.5 + 16 = 16.5.
    //   W3 (1000.00, 15 days: 1 + 15 = 16) is snoozed by its promise for 07-05 until 07-06;
    //   W5 is due today and W8 is paid: not in the queue.
    let w4 = "W4/CNY 2700.00 91d 2f LegalOrAgency Zhang_Min score=143.7 snoozed=-";
    let w2 = "W2/CNY 30000.00 61d 0f StopSupply - score=91 snoozed=-";
    let w1 = "W1/CNY 10000.00 30d 1f Call Li_Wei score=65 snoozed=-";
    let w7 = "W7/CNY 3000.00 46d 0f DemandLetter Li_Wei score=49 snoozed=-";
    let w6_usd = "W6/USD 100.00 31d 0f DemandLetter - score=31.1 snoozed=-";
    let w6_cny = "W6/CNY 500.00 16d 0f Call Li_Wei score=16.5 snoozed=-";
    let w3 = "W3/CNY 1000.00 15d 0f Reminder Zhang_Min score=16 snoozed=2026-07-06";
    let (items, next) = queue(pool, WorkQueueQuery::new(june_30)).await;
    assert_eq!(items, [w4, w2, w1, w7, w6_usd, w6_cny]);
    assert_eq!(next, None);

    // The rule shows the computation.
    let page = work_queue(pool, &WorkQueueQuery::new(june_30))
        .await
        .unwrap();
    assert_eq!(
        page.items[0].rule,
        "0.001 * 2700.00 CNY overdue + 1 * 91 days past due \
         + 25 * 2 broken or partially kept promises = 143.7"
    );
    assert_eq!(page.items[0].oldest_due_date, date("2026-03-31"));
    assert_eq!(
        page.items[0].escalation.next_action(),
        "hand over to legal or a collection agency"
    );

    // Two pages of 4.
    let (first, token) = queue(
        pool,
        WorkQueueQuery::new(june_30).with_page_size(4).unwrap(),
    )
    .await;
    assert_eq!(first, [w4, w2, w1, w7]);
    let token = token.expect("a second page");
    let (second, next) = queue(
        pool,
        WorkQueueQuery::new(june_30)
            .with_page_size(4)
            .unwrap()
            .with_page_token(&token)
            .unwrap(),
    )
    .await;
    assert_eq!(second, [w6_usd, w6_cny]);
    assert_eq!(next, None);

    // Snoozed customers on request: W3 (16) after W6 CNY (16.5).
    let mut with_snoozed = WorkQueueQuery::new(june_30);
    with_snoozed.include_snoozed = true;
    let (items, _) = queue(pool, with_snoozed.clone()).await;
    assert_eq!(items, [w4, w2, w1, w7, w6_usd, w6_cny, w3]);

    // By collector: Li Wei has W1 (its own), W7 and W6's CNY item (SUB-1's default); Zhang Min
    // has W4, and W3 when snoozed customers are listed.
    let mut li_wei = WorkQueueQuery::new(june_30);
    li_wei.collector = Some(PersonName::parse("Li Wei").unwrap());
    assert_eq!(queue(pool, li_wei).await.0, [w1, w7, w6_cny]);
    // The default's subsidiary is named; a customer's own collector names none.
    let page = work_queue(pool, &WorkQueueQuery::new(june_30))
        .await
        .unwrap();
    let defaults: Vec<String> = page
        .items
        .iter()
        .map(|i| {
            let of = i.collector_default_of.as_ref().map_or("-", |s| s.as_str());
            format!("{}/{} {of}", i.customer, i.currency)
        })
        .collect();
    assert_eq!(
        defaults,
        [
            "W4/CNY -",
            "W2/CNY -",
            "W1/CNY -",
            "W7/CNY SUB-1",
            "W6/USD -",
            "W6/CNY SUB-1"
        ]
    );
    let mut zhang_min = WorkQueueQuery::new(june_30);
    zhang_min.collector = Some(PersonName::parse("Zhang Min").unwrap());
    assert_eq!(queue(pool, zhang_min.clone()).await.0, [w4]);
    zhang_min.include_snoozed = true;
    assert_eq!(queue(pool, zhang_min).await.0, [w4, w3]);
    let mut nobody = WorkQueueQuery::new(june_30);
    nobody.collector = Some(PersonName::parse("Nobody").unwrap());
    assert_eq!(queue(pool, nobody).await.0, Vec::<String>::new());

    // Other weights (0.01 per unit, 2 per day, 100 per failed promise) reorder the queue:
    //   W2: 300 + 122 = 422; W4: 27 + 182 + 200 = 409; W1: 100 + 60 + 100 = 260;
    //   W7: 30 + 92 = 122; W6 USD: 1 + 62 = 63; W6 CNY: 5 + 32 = 37.
    let heavy = WorkQueueWeights {
        amount: "0.01".parse().unwrap(),
        days: "2".parse().unwrap(),
        failed_promise: "100".parse().unwrap(),
        since_contact: "0".parse().unwrap(),
    };
    let page = work_queue(
        pool,
        &WorkQueueQuery::new(june_30).with_weights(heavy).unwrap(),
    )
    .await
    .unwrap();
    let scores: Vec<String> = page
        .items
        .iter()
        .map(|i| format!("{}/{} {}", i.customer, i.currency, i.score))
        .collect();
    assert_eq!(
        scores,
        [
            "W2/CNY 422",
            "W4/CNY 409",
            "W1/CNY 260",
            "W7/CNY 122",
            "W6/USD 63",
            "W6/CNY 37"
        ]
    );
    assert_eq!(
        page.items[0].rule,
        "0.01 * 30000.00 CNY overdue + 2 * 61 days past due \
         + 100 * 0 broken or partially kept promises = 422"
    );

    // The snooze ends the day after the promised date. On 07-05 W3 is still snoozed.
    let w3_of = |items: Vec<String>| -> Vec<String> {
        items.into_iter().filter(|i| i.starts_with("W3/")).collect()
    };
    assert_eq!(
        w3_of(queue(pool, WorkQueueQuery::new(date("2026-07-05"))).await.0),
        Vec::<String>::new()
    );
    // On 07-06 it is back: 06-15 to 07-06 is 21 days (Call); the promise is still open (its
    // window runs to 07-08), so not broken: 1 + 21 = 22.
    assert_eq!(
        w3_of(queue(pool, WorkQueueQuery::new(date("2026-07-06"))).await.0),
        ["W3/CNY 1000.00 21d 0f Call Zhang_Min score=22 snoozed=-"]
    );
    // On 07-09 the promise is broken (nothing paid by 07-08): 24 days, 1 + 24 + 25 = 50.
    assert_eq!(
        w3_of(queue(pool, WorkQueueQuery::new(date("2026-07-09"))).await.0),
        ["W3/CNY 1000.00 24d 1f Call Zhang_Min score=50 snoozed=-"]
    );

    // Bad requests: page sizes, tokens from elsewhere, negative weights.
    assert_eq!(
        WorkQueueQuery::new(june_30).with_page_size(0).unwrap_err(),
        PageRequestError::PageSize(0)
    );
    assert_eq!(
        WorkQueueQuery::new(june_30)
            .with_page_size(PAGE_SIZE_MAX + 1)
            .unwrap_err(),
        PageRequestError::PageSize(1001)
    );
    assert!(matches!(
        WorkQueueQuery::new(june_30).with_page_token("zzzz"),
        Err(PageRequestError::MalformedToken(_))
    ));
    assert!(matches!(
        WorkQueueQuery::new(date("2026-07-01")).with_page_token(&token),
        Err(PageRequestError::ForeignToken(_))
    ));
    assert!(matches!(
        ExposureQuery::new(june_30, ExposureSort::Exposure).with_page_token(&token),
        Err(PageRequestError::ForeignToken(_))
    ));
    let negative = WorkQueueWeights {
        days: "-1".parse().unwrap(),
        ..WorkQueueWeights::default()
    };
    let refused = WorkQueueQuery::new(june_30)
        .with_weights(negative)
        .unwrap_err();
    assert_eq!(refused.name, "days");

    database.remove().await;
}

async fn escalation_levels_change_at_15_16_30_31_60_61_90_91_days(engine: Engine) {
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    let mut h = History::default();
    h.invoice(
        "X",
        "SUB-1",
        "INV-X",
        "100",
        "CNY",
        "2026-01-01",
        "2026-01-31",
    );
    h.apply(&database).await;
    let pool = &database.read;

    // Due 01-31 (2026 is not a leap year: February has 28 days). Score 0.001 * 100 + days.
    let cases = [
        ("2026-02-15", "15d 0f Reminder - score=15.1"),
        ("2026-02-16", "16d 0f Call - score=16.1"),
        ("2026-03-02", "30d 0f Call - score=30.1"),
        ("2026-03-03", "31d 0f DemandLetter - score=31.1"),
        ("2026-04-01", "60d 0f DemandLetter - score=60.1"),
        ("2026-04-02", "61d 0f StopSupply - score=61.1"),
        ("2026-05-01", "90d 0f StopSupply - score=90.1"),
        ("2026-05-02", "91d 0f LegalOrAgency - score=91.1"),
    ];
    for (as_of, expected) in cases {
        let (items, _) = queue(pool, WorkQueueQuery::new(date(as_of))).await;
        assert_eq!(
            items,
            [format!("X/CNY 100.00 {expected} snoozed=-")],
            "as of {as_of}"
        );
    }
    // On the due date and before it, nothing is overdue.
    for as_of in ["2026-01-31", "2026-01-15"] {
        let (items, _) = queue(pool, WorkQueueQuery::new(date(as_of))).await;
        assert_eq!(items, Vec::<String>::new(), "as of {as_of}");
    }
    // The level type agrees.
    let page = work_queue(pool, &WorkQueueQuery::new(date("2026-05-02")))
        .await
        .unwrap();
    assert_eq!(page.items[0].escalation, EscalationLevel::LegalOrAgency);

    database.remove().await;
}

on_both_engines!(
    promise_statuses_follow_the_payments_in_their_window,
    promises_are_listed_across_customers_by_filter_and_page,
    a_partial_payment_inside_the_window_leaves_the_promise_open,
    a_promise_paid_in_full_before_its_date_is_kept,
    a_payment_within_grace_keeps_the_promise,
    a_window_closed_with_part_paid_is_partially_kept,
    a_window_closed_with_nothing_paid_is_broken,
    the_work_queue_weighs_a_partially_kept_promise_as_much_as_a_broken_one,
    exposure_lines_sorting_filters_and_pages_match_the_figures_worked_out_by_hand,
    the_work_queue_orders_scores_snoozes_and_filters_as_worked_out_by_hand,
    escalation_levels_change_at_15_16_30_31_60_61_90_91_days,
);
