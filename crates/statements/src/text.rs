//! Bytes to text, and byte offsets to line numbers.
//!
//! Each format says which encodings it accepts; none is guessed beyond that. A UTF-8 byte order
//! mark is honoured wherever it appears at the start of a file, because spreadsheet programs
//! write one in front of CSV files they save as UTF-8.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, Encoding, GBK, WINDOWS_1252};
use serde::{Deserialize, Serialize};

/// The character encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    /// UTF-8 only (a byte order mark is allowed).
    Utf8,
    /// GBK, as Chinese versions of spreadsheet programs and Alipay save CSV files; a file that
    /// starts with a UTF-8 byte order mark is read as UTF-8 all the same.
    Gbk,
    /// Valid UTF-8 (with or without a byte order mark) is read as UTF-8, anything else as GBK:
    /// Chinese banks' portals export either. The two rarely overlap: Chinese text in GBK is
    /// almost never valid UTF-8.
    Utf8OrGbk,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why bytes are not text in the expected encoding: a message and the 1-based line of the first
/// bad byte.
#[derive(Debug)]
pub(crate) struct NotText {
    pub line: usize,
    pub message: String,
}

/// Decodes a CSV file in its layout's encoding.
pub(crate) fn decode(bytes: &[u8], encoding: TextEncoding) -> Result<Cow<'_, str>, NotText> {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return utf8(rest).map(Cow::Borrowed);
    }
    match encoding {
        TextEncoding::Utf8 => utf8(bytes).map(Cow::Borrowed),
        TextEncoding::Gbk => strict(bytes, GBK).map(Cow::Owned),
        TextEncoding::Utf8OrGbk => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(_) => strict(bytes, GBK)
                .map(Cow::Owned)
                .map_err(|not_gbk| NotText {
                    line: not_gbk.line,
                    message: "the file is neither UTF-8 nor GBK text".to_owned(),
                }),
        },
    }
}

/// UTF-8 only (an XML statement: ISO 20022 messages are UTF-8).
pub(crate) fn utf8_only(bytes: &[u8]) -> Result<&str, NotText> {
    utf8(bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes))
}

/// UTF-8, else Latin-1 (as Windows writes it): German banks' MT940 files, the most common ones,
/// come in ISO 8859-1 for their umlauts. Every byte is a Latin-1 character, so this never fails:
/// a file that is not MT940 at all is refused by its tags.
pub(crate) fn utf8_or_latin1(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, NotText> {
    std::str::from_utf8(bytes).map_err(|error| NotText {
        line: line_at_byte(bytes, error.valid_up_to()),
        message: format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            error.valid_up_to()
        ),
    })
}

/// Decodes without replacement characters: a byte that is not in the encoding is an error,
/// never a silent '\u{FFFD}' in a name or a reference.
fn strict(bytes: &[u8], encoding: &'static Encoding) -> Result<String, NotText> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(text),
        DecoderResult::Malformed(bad, later) => {
            let at = read.saturating_sub(usize::from(bad) + usize::from(later));
            Err(NotText {
                line: line_at_byte(bytes, at),
                message: format!(
                    "the file is not {} text (invalid byte at offset {at})",
                    encoding.name()
                ),
            })
        }
        // The buffer was sized for the whole input: decoding cannot run out of room.
        DecoderResult::OutputFull => Err(NotText {
            line: 1,
            message: format!("the file could not be decoded as {}", encoding.name()),
        }),
    }
}

fn line_at_byte(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The byte offsets where the lines of a text start, to turn an offset into a line number.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(at, _)| at + 1),
        );
        LineIndex { starts }
    }

    /// The 1-based line holding the byte at `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(index) => index + 1,
            Err(index) => index,
        }
    }
}

/// Whether a text is longer than `max` characters, counted without walking past `max`.
pub(crate) fn longer_than(text: &str, max: usize) -> bool {
    text.chars().nth(max).is_some()
}
