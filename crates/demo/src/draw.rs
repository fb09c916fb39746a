//! Drawing from the seeded random number generator: decks, picks, weighted picks, chances.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// A shuffled deck of `count` cards with the given percentage shares, each kind at least once
/// when there are enough cards; the first kind fills up what rounding left.
pub(crate) fn deck<T: Copy>(rng: &mut StdRng, count: usize, shares: &[(T, usize)]) -> Vec<T> {
    let mut cards = Vec::with_capacity(count);
    for (value, percent) in shares {
        let share = (count * percent / 100).max(usize::from(count >= shares.len()));
        cards.extend(std::iter::repeat_n(*value, share));
    }
    if let Some((filler, _)) = shares.first() {
        while cards.len() < count {
            cards.push(*filler);
        }
    }
    cards.truncate(count);
    cards.shuffle(rng);
    cards
}

pub(crate) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    items.get(rng.random_range(0..items.len())).copied()
}

pub(crate) fn pick_weighted<T: Copy>(rng: &mut StdRng, table: &[(T, u32)]) -> Option<T> {
    let total: u32 = table.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (value, weight) in table {
        if roll < *weight {
            return Some(*value);
        }
        roll -= weight;
    }
    table.last().map(|(value, _)| *value)
}

pub(crate) fn chance(rng: &mut StdRng, percent: u32) -> bool {
    rng.random_ratio(percent.min(100), 100)
}

pub(crate) fn round_up(amount: i64, step: i64) -> i64 {
    amount.div_euclid(step) * step + if amount.rem_euclid(step) > 0 { step } else { 0 }
}
