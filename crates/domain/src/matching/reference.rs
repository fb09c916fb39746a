//! Which documents a receipt's reference names, and whether it names them unambiguously.
//!
//! A reference is read stretch by stretch ([`keys::reference_windows`]); a stretch whose text is
//! a key of a document names that document at the key's kind. A stretch names one thing, read
//! the strongest way it can be: `SHT-INV-2026-000123` names that invoice exactly, and its tail
//! `2026-000123`, which is also the digits of `SZE/2026/000123`, does not name that one as well.
//! So the readings are taken strongest first (then longest first, then from the left), and one
//! that overlaps a reading already taken is dropped, unless it reads the same stretch at the
//! same kind: then the stretch names several documents, and when those belong to several
//! customers, it is ambiguous.

use std::collections::BTreeMap;

use super::OpenDocument;
use super::keys::{self, KeyKind, Window};

/// A document the reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Named {
    /// Its position among the documents given.
    pub(crate) document: usize,
    /// The strongest kind of key it was named by.
    pub(crate) kind: KeyKind,
    /// The same stretch names a document of another customer just as strongly.
    pub(crate) ambiguous: bool,
}

/// The documents the reference names, in the order of `documents`, each once.
pub(crate) fn named(reference: &str, documents: &[OpenDocument]) -> Vec<Named> {
    let mut index: BTreeMap<String, Vec<(usize, KeyKind)>> = BTreeMap::new();
    for (document, open) in documents.iter().enumerate() {
        for key in keys::document_keys(&open.number) {
            index
                .entry(key.text)
                .or_default()
                .push((document, key.kind));
        }
    }
    let windows = keys::reference_windows(reference);
    let mut readings: Vec<(KeyKind, usize, usize)> = Vec::new();
    for (position, window) in windows.iter().enumerate() {
        for text in &window.texts {
            for (document, kind) in index.get(text).into_iter().flatten() {
                readings.push((*kind, position, *document));
            }
        }
    }
    readings.sort_by(|a, b| {
        let (wa, wb) = (&windows[a.1], &windows[b.1]);
        a.0.cmp(&b.0)
            .then(wb.runs.len().cmp(&wa.runs.len()))
            .then(wa.runs.start.cmp(&wb.runs.start))
            .then(a.2.cmp(&b.2))
    });
    let mut taken: Vec<(KeyKind, usize, usize)> = Vec::new();
    for reading in readings {
        let (kind, position, document) = reading;
        let window: &Window = &windows[position];
        let already = taken.iter().any(|t| t.2 == document);
        let clashes = taken.iter().any(|t| {
            let other = &windows[t.1];
            other.overlaps(window) && (t.0 != kind || other.runs != window.runs)
        });
        if !already && !clashes {
            taken.push(reading);
        }
    }
    let mut named: Vec<Named> = taken
        .iter()
        .map(|(kind, position, document)| {
            let stretch = &windows[*position].runs;
            let customer = &documents[*document].customer;
            let ambiguous = taken.iter().any(|(other_kind, other_position, other)| {
                *other_kind == *kind
                    && windows[*other_position].runs == *stretch
                    && documents[*other].customer != *customer
            });
            Named {
                document: *document,
                kind: *kind,
                ambiguous,
            }
        })
        .collect();
    named.sort_by_key(|n| n.document);
    named
}
