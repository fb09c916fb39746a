//! The connection to NATS shared by the services that use it: connecting (and reconnecting by
//! itself, forever), the token store in a key-value bucket, and the readiness the health
//! service reports while the connection comes and goes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_access::{KvTokenConfig, KvTokenStore, TokenStore};
use tokio::sync::watch;
use tracing::{info, warn};

/// Longest pause between reconnection attempts to NATS.
pub const NATS_RECONNECT_DELAY_MAX: Duration = Duration::from_secs(1);

/// How long the first connection may take before the service gives up starting.
pub const NATS_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the readiness follows the connection's state.
pub const READINESS_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Connects to NATS; afterwards the client reconnects on its own, forever, so the service comes
/// back by itself when NATS does. `url` may name several servers of a cluster, separated by
/// commas (`nats://a:4222,nats://b:4222`): the client starts with whichever answers and moves to
/// another when one goes away.
pub async fn connect(url: &str, name: &str) -> anyhow::Result<async_nats::Client> {
    let servers: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|server| !server.is_empty())
        .collect();
    async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(NATS_CONNECT_TIMEOUT)
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis(100 * u64::try_from(attempts).unwrap_or(u64::MAX).min(10))
                .min(NATS_RECONNECT_DELAY_MAX)
        })
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => info!("connected to NATS"),
                async_nats::Event::Disconnected => warn!("disconnected from NATS"),
                other => info!(event = %other, "NATS event"),
            }
        })
        .connect(servers)
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))
}

/// The token store in a key-value bucket of the NATS server the service uses (created if
/// missing), shared by every process that serves.
pub async fn token_store(
    client: async_nats::Client,
    bucket: &str,
    replicas: usize,
) -> anyhow::Result<Arc<dyn TokenStore>> {
    let config = KvTokenConfig {
        replicas,
        ..KvTokenConfig::with_bucket(bucket)
    };
    let store = KvTokenStore::open(client, config)
        .await
        .with_context(|| format!("cannot open the token bucket {bucket}"))?;
    Ok(Arc::new(store))
}

/// True while `client` is connected: commands would fail with `UNAVAILABLE` otherwise. The
/// watching task ends with the process.
pub fn readiness(client: async_nats::Client) -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(true);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(READINESS_CHECK_INTERVAL);
        loop {
            ticks.tick().await;
            let connected = client.connection_state() == async_nats::connection::State::Connected;
            sender.send_if_modified(|ready| std::mem::replace(ready, connected) != connected);
            if sender.is_closed() {
                return;
            }
        }
    });
    receiver
}
