//! The embedded event log: one SQLite file, no server.
//!
//! This is the "embedded default" of the design: the same binary runs for a first try, in
//! development, in a demo or for a single entity without NATS, and behaves as the JetStream
//! backend does (the conformance tests run every behaviour against both). It is not a cache of
//! anything: the file is the ledger, so it is written as one.
//!
//! - **Durable on acknowledgement.** WAL journal with `synchronous = FULL`: an append is
//!   answered only after its transaction is committed and the WAL is fsynced, so an acknowledged
//!   event survives a killed process and a power loss (stronger than JetStream's default, which
//!   acknowledges before fsync).
//! - **Group commit.** SQLite has one writer and every commit waits for an fsync, so one commit
//!   per append would cap the log at the disk's fsync rate. One writer task owns the write
//!   connection; it takes every pending request (at most [`APPEND_BATCH_MAX`]), checks and writes
//!   them in order inside one transaction, so that two appends for one customer in the same
//!   batch see each other, commits once and then answers each. The checks of a whole batch are
//!   two lookups and its inserts a few multi-row statements, because each statement is a round
//!   trip to SQLite's own thread. Invoice-number reservations go through the same task, so
//!   nothing else ever competes for the write lock inside a process.
//! - **Same semantics as JetStream.** Positions are log-wide, 1, 2, 3, ... with no gaps (checked
//!   by a trigger); an append names the customer's expected last position (optimistic
//!   concurrency); a command id already in the log answers [`Appended::Duplicate`] with the
//!   position of its event. Deduplication here is permanent (a unique column), not a window of a
//!   few minutes as in JetStream: the log never forgets a command id it has taken.
//! - **Followers** read committed events in pages through a small pool of read connections (WAL
//!   readers never block the writer), woken by a watch of the last committed position and, so
//!   that another process appending to the same file is seen too, by a short poll.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use futures::stream::BoxStream;
use futures::stream::StreamExt as _;
use receivables_domain::ids::NumberKey;
use receivables_domain::{CommandId, CustomerId, EventEnvelope, Position, RecordedEvent};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteLockingMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::codec;
use crate::error::Outage;
use crate::snapshots::SqliteSnapshots;
use crate::{
    Append, Appended, AppendedRun, Claim, EventLog, LogError, Reservation, RunStop, StoredEvent,
    parallel,
};

/// Most write requests (appends, runs of appends and reservations) committed in one
/// transaction. Bounds the time one commit holds the write lock and the answers that wait for
/// it; at 256 appends in flight a batch is rarely more than a few hundred. A run of one
/// customer's events is one request: the command service makes runs of at most a few hundred
/// commands, one run in flight per customer.
pub const APPEND_BATCH_MAX: usize = 512;

/// Most events inserted by one statement (five parameters each, far below SQLite's limit of
/// 32,766). Fewer statements mean fewer round trips to SQLite's thread.
pub const INSERT_ROWS_MAX: usize = 64;

/// Most write requests queued for the writer task; a caller beyond it waits to enqueue
/// (backpressure instead of unbounded memory: the queue holds encoded events).
pub const WRITE_QUEUE_MAX: usize = 1024;

/// Events read from the file per query while following the log.
pub const FOLLOW_PAGE_EVENTS: usize = 256;

/// How often a follower that has read everything looks at the file again without being woken.
/// The writer of this process wakes followers at once; the poll is for appends made by another
/// process on the same file.
pub const FOLLOW_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How long a statement waits for a lock held by another connection (another process's
/// writer, a checkpoint) before failing as unavailable.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read connections for loads and followers. WAL readers do not block the writer or each other.
pub const READ_CONNECTIONS_MAX: u32 = 4;

/// How long a read waits for a free read connection.
pub const READ_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages after which a commit copies the WAL back into the database (SQLite's own default,
/// stated so that it is a decision rather than an accident).
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 1000;

/// The schema of the file: the events, the invoice- and credit-note-number reservations and
/// their checks.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The event log in one SQLite file.
///
/// [`SqliteLog::close`] finishes the queued writes and closes the file. Dropping the log
/// without closing it lets the writer task finish what is queued in the background; a killed
/// process loses nothing that was acknowledged.
pub struct SqliteLog {
    path: PathBuf,
    writer: mpsc::Sender<Message>,
    readers: SqlitePool,
    committed: watch::Receiver<Position>,
    snapshots: SqliteSnapshots,
}

impl SqliteLog {
    /// Opens the log at `path`, creating the file (and its directory) and the schema if they
    /// are missing, and starts the writer task. Must be called inside a Tokio runtime.
    pub async fn open(path: &Path) -> Result<SqliteLog, LogError> {
        if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(directory).map_err(|e| {
                let what = format!("cannot create {}", directory.display());
                LogError::Unavailable(Outage::context(what, e))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .locking_mode(SqliteLockingMode::Normal)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        let mut connection = options.connect().await.map_err(|e| {
            LogError::Unavailable(Outage::context(
                format!("cannot open {}", path.display()),
                e,
            ))
        })?;
        MIGRATOR.run(&mut connection).await.map_err(|e| {
            LogError::Refused(format!(
                "cannot bring the schema of {} up to date: {e}",
                path.display()
            ))
        })?;
        let last = last_position_in(&mut connection).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS_MAX)
            .min_connections(0)
            .acquire_timeout(READ_ACQUIRE_TIMEOUT)
            .connect_with(options.clone().create_if_missing(false))
            .await
            .map_err(unavailable)?;
        let (writer, inbox) = mpsc::channel(WRITE_QUEUE_MAX);
        let (committed_tx, committed) = watch::channel(last);
        let task = Writer {
            connection: Some(connection),
            options: options.clone(),
            inbox,
            committed: committed_tx,
        };
        tokio::spawn(
            task.run()
                .instrument(info_span!("sqlite_log_writer", path = %path.display())),
        );
        info!(path = %path.display(), last_position = last.get(), "embedded event log open");
        Ok(SqliteLog {
            path: path.to_owned(),
            writer,
            readers,
            committed,
            snapshots: SqliteSnapshots::beside(path),
        })
    }

    /// The file the log lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Finishes every write queued before this call (each is committed and answered), refuses
    /// later ones, and closes the file. Closing twice is harmless.
    pub async fn close(&self) -> Result<(), LogError> {
        let (done, closed) = oneshot::channel();
        let outcome = match self.writer.send(Message::Close(done)).await {
            // A writer that went away without answering has closed already.
            Ok(()) => closed.await.unwrap_or(Ok(())),
            Err(_) => Ok(()),
        };
        self.readers.close().await;
        self.snapshots.close().await;
        info!(path = %self.path.display(), "embedded event log closed");
        outcome
    }

    /// Hands the encoded events of a run (or of events in order) to the writer as one request
    /// made by `request`; an event that could not be encoded (`unencodable`) stops them after
    /// the ones before it.
    async fn submit_run(
        &self,
        events: Vec<NewEvent>,
        unencodable: Option<LogError>,
        request: impl FnOnce(Vec<NewEvent>, RunReply) -> Request,
    ) -> AppendedRun {
        let mut appended = if events.is_empty() {
            AppendedRun {
                positions: Vec::new(),
                stopped: None,
            }
        } else {
            self.submit(|reply| request(events, reply))
                .await
                // The transaction was not committed: nothing of it is in the log.
                .unwrap_or_else(|error| AppendedRun {
                    positions: Vec::new(),
                    stopped: Some(RunStop::Failed(error)),
                })
        };
        if appended.stopped.is_none() {
            appended.stopped = unencodable.map(RunStop::Failed);
        }
        appended
    }

    /// Hands a request to the writer task and waits for its answer (given after the commit).
    async fn submit<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<T, LogError>>) -> Request,
    ) -> Result<T, LogError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Message::Write(request(reply)))
            .await
            .map_err(|_| closed())?;
        // The writer answers every request it takes; no answer means it stopped.
        answer.await.map_err(|_| closed())?
    }
}

#[async_trait]
impl EventLog for SqliteLog {
    async fn load_stored(
        &self,
        customer: &CustomerId,
        after: Position,
    ) -> Result<Vec<StoredEvent>, LogError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT position, customer_id, payload FROM events
             WHERE customer_id = ?1 AND position > ?2 ORDER BY position",
        )
        .bind(customer.as_str())
        .bind(sql_position(after))
        .fetch_all(&self.readers)
        .await
        .map_err(unavailable)?;
        rows.into_iter().map(stored_row).collect()
    }

    async fn event_at(
        &self,
        customer: &CustomerId,
        position: Position,
    ) -> Result<RecordedEvent, LogError> {
        let row = sqlx::query_as::<_, Row>(
            "SELECT position, customer_id, payload FROM events WHERE position = ?1",
        )
        .bind(sql_position(position))
        .fetch_optional(&self.readers)
        .await
        .map_err(unavailable)?;
        let Some((at, owner, payload)) = row else {
            return Err(LogError::Corrupt {
                position,
                problem: format!("no event there, where customer {customer} had one"),
            });
        };
        let event = crate::decode_stored(&stored_row((at, owner, payload))?)?;
        crate::owned_by(event, customer)
    }

    async fn load_snapshot(&self, customer: &CustomerId) -> Result<Option<Vec<u8>>, LogError> {
        self.snapshots.load(customer).await
    }

    async fn save_snapshot(
        &self,
        customer: &CustomerId,
        position: Position,
        snapshot: Vec<u8>,
    ) -> Result<(), LogError> {
        self.snapshots.save(customer, position, snapshot).await
    }

    async fn append(
        &self,
        envelope: &EventEnvelope,
        expected: Position,
    ) -> Result<Appended, LogError> {
        // Encoding (and its size limit) happens on the caller's task, not the writer's.
        let event = NewEvent {
            customer_id: envelope.customer_id.clone(),
            command_id: envelope.command_id,
            payload: codec::encode(envelope)?,
            expected,
        };
        self.submit(|reply| Request::Append { event, reply }).await
    }

    /// One request to the writer: the run is decided and inserted in one transaction, its
    /// events one after another as appends of the same batch are. An event that cannot be
    /// encoded stops the run there; the events before it are still appended, as the trait says.
    async fn append_run(&self, envelopes: &[EventEnvelope], expected: Position) -> AppendedRun {
        // The writer chains the others to the event before them.
        let (events, unencodable) = encode_all(envelopes.iter().map(|e| (e, expected)));
        self.submit_run(events, unencodable, |events, reply| Request::AppendRun {
            events,
            reply,
        })
        .await
    }

    /// One request to the writer, as a run is: decided and inserted in one transaction, which
    /// first checks that the log's last position is `last`.
    async fn append_in_order(&self, appends: &[Append], last: Position) -> AppendedRun {
        let (events, unencodable) = encode_all(
            appends
                .iter()
                .map(|append| (&append.envelope, append.expected)),
        );
        self.submit_run(events, unencodable, |events, reply| {
            Request::AppendInOrder {
                events,
                last,
                reply,
            }
        })
        .await
    }

    async fn follow(
        &self,
        after: Position,
    ) -> Result<BoxStream<'static, Result<RecordedEvent, LogError>>, LogError> {
        // Read here, decoded on the other cores (see `parallel`).
        let events = parallel::map_batches(self.follow_stored(after).await?, |batch| {
            batch
                .into_iter()
                .map(|stored| stored.and_then(|stored| crate::decode_stored(&stored)))
                .collect()
        });
        Ok(parallel::until_first_error(events))
    }

    async fn follow_stored(
        &self,
        after: Position,
    ) -> Result<BoxStream<'static, Result<StoredEvent, LogError>>, LogError> {
        if self.readers.is_closed() {
            return Err(closed());
        }
        let feed = Feed {
            readers: self.readers.clone(),
            committed: self.committed.clone(),
            after,
            page: VecDeque::with_capacity(FOLLOW_PAGE_EVENTS),
            broken: None,
        };
        let rows = futures::stream::unfold(Some(feed), |feed| async move {
            let mut feed = feed?;
            match feed.next().await.and_then(stored_row) {
                Ok(row) => Some((Ok(row), Some(feed))),
                // An error ends the stream; the caller follows again from what it has.
                Err(error) => Some((Err(error), None)),
            }
        });
        Ok(rows.boxed())
    }

    async fn last_position(&self) -> Result<Position, LogError> {
        // Read from the file rather than the watch, so that another process's appends count.
        let mut connection = self.readers.acquire().await.map_err(unavailable)?;
        last_position_in(&mut connection).await
    }

    /// From the index by customer and position, like [`SqliteLog::load`].
    async fn last_position_of(&self, customer: &CustomerId) -> Result<Position, LogError> {
        let (last,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(position), 0) FROM events WHERE customer_id = ?1")
                .bind(customer.as_str())
                .fetch_one(&self.readers)
                .await
                .map_err(unavailable)?;
        position_from_sql(last)
    }

    async fn reserve_number(
        &self,
        number: &NumberKey,
        claim: &Claim,
    ) -> Result<Reservation, LogError> {
        let (number, claim) = (number.clone(), claim.clone());
        self.submit(|reply| Request::Reserve {
            number,
            claim,
            reply,
        })
        .await
    }

    async fn release_number(&self, number: &NumberKey, claim: &Claim) -> Result<(), LogError> {
        let (number, claim) = (number.clone(), claim.clone());
        self.submit(|reply| Request::Release {
            number,
            claim,
            reply,
        })
        .await
    }
}

impl std::fmt::Debug for SqliteLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// The writer task
// ---------------------------------------------------------------------------------------------

/// What the writer task is asked to do.
enum Message {
    Write(Request),
    /// Finish what is queued, refuse the rest, close the connection, then answer.
    Close(oneshot::Sender<Result<(), LogError>>),
}

/// One write, answered after the transaction it was part of is committed.
enum Request {
    Append {
        event: NewEvent,
        reply: AppendReply,
    },
    /// Events of one customer, appended in order, each right after the one before.
    AppendRun {
        events: Vec<NewEvent>,
        reply: RunReply,
    },
    /// Events of any customers, appended in order, each after its own expected position, the
    /// first right after the log's last position `last` ([`EventLog::append_in_order`]).
    AppendInOrder {
        events: Vec<NewEvent>,
        last: Position,
        reply: RunReply,
    },
    Reserve {
        number: NumberKey,
        claim: Claim,
        reply: oneshot::Sender<Result<Reservation, LogError>>,
    },
    Release {
        number: NumberKey,
        claim: Claim,
        reply: oneshot::Sender<Result<(), LogError>>,
    },
}

impl Request {
    fn fail(self, error: LogError) {
        // A caller that stopped waiting does not need the answer.
        match self {
            Request::Append { reply, .. } => drop(reply.send(Err(error))),
            Request::AppendRun { reply, .. } => drop(reply.send(Err(error))),
            Request::AppendInOrder { reply, .. } => drop(reply.send(Err(error))),
            Request::Reserve { reply, .. } => drop(reply.send(Err(error))),
            Request::Release { reply, .. } => drop(reply.send(Err(error))),
        }
    }
}

/// An event on its way into the log, encoded by the caller.
struct NewEvent {
    customer_id: CustomerId,
    command_id: CommandId,
    payload: Vec<u8>,
    expected: Position,
}

/// The answer to one request of a batch, sent once the batch's commit is known: its own
/// outcome if the commit succeeded, the commit's error otherwise.
type Settle = Box<dyn FnOnce(Result<(), LogError>) + Send>;

fn settle<T: Send + 'static>(
    reply: oneshot::Sender<Result<T, LogError>>,
    outcome: Result<T, LogError>,
) -> Settle {
    Box::new(move |commit| {
        // A caller that stopped waiting does not need the answer.
        let _ = reply.send(commit.and(outcome));
    })
}

/// The outcome of one request inside the transaction: the outer error spoils the whole batch
/// (the database failed), the inner one is this request's own answer (a conflict, say).
type Executed<T> = Result<Result<T, LogError>, LogError>;

/// Splits an executed request into its deferred answer and what it means for the batch.
fn split<T: Send + 'static>(
    reply: oneshot::Sender<Result<T, LogError>>,
    executed: Executed<T>,
) -> (Settle, Result<(), LogError>) {
    match executed {
        Ok(outcome) => (settle(reply, outcome), Ok(())),
        Err(fatal) => (settle(reply, Err(fatal.clone())), Err(fatal)),
    }
}

/// The task that owns the write connection: the only writer of this process.
struct Writer {
    /// The write connection; none after a batch failed, until the next batch opens another.
    connection: Option<SqliteConnection>,
    /// How to open it again.
    options: SqliteConnectOptions,
    inbox: mpsc::Receiver<Message>,
    committed: watch::Sender<Position>,
}

impl Writer {
    /// Commits batches until the log is closed or dropped; then finishes what is queued and
    /// closes the connection.
    async fn run(mut self) {
        let mut messages = Vec::with_capacity(APPEND_BATCH_MAX);
        let mut closers = Vec::new();
        while self.inbox.recv_many(&mut messages, APPEND_BATCH_MAX).await > 0 {
            let mut batch = Vec::with_capacity(messages.len());
            for message in messages.drain(..) {
                match message {
                    Message::Write(request) => batch.push(request),
                    Message::Close(done) => {
                        // What is already queued is still written; nothing new is taken.
                        self.inbox.close();
                        closers.push(done);
                    }
                }
            }
            if !batch.is_empty() {
                self.write_batch(batch).await;
            }
        }
        let closed = match self.connection.take() {
            Some(connection) => connection.close().await.map_err(unavailable),
            None => Ok(()),
        };
        if let Err(error) = &closed {
            warn!(%error, "closing the write connection failed");
        }
        for done in closers {
            let _ = done.send(closed.clone());
        }
        debug!("writer stopped");
    }

    /// Writes a batch in one transaction and answers every request in it.
    async fn write_batch(&mut self, batch: Vec<Request>) {
        let requests = batch.len();
        let started = std::time::Instant::now();
        let mut pending = batch.into_iter();
        let mut undecided = Vec::new();
        let mut settled: Vec<Settle> = Vec::with_capacity(requests);
        let connection = match self.connection.as_mut() {
            Some(connection) => connection,
            None => match self.options.connect().await {
                Ok(connection) => self.connection.insert(connection),
                Err(error) => {
                    let error = unavailable(error);
                    warn!(%error, requests, "write connection not opened; every request fails");
                    for request in pending {
                        request.fail(error.clone());
                    }
                    return;
                }
            },
        };
        let outcome = commit_batch(connection, &mut pending, &mut undecided, &mut settled).await;
        match outcome {
            Ok(last) => {
                // Followers are woken before the callers hear back.
                self.committed.send_if_modified(|committed| {
                    let moved = last > *committed;
                    if moved {
                        *committed = last;
                    }
                    moved
                });
                for answer in settled {
                    answer(Ok(()));
                }
                debug!(
                    requests,
                    last_position = last.get(),
                    commit_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                    "batch committed"
                );
            }
            Err(error) => {
                warn!(%error, requests, "batch not committed; every request in it fails");
                // A COMMIT that failed (a full disk) leaves the connection inside its
                // transaction, where every later batch would fail too: the next batch starts
                // on a connection of its own.
                if let Some(connection) = self.connection.take()
                    && let Err(error) = connection.close().await
                {
                    warn!(%error, "closing the failed write connection failed");
                }
                for answer in settled {
                    answer(Err(error.clone()));
                }
                for append in undecided {
                    append.fail(error.clone());
                }
                for request in pending {
                    request.fail(error.clone());
                }
            }
        }
    }
}

/// The events encoded for the writer, each with its expected position, up to the first that
/// cannot be encoded (its error beside them).
fn encode_all<'a>(
    envelopes: impl Iterator<Item = (&'a EventEnvelope, Position)>,
) -> (Vec<NewEvent>, Option<LogError>) {
    let mut events = Vec::new();
    for (envelope, expected) in envelopes {
        match codec::encode(envelope) {
            Ok(payload) => events.push(NewEvent {
                customer_id: envelope.customer_id.clone(),
                command_id: envelope.command_id,
                payload,
                expected,
            }),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

/// Where an append's answer goes.
type AppendReply = oneshot::Sender<Result<Appended, LogError>>;

/// Where a run's answer goes.
type RunReply = oneshot::Sender<Result<AppendedRun, LogError>>;

/// An append waiting for the batch's appends to be decided together.
enum Undecided {
    One(NewEvent, AppendReply),
    Run(Vec<NewEvent>, RunReply),
    /// Events of any customers, each after its own expected position, the first right after
    /// the log's last position.
    InOrder(Vec<NewEvent>, Position, RunReply),
}

impl Undecided {
    fn events(&self) -> &[NewEvent] {
        match self {
            Undecided::One(event, _) => std::slice::from_ref(event),
            Undecided::Run(events, _) | Undecided::InOrder(events, _, _) => events,
        }
    }

    fn fail(self, error: LogError) {
        // A caller that stopped waiting does not need the answer.
        match self {
            Undecided::One(_, reply) => drop(reply.send(Err(error))),
            Undecided::Run(_, reply) | Undecided::InOrder(_, _, reply) => {
                drop(reply.send(Err(error)));
            }
        }
    }
}

/// Executes the requests from `pending` inside one `BEGIN IMMEDIATE` transaction (the write lock
/// is taken up front, so another process's writer cannot interleave) and commits it.
///
/// Reservations run one by one in their order. Appends are collected in `undecided` and decided
/// together, in their order, once every reservation has run: the two touch different tables and
/// nobody hears an answer before the commit, so nothing can tell the difference.
///
/// Every request ends up in exactly one place: answered-to-be in `settled`, or, after an
/// error, still in `undecided` or `pending`. The caller answers all three; the transaction rolls
/// back when it drops.
async fn commit_batch(
    connection: &mut SqliteConnection,
    pending: &mut impl Iterator<Item = Request>,
    undecided: &mut Vec<Undecided>,
    settled: &mut Vec<Settle>,
) -> Result<Position, LogError> {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let mut transaction = connection
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(unavailable)?;
    // Read inside the transaction: another process may have appended since our last commit.
    let mut last = last_position_in(&mut transaction).await?;
    for request in pending.by_ref() {
        let (answer, spoiled) = match request {
            Request::Append { event, reply } => {
                undecided.push(Undecided::One(event, reply));
                continue;
            }
            Request::AppendRun { events, reply } => {
                undecided.push(Undecided::Run(events, reply));
                continue;
            }
            Request::AppendInOrder {
                events,
                last,
                reply,
            } => {
                undecided.push(Undecided::InOrder(events, last, reply));
                continue;
            }
            Request::Reserve {
                number,
                claim,
                reply,
            } => split(
                reply,
                reserve_in(&mut transaction, &number, &claim, &now).await,
            ),
            Request::Release {
                number,
                claim,
                reply,
            } => split(reply, release_in(&mut transaction, &number, &claim).await),
        };
        settled.push(answer);
        spoiled?;
    }
    append_all(&mut transaction, undecided, &mut last, &now, settled).await?;
    transaction.commit().await.map_err(unavailable)?;
    Ok(last)
}

/// The command ids among `?1` (a JSON array) that the log has taken already, with the position
/// of their event.
const TAKEN_COMMAND_IDS: &str = "SELECT command_id, position FROM events
     WHERE command_id IN (SELECT value FROM json_each(?1))";

/// The last position of each customer in `?1` (a JSON array); none for an empty history.
const CUSTOMERS_LAST_POSITIONS: &str = "SELECT customer.value,
            (SELECT MAX(position) FROM events WHERE customer_id = customer.value)
     FROM json_each(?1) AS customer";

/// Decides the batch's appends in order and inserts the accepted ones. A command id already in
/// the log, or taken earlier in the batch, is a duplicate at that position (checked first, as
/// the trait documents, so that a retry finds its event even after its customer moved on); a
/// customer whose last position, in the log or earlier in the batch, is not the expected one is
/// a conflict; anything else takes the next position. The events of a run are decided in
/// order, each expecting the one before; the first that is not appended stops the run.
///
/// Two lookups and one insert per [`INSERT_ROWS_MAX`] accepted events, whatever the batch's
/// size: each statement is a round trip to SQLite's own thread, which costs more than the
/// statement's work. The trigger and the unique command id check the outcome again on the way
/// in.
async fn append_all(
    connection: &mut SqliteConnection,
    undecided: &mut Vec<Undecided>,
    last: &mut Position,
    appended_at: &str,
    settled: &mut Vec<Settle>,
) -> Result<(), LogError> {
    if undecided.is_empty() {
        return Ok(());
    }
    let events = || undecided.iter().flat_map(Undecided::events);
    let command_ids: Vec<String> = events().map(|event| event.command_id.to_string()).collect();
    let customers: Vec<&str> = events().map(|event| event.customer_id.as_str()).collect();
    let mut batch = Batch {
        taken: positions_by_key(connection, TAKEN_COMMAND_IDS, &command_ids).await?,
        customer_last: positions_by_key(connection, CUSTOMERS_LAST_POSITIONS, &customers).await?,
        last,
        accepted: Vec::with_capacity(command_ids.len()),
    };
    for append in undecided.drain(..) {
        match append {
            Undecided::One(event, reply) => {
                let outcome = batch.decide(event);
                settled.push(settle(reply, outcome));
            }
            Undecided::Run(events, reply) => {
                let run = batch.decide_in_order(events, true);
                settled.push(settle(reply, Ok(run)));
            }
            Undecided::InOrder(events, last, reply) => {
                let run = if *batch.last == last {
                    batch.decide_in_order(events, false)
                } else {
                    AppendedRun {
                        positions: Vec::new(),
                        stopped: Some(RunStop::Failed(LogError::Conflict { expected: last })),
                    }
                };
                settled.push(settle(reply, Ok(run)));
            }
        }
    }
    for rows in batch.accepted.chunks(INSERT_ROWS_MAX) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO events (position, customer_id, command_id, payload, appended_at) ",
        );
        insert.push_values(rows, |mut row, (position, command_id, event)| {
            row.push_bind(sql_position(*position))
                .push_bind(event.customer_id.as_str())
                .push_bind(command_id.as_str())
                .push_bind(event.payload.as_slice())
                .push_bind(appended_at);
        });
        insert
            .build()
            .execute(&mut *connection)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

/// The appends of one transaction as they are decided: what the log and the batch so far hold.
struct Batch<'a> {
    /// Command ids taken, in the log or earlier in the batch, and their events' positions.
    taken: HashMap<String, Position>,
    /// Each customer's last position, in the log or earlier in the batch.
    customer_last: HashMap<String, Position>,
    /// The log's last position, in the log or earlier in the batch.
    last: &'a mut Position,
    /// The events to insert, with their positions.
    accepted: Vec<(Position, String, NewEvent)>,
}

impl Batch<'_> {
    /// Decides `events` in order, stopping at the first not appended as new; `chained`: each
    /// expects the one before it (a run of one customer's events), not its own position.
    fn decide_in_order(&mut self, events: Vec<NewEvent>, chained: bool) -> AppendedRun {
        let mut run = AppendedRun {
            positions: Vec::with_capacity(events.len()),
            stopped: None,
        };
        for mut event in events {
            if chained && let Some(previous) = run.positions.last() {
                event.expected = *previous;
            }
            match self.decide(event) {
                Ok(Appended::New(position)) => run.positions.push(position),
                Ok(Appended::Duplicate(position)) => {
                    run.stopped = Some(RunStop::Duplicate(position));
                    break;
                }
                Err(error) => {
                    run.stopped = Some(RunStop::Failed(error));
                    break;
                }
            }
        }
        run
    }

    /// Decides one append against the log and the batch so far.
    fn decide(&mut self, event: NewEvent) -> Result<Appended, LogError> {
        let command_id = event.command_id.to_string();
        let customer = event.customer_id.as_str();
        if let Some(position) = self.taken.get(&command_id) {
            debug!(
                customer,
                %command_id,
                position = position.get(),
                "command id already in the log"
            );
            return Ok(Appended::Duplicate(*position));
        }
        let customer_at = self
            .customer_last
            .get(customer)
            .copied()
            .unwrap_or(Position::ZERO);
        if customer_at != event.expected {
            debug!(
                customer,
                expected = event.expected.get(),
                last = customer_at.get(),
                "conflict"
            );
            return Err(LogError::Conflict {
                expected: event.expected,
            });
        }
        let Some(position) = next_position(*self.last) else {
            return Err(LogError::Refused(
                "the log has run out of positions".to_owned(),
            ));
        };
        debug!(customer, position = position.get(), "appended");
        self.taken.insert(command_id.clone(), position);
        self.customer_last.insert(customer.to_owned(), position);
        *self.last = position;
        self.accepted.push((position, command_id, event));
        Ok(Appended::New(position))
    }
}

/// Runs a lookup of positions by key (`?1`: the keys as a JSON array: one statement, and one
/// prepared statement, whatever the number of keys).
async fn positions_by_key(
    connection: &mut SqliteConnection,
    lookup: &'static str,
    keys: &[impl AsRef<str>],
) -> Result<HashMap<String, Position>, LogError> {
    let keys = keys.iter().map(AsRef::as_ref).collect::<Vec<&str>>();
    let keys = serde_json::to_string(&keys)
        .map_err(|e| LogError::Refused(format!("keys cannot be encoded: {e}")))?;
    let rows: Vec<(String, Option<i64>)> = sqlx::query_as(lookup)
        .bind(keys)
        .fetch_all(&mut *connection)
        .await
        .map_err(unavailable)?;
    let mut positions = HashMap::with_capacity(rows.len());
    for (key, position) in rows {
        if let Some(position) = position {
            positions.insert(key, position_from_sql(position)?);
        }
    }
    Ok(positions)
}

/// The position after `last`, if SQLite can still store it.
fn next_position(last: Position) -> Option<Position> {
    last.get()
        .checked_add(1)
        .filter(|next| i64::try_from(*next).is_ok())
        .map(Position::new)
}

/// The table of a key space's reservations and its number column.
fn reservations(number: &NumberKey) -> (&'static str, &'static str) {
    match number {
        NumberKey::Invoice(_) => ("invoice_number_reservations", "invoice_number"),
        NumberKey::CreditNote(_) => ("credit_note_number_reservations", "credit_note_number"),
        NumberKey::Order(_) => ("order_number_reservations", "order_number"),
    }
}

/// Takes a number for a claim unless another claim holds it.
async fn reserve_in(
    connection: &mut SqliteConnection,
    number: &NumberKey,
    claim: &Claim,
    reserved_at: &str,
) -> Executed<Reservation> {
    let (table, column) = reservations(number);
    let holder: Option<(String, String)> = sqlx::query_as(&format!(
        "SELECT command_id, customer_id FROM {table}
         WHERE subsidiary_id = ?1 AND {column} = ?2"
    ))
    .bind(number.subsidiary_id().as_str())
    .bind(number.number())
    .fetch_optional(&mut *connection)
    .await
    .map_err(unavailable)?;
    let Some((command_id, customer_id)) = holder else {
        sqlx::query(&format!(
            "INSERT INTO {table} (subsidiary_id, {column}, command_id, customer_id, reserved_at)
             VALUES (?1, ?2, ?3, ?4, ?5)"
        ))
        .bind(number.subsidiary_id().as_str())
        .bind(number.number())
        .bind(claim.command_id.to_string())
        .bind(claim.customer_id.as_str())
        .bind(reserved_at)
        .execute(&mut *connection)
        .await
        .map_err(unavailable)?;
        debug!(%number, customer = %claim.customer_id, "number reserved");
        return Ok(Ok(Reservation::Held));
    };
    Ok(read_claim(number, &command_id, &customer_id).map(|holder| {
        if holder == *claim {
            Reservation::Held
        } else {
            Reservation::TakenBy(holder)
        }
    }))
}

/// Deletes the reservation of a number if, and only if, this claim holds it.
async fn release_in(
    connection: &mut SqliteConnection,
    number: &NumberKey,
    claim: &Claim,
) -> Executed<()> {
    let (table, column) = reservations(number);
    let released = sqlx::query(&format!(
        "DELETE FROM {table}
         WHERE subsidiary_id = ?1 AND {column} = ?2 AND command_id = ?3 AND customer_id = ?4"
    ))
    .bind(number.subsidiary_id().as_str())
    .bind(number.number())
    .bind(claim.command_id.to_string())
    .bind(claim.customer_id.as_str())
    .execute(&mut *connection)
    .await
    .map_err(unavailable)?;
    debug!(%number, released = released.rows_affected(), "number released");
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------------
// Following
// ---------------------------------------------------------------------------------------------

/// An event as stored: its position, its customer and its encoding.
type Row = (i64, String, Vec<u8>);

/// A follower's place in the log. It hands out rows undecoded: they are decoded in batches on
/// the other cores while the next page is read.
struct Feed {
    readers: SqlitePool,
    committed: watch::Receiver<Position>,
    /// The last position handed out (or the starting point).
    after: Position,
    page: VecDeque<Row>,
    /// A gap met while reading the page: given out after the rows before it.
    broken: Option<LogError>,
}

impl Feed {
    async fn next(&mut self) -> Result<Row, LogError> {
        loop {
            if let Some(row) = self.page.pop_front() {
                self.after = position_from_sql(row.0)?;
                return Ok(row);
            }
            if let Some(error) = self.broken.take() {
                return Err(error);
            }
            // Seen before reading, so that a commit during the read wakes the wait below.
            self.committed.borrow_and_update();
            self.read_page().await?;
            if !self.page.is_empty() || self.broken.is_some() {
                continue;
            }
            tokio::select! {
                changed = self.committed.changed() => {
                    if changed.is_err() {
                        return Err(closed());
                    }
                }
                () = tokio::time::sleep(FOLLOW_POLL_INTERVAL) => {}
            }
        }
    }

    /// Reads the next page of committed events. Positions have no gaps, so each must be one
    /// after the one before: the trigger checks it on the way in, this on the way out.
    async fn read_page(&mut self) -> Result<(), LogError> {
        let rows = sqlx::query_as::<_, Row>(
            "SELECT position, customer_id, payload FROM events
             WHERE position > ?1 ORDER BY position LIMIT ?2",
        )
        .bind(sql_position(self.after))
        .bind(i64::try_from(FOLLOW_PAGE_EVENTS).unwrap_or(i64::MAX))
        .fetch_all(&self.readers)
        .await
        .map_err(unavailable)?;
        let mut previous = sql_position(self.after);
        for row in rows {
            if row.0 != previous.saturating_add(1) {
                self.broken = Some(match position_from_sql(row.0) {
                    Ok(position) => LogError::Corrupt {
                        position,
                        problem: format!("follows position {previous}; positions have no gaps"),
                    },
                    Err(error) => error,
                });
                break;
            }
            previous = row.0;
            self.page.push_back(row);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Small pieces
// ---------------------------------------------------------------------------------------------

/// The log is unavailable because of `error`, kept as its source.
fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> LogError {
    LogError::unavailable(error)
}

fn closed() -> LogError {
    LogError::Unavailable("the embedded event log is closed".into())
}

/// The position of the last event in the file, `ZERO` when it has none.
async fn last_position_in(connection: &mut SqliteConnection) -> Result<Position, LogError> {
    let (last,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(&mut *connection)
        .await
        .map_err(unavailable)?;
    position_from_sql(last)
}

/// A position as an SQLite integer for a comparison. SQLite integers stop at `i64::MAX`; no
/// event is beyond that, so a larger position compares as that.
fn sql_position(position: Position) -> i64 {
    i64::try_from(position.get()).unwrap_or(i64::MAX)
}

/// A position read from the file (the schema keeps them above zero).
fn position_from_sql(value: i64) -> Result<Position, LogError> {
    u64::try_from(value)
        .map(Position::new)
        .map_err(|_| LogError::Corrupt {
            position: Position::ZERO,
            problem: format!("the file holds the negative position {value}"),
        })
}

/// A row of the events table as the log's [`StoredEvent`].
fn stored_row((position, owner, payload): Row) -> Result<StoredEvent, LogError> {
    Ok(StoredEvent {
        position: position_from_sql(position)?,
        filed_under: owner,
        bytes: payload.into(),
    })
}

/// A reservation's holder as stored.
fn read_claim(number: &NumberKey, command_id: &str, customer_id: &str) -> Result<Claim, LogError> {
    let unreadable = |problem: String| {
        LogError::Refused(format!("reservation of {number} is unreadable: {problem}"))
    };
    Ok(Claim {
        command_id: CommandId::parse(command_id).map_err(|e| unreadable(e.to_string()))?,
        customer_id: CustomerId::parse(customer_id).map_err(|e| unreadable(e.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn positions_beyond_sqlite_compare_as_the_largest_integer() {
        assert_eq!(sql_position(Position::ZERO), 0);
        assert_eq!(sql_position(Position::new(42)), 42);
        assert_eq!(sql_position(Position::new(u64::MAX)), i64::MAX);
    }

    #[test]
    fn the_next_position_stops_where_sqlite_integers_do() {
        assert_eq!(next_position(Position::ZERO), Some(Position::new(1)));
        assert_eq!(next_position(Position::new(41)), Some(Position::new(42)));
        let largest = u64::try_from(i64::MAX).unwrap();
        assert_eq!(
            next_position(Position::new(largest - 1)),
            Some(Position::new(largest))
        );
        assert_eq!(next_position(Position::new(largest)), None);
        assert_eq!(next_position(Position::new(u64::MAX)), None);
    }

    #[test]
    fn a_negative_position_in_the_file_is_corrupt() {
        assert_eq!(position_from_sql(7), Ok(Position::new(7)));
        assert!(matches!(
            position_from_sql(-1),
            Err(LogError::Corrupt { .. })
        ));
    }

    #[test]
    fn an_unreadable_payload_is_corrupt_at_its_position() {
        let stored = stored_row((5, "C-1".into(), b"not json".to_vec())).unwrap();
        let error = crate::decode_stored(&stored).unwrap_err();
        assert!(
            matches!(error, LogError::Corrupt { position, .. } if position == Position::new(5)),
            "{error:?}"
        );
    }

    #[test]
    fn a_failed_commit_overrides_every_answer() {
        let (reply, answer) = oneshot::channel::<Result<Appended, LogError>>();
        settle(reply, Ok(Appended::New(Position::new(3))))(Err(closed()));
        assert_eq!(answer.blocking_recv().unwrap(), Err(closed()));

        let (reply, answer) = oneshot::channel::<Result<Appended, LogError>>();
        let conflict = LogError::Conflict {
            expected: Position::new(2),
        };
        settle(reply, Err(conflict.clone()))(Ok(()));
        assert_eq!(answer.blocking_recv().unwrap(), Err(conflict));
    }

    #[test]
    fn a_committed_answer_is_the_request_s_own_outcome() {
        let (reply, answer) = oneshot::channel::<Result<Appended, LogError>>();
        settle(reply, Ok(Appended::New(Position::new(3))))(Ok(()));
        assert_eq!(
            answer.blocking_recv().unwrap(),
            Ok(Appended::New(Position::new(3)))
        );
    }

    #[test]
    fn a_fatal_error_spoils_the_batch_and_answers_the_request_with_it() {
        let (reply, answer) = oneshot::channel::<Result<(), LogError>>();
        let fatal = LogError::Unavailable("disk I/O error".into());
        let (settle, batch) = split(reply, Err(fatal.clone()));
        assert_eq!(batch, Err(fatal.clone()));
        settle(Ok(()));
        assert_eq!(answer.blocking_recv().unwrap(), Err(fatal));
    }
}
