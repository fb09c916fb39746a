//! Generation: the customers' profiles, every customer simulated on its own account, and the
//! assembly of their facts into the data set's wire requests, with real invoice numbers and
//! command ids.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use receivables_api::pb;

use crate::commands::DemoCommand;
use crate::dates::month_end;
use crate::group::{SUBSIDIARIES, credit_note_number, invoice_number};
use crate::profiles::{Profile, deal_turns, profiles};
use crate::simulation::{DecisionIds, History, OutcomeDecks, Window, simulate};
use crate::size::{CUSTOMERS_MAX, DemoSize, MONTHS_MAX};
use crate::wire;
use crate::wire::{Fact, Names};

/// The range of the first number of every subsidiary's invoice sequence: the ERPs have been
/// numbering invoices for a while before the window opens.
const FIRST_INVOICE_SEQUENCE_MIN: u32 = 1_000;
const FIRST_INVOICE_SEQUENCE_END: u32 = 5_000;

/// The same for every subsidiary's credit-note sequence: far fewer than invoices.
const FIRST_CREDIT_NOTE_SEQUENCE_MIN: u32 = 100;
const FIRST_CREDIT_NOTE_SEQUENCE_END: u32 = 1_000;

/// Mixed into the seed for the generator of the customers' rarer turns (fixed forever, like the
/// namespace below: changing it changes every data set).
const TURNS_SEED_MIX: u64 = 0x5d3c_91a7_e24b_06f8;

/// The namespace of the demo's command ids (random, fixed forever: changing it would make a
/// second load of the same data set record everything again).
const COMMAND_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f1c_2d9e_4b7a_4c35_9e0d_5a1b_7c3f_2e81);

/// The demo data set for `seed` and `size`, its business dates ending `today`, in an order the
/// service accepts: every customer's opening credit limit first, then the facts by business
/// date (each customer's in the order they happened, mid-year limit reviews included). Only
/// the planted over-limit invoices are meant to be refused, and the domain's own account
/// refused them when the data set was made.
///
/// Besides invoices, payments (with remittance advice, oldest due first, or on account), limits
/// and promises, a few percent of the customers return goods (credit notes), dispute invoices
/// (some disputes expire, some are withdrawn, some upheld with a credit note), have a payment
/// bounce (reversed), have cash on account applied later, get overpayments or a rebate on
/// account refunded or applied, or go under (their long-overdue invoices written off by credit
/// control, [`DemoCommand::role`]).
///
/// Due dates and promised dates may lie after `today`; every other business date lies in the
/// window of `size.months` months ending `today`, which must not be after the service's own
/// date (it refuses payments received in the future). The result depends on nothing but the
/// arguments (and the random number generator of the `rand` release this was built with).
/// Command ids depend on the seed and the position only: the same seed with another `today`
/// gives other content under the same ids, which a service that holds the first load refuses
/// (`ALREADY_EXISTS`), so load a data set into a fresh service or with the same `today`.
pub fn generate(seed: u64, size: &DemoSize, today: NaiveDate) -> Vec<DemoCommand> {
    let generated = generate_with_accounts(seed, size, today);
    debug_assert_eq!(
        generated.unexpected, 0,
        "the generator's accounts did not take facts as the generator meant them"
    );
    generated.commands
}

/// A data set with what the generator's own accounts ended with.
pub(crate) struct Generated {
    pub(crate) commands: Vec<DemoCommand>,
    /// Facts the accounts did not take as meant, left out of the data set: zero unless the
    /// generator has a bug.
    pub(crate) unexpected: usize,
    /// Each customer's simulated account (by customer index), under provisional invoice
    /// numbers.
    #[cfg(test)]
    pub(crate) accounts: Vec<Option<receivables_domain::CustomerAccount>>,
}

pub(crate) fn generate_with_accounts(seed: u64, size: &DemoSize, today: NaiveDate) -> Generated {
    let customers = size.customers.min(CUSTOMERS_MAX);
    let months = size.months.clamp(1, MONTHS_MAX);
    let planted = size.over_limit_invoices.min(customers);
    let window = Window {
        start: window_start(today, months),
        today,
        months,
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut profiles = profiles(&mut rng, customers, planted);
    let mut turns = StdRng::seed_from_u64(seed ^ TURNS_SEED_MIX);
    deal_turns(&mut turns, &mut profiles);
    let first_numbers: Vec<u32> = SUBSIDIARIES
        .iter()
        .map(|_| rng.random_range(FIRST_INVOICE_SEQUENCE_MIN..FIRST_INVOICE_SEQUENCE_END))
        .collect();
    let mut decks = OutcomeDecks::default();
    let histories: Vec<History> = profiles
        .iter()
        .enumerate()
        .map(|(customer, profile)| {
            let customer_rng = StdRng::seed_from_u64(rng.random());
            let turns_rng = StdRng::seed_from_u64(turns.random());
            let ids = DecisionIds::new(seed, customer);
            simulate(profile, customer_rng, turns_rng, window, ids, &mut decks)
        })
        .collect();
    let first_credit_notes: Vec<u32> = SUBSIDIARIES
        .iter()
        .map(|_| rng.random_range(FIRST_CREDIT_NOTE_SEQUENCE_MIN..FIRST_CREDIT_NOTE_SEQUENCE_END))
        .collect();
    let numbers = Numbers {
        invoices: invoice_refs(&histories, &first_numbers),
        credit_notes: credit_note_numbers(&histories, &first_credit_notes),
    };
    let commands = assemble(seed, window, &profiles, &histories, &numbers);
    let unexpected = histories.iter().map(|h| h.unexpected).sum();
    Generated {
        commands,
        unexpected,
        #[cfg(test)]
        accounts: histories.into_iter().map(|h| h.account).collect(),
    }
}

/// The first business day of the data set: `months` months before `today`.
pub fn window_start(today: NaiveDate, months: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(months.clamp(1, MONTHS_MAX)))
        .unwrap_or(today)
}

/// The real numbers of every customer's invoices, by ordinal: in the order of issue across the
/// group, one sequence per subsidiary. Within one customer and subsidiary this is the order of
/// the ordinals, as it was for the provisional numbers the accounts decided with.
fn invoice_refs(
    histories: &[History],
    first_numbers: &[u32],
) -> Vec<BTreeMap<usize, pb::InvoiceRef>> {
    let mut issued: Vec<(NaiveDate, usize, usize, usize)> = histories
        .iter()
        .enumerate()
        .flat_map(|(customer, history)| {
            history
                .facts
                .iter()
                .filter_map(move |(date, fact)| match fact {
                    Fact::Invoice {
                        ordinal,
                        subsidiary,
                        ..
                    } => Some((*date, customer, *ordinal, *subsidiary)),
                    _ => None,
                })
        })
        .collect();
    issued.sort_unstable();
    let mut next_number: Vec<u32> = first_numbers.to_vec();
    let mut refs: Vec<BTreeMap<usize, pb::InvoiceRef>> = vec![BTreeMap::new(); histories.len()];
    for (date, customer, ordinal, subsidiary) in issued {
        let (Some(sequence), Some(customer_refs)) =
            (next_number.get_mut(subsidiary), refs.get_mut(customer))
        else {
            continue;
        };
        customer_refs.insert(
            ordinal,
            pb::InvoiceRef {
                subsidiary_id: SUBSIDIARIES[subsidiary].id.to_owned(),
                invoice_number: invoice_number(subsidiary, date, *sequence),
            },
        );
        *sequence += 1;
    }
    refs
}

/// The real numbers of every customer's credit notes, by ordinal: in the order of issue across
/// the group, one sequence per subsidiary.
fn credit_note_numbers(
    histories: &[History],
    first_numbers: &[u32],
) -> Vec<BTreeMap<usize, String>> {
    let mut issued: Vec<(NaiveDate, usize, usize, usize)> = histories
        .iter()
        .enumerate()
        .flat_map(|(customer, history)| {
            history
                .facts
                .iter()
                .filter_map(move |(date, fact)| match fact {
                    Fact::CreditNote {
                        ordinal,
                        subsidiary,
                        ..
                    } => Some((*date, customer, *ordinal, *subsidiary)),
                    _ => None,
                })
        })
        .collect();
    issued.sort_unstable();
    let mut next_number: Vec<u32> = first_numbers.to_vec();
    let mut numbers: Vec<BTreeMap<usize, String>> = vec![BTreeMap::new(); histories.len()];
    for (date, customer, ordinal, subsidiary) in issued {
        let (Some(sequence), Some(customer_numbers)) =
            (next_number.get_mut(subsidiary), numbers.get_mut(customer))
        else {
            continue;
        };
        customer_numbers.insert(ordinal, credit_note_number(subsidiary, date, *sequence));
        *sequence += 1;
    }
    numbers
}

/// The real numbers of every customer's invoices and credit notes.
struct Numbers {
    invoices: Vec<BTreeMap<usize, pb::InvoiceRef>>,
    credit_notes: Vec<BTreeMap<usize, String>>,
}

/// One customer's names in the data set: real numbers, and the command ids of the payments
/// assembled so far.
struct CustomerNames<'a> {
    invoices: Option<&'a BTreeMap<usize, pb::InvoiceRef>>,
    credit_notes: Option<&'a BTreeMap<usize, String>>,
    payments: Option<&'a BTreeMap<usize, String>>,
}

impl Names for CustomerNames<'_> {
    fn invoice(&self, ordinal: usize) -> pb::InvoiceRef {
        self.invoices
            .and_then(|refs| refs.get(&ordinal))
            .cloned()
            .unwrap_or_default()
    }

    fn credit_note(&self, ordinal: usize) -> String {
        self.credit_notes
            .and_then(|numbers| numbers.get(&ordinal))
            .cloned()
            .unwrap_or_default()
    }

    fn payment(&self, fact: usize) -> String {
        self.payments
            .and_then(|ids| ids.get(&fact))
            .cloned()
            .unwrap_or_default()
    }
}

/// The data set's requests with real numbers, and its command ids: a payment's id is known once
/// it is assembled, before any reversal of it (which comes later in the customer's order).
fn assemble(
    seed: u64,
    window: Window,
    profiles: &[Profile],
    histories: &[History],
    numbers: &Numbers,
) -> Vec<DemoCommand> {
    let mut commands = Vec::new();
    let no_names = CustomerNames {
        invoices: None,
        credit_notes: None,
        payments: None,
    };
    for (profile, history) in profiles.iter().zip(histories) {
        if let Some(opening) = &history.opening {
            let mut command = wire::request(profile, window.start, opening, &no_names);
            command.set_command_id(command_id(seed, commands.len()));
            commands.push(command);
        }
    }
    let mut timeline: Vec<(NaiveDate, usize, usize)> = histories
        .iter()
        .enumerate()
        .flat_map(|(customer, history)| {
            history
                .facts
                .iter()
                .enumerate()
                .map(move |(index, (date, _))| (*date, customer, index))
        })
        .collect();
    timeline.sort_unstable();
    let mut payments: Vec<BTreeMap<usize, String>> = vec![BTreeMap::new(); histories.len()];
    for (date, customer, index) in timeline {
        let (Some(profile), Some((_, fact))) = (
            profiles.get(customer),
            histories.get(customer).and_then(|h| h.facts.get(index)),
        ) else {
            continue;
        };
        let names = CustomerNames {
            invoices: numbers.invoices.get(customer),
            credit_notes: numbers.credit_notes.get(customer),
            payments: payments.get(customer),
        };
        let mut command = wire::request(profile, date, fact, &names);
        let id = command_id(seed, commands.len());
        if matches!(fact, Fact::Payment { .. })
            && let Some(ids) = payments.get_mut(customer)
        {
            ids.insert(index, id.clone());
        }
        command.set_command_id(id);
        commands.push(command);
    }
    // The group's settings and the customers' records last, each in a lane of its own: the
    // reports the demo prints name the customers and their collectors, and show the other
    // currencies in CNY too. None of them changes what a customer owes.
    let mut settings: Vec<DemoCommand> = SUBSIDIARIES.iter().map(wire::default_collector).collect();
    settings.extend(
        rate_dates(window)
            .into_iter()
            .enumerate()
            .map(|(month, date)| wire::rates(date, month)),
    );
    settings.extend(
        profiles
            .iter()
            .enumerate()
            .map(|(index, profile)| wire::registration(profile, index)),
    );
    for mut command in settings {
        command.set_command_id(command_id(seed, commands.len()));
        commands.push(command);
    }
    commands
}

/// The dates the treasury publishes rates for: the window's first day, then every month end
/// up to `today`.
fn rate_dates(window: Window) -> Vec<NaiveDate> {
    let mut dates = vec![window.start];
    let mut end = month_end(window.start);
    while end <= window.today {
        if end != window.start {
            dates.push(end);
        }
        let Some(next) = end.checked_add_days(chrono::Days::new(1)) else {
            break;
        };
        end = month_end(next);
    }
    dates
}

/// The id of the `index`th command of the data set for `seed`: a UUID version 5 over
/// [`COMMAND_ID_NAMESPACE`] and the two numbers, so that a second load sends the same ids and
/// the service records nothing new.
pub(crate) fn command_id(seed: u64, index: usize) -> String {
    let index = u64::try_from(index).unwrap_or(u64::MAX);
    let mut name = [0u8; 16];
    let (seed_bytes, index_bytes) = name.split_at_mut(8);
    seed_bytes.copy_from_slice(&seed.to_be_bytes());
    index_bytes.copy_from_slice(&index.to_be_bytes());
    uuid::Uuid::new_v5(&COMMAND_ID_NAMESPACE, &name)
        .hyphenated()
        .to_string()
}
