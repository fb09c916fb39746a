//! A three-node NATS JetStream cluster on the loopback, for the fault tests: a current
//! `nats-server` (JetStream clustering and `sync_interval` need a release newer than the
//! machine's), each node with a configuration file, a store and ports of its own, every write
//! synced before it is acknowledged (`sync_interval: always`, the production setting). Nodes are
//! killed with SIGKILL, as a crash would, and started again on the same store. A cluster made
//! with [`TestCluster::start_partitionable`] puts each node in a network namespace of its own,
//! so that the test can cut one off from the others ([`crate::netns`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::netns::{CLIENT_PORT, CLUSTER_PORT, NodeNetwork};
use crate::{ServerBinary, current_nats_server_binary, free_port};

/// How long a cluster may take to elect its JetStream leader after its nodes start.
pub const CLUSTER_READY_WITHIN: Duration = Duration::from_secs(60);

/// Clusters made on new ports, at most, when a node exits at its first start.
const CLUSTER_ATTEMPTS_MAX: usize = 5;

/// The cluster's name, in every node's configuration.
const CLUSTER_NAME: &str = "receivables-test";

struct Node {
    name: String,
    /// The address at which the test reaches the node.
    host: String,
    /// The network namespace the node runs in; `None`: the test's own (the loopback).
    namespace: Option<String>,
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
    /// The nodes' namespaces, when the cluster can be partitioned; dropped after the nodes.
    network: Option<NodeNetwork>,
    _directory: tempfile::TempDir,
}

impl TestCluster {
    /// Starts three nodes of a current server on the loopback and waits until JetStream
    /// answers; `None` (said loudly, a failure under CI) without a current server.
    pub async fn start() -> Option<TestCluster> {
        let binary = current_nats_server_binary()?;
        // A port found free may be taken by another test's process before the node binds it:
        // a node that exits at its first start makes a new cluster on other ports.
        for _ in 0..CLUSTER_ATTEMPTS_MAX {
            match TestCluster::start_on_free_ports(binary.clone()).await {
                Ok(cluster) => return Some(cluster),
                Err(exited) => eprintln!("{exited}\n(a new cluster on other ports)"),
            }
        }
        panic!("no three-node cluster started in {CLUSTER_ATTEMPTS_MAX} attempts");
    }

    async fn start_on_free_ports(binary: ServerBinary) -> Result<TestCluster, String> {
        let directory = tempfile::tempdir().expect("temporary directory");
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, cluster)| format!("nats-route://127.0.0.1:{cluster}"))
            .collect();
        let nodes = ports
            .into_iter()
            .enumerate()
            .map(|(index, (client_port, cluster_port))| {
                let listen = NodeListen {
                    client: format!("127.0.0.1:{client_port}"),
                    cluster: format!("127.0.0.1:{cluster_port}"),
                    advertise: true,
                };
                Node::write(&directory, index, "127.0.0.1", None, &listen, &routes)
            })
            .collect();
        TestCluster::run(binary, nodes, None, directory).await
    }

    /// Starts three nodes of a current server, each in a network namespace of its own linked
    /// to each other node, so that [`TestCluster::cut`] partitions the cluster for real. Call
    /// only inside [`crate::netns::run_in_own_network_namespace`]. `None` as for
    /// [`TestCluster::start`].
    pub async fn start_partitionable() -> Option<TestCluster> {
        let binary = current_nats_server_binary()?;
        let directory = tempfile::tempdir().expect("temporary directory");
        let network = NodeNetwork::create(3);
        let nodes = (0..3)
            .map(|index| {
                let routes: Vec<String> = (0..3)
                    .filter(|other| *other != index)
                    .map(|other| {
                        format!(
                            "nats-route://{}:{CLUSTER_PORT}",
                            network.peer_address(index, other)
                        )
                    })
                    .collect();
                // Every node of its own namespace listens on all of that namespace's links;
                // a peer's address is gossiped to no client (the test reaches each node on
                // its own link).
                let listen = NodeListen {
                    client: format!("0.0.0.0:{CLIENT_PORT}"),
                    cluster: format!("0.0.0.0:{CLUSTER_PORT}"),
                    advertise: false,
                };
                Node::write(
                    &directory,
                    index,
                    &network.client_address(index),
                    Some(network.namespace_of(index).to_owned()),
                    &listen,
                    &routes,
                )
            })
            .collect();
        let cluster = TestCluster::run(binary, nodes, Some(network), directory).await;
        Some(cluster.unwrap_or_else(|exited| panic!("{exited}")))
    }

    async fn run(
        binary: ServerBinary,
        nodes: Vec<Node>,
        network: Option<NodeNetwork>,
        directory: tempfile::TempDir,
    ) -> Result<TestCluster, String> {
        let mut cluster = TestCluster {
            binary,
            nodes,
            network,
            _directory: directory,
        };
        for node in 0..3 {
            cluster.try_start_node(node).await?;
        }
        cluster.wait_until_ready().await;
        Ok(cluster)
    }

    /// Cuts node `node` off from the other two (its clients still reach it).
    pub fn cut(&self, node: usize) {
        self.partitionable().cut(node);
    }

    /// Joins node `node` to the other two again.
    pub fn heal(&self, node: usize) {
        self.partitionable().heal(node);
    }

    fn partitionable(&self) -> &NodeNetwork {
        self.network
            .as_ref()
            .expect("a cluster made by TestCluster::start_partitionable")
    }

    /// Every node's client URL, comma-separated, as `--nats-url` takes them.
    pub fn urls(&self) -> String {
        self.url_list().join(",")
    }

    /// Every node's client URL, as a client connects to a cluster.
    pub fn url_list(&self) -> Vec<String> {
        self.nodes.iter().map(Node::url).collect()
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
        if let Err(exited) = self.try_start_node(node).await {
            panic!("{exited}");
        }
    }

    /// [`TestCluster::start_node`], or why the node exited instead of answering.
    async fn try_start_node(&mut self, node: usize) -> Result<(), String> {
        let entry = &mut self.nodes[node];
        assert!(entry.child.is_none(), "node {} is running", entry.name);
        let mut command = match &entry.namespace {
            None => Command::new(&self.binary.path),
            Some(namespace) => {
                // `ip netns exec` enters the namespace and replaces itself with the server,
                // so the child is the server and a kill reaches it.
                let mut command = Command::new("ip");
                command
                    .args(["netns", "exec", namespace])
                    .arg(&self.binary.path);
                command
            }
        };
        let child = command
            .arg("-c")
            .arg(&entry.config)
            .stdout(Stdio::null())
            .stderr(log_file(&entry.config))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.path.display()));
        entry.child = Some(child);
        let url = entry.url();
        let started = Instant::now();
        while started.elapsed() < CLUSTER_READY_WITHIN {
            if let Ok(client) = async_nats::connect(&url).await
                && client.flush().await.is_ok()
                && client.server_info().server_name == entry.name
            {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = entry.child.as_mut().map(Child::try_wait) {
                entry.child = None;
                return Err(format!(
                    "node {} exited ({status}) instead of listening on port {} (cluster port {}); its log ends:\n{}",
                    entry.name,
                    entry.client_port,
                    entry.cluster_port,
                    log_tail(&entry.config)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "node {} did not answer on port {} (cluster port {}); its log ends:\n{}",
            entry.name,
            entry.client_port,
            entry.cluster_port,
            log_tail(&entry.config)
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
        self.leader_seen_by(self.url_list(), stream).await
    }

    /// The node that leads `stream` as node `node` sees it (its name), once it sees one: a
    /// node cut off from the others may still think it leads.
    pub async fn leader_as_seen_from(&self, node: usize, stream: &str) -> String {
        self.leader_seen_by(vec![self.nodes[node].url()], stream)
            .await
    }

    /// Whether the stream's leader reports node `node`'s replica of `stream` current (caught
    /// up, nothing behind).
    pub async fn replica_current(&self, node: usize, stream: &str) -> bool {
        let Ok(client) = async_nats::connect(self.url_list()).await else {
            return false;
        };
        let context = async_nats::jetstream::new(client);
        let Ok(mut found) = context.get_stream(stream).await else {
            return false;
        };
        let Ok(info) = found.info().await else {
            return false;
        };
        let name = &self.nodes[node].name;
        info.cluster.as_ref().is_some_and(|cluster| {
            cluster.leader.as_ref() == Some(name)
                || cluster.replicas.iter().any(|replica| {
                    &replica.name == name
                        && replica.current
                        && !replica.offline
                        && replica.lag.unwrap_or(0) == 0
                })
        })
    }

    async fn leader_seen_by(&self, urls: Vec<String>, stream: &str) -> String {
        let started = Instant::now();
        while started.elapsed() < CLUSTER_READY_WITHIN {
            if let Ok(client) = async_nats::connect(urls.clone()).await {
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

/// A node's log, beside its configuration, appended to at each start.
fn log_file(config: &Path) -> Stdio {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(config.with_extension("log"))
        .map_or_else(|_| Stdio::null(), Stdio::from)
}

/// The last lines of a node's log, for a failure's message.
fn log_tail(config: &Path) -> String {
    let log = std::fs::read_to_string(config.with_extension("log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// Lines of a node's log a failure shows.
const LOG_TAIL_LINES: usize = 8;

/// Where a node listens for clients and for its peers.
struct NodeListen {
    client: String,
    cluster: String,
    /// Whether the node tells its clients of its peers' client addresses.
    advertise: bool,
}

impl Node {
    /// Writes node `index`'s configuration into `directory`: its listeners and store, routes
    /// to the others, every write synced before it is acknowledged.
    fn write(
        directory: &tempfile::TempDir,
        index: usize,
        host: &str,
        namespace: Option<String>,
        listen: &NodeListen,
        routes: &[String],
    ) -> Node {
        let name = format!("n{}", index + 1);
        let store = directory.path().join(&name);
        let config = directory.path().join(format!("{name}.conf"));
        std::fs::write(&config, node_config(&name, listen, &store, routes))
            .expect("node configuration");
        let port = |address: &str| -> u16 {
            address
                .rsplit(':')
                .next()
                .and_then(|port| port.parse().ok())
                .expect("a port")
        };
        Node {
            name,
            host: host.to_owned(),
            namespace,
            client_port: port(&listen.client),
            cluster_port: port(&listen.cluster),
            store,
            config,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("nats://{}:{}", self.host, self.client_port)
    }
}

/// One node's configuration.
fn node_config(name: &str, listen: &NodeListen, store: &Path, routes: &[String]) -> String {
    format!(
        "server_name: {name}\n\
         listen: {client}\n\
         jetstream {{\n  store_dir: \"{store}\"\n  sync_interval: always\n}}\n\
         cluster {{\n  name: {CLUSTER_NAME}\n  listen: {cluster}\n  no_advertise: {no_advertise}\n  routes: [\n    {routes}\n  ]\n}}\n",
        client = listen.client,
        cluster = listen.cluster,
        no_advertise = !listen.advertise,
        store = store.display(),
        routes = routes.join("\n    "),
    )
}
