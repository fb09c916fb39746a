//! What the client's end-to-end tests share: a world of real servers (a `nats-server` of its
//! own, the command service, and when asked the read side on a PostgreSQL database of its own),
//! and the client run as the binary runs it: arguments parsed by clap, output captured.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::Path;

use clap::Parser;
use receivables_cli::{CliError, ClientCommand, Connection};
use receivables_tests::{NatsServer, TestDatabase, TestQueryService, TestService, init_logging};

/// The client's command line as the `receivables` binary offers it.
#[derive(Debug, Parser)]
#[command(name = "receivables")]
pub struct TestCli {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// One test's servers.
pub struct World {
    pub nats: NatsServer,
    pub commands: TestService,
    pub read: Option<(TestDatabase, TestQueryService)>,
}

impl World {
    /// NATS and the command service; `None` (after a loud skip) without `nats-server`.
    pub async fn start() -> Option<World> {
        init_logging();
        let nats = NatsServer::start_default().await?;
        let commands = TestService::start(&nats.url()).await;
        Some(World {
            nats,
            commands,
            read: None,
        })
    }

    /// Also the read side; `None` without PostgreSQL.
    pub async fn start_with_queries() -> Option<World> {
        let mut world = World::start().await?;
        let database = TestDatabase::create().await?;
        let queries = TestQueryService::start(&world.nats.url(), &database).await;
        world.read = Some((database, queries));
        Some(world)
    }

    /// The global options pointing at this world's services.
    pub fn server_args(&self) -> Vec<String> {
        let mut args = vec![
            "--server".to_owned(),
            format!("http://{}", self.commands.address),
        ];
        if let Some((_, queries)) = &self.read {
            args.push("--query-server".to_owned());
            args.push(format!("http://{}", queries.address));
        }
        args
    }

    /// Runs the client with `args` against this world.
    pub async fn cli(&self, args: &[&str]) -> (Result<(), CliError>, String) {
        let mut all: Vec<String> = self.server_args();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        cli(&all).await
    }

    /// Runs the client and expects success; returns what it printed.
    pub async fn ok(&self, args: &[&str]) -> String {
        let (result, output) = self.cli(args).await;
        if let Err(error) = result {
            panic!("receivables {args:?} failed: {error}\n{output}");
        }
        output
    }

    /// Runs the client with `--format json` and parses its one document.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let output = self.ok(&all).await;
        serde_json::from_str(&output).unwrap_or_else(|e| panic!("not JSON ({e}): {output}"))
    }

    /// Runs the client with `--format csv` and parses the rows under their header.
    pub async fn csv(&self, args: &[&str]) -> Vec<std::collections::HashMap<String, String>> {
        let mut all = args.to_vec();
        all.extend(["--format", "csv"]);
        parse_csv(&self.ok(&all).await)
    }

    /// The stream's last sequence.
    pub async fn last_sequence(&self) -> u64 {
        receivables_tests::last_sequence(&self.nats.url()).await
    }

    pub async fn stop(self) {
        if let Some((database, queries)) = self.read {
            queries.stop().await;
            database.drop_database().await;
        }
        self.commands.stop().await;
    }
}

/// Runs the client with the full argument list (after the program name).
pub async fn cli(args: &[String]) -> (Result<(), CliError>, String) {
    let parsed = TestCli::try_parse_from(
        std::iter::once("receivables".to_owned()).chain(args.iter().cloned()),
    )
    .unwrap_or_else(|e| panic!("the arguments {args:?} do not parse: {e}"));
    let mut out = Vec::new();
    let result = receivables_cli::run(&parsed.connection, parsed.command, &mut out).await;
    (result, String::from_utf8(out).expect("UTF-8 output"))
}

/// CSV text to rows keyed by the header.
pub fn parse_csv(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// Writes `text` to `name` in `dir` and returns the path as a string.
pub fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}
