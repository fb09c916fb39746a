//! A backup of the event log: one file holding every event with its chain, from which an empty
//! log (a directory or a stream) is restored with [`crate::transfer::copy`].
//!
//! The file is JSON Lines, so that it can be read with everyday tools: a header naming the
//! format, one line per event (`{"position":…,"event":…}`, the event in the log's own encoding,
//! [`crate::codec`]), and a last line saying how many events there are, so that a truncated
//! file is told from a whole one. It is written under a temporary name and renamed when
//! complete and synced: a file with the backup's name is whole.
//!
//! A backup is read as any event from outside is: each event decoded and checked against the
//! ledger's rules, the chain checked by the copy, every line bounded in length.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures::stream::{self, Stream, StreamExt};
use receivables_domain::chain::ChainVerifier;
use receivables_domain::{Position, RecordedEvent};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};

use crate::codec::{self, EVENT_BYTES_MAX};
use crate::transfer::{Summary, TransferError};

/// The format's name in the header.
pub const FORMAT: &str = "receivables-event-log";

/// The format's version this code writes and reads.
pub const VERSION: u32 = 1;

/// The longest line read: an event at its largest with its position around it. A longer line
/// is refused unread.
pub const LINE_BYTES_MAX: u64 = EVENT_BYTES_MAX as u64 + 1_024;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    written_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct Line<'a> {
    position: Option<u64>,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    end: Option<End>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct End {
    events: u64,
}

#[derive(Serialize)]
struct Trailer {
    end: End,
}

/// Writes the events of `events` (a log's [`crate::transfer::history`]) to a new file at
/// `path`, which must not exist, and returns their summary. `progress` gets the count of events
/// written every [`crate::transfer::PROGRESS_EVERY_EVENTS`].
pub async fn write<S>(
    events: S,
    path: &Path,
    mut progress: impl FnMut(u64),
) -> Result<Summary, TransferError>
where
    S: Stream<Item = Result<RecordedEvent, crate::LogError>>,
{
    if tokio::fs::try_exists(path).await? {
        return Err(TransferError::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} exists already; a backup never overwrites a file",
                path.display()
            ),
        )));
    }
    let partial = partial_path(path);
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .await?;
    let mut out = BufWriter::new(file);
    let header = Header {
        format: FORMAT.to_owned(),
        version: VERSION,
        written_at: Utc::now(),
    };
    out.write_all(&json_line(&header)?).await?;
    let mut events = std::pin::pin!(events);
    let mut verifier = ChainVerifier::part_of_log();
    let mut line = Vec::with_capacity(4_096);
    while let Some(event) = events.next().await {
        let event = event?;
        verifier
            .check(event.position, &event.envelope)
            .map_err(TransferError::BrokenSource)?;
        line.clear();
        line.extend_from_slice(format!("{{\"position\":{},\"event\":", event.position).as_bytes());
        line.extend_from_slice(&codec::encode(&event.envelope)?);
        line.extend_from_slice(b"}\n");
        out.write_all(&line).await?;
        if verifier
            .checked()
            .is_multiple_of(crate::transfer::PROGRESS_EVERY_EVENTS)
        {
            progress(verifier.checked());
        }
    }
    let trailer = Trailer {
        end: End {
            events: verifier.checked(),
        },
    };
    out.write_all(&json_line(&trailer)?).await?;
    out.flush().await?;
    let file = out.into_inner();
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, path).await?;
    progress(verifier.checked());
    Ok(Summary::of(&verifier))
}

/// The name a backup is written under until it is complete.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn json_line(value: &impl Serialize) -> Result<Vec<u8>, TransferError> {
    let mut bytes = serde_json::to_vec(value).map_err(|e| TransferError::Backup {
        line: 0,
        problem: e.to_string(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The events of the backup at `path`, in order, each decoded and checked against the ledger's
/// rules; an error for the first line that is not what it should be, and at the end if the file
/// is not whole (no last line, or one counting other than the events read).
pub async fn read(
    path: &Path,
) -> Result<impl Stream<Item = Result<RecordedEvent, TransferError>> + use<>, TransferError> {
    let file = File::open(path).await?;
    let reader = Reader {
        input: BufReader::new(file),
        buffer: Vec::with_capacity(4_096),
        line: 0,
        events: 0,
        last_position: Position::ZERO,
    };
    Ok(stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        match reader.next().await {
            Ok(Some(event)) => Some((Ok(event), Some(reader))),
            Ok(None) => None,
            Err(error) => Some((Err(error), None)),
        }
    }))
}

/// Reads the whole backup at `path` and checks it: whole, every event valid, the chain unbroken.
/// Its summary, to restore from it only once it is known to be sound.
pub async fn check(path: &Path) -> Result<Summary, TransferError> {
    let mut events = std::pin::pin!(read(path).await?);
    let mut verifier = ChainVerifier::part_of_log();
    while let Some(event) = events.next().await {
        let event = event?;
        verifier
            .check(event.position, &event.envelope)
            .map_err(TransferError::BrokenSource)?;
    }
    Ok(Summary::of(&verifier))
}

struct Reader {
    input: BufReader<File>,
    buffer: Vec<u8>,
    /// The number of the line last read, from 1.
    line: u64,
    events: u64,
    last_position: Position,
}

impl Reader {
    fn problem(&self, problem: impl Into<String>) -> TransferError {
        TransferError::Backup {
            line: self.line,
            problem: problem.into(),
        }
    }

    /// The next line without its end, `false` at the end of the file.
    async fn next_line(&mut self) -> Result<bool, TransferError> {
        self.buffer.clear();
        let read = (&mut self.input)
            .take(LINE_BYTES_MAX + 1)
            .read_until(b'\n', &mut self.buffer)
            .await?;
        if read == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.buffer.last() != Some(&b'\n') {
            return Err(if read as u64 > LINE_BYTES_MAX {
                self.problem(format!("longer than {LINE_BYTES_MAX} bytes"))
            } else {
                self.problem("the file ends in the middle of a line")
            });
        }
        self.buffer.pop();
        Ok(true)
    }

    async fn next(&mut self) -> Result<Option<RecordedEvent>, TransferError> {
        if self.line == 0 {
            if !self.next_line().await? {
                return Err(self.problem("the file is empty"));
            }
            let header: Header = serde_json::from_slice(&self.buffer)
                .map_err(|e| self.problem(format!("not a backup's header: {e}")))?;
            if header.format != FORMAT || header.version != VERSION {
                return Err(self.problem(format!(
                    "a file of format {} version {}, not {FORMAT} version {VERSION}",
                    header.format, header.version
                )));
            }
        }
        if !self.next_line().await? {
            return Err(self.problem("the file ends without its last line: it is not whole"));
        }
        let line: Line<'_> =
            serde_json::from_slice(&self.buffer).map_err(|e| TransferError::Backup {
                line: self.line,
                problem: format!("not a line of a backup: {e}"),
            })?;
        match line {
            Line {
                position: Some(position),
                event: Some(event),
                end: None,
            } => {
                let position = Position::new(position);
                if position <= self.last_position {
                    return Err(self.problem(format!(
                        "position {position} does not follow position {}",
                        self.last_position
                    )));
                }
                let event = codec::decode(event.get().as_bytes(), position)
                    .map_err(|e| self.problem(e.to_string()))?;
                self.last_position = position;
                self.events += 1;
                Ok(Some(event))
            }
            Line {
                position: None,
                event: None,
                end: Some(end),
            } => {
                if end.events != self.events {
                    return Err(self.problem(format!(
                        "the last line counts {} events, the file holds {}",
                        end.events, self.events
                    )));
                }
                // The file must end here.
                if self.next_line().await? {
                    return Err(self.problem("a line after the last line"));
                }
                Ok(None)
            }
            _ => Err(self.problem("neither an event (position and event) nor the last line (end)")),
        }
    }
}
