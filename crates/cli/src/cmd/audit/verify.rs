//! `audit verify`: checks the hash chain, either of the service's log (the service walks it and
//! reports) or of a file written by `audit export`, offline, with no service at all: an auditor
//! can keep an export and prove years later that it is the log the service held.
//!
//! The offline check does what the service does, line by line: each line's content must hash to
//! its `hash` (computed from the line itself, so that a member added to a line is caught too),
//! each event must link to its customer's previous one (when the export holds whole chains), and
//! positions must run without gaps (when it is the whole log). The last line must be there and
//! agree with what was read: a file cut short or extended at its end is found as surely as an
//! event changed, removed or moved in the middle. The first problem found is reported, with its
//! line number and position, and the command exits with 1.

use std::fs::File;
use std::io::{BufRead, BufReader};

use futures::StreamExt;
use receivables_api::pb;
use receivables_domain::chain::{self, ChainVerifier, write_canonical};
use receivables_domain::{EventEnvelope, EventHash, Position};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::export::POSITION_MEMBER;
use crate::cmd::Output;
use crate::connection::Connection;
use crate::error::CliError;
use crate::sheet::{Cell, Column, Record};

/// The longest line read from an export; an event is at most 256 KiB encoded, so a longer line
/// is not an event of this service.
pub const LINE_BYTES_MAX: usize = 1024 * 1024;

/// Events checked between two progress messages asked of the service.
const PROGRESS_EVERY_EVENTS: u32 = 10_000;

#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Only this customer's chain (the service's log).
    #[arg(long, value_name = "ID", conflicts_with = "file")]
    pub customer: Option<String>,

    /// Check a file written by `audit export` instead of the service's log (no service needed).
    #[arg(long, value_name = "EXPORT.jsonl")]
    pub file: Option<String>,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `HASH_MISMATCH`, `PREVIOUS_HASH_MISMATCH`, `SEQUENCE_GAP`, `POSITION_GAP`,
    /// `UNDECODABLE`; for files also `FINAL_LINE_MISSING` and `FINAL_LINE_MISMATCH`.
    pub kind: String,
    /// The line of the export (files only).
    pub line: Option<u64>,
    pub position: Option<u64>,
    pub customer_id: String,
    pub expected: String,
    pub found: String,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The service's address or the file's name.
    pub source: String,
    pub events_checked: u64,
    pub last_position: u64,
    pub last_hash: String,
    /// False when the export holds chains with holes (filtered by subsidiary, type or start
    /// position): each event's own hash was checked, not the links between events.
    pub links_checked: bool,
    pub first_broken: Option<Finding>,
}

impl Verification {
    fn record(&self) -> Record {
        let mut record = Record::default();
        let broken = self.first_broken.as_ref();
        let text = |f: fn(&Finding) -> String| Cell::text(broken.map(f).unwrap_or_default());
        record
            .push(Column::left("source", "Source"), Cell::text(&self.source))
            .push(
                Column::left("result", "Result"),
                Cell::text(if broken.is_some() { "BROKEN" } else { "INTACT" }),
            )
            .push(
                Column::right("events_checked", "Events checked"),
                Cell::int(self.events_checked),
            )
            .push(
                Column::right("last_position", "Last position"),
                Cell::int(self.last_position),
            )
            .push(
                Column::left("last_hash", "Last hash"),
                Cell::text(&self.last_hash),
            )
            .push(
                Column::left("links_checked", "Links checked"),
                Cell::yes_no(self.links_checked),
            )
            .push(
                Column::left("broken_kind", "Broken link"),
                text(|f| f.kind.clone()),
            )
            .push(
                Column::right("broken_position", "At position"),
                Cell::optional_int(broken.and_then(|f| f.position)),
            )
            .push(
                Column::right("broken_line", "At line"),
                Cell::optional_int(broken.and_then(|f| f.line)),
            )
            .push(
                Column::left("broken_customer_id", "Customer"),
                text(|f| f.customer_id.clone()),
            )
            .push(
                Column::left("expected", "Expected"),
                text(|f| f.expected.clone()),
            )
            .push(Column::left("found", "Found"), text(|f| f.found.clone()));
        record
    }
}

impl VerifyArgs {
    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let verification = match &self.file {
            Some(file) => verify_file(file)?,
            None => verify_service(connection, self.customer.as_deref()).await?,
        };
        let text = verification.record().render(connection.format)?;
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| CliError::Output(e.to_string()))?;
        match verification.first_broken {
            Some(finding) => Err(CliError::ChainBroken {
                kind: finding.kind,
                position: finding.position,
                line: finding.line,
            }),
            None => Ok(()),
        }
    }
}

async fn verify_service(
    connection: &Connection,
    customer: Option<&str>,
) -> Result<Verification, CliError> {
    let audit = connection.audit().await?;
    let mut client = audit.client.clone();
    let request = pb::VerifyLogRequest {
        customer_id: customer.unwrap_or_default().to_owned(),
        progress_every: PROGRESS_EVERY_EVENTS,
    };
    let mut responses = client
        .verify_log(request)
        .await
        .map_err(|s| audit.error(&s))?
        .into_inner();
    while let Some(response) = responses.next().await {
        let response = response.map_err(|s| audit.error(&s))?;
        if let Some(pb::verify_log_response::Item::Result(result)) = response.item {
            return Ok(Verification {
                source: audit.address.clone(),
                events_checked: result.events_checked,
                last_position: result.last_position,
                last_hash: result.last_hash,
                links_checked: true,
                first_broken: result.first_broken.map(|link| Finding {
                    kind: kind_name(link.kind()),
                    line: None,
                    position: Some(link.position),
                    customer_id: link.customer_id,
                    expected: link.expected,
                    found: link.found,
                }),
            });
        }
    }
    Err(CliError::Output(format!(
        "{} ended the verification without a result",
        audit.address
    )))
}

/// The contract's name of a kind of break, without its prefix.
fn kind_name(kind: pb::ChainBreak) -> String {
    let name = kind.as_str_name();
    name.strip_prefix("CHAIN_BREAK_").unwrap_or(name).to_owned()
}

/// The last line of an export, as `audit export` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FinalLine {
    count: u64,
    last_hash: String,
    last_position: u64,
    whole_log: bool,
    complete_chains: bool,
}

impl FinalLine {
    fn read(text: &str) -> Option<FinalLine> {
        let value: Value = serde_json::from_str(text).ok()?;
        let members = value.as_object()?;
        if members.contains_key("event_id") {
            return None;
        }
        let whole_log = members.get("whole_log")?.as_bool()?;
        Some(FinalLine {
            count: members.get("count")?.as_u64()?,
            last_hash: members.get("last_hash")?.as_str()?.to_owned(),
            last_position: members.get("last_position")?.as_u64()?,
            whole_log,
            complete_chains: members
                .get("complete_chains")
                .and_then(Value::as_bool)
                .unwrap_or(whole_log),
        })
    }
}

/// The last non-empty line of a file and its number.
fn last_line(path: &str) -> Result<Option<(u64, String)>, CliError> {
    let mut last = None;
    for (index, line) in lines(path)?.enumerate() {
        let line = line?;
        if !line.trim().is_empty() {
            last = Some((index as u64 + 1, line));
        }
    }
    Ok(last)
}

fn lines(path: &str) -> Result<impl Iterator<Item = Result<String, CliError>>, CliError> {
    let file = File::open(path).map_err(|e| CliError::Usage(format!("cannot open {path}: {e}")))?;
    let path = path.to_owned();
    Ok(BufReader::new(file)
        .lines()
        .map(move |line| line.map_err(|e| CliError::Usage(format!("cannot read {path}: {e}")))))
}

/// How the links between events are checked.
enum Links {
    /// The chain verifier: each event's hash, its link to its customer's previous event and,
    /// for the whole log, positions without gaps.
    Chained(Box<ChainVerifier>),
    /// Each event's own hash and increasing positions only.
    EachEvent {
        last_position: Position,
        checked: u64,
    },
}

/// Checks an export offline.
pub fn verify_file(path: &str) -> Result<Verification, CliError> {
    let trailer = last_line(path)?;
    let final_line = trailer
        .as_ref()
        .and_then(|(number, text)| FinalLine::read(text).map(|f| (*number, f)));
    let (whole_log, complete_chains) = final_line
        .as_ref()
        .map_or((false, true), |(_, f)| (f.whole_log, f.complete_chains));
    let mut links = if !complete_chains {
        Links::EachEvent {
            last_position: Position::ZERO,
            checked: 0,
        }
    } else if whole_log {
        Links::Chained(Box::new(ChainVerifier::whole_log()))
    } else {
        Links::Chained(Box::new(ChainVerifier::part_of_log()))
    };
    let mut verification = Verification {
        source: path.to_owned(),
        events_checked: 0,
        last_position: 0,
        last_hash: String::new(),
        links_checked: complete_chains,
        first_broken: None,
    };
    let final_number = final_line.as_ref().map(|(number, _)| *number);
    for (index, line) in lines(path)?.enumerate() {
        let number = index as u64 + 1;
        if Some(number) == final_number {
            break;
        }
        let line = line?;
        if final_number.is_none() && line.trim().is_empty() {
            // Blank lines after the last line of a file without a final line.
            continue;
        }
        match check_line(&line, number, &mut links) {
            Ok((position, hash)) => {
                verification.events_checked += 1;
                verification.last_position = position.get();
                verification.last_hash = hash.to_string();
            }
            Err(finding) => {
                verification.first_broken = Some(*finding);
                return Ok(verification);
            }
        }
    }
    verification.first_broken = final_line_finding(&verification, trailer, final_line);
    Ok(verification)
}

/// What is wrong with the final line, if anything.
fn final_line_finding(
    verification: &Verification,
    trailer: Option<(u64, String)>,
    final_line: Option<(u64, FinalLine)>,
) -> Option<Finding> {
    let Some((number, final_line)) = final_line else {
        return Some(Finding {
            kind: "FINAL_LINE_MISSING".to_owned(),
            line: trailer.as_ref().map(|(number, _)| *number),
            position: None,
            customer_id: String::new(),
            expected: "a last line with count, last_hash, last_position and whole_log".into(),
            found: match trailer {
                Some((_, text)) => format!("{:.120}", text),
                None => "an empty file".into(),
            },
        });
    };
    let found = format!(
        "count {}, last_hash {:?}, last_position {}",
        final_line.count, final_line.last_hash, final_line.last_position
    );
    let read = format!(
        "count {}, last_hash {:?}, last_position {}",
        verification.events_checked, verification.last_hash, verification.last_position
    );
    (found != read).then(|| Finding {
        kind: "FINAL_LINE_MISMATCH".to_owned(),
        line: Some(number),
        position: None,
        customer_id: String::new(),
        expected: read,
        found,
    })
}

/// Checks one event line; its position and hash when it holds.
fn check_line(
    line: &str,
    number: u64,
    links: &mut Links,
) -> Result<(Position, EventHash), Box<Finding>> {
    let undecodable = |position: Option<u64>, problem: String| {
        Box::new(Finding {
            kind: "UNDECODABLE".to_owned(),
            line: Some(number),
            position,
            customer_id: String::new(),
            expected: "an event".to_owned(),
            found: problem,
        })
    };
    if line.len() > LINE_BYTES_MAX {
        return Err(undecodable(
            None,
            format!("a line of {} bytes, more than {LINE_BYTES_MAX}", line.len()),
        ));
    }
    let value: Value =
        serde_json::from_str(line).map_err(|e| undecodable(None, format!("not JSON: {e}")))?;
    let Value::Object(mut members) = value else {
        return Err(undecodable(None, "not a JSON object".to_owned()));
    };
    let position = members
        .remove(POSITION_MEMBER)
        .and_then(|p| p.as_u64())
        .ok_or_else(|| undecodable(None, "no \"position\" member".to_owned()))?;
    let content_hash = content_hash(&members).map_err(|e| undecodable(Some(position), e))?;
    let envelope: EventEnvelope = serde_json::from_value(Value::Object(members))
        .map_err(|e| undecodable(Some(position), e.to_string()))?;
    // The ledger's rules, as the service applies them to every event it reads: a line that
    // breaks one is not believed, whatever its hash says.
    envelope
        .check()
        .map_err(|e| undecodable(Some(position), e.to_string()))?;
    let broken = |kind: &str, expected: String, found: String| {
        Box::new(Finding {
            kind: kind.to_owned(),
            line: Some(number),
            position: Some(position),
            customer_id: envelope.customer_id.to_string(),
            expected,
            found,
        })
    };
    // The line's own content first: a member that the envelope does not know (and so would
    // not hash) is a change too.
    if content_hash != envelope.hash {
        return Err(broken(
            "HASH_MISMATCH",
            format!("hash {content_hash} of the content"),
            format!("hash {}", envelope.hash),
        ));
    }
    let at = Position::new(position);
    match links {
        Links::Chained(verifier) => verifier.check(at, &envelope).map_err(|link| {
            Box::new(Finding {
                kind: link.kind.as_str().to_owned(),
                line: Some(number),
                position: Some(link.position.get()),
                customer_id: envelope.customer_id.to_string(),
                expected: link.expected,
                found: link.found,
            })
        })?,
        Links::EachEvent {
            last_position,
            checked,
        } => {
            if at <= *last_position {
                return Err(broken(
                    "POSITION_GAP",
                    format!("a position after {last_position}"),
                    format!("position {at}"),
                ));
            }
            let computed = chain::hash_of(&envelope)
                .map_err(|e| undecodable(Some(position), e.to_string()))?;
            if computed != envelope.hash {
                return Err(broken(
                    "HASH_MISMATCH",
                    format!("hash {computed} of the content"),
                    format!("hash {}", envelope.hash),
                ));
            }
            *last_position = at;
            *checked += 1;
        }
    }
    Ok((at, envelope.hash))
}

/// SHA-256 of the canonical encoding of a line's members without `hash` (and without
/// `position`, already taken out).
fn content_hash(members: &Map<String, Value>) -> Result<EventHash, String> {
    let without_hash: Map<String, Value> = members
        .iter()
        .filter(|(name, _)| name.as_str() != "hash")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let mut bytes = Vec::with_capacity(1024);
    write_canonical(&Value::Object(without_hash), &mut bytes).map_err(|e| e.to_string())?;
    Ok(EventHash::from_bytes(Sha256::digest(&bytes).into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Write;

    use super::*;

    #[test]
    fn an_empty_file_has_no_final_line() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_str().unwrap();
        let verification = verify_file(path).unwrap();
        assert_eq!(
            verification.first_broken.unwrap().kind,
            "FINAL_LINE_MISSING"
        );
    }

    #[test]
    fn an_empty_export_is_intact() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            r#"{{"complete_chains":true,"count":0,"last_hash":"","last_position":0,"whole_log":true}}"#
        )
        .unwrap();
        let verification = verify_file(file.path().to_str().unwrap()).unwrap();
        assert_eq!(verification.first_broken, None);
        assert_eq!(verification.events_checked, 0);
    }

    #[test]
    fn a_line_that_is_not_json_is_undecodable_at_its_line() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "{{not json").unwrap();
        writeln!(
            file,
            r#"{{"complete_chains":true,"count":1,"last_hash":"","last_position":1,"whole_log":true}}"#
        )
        .unwrap();
        let finding = verify_file(file.path().to_str().unwrap())
            .unwrap()
            .first_broken
            .unwrap();
        assert_eq!(finding.kind, "UNDECODABLE");
        assert_eq!(finding.line, Some(1));
    }
}
