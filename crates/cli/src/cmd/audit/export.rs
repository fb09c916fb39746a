//! `audit export`: the log (or a filtered part of it) as JSON Lines, for an auditor to keep and
//! to check later without the service (`audit verify --file`).
//!
//! Each line is one event's envelope, exactly as the log holds it with its `hash`, plus its
//! log position as a member `"position"`, written in the canonical encoding (members sorted, no
//! whitespace). Taking `"position"` out again gives the envelope; taking `"hash"` out as well
//! gives the bytes its hash is taken over, so one line can be checked with `jq` and `sha256sum`.
//!
//! The last line says what the file holds, so that a file cut short or extended is noticed:
//! `{"complete_chains":…,"count":N,"last_hash":"…","last_position":P,"whole_log":…}`.
//! `whole_log` is true when nothing was filtered out (positions must then run 1, 2, 3, ...);
//! `complete_chains` is true when every customer's chain in the file starts at its first event,
//! so that the links between events can be checked (a filter by subsidiary, type or starting
//! position leaves chains with holes, whose events can then only be checked one by one).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use receivables_api::pb;
use receivables_domain::chain::write_canonical;
use serde_json::{Map, Value};

use crate::cmd::Output;
use crate::cmd::audit::filter::ReplayFilterArgs;
use crate::connection::Connection;
use crate::error::CliError;

/// Events between two progress messages asked of the service: often enough for a smooth bar,
/// rarely enough to cost nothing next to the events.
pub const PROGRESS_EVERY_EVENTS: u32 = 1_000;

/// The output buffer of an export file.
const OUTPUT_BUFFER_BYTES: usize = 256 * 1024;

/// The member of each line that holds the event's log position (not part of the envelope).
pub const POSITION_MEMBER: &str = "position";

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Where to write the JSON Lines ("-": standard output).
    #[arg(long, short = 'o', value_name = "FILE", default_value = "-")]
    pub output: String,

    #[command(flatten)]
    pub filter: ReplayFilterArgs,

    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl ExportArgs {
    fn request(&self) -> pb::ReplayEventsRequest {
        self.filter.request(PROGRESS_EVERY_EVENTS)
    }
}

/// What an export wrote, as its last line records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub count: u64,
    pub last_hash: String,
    pub last_position: u64,
    pub whole_log: bool,
    pub complete_chains: bool,
}

impl ExportSummary {
    /// The last line of the file, canonical like the others.
    pub fn line(&self) -> Result<Vec<u8>, CliError> {
        let value = serde_json::json!({
            "complete_chains": self.complete_chains,
            "count": self.count,
            "last_hash": self.last_hash,
            "last_position": self.last_position,
            "whole_log": self.whole_log,
        });
        canonical(&value)
    }
}

fn canonical(value: &Value) -> Result<Vec<u8>, CliError> {
    let mut line = Vec::with_capacity(1024);
    write_canonical(value, &mut line).map_err(|e| CliError::Output(e.to_string()))?;
    Ok(line)
}

/// One event's line: its canonical envelope with its position added.
pub fn event_line(event: &pb::AuditedEvent) -> Result<Vec<u8>, CliError> {
    let mut members: Map<String, Value> =
        serde_json::from_str(&event.envelope_json).map_err(|e| {
            CliError::Output(format!(
                "the service sent an envelope that is not a JSON object at position {}: {e}",
                event.position
            ))
        })?;
    members.insert(POSITION_MEMBER.to_owned(), Value::from(event.position));
    canonical(&Value::Object(members))
}

impl ExportArgs {
    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        if self.output == "-" {
            export(connection, self, out).await?;
            return out.flush().map_err(|e| CliError::Output(e.to_string()));
        }
        let file = File::create(&self.output)
            .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", self.output)))?;
        let mut writer = BufWriter::with_capacity(OUTPUT_BUFFER_BYTES, file);
        let summary = export(connection, self, &mut writer).await?;
        writer
            .flush()
            .map_err(|e| CliError::Output(format!("{}: {e}", self.output)))?;
        writeln!(
            out,
            "exported {} events (last position {}) to {}",
            summary.count, summary.last_position, self.output
        )
        .map_err(|e| CliError::Output(e.to_string()))
    }
}

/// Streams the replay into `out`; the summary of what it wrote (also its last line).
async fn export(
    connection: &Connection,
    args: &ExportArgs,
    out: &mut Output<'_>,
) -> Result<ExportSummary, CliError> {
    let audit = connection.audit().await?;
    let mut client = audit.client.clone();
    let mut responses = client
        .replay_events(args.request())
        .await
        .map_err(|s| audit.error(&s))?
        .into_inner();
    let bar = progress_bar(args.quiet);
    let mut summary = ExportSummary {
        whole_log: args.filter.whole_log(),
        complete_chains: args.filter.complete_chains(),
        ..ExportSummary::default()
    };
    let write_error = |e: std::io::Error| CliError::Output(format!("{}: {e}", args.output));
    let mut complete = false;
    while let Some(response) = responses.next().await {
        let response = response.map_err(|s| audit.error(&s))?;
        match response.item {
            Some(pb::replay_events_response::Item::Event(event)) => {
                let mut line = event_line(&event)?;
                line.push(b'\n');
                out.write_all(&line).map_err(write_error)?;
                summary.count += 1;
                summary.last_position = event.position;
                summary.last_hash = event.hash;
            }
            Some(pb::replay_events_response::Item::Progress(progress)) => {
                bar.set_length(progress.last_position);
                bar.set_position(progress.position);
                complete = progress.done;
            }
            None => {}
        }
    }
    bar.finish_and_clear();
    if !complete {
        return Err(CliError::Output(format!(
            "the replay ended after {} events before it was complete; the export has no last \
             line and is not valid",
            summary.count
        )));
    }
    let mut line = summary.line()?;
    line.push(b'\n');
    out.write_all(&line).map_err(write_error)?;
    Ok(summary)
}

/// A progress bar on stderr, hidden with `--quiet` or when stderr is not a terminal.
fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] position {pos}/{len}, {per_sec}, eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("exporting");
    bar
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_line_is_the_envelope_with_its_position_sorted_in() {
        let event = pb::AuditedEvent {
            position: 7,
            envelope_json: r#"{"a":1,"hash":"h","zeta":"z"}"#.to_owned(),
            ..Default::default()
        };
        assert_eq!(
            String::from_utf8(event_line(&event).unwrap()).unwrap(),
            r#"{"a":1,"hash":"h","position":7,"zeta":"z"}"#
        );
        let summary = ExportSummary {
            count: 2,
            last_hash: "ab".into(),
            last_position: 9,
            whole_log: true,
            complete_chains: true,
        };
        assert_eq!(
            String::from_utf8(summary.line().unwrap()).unwrap(),
            r#"{"complete_chains":true,"count":2,"last_hash":"ab","last_position":9,"whole_log":true}"#
        );
    }
}
