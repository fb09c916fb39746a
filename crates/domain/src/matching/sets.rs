//! The set of a customer's open invoices that a receipt pays together: a bounded subset sum.
//!
//! Customers pay a remittance of several invoices with one transfer. Which ones is a subset sum,
//! exponential in general, so the search is bounded three ways: the caller passes at most
//! `SET_DOCUMENTS_MAX` invoices (the oldest due, which a payer clears first), a set holds at most
//! `SET_SIZE_MAX` of them, and the search stops after `SET_SEARCH_STEPS_MAX` steps, finding
//! nothing rather than something found in a hurry.
//!
//! The search runs depth first over the invoices in the order given (oldest due first), so the
//! first set it finds is the smallest in lexicographic order of positions: the one that pays the
//! oldest invoice it can, then the oldest next one, and so on.

/// The positions (ascending) of the first set of 2 to `size_max` amounts that add up to
/// `target`, in integer minor units. Every amount must be positive. `None` when no such set
/// exists or the search took more than `steps_max` steps.
pub(crate) fn oldest_set(
    amounts: &[i128],
    target: i128,
    size_max: usize,
    steps_max: usize,
) -> Option<Vec<usize>> {
    debug_assert!(amounts.iter().all(|amount| *amount > 0));
    if target <= 0 || size_max < 2 {
        return None;
    }
    // What the amounts from each position on add up to: a branch that cannot reach the target
    // any more is left at once.
    let mut after = vec![0i128; amounts.len() + 1];
    for position in (0..amounts.len()).rev() {
        after[position] = after[position + 1] + amounts[position];
    }
    let mut search = Search {
        amounts,
        after: &after,
        target,
        size_max,
        steps_left: steps_max,
        chosen: Vec::with_capacity(size_max),
    };
    match search.from(0, 0) {
        Outcome::Found => Some(search.chosen),
        Outcome::NotFound | Outcome::OutOfSteps => None,
    }
}

enum Outcome {
    Found,
    NotFound,
    OutOfSteps,
}

struct Search<'a> {
    amounts: &'a [i128],
    after: &'a [i128],
    target: i128,
    size_max: usize,
    steps_left: usize,
    chosen: Vec<usize>,
}

impl Search<'_> {
    /// Extends `chosen` (adding up to `sum`) with positions from `start` on.
    fn from(&mut self, start: usize, sum: i128) -> Outcome {
        if self.chosen.len() == self.size_max {
            return Outcome::NotFound;
        }
        for position in start..self.amounts.len() {
            if sum + self.after[position] < self.target {
                return Outcome::NotFound;
            }
            if self.steps_left == 0 {
                return Outcome::OutOfSteps;
            }
            self.steps_left -= 1;
            let with = sum + self.amounts[position];
            if with > self.target {
                continue;
            }
            self.chosen.push(position);
            if with == self.target {
                if self.chosen.len() >= 2 {
                    return Outcome::Found;
                }
            } else {
                match self.from(position + 1, with) {
                    Outcome::NotFound => {}
                    found_or_out => return found_or_out,
                }
            }
            self.chosen.pop();
        }
        Outcome::NotFound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_with_the_oldest_invoices_is_found_first() {
        // Both {0, 3} and {1, 2} add up to 10: the one with position 0 pays the oldest.
        assert_eq!(oldest_set(&[4, 5, 5, 6], 10, 6, 1_000), Some(vec![0, 3]));
    }

    #[test]
    fn a_single_amount_is_not_a_set() {
        assert_eq!(oldest_set(&[10, 3], 10, 6, 1_000), None);
    }

    #[test]
    fn sets_are_no_larger_than_the_limit() {
        assert_eq!(oldest_set(&[1, 1, 1, 1], 4, 3, 1_000), None);
        assert_eq!(
            oldest_set(&[1, 1, 1, 1], 4, 4, 1_000),
            Some(vec![0, 1, 2, 3])
        );
    }

    #[test]
    fn a_search_out_of_steps_finds_nothing() {
        let amounts = [3i128; 20];
        assert_eq!(oldest_set(&amounts, 1, 6, 1_000_000), None);
        assert_eq!(oldest_set(&amounts, 18, 6, 5), None);
        assert_eq!(
            oldest_set(&amounts, 18, 6, 1_000_000),
            Some(vec![0, 1, 2, 3, 4, 5])
        );
    }
}
