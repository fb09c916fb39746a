//! `receivables migrate`, `backup` and `restore`: the history moved between the embedded log
//! and a JetStream stream, written to a file and read back, by the binary an operator already
//! has (the copying itself is `receivables_eventlog::transfer`).
//!
//! These work on the logs directly, like `receivables tokens`: the services should be stopped
//! (or the command service at least), so that the source does not move during the copy. A copy
//! takes the source as it stands when it starts; `--resume` after a last stop copies what came
//! after.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use receivables_access::{SqliteTokenStore, StoreError, TokenStore};
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_eventlog::transfer::{self, Copied, CopyInto, Progress, Summary};
use receivables_eventlog::{EventLog, backup};

use crate::config::{
    BackupArgs, EVENT_LOG_FILE, LogsArgs, MigrateArgs, MigrateTo, RestoreArgs, TOKEN_STORE_FILE,
};
use crate::nats;

/// The NATS client's name, as servers list it.
const CLIENT_NAME: &str = "receivables-transfer";

/// `receivables migrate`: copies the history, then the tokens, then verifies the copy, and
/// prints what it did.
pub async fn migrate(args: &MigrateArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let into = copy_into(args.resume);
    let logs = &args.logs;
    let client = nats::connect(logs.nats.url_or_default(), CLIENT_NAME).await?;
    let embedded = || async {
        if args.to == MigrateTo::Jetstream && !logs.data_dir.join(EVENT_LOG_FILE).exists() {
            bail!(
                "no event log in {}: nothing to migrate",
                logs.data_dir.display()
            );
        }
        open_embedded(logs).await
    };
    let (copied, verified) = match args.to {
        MigrateTo::Jetstream => {
            let source = embedded().await?;
            let target = open_stream(client.clone(), logs).await?;
            let done = copy_log(&source, &target, into, logs.quiet).await;
            source.close().await?;
            done?
        }
        MigrateTo::Embedded => {
            let source = attach_stream(client.clone(), logs).await?;
            let target = embedded().await?;
            let done = copy_log(&source, &target, into, logs.quiet).await;
            target.close().await?;
            done?
        }
    };
    let embedded_tokens = embedded_token_store(logs).await?;
    let stream_tokens =
        nats::token_store(client, &logs.nats.tokens_bucket, logs.nats.replicas).await?;
    let tokens = match args.to {
        MigrateTo::Jetstream => {
            copy_tokens(embedded_tokens.as_ref(), stream_tokens.as_ref()).await?
        }
        MigrateTo::Embedded => {
            copy_tokens(stream_tokens.as_ref(), embedded_tokens.as_ref()).await?
        }
    };
    report(out, &copied, &verified)?;
    writeln!(
        out,
        "tokens: {} copied, {} there already",
        tokens.copied, tokens.already_there
    )?;
    Ok(())
}

/// `receivables backup`: the log named by the arguments, written to a new file.
pub async fn backup(args: &BackupArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let logs = &args.logs;
    let summary = match &logs.nats.nats_url {
        Some(url) => {
            let client = nats::connect(url, CLIENT_NAME).await?;
            let log = attach_stream(client, logs).await?;
            write_backup(&log, args).await?
        }
        None => {
            if !logs.data_dir.join(EVENT_LOG_FILE).exists() {
                bail!(
                    "no event log in {}: nothing to back up",
                    logs.data_dir.display()
                );
            }
            let log = open_embedded(logs).await?;
            let done = write_backup(&log, args).await;
            log.close().await?;
            done?
        }
    };
    writeln!(
        out,
        "backed up {} events of {} customers to {}",
        summary.events(),
        summary.customers(),
        args.file.display()
    )?;
    Ok(())
}

/// `receivables restore`: the backup checked whole first, then copied into the log named by the
/// arguments and verified.
pub async fn restore(args: &RestoreArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let logs = &args.logs;
    let expected = backup::check(&args.file)
        .await
        .with_context(|| format!("{} cannot be restored", args.file.display()))?;
    let into = copy_into(args.resume);
    let (copied, verified) = match &logs.nats.nats_url {
        Some(url) => {
            let client = nats::connect(url, CLIENT_NAME).await?;
            let target = open_stream(client, logs).await?;
            restore_into(&target, args, into, &expected).await?
        }
        None => {
            let target = open_embedded(logs).await?;
            let done = restore_into(&target, args, into, &expected).await;
            target.close().await?;
            done?
        }
    };
    report(out, &copied, &verified)
}

fn copy_into(resume: bool) -> CopyInto {
    if resume {
        CopyInto::Resume
    } else {
        CopyInto::Empty
    }
}

async fn open_embedded(logs: &LogsArgs) -> anyhow::Result<SqliteLog> {
    std::fs::create_dir_all(&logs.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            logs.data_dir.display()
        )
    })?;
    let path = logs.data_dir.join(EVENT_LOG_FILE);
    SqliteLog::open(&path)
        .await
        .with_context(|| format!("cannot open the event log {}", path.display()))
}

/// The stream as a target: created with the configured replicas if it does not exist.
async fn open_stream(client: async_nats::Client, logs: &LogsArgs) -> anyhow::Result<JetStreamLog> {
    JetStreamLog::open(client, logs.nats.jetstream())
        .await
        .with_context(|| format!("cannot open the stream {}", logs.nats.stream))
}

/// The stream as a source: it must exist, and its configuration is left as it is.
async fn attach_stream(
    client: async_nats::Client,
    logs: &LogsArgs,
) -> anyhow::Result<JetStreamLog> {
    JetStreamLog::attach(client, logs.nats.jetstream())
        .await
        .with_context(|| format!("cannot open the stream {}", logs.nats.stream))
}

async fn embedded_token_store(logs: &LogsArgs) -> anyhow::Result<Arc<dyn TokenStore>> {
    let path = logs.data_dir.join(TOKEN_STORE_FILE);
    let store = SqliteTokenStore::open(&path)
        .await
        .with_context(|| format!("cannot open the token store {}", path.display()))?;
    Ok(Arc::new(store))
}

async fn copy_log<S: EventLog, T: EventLog>(
    source: &S,
    target: &T,
    into: CopyInto,
    quiet: bool,
) -> anyhow::Result<(Copied, Summary)> {
    let total = source.last_position().await?.get();
    let bar = progress_bar(quiet, total, "copying");
    let events = transfer::source(source).await?;
    let copied = transfer::copy(events, target, into, |done| show(&bar, done)).await?;
    bar.finish_and_clear();
    let verified = transfer::verify(target, &copied.source).await?;
    Ok((copied, verified))
}

async fn restore_into<T: EventLog>(
    target: &T,
    args: &RestoreArgs,
    into: CopyInto,
    expected: &Summary,
) -> anyhow::Result<(Copied, Summary)> {
    let bar = progress_bar(args.logs.quiet, expected.events(), "restoring");
    let events = backup::read(&args.file).await?;
    let copied = transfer::copy(events, target, into, |done| show(&bar, done)).await?;
    bar.finish_and_clear();
    let verified = transfer::verify(target, expected).await?;
    Ok((copied, verified))
}

async fn write_backup<L: EventLog>(log: &L, args: &BackupArgs) -> anyhow::Result<Summary> {
    let total = log.last_position().await?.get();
    let bar = progress_bar(args.logs.quiet, total, "backing up");
    let events = transfer::history(log).await?;
    let summary = backup::write(events, &args.file, |written| bar.set_position(written)).await?;
    bar.finish_and_clear();
    Ok(summary)
}

fn report(out: &mut impl Write, copied: &Copied, verified: &Summary) -> anyhow::Result<()> {
    let done = copied.progress;
    writeln!(
        out,
        "copied {} events ({} there already), reserved {} document numbers",
        done.appended, done.already_there, done.numbers
    )?;
    writeln!(
        out,
        "verified: {} events of {} customers, each customer's last sequence and hash as in the \
         source",
        verified.events(),
        verified.customers()
    )?;
    Ok(())
}

fn progress_bar(quiet: bool, total: u64, message: &'static str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} events, {per_sec}, eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn show(bar: &ProgressBar, done: Progress) {
    bar.set_position(done.read);
}

/// Tokens a migration copied, and those the target had already.
#[derive(Debug, Default)]
struct TokensCopied {
    copied: u64,
    already_there: u64,
}

/// Copies every token record (its hash, never a secret: the store holds none) that the target
/// does not hold. One it holds is left as it is: it was copied before, or issued there.
async fn copy_tokens(
    source: &dyn TokenStore,
    target: &dyn TokenStore,
) -> anyhow::Result<TokensCopied> {
    let mut done = TokensCopied::default();
    for record in source.list().await.context("cannot list the tokens")? {
        match target.insert(&record).await {
            Ok(()) => done.copied += 1,
            Err(StoreError::Duplicate { .. }) => done.already_there += 1,
            Err(error) => {
                return Err(error).context(format!("cannot copy token {}", record.id.as_str()));
            }
        }
    }
    Ok(done)
}
