//! A three-node NATS JetStream cluster on the loopback, for the fault tests: a current
//! `nats-server` (JetStream clustering and `sync_interval` need a release newer than the
//! machine's), each node with a configuration file, a store and ports of its own, every write
//! synced before it is acknowledged (`sync_interval: always`, the production setting). Nodes are
//! killed with SIGKILL, as a crash would, and started again on the same store.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::{ServerBinary, current_nats_server_binary, free_port};

/// How long a cluster may take to elect its JetStream leader after its nodes start.
pub const CLUSTER_READY_WITHIN: Duration = Duration::from_secs(60);

/// The cluster's name, in every node's configuration.
const CLUSTER_NAME: &str = "receivables-test";

struct Node {
    name: String,
    client_port: u16,
    cluster_port: u16,
    store: PathBuf,
    config: PathBuf,
    child: Option<Child>,
}

/// Three `nats-server` processes forming one JetStream cluster, killed on drop.
pub struct TestCluster {
    binary: ServerBinary,
    nodes: Vec<Node>,
    _directory: tempfile::TempDir,
}

impl TestCluster {
    /// Starts three nodes of a current server and waits until JetStream answers; `None` (said
    /// loudly, a failure under CI) without a current server.
    pub async fn start() -> Option<TestCluster> {
        let binary = current_nats_server_binary()?;
        let directory = tempfile::tempdir().expect("temporary directory");
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, cluster)| format!("nats-route://127.0.0.1:{cluster}"))
            .collect();
        let mut nodes = Vec::new();
        for (index, (client_port, cluster_port)) in ports.into_iter().enumerate() {
            let name = format!("n{}", index + 1);
            let store = directory.path().join(&name);
            let config = directory.path().join(format!("{name}.conf"));
            std::fs::write(
                &config,
                node_config(&name, client_port, cluster_port, &store, &routes),
            )
            .expect("node configuration");
            nodes.push(Node {
                name,
                client_port,
                cluster_port,
                store,
                config,
                child: None,
            });
        }
        let mut cluster = TestCluster {
            binary,
            nodes,
            _directory: directory,
        };
        for node in 0..3 {
            cluster.start_node(node).await;
        }
        cluster.wait_until_ready().await;
        Some(cluster)
    }

    /// Every node's client URL, comma-separated, as `--nats-url` takes them.
    pub fn urls(&self) -> String {
        self.url_list().join(",")
    }

    /// Every node's client URL, as a client connects to a cluster.
    pub fn url_list(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| format!("nats://127.0.0.1:{}", node.client_port))
            .collect()
    }

    /// The index of the node called `name` (`n1`, `n2`, `n3`).
    pub fn node_named(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|node| node.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// The name of node `node`.
    pub fn name(&self, node: usize) -> &str {
        &self.nodes[node].name
    }

    /// The message block files of `stream` on node `node`, in the order they were written
    /// (the node's store, global account).
    pub fn block_files(&self, node: usize, stream: &str) -> Vec<PathBuf> {
        let directory = self.nodes[node]
            .store
            .join("jetstream")
            .join("$G")
            .join("streams")
            .join(stream)
            .join("msgs");
        let mut blocks: Vec<(u64, PathBuf)> = std::fs::read_dir(&directory)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter_map(|path| {
                        let index = path
                            .file_name()?
                            .to_str()?
                            .strip_suffix(".blk")?
                            .parse()
                            .ok()?;
                        Some((index, path))
                    })
                    .collect()
            })
            .unwrap_or_default();
        blocks.sort();
        blocks.into_iter().map(|(_, path)| path).collect()
    }

    /// Asks the stream's leader to step down, so that another node leads it.
    pub async fn step_down(&self, stream: &str) {
        if let Ok(client) = async_nats::connect(self.url_list()).await {
            let subject = format!("$JS.API.STREAM.LEADER.STEPDOWN.{stream}");
            let _ = client.request(subject, "".into()).await;
        }
    }

    /// Kills node `node` with SIGKILL and waits until it is gone.
    pub async fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts node `node` (again) on its ports and store, and waits until it answers.
    pub async fn start_node(&mut self, node: usize) {
        let entry = &mut self.nodes[node];
        assert!(entry.child.is_none(), "node {} is running", entry.name);
        let child = Command::new(&self.binary.path)
            .arg("-c")
            .arg(&entry.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.path.display()));
        entry.child = Some(child);
        let url = format!("nats://127.0.0.1:{}", entry.client_port);
        let started = Instant::now();
        while started.elapsed() < CLUSTER_READY_WITHIN {
            if let Ok(client) = async_nats::connect(&url).await
                && client.flush().await.is_ok()
                && client.server_info().server_name == entry.name
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "node {} did not answer on port {} (cluster port {})",
            entry.name, entry.client_port, entry.cluster_port
        );
    }

    /// Waits until the cluster's JetStream answers an account query (a meta leader is elected).
    pub async fn wait_until_ready(&self) {
        let started = Instant::now();
        while started.elapsed() < CLUSTER_READY_WITHIN {
            if let Ok(client) = async_nats::connect(self.url_list()).await {
                let context = async_nats::jetstream::new(client);
                if context.query_account().await.is_ok() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the cluster's JetStream did not answer within {CLUSTER_READY_WITHIN:?}");
    }

    /// The node that leads `stream` now (its name), once one does.
    pub async fn leader_of(&self, stream: &str) -> String {
        let started = Instant::now();
        while started.elapsed() < CLUSTER_READY_WITHIN {
            if let Ok(client) = async_nats::connect(self.url_list()).await {
                let context = async_nats::jetstream::new(client);
                if let Ok(mut found) = context.get_stream(stream).await
                    && let Ok(info) = found.info().await
                    && let Some(leader) = info.cluster.as_ref().and_then(|c| c.leader.clone())
                {
                    return leader;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("stream {stream} has no leader");
    }
}

/// One node's configuration: its own ports and store, routes to all three, every write synced
/// before it is acknowledged.
fn node_config(
    name: &str,
    client_port: u16,
    cluster_port: u16,
    store: &Path,
    routes: &[String],
) -> String {
    format!(
        "server_name: {name}\n\
         listen: 127.0.0.1:{client_port}\n\
         jetstream {{\n  store_dir: \"{store}\"\n  sync_interval: always\n}}\n\
         cluster {{\n  name: {CLUSTER_NAME}\n  listen: 127.0.0.1:{cluster_port}\n  routes: [\n    {routes}\n  ]\n}}\n",
        store = store.display(),
        routes = routes.join("\n    "),
    )
}
