//! Real network partitions for the fault tests: each node of a test cluster in a network
//! namespace of its own, joined to every other node by a veth pair of its own and to the test by
//! one more. Cutting a node off takes its links to the other nodes down (both ends), so its
//! peers' packets go nowhere while its clients still reach it, as when a switch port between
//! racks fails; healing brings the links up again and the kernel restores their routes.
//!
//! The namespaces are made, and all traffic stays, inside a network namespace the test itself
//! made: [`run_in_own_network_namespace`] runs the calling test again under `unshare --net`, so
//! not one interface, address or route of the machine's own namespace is touched. Every name is
//! unique to the process (its id), and every namespace is deleted on drop.
//!
//! Addresses (IPv4, one /24 per link, the host byte is the node's number 1 to 3):
//! - the test to node k: `10.99.k.1` (the test's side), `10.99.k.2` (the node's);
//! - node i to node j (i < j): `10.98.ij.i` and `10.98.ij.j`.

use std::process::Command;

use crate::{servers_required, skipped};

/// The environment variable that tells a test it runs again inside a namespace of its own.
const INSIDE: &str = "RECEIVABLES_TEST_IN_OWN_NETWORK";

/// The client port of each node, in its own namespace (nothing else listens there).
pub const CLIENT_PORT: u16 = 4222;

/// The cluster port of each node, in its own namespace.
pub const CLUSTER_PORT: u16 = 6222;

/// Runs the calling test, `test` (its name as the test harness knows it, without module path
/// in an integration test's top level), again in a network namespace of its own, and says
/// whether the caller is that inner run and should go on. The outer run waits for the inner
/// one, fails if it fails, and returns `false`; without the right to make a namespace (not
/// root) it says so loudly and returns `false`, and fails under CI.
pub fn run_in_own_network_namespace(test: &str) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        run("ip", &["link", "set", "lo", "up"]);
        return true;
    }
    let allowed = Command::new("unshare")
        .args(["--net", "true"])
        .status()
        .is_ok_and(|status| status.success());
    if !allowed {
        let why = "cannot make a network namespace (`unshare --net` needs root and iproute2)";
        if servers_required() {
            panic!("{why}");
        }
        skipped(why);
        return false;
    }
    let this = std::env::current_exe().expect("the test binary");
    let status = Command::new("unshare")
        .arg("--net")
        .arg("--")
        .arg(this)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .status()
        .expect("unshare");
    assert!(
        status.success(),
        "{test}, run in a network namespace of its own, failed: {status}"
    );
    false
}

/// The namespaces of a cluster's nodes and the links between them, deleted on drop.
pub struct NodeNetwork {
    namespaces: Vec<String>,
}

impl NodeNetwork {
    /// Makes `nodes` namespaces, each linked to the caller's namespace and to every other one.
    /// Call only inside [`run_in_own_network_namespace`].
    pub fn create(nodes: usize) -> NodeNetwork {
        assert!(
            std::env::var_os(INSIDE).is_some(),
            "node namespaces are made only inside a namespace of the test's own"
        );
        assert!(
            (1..=9).contains(&nodes),
            "one digit per node in the addresses"
        );
        let process = std::process::id();
        let network = NodeNetwork {
            namespaces: (1..=nodes).map(|k| format!("rcv{process}n{k}")).collect(),
        };
        for (index, namespace) in network.namespaces.iter().enumerate() {
            let k = index + 1;
            run("ip", &["netns", "add", namespace]);
            in_namespace(namespace, &["link", "set", "lo", "up"]);
            let ours = format!("c{k}");
            run(
                "ip",
                &[
                    "link", "add", &ours, "type", "veth", "peer", "name", "eth0", "netns",
                    namespace,
                ],
            );
            run(
                "ip",
                &["addr", "add", &format!("10.99.{k}.1/24"), "dev", &ours],
            );
            run("ip", &["link", "set", &ours, "up"]);
            in_namespace(
                namespace,
                &["addr", "add", &format!("10.99.{k}.2/24"), "dev", "eth0"],
            );
            in_namespace(namespace, &["link", "set", "eth0", "up"]);
        }
        for i in 1..=nodes {
            for j in i + 1..=nodes {
                let (near, far) = (network.namespace(i), network.namespace(j));
                run(
                    "ip",
                    &[
                        "link",
                        "add",
                        &format!("p{j}"),
                        "netns",
                        near,
                        "type",
                        "veth",
                        "peer",
                        "name",
                        &format!("p{i}"),
                        "netns",
                        far,
                    ],
                );
                for (namespace, own, device) in [(near, i, j), (far, j, i)] {
                    in_namespace(
                        namespace,
                        &[
                            "addr",
                            "add",
                            &format!("10.98.{i}{j}.{own}/24"),
                            "dev",
                            &format!("p{device}"),
                        ],
                    );
                    in_namespace(namespace, &["link", "set", &format!("p{device}"), "up"]);
                }
            }
        }
        network
    }

    /// The namespace of node `k` (1-based).
    fn namespace(&self, k: usize) -> &str {
        &self.namespaces[k - 1]
    }

    /// The name of node `node`'s namespace (0-based), for `ip netns exec`.
    pub fn namespace_of(&self, node: usize) -> &str {
        &self.namespaces[node]
    }

    /// The address at which the test reaches node `node` (0-based).
    pub fn client_address(&self, node: usize) -> String {
        format!("10.99.{}.2", node + 1)
    }

    /// The address at which node `from` reaches node `to` (0-based).
    pub fn peer_address(&self, from: usize, to: usize) -> String {
        let (i, j) = (from.min(to) + 1, from.max(to) + 1);
        format!("10.98.{i}{j}.{}", to + 1)
    }

    /// Cuts node `node` (0-based) off from every other node; the test still reaches it.
    pub fn cut(&self, node: usize) {
        self.set_peer_links(node, "down");
    }

    /// Joins node `node` to the others again.
    pub fn heal(&self, node: usize) {
        self.set_peer_links(node, "up");
    }

    fn set_peer_links(&self, node: usize, state: &str) {
        let k = node + 1;
        for other in (1..=self.namespaces.len()).filter(|other| *other != k) {
            in_namespace(
                self.namespace(k),
                &["link", "set", &format!("p{other}"), state],
            );
            in_namespace(
                self.namespace(other),
                &["link", "set", &format!("p{k}"), state],
            );
        }
    }
}

impl Drop for NodeNetwork {
    fn drop(&mut self) {
        for namespace in &self.namespaces {
            let _ = Command::new("ip")
                .args(["netns", "del", namespace])
                .status();
        }
    }
}

fn in_namespace(namespace: &str, args: &[&str]) {
    let mut all = vec!["-n", namespace];
    all.extend_from_slice(args);
    run("ip", &all);
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        status.success(),
        "{program} {} failed: {status}",
        args.join(" ")
    );
}
