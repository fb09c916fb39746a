//! Unit tests of the generator: the data set replayed through the domain's aggregate as the
//! service would decide it, and the properties a demo needs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use chrono::NaiveDate;
use receivables_api::commands::Addressed;
use receivables_api::pb;
use receivables_domain::access::{Action, Role};
use receivables_domain::account::state::{DisputeOutcome, UnappliedSource};
use receivables_domain::event::{AllocationRule, Event, EventEnvelope};
use receivables_domain::ids::PromiseId;
use receivables_domain::{
    CustomerAccount, Decision, DecisionContext, EventId, Position, Principal, RecordedEvent,
    Refusal, SubsidiaryId,
};
use rust_decimal::Decimal;

use crate::commands::GROUP_ACCOUNT;
use crate::dates::add_days;
use crate::generate::{command_id, generate_with_accounts};
use crate::group::SUBSIDIARIES;
use crate::group::{CNY, HKD, USD};
use crate::load::by_customer;
use crate::simulation::PROMISE_GRACE_DAYS;
use crate::{
    CommandKind, CurrencyTotals, DemoCommand, DemoSize, KindCounts, LoadSummary,
    REASON_CREDIT_LIMIT_EXCEEDED, generate, window_start,
};

/// Seeds the properties of the small data set are checked for.
const SEEDS_CHECKED: u64 = 64;

/// A Wednesday.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 18).unwrap()
}

fn addressed(command: &DemoCommand) -> Addressed {
    command
        .addressed()
        .unwrap_or_else(|refusal| panic!("the API refuses {command:?}: {refusal}"))
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// The data set decided by the domain's own aggregate, as the service would.
#[derive(Default)]
struct Replay {
    accounts: BTreeMap<String, CustomerAccount>,
    refusals: Vec<(DemoCommand, Refusal)>,
    /// Commands the role that posts them could not post on a service with tokens.
    denied: Vec<(DemoCommand, String)>,
    payments: Vec<(String, String, NaiveDate, Decimal)>,
    explicit_payments: usize,
    oldest_due_first_payments: usize,
    on_account_payments: usize,
    payments_with_unapplied: usize,
    over_limit_accepted: usize,
    /// Accepted events of the rarer kinds.
    turns: Turns,
    /// The customers each kind of turn happened to.
    customers: BTreeMap<&'static str, BTreeSet<String>>,
}

/// How often each of the rarer kinds of event was accepted.
#[derive(Debug, Default, Clone, Copy)]
struct Turns {
    returns_credited: usize,
    credited_on_account: usize,
    write_offs: usize,
    reversals: usize,
    cash_applied: usize,
    credit_applied: usize,
    cash_refunded: usize,
    credit_refunded: usize,
    disputes: usize,
    withdrawn: usize,
    upheld: usize,
}

impl Turns {
    /// Each kind by name, for the assertions.
    fn named(&self) -> [(&'static str, usize); 11] {
        [
            ("credit notes against invoices", self.returns_credited),
            ("credit notes on account", self.credited_on_account),
            ("write-offs", self.write_offs),
            ("reversals", self.reversals),
            ("applications of cash", self.cash_applied),
            ("applications of credit", self.credit_applied),
            ("refunds of cash", self.cash_refunded),
            ("refunds of credit", self.credit_refunded),
            ("disputes", self.disputes),
            ("disputes withdrawn", self.withdrawn),
            ("disputes upheld", self.upheld),
        ]
    }
}

/// What the service would check of `role` for `command` before reading it, and for the event
/// decided (money moved against another subsidiary's documents), as `authorization.rs` and
/// `execution.rs` do.
fn permitted(command: &DemoCommand, role: &Role, envelope: &EventEnvelope) -> Result<(), String> {
    let parse = |id: &str| SubsidiaryId::parse(id).unwrap();
    let invoice =
        |invoice: &Option<pb::InvoiceRef>| parse(&invoice.as_ref().unwrap().subsidiary_id);
    let post = |subsidiary: SubsidiaryId| {
        role.permits(&Action::Post {
            subsidiary: &subsidiary,
        })
    };
    let settle = |subsidiary: SubsidiaryId| {
        role.permits(&Action::Settle {
            subsidiary: &subsidiary,
            touches: &[],
            on_behalf_of: &[],
        })
    };
    let before = match command {
        DemoCommand::ChangeCreditLimit(_) => role.permits(&Action::ChangeCreditLimit),
        DemoCommand::WriteOffInvoice(_) => role.permits(&Action::WriteOff),
        DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
            post(parse(&r.subsidiary_id))
        }
        DemoCommand::RecordPromiseToPay(r) => post(parse(&r.subsidiary_id)),
        DemoCommand::OpenDispute(r) => post(invoice(&r.invoice)),
        DemoCommand::ResolveDispute(r) => post(invoice(&r.invoice)),
        DemoCommand::RecordPayment(r) => settle(parse(&r.subsidiary_id)),
        DemoCommand::IssueCreditNote(r) => settle(parse(&r.subsidiary_id)),
        DemoCommand::ReversePayment(r) => settle(parse(&r.subsidiary_id)),
        DemoCommand::ApplyUnappliedCash(r) => settle(parse(&r.subsidiary_id)),
        DemoCommand::IssueRefund(r) => settle(parse(&r.subsidiary_id)),
        DemoCommand::RegisterCustomer(_) | DemoCommand::AssignCollector(_) => {
            role.permits(&Action::MaintainCustomers)
        }
        DemoCommand::PublishExchangeRates(_) => role.permits(&Action::PublishRates),
    };
    before.map_err(|denial| denial.reason)?;
    let touches = envelope.event.rules().touches();
    match envelope.subsidiary_id.as_ref() {
        Some(subsidiary) if touches.iter().any(|touched| *touched != subsidiary) => role
            .permits(&Action::Settle {
                subsidiary,
                touches: &touches,
                on_behalf_of: &[],
            })
            .map_err(|denial| denial.reason),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Open,
    PartiallyKept,
    Kept,
    Broken,
}

impl Replay {
    fn of(commands: &[DemoCommand], today: NaiveDate) -> Replay {
        let mut replay = Replay::default();
        let recorded_at = today.and_hms_opt(12, 0, 0).unwrap().and_utc();
        let mut position = 0;
        for command in commands {
            let addressed = addressed(command);
            let account = replay
                .accounts
                .entry(command.customer_id().to_owned())
                .or_insert_with(|| CustomerAccount::new(addressed.customer_id.clone()));
            let context = DecisionContext {
                event_id: EventId::from_uuid(uuid::Uuid::new_v4()).unwrap(),
                recorded_at,
                principal: Principal::anonymous(),
                rates: std::sync::Arc::default(),
                payment_terms: std::sync::Arc::default(),
            };
            match account.decide(&addressed.command, &context) {
                Ok(Decision::Append(mut envelope)) => {
                    receivables_domain::chain::seal(&mut envelope).unwrap();
                    position += 1;
                    let role = command.role().expect("every command has its poster");
                    if let Err(reason) = permitted(command, &role, &envelope) {
                        replay.denied.push((command.clone(), reason));
                    }
                    let customer = command.customer_id().to_owned();
                    let mut turn = |kind: &'static str| {
                        replay
                            .customers
                            .entry(kind)
                            .or_default()
                            .insert(customer.clone());
                    };
                    let turns = &mut replay.turns;
                    match &envelope.event {
                        Event::CreditNoteIssued(e) if e.invoice.is_some() => {
                            turns.returns_credited += 1;
                            turn("credit note");
                        }
                        Event::CreditNoteIssued(_) => {
                            turns.credited_on_account += 1;
                            turn("credit note");
                        }
                        Event::InvoiceWrittenOff(_) => {
                            turns.write_offs += 1;
                            turn("write-off");
                        }
                        Event::PaymentReversed(_) => {
                            turns.reversals += 1;
                            turn("reversal");
                        }
                        Event::UnappliedCashApplied(e) => {
                            match e.source {
                                UnappliedSource::Cash => turns.cash_applied += 1,
                                UnappliedSource::Credit => turns.credit_applied += 1,
                            }
                            turn("application");
                        }
                        Event::RefundIssued(e) => {
                            match e.source {
                                UnappliedSource::Cash => turns.cash_refunded += 1,
                                UnappliedSource::Credit => turns.credit_refunded += 1,
                            }
                            turn("refund");
                        }
                        Event::DisputeOpened(_) => {
                            turns.disputes += 1;
                            turn("dispute");
                        }
                        Event::DisputeResolved(e) => match e.outcome {
                            DisputeOutcome::Withdrawn => turns.withdrawn += 1,
                            DisputeOutcome::Upheld => turns.upheld += 1,
                        },
                        _ => {}
                    }
                    match &envelope.event {
                        Event::PaymentReceived(e) => {
                            replay.payments.push((
                                command.customer_id().to_owned(),
                                e.amount.currency().code().to_owned(),
                                e.received_date,
                                e.amount.amount(),
                            ));
                            match e.allocation_rule {
                                AllocationRule::Explicit => replay.explicit_payments += 1,
                                AllocationRule::OldestDueFirst => {
                                    replay.oldest_due_first_payments += 1
                                }
                                AllocationRule::OnAccount => replay.on_account_payments += 1,
                            }
                            if e.unapplied.amount() > Decimal::ZERO {
                                replay.payments_with_unapplied += 1;
                            }
                        }
                        Event::InvoiceIssued(e) if e.over_limit => replay.over_limit_accepted += 1,
                        _ => {}
                    }
                    let recorded = RecordedEvent {
                        position: Position::new(position),
                        envelope,
                    };
                    account.apply(&recorded).unwrap();
                }
                Ok(Decision::AlreadyAccepted(_)) => panic!("{command:?} was accepted twice"),
                Err(refusal) => replay.refusals.push((command.clone(), refusal)),
            }
        }
        replay
    }

    /// Every promise's status as of `today`, by the read side's rule: kept once the payments in
    /// the window reach the amount; open while the window is; then partially kept or broken.
    fn promise_statuses(&self, today: NaiveDate) -> Vec<(PromiseId, Status)> {
        let mut statuses = Vec::new();
        for (customer, account) in &self.accounts {
            for promise in account.promises() {
                let end = add_days(promise.promised_date, PROMISE_GRACE_DAYS);
                let paid: Decimal = self
                    .payments
                    .iter()
                    .filter(|(c, currency, day, _)| {
                        c == customer
                            && currency == promise.amount.currency().code()
                            && *day >= promise.made_on
                            && *day <= end.min(today)
                    })
                    .map(|(_, _, _, amount)| *amount)
                    .sum();
                let status = if paid >= promise.amount.amount() {
                    Status::Kept
                } else if today <= end {
                    Status::Open
                } else if paid > Decimal::ZERO {
                    Status::PartiallyKept
                } else {
                    Status::Broken
                };
                statuses.push((promise.promise_id, status));
            }
        }
        statuses
    }

    /// Disputes that expired by `today` without being resolved.
    fn expired_disputes(&self, today: NaiveDate) -> usize {
        self.accounts
            .values()
            .flat_map(|account| account.invoices())
            .flat_map(|invoice| &invoice.disputes)
            .filter(|d| d.resolved.is_none() && d.expires_on.is_some_and(|last| last < today))
            .count()
    }

    /// Open invoices per aging bucket as of `today` (current, 1-30, 31-60, 61-90, 91-120,
    /// over 120 days past due).
    fn aging(&self, today: NaiveDate) -> [usize; 6] {
        let mut buckets = [0; 6];
        for account in self.accounts.values() {
            for invoice in account.open_invoices() {
                let days = (today - invoice.due_date).num_days();
                let bucket = match days {
                    ..=0 => 0,
                    1..=30 => 1,
                    31..=60 => 2,
                    61..=90 => 3,
                    91..=120 => 4,
                    _ => 5,
                };
                buckets[bucket] += 1;
            }
        }
        buckets
    }
}

fn planted(commands: &[DemoCommand]) -> usize {
    commands
        .iter()
        .filter(|c| c.is_planted_over_limit())
        .count()
}

#[test]
fn the_same_seed_gives_the_same_commands() {
    assert_eq!(
        generate(42, &DemoSize::SMALL, today()),
        generate(42, &DemoSize::SMALL, today())
    );
    assert_eq!(
        generate(7, &DemoSize::FULL, today()),
        generate(7, &DemoSize::FULL, today())
    );
}

#[test]
fn different_seeds_give_different_commands() {
    let first = generate(1, &DemoSize::SMALL, today());
    let second = generate(2, &DemoSize::SMALL, today());
    assert_ne!(first, second);
    let ids: BTreeSet<&str> = first.iter().map(DemoCommand::command_id).collect();
    assert!(second.iter().all(|c| !ids.contains(c.command_id())));
}

#[test]
fn the_domain_accepts_everything_but_the_planted_invoices() {
    for seed in 0..SEEDS_CHECKED {
        let commands = generate(seed, &DemoSize::SMALL, today());
        let replay = Replay::of(&commands, today());
        assert_eq!(planted(&commands), DemoSize::SMALL.over_limit_invoices);
        assert_eq!(replay.refusals.len(), planted(&commands), "seed {seed}");
        assert!(replay.denied.is_empty(), "seed {seed}: {:?}", replay.denied);
        for (command, refusal) in &replay.refusals {
            assert!(
                command.is_planted_over_limit(),
                "seed {seed}: {refusal} for {command:?}"
            );
            assert_eq!(refusal.reason.as_str(), REASON_CREDIT_LIMIT_EXCEEDED);
        }
    }
}

#[test]
fn small_has_every_kind_of_fact() {
    for seed in 0..SEEDS_CHECKED {
        let commands = generate(seed, &DemoSize::SMALL, today());
        let counts = KindCounts::of(&commands);
        let initial_limits = commands
            .iter()
            .take_while(|c| c.kind() == CommandKind::CreditLimit)
            .count();
        assert_eq!(initial_limits, DemoSize::SMALL.customers, "seed {seed}");
        assert!(
            (25..=110).contains(&counts.invoices),
            "seed {seed}: {} invoices",
            counts.invoices
        );
        assert!(counts.payments > 0 && counts.promises > 0, "seed {seed}");
        let by_terms = commands.iter().any(|c| {
            matches!(c, DemoCommand::IssueInvoice(r)
                if matches!(r.due, Some(pb::issue_invoice_request::Due::TermsDays(_))))
        });
        let by_date = commands.iter().any(|c| {
            matches!(c, DemoCommand::IssueInvoice(r)
                if matches!(r.due, Some(pb::issue_invoice_request::Due::DueDate(_))))
        });
        assert!(by_terms && by_date, "seed {seed}: due dates and terms");
        let currencies: BTreeSet<String> = commands
            .iter()
            .filter_map(|c| match c {
                DemoCommand::IssueInvoice(r) => r.amount.as_ref().map(|m| m.currency.clone()),
                _ => None,
            })
            .collect();
        assert!(currencies.len() >= 2, "seed {seed}: {currencies:?}");
        let listed = commands
            .iter()
            .any(|c| matches!(c, DemoCommand::RecordPromiseToPay(r) if !r.invoices.is_empty()));
        let whole = commands
            .iter()
            .any(|c| matches!(c, DemoCommand::RecordPromiseToPay(r) if r.invoices.is_empty()));
        assert!(listed || whole);

        let replay = Replay::of(&commands, today());
        assert!(
            replay.explicit_payments > 0,
            "seed {seed}: explicit allocations"
        );
        assert!(
            replay.oldest_due_first_payments > 0,
            "seed {seed}: oldest due first"
        );
        assert!(
            replay.payments_with_unapplied > 0,
            "seed {seed}: unapplied cash"
        );
        let statuses: BTreeSet<Status> = replay
            .promise_statuses(today())
            .into_iter()
            .map(|(_, status)| status)
            .collect();
        assert!(
            statuses.contains(&Status::Kept),
            "seed {seed}: {statuses:?}"
        );
        assert!(
            statuses.contains(&Status::Broken),
            "seed {seed}: {statuses:?}"
        );
        // Three months are too short for the old buckets; FULL fills them all.
        let aging = replay.aging(today());
        let overdue: usize = aging[1..].iter().sum();
        assert!(aging[0] > 0 && overdue > 0, "seed {seed}: {aging:?}");
    }
}

#[test]
fn full_fills_every_bucket_and_every_promise_status() {
    let commands = generate(2026, &DemoSize::FULL, today());
    let counts = KindCounts::of(&commands);
    let replay = Replay::of(&commands, today());
    let aging = replay.aging(today());
    let mut statuses: BTreeMap<Status, usize> = BTreeMap::new();
    for (_, status) in replay.promise_statuses(today()) {
        *statuses.entry(status).or_default() += 1;
    }
    println!(
        "FULL: {counts:?}, {} commands; planted over-limit {}; payments explicit {} / \
         oldest due first {} / with unapplied {}; accepted over limit (WARN) {}; \
         open invoices by bucket {aging:?}; promises {statuses:?}",
        commands.len(),
        planted(&commands),
        replay.explicit_payments,
        replay.oldest_due_first_payments,
        replay.payments_with_unapplied,
        replay.over_limit_accepted,
    );
    assert_eq!(counts.total(), commands.len());
    assert!((4_000..=6_000).contains(&counts.invoices), "{counts:?}");
    assert_eq!(planted(&commands), DemoSize::FULL.over_limit_invoices);
    assert_eq!(replay.refusals.len(), planted(&commands));
    assert!(aging.iter().all(|count| *count > 0), "{aging:?}");
    // The decks' partial payments end as partially kept once their windows have closed.
    for status in [
        Status::Open,
        Status::Kept,
        Status::PartiallyKept,
        Status::Broken,
    ] {
        assert!(statuses.contains_key(&status), "{statuses:?}");
    }
    assert!(replay.over_limit_accepted > 0);
}

#[test]
fn business_dates_lie_in_the_window_ending_today() {
    for size in [DemoSize::SMALL, DemoSize::FULL] {
        let commands = generate(3, &size, today());
        let start = window_start(today(), size.months);
        for command in &commands {
            if let Some(day) = command.business_date() {
                let day = date(day);
                assert!(day >= start && day <= today(), "{command:?}");
            }
        }
        let days: Vec<NaiveDate> = commands
            .iter()
            .filter(|c| c.kind() != CommandKind::CreditLimit && !is_setting(c.kind()))
            .filter_map(|c| c.business_date().map(date))
            .collect();
        assert!(
            days.windows(2).all(|pair| pair[0] <= pair[1]),
            "facts in date order"
        );
    }
}

#[test]
fn credit_limits_come_first_and_each_customer_is_in_time_order() {
    let commands = generate(5, &DemoSize::FULL, today());
    let first_other = commands
        .iter()
        .position(|c| c.kind() != CommandKind::CreditLimit)
        .unwrap();
    let customers_with_limits: BTreeSet<&str> = commands[..first_other]
        .iter()
        .map(DemoCommand::customer_id)
        .collect();
    assert_eq!(
        customers_with_limits.len(),
        first_other,
        "one limit per customer first"
    );
    for sequence in by_customer(commands.clone()) {
        let days: Vec<NaiveDate> = sequence
            .iter()
            .filter_map(|c| c.business_date().map(date))
            .collect();
        assert!(days.windows(2).all(|pair| pair[0] <= pair[1]));
    }
}

/// The group's settings and the customers' records, which the data set puts last.
fn is_setting(kind: CommandKind) -> bool {
    matches!(
        kind,
        CommandKind::CustomerRecord | CommandKind::Collector | CommandKind::ExchangeRates
    )
}

#[test]
fn the_settings_and_records_come_last_one_of_each_where_due() {
    let size = DemoSize::FULL;
    let commands = generate(5, &size, today());
    let first_setting = commands.iter().position(|c| is_setting(c.kind())).unwrap();
    assert!(
        commands[first_setting..]
            .iter()
            .all(|c| is_setting(c.kind()))
    );
    let counts = KindCounts::of(&commands);
    // A default collector per subsidiary; one record per customer; rates for the window's
    // first day (2025-03-18, twelve months before 2026-03-18) and each month end from
    // 2025-03-31 to 2026-02-28: 1 + 12.
    assert_eq!(counts.collectors, SUBSIDIARIES.len());
    assert_eq!(counts.customer_records, size.customers);
    assert_eq!(counts.exchange_rates, 1 + 12);
    let rate_days: Vec<&str> = commands
        .iter()
        .filter(|c| c.kind() == CommandKind::ExchangeRates)
        .filter_map(DemoCommand::business_date)
        .collect();
    assert_eq!(rate_days.first(), Some(&"2025-03-18"));
    assert_eq!(rate_days.get(1), Some(&"2025-03-31"));
    assert_eq!(rate_days.last(), Some(&"2026-02-28"));
}

#[test]
fn invoice_numbers_are_unique_per_subsidiary_and_ids_are_safe() {
    let commands = generate(11, &DemoSize::FULL, today());
    let mut seen = BTreeSet::new();
    let mut seen_credit_notes = BTreeSet::new();
    let subsidiaries: BTreeSet<&str> = SUBSIDIARIES.iter().map(|s| s.id).collect();
    for command in &commands {
        let customer = command.customer_id();
        assert!(
            (customer.starts_with("CUST-") && customer.len() == 9)
                || (is_setting(command.kind()) && customer == GROUP_ACCOUNT),
            "{customer}"
        );
        if let DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) = command {
            assert!(subsidiaries.contains(r.subsidiary_id.as_str()));
            assert!(
                seen.insert((r.subsidiary_id.clone(), r.invoice_number.clone())),
                "{} {} issued twice",
                r.subsidiary_id,
                r.invoice_number
            );
        }
        if let DemoCommand::IssueCreditNote(r) = command {
            assert!(subsidiaries.contains(r.subsidiary_id.as_str()));
            assert!(
                seen_credit_notes.insert((r.subsidiary_id.clone(), r.credit_note_number.clone())),
                "{} {} issued twice",
                r.subsidiary_id,
                r.credit_note_number
            );
        }
        // Every field passes the API's validation (ids, names, references, dates, money).
        addressed(command);
    }
}

#[test]
fn due_dates_are_not_before_issue_dates() {
    for command in generate(13, &DemoSize::FULL, today()) {
        if let DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) = &command {
            match &r.due {
                Some(pb::issue_invoice_request::Due::DueDate(due)) => {
                    assert!(date(due) >= date(&r.issue_date), "{r:?}")
                }
                Some(pb::issue_invoice_request::Due::TermsDays(days)) => {
                    assert!([30, 45, 60].contains(days))
                }
                Some(pb::issue_invoice_request::Due::PaymentTerms(code)) => {
                    panic!("the demo issues on no template, got {code}: {r:?}")
                }
                None => panic!("no due date: {r:?}"),
            }
        }
        if let DemoCommand::RecordPromiseToPay(r) = &command {
            assert!(date(&r.promised_date) >= date(&r.made_on));
        }
    }
}

#[test]
fn amounts_are_positive_with_at_most_two_decimals() {
    let check = |money: &Option<pb::Money>| {
        let money = money.as_ref().unwrap();
        let amount = Decimal::from_str(&money.amount).unwrap();
        assert!(amount > Decimal::ZERO, "{money:?}");
        assert!(amount.normalize().scale() <= 2, "{money:?}");
        assert!(["CNY", "USD", "HKD"].contains(&money.currency.as_str()));
    };
    let mut withdrawn = 0;
    let commands = generate(17, &DemoSize::FULL, today());
    for command in &commands {
        match command {
            // Credit control withdraws the credit of a customer whose debts it wrote off.
            DemoCommand::ChangeCreditLimit(r)
                if r.limit.as_ref().is_some_and(|m| m.amount == "0.00") =>
            {
                withdrawn += 1;
            }
            DemoCommand::ChangeCreditLimit(r) => check(&r.limit),
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
                check(&r.amount)
            }
            DemoCommand::RecordPayment(r) => {
                check(&r.amount);
                r.allocations.iter().for_each(|a| check(&a.amount));
            }
            DemoCommand::RecordPromiseToPay(r) => check(&r.amount),
            DemoCommand::IssueCreditNote(r) => check(&r.amount),
            DemoCommand::WriteOffInvoice(r) => check(&r.amount),
            // No amounts.
            DemoCommand::ReversePayment(_)
            | DemoCommand::ResolveDispute(_)
            | DemoCommand::RegisterCustomer(_)
            | DemoCommand::AssignCollector(_)
            | DemoCommand::PublishExchangeRates(_) => {}
            DemoCommand::ApplyUnappliedCash(r) => {
                check(&r.amount);
                r.allocations.iter().for_each(|a| check(&a.amount));
            }
            DemoCommand::IssueRefund(r) => check(&r.amount),
            DemoCommand::OpenDispute(r) => check(&r.amount),
        }
    }
    let write_offs = commands
        .iter()
        .filter(|c| c.kind() == CommandKind::WriteOff)
        .count();
    assert!(
        withdrawn > 0 && withdrawn <= write_offs,
        "{withdrawn} limits withdrawn, {write_offs} write-offs"
    );
}

#[test]
fn every_command_id_is_a_distinct_uuid() {
    let commands = generate(19, &DemoSize::FULL, today());
    let ids: BTreeSet<uuid::Uuid> = commands
        .iter()
        .map(|c| uuid::Uuid::parse_str(c.command_id()).unwrap())
        .collect();
    assert_eq!(ids.len(), commands.len());
    assert!(ids.iter().all(|id| id.get_version_num() == 5));
    assert_eq!(command_id(19, 0), commands[0].command_id());
}

#[test]
fn by_customer_keeps_each_customers_order() {
    let commands = generate(23, &DemoSize::SMALL, today());
    let sequences = by_customer(commands.clone());
    assert_eq!(
        sequences.iter().map(Vec::len).sum::<usize>(),
        commands.len()
    );
    for sequence in &sequences {
        let customer = sequence[0].customer_id();
        let expected: Vec<&DemoCommand> = commands
            .iter()
            .filter(|c| c.customer_id() == customer)
            .collect();
        assert_eq!(sequence.iter().collect::<Vec<_>>(), expected);
    }
}

#[test]
fn summaries_add_up() {
    let amount = |text: &str| Decimal::from_str(text).unwrap();
    let cny = |invoiced: &str, paid: &str, allocated: &str| CurrencyTotals {
        invoiced: amount(invoiced),
        paid: amount(paid),
        allocated: amount(allocated),
    };
    let mut first = LoadSummary {
        last_position: 7,
        refused: BTreeMap::from([(REASON_CREDIT_LIMIT_EXCEEDED.to_owned(), 1)]),
        totals: BTreeMap::from([("CNY".to_owned(), cny("100.00", "50.00", "40.00"))]),
        ..LoadSummary::default()
    };
    first.accepted.add(CommandKind::Invoice, 2);
    let mut second = LoadSummary {
        last_position: 5,
        refused: BTreeMap::from([(REASON_CREDIT_LIMIT_EXCEEDED.to_owned(), 2)]),
        totals: BTreeMap::from([("CNY".to_owned(), cny("10.01", "0.00", "0.00"))]),
        ..LoadSummary::default()
    };
    second.accepted.add(CommandKind::Payment, 1);
    first.merge(second);
    assert_eq!(first.last_position, 7);
    assert_eq!(first.refused_total(), 3);
    assert_eq!(first.accepted.total(), 3);
    let totals = first.totals["CNY"];
    assert_eq!(totals.open(), amount("70.01"));
    assert_eq!(totals.unapplied(), amount("10.00"));
}

#[test]
fn the_generator_meets_no_refusal_it_did_not_plant() {
    let mut runs: Vec<(u64, DemoSize)> = (0..SEEDS_CHECKED).map(|s| (s, DemoSize::SMALL)).collect();
    // `generate` also asserts this in debug builds, for every data set the tests make.
    runs.push((2026, DemoSize::FULL));
    for (seed, size) in runs {
        let generated = generate_with_accounts(seed, &size, today());
        assert_eq!(generated.unexpected, 0, "seed {seed}, {size:?}");
        assert_eq!(planted(&generated.commands), size.over_limit_invoices);
    }
}

/// The accounts the generator decided with (provisional invoice numbers) end exactly as the
/// accounts the service builds from the data set (real numbers): the same invoices with the
/// same open amounts, the same unapplied cash, the same promises. Oldest-due-first allocation
/// therefore chose the same invoices under both numberings.
#[test]
fn the_simulated_accounts_end_as_the_services() {
    let invoices = |account: &CustomerAccount| {
        let mut invoices: Vec<_> = account
            .invoices()
            .map(|i| {
                (
                    i.key.subsidiary_id.clone(),
                    i.issue_date,
                    i.key.invoice_number.clone(),
                    (
                        (i.due_date, i.amount, i.open, i.over_limit),
                        (i.credited, i.written_off),
                        i.disputes
                            .iter()
                            .map(|d| (d.amount, d.opened_on, d.expires_on, d.resolved))
                            .collect::<Vec<_>>(),
                    ),
                )
            })
            .collect();
        invoices.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
        invoices
            .into_iter()
            .map(|(subsidiary, issue, _, rest)| (subsidiary, issue, rest))
            .collect::<Vec<_>>()
    };
    let mut runs: Vec<(u64, DemoSize)> = (0..SEEDS_CHECKED).map(|s| (s, DemoSize::SMALL)).collect();
    runs.push((2026, DemoSize::FULL));
    for (seed, size) in runs {
        let generated = generate_with_accounts(seed, &size, today());
        let replay = Replay::of(&generated.commands, today());
        assert_eq!(generated.accounts.len(), size.customers);
        for (index, simulated) in generated.accounts.iter().enumerate() {
            let simulated = simulated.as_ref().expect("every customer is simulated");
            let customer = format!("CUST-{:04}", index + 1);
            let service = replay
                .accounts
                .get(&customer)
                .unwrap_or_else(|| panic!("seed {seed}: {customer} is registered"));
            // The service's account also holds the customer's record, which the data set adds
            // after the simulated facts.
            assert_eq!(
                simulated.event_count() + 1,
                service.event_count(),
                "seed {seed}: {customer}"
            );
            assert!(
                service.state().profile().is_some(),
                "seed {seed}: {customer}"
            );
            assert_eq!(
                invoices(simulated),
                invoices(service),
                "seed {seed}: {customer}"
            );
            assert_eq!(
                simulated.balances(),
                service.balances(),
                "seed {seed}: {customer}"
            );
            assert_eq!(
                simulated.credit(),
                service.credit(),
                "seed {seed}: {customer}"
            );
            let promises = |account: &CustomerAccount| {
                account
                    .promises()
                    .iter()
                    .map(|p| (p.made_on, p.promised_date, p.amount, p.invoices.len()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                promises(simulated),
                promises(service),
                "seed {seed}: {customer}"
            );
            let payments = |account: &CustomerAccount| {
                let mut payments: Vec<_> = account
                    .state()
                    .payments()
                    .map(|p| {
                        (
                            p.received_date,
                            p.amount,
                            p.allocations.len(),
                            p.unapplied,
                            p.reversed_on,
                        )
                    })
                    .collect();
                payments.sort_unstable_by_key(|p| (p.0, p.1.amount(), p.2, p.3.amount(), p.4));
                payments
            };
            assert_eq!(
                payments(simulated),
                payments(service),
                "seed {seed}: {customer}"
            );
            let credit_notes = |account: &CustomerAccount| {
                let mut notes: Vec<_> = account
                    .state()
                    .credit_notes()
                    .map(|n| (n.issue_date, n.amount, n.invoice.is_some()))
                    .collect();
                notes.sort_unstable_by_key(|n| (n.0, n.1.amount(), n.2));
                notes
            };
            assert_eq!(
                credit_notes(simulated),
                credit_notes(service),
                "seed {seed}: {customer}"
            );
        }
    }
}

#[test]
fn the_planted_reason_is_the_domains() {
    assert_eq!(
        REASON_CREDIT_LIMIT_EXCEEDED,
        receivables_domain::Reason::CreditLimitExceeded.as_str()
    );
}

#[test]
fn the_demo_currencies_have_cents() {
    // Steps, rates and amounts are written in minor units of two decimals.
    for code in [CNY, USD, HKD] {
        let currency = receivables_domain::Currency::parse(code).unwrap();
        assert_eq!(currency.minor_units(), 2, "{code}");
    }
}

/// The default data set (the demo's seed and size) has every kind of event, each for a few
/// percent of the customers, and nothing refused but the planted invoices.
#[test]
fn the_default_data_set_has_every_kind_of_event_now_and_then() {
    let size = DemoSize::FULL;
    let commands = generate(2026, &size, today());
    let counts = KindCounts::of(&commands);
    let replay = Replay::of(&commands, today());
    let expired = replay.expired_disputes(today());
    println!(
        "FULL turns: {counts:?}; {:?}, disputes expired {expired}; customers per kind {:?}",
        replay.turns,
        replay
            .customers
            .iter()
            .map(|(kind, customers)| (*kind, customers.len()))
            .collect::<BTreeMap<_, _>>(),
    );
    for kind in CommandKind::ALL {
        assert!(counts.get(kind) > 0, "no {kind}: {counts:?}");
    }
    for (name, count) in replay.turns.named() {
        assert!(count > 0, "no {name}: {:?}", replay.turns);
    }
    assert!(expired > 0, "no dispute expired");
    assert!(replay.on_account_payments > 0, "no payment on account");
    // Nothing refused but the planted invoices, and every command permitted to its poster.
    assert_eq!(replay.refusals.len(), planted(&commands));
    assert!(
        replay
            .refusals
            .iter()
            .all(|(command, _)| command.is_planted_over_limit())
    );
    assert!(replay.denied.is_empty(), "{:?}", replay.denied);
    // Credit control changes the limits, writes off bad debts, keeps the customers' records
    // and assigns collectors; treasury publishes the rates; every other command is the
    // subsidiary's.
    for command in &commands {
        let role = command.role().unwrap();
        match command.kind() {
            CommandKind::CreditLimit
            | CommandKind::WriteOff
            | CommandKind::CustomerRecord
            | CommandKind::Collector => assert_eq!(role, Role::Credit),
            CommandKind::ExchangeRates => assert_eq!(role, Role::Treasury),
            _ => assert!(matches!(role, Role::Subsidiary(_)), "{command:?}"),
        }
    }
    // Rare: each kind happens to a few percent of the customers, and the data set keeps its
    // size.
    for (kind, customers) in &replay.customers {
        assert!(
            customers.len() * 100 <= size.customers * 10,
            "{kind}: {} customers",
            customers.len()
        );
    }
    let rarer =
        commands.len() - counts.credit_limits - counts.invoices - counts.payments - counts.promises;
    assert!(rarer * 100 <= commands.len() * 5, "{counts:?}");
    assert!((10_000..=13_000).contains(&commands.len()), "{counts:?}");
}
