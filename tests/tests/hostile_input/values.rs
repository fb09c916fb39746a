//! Values for the fuzz targets: mostly valid ones from small pools (so that commands are
//! accepted, ids collide and invoices exist to be paid), near-valid ones (a valid value with one
//! bad character, one character short, one too many) and hostile or fully arbitrary ones.

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::Value;

/// Characters that must not get into an id, and a few that may, to insert into valid values.
pub const ODD_CHARACTERS: &[char] = &[
    '.', '*', '>', ' ', '\t', '\n', '\r', '\0', '\u{7f}', '\u{1b}', 'é', '\u{200b}', '\u{202e}',
    '/', '\\', '"', '\'', '%', 'Ａ', '😀', '\u{fffd}', '-', '_', ':', '{', '}', '٣',
];

pub const CUSTOMERS: &[&str] = &["ACME", "BETA-2", "c_3"];
pub const SUBSIDIARIES: &[&str] = &["SH", "SZ-1", "hk_2"];
pub const INVOICE_NUMBERS: &[&str] = &["INV-1", "INV-2", "SO/2026/17", "a.b", "7"];

pub const CURRENCIES: &[&str] = &["CNY", "USD", "HKD", "JPY", "KWD"];
pub const ODD_CURRENCIES: &[&str] = &[
    "cny",
    "Cny",
    "XAU",
    "XXX",
    "XTS",
    "ABC",
    "",
    "CN",
    "CNYY",
    "ＣＮＹ",
    "CNY ",
    " CNY",
    "USN",
    "CLF",
    "UYW",
    "BOV",
    "VES",
    "ZWL",
    "CN\0",
    "€",
];

pub const AMOUNTS: &[&str] = &[
    "1",
    "0.01",
    "250.00",
    "1000",
    "12345.6",
    "99999.99",
    "500000000000",
    "999999999999.99",
    "1000000000000",
    "1000000000000.00",
];
pub const ODD_AMOUNTS: &[&str] = &[
    "0",
    "0.00",
    "-0",
    "-1",
    "-0.01",
    "1.001",
    "1.0000000000000000000000000000001",
    "1.00000000000000000000000000000000000009",
    "0.0000000000000000000000000000001",
    "00000000000000000000000000000000000001",
    "1.000000000000000000000000000000",
    "1000000000000.01",
    "1000000000001",
    "79228162514264337593543950335",
    "79228162514264337593543950336",
    "99999999999999999999999999999999999999",
    "999999999999999999999999999999999999999999",
    "1e5",
    "1E+3",
    "1e-2",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1,00",
    "1_000",
    " 1",
    "1 ",
    "+1",
    "1.",
    ".5",
    "0x10",
    "--1",
    "١٢٣",
    "１２３",
    "١.٥",
    "½",
    "",
    "-",
    ".",
];

pub const DATES: &[&str] = &[
    "1990-01-01",
    "2024-01-31",
    "2024-02-29",
    "2024-06-30",
    "2025-01-01",
    "2025-03-15",
    "2025-12-31",
    "2026-01-10",
];
pub const LATER_DATES: &[&str] = &["2026-02-09", "2026-06-30", "2030-06-30", "2199-12-31"];
pub const ODD_DATES: &[&str] = &[
    "1989-12-31",
    "2200-01-01",
    "2025-02-29",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "2026-01-32",
    "2026-1-1",
    "+2026-01-01",
    "20260101",
    "2026-01-01T00:00:00Z",
    "2026-01-01 ",
    "2026/01/01",
    "٢٠٢٦-٠١-٠١",
    "２０２６-０１-０１",
    "",
    "0000-00-00",
    "-001-01-01",
    "9999-12-31",
    "262143-12-31",
    "+262143-12-31",
    "-262144-01-01",
];

pub const TEXTS: &[&str] = &["", "ref 1", "付款 参考", "line\nbreak\ttab\r", "  spaced  "];
pub const ODD_TEXTS: &[&str] = &[
    "\0",
    "a\u{0}b",
    "\u{1b}[31mred",
    "\u{202e}evil",
    "\u{7f}",
    "\u{85}",
    "   ",
    "\n\t",
    "\u{feff}",
    "🏦💸",
];

pub const NAMES: &[&str] = &["Wang Li", "collector-1", "  padded  ", "李雷", "O'Brien"];
pub const ODD_NAMES: &[&str] = &["", "   ", "a\0b", "\t", "x\ny", "\u{202e}", "\u{1f}"];

/// Command ids that several commands share: a retry, or an id reused with other content.
pub const SHARED_COMMAND_IDS: &[&str] = &[
    "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "6ba7b810-9dad-41d1-80b4-00c04fd430c8",
    "00000000-0000-4000-8000-000000000001",
];
pub const ODD_COMMAND_IDS: &[&str] = &[
    "",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "not-a-uuid",
    "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
    "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
    "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "3f2504e04f8941d39a0c0305e82c3301",
    "3f2504e0-4f89-41d3-9a0c-0305e82c330",
    "3f2504e0-4f89-41d3-9a0c-0305e82c33011",
    "3f2504e0-4f89-41d3-9a0c-0305e82c330g",
    " 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
];

/// Any text at all, control characters included.
pub fn arbitrary_text(max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(any::<char>(), 0..=max)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

/// `text` with `character` inserted before the character `at` picks.
pub fn insert_character(text: &str, at: Index, character: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let position = at.index(chars.len() + 1);
    chars.insert(position, character);
    chars.into_iter().collect()
}

/// `text` without the character `at` picks.
pub fn remove_character(text: &str, at: Index) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if !chars.is_empty() {
        chars.remove(at.index(chars.len()));
    }
    chars.into_iter().collect()
}

/// A near-valid variant of a valid text: one odd character in, one character out, or the text
/// repeated past a length limit.
pub fn near(valid: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        (select(valid), any::<Index>(), select(ODD_CHARACTERS))
            .prop_map(|(text, at, character)| insert_character(text, at, character)),
        (select(valid), any::<Index>()).prop_map(|(text, at)| remove_character(text, at)),
        (select(valid), 2usize..140).prop_map(|(text, times)| text.repeat(times)),
        select(valid).prop_map(|text| text.to_lowercase()),
    ]
    .boxed()
}

/// Mostly `valid`, sometimes near-valid, hostile or arbitrary.
pub fn text(valid: &'static [&'static str], odd: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        12 => select(valid).prop_map(str::to_owned),
        3 => near(valid),
        2 => select(odd).prop_map(str::to_owned),
        1 => arbitrary_text(24),
    ]
    .boxed()
}

/// Exactly at a length limit, or one past it, in one- and two-byte characters.
pub fn at_limit(limit: usize) -> BoxedStrategy<String> {
    prop_oneof![
        Just("x".repeat(limit)),
        Just("x".repeat(limit + 1)),
        Just("é".repeat(limit)),
        Just("é".repeat(limit + 1)),
        Just(format!("{}\0", "y".repeat(limit - 1))),
    ]
    .boxed()
}

/// Free text bounded by `limit` characters.
pub fn free_text(limit: usize) -> BoxedStrategy<String> {
    prop_oneof![
        8 => select(TEXTS).prop_map(str::to_owned),
        2 => select(ODD_TEXTS).prop_map(str::to_owned),
        1 => at_limit(limit),
        1 => arbitrary_text(40),
    ]
    .boxed()
}

/// A person's name (approver, collector).
pub fn name() -> BoxedStrategy<String> {
    prop_oneof![
        8 => text(NAMES, ODD_NAMES),
        1 => at_limit(receivables_domain::limits::NAME_LENGTH_MAX),
    ]
    .boxed()
}

/// A customer or subsidiary id.
pub fn id(valid: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        12 => text(valid, &["", " ", ".", "*", ">", "a.b", "a*", "a>b", "é", "\0"]),
        1 => at_limit(receivables_domain::limits::ID_LENGTH_MAX),
    ]
    .boxed()
}

/// An invoice number.
pub fn invoice_number() -> BoxedStrategy<String> {
    prop_oneof![
        12 => text(INVOICE_NUMBERS, &["", " ", "INV 1", "INV-1 ", "..", "/", "INV\u{0}1"]),
        1 => at_limit(receivables_domain::limits::INVOICE_NUMBER_LENGTH_MAX),
    ]
    .boxed()
}

/// A decimal amount: valid ones, generated plain decimals, and hostile text.
pub fn amount() -> BoxedStrategy<String> {
    prop_oneof![
        8 => select(AMOUNTS).prop_map(str::to_owned),
        4 => (1u64..=10_000_000, 0u32..=3).prop_map(|(units, scale)| {
            let text = units.to_string();
            let scale = scale as usize;
            if scale == 0 || text.len() <= scale {
                text
            } else {
                format!("{}.{}", &text[..text.len() - scale], &text[text.len() - scale..])
            }
        }),
        3 => select(ODD_AMOUNTS).prop_map(str::to_owned),
        1 => "-?[0-9]{0,30}(\\.[0-9]{0,36})?",
        1 => near(AMOUNTS),
        1 => arbitrary_text(45),
    ]
    .boxed()
}

pub fn currency() -> BoxedStrategy<String> {
    text(CURRENCIES, ODD_CURRENCIES)
}

/// A business date; `later` adds dates suitable for a due or promised date.
pub fn date(later: bool) -> BoxedStrategy<String> {
    let valid: &'static [&'static str] = if later { LATER_DATES } else { DATES };
    prop_oneof![
        10 => select(DATES).prop_map(str::to_owned),
        4 => select(valid).prop_map(str::to_owned),
        3 => select(ODD_DATES).prop_map(str::to_owned),
        1 => near(DATES),
        1 => "[0-9+-]{0,7}-[0-9]{1,3}-[0-9]{1,3}",
    ]
    .boxed()
}

/// A command id: mostly fresh, sometimes shared with another command, sometimes malformed.
pub fn command_id() -> BoxedStrategy<String> {
    prop_oneof![
        12 => any::<u128>().prop_map(|bits| uuid::Uuid::from_u128(bits).hyphenated().to_string()),
        2 => select(SHARED_COMMAND_IDS).prop_map(str::to_owned),
        2 => select(ODD_COMMAND_IDS).prop_map(str::to_owned),
        1 => near(SHARED_COMMAND_IDS),
        1 => arbitrary_text(40),
    ]
    .boxed()
}

/// An enum's wire value: known ones, `UNSPECIFIED` and out of range.
pub fn enumeration(max: i32) -> BoxedStrategy<i32> {
    prop_oneof![
        10 => 1..=max,
        1 => Just(0),
        1 => prop_oneof![Just(-1), Just(max + 1), Just(i32::MIN), Just(i32::MAX), any::<i32>()],
    ]
    .boxed()
}

/// Valid values of every kind, to change a document into another valid one.
const PLAUSIBLE: &[&[&str]] = &[
    AMOUNTS,
    DATES,
    LATER_DATES,
    CURRENCIES,
    NAMES,
    TEXTS,
    CUSTOMERS,
    SUBSIDIARIES,
    INVOICE_NUMBERS,
];

/// A replacement for a leaf of a JSON document: mostly hostile, sometimes another valid value.
pub fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (select(PLAUSIBLE), any::<Index>())
            .prop_map(|(pool, at)| Value::String(pool[at.index(pool.len())].to_owned())),
        4 => select(ODD_AMOUNTS).prop_map(|text| Value::String(text.to_owned())),
        3 => select(ODD_DATES).prop_map(|text| Value::String(text.to_owned())),
        2 => select(ODD_CURRENCIES).prop_map(|text| Value::String(text.to_owned())),
        2 => select(ODD_TEXTS).prop_map(|text| Value::String(text.to_owned())),
        2 => select(ODD_COMMAND_IDS).prop_map(|text| Value::String(text.to_owned())),
        1 => at_limit(1_000).prop_map(Value::String),
        1 => arbitrary_text(20).prop_map(Value::String),
        3 => prop_oneof![
            Just(Value::from(0)),
            Just(Value::from(-1)),
            Just(Value::from(1)),
            Just(Value::from(u32::MAX)),
            Just(Value::from(u64::MAX)),
            Just(Value::from(i64::MIN)),
            Just(Value::from(1.5)),
            Just(Value::from(1e300)),
            any::<i64>().prop_map(Value::from),
        ],
        1 => prop_oneof![
            Just(Value::Null),
            Just(Value::Bool(true)),
            Just(Value::Array(Vec::new())),
            Just(Value::Object(serde_json::Map::new())),
        ],
    ]
    .boxed()
}

/// An edit of one JSON leaf: replaced by a hostile value, or a string leaf changed a little.
#[derive(Debug, Clone)]
pub enum LeafEdit {
    Replace(Value),
    Insert(Index, char),
    Remove(Index),
    Repeat(usize),
    Negate,
    /// Padding with zeros in front (`"0000…12.50"`) or behind (`"12.500…0"`).
    Zeros(bool, usize),
    /// The member removed from its object (or the item from its array).
    Delete,
}

pub fn leaf_edit() -> BoxedStrategy<LeafEdit> {
    prop_oneof![
        4 => json_leaf().prop_map(LeafEdit::Replace),
        2 => (any::<Index>(), select(ODD_CHARACTERS)).prop_map(|(at, c)| LeafEdit::Insert(at, c)),
        1 => any::<Index>().prop_map(LeafEdit::Remove),
        1 => (2usize..70).prop_map(LeafEdit::Repeat),
        1 => Just(LeafEdit::Negate),
        1 => (any::<bool>(), 1usize..40).prop_map(|(front, n)| LeafEdit::Zeros(front, n)),
        1 => Just(LeafEdit::Delete),
    ]
    .boxed()
}

/// Applies `edit` to the leaf `at` picks among the document's leaves (depth first).
pub fn edit_leaf(document: &mut Value, at: Index, edit: &LeafEdit) {
    let count = count_leaves(document);
    if count == 0 {
        return;
    }
    let mut target = at.index(count);
    edit_nth(document, &mut target, edit);
}

fn count_leaves(value: &Value) -> usize {
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(count_leaves).sum(),
        Value::Object(members) if !members.is_empty() => members.values().map(count_leaves).sum(),
        _ => 1,
    }
}

/// Walks to the `n`th leaf and edits it; returns true when done.
fn edit_nth(value: &mut Value, n: &mut usize, edit: &LeafEdit) -> bool {
    match value {
        Value::Array(items) if !items.is_empty() => {
            for index in 0..items.len() {
                let leaves = count_leaves(&items[index]);
                if *n < leaves {
                    if leaves == 1 && is_leaf(&items[index]) && matches!(edit, LeafEdit::Delete) {
                        items.remove(index);
                        return true;
                    }
                    return edit_nth(&mut items[index], n, edit);
                }
                *n -= leaves;
            }
            false
        }
        Value::Object(members) if !members.is_empty() => {
            let keys: Vec<String> = members.keys().cloned().collect();
            for key in keys {
                let Some(member) = members.get_mut(&key) else {
                    continue;
                };
                let leaves = count_leaves(member);
                if *n < leaves {
                    if leaves == 1 && is_leaf(member) && matches!(edit, LeafEdit::Delete) {
                        members.remove(&key);
                        return true;
                    }
                    return edit_nth(member, n, edit);
                }
                *n -= leaves;
            }
            false
        }
        leaf => {
            apply_edit(leaf, edit);
            true
        }
    }
}

fn is_leaf(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        _ => true,
    }
}

fn apply_edit(leaf: &mut Value, edit: &LeafEdit) {
    match (edit, &*leaf) {
        (LeafEdit::Replace(value), _) => *leaf = value.clone(),
        (LeafEdit::Insert(at, c), Value::String(text)) => {
            *leaf = Value::String(insert_character(text, *at, *c));
        }
        (LeafEdit::Remove(at), Value::String(text)) => {
            *leaf = Value::String(remove_character(text, *at));
        }
        (LeafEdit::Repeat(times), Value::String(text)) => {
            *leaf = Value::String(text.repeat(*times));
        }
        (LeafEdit::Negate, Value::String(text)) => *leaf = Value::String(format!("-{text}")),
        (LeafEdit::Negate, Value::Number(number)) => {
            if let Some(value) = number.as_i64() {
                *leaf = Value::from(value.wrapping_neg());
            } else {
                *leaf = Value::from(-1);
            }
        }
        (LeafEdit::Zeros(true, n), Value::String(text)) => {
            *leaf = Value::String(format!("{}{text}", "0".repeat(*n)));
        }
        (LeafEdit::Zeros(false, n), Value::String(text)) => {
            let separator = if text.contains('.') { "" } else { "." };
            *leaf = Value::String(format!("{text}{separator}{}", "0".repeat(*n)));
        }
        // An edit that does not fit the leaf's type replaces it with null.
        _ => *leaf = Value::Null,
    }
}
