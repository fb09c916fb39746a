//! Keys: the forms a document number takes in a bank reference, and the normal form of a
//! payer's name or account.
//!
//! Payers type invoice numbers by hand, banks cut and re-case them, and each subsidiary's ERP
//! writes them its own way (`SHT-INV-2026-000123`, `SZE/2026/000045`, `HKS-202603-000007`). A
//! number is read as *segments*: maximal runs of letters or of digits, whatever separated them.
//! Separators and case never matter; the keys differ in what else they forgive:
//!
//! | kind | forgives | `SHT-INV-2026-000123` |
//! | --- | --- | --- |
//! | `Exact` | separators, case | `SHTINV2026000123` |
//! | `NoLeadingZeros` | and the leading zeros of each digit segment | `SHTINV2026-123` |
//! | `NoPrefix` | and the first letters (the subsidiary's prefix) | `INV2026000123`, `INV2026-123` |
//! | `DigitsOnly` | and every letter | `2026000123`, `2026-123` |
//!
//! Where leading zeros are dropped, a `-` stands between two digit segments: without it
//! `2026-000123` and `20261-23` would both read `2026123`. Letters need no mark, since a letter
//! next to a digit is a boundary either way.
//!
//! The read side stores [`document_keys`] for every open document and looks up the
//! [`reference_keys`] of a receipt; the engine reads the same keys again to know which part of
//! the reference named which document (`reference.rs`).

use serde::{Deserialize, Serialize};

use super::{KEY_ALPHANUMERICS_MIN, REFERENCE_CHARS_MAX, REFERENCE_JOIN_MAX, REFERENCE_KEYS_MAX};
use crate::limits::INVOICE_NUMBER_LENGTH_MAX;

/// How much of a number's mangling a key forgives. Declared strongest first, so that the
/// smaller of two kinds (by `Ord`) is the stronger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeyKind {
    /// Every letter and digit, upper-cased.
    Exact,
    /// The leading zeros of each digit segment dropped.
    NoLeadingZeros,
    /// The first letter segment (the subsidiary's prefix) dropped, with and without leading
    /// zeros; only for numbers that keep letters after it (`SHT-INV-...` gives `INV...`).
    NoPrefix,
    /// The digits alone, with and without leading zeros: a year and a sequence that many
    /// documents of many subsidiaries may share.
    DigitsOnly,
}

/// One form of a document number, as the read side indexes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Key {
    pub text: String,
    pub kind: KeyKind,
}

/// A run of letters or of digits inside a number or a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Letters,
    Digits,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    text: String,
    class: Class,
}

/// Full-width ASCII forms (U+FF01..U+FF5E) as ASCII, the ideographic space as a space: Chinese
/// input methods type `ＩＮＶ－２０２６` as readily as `INV-2026`.
pub(crate) fn fold_width(c: char) -> char {
    const FULL_WIDTH_FIRST: u32 = 0xFF01;
    const FULL_WIDTH_LAST: u32 = 0xFF5E;
    const FULL_WIDTH_OFFSET: u32 = 0xFEE0;
    const IDEOGRAPHIC_SPACE: char = '\u{3000}';
    let code = u32::from(c);
    if (FULL_WIDTH_FIRST..=FULL_WIDTH_LAST).contains(&code) {
        char::from_u32(code - FULL_WIDTH_OFFSET).unwrap_or(c)
    } else if c == IDEOGRAPHIC_SPACE {
        ' '
    } else {
        c
    }
}

/// The maximal runs of ASCII letters and digits of `text`, upper-cased, widths folded; anything
/// else (spaces, punctuation, Chinese characters) separates runs.
fn runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in text.chars().take(REFERENCE_CHARS_MAX).map(fold_width) {
        if c.is_ascii_alphanumeric() {
            current.push(c.to_ascii_uppercase());
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The segments of consecutive runs, in order: a run boundary and a change between letters and
/// digits both end a segment.
fn segments<'a>(runs: impl IntoIterator<Item = &'a String>) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for run in runs {
        let mut current: Option<Segment> = None;
        for c in run.chars() {
            let class = if c.is_ascii_digit() {
                Class::Digits
            } else {
                Class::Letters
            };
            match current.as_mut() {
                Some(segment) if segment.class == class => segment.text.push(c),
                _ => {
                    segments.extend(current.take());
                    current = Some(Segment {
                        text: c.to_string(),
                        class,
                    });
                }
            }
        }
        segments.extend(current);
    }
    segments
}

/// Every letter and digit, in order.
fn joined(segments: &[Segment]) -> String {
    segments.iter().map(|s| s.text.as_str()).collect()
}

/// Leading zeros of each digit segment dropped (`0` stays `0`), a `-` between two digit
/// segments.
fn without_leading_zeros(segments: &[Segment]) -> String {
    let mut text = String::new();
    let mut previous = None;
    for segment in segments {
        match segment.class {
            Class::Letters => text.push_str(&segment.text),
            Class::Digits => {
                if previous == Some(Class::Digits) {
                    text.push('-');
                }
                let trimmed = segment.text.trim_start_matches('0');
                text.push_str(if trimmed.is_empty() { "0" } else { trimmed });
            }
        }
        previous = Some(segment.class);
    }
    text
}

fn alphanumerics(text: &str) -> usize {
    text.chars().filter(char::is_ascii_alphanumeric).count()
}

/// The keys of a document number, strongest first, each text once (under its strongest kind).
/// Keys weaker than `Exact` need [`KEY_ALPHANUMERICS_MIN`] letters and digits: `7` or `2026`
/// alone would name half the ledger. Empty for a number without letters or digits.
pub fn document_keys(number: &str) -> Vec<Key> {
    let segments = segments(&runs(number));
    if segments.is_empty() {
        return Vec::new();
    }
    let mut candidates = vec![
        (joined(&segments), KeyKind::Exact),
        (without_leading_zeros(&segments), KeyKind::NoLeadingZeros),
    ];
    let leading_letters = segments
        .iter()
        .take_while(|s| s.class == Class::Letters)
        .count();
    if leading_letters >= 2 {
        let rest = &segments[1..];
        candidates.push((joined(rest), KeyKind::NoPrefix));
        candidates.push((without_leading_zeros(rest), KeyKind::NoPrefix));
    }
    let digits: Vec<Segment> = segments
        .iter()
        .filter(|s| s.class == Class::Digits)
        .cloned()
        .collect();
    if !digits.is_empty() {
        candidates.push((joined(&digits), KeyKind::DigitsOnly));
        candidates.push((without_leading_zeros(&digits), KeyKind::DigitsOnly));
    }
    let mut keys: Vec<Key> = Vec::new();
    for (text, kind) in candidates {
        let long_enough = kind == KeyKind::Exact || alphanumerics(&text) >= KEY_ALPHANUMERICS_MIN;
        if long_enough && !keys.iter().any(|key| key.text == text) {
            keys.push(Key { text, kind });
        }
    }
    keys
}

/// A stretch of adjacent runs of a reference, and the key texts it reads as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// The first run of the stretch and the one after its last.
    pub(crate) runs: std::ops::Range<usize>,
    /// Its letters and digits as they stand, then without leading zeros (when that differs).
    pub(crate) texts: Vec<String>,
}

impl Window {
    pub(crate) fn overlaps(&self, other: &Window) -> bool {
        self.runs.start < other.runs.end && other.runs.start < self.runs.end
    }
}

/// Every stretch of 1 to [`REFERENCE_JOIN_MAX`] adjacent runs of the reference that could be a
/// number (no longer than [`INVOICE_NUMBER_LENGTH_MAX`]), from the left.
pub(crate) fn reference_windows(reference: &str) -> Vec<Window> {
    let runs = runs(reference);
    let mut windows = Vec::new();
    for start in 0..runs.len() {
        for end in start + 1..=(start + REFERENCE_JOIN_MAX).min(runs.len()) {
            let length: usize = runs[start..end].iter().map(String::len).sum();
            if length > INVOICE_NUMBER_LENGTH_MAX {
                break;
            }
            let segments = segments(&runs[start..end]);
            let exact = joined(&segments);
            let stripped = without_leading_zeros(&segments);
            let mut texts = vec![exact];
            if !texts.contains(&stripped) {
                texts.push(stripped);
            }
            windows.push(Window {
                runs: start..end,
                texts,
            });
        }
    }
    windows
}

/// Every key text the reference could hold: its runs of letters and digits, alone and joined
/// with up to [`REFERENCE_JOIN_MAX`] - 1 runs after them, as they stand and without leading
/// zeros; each text once, from the left, at most [`REFERENCE_KEYS_MAX`].
pub fn reference_keys(reference: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for window in reference_windows(reference) {
        for text in window.texts {
            if keys.len() == REFERENCE_KEYS_MAX {
                return keys;
            }
            if !keys.contains(&text) {
                keys.push(text);
            }
        }
    }
    keys
}

/// Words that say what kind of company a name is, not which: dropped from the end of a name
/// (after punctuation is gone, so `Co., Ltd.` is `CO LTD`).
const COMPANY_SUFFIX_WORDS: [&str; 11] = [
    "CO",
    "COMPANY",
    "LTD",
    "LIMITED",
    "INC",
    "INCORPORATED",
    "CORP",
    "CORPORATION",
    "GMBH",
    "LLC",
    "PLC",
];

/// The Chinese forms of the same, longest first so that `股份有限公司` goes whole.
const COMPANY_SUFFIXES_CHINESE: [&str; 4] = ["股份有限公司", "有限责任公司", "有限公司", "公司"];

/// A payer's name or account in the form the read side indexes and the engine compares: widths
/// folded, upper-cased, company suffixes dropped from the end (`Co., Ltd.`, `Limited`, `GmbH`,
/// `有限公司`...), then everything but letters and digits dropped (spaces, dashes, punctuation),
/// so that `6222 0210-0112` and `62220210 0112` are one account. `None` when nothing is left.
///
/// One function for names and accounts: an account has no suffix words to lose, and the caller
/// need not say which a statement line's field holds.
pub fn payer_key(text: &str) -> Option<String> {
    let folded: String = text
        .chars()
        .map(fold_width)
        .flat_map(char::to_uppercase)
        .collect();
    let mut words: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    while let Some(last) = words.last_mut() {
        if COMPANY_SUFFIX_WORDS.contains(&last.as_str()) {
            words.pop();
            continue;
        }
        match COMPANY_SUFFIXES_CHINESE
            .iter()
            .find(|suffix| last.ends_with(*suffix))
        {
            Some(suffix) => {
                last.truncate(last.len() - suffix.len());
                if last.is_empty() {
                    words.pop();
                }
            }
            None => break,
        }
    }
    let key: String = words.concat();
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_at_separators_and_between_letters_and_digits() {
        let segments = segments(&runs("inv2026-0012"));
        let texts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["INV", "2026", "0012"]);
    }

    #[test]
    fn windows_never_join_more_than_the_limit() {
        let windows = reference_windows("A B C D E F G");
        assert!(windows.iter().all(|w| w.runs.len() <= REFERENCE_JOIN_MAX));
        // Seven runs, five at a time: 5 + 5 + 5 from the first three, then 4, 3, 2 and 1.
        assert_eq!(windows.len(), 25);
    }
}
