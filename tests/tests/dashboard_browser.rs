//! The dashboard in a real browser: headless Chromium driven through ChromeDriver (Debian's
//! `chromium` and `chromium-driver`, which `.ci/run` installs), against the all-in-one service
//! over TLS with tokens and a scripted history. It logs in with a token, opens every page,
//! checks that the figures on each page are the gRPC answers to the same query (and the
//! hand-worked ones where the history makes them plain), follows the aging's drill-down,
//! verifies the log, logs out, and checks that a subsidiary's token sees only its own rows.
//! A second test works the review queue of bank receipts: accept, split, exclude, a refused
//! split, and the payments they post.
//! A screenshot of each page is saved under the test target's temporary directory
//! (`dashboard-screenshots/`) for people to look at.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::receipt_service_client::ReceiptServiceClient;
use receivables_domain::access::Role;
use receivables_tests::dashboard::{
    ACME, AS_OF, BETA, Dashboard, SUB_1, Token, as_token, expected_by_customer,
    expected_by_subsidiary,
};
use receivables_tests::{command_id, free_port, servers_required, skipped};
use serde_json::{Value, json};

/// Where Debian puts them.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long ChromeDriver gets to listen.
const DRIVER_START_MAX: Duration = Duration::from_secs(30);

/// ChromeDriver on a free port, and the browser's profile directory. On drop the driver is
/// killed, and with it every browser process of that profile (a browser outlives a killed
/// driver, and a test that fails half-way never closes its session).
struct Driver {
    _process: tokio::process::Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = std::process::Command::new("pkill")
            .arg("-f")
            // The pattern begins with dashes: not an option.
            .arg("--")
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .status();
    }
}

impl Driver {
    async fn start() -> Option<Driver> {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            let why = format!(
                "{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
            );
            assert!(!servers_required(), "{why}");
            skipped(&why);
            return None;
        }
        let port = free_port();
        let process = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver");
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < DRIVER_START_MAX,
                "chromedriver did not listen"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(Driver {
            _process: process,
            port,
            profile: tempfile::tempdir().expect("a browser profile directory"),
        })
    }

    /// A headless browser that accepts the test CA's certificate (it is not in the
    /// machine's trust store).
    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("acceptInsecureCerts".to_owned(), Value::Bool(true));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1400,2000",
                    format!("--user-data-dir={}", self.profile.path().display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a browser session")
    }
}

/// Where the screenshots go.
fn screenshots() -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&directory).expect("screenshot directory");
    directory
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    let path = screenshots().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("screenshot written");
}

/// How long a click's page gets to load.
const NAVIGATION_MAX: Duration = Duration::from_secs(10);

/// Clicks what `locator` finds and waits until the browser shows another, fully loaded page:
/// a click only starts a navigation, and reading the page before it ends reads the old one.
async fn follow(browser: &Client, locator: Locator<'_>, what: &str) {
    let before = browser.current_url().await.expect("URL");
    browser
        .find(locator)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{what} clicked: {e}"));
    let deadline = tokio::time::Instant::now() + NAVIGATION_MAX;
    loop {
        let now = browser.current_url().await.expect("URL");
        let ready = browser
            .execute("return document.readyState;", Vec::new())
            .await
            .expect("readyState");
        if now != before && ready == json!("complete") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: still on {now} after {NAVIGATION_MAX:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The cells of the table `name` on the page, row by row, as the page shows them.
async fn table(browser: &Client, name: &str) -> Vec<Vec<String>> {
    let script = format!(
        "return Array.from(document.querySelectorAll(\"table[data-table='{name}'] tbody tr\"))\
         .map(r => Array.from(r.cells).map(c => c.textContent.trim()));"
    );
    let value = browser
        .execute(&script, Vec::new())
        .await
        .expect("table read");
    serde_json::from_value(value).expect("rows of cells")
}

/// The classes of the table's rows.
async fn row_classes(browser: &Client, name: &str) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll(\"table[data-table='{name}'] tbody tr\")).map(r => r.className);"
    );
    serde_json::from_value(browser.execute(&script, Vec::new()).await.expect("classes"))
        .expect("classes")
}

async fn login(browser: &Client, base: &str, token: &Token) {
    browser
        .goto(&format!("{base}/"))
        .await
        .expect("the dashboard");
    assert!(
        browser.current_url().await.expect("URL").path() == "/login",
        "without a session the dashboard asks for a login"
    );
    browser
        .find(Locator::Css("input[name=token]"))
        .await
        .expect("the token field")
        .send_keys(&token.bearer)
        .await
        .expect("typed");
    follow(
        browser,
        Locator::Css("form[action='/login'] button"),
        "the login button",
    )
    .await;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("header nav"))
        .await
        .expect("a page of the dashboard after the login");
    assert_eq!(browser.current_url().await.expect("URL").path(), "/");
}

/// Each aging row as (group, the six buckets, open): the page's columns 0, 3..=8, 9.
fn aging_rows(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            let mut out = vec![row[0].clone()];
            out.extend(row[3..10].iter().cloned());
            out
        })
        .collect()
}

fn expected(rows: Vec<[&str; 8]>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
        .collect()
}

#[tokio::test]
async fn every_page_in_a_real_browser_shows_the_grpc_figures() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let dashboard = Dashboard::start().await;
    let position = dashboard.post_history().await;
    let auditor = dashboard.token(Role::Auditor).await;
    let base = dashboard.url();
    let mut queries = dashboard.queries().await;
    let browser = driver.browser().await;

    login(&browser, &base, &auditor).await;

    // Overview: the totals per currency are the group aging as of today.
    screenshot(&browser, "overview").await;
    let today = queries
        .get_aging_report(as_token(
            pb::GetAgingReportRequest {
                scope: Some(pb::AgingScope::default()),
                group_by: pb::AgingGroupBy::Group as i32,
                min_position: position,
            },
            &auditor,
        ))
        .await
        .expect("gRPC aging")
        .into_inner();
    let totals = table(&browser, "totals").await;
    assert_eq!(totals.len(), today.lines.len());
    for (row, line) in totals.iter().zip(&today.lines) {
        assert_eq!(row[0], line.currency);
        assert_eq!(row[1], line.open_total.clone().unwrap_or_default().amount);
    }
    // By hand: 4,000.00 (ACME) + 1,500.00 (BETA) open, all of it past due today.
    assert_eq!(
        totals[0][..4],
        ["CNY", "5500.00", "5500.00", "100.0%"].map(String::from)
    );
    let svg_bars = browser
        .find_all(Locator::Css("figure.chart svg g.bar"))
        .await
        .expect("chart bars");
    assert_eq!(
        svg_bars.len(),
        12,
        "a bar for each of the last twelve month-ends"
    );

    // Aging by customer as of the scripted date: hand-worked, and the gRPC answer's.
    browser
        .goto(&format!("{base}/aging?as_of={AS_OF}&group_by=customer"))
        .await
        .expect("aging");
    screenshot(&browser, "aging").await;
    assert_eq!(
        aging_rows(&table(&browser, "aging").await),
        expected(expected_by_customer())
    );

    // The drill-down: the group, its subsidiaries, SUB-1's customers, ACME's open items.
    browser
        .goto(&format!("{base}/aging?as_of={AS_OF}"))
        .await
        .expect("aging");
    assert_eq!(
        table(&browser, "aging").await.len(),
        1,
        "one line: the group in CNY"
    );
    follow(&browser, Locator::LinkText("GROUP"), "the group's line").await;
    assert_eq!(
        aging_rows(&table(&browser, "aging").await),
        expected(expected_by_subsidiary())
    );
    follow(&browser, Locator::LinkText(SUB_1), "SUB-1's line").await;
    let sub_1_customers = aging_rows(&table(&browser, "aging").await);
    assert_eq!(
        sub_1_customers,
        expected(vec![
            [
                ACME, "0.00", "0.00", "2000.00", "0.00", "0.00", "0.00", "2000.00"
            ],
            [
                BETA, "0.00", "0.00", "0.00", "1500.00", "0.00", "0.00", "1500.00"
            ],
        ])
    );
    follow(&browser, Locator::LinkText(ACME), "ACME's line").await;
    screenshot(&browser, "open-items").await;
    let items = table(&browser, "open-items").await;
    assert_eq!(
        items.len(),
        1,
        "SUB-1's one open invoice of ACME: {items:?}"
    );
    assert_eq!(items[0][2], "A-1");
    assert_eq!(items[0][7], "2000.00");

    // Credit exposure: the gRPC listing, BETA's breach highlighted.
    browser
        .goto(&format!("{base}/exposure"))
        .await
        .expect("exposure");
    screenshot(&browser, "exposure").await;
    let exposures = queries
        .list_exposures(as_token(pb::ListExposuresRequest::default(), &auditor))
        .await
        .expect("gRPC exposures")
        .into_inner();
    let rows = table(&browser, "exposure").await;
    let page: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[0].clone(), r[7].clone(), r[8].clone()))
        .collect();
    let grpc: Vec<(String, String, String)> = exposures
        .lines
        .iter()
        .map(|l| {
            (
                l.customer_id.clone(),
                l.exposure.clone().unwrap_or_default().amount,
                l.available.clone().unwrap_or_default().amount,
            )
        })
        .collect();
    assert_eq!(page, grpc);
    let beta = rows.iter().position(|r| r[0] == BETA).expect("BETA's line");
    assert_eq!(row_classes(&browser, "exposure").await[beta], "breach");
    assert_eq!(rows[beta][12], "OVER LIMIT");

    // The work queue: the gRPC queue, item for item.
    browser
        .goto(&format!("{base}/work-queue"))
        .await
        .expect("work queue");
    screenshot(&browser, "work-queue").await;
    let queue = queries
        .get_work_queue(as_token(
            pb::GetWorkQueueRequest {
                page_size: 50,
                ..Default::default()
            },
            &auditor,
        ))
        .await
        .expect("gRPC queue")
        .into_inner();
    let page: Vec<(String, String, String)> = table(&browser, "work-queue")
        .await
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[4].clone()))
        .collect();
    let grpc: Vec<(String, String, String)> = queue
        .items
        .iter()
        .map(|i| {
            (
                i.score.clone(),
                i.customer_id.clone(),
                i.overdue.clone().unwrap_or_default().amount,
            )
        })
        .collect();
    assert_eq!(page, grpc);
    assert_eq!(page.len(), 2, "ACME and BETA are both overdue today");

    // The customer: its statement and open items.
    browser
        .goto(&format!(
            "{base}/customer?customer={ACME}&from=2026-01-01&to={AS_OF}"
        ))
        .await
        .expect("customer");
    screenshot(&browser, "customer").await;
    let statement = browser
        .find(Locator::Css("table[data-table='statement']"))
        .await
        .expect("statement");
    let caption = browser
        .find(Locator::XPath(
            "//table[@data-table='statement']/preceding::h2[1]",
        ))
        .await
        .expect("caption")
        .text()
        .await
        .expect("text");
    drop(statement);
    // By hand: nothing before January; 3,000.00 + 2,000.00 invoiced, 1,000.00 paid.
    assert!(
        caption.contains("opening 0.00, closing 4000.00"),
        "{caption}"
    );
    let mut open: Vec<(String, String)> = table(&browser, "open-items")
        .await
        .iter()
        .map(|r| (r[2].clone(), r[7].clone()))
        .collect();
    open.sort();
    assert_eq!(
        open,
        [("A-1", "2000.00"), ("B-1", "2000.00")].map(|(a, b)| (a.to_owned(), b.to_owned()))
    );

    // Promises as of the scripted date: ACME's promise of 1,000.00 for 2026-04-02 falls due
    // within the week.
    browser
        .goto(&format!("{base}/promises?as_of={AS_OF}"))
        .await
        .expect("promises");
    screenshot(&browser, "promises").await;
    let due = table(&browser, "due-this-week").await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(
        (due[0][0].as_str(), due[0][2].as_str(), due[0][4].as_str()),
        (ACME, "2026-04-02", "1000.00")
    );

    // Audit: the verification runs and reports the chain intact over every event.
    browser.goto(&format!("{base}/audit")).await.expect("audit");
    browser
        .find(Locator::LinkText("Verify the whole log"))
        .await
        .expect("verify link")
        .click()
        .await
        .expect("verify");
    let result = browser
        .wait()
        .for_element(Locator::Css("li.result"))
        .await
        .expect("a result")
        .text()
        .await
        .expect("text");
    screenshot(&browser, "audit-verify").await;
    assert!(
        result.starts_with(&format!("Intact: {position} events checked")),
        "{result}"
    );

    // Reports as known: now, the exposures are today's; before anything was recorded, nothing.
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    browser
        .goto(&format!("{base}/audit?known_at={now}Z&report=exposures"))
        .await
        .expect("exposures as known");
    screenshot(&browser, "audit-as-known").await;
    let as_known: Vec<(String, String)> = table(&browser, "exposures-as-known")
        .await
        .iter()
        .map(|r| (r[0].clone(), r[3].clone()))
        .collect();
    let live: Vec<(String, String)> = exposures
        .lines
        .iter()
        .map(|l| {
            (
                l.customer_id.clone(),
                l.exposure.clone().unwrap_or_default().amount,
            )
        })
        .collect();
    assert_eq!(as_known, live);
    browser
        .goto(&format!(
            "{base}/audit?known_at=2020-01-01T00:00&report=aging"
        ))
        .await
        .expect("aging as known");
    assert!(
        table(&browser, "aging-as-known").await.is_empty(),
        "nothing was known in 2020"
    );
    assert!(
        browser
            .source()
            .await
            .expect("page")
            .contains("Replayed the log up to position 0.")
    );

    // Logout: back to the login form, and the dashboard asks for it again.
    browser.goto(&format!("{base}/")).await.expect("overview");
    follow(
        &browser,
        Locator::Css("form[action='/logout'] button"),
        "logout",
    )
    .await;
    assert_eq!(browser.current_url().await.expect("URL").path(), "/login");
    browser.goto(&format!("{base}/aging")).await.expect("aging");
    assert_eq!(browser.current_url().await.expect("URL").path(), "/login");

    // A subsidiary's token: its own rows only, whatever the URL asks; the group's pages refused.
    let sub_1 = dashboard.subsidiary_token(SUB_1).await;
    login(&browser, &base, &sub_1).await;
    browser
        .goto(&format!(
            "{base}/aging?as_of={AS_OF}&group_by=customer&subsidiary=SUB-2"
        ))
        .await
        .expect("aging");
    screenshot(&browser, "aging-subsidiary").await;
    assert_eq!(aging_rows(&table(&browser, "aging").await), sub_1_customers);
    browser
        .goto(&format!("{base}/exposure"))
        .await
        .expect("exposure");
    let heading = browser
        .find(Locator::Css("main h1"))
        .await
        .expect("heading")
        .text()
        .await
        .expect("text");
    assert_eq!(heading, "Not for your role");
    screenshot(&browser, "exposure-subsidiary").await;

    browser.close().await.expect("browser closed");
    eprintln!("screenshots in {}", screenshots().display());
}

/// SUB-1's CNY account, and its statement of 20 March: three credits that name no document,
/// so the engine posts none of them and all three wait for a person.
const BANK_ACCOUNT: &str = "SUB1-CNY";
const QUEUE_STATEMENT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>
<GrpHdr><MsgId>QUEUE-1</MsgId><CreDtTm>2026-03-20T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>QUEUE-1</Id><CreDtTm>2026-03-20T18:00:00</CreDtTm>
<Acct><Id><Othr><Id>6222000000000101</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
<Ntry><Amt Ccy=\"CNY\">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-20</Dt></BookgDt><ValDt><Dt>2026-03-20</Dt></ValDt>
<AcctSvcrRef>Q-0101</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>goods payment</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy=\"CNY\">2500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-20</Dt></BookgDt><ValDt><Dt>2026-03-20</Dt></ValDt>
<AcctSvcrRef>Q-0102</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>march settlement</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy=\"CNY\">88.16</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-20</Dt></BookgDt><ValDt><Dt>2026-03-20</Dt></ValDt>
<AcctSvcrRef>Q-0103</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>INTEREST Q1 2026</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
";

/// What a section of the review queue shows: `css` inside the line's section.
fn in_line(line: &str, css: &str) -> String {
    format!("section.receipt[data-line='{line}'] {css}")
}

async fn fill(browser: &Client, css: &str, text: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .expect("typed");
}

/// Fills the split form of `line` row by row (customer, amount, on account; an empty text is
/// left empty) and sends it.
async fn split(browser: &Client, line: &str, parts: &[(&str, &str, bool)]) {
    for (row, (customer, amount, on_account)) in (1..).zip(parts) {
        for (name, text) in [("customer", customer), ("amount", amount)] {
            if !text.is_empty() {
                let css = in_line(line, &format!("input[name={name}_{row}]"));
                fill(browser, &css, text).await;
            }
        }
        if *on_account {
            let css = in_line(line, &format!("input[name=on_account_{row}]"));
            browser
                .find(Locator::Css(&css))
                .await
                .expect("on account box")
                .click()
                .await
                .expect("ticked");
        }
    }
    let button = in_line(line, "form.split button");
    follow(browser, Locator::Css(&button), "the split").await;
}

/// The text of the first element `css` finds.
async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

/// One customer's open invoices (number, open amount) and payments (amount, unapplied) of
/// 20 March, from the command side.
async fn account_of(
    channel: tonic::transport::Channel,
    token: &Token,
    customer: &str,
) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let account = CommandServiceClient::new(channel)
        .get_account(as_token(
            pb::GetAccountRequest {
                customer_id: customer.to_owned(),
            },
            token,
        ))
        .await
        .expect("the account")
        .into_inner();
    let open = account
        .open_invoices
        .iter()
        .map(|i| {
            (
                i.invoice.clone().unwrap_or_default().invoice_number,
                i.open_amount.clone().unwrap_or_default().amount,
            )
        })
        .collect();
    let paid = account
        .payments
        .iter()
        .filter(|p| p.received_date == "2026-03-20")
        .map(|p| {
            (
                p.amount.clone().unwrap_or_default().amount,
                p.unapplied.clone().unwrap_or_default().amount,
            )
        })
        .collect();
    (open, paid)
}

/// The review queue of bank receipts in a real browser, as treasury works it: three lines
/// wait; a split that names two bad fields is refused naming both and changes nothing; BETA's
/// candidate is accepted, a line is split between ACME (oldest due first) and BETA (on
/// account), and the interest is marked not a receivable. The payments are then in the
/// accounts exactly as worked out by hand, and a form without the session's CSRF token is
/// refused.
#[tokio::test]
async fn the_review_queue_in_a_real_browser_accepts_splits_and_excludes() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let dashboard = Dashboard::start().await;
    dashboard.post_history().await;
    let treasury = dashboard.token(Role::Treasury).await;
    let mut receipts = ReceiptServiceClient::new(dashboard.channel().await);
    receipts
        .register_bank_account(as_token(
            pb::RegisterBankAccountRequest {
                command_id: command_id(),
                bank_account_id: BANK_ACCOUNT.to_owned(),
                subsidiary_id: SUB_1.to_owned(),
                currency: "CNY".to_owned(),
                number: "6222000000000101".to_owned(),
                bank: "ICBC".to_owned(),
                name: "SUB-1 collections".to_owned(),
            },
            &treasury,
        ))
        .await
        .expect("bank account");
    let imported = receipts
        .import_statement(as_token(
            pb::ImportStatementRequest {
                bank_account_id: BANK_ACCOUNT.to_owned(),
                format: pb::StatementFormat::Camt053.into(),
                content: QUEUE_STATEMENT.as_bytes().to_vec(),
                ..Default::default()
            },
            &treasury,
        ))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(
        (
            imported.imported,
            imported.matched_automatically,
            imported.waiting
        ),
        (3, 0, 3)
    );

    // The same queue over the JSON API, with the bearer token.
    let api = dashboard
        .client()
        .get(format!("{}/api/v1/receipts/unmatched", dashboard.url()))
        .header("authorization", treasury.header())
        .send()
        .await
        .expect("API");
    assert_eq!(api.status(), reqwest::StatusCode::OK);
    let listed: Value = api.json().await.expect("JSON");
    let mut lines: Vec<&str> = listed["receipts"]
        .as_array()
        .expect("receipts")
        .iter()
        .map(|r| r["lineId"].as_str().expect("lineId"))
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, ["Q-0101", "Q-0102", "Q-0103"]);

    let base = dashboard.url();
    let browser = driver.browser().await;
    login(&browser, &base, &treasury).await;
    browser
        .goto(&format!("{base}/receipts"))
        .await
        .expect("review queue");
    screenshot(&browser, "receipts").await;
    let mut shown: Vec<(String, String, String)> = table(&browser, "receipts")
        .await
        .into_iter()
        .map(|row| (row[1].clone(), row[5].clone(), row[9].clone()))
        .collect();
    shown.sort();
    // By hand: BETA owes exactly 1,500.00, nobody owes 2,500.00 or 88.16.
    assert_eq!(
        shown,
        [
            ("Q-0101", "1500.00", BETA),
            ("Q-0102", "2500.00", ""),
            ("Q-0103", "88.16", ""),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );

    // A split with a part without a customer and a negative part: both named, nothing posted.
    split(
        &browser,
        "Q-0102",
        &[("", "2000.00", false), (BETA, "-5.00", false)],
    )
    .await;
    screenshot(&browser, "receipts-refused").await;
    let named: Vec<String> = browser
        .find_all(Locator::Css("div.failure li code"))
        .await
        .expect("named fields")
        .into_iter()
        .map(|e| async move { e.text().await.expect("text") })
        .collect::<futures::future::JoinAll<_>>()
        .await;
    assert!(
        named.contains(&"customer_1".to_owned()) && named.contains(&"amount_2".to_owned()),
        "both offending fields named: {named:?}"
    );
    browser
        .goto(&format!("{base}/receipts"))
        .await
        .expect("review queue");
    assert_eq!(
        table(&browser, "receipts").await.len(),
        3,
        "nothing settled"
    );

    // Accept BETA for the 1,500.00.
    follow(
        &browser,
        Locator::Css(&in_line(
            "Q-0101",
            &format!("tr[data-customer='{BETA}'] form.accept button"),
        )),
        "accept BETA",
    )
    .await;
    let done = text_of(&browser, "p.done").await;
    assert!(
        done.contains("Q-0101") && done.contains(&format!("{BETA} 1500.00 CNY")),
        "{done}"
    );

    // Split the 2,500.00: 2,000.00 to ACME oldest due first, 500.00 to BETA on account.
    split(
        &browser,
        "Q-0102",
        &[(ACME, "2000.00", false), (BETA, "500.00", true)],
    )
    .await;
    let done = text_of(&browser, "p.done").await;
    assert!(
        done.contains("Q-0102") && done.contains("matched"),
        "{done}"
    );

    // The interest is not a receivable.
    browser
        .find(Locator::Css(&in_line(
            "Q-0103",
            "select[name=reason] option[value=interest]",
        )))
        .await
        .expect("interest")
        .click()
        .await
        .expect("chosen");
    fill(
        &browser,
        &in_line("Q-0103", "input[name=note]"),
        "Q1 interest",
    )
    .await;
    follow(
        &browser,
        Locator::Css(&in_line("Q-0103", "form.exclude button")),
        "the exclusion",
    )
    .await;
    screenshot(&browser, "receipts-done").await;
    assert!(
        text_of(&browser, "p.done")
            .await
            .contains("not a receivable")
    );
    assert!(table(&browser, "receipts").await.is_empty());
    assert_eq!(
        text_of(&browser, "p.empty").await,
        "Nothing waits for a person."
    );

    // By hand: BETA's A-2 (1,500.00) is paid and 500.00 waits on account; ACME's oldest due,
    // A-1 (2,000.00 open after the 1,000.00 of February), is paid, B-1 untouched.
    let channel = dashboard.channel().await;
    assert_eq!(
        account_of(channel.clone(), &treasury, BETA).await,
        (
            vec![],
            vec![
                ("1500.00".to_owned(), "0.00".to_owned()),
                ("500.00".to_owned(), "500.00".to_owned())
            ]
        )
    );
    assert_eq!(
        account_of(channel, &treasury, ACME).await,
        (
            vec![("B-1".to_owned(), "2000.00".to_owned())],
            vec![("2000.00".to_owned(), "0.00".to_owned())]
        )
    );

    // A decision without this session's CSRF token is refused, and changes nothing.
    let client = dashboard.client();
    let login = client
        .post(format!("{base}/login"))
        .form(&[("token", treasury.bearer.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), reqwest::StatusCode::SEE_OTHER);
    let forged = client
        .post(format!("{base}/receipts/exclude"))
        .form(&[
            ("csrf", "not-the-session-one"),
            ("command_id", command_id().as_str()),
            ("bank_account", BANK_ACCOUNT),
            ("line_id", "Q-0101"),
            ("reason", "other"),
        ])
        .send()
        .await
        .expect("forged form");
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
}
