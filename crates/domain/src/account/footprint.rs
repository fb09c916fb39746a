//! What an account holds in memory, estimated from the lengths and capacities of what it keeps,
//! so that the command service can bound its cache of accounts in bytes: an account keeps every
//! document of its history (a paid invoice can be re-opened by a reversal, credited, disputed),
//! so its memory grows with its history, and a cache bounded only in customers is not bounded
//! in bytes.
//!
//! Counted: each collection's storage (a B-tree's nodes, a hash table's buckets and control
//! bytes, a vector's capacity) and the text each key and name holds on the heap. Not counted:
//! the allocator's own rounding and bookkeeping per allocation, and the group's settings
//! (exchange rates, payment terms), which are shared and held once. `tests/account_footprint.rs`
//! checks the estimate against a counting allocator for histories of several shapes.

use std::collections::{BTreeMap, HashMap};
use std::mem::size_of;

use super::state::{
    AccountState, CreditNoteState, InvoiceState, PaymentState, PromiseState, ReservationState,
};
use super::{AcceptedCommand, CustomerAccount};
use crate::allocation::Allocation;
use crate::dated::DatedBalance;
use crate::ids::{BankLineId, CommandId, CreditNoteKey, InvoiceKey, OrderKey};

/// Entries a node of the standard library's B-tree has room for (its `CAPACITY`).
const BTREE_NODE_ENTRIES: usize = 11;

/// How full a B-tree's nodes are on average, in percent. Keys added in order (invoice numbers
/// mostly are) leave each node split off the end with 6 of its 11 entries (55 %); keys added
/// at random (command ids) fill nodes to about 70 %.
const BTREE_FILL_PERCENT: usize = 62;

/// A B-tree node's own fields besides its entries: the parent pointer, index and length.
const BTREE_NODE_HEADER: usize = 16;

/// Of a B-tree's nodes, how many in a hundred are internal ones (each with its 12 child
/// pointers): one for about every six leaves.
const BTREE_INTERNAL_PERCENT: usize = 15;

impl CustomerAccount {
    /// An estimate, in bytes, of the memory the account holds (this module's notes say what is
    /// counted).
    pub fn estimated_bytes(&self) -> usize {
        size_of::<CustomerAccount>()
            + hash_map_bytes::<CommandId, AcceptedCommand>(&self.accepted)
            + self.state.estimated_heap_bytes()
    }
}

impl AccountState {
    /// What the account's documents hold besides the struct itself.
    fn estimated_heap_bytes(&self) -> usize {
        let promises = vec_bytes(&self.promises)
            + self
                .promises
                .iter()
                .map(PromiseState::heap_bytes)
                .sum::<usize>();
        btree_with(&self.invoices, InvoiceState::heap_bytes)
            + btree_with(&self.payments, PaymentState::heap_bytes)
            + btree_with(&self.credit_notes, CreditNoteState::heap_bytes)
            + btree_with(&self.reservations, ReservationState::heap_bytes)
            + btree_with(&self.unapplied, DatedBalance::heap_bytes)
            + btree_with(&self.unapplied_credit, DatedBalance::heap_bytes)
            + promises
            + btree_with(&self.bank.lines, |line| line.digest.capacity())
            + self
                .bank
                .lines
                .keys()
                .map(BankLineId::heap_bytes)
                .sum::<usize>()
    }
}

impl InvoiceState {
    fn heap_bytes(&self) -> usize {
        invoice_key_bytes(&self.key)
            + self.history.heap_bytes()
            + vec_bytes(&self.disputes)
            + vec_bytes(&self.schedule)
            + vec_bytes(&self.plans)
            + self
                .plans
                .iter()
                .map(|plan| vec_bytes(&plan.rows) + plan.collector.heap_bytes())
                .sum::<usize>()
    }
}

impl PaymentState {
    fn heap_bytes(&self) -> usize {
        self.subsidiary_id.heap_bytes()
            + allocations_bytes(&self.allocations)
            + allocations_bytes(&self.discounts)
    }
}

impl CreditNoteState {
    fn heap_bytes(&self) -> usize {
        credit_note_key_bytes(&self.key)
            + self.reason.capacity()
            + self.invoice.as_ref().map_or(0, invoice_key_bytes)
    }
}

impl ReservationState {
    fn heap_bytes(&self) -> usize {
        order_key_bytes(&self.key) + self.history.heap_bytes()
    }
}

impl PromiseState {
    fn heap_bytes(&self) -> usize {
        self.subsidiary_id.heap_bytes()
            + vec_bytes(&self.invoices)
            + self.invoices.iter().map(invoice_key_bytes).sum::<usize>()
            + self.collector.heap_bytes()
    }
}

fn invoice_key_bytes(key: &InvoiceKey) -> usize {
    key.subsidiary_id.heap_bytes() + key.invoice_number.heap_bytes()
}

fn credit_note_key_bytes(key: &CreditNoteKey) -> usize {
    key.subsidiary_id.heap_bytes() + key.credit_note_number.heap_bytes()
}

fn order_key_bytes(key: &OrderKey) -> usize {
    key.subsidiary_id.heap_bytes() + key.order_number.heap_bytes()
}

fn allocations_bytes(allocations: &Vec<Allocation>) -> usize {
    vec_bytes(allocations)
        + allocations
            .iter()
            .map(|allocation| invoice_key_bytes(&allocation.invoice))
            .sum::<usize>()
}

/// A vector's buffer.
fn vec_bytes<T>(items: &Vec<T>) -> usize {
    items.capacity() * size_of::<T>()
}

/// A B-tree's nodes and what each of its values holds on the heap.
fn btree_with<K, V>(map: &BTreeMap<K, V>, heap_bytes: impl Fn(&V) -> usize) -> usize {
    btree_bytes(map) + map.values().map(heap_bytes).sum::<usize>()
}

/// A B-tree's nodes, from its length and [`BTREE_FILL_PERCENT`].
fn btree_bytes<K, V>(map: &BTreeMap<K, V>) -> usize {
    if map.is_empty() {
        return 0;
    }
    let node = BTREE_NODE_HEADER + BTREE_NODE_ENTRIES * (size_of::<K>() + size_of::<V>());
    let per_node = (BTREE_NODE_ENTRIES * BTREE_FILL_PERCENT / 100).max(1);
    let leaves = map.len().div_ceil(per_node);
    let internal = leaves * BTREE_INTERNAL_PERCENT / 100;
    let edges = (BTREE_NODE_ENTRIES + 1) * size_of::<usize>();
    leaves * node + internal * (node + edges)
}

/// A hash table's buckets and control bytes: the standard library's table keeps its capacity
/// at seven eighths of a power-of-two number of buckets, with one control byte per bucket and
/// a group's width more.
fn hash_map_bytes<K, V>(map: &HashMap<K, V>) -> usize {
    let capacity = map.capacity();
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        (capacity + 1).next_power_of_two()
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    buckets * (size_of::<K>() + size_of::<V>() + 1) + 16
}
