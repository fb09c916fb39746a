//! ISO 20022 camt.053, BankToCustomerStatement, any version of its namespace
//! (`urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN`; written against .02, the version most banks
//! send, and .08, which moved the debtor's name under `Pty` and the status under `Sts/Cd`).
//!
//! The file is read with quick-xml's reader into a small tree of elements (name, `Ccy`
//! attribute, text, children), which the entries are then read from. Nothing else of XML is
//! honoured: a DTD (`<!DOCTYPE`, and so any `<!ENTITY`) is refused outright, so an entity bomb
//! fails at its first bytes instead of expanding; only the five predefined entities and
//! character references are resolved; nesting is limited to [`XML_DEPTH_MAX`].
//!
//! What is read, per `Stmt`: `Id`, `Acct/Id/IBAN` or `Acct/Id/Othr/Id`; per booked `Ntry`
//! (`Sts` or `Sts/Cd` = `BOOK`; pending and information-only entries are not on the account yet
//! and are left out): `Amt` and its `Ccy`, `CdtDbtInd` (`CRDT`, `DBIT`; a reversal is already
//! written with the direction it moves money, so `RvslInd` changes nothing), `BookgDt` and
//! `ValDt` (`Dt`, or the date of `DtTm`; without `ValDt` the booking date is the value date),
//! `AcctSvcrRef`, and the transaction details `NtryDtls/TxDtls`: `Refs/AcctSvcrRef`,
//! `Refs/TxId`, `Refs/EndToEndId`; the other party, `RltdPties/Dbtr` of a credit and
//! `RltdPties/Cdtr` of a debit (`Nm`, or `Pty/Nm` from .08 on) with its account
//! (`DbtrAcct`/`CdtrAcct` `Id/IBAN` or `Id/Othr/Id`); the remittance text, `RmtInf/Ustrd`
//! (several joined by a space) then `RmtInf/Strd/CdtrRefInf/Ref`, else `AddtlTxInf`, else the
//! entry's `AddtlNtryInf`.
//!
//! An entry with several `TxDtls` (a batch) becomes one line per `TxDtls` when each has its own
//! amount (`AmtDtls/TxAmt/Amt`, or `Amt` from .08 on), and those amounts must add up to the
//! entry's; otherwise it stays one line, with the entry's `AddtlNtryInf` as its reference.
//!
//! The bank id of a line: `TxDtls/Refs/AcctSvcrRef`, else the entry's `AcctSvcrRef`, else
//! `Refs/TxId`, else `Refs/EndToEndId` unless it is `NOTPROVIDED`. The parts of a split entry
//! share the entry's `AcctSvcrRef`, so it does not tell them apart: a part without an id of its
//! own gets the entry's reference followed by `/` and its position in the entry.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};
use receivables_domain::money::{Currency, Money};
use rust_decimal::Decimal;

use crate::limits::{STATEMENT_LINES_MAX, XML_DEPTH_MAX};
use crate::problems::Problems;
use crate::text::{self, LineIndex};
use crate::{Direction, Read, StatementLine, checked_text};

/// What every camt.053 namespace starts with, whatever its version.
const CAMT053_NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.";

/// The `EndToEndId` a payer's bank writes when the payer gave none.
const END_TO_END_ID_NOT_PROVIDED: &str = "NOTPROVIDED";

/// The entry status of a booked entry.
const STATUS_BOOKED: &str = "BOOK";

/// One element of the file.
#[derive(Debug, Default)]
struct Element {
    name: String,
    /// The `Ccy` attribute, the only one an entry's amounts need.
    currency: Option<String>,
    text: String,
    children: Vec<Element>,
    line: usize,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter()
            .try_fold(self, |element, name| element.child(name))
    }

    /// The trimmed text at `path`, if there is any.
    fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)
            .map(|element| element.text.trim())
            .filter(|text| !text.is_empty())
    }
}

pub(crate) fn read(bytes: &[u8], problems: &mut Problems) -> Read {
    let text = match text::utf8_only(bytes) {
        Ok(text) => text,
        Err(not_text) => {
            problems.at(not_text.line, "file", not_text.message);
            return Read::default();
        }
    };
    let Some(document) = tree(text, problems) else {
        return Read::default();
    };
    statement(&document, problems)
}

/// Reads the XML into a tree, or reports why it cannot be.
fn tree(text: &str, problems: &mut Problems) -> Option<Element> {
    let lines = LineIndex::new(text);
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_resolved_event();
        let line = lines.line(at);
        match event {
            Err(error) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                problems.at(lines.line(at), "XML", format!("malformed XML: {error}"));
                return None;
            }
            Ok((namespace, Event::Start(start))) => {
                let name = start.local_name().as_ref().to_owned();
                if open.len() >= XML_DEPTH_MAX {
                    problems.at(
                        line,
                        "XML",
                        format!("elements nested deeper than {XML_DEPTH_MAX} levels"),
                    );
                    return None;
                }
                if open.is_empty() {
                    if root.is_some() {
                        problems.at(line, "XML", "more than one root element");
                        return None;
                    }
                    if !is_camt053_document(&name, &namespace) {
                        problems.at(
                            line,
                            "Document",
                            format!(
                                "not a camt.053 statement: the root element is <{name}> in {}",
                                namespace_text(&namespace)
                            ),
                        );
                        return None;
                    }
                }
                let mut currency = None;
                for attribute in start.attributes() {
                    let attribute = match attribute {
                        Ok(attribute) => attribute,
                        Err(error) => {
                            problems.at(line, name, format!("malformed attribute: {error}"));
                            return None;
                        }
                    };
                    if attribute.key.local_name().as_ref() == "Ccy" {
                        match attribute.normalized_value(XmlVersion::Implicit1_0) {
                            Ok(value) => currency = Some(value.into_owned()),
                            Err(error) => {
                                problems.at(line, name, format!("malformed attribute: {error}"));
                                return None;
                            }
                        }
                    }
                }
                open.push(Element {
                    name,
                    currency,
                    line,
                    ..Element::default()
                });
            }
            Ok((_, Event::End(_))) => {
                // quick-xml has checked that the end tag closes the open element.
                let Some(element) = open.pop() else {
                    problems.at(line, "XML", "an end tag without its start tag");
                    return None;
                };
                match open.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Ok((_, Event::Text(content))) => match open.last_mut() {
                Some(element) => element.text.push_str(&content.xml10_content()),
                None if content.trim().is_empty() => {}
                None => {
                    problems.at(line, "XML", "text outside the root element");
                    return None;
                }
            },
            Ok((_, Event::CData(content))) => match open.last_mut() {
                Some(element) => element.text.push_str(&content.xml10_content()),
                None => {
                    problems.at(line, "XML", "a CDATA section outside an element");
                    return None;
                }
            },
            Ok((_, Event::GeneralRef(reference))) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => Some(character.to_string()),
                    Ok(None) => {
                        quick_xml::escape::resolve_predefined_entity(&reference).map(str::to_owned)
                    }
                    Err(_) => None,
                };
                match (resolved, open.last_mut()) {
                    (Some(resolved), Some(element)) => element.text.push_str(&resolved),
                    _ => {
                        problems.at(
                            line,
                            "XML",
                            format!(
                                "the entity reference &{}; is not one XML predefines \
                                 (no other entity is read)",
                                &*reference
                            ),
                        );
                        return None;
                    }
                }
            }
            Ok((_, Event::DocType(_))) => {
                problems.at(
                    line,
                    "XML",
                    "a document type declaration (<!DOCTYPE>, <!ENTITY>) is refused: \
                     a statement needs none, and its entities could expand without bound",
                );
                return None;
            }
            // `<Dt/>` comes as a start and an end (`expand_empty_elements`), never as `Empty`.
            Ok((_, Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Empty(_))) => {}
            Ok((_, Event::Eof)) => {
                if let Some(unclosed) = open.last() {
                    problems.at(
                        unclosed.line,
                        unclosed.name.clone(),
                        format!(
                            "malformed XML: <{}> is not closed before the end of the file",
                            unclosed.name
                        ),
                    );
                    return None;
                }
                if root.is_none() {
                    problems.at(line, "XML", "the file has no XML element");
                }
                return root;
            }
        }
    }
}

fn is_camt053_document(name: &str, namespace: &ResolveResult<'_>) -> bool {
    name == "Document"
        && matches!(namespace, ResolveResult::Bound(bound)
            if bound.as_ref().starts_with(CAMT053_NAMESPACE_PREFIX))
}

fn namespace_text(namespace: &ResolveResult<'_>) -> String {
    match namespace {
        ResolveResult::Bound(bound) => {
            format!("namespace {:?}", bound.as_ref())
        }
        _ => "no namespace".to_owned(),
    }
}

fn statement(document: &Element, problems: &mut Problems) -> Read {
    let mut read = Read::default();
    let Some(body) = document.child("BkToCstmrStmt") else {
        problems.at(
            document.line,
            "BkToCstmrStmt",
            "the document has no BkToCstmrStmt (bank-to-customer statement)",
        );
        return read;
    };
    let mut statements = 0;
    let mut entries = Counter::default();
    for stmt in body.children("Stmt") {
        statements += 1;
        let account = stmt
            .text_at(&["Acct", "Id", "IBAN"])
            .or_else(|| stmt.text_at(&["Acct", "Id", "Othr", "Id"]))
            .map(str::to_owned);
        if statements == 1 {
            read.account = account;
            read.statement_id = stmt.text_at(&["Id"]).map(str::to_owned);
        } else if account != read.account {
            problems.at(
                stmt.line,
                "Stmt/Acct",
                format!(
                    "the file's statements are of different accounts ({} and {}); \
                     one file, one account",
                    read.account.as_deref().unwrap_or("none"),
                    account.as_deref().unwrap_or("none")
                ),
            );
        }
        for ntry in stmt.children("Ntry") {
            if problems.is_full() {
                return read;
            }
            entry(ntry, &mut entries, &mut read.lines, problems);
            if entries.ordinal > STATEMENT_LINES_MAX {
                problems.at(
                    ntry.line,
                    "Ntry",
                    format!("more than {STATEMENT_LINES_MAX} entries in one file"),
                );
                return read;
            }
        }
    }
    if statements == 0 {
        problems.at(body.line, "Stmt", "the file has no statement (Stmt)");
    }
    read
}

/// How far through the file's entries the reader is.
#[derive(Default)]
struct Counter {
    /// Entries seen, for `Ntry[n]` in messages.
    entry: usize,
    /// Transactions seen, for [`StatementLine::ordinal`].
    ordinal: usize,
}

/// The parts of an entry that every line made of it shares.
struct Entry<'a> {
    field: String,
    amount: Option<Money>,
    currency: Option<Currency>,
    direction: Option<Direction>,
    value_date: Option<chrono::NaiveDate>,
    booking_date: Option<chrono::NaiveDate>,
    reference: Option<&'a str>,
    additional_info: Option<&'a str>,
}

fn entry(
    ntry: &Element,
    counter: &mut Counter,
    lines: &mut Vec<StatementLine>,
    problems: &mut Problems,
) {
    counter.entry += 1;
    let field = format!("Ntry[{}]", counter.entry);
    let status = ntry
        .text_at(&["Sts", "Cd"])
        .or_else(|| ntry.text_at(&["Sts"]));
    let details: Vec<&Element> = ntry
        .children("NtryDtls")
        .flat_map(|details| details.children("TxDtls"))
        .collect();
    let split = details.len() > 1 && details.iter().all(|tx| transaction_amount(tx).is_some());
    let first_ordinal = counter.ordinal + 1;
    counter.ordinal += if split { details.len() } else { 1 };
    match status {
        Some(STATUS_BOOKED) => {}
        Some(_) => return,
        None => {
            problems.at(ntry.line, format!("{field}/Sts"), "the entry has no status");
            return;
        }
    }
    let shared = shared(ntry, field, problems);
    if split {
        let parts = split_parts(ntry, &shared, &details, problems);
        for (position, (tx, amount, direction)) in parts.into_iter().enumerate() {
            let own_id = tx
                .text_at(&["Refs", "AcctSvcrRef"])
                .or_else(|| tx.text_at(&["Refs", "TxId"]))
                .or_else(|| end_to_end_id(tx))
                .map(str::to_owned)
                .or_else(|| {
                    shared
                        .reference
                        .map(|entry| format!("{entry}/{}", position + 1))
                });
            let part = Part {
                tx: Some(tx),
                field: format!("{}/NtryDtls/TxDtls[{}]", shared.field, position + 1),
                start: tx.line,
                id: own_id,
                amount,
                direction,
                ordinal: first_ordinal + position,
            };
            if let Some(line) = line(&shared, part, problems) {
                lines.push(line);
            }
        }
        return;
    }
    let single = match details.as_slice() {
        [only] => Some(*only),
        _ => None,
    };
    let id = single
        .and_then(|tx| tx.text_at(&["Refs", "AcctSvcrRef"]))
        .or(shared.reference)
        .or_else(|| single.and_then(|tx| tx.text_at(&["Refs", "TxId"])))
        .or_else(|| single.and_then(end_to_end_id))
        .map(str::to_owned);
    let (Some(amount), Some(direction)) = (shared.amount, shared.direction) else {
        return;
    };
    let part = Part {
        tx: single,
        field: shared.field.clone(),
        start: ntry.line,
        id,
        amount,
        direction,
        ordinal: first_ordinal,
    };
    if let Some(line) = line(&shared, part, problems) {
        lines.push(line);
    }
}

fn end_to_end_id(tx: &Element) -> Option<&str> {
    tx.text_at(&["Refs", "EndToEndId"])
        .filter(|id| *id != END_TO_END_ID_NOT_PROVIDED)
}

/// Reads what every line of an entry shares, reporting what is missing or wrong.
fn shared<'a>(ntry: &'a Element, field: String, problems: &mut Problems) -> Entry<'a> {
    let currency = match ntry.child("Amt").and_then(|amt| amt.currency.as_deref()) {
        Some(code) => match Currency::parse(code) {
            Ok(currency) => Some(currency),
            Err(error) => {
                problems.at(ntry.line, format!("{field}/Amt/@Ccy"), error.to_string());
                None
            }
        },
        None => {
            problems.at(
                ntry.line,
                format!("{field}/Amt/@Ccy"),
                "the amount has no currency",
            );
            None
        }
    };
    let amount = amount(
        ntry.child("Amt"),
        currency,
        ntry.line,
        &format!("{field}/Amt"),
        problems,
    );
    let direction = direction(
        ntry,
        ntry.line,
        &format!("{field}/CdtDbtInd"),
        problems,
        true,
    );
    let booking_date = date(ntry.child("BookgDt"), &format!("{field}/BookgDt"), problems);
    let value_date = match ntry.child("ValDt") {
        Some(_) => date(ntry.child("ValDt"), &format!("{field}/ValDt"), problems),
        None => booking_date,
    };
    if ntry.child("ValDt").is_none() && ntry.child("BookgDt").is_none() {
        problems.at(
            ntry.line,
            format!("{field}/ValDt"),
            "the entry has neither a value date nor a booking date",
        );
    }
    Entry {
        field,
        amount,
        currency,
        direction,
        value_date,
        booking_date,
        reference: ntry.text_at(&["AcctSvcrRef"]),
        additional_info: ntry.text_at(&["AddtlNtryInf"]),
    }
}

/// The amount of one transaction of a batch: `AmtDtls/TxAmt/Amt`, or `Amt` from .08 on.
fn transaction_amount(tx: &Element) -> Option<&Element> {
    tx.at(&["AmtDtls", "TxAmt", "Amt"])
        .or_else(|| tx.child("Amt"))
}

/// The parts of a split entry, each with its amount and direction, once they add up to the
/// entry; none if they do not (reported).
fn split_parts<'a>(
    ntry: &Element,
    entry: &Entry<'_>,
    details: &[&'a Element],
    problems: &mut Problems,
) -> Vec<(&'a Element, Money, Direction)> {
    let (Some(total), Some(currency), Some(entry_direction)) =
        (entry.amount, entry.currency, entry.direction)
    else {
        return Vec::new();
    };
    let mut parts = Vec::with_capacity(details.len());
    let mut sum = Decimal::ZERO;
    let mut complete = true;
    for (position, tx) in details.iter().enumerate() {
        let field = format!("{}/NtryDtls/TxDtls[{}]", entry.field, position + 1);
        let element = transaction_amount(tx);
        let line = element.map_or(tx.line, |element| element.line);
        if let Some(code) = element.and_then(|element| element.currency.as_deref())
            && code != currency.code()
        {
            problems.at(
                line,
                format!("{field}/Amt/@Ccy"),
                format!("the transaction is in {code}, its entry in {currency}"),
            );
            complete = false;
            continue;
        }
        let Some(amount) = amount(
            element,
            Some(currency),
            line,
            &format!("{field}/Amt"),
            problems,
        ) else {
            complete = false;
            continue;
        };
        let direction = match tx.child("CdtDbtInd") {
            Some(_) => direction(tx, tx.line, &format!("{field}/CdtDbtInd"), problems, false),
            None => Some(entry_direction),
        };
        let Some(direction) = direction else {
            complete = false;
            continue;
        };
        if direction == entry_direction {
            sum += amount.amount();
        } else {
            sum -= amount.amount();
        }
        parts.push((*tx, amount, direction));
    }
    if !complete {
        return Vec::new();
    }
    if sum != total.amount() {
        problems.at(
            ntry.line,
            format!("{}/NtryDtls", entry.field),
            format!("the transactions' amounts add up to {sum} {currency}, the entry's is {total}"),
        );
        return Vec::new();
    }
    parts
}

/// One line to be made of an entry: the whole entry, or one transaction of a split batch.
struct Part<'a> {
    /// The transaction details the line's party and text come from, if there are some.
    tx: Option<&'a Element>,
    /// The path for messages: `Ntry[n]` or `Ntry[n]/NtryDtls/TxDtls[k]`.
    field: String,
    /// The line of the file the line starts at.
    start: usize,
    id: Option<String>,
    amount: Money,
    direction: Direction,
    ordinal: usize,
}

fn line(entry: &Entry<'_>, part: Part<'_>, problems: &mut Problems) -> Option<StatementLine> {
    let Part {
        tx,
        field,
        start,
        id,
        amount,
        direction,
        ordinal,
    } = part;
    let value_date = entry.value_date?;
    let (party, party_account) = match direction {
        Direction::Credit => ("Dbtr", "DbtrAcct"),
        Direction::Debit => ("Cdtr", "CdtrAcct"),
    };
    let parties = tx.and_then(|tx| tx.child("RltdPties"));
    let name = parties.and_then(|parties| {
        parties
            .text_at(&[party, "Nm"])
            .or_else(|| parties.text_at(&[party, "Pty", "Nm"]))
    });
    let account = parties.and_then(|parties| {
        parties
            .text_at(&[party_account, "Id", "IBAN"])
            .or_else(|| parties.text_at(&[party_account, "Id", "Othr", "Id"]))
    });
    let reference = match tx {
        Some(tx) => remittance(tx)
            .or_else(|| tx.text_at(&["AddtlTxInf"]).map(str::to_owned))
            .or_else(|| entry.additional_info.map(str::to_owned)),
        None => entry.additional_info.map(str::to_owned),
    }
    .unwrap_or_default();
    let line_of = |element: Option<&Element>| element.map_or(start, |e| e.line);
    let field = field.as_str();
    let id = id.and_then(|id| checked_text(problems, start, &format!("{field}/Refs"), id));
    let payer_name = name.and_then(|name| {
        checked_text(
            problems,
            line_of(parties),
            &format!("{field}/RltdPties/{party}/Nm"),
            name.to_owned(),
        )
    });
    let payer_account = account.and_then(|account| {
        checked_text(
            problems,
            line_of(parties),
            &format!("{field}/RltdPties/{party_account}"),
            account.to_owned(),
        )
    });
    let reference = checked_text(problems, start, &format!("{field}/RmtInf"), reference)?;
    Some(StatementLine {
        ordinal,
        source_line: start,
        id_derived: id.is_none(),
        bank_transaction_id: id.unwrap_or_default(),
        value_date,
        booking_date: entry.booking_date,
        direction,
        amount,
        payer_name,
        payer_account,
        reference,
    })
}

/// `RmtInf/Ustrd` (each one) then `RmtInf/Strd/CdtrRefInf/Ref`, joined by a space.
fn remittance(tx: &Element) -> Option<String> {
    let info = tx.child("RmtInf")?;
    let parts: Vec<&str> = info
        .children("Ustrd")
        .map(|ustrd| ustrd.text.trim())
        .chain(
            info.children("Strd")
                .filter_map(|strd| strd.text_at(&["CdtrRefInf", "Ref"])),
        )
        .filter(|part| !part.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A positive amount at the currency's scale; the sign of a camt.053 amount is its `CdtDbtInd`.
fn amount(
    element: Option<&Element>,
    currency: Option<Currency>,
    line: usize,
    field: &str,
    problems: &mut Problems,
) -> Option<Money> {
    let Some(element) = element else {
        problems.at(line, field, "the amount is missing");
        return None;
    };
    let text = element.text.trim();
    let currency = currency?;
    match Money::positive(text, currency) {
        Ok(amount) => Some(amount),
        Err(error) => {
            problems.at(element.line, field, format!("{text:?}: {error}"));
            None
        }
    }
}

fn direction(
    element: &Element,
    line: usize,
    field: &str,
    problems: &mut Problems,
    required: bool,
) -> Option<Direction> {
    match element.text_at(&["CdtDbtInd"]) {
        Some("CRDT") => Some(Direction::Credit),
        Some("DBIT") => Some(Direction::Debit),
        Some(other) => {
            problems.at(line, field, format!("{other:?} is neither CRDT nor DBIT"));
            None
        }
        None => {
            if required {
                problems.at(line, field, "the credit/debit indicator is missing");
            }
            None
        }
    }
}

/// `Dt`, or the date of `DtTm` as the bank wrote it (its own day, whatever the offset).
fn date(
    element: Option<&Element>,
    field: &str,
    problems: &mut Problems,
) -> Option<chrono::NaiveDate> {
    let element = element?;
    let (text, path) = match (element.text_at(&["Dt"]), element.text_at(&["DtTm"])) {
        (Some(date), _) => (date, "Dt"),
        (None, Some(date_time)) => (date_time.get(..10).unwrap_or(date_time), "DtTm"),
        (None, None) => {
            problems.at(element.line, field, "neither Dt nor DtTm");
            return None;
        }
    };
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            problems.at(
                element.line,
                format!("{field}/{path}"),
                format!("{text:?} is not a date (YYYY-MM-DD)"),
            );
            None
        }
    }
}
