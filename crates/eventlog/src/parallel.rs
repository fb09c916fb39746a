//! Work on the events of a stream spread over the machine's cores, in the stream's order.
//!
//! Reading the log is a chain of steps: the log's client receives the messages, each one is
//! decoded, and an audit call hashes or encodes it again. Done one after the other in one task,
//! they keep one core busy while the others wait, and the slowest reader of the log (a
//! verification, a replay, a projector catching up) runs at the sum of their costs.
//! [`map_batches`] takes what the stream has ready, up to [`BATCH_ITEMS_MAX`] items, hands the
//! batch to a thread of the blocking pool and reads on while up to [`BATCHES_IN_FLIGHT`] batches
//! are worked on; the results come out in the stream's order, so the steps overlap and run at
//! the cost of the slowest.
//!
//! The stream is read, and its batches handed out, by a task of its own ([`read_ahead`]), so
//! that its source is asked for more while the batches are worked on.
//!
//! A stream that delivers one item at a time (a log followed at its end) gets batches of one:
//! a thread hand-over per event, which costs microseconds where events arrive milliseconds
//! apart.

use std::sync::Arc;

use futures::stream::{BoxStream, Stream, StreamExt};

/// The most items one batch holds: about a millisecond of decoding, so that a hand-over to
/// another thread (microseconds) costs little against the work it moves.
pub const BATCH_ITEMS_MAX: usize = 256;

/// The most batches being worked on at once while the stream is read further. More than the
/// cores this runs on keeps them busy while one batch waits to be handed out; each holds at most
/// [`BATCH_ITEMS_MAX`] events, so a reader is at most this many batches ahead of its consumer.
pub const BATCHES_IN_FLIGHT: usize = 4;

/// `work` applied to the items of `input` in batches on the blocking pool, several batches at
/// once, the results handed out in order. `work` gets a whole batch so that it can keep buffers
/// from one item to the next; it must return one result per item, in order.
///
/// `input` is read by a task of its own ([`read_ahead`]), which hands each batch to the pool as
/// soon as it is read: the reader of the stream returned takes the results in order, up to
/// [`BATCHES_IN_FLIGHT`] batches behind.
///
/// A panic in `work` is raised again in the task that polls the stream; a runtime shutting down
/// (the batch's thread cancelled) ends the stream.
pub fn map_batches<S, T, U, F>(input: S, work: F) -> BoxStream<'static, U>
where
    S: Stream<Item = T> + Send + 'static,
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(Vec<T>) -> Vec<U> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let started = input.ready_chunks(BATCH_ITEMS_MAX).map(move |batch| {
        let work = Arc::clone(&work);
        tokio::task::spawn_blocking(move || work(batch))
    });
    read_ahead(started, BATCHES_IN_FLIGHT)
        .then(|batch| batch)
        .map(|done| match done {
            Ok(results) => Some(results),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_cancelled) => None,
        })
        .take_while(|results| futures::future::ready(results.is_some()))
        .flat_map(|results| futures::stream::iter(results.unwrap_or_default()))
        .boxed()
}

/// The items of `input`, read by a task of its own up to `items` ahead of the reader of the
/// stream returned. A stream is asked for more only when it is polled: read by the task that
/// also waits for the batches' results (as [`map_batches`] read it before), a JetStream
/// consumer's next pull or the embedded log's next page, a round trip each, waited until that
/// task had room. (Measured on two cores, where reading the log shares them with the NATS
/// server, the gain did not show beyond the noise: BENCHMARKS.md.) The task stops when the
/// stream returned is dropped or `input` ends.
pub fn read_ahead<S, T>(input: S, items: usize) -> BoxStream<'static, T>
where
    S: Stream<Item = T> + Send + 'static,
    T: Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(items.max(1));
    tokio::spawn(async move {
        let mut input = std::pin::pin!(input);
        loop {
            // A log followed at its end may not deliver for long: a reader gone meanwhile ends
            // the task (and drops the source) at once.
            let item = tokio::select! {
                item = input.next() => item,
                () = sender.closed() => None,
            };
            let Some(item) = item else { break };
            if sender.send(item).await.is_err() {
                break;
            }
        }
    });
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .boxed()
}

/// The items of `input` up to and including its first error: a reader of the log stops at an
/// error, and what a batch read beyond it must not be handed out after it.
pub fn until_first_error<S, T, E>(input: S) -> BoxStream<'static, Result<T, E>>
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    input
        .scan(false, |failed, item| {
            let next = if *failed {
                None
            } else {
                *failed = item.is_err();
                Some(item)
            };
            futures::future::ready(next)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_come_out_in_order_whatever_the_batches() {
        // Given more items than several batches hold, arriving in bursts of uneven size
        let (sender, receiver) = tokio::sync::mpsc::channel(1_000);
        tokio::spawn(async move {
            for n in 0..5_000_u64 {
                sender.send(n).await.unwrap();
                if n % 97 == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
        });
        let input = futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|n| (n, receiver))
        });
        // When each is squared in batches, the batches sleeping for different times
        let squared: Vec<u64> = map_batches(input, |batch: Vec<u64>| {
            std::thread::sleep(std::time::Duration::from_micros(
                batch.len() as u64 % 7 * 50,
            ));
            batch.into_iter().map(|n| n * n).collect()
        })
        .collect()
        .await;
        // Then every result comes out once, in the input's order
        let expected: Vec<u64> = (0..5_000_u64).map(|n| n * n).collect();
        assert_eq!(squared, expected);
    }

    #[tokio::test]
    async fn reading_ahead_keeps_the_order_and_stops_with_its_reader() {
        // Given a source that counts what was taken from it
        let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&taken);
        let input = futures::stream::iter(0..10_000_u32).inspect(move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        // When it is read ahead by 8 and its first 100 items are read
        let mut ahead = read_ahead(input, 8);
        let first: Vec<u32> = (&mut ahead).take(100).collect().await;
        // Then they come in order, and no more than 8 (and the one being sent) were taken
        // beyond them
        assert_eq!(first, (0..100).collect::<Vec<_>>());
        tokio::task::yield_now().await;
        let beyond = taken.load(std::sync::atomic::Ordering::SeqCst) - 100;
        assert!(beyond <= 9, "{beyond} taken ahead");
        // And once the reader goes away, the task stops taking any
        drop(ahead);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let stopped = taken.load(std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(taken.load(std::sync::atomic::Ordering::SeqCst), stopped);
        assert!(stopped < 200, "{stopped} taken");
    }

    #[tokio::test]
    async fn a_reader_gone_stops_the_task_waiting_on_a_silent_source() {
        // Given a source that never delivers, whose end is seen when it is dropped
        let (_keep, never) = tokio::sync::mpsc::channel::<u32>(1);
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let source = futures::stream::unfold((never, dropped_tx), |(mut never, tx)| async move {
            never.recv().await.map(|n| (n, (never, tx)))
        });
        let ahead = read_ahead(source, 8);
        // When the reader goes away
        drop(ahead);
        // Then the task drops the source (its oneshot sender with it)
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), dropped_rx).await;
        assert!(matches!(ended, Ok(Err(_))), "the source was not dropped");
    }

    #[tokio::test]
    async fn the_stream_ends_after_its_first_error() {
        let input = futures::stream::iter(vec![Ok(1), Ok(2), Err("broken"), Ok(4), Err("again")]);
        let read: Vec<Result<i32, &str>> = until_first_error(input).collect().await;
        assert_eq!(read, vec![Ok(1), Ok(2), Err("broken")]);
    }
}
