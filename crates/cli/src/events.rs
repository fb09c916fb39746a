//! Events as a person reads them: one line saying what happened, for every type of event.
//!
//! The match below is over every event type; a type added to the domain does not compile here
//! until it says how it reads (and a test renders a sample of every type).

use receivables_domain::Event;
use receivables_domain::account::receipt::MatchMethod;
use receivables_domain::allocation::AllocationRequest;
use receivables_domain::customer::CustomerProfile;
use receivables_domain::event::{Allocation, AllocationRule};
use receivables_domain::terms::{DueRule, ScheduleRow};

/// A due rule as people say it.
fn due_rule(rule: DueRule) -> String {
    match rule {
        DueRule::NetDays(0) => "on the issue date".to_owned(),
        DueRule::NetDays(days) => format!("in {days} days"),
        DueRule::DaysAfterMonthEnd(days) => format!("{days} days after the month's end"),
        DueRule::DayOfNextMonth(day) => format!("on day {day} of the next month"),
    }
}

/// Schedule rows as `500.00 CNY on 2026-07-31, ...`.
fn rows(rows: &[ScheduleRow]) -> String {
    rows.iter()
        .map(|row| format!("{} on {}", row.amount, row.due_date))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Requested allocations as `SUB-A/INV-1 400.00 CNY, ...`.
fn allocations_text(allocations: &[AllocationRequest]) -> String {
    allocations
        .iter()
        .map(|a| format!("{} {}", a.invoice, a.amount))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the event records, in one line.
pub fn summary(event: &Event) -> String {
    match event {
        Event::InvoiceIssued(e) => {
            let over = if e.over_limit {
                ", over the credit limit (WARN)"
            } else {
                ""
            };
            let due = if e.schedule.is_empty() {
                format!("due {}", e.due_date)
            } else {
                format!("due in {}", rows(&e.schedule))
            };
            let order = e.consumes.as_ref().map_or(String::new(), |c| {
                format!(
                    ", consuming {} reserved for order {}",
                    c.amount, c.order_number
                )
            });
            format!(
                "invoice {} {} issued {}, {due}{over}{order}",
                e.key(),
                e.amount,
                e.issue_date,
            )
        }
        Event::CreditReserved(e) => format!(
            "credit of {} reserved for order {} of {} on {}, until {}{}",
            e.amount,
            e.order_number,
            e.subsidiary_id,
            e.reserved_on,
            e.expires_on,
            if e.over_limit {
                ", over the credit limit (WARN)"
            } else {
                ""
            }
        ),
        Event::CreditReleased(e) => format!(
            "{} released of the credit reserved for order {} of {} on {} ({} left): {}",
            e.amount, e.order_number, e.subsidiary_id, e.released_on, e.remaining, e.reason
        ),
        Event::PaymentReceived(e) => {
            let rule = match e.allocation_rule {
                AllocationRule::Explicit => "as instructed",
                AllocationRule::OldestDueFirst => "oldest due first",
                AllocationRule::OnAccount => "on account",
            };
            format!(
                "payment of {} received {} by {} (ref {:?}) at {}, applied {rule}: {}, {} unapplied",
                e.amount,
                e.received_date,
                e.method.as_str(),
                e.reference,
                e.subsidiary_id,
                applied(&e.allocations),
                e.unapplied
            )
        }
        Event::CreditLimitChanged(e) => format!(
            "credit limit set to {}, policy {}, grade {}{}, approved by {}: {}",
            e.limit,
            e.policy.as_str(),
            e.grade.as_str(),
            e.overdue_hold_days.map_or(String::new(), |days| format!(
                ", overdue hold beyond {days} days"
            )),
            e.approved_by,
            e.reason
        ),
        Event::PromiseToPay(e) => {
            let covers = if e.invoices.is_empty() {
                "the account".to_owned()
            } else {
                e.invoices
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                "promise {} to pay {} by {} for {covers}, made {} to {} at {}",
                e.promise_id, e.amount, e.promised_date, e.made_on, e.collector, e.subsidiary_id
            )
        }
        Event::CreditNoteIssued(e) => {
            let against = match &e.invoice {
                Some(invoice) => format!("against {invoice}"),
                None => "on account".to_owned(),
            };
            format!(
                "credit note {} {} issued {} {against}: {}",
                e.key(),
                e.amount,
                e.issue_date,
                e.reason
            )
        }
        Event::InvoiceWrittenOff(e) => format!(
            "{} of {} written off {}, approved by {}: {}",
            e.amount, e.invoice, e.write_off_date, e.approved_by, e.reason
        ),
        Event::PaymentReversed(e) => format!(
            "payment {} of {} received {} at {} reversed {} ({}): {} re-opened, {} unapplied removed",
            e.payment,
            e.amount,
            e.received_date,
            e.subsidiary_id,
            e.reversal_date,
            e.reason.as_str(),
            applied(&e.reopened),
            e.unapplied
        ),
        Event::UnappliedCashApplied(e) => format!(
            "{} of unapplied {} applied {} at {}: {}",
            e.amount,
            e.source.as_str(),
            e.application_date,
            e.subsidiary_id,
            applied(&e.allocations)
        ),
        Event::DisputeOpened(e) => {
            let until = e
                .expires_on
                .map_or_else(|| "until resolved".to_owned(), |d| format!("until {d}"));
            format!(
                "dispute {} of {} on {} ({}) opened {}, {until}: {}",
                e.dispute_id,
                e.amount,
                e.invoice,
                e.reason.as_str(),
                e.opened_on,
                e.note
            )
        }
        Event::DisputeResolved(e) => {
            let credit = e
                .credit_note
                .as_ref()
                .map(|n| format!(" by credit note {n}"))
                .unwrap_or_default();
            format!(
                "dispute {} on {} {}{credit} on {}: {}",
                e.dispute_id,
                e.invoice,
                e.outcome.as_str(),
                e.resolved_on,
                e.note
            )
        }
        Event::RefundIssued(e) => format!(
            "{} of unapplied {} refunded {} by {} (ref {:?}) at {}",
            e.amount,
            e.source.as_str(),
            e.refund_date,
            e.method.as_str(),
            e.reference,
            e.subsidiary_id
        ),
        Event::CollectionActivityRecorded(e) => {
            let about = if e.invoices.is_empty() {
                "the account".to_owned()
            } else {
                e.invoices
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let next = e
                .next_action_on
                .map_or(String::new(), |next| format!(", next action {next}"));
            format!(
                "{} by {} on {} about {about}: {}{next}",
                e.channel.as_str().to_lowercase(),
                e.collector,
                e.occurred_on,
                e.outcome.as_str().to_lowercase()
            )
        }
        Event::BalanceConfirmed(e) => {
            let agreement = if e.difference().is_zero() {
                "agrees".to_owned()
            } else {
                format!("differs by {}", e.difference())
            };
            format!(
                "balance of {} as of {} confirmed by {} (the account held {}: {agreement})",
                e.confirmed, e.as_of, e.confirmed_by, e.balance
            )
        }
        Event::CollectionOnBehalfSet(e) => format!(
            "collection on behalf of {} by {} {}, approved by {}: {}",
            e.on_behalf_of_id,
            e.collector_id,
            if e.enabled { "enabled" } else { "disabled" },
            e.approved_by,
            e.reason
        ),
        Event::AlertThresholdsSet(e) => format!(
            "alert thresholds of {} set, approved by {}: {}: {}",
            e.subsidiary_id
                .as_ref()
                .map_or_else(|| "the group".to_owned(), ToString::to_string),
            e.approved_by,
            e.reason,
            thresholds(&e.thresholds)
        ),
        Event::BankAccountRegistered(e) => format!(
            "bank account {} ({}, {}) registered for {} in {}",
            e.number, e.bank, e.name, e.subsidiary_id, e.currency
        ),
        Event::StatementLineImported(e) => {
            let payer = e.line.payer_name.as_deref().unwrap_or("unknown payer");
            format!(
                "statement line {} imported: {} from {payer} on {}, reference {:?}",
                e.line.line_id, e.line.amount, e.line.value_date, e.line.reference
            )
        }
        Event::StatementLineMatched(e) => {
            let parts: Vec<String> = e
                .parts
                .iter()
                .map(|p| {
                    let how = if p.part.on_account {
                        " on account".to_owned()
                    } else if p.part.allocations.is_empty() {
                        " oldest due first".to_owned()
                    } else {
                        format!(" to {}", allocations_text(&p.part.allocations))
                    };
                    format!(
                        "{} from {} (payment {}){how}",
                        p.part.amount, p.part.customer_id, p.payment_id
                    )
                })
                .collect();
            let by = match &e.method {
                MatchMethod::Automatic { confidence, .. } => {
                    format!("automatically at {confidence} %")
                }
                MatchMethod::Reviewed => "by review".to_owned(),
            };
            format!(
                "statement line {} matched {by}: {}",
                e.line_id,
                parts.join("; ")
            )
        }
        Event::StatementLineExcluded(e) => {
            let reason: &str = e.reason.into();
            format!(
                "statement line {} excluded, not a receivable ({reason}): {}",
                e.line_id, e.note
            )
        }
        Event::CustomerRegistered(e) => format!("customer registered: {}", profile(&e.profile)),
        Event::CustomerUpdated(e) => format!("customer record now: {}", profile(&e.profile)),
        Event::PaymentTermsDefined(e) => {
            let lines: Vec<String> = e
                .terms
                .lines
                .iter()
                .map(|line| format!("{} % {}", line.portion, due_rule(line.due)))
                .collect();
            let discount = e.terms.discount.map_or(String::new(), |d| {
                format!(", {} % off within {} days", d.percent, d.within_days)
            });
            let verb = if e.replaced { "redefined" } else { "defined" };
            format!(
                "payment terms {} {verb}: {}{discount}",
                e.code,
                lines.join(", ")
            )
        }
        Event::InstalmentPlanAgreed(e) => format!(
            "instalment plan {} for {} agreed {} by {}: {} owed ({} overdue) in {}",
            e.plan_id,
            e.invoice,
            e.agreed_on,
            e.collector,
            e.open_amount,
            e.overdue_amount,
            rows(&e.rows)
        ),
        Event::InstalmentPlanCancelled(e) => format!(
            "instalment plan {} for {} (agreed {}) cancelled {}: {}",
            e.plan_id, e.invoice, e.agreed_on, e.cancelled_on, e.reason
        ),
        Event::DiscountAllowed(e) => format!(
            "discount of {} off {} for payment {} received {} ({} % within {} days, at most {})",
            e.amount,
            e.invoice,
            e.payment_id,
            e.allowed_on,
            e.terms.percent,
            e.terms.within_days,
            e.most_off
        ),
        Event::ExchangeRatesPublished(e) => {
            let rates: Vec<String> = e
                .rates
                .iter()
                .map(|r| format!("{} {}", r.currency, r.rate))
                .collect();
            let source = if e.source.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.source)
            };
            format!(
                "exchange rates to {} from {}: {}{source}",
                e.base,
                e.rate_date,
                rates.join(", ")
            )
        }
        Event::CollectorAssigned(e) => {
            let whose = match &e.default_for {
                None => "the customer's collector".to_owned(),
                Some(subsidiary) => format!("default collector of subsidiary {subsidiary}"),
            };
            match &e.collector {
                Some(collector) => format!("{whose}: {collector}"),
                None => format!("{whose} removed"),
            }
        }
    }
}

/// A customer's record as `name (legal name), country, tax id, n contacts`.
fn profile(profile: &CustomerProfile) -> String {
    let mut line = profile.name.clone();
    if !profile.legal_name.is_empty() {
        line.push_str(&format!(" ({})", profile.legal_name));
    }
    if let Some(country) = &profile.country {
        line.push_str(&format!(", {country}"));
    }
    if !profile.tax_id.is_empty() {
        line.push_str(&format!(", tax id {}", profile.tax_id));
    }
    let contacts = profile.contacts.len();
    line.push_str(&format!(
        ", {contacts} contact{}",
        if contacts == 1 { "" } else { "s" }
    ));
    line
}

/// Allocations as `[amount to invoice, ...]`.
fn applied(allocations: &[Allocation]) -> String {
    let list: Vec<String> = allocations
        .iter()
        .map(|a| format!("{} to {}", a.amount, a.invoice))
        .collect();
    format!("[{}]", list.join(", "))
}

/// The thresholds set, in words; "none" when nothing is watched.
pub fn thresholds(t: &receivables_domain::alerts::AlertThresholds) -> String {
    let mut parts = Vec::new();
    if let Some(rate) = t.overdue_rate_percent {
        parts.push(format!("overdue rate > {rate} %"));
    }
    if let Some(days) = t.dso_days {
        parts.push(format!("DSO > {days} days"));
    }
    if let Some(percent) = t.utilisation_percent {
        parts.push(format!("utilisation > {percent} %"));
    }
    if let Some(days) = t.days_past_due {
        parts.push(format!("{days} days past due"));
    }
    if let Some(unapplied) = &t.unapplied_cash {
        parts.push(format!(
            "unapplied cash > {} {} for > {} days",
            unapplied.amount.amount(),
            unapplied.amount.currency(),
            unapplied.days
        ));
    }
    if let Some(days) = t.dispute_expiry_days {
        parts.push(format!("disputes {days} days before expiry"));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use receivables_domain::EventType;
    use receivables_domain::testing::sample;

    use super::*;

    #[test]
    fn every_event_type_reads_as_a_line_that_names_its_amount() {
        for event_type in EventType::all() {
            let event = sample(event_type);
            let line = summary(&event);
            assert!(!line.is_empty(), "{event_type}");
            assert!(!line.contains('\n'), "{event_type}: {line}");
            // Every sample that carries an amount carries it in CNY, which the line must show;
            // a dispute's resolution moves no amount and names its dispute instead, and a group
            // setting names its two subsidiaries.
            if event_type == EventType::DisputeResolved {
                assert!(line.contains("dispute "), "{event_type}: {line}");
            } else if event_type == EventType::AlertThresholdsSet {
                assert_eq!(
                    line,
                    "alert thresholds of the group set, approved by Chen Jing: group credit \
                     policy 2027: overdue rate > 30 %, DSO > 60 days, utilisation > 100 %, \
                     disputes 7 days before expiry"
                );
            } else if event_type == EventType::CollectionOnBehalfSet {
                assert_eq!(
                    line,
                    "collection on behalf of S1 by S2 enabled, approved by Chen Jing: \
                     treasury centralisation"
                );
            } else if event_type == EventType::CustomerRegistered {
                assert_eq!(
                    line,
                    "customer registered: Hongda Trading (Shanghai Hongda Trading Co., Ltd.), \
                     CN, tax id 91310000MA1FL0XX1X, 1 contact"
                );
            } else if event_type == EventType::CustomerUpdated {
                assert!(line.starts_with("customer record now: Hongda"), "{line}");
            } else if event_type == EventType::ExchangeRatesPublished {
                assert_eq!(
                    line,
                    "exchange rates to CNY from 2026-06-30: USD 7.1 (PBOC central parity)"
                );
            } else if event_type == EventType::PaymentTermsDefined {
                assert_eq!(
                    line,
                    "payment terms 30-50-20 defined: 30 % on the issue date, 50 % in 60 days, \
                     20 % in 90 days, 2 % off within 10 days"
                );
            } else if event_type == EventType::InstalmentPlanCancelled {
                assert_eq!(
                    line,
                    "instalment plan 00000000-0000-4000-8000-00000000a001 for \
                     invoices/SUB-A/INV-1 (agreed 2026-07-15) cancelled 2026-08-10: customer \
                     stopped paying"
                );
            } else if event_type == EventType::CollectorAssigned {
                assert_eq!(line, "the customer's collector: Zhou Min");
            } else if event_type == EventType::StatementLineExcluded {
                assert_eq!(
                    line,
                    "statement line 2026061500001 excluded, not a receivable (INTEREST): \
                     quarterly interest"
                );
            } else if let Event::StatementLineMatched(matched) = &event {
                // The payment's id is the sample's own (derived from the line elsewhere).
                let payment = matched.parts[0].payment_id;
                assert_eq!(
                    line,
                    format!(
                        "statement line 2026061500001 matched automatically at 95 %: 600.00 \
                         CNY from C-1 (payment {payment}) to invoices/SUB-A/INV-1 400.00 CNY"
                    )
                );
            } else if event_type == EventType::CollectionActivityRecorded {
                assert_eq!(
                    line,
                    "call by Wang Fang on 2026-07-15 about invoices/SUB-A/INV-1: reached, next \
                     action 2026-07-22"
                );
            } else {
                assert!(line.contains("CNY"), "{event_type}: {line}");
            }
        }
    }

    #[test]
    fn an_invoice_reads_as_a_clerk_would_say_it() {
        assert_eq!(
            summary(&sample(EventType::InvoiceIssued)),
            "invoice invoices/SUB-A/INV-1 1000.00 CNY issued 2026-06-01, due 2026-07-01"
        );
    }
}
