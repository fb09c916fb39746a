//! The files of `deploy/` read and held to the binary they run: every flag and environment
//! variable they give `receivables` is one its `--help` lists, every NATS node syncs each write
//! before acknowledging it, every service serves its metrics and Prometheus scrapes them, and
//! the Kubernetes manifests hang together (selectors, ports, names). No schema checker installs
//! from the registries this project builds from; these checks are what one would catch and what
//! it would not (a flag the binary does not take).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use receivables_tests::receivables_binary;
use yaml_rust2::{Yaml, YamlLoader};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(path: &Path) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The flags and environment variables `receivables <subcommand> --help` lists.
struct Accepted {
    flags: BTreeSet<String>,
    env: BTreeSet<String>,
}

fn accepted(subcommand: &str) -> Accepted {
    let output = std::process::Command::new(receivables_binary())
        .args([subcommand, "--help"])
        .output()
        .expect("receivables --help");
    assert!(output.status.success(), "{subcommand} --help: {output:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    let flags = help
        .split_whitespace()
        .filter(|word| word.starts_with("--"))
        .map(|word| word.trim_end_matches([',', '=']).to_owned())
        .collect();
    let env = help
        .split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split('=').next())
        .map(str::to_owned)
        .collect();
    Accepted { flags, env }
}

/// Checks the arguments of a `receivables` command line against what its subcommand accepts;
/// returns the subcommand.
fn check_arguments(arguments: &[String], origin: &str) -> String {
    let subcommand = arguments
        .first()
        .unwrap_or_else(|| panic!("{origin}: no subcommand"));
    let known = accepted(subcommand);
    for argument in &arguments[1..] {
        if argument.starts_with("--") {
            let flag = argument.split('=').next().unwrap_or(argument);
            assert!(
                known.flags.contains(flag),
                "{origin}: `receivables {subcommand}` takes no {flag}"
            );
        }
    }
    subcommand.clone()
}

/// The value after `flag` in `arguments`.
fn flag_value<'a>(arguments: &'a [String], flag: &str) -> Option<&'a str> {
    arguments
        .windows(2)
        .find(|pair| pair[0] == flag)
        .map(|pair| pair[1].as_str())
}

/// A key of a compose service, its own or merged in from an anchor (`<<: *receivables`; the
/// parser leaves merge keys to its caller).
fn field<'a>(service: &'a Yaml, key: &str) -> &'a Yaml {
    match &service[key] {
        Yaml::BadValue => &service["<<"][key],
        own => own,
    }
}

fn strings(yaml: &Yaml) -> Vec<String> {
    yaml.as_vec()
        .map(|items| {
            items
                .iter()
                .map(|item| match item {
                    Yaml::String(text) => text.clone(),
                    Yaml::Integer(number) => number.to_string(),
                    other => panic!("not a string: {other:?}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_nats_node_syncs_each_write_and_names_itself() {
    for node in 1..=3 {
        let path = deploy().join(format!("nats/node-{node}.conf"));
        let text = read(&path);
        assert!(text.contains("sync_interval: always"), "{}", path.display());
        assert!(
            text.contains(&format!("server_name: nats-{node}\n")),
            "{}",
            path.display()
        );
        for other in 1..=3 {
            assert!(
                text.contains(&format!("nats-route://nats-{other}:6222")),
                "{}: a route to nats-{other}",
                path.display()
            );
        }
    }
    assert!(read(&deploy().join("nats/node.conf.template")).contains("sync_interval: always"));
}

#[test]
fn the_compose_file_runs_the_production_shape_with_flags_the_binary_takes() {
    let documents = yaml(&deploy().join("compose.yaml"));
    let services = &documents[0]["services"];
    let names: BTreeSet<&str> = services
        .as_hash()
        .expect("services")
        .keys()
        .filter_map(Yaml::as_str)
        .collect();
    for wanted in [
        "nats-1",
        "nats-2",
        "nats-3",
        "postgres",
        "commands-1",
        "commands-2",
        "queries-1",
        "queries-2",
        "prometheus",
    ] {
        assert!(names.contains(wanted), "compose.yaml runs {wanted}");
    }
    // Each node runs its own configuration file.
    for node in 1..=3 {
        let volumes = strings(&services[format!("nats-{node}").as_str()]["volumes"]);
        assert!(
            volumes.contains(&format!("./nats/node-{node}.conf:/etc/nats/node.conf:ro")),
            "nats-{node}: {volumes:?}"
        );
    }
    let prometheus = read(&deploy().join("prometheus.yml"));
    let mut scraped = 0;
    for name in ["commands-1", "commands-2", "queries-1", "queries-2"] {
        let service = &services[name];
        let command = strings(field(service, "command"));
        let subcommand = check_arguments(&command, &format!("compose.yaml {name}"));
        let metrics = flag_value(&command, "--metrics-listen").expect("a metrics endpoint");
        let port = metrics.rsplit(':').next().unwrap();
        assert!(
            prometheus.contains(&format!("\"{name}:{port}\"")),
            "prometheus.yml scrapes {name}:{port}"
        );
        scraped += 1;
        let known = accepted(&subcommand);
        let environment = field(service, "environment")
            .as_hash()
            .expect("environment");
        for key in environment.keys().filter_map(Yaml::as_str) {
            assert!(
                known.env.contains(key),
                "{name}: {subcommand} reads no {key}"
            );
        }
        let url = environment[&Yaml::from_str("RECEIVABLES_NATS_URL")]
            .as_str()
            .unwrap();
        assert_eq!(url.split(',').count(), 3, "{name} knows every node");
    }
    assert_eq!(scraped, 4);
}

#[test]
fn the_kubernetes_manifests_hang_together_and_use_flags_the_binary_takes() {
    let documents = yaml(&deploy().join("kubernetes/receivables.yaml"));
    let config: BTreeSet<String> = documents
        .iter()
        .filter(|d| d["kind"].as_str() == Some("ConfigMap"))
        .flat_map(|d| d["data"].as_hash().unwrap().keys().filter_map(Yaml::as_str))
        .map(str::to_owned)
        .collect();
    let mut deployments = 0;
    for document in &documents {
        assert!(document["apiVersion"].as_str().is_some(), "{document:?}");
        assert!(
            document["metadata"]["name"].as_str().is_some(),
            "{document:?}"
        );
        match document["kind"].as_str() {
            Some("Deployment") => {
                deployments += 1;
                let spec = &document["spec"];
                assert_eq!(
                    spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"],
                    "the selector picks the template's pods"
                );
                let container = &spec["template"]["spec"]["containers"][0];
                let args = strings(&container["args"]);
                let subcommand = check_arguments(&args, "receivables.yaml");
                let known = accepted(&subcommand);
                for key in &config {
                    assert!(known.env.contains(key), "{subcommand} reads no {key}");
                }
                for env in container["env"].as_vec().into_iter().flatten() {
                    let key = env["name"].as_str().unwrap();
                    assert!(known.env.contains(key), "{subcommand} reads no {key}");
                }
                let ports: Vec<(String, i64)> = container["ports"]
                    .as_vec()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap().to_owned(),
                            p["containerPort"].as_i64().unwrap(),
                        )
                    })
                    .collect();
                let mut listeners = vec![("--listen", "grpc"), ("--metrics-listen", "metrics")];
                if flag_value(&args, "--http-listen").is_some() {
                    listeners.push(("--http-listen", "https"));
                }
                for (flag, name) in listeners {
                    let listen = flag_value(&args, flag).unwrap_or_else(|| panic!("{flag}"));
                    let port: i64 = listen.rsplit(':').next().unwrap().parse().unwrap();
                    assert!(
                        ports.contains(&(name.to_owned(), port)),
                        "{subcommand}: port {name} is {flag}'s {port}: {ports:?}"
                    );
                }
            }
            Some("Service") => {
                let selector = &document["spec"]["selector"];
                let target = documents
                    .iter()
                    .find(|d| {
                        d["kind"].as_str() == Some("Deployment")
                            && d["spec"]["template"]["metadata"]["labels"] == *selector
                    })
                    .expect("a deployment behind the service");
                let container = &target["spec"]["template"]["spec"]["containers"][0];
                for port in document["spec"]["ports"].as_vec().unwrap() {
                    let wanted = port["targetPort"].as_str().unwrap();
                    assert!(
                        container["ports"]
                            .as_vec()
                            .unwrap()
                            .iter()
                            .any(|p| p["name"].as_str() == Some(wanted)),
                        "the service's target port {wanted} is a container port"
                    );
                }
            }
            Some("ConfigMap") => {}
            other => panic!("an unexpected kind {other:?}"),
        }
    }
    assert_eq!(deployments, 2, "commands and queries");
}

#[test]
fn the_systemd_units_run_flags_the_binary_takes_with_settings_their_examples_define() {
    for (unit, environment) in [
        ("receivables-commands.service", "commands.env"),
        ("receivables-queries.service", "queries.env"),
    ] {
        let text = read(&deploy().join("systemd").join(unit));
        let exec = text
            .lines()
            .find_map(|line| line.strip_prefix("ExecStart="))
            .expect("ExecStart");
        let words: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
        assert_eq!(words[0], "/usr/local/bin/receivables");
        check_arguments(&words[1..], unit);
        let defined: BTreeSet<String> = read(&deploy().join("systemd").join(environment))
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('=').map(|(key, _)| key.to_owned()))
            .collect();
        for word in &words {
            if let Some(name) = word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
                assert!(
                    defined.contains(name),
                    "{unit}: {environment} defines {name}"
                );
            }
        }
        assert!(text.contains(&format!("EnvironmentFile=/etc/receivables/{environment}")));
        assert!(
            text.contains("KillSignal=SIGTERM"),
            "{unit} stops gracefully"
        );
    }
}
