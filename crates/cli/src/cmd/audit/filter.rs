//! Which part of the log an auditor's command replays: positions, a recorded-until moment, a
//! customer, a subsidiary, event types. Shared by `audit export` and `audit events`.

use chrono::{DateTime, Utc};
use receivables_api::pb;

use crate::values;

#[derive(Debug, Clone, clap::Args)]
pub struct ReplayFilterArgs {
    /// The first log position (0 or 1: from the first event).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub from_position: u64,

    /// The last log position (0: the last one when the replay starts).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub to_position: u64,

    /// Only events recorded at or before this instant (RFC 3339, such as
    /// 2026-03-31T23:59:59Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub recorded_until: Option<DateTime<Utc>>,

    /// Only this customer's events.
    #[arg(long, value_name = "ID")]
    pub customer: Option<String>,

    /// Only this subsidiary's events.
    #[arg(long, value_name = "ID")]
    pub subsidiary: Option<String>,

    /// Only events of this type (as events name it: InvoiceIssued, PaymentReceived, ...);
    /// repeat for several.
    #[arg(long = "type", value_name = "TYPE", value_parser = values::event_type)]
    pub event_types: Vec<String>,
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 instant ({e}): {text}"))
}

impl ReplayFilterArgs {
    /// Nothing filtered out: the replay is the whole log up to its end.
    pub fn whole_log(&self) -> bool {
        self.from_position <= 1
            && self.recorded_until.is_none()
            && self.customer.is_none()
            && self.subsidiary.is_none()
            && self.event_types.is_empty()
    }

    /// Every chain replayed starts at its customer's first event and has no holes (a cut-off in
    /// time or position only shortens chains at their end).
    pub fn complete_chains(&self) -> bool {
        self.from_position <= 1 && self.subsidiary.is_none() && self.event_types.is_empty()
    }

    /// The replay request, with a progress message every `progress_every` events.
    pub fn request(&self, progress_every: u32) -> pb::ReplayEventsRequest {
        pb::ReplayEventsRequest {
            from_position: self.from_position,
            to_position: self.to_position,
            recorded_until: self
                .recorded_until
                .map(|t| std::time::SystemTime::from(t).into()),
            customer_id: self.customer.clone().unwrap_or_default(),
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            event_types: self.event_types.clone(),
            progress_every,
        }
    }
}
