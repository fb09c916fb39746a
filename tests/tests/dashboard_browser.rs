//! The dashboard in a real browser: headless Chromium driven through ChromeDriver (Debian's
//! `chromium` and `chromium-driver`, which `.ci/run` installs), against the all-in-one service
//! over TLS with tokens and a scripted history. It logs in with a token, opens every page,
//! checks that the figures on each page are the gRPC answers to the same query (and the
//! hand-worked ones where the history makes them plain), follows the aging's drill-down,
//! verifies the log, logs out, and checks that a subsidiary's token sees only its own rows.
//! A screenshot of each page is saved under the test target's temporary directory
//! (`dashboard-screenshots/`) for people to look at.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use receivables_api::pb;
use receivables_domain::access::Role;
use receivables_tests::dashboard::{
    ACME, AS_OF, BETA, Dashboard, SUB_1, Token, as_token, expected_by_customer,
    expected_by_subsidiary,
};
use receivables_tests::{free_port, servers_required, skipped};
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
    browser
        .find(Locator::Css("form[action='/login'] button"))
        .await
        .expect("the login button")
        .click()
        .await
        .expect("logged in");
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
    browser
        .find(Locator::LinkText("GROUP"))
        .await
        .expect("the group's line")
        .click()
        .await
        .expect("down");
    assert_eq!(
        aging_rows(&table(&browser, "aging").await),
        expected(expected_by_subsidiary())
    );
    browser
        .find(Locator::LinkText(SUB_1))
        .await
        .expect("SUB-1's line")
        .click()
        .await
        .expect("down");
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
    browser
        .find(Locator::LinkText(ACME))
        .await
        .expect("ACME's line")
        .click()
        .await
        .expect("down");
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
    browser
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("logged out");
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
