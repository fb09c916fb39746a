//! `post` end to end, and what the client says when it cannot do what was asked: one line, and
//! the exit code a script can act on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use receivables_cli::error::{EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE};
use support::{TestCli, World, cli};

#[test]
fn the_command_line_is_consistent() {
    use clap::CommandFactory;
    TestCli::command().debug_assert();
}

/// Every command of the domain can be posted from the command line: a feature added without its
/// `post` subcommand fails here (docs/ARCHITECTURE.md, "Recipe: add an event"). A statement
/// line comes from a file only: `import statement` posts it.
#[test]
fn every_command_of_the_domain_has_a_post_subcommand() {
    use clap::CommandFactory;
    use receivables_domain::EventType;
    use receivables_domain::testing::{command_of, sample};
    let imported_only = [EventType::StatementLineImported];
    let commands: std::collections::HashSet<_> = EventType::all()
        .filter(|event_type| !imported_only.contains(event_type))
        .map(|event_type| std::mem::discriminant(&command_of(&sample(event_type))))
        .collect();
    let import = TestCli::command()
        .find_subcommand("import")
        .and_then(|import| import.find_subcommand("statement").cloned());
    assert!(
        import.is_some(),
        "`import statement` posts the statement lines"
    );
    let cli = TestCli::command();
    let post = cli.find_subcommand("post").expect("the post command");
    let subcommands: Vec<&str> = post.get_subcommands().map(|c| c.get_name()).collect();
    // Today's four, counted by hand: invoice, payment, credit limit and promise to pay.
    assert!(commands.len() >= 4, "{} commands", commands.len());
    assert_eq!(
        subcommands.len(),
        commands.len(),
        "one `post` subcommand per command of the domain: {subcommands:?}"
    );
}

fn invoice<'a>(
    customer: &'a str,
    number: &'a str,
    amount: &'a str,
    currency: &'a str,
) -> Vec<&'a str> {
    vec![
        "post",
        "invoice",
        "--customer",
        customer,
        "--subsidiary",
        "SUB-SH",
        "--number",
        number,
        "--amount",
        amount,
        "--currency",
        currency,
        "--issue-date",
        "2026-03-01",
        "--due-date",
        "2026-03-31",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_post_retried_with_its_command_id_records_nothing_new() {
    let Some(world) = World::start().await else {
        return;
    };
    let first = world.json(&invoice("ACME", "SH-1", "1200.00", "CNY")).await;
    let id = first["command_id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!(first["position"], 1);
    assert_eq!(first["replayed"], false);
    assert_eq!(first["due_date"], "2026-03-31");
    assert_eq!(first["over_limit"], false);
    // No limit set: no credit check.
    assert_eq!(first["credit_limit"], serde_json::Value::Null);

    let mut retry = invoice("ACME", "SH-1", "1200.00", "CNY");
    retry.extend(["--command-id", &id]);
    let again = world.json(&retry).await;
    assert_eq!(again["replayed"], true);
    assert_eq!(again["position"], 1);
    assert_eq!(again["event_id"], first["event_id"]);
    assert_eq!(world.last_sequence().await, 1);

    // The same id with other content is refused.
    let mut reused = invoice("ACME", "SH-1", "1300.00", "CNY");
    reused.extend(["--command-id", &id]);
    let (result, output) = world.cli(&reused).await;
    let error = result.unwrap_err();
    assert!(output.is_empty());
    assert_eq!(error.exit_code(), EXIT_REFUSED);
    assert!(error.to_string().starts_with("refused: "), "{error}");
    assert_eq!(world.last_sequence().await, 1);

    // The table for people names every field of the reply.
    let table = world.ok(&invoice("ACME", "SH-2", "10.00", "CNY")).await;
    for field in [
        "command id",
        "event id",
        "position",
        "recorded at",
        "due date",
        "over limit",
    ] {
        assert!(table.contains(field), "{field}: {table}");
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_post_is_one_line_with_its_reason_and_exit_code_1() {
    let Some(world) = World::start().await else {
        return;
    };
    world
        .ok(&[
            "post",
            "credit-limit",
            "--customer",
            "E1",
            "--limit",
            "1000.00",
            "--currency",
            "CNY",
            "--policy",
            "block",
            "--grade",
            "b",
            "--reason",
            "new customer",
            "--approved-by",
            "Li Wei",
        ])
        .await;

    // 1200 against a BLOCK limit of 1000, nothing open: exposure 0 -> 1200, shortfall 200.
    let (result, output) = world.cli(&invoice("E1", "SH-9", "1200.00", "CNY")).await;
    let error = result.unwrap_err();
    let text = error.to_string();
    assert!(output.is_empty(), "{output}");
    assert_eq!(error.exit_code(), EXIT_REFUSED);
    assert!(
        text.starts_with("refused: CREDIT_LIMIT_EXCEEDED: "),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    let status = error.service_status().unwrap();
    assert_eq!(status.metadata["limit"], "1000.00");
    assert_eq!(status.metadata["shortfall"], "200.00");

    // A currency that does not exist: the service's field violation, one line.
    let (result, _) = world.cli(&invoice("E1", "SH-9", "10.00", "XYZ")).await;
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), EXIT_REFUSED);
    let text = error.to_string();
    assert!(
        text.starts_with("refused: INVALID_COMMAND: amount.currency: "),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    assert_eq!(
        world.last_sequence().await,
        1,
        "only the limit was recorded"
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_one_line_and_exit_code_3() {
    // A port nothing listens on.
    let port = receivables_tests::free_port();
    let server = format!("http://127.0.0.1:{port}");
    let args = |rest: &[&str]| -> Vec<String> {
        ["--server", &server, "--timeout", "2"]
            .iter()
            .chain(rest)
            .map(|a| (*a).to_owned())
            .collect()
    };

    let (result, output) = cli(&args(&invoice("ACME", "SH-1", "10.00", "CNY"))).await;
    let error = result.unwrap_err();
    assert!(output.is_empty());
    assert_eq!(
        error.to_string(),
        format!("cannot connect to {server}: connection refused")
    );
    assert_eq!(error.exit_code(), EXIT_UNAVAILABLE);

    // The query service named apart is the one reported for queries.
    let query_port = receivables_tests::free_port();
    let query_server = format!("http://127.0.0.1:{query_port}");
    let (result, _) = cli(&args(&["--query-server", &query_server, "aging"])).await;
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("cannot connect to {query_server}: connection refused")
    );
    assert_eq!(error.exit_code(), EXIT_UNAVAILABLE);

    // An import whose file cannot be read is a usage error, found before connecting.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let (result, _) = cli(&args(&["import", "invoices", missing.to_str().unwrap()])).await;
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), EXIT_USAGE);
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot read {}: ", missing.display())),
        "{error}"
    );
    // So is a file without the columns of its kind.
    let wrong = support::write_file(dir.path(), "wrong.csv", "customer,amount\nC1,10\n");
    let (result, _) = cli(&args(&["import", "invoices", &wrong])).await;
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), EXIT_USAGE);
    assert!(
        error
            .to_string()
            .contains("lacks the column(s) subsidiary, number, currency"),
        "{error}"
    );
}

/// Credit at order time from the command line: a limit with an overdue hold, an order's
/// credit reserved, the check of a further order, an invoice consuming the reservation and the
/// rest released, each reply's figures worked out by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_is_checked_reserved_invoiced_and_released() {
    let Some(world) = World::start().await else {
        return;
    };
    world
        .ok(&[
            "post",
            "credit-limit",
            "--customer",
            "O1",
            "--limit",
            "1000.00",
            "--currency",
            "CNY",
            "--policy",
            "block",
            "--grade",
            "b",
            "--reason",
            "new customer",
            "--approved-by",
            "Li Wei",
            "--overdue-hold-days",
            "30",
        ])
        .await;
    let reserved = world
        .json(&[
            "post",
            "credit-reservation",
            "--customer",
            "O1",
            "--subsidiary",
            "SUB-SH",
            "--order",
            "SO-1",
            "--amount",
            "600.00",
            "--currency",
            "CNY",
            "--reserved-on",
            "2026-03-01",
            "--expires-on",
            "2026-03-31",
        ])
        .await;
    assert_eq!(reserved["exposure_after"], "600.00");
    assert_eq!(reserved["over_limit"], false);

    // 600.00 reserved + 500.00 = 1,100.00: 100.00 over; 400.00 is available.
    let check = world
        .json(&[
            "credit-check",
            "--customer",
            "O1",
            "--amount",
            "500.00",
            "--currency",
            "CNY",
            "--date",
            "2026-03-05",
        ])
        .await;
    assert_eq!(check["decision"], "OVER_LIMIT");
    assert_eq!(check["would_accept"], false);
    assert_eq!(check["exposure"], "600.00");
    assert_eq!(check["available"], "400.00");
    assert_eq!(check["overdue_hold_days"], 30);

    // The order ships for 450.00: the invoice consumes 450.00 of SO-1, 150.00 is left.
    let mut shipped = invoice("O1", "SH-1", "450.00", "CNY");
    shipped.extend(["--order", "SO-1"]);
    let invoiced = world.json(&shipped).await;
    assert_eq!(invoiced["reservation_consumed"], "450.00");
    assert_eq!(invoiced["exposure_after"], "600.00");
    let released = world
        .json(&[
            "post",
            "credit-release",
            "--customer",
            "O1",
            "--subsidiary",
            "SUB-SH",
            "--order",
            "SO-1",
            "--released-on",
            "2026-03-06",
            "--reason",
            "order complete",
        ])
        .await;
    assert_eq!(released["released"], "150.00");
    assert_eq!(released["remaining"], "0.00");
    assert_eq!(world.last_sequence().await, 4);
    world.stop().await;
}
