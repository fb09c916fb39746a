//! `audit events`: the log (or a filtered part of it) as a table an auditor reads: position,
//! when it was recorded and took effect, customer, subsidiary, type, who, and what happened.
//! `audit export` writes the same events for keeping and checking; this is for reading.

use futures::StreamExt;
use receivables_api::pb;
use receivables_domain::EventEnvelope;

use crate::cmd::audit::filter::ReplayFilterArgs;
use crate::cmd::{self, Output};
use crate::connection::Connection;
use crate::error::CliError;
use crate::events::summary;
use crate::sheet::{Cell, Column, Sheet};

/// Events between two progress messages asked of the service (the command shows no bar).
const PROGRESS_EVERY_EVENTS: u32 = 10_000;

#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub filter: ReplayFilterArgs,

    /// At most this many events; default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// The events as a sheet.
pub fn events_sheet(events: &[(u64, EventEnvelope)]) -> Sheet {
    let mut sheet = Sheet::new(
        "events",
        vec![
            Column::right("position", "position"),
            Column::left("recorded_at", "recorded at"),
            Column::left("effective_date", "effective"),
            Column::left("customer_id", "customer"),
            Column::left("subsidiary_id", "subsidiary"),
            Column::left("event_type", "type"),
            Column::left("principal", "by"),
            Column::left("summary", "what"),
        ],
    );
    for (position, envelope) in events {
        sheet.rows.push(vec![
            Cell::int(*position),
            Cell::text(envelope.recorded_at.to_rfc3339()),
            Cell::text(envelope.effective_date.to_string()),
            Cell::text(envelope.customer_id.as_str()),
            Cell::text(
                envelope
                    .subsidiary_id
                    .as_ref()
                    .map(|s| s.as_str())
                    .unwrap_or_default(),
            ),
            Cell::text(envelope.event.type_name()),
            Cell::text(envelope.principal.as_str()),
            Cell::text(summary(&envelope.event)),
        ]);
    }
    sheet
}

impl EventsArgs {
    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let audit = connection.audit().await?;
        let mut responses = audit
            .client
            .clone()
            .replay_events(self.filter.request(PROGRESS_EVERY_EVENTS))
            .await
            .map_err(|s| audit.error(&s))?
            .into_inner();
        let limit = self.limit.map_or(usize::MAX, |n| n as usize);
        let mut events = Vec::new();
        while let Some(response) = responses.next().await {
            let response = response.map_err(|s| audit.error(&s))?;
            if let Some(pb::replay_events_response::Item::Event(event)) = response.item {
                let envelope: EventEnvelope =
                    serde_json::from_str(&event.envelope_json).map_err(|e| {
                        CliError::Output(format!(
                            "the event at position {} cannot be read: {e}",
                            event.position
                        ))
                    })?;
                events.push((event.position, envelope));
                if events.len() >= limit {
                    break;
                }
            }
        }
        cmd::emit(out, &events_sheet(&events).render(connection.format)?)
    }
}
