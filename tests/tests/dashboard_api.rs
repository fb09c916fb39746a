//! The read-only HTTP/JSON API and the dashboard's sessions and downloads, over real HTTPS
//! against the all-in-one service with TLS and tokens, on a scripted history whose figures are
//! worked out by hand (`receivables_tests::dashboard`).

use std::collections::BTreeSet;
use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use receivables_api::pb;
use receivables_domain::access::Role;
use receivables_tests::dashboard::{
    ACME, AS_OF, BETA, Dashboard, SUB_1, SUB_2, Token, as_token, expected_by_customer,
    expected_by_subsidiary,
};
use reqwest::StatusCode;
use serde_json::Value;

async fn get(client: &reqwest::Client, url: String, token: Option<&Token>) -> (StatusCode, Value) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(&token.bearer);
    }
    let response = request.send().await.expect("response");
    let status = response.status();
    let body = response.json::<Value>().await.expect("a JSON body");
    (status, body)
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {value}"))
}

/// Each JSON aging line as (group, six buckets, open), in the answer's order.
fn json_lines(body: &Value) -> Vec<Vec<String>> {
    body["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| {
            let mut row = vec![text(line, "/group").to_owned()];
            for bucket in line["buckets"].as_array().expect("buckets") {
                row.push(text(bucket, "/amount/amount").to_owned());
            }
            row.push(text(line, "/openTotal/amount").to_owned());
            row
        })
        .collect()
}

fn rows(expected: Vec<[&str; 8]>) -> Vec<Vec<String>> {
    expected
        .into_iter()
        .map(|row| row.iter().map(|c| (*c).to_owned()).collect())
        .collect()
}

/// Given the scripted history, when the aging is asked over HTTP by customer and by
/// subsidiary, then it holds the hand-worked figures and the gRPC answer's, field for field.
#[tokio::test]
async fn the_aging_over_http_holds_the_worked_figures_and_the_grpc_answer() {
    let dashboard = Dashboard::start().await;
    let position = dashboard.post_history().await;
    let reporting = dashboard.token(Role::Reporting).await;
    let client = dashboard.client();
    for (group_by, expected) in [
        ("customer", expected_by_customer()),
        ("AGING_GROUP_BY_SUBSIDIARY", expected_by_subsidiary()),
    ] {
        let (status, body) = get(
            &client,
            format!(
                "{}/api/v1/aging?scope.asOf={AS_OF}&groupBy={group_by}&minPosition={position}",
                dashboard.url()
            ),
            Some(&reporting),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(json_lines(&body), rows(expected), "{group_by}: {body}");
        assert_eq!(text(&body, "/asOf"), AS_OF);
        // 64-bit integers are strings in the JSON mapping.
        assert_eq!(text(&body, "/position"), position.to_string());

        let grpc = dashboard
            .queries()
            .await
            .get_aging_report(as_token(
                pb::GetAgingReportRequest {
                    scope: Some(pb::AgingScope {
                        as_of: AS_OF.to_owned(),
                        ..Default::default()
                    }),
                    group_by: if group_by == "customer" {
                        pb::AgingGroupBy::Customer as i32
                    } else {
                        pb::AgingGroupBy::Subsidiary as i32
                    },
                    min_position: position,
                },
                &reporting,
            ))
            .await
            .expect("gRPC aging")
            .into_inner();
        let grpc_lines: Vec<Vec<String>> = grpc
            .lines
            .iter()
            .map(|line| {
                let mut row = vec![line.group.clone()];
                row.extend(
                    line.buckets
                        .iter()
                        .map(|b| b.amount.clone().unwrap_or_default().amount),
                );
                row.push(line.open_total.clone().unwrap_or_default().amount);
                row
            })
            .collect();
        assert_eq!(json_lines(&body), grpc_lines);
        // Every field is present, defaults included: a line's `name` is "" for an
        // unregistered customer, not missing.
        assert!(body["lines"][0].get("name").is_some(), "{body}");
    }
}

/// Every route of the API answers, and its reply is the gRPC reply of the same request:
/// compared on what identifies each reply's rows and its amounts.
#[tokio::test]
async fn every_route_answers_as_its_rpc_does() {
    let dashboard = Dashboard::start().await;
    let position = dashboard.post_history().await;
    let auditor = dashboard.token(Role::Auditor).await;
    let client = dashboard.client();
    let base = dashboard.url();
    let known_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path_of = |route: &receivables::web::Route| route.path.replace("{customerId}", ACME);
    let mut answered = BTreeSet::new();
    for route in receivables::web::ROUTES {
        let parameters = match route.method {
            "GetMetrics" => format!("month=2026-03&minPosition={position}"),
            "GetMetricsAsKnown" => format!("knownAt={known_at}&report.month=2026-03"),
            method if method.ends_with("AsKnown") => {
                format!("knownAt={known_at}")
            }
            "GetStatement" => format!("fromDate=2026-01-01&toDate={AS_OF}&minPosition={position}"),
            "ListCollectionActivities" => {
                format!("from=2026-01-01&to={AS_OF}&minPosition={position}")
            }
            "BacktestCollectionsForecast" => {
                format!("asOf=2026-03-01&weeks=4&minPosition={position}")
            }
            "GetAllowance" => format!(
                "lossRates=0.01&lossRates=0.05&lossRates=0.1&lossRates=0.2&lossRates=0.5&lossRates=1&minPosition={position}"
            ),
            _ => format!("minPosition={position}"),
        };
        let (status, body) = get(
            &client,
            format!("{base}{}?{parameters}", path_of(route)),
            Some(&auditor),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{} {}: {body}",
            route.method,
            route.path
        );
        answered.insert(route.method);
    }
    assert_eq!(answered.len(), receivables::web::ROUTES.len());

    // The replies against the RPCs' own, on the routes with rows.
    let mut queries = dashboard.queries().await;
    let exposures = queries
        .list_exposures(as_token(
            pb::ListExposuresRequest {
                min_position: position,
                ..Default::default()
            },
            &auditor,
        ))
        .await
        .expect("gRPC exposures")
        .into_inner();
    let (_, body) = get(
        &client,
        format!("{base}/api/v1/exposures?minPosition={position}"),
        Some(&auditor),
    )
    .await;
    let json: Vec<(String, String, String, bool)> = body["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                text(l, "/customerId").to_owned(),
                text(l, "/exposure/amount").to_owned(),
                text(l, "/utilisation").to_owned(),
                l["overLimit"].as_bool().expect("overLimit"),
            )
        })
        .collect();
    let grpc: Vec<(String, String, String, bool)> = exposures
        .lines
        .iter()
        .map(|l| {
            (
                l.customer_id.clone(),
                l.exposure.clone().unwrap_or_default().amount,
                l.utilisation.clone(),
                l.over_limit,
            )
        })
        .collect();
    assert_eq!(json, grpc);
    // By hand: BETA owes 1,500.00 against a 1,000.00 limit: over it, and first by utilisation.
    assert_eq!(json[0].0, BETA);
    assert!(json[0].3, "BETA is over its limit");

    let items = queries
        .list_open_items(as_token(
            pb::ListOpenItemsRequest {
                scope: Some(pb::AgingScope {
                    as_of: AS_OF.to_owned(),
                    customer_id: ACME.to_owned(),
                    ..Default::default()
                }),
                min_position: position,
                ..Default::default()
            },
            &auditor,
        ))
        .await
        .expect("gRPC open items")
        .into_inner();
    let (_, body) = get(
        &client,
        format!("{base}/api/v1/open-items?scope.asOf={AS_OF}&scope.customerId={ACME}&minPosition={position}"),
        Some(&auditor),
    )
    .await;
    let json: Vec<(String, String)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                text(i, "/invoice/invoiceNumber").to_owned(),
                text(i, "/openAmount/amount").to_owned(),
            )
        })
        .collect();
    let grpc: Vec<(String, String)> = items
        .items
        .iter()
        .map(|i| {
            (
                i.invoice.clone().unwrap_or_default().invoice_number,
                i.open_amount.clone().unwrap_or_default().amount,
            )
        })
        .collect();
    assert_eq!(json, grpc);
    let mut numbers: Vec<(String, String)> = json.clone();
    numbers.sort();
    assert_eq!(
        numbers,
        vec![
            ("A-1".to_owned(), "2000.00".to_owned()),
            ("B-1".to_owned(), "2000.00".to_owned())
        ]
    );

    let (_, body) = get(
        &client,
        format!("{base}/api/v1/promises?customerId={ACME}&asOf={AS_OF}&minPosition={position}"),
        Some(&auditor),
    )
    .await;
    let promises = body["promises"].as_array().expect("promises");
    assert_eq!(promises.len(), 1, "{body}");
    assert_eq!(text(&promises[0], "/amount/amount"), "1000.00");
    assert_eq!(text(&promises[0], "/promisedDate"), "2026-04-02");
    assert_eq!(text(&promises[0], "/status"), "PROMISE_STATUS_OPEN");

    let (_, body) = get(
        &client,
        format!("{base}/api/v1/customers/{ACME}/statement?fromDate=2026-01-01&toDate={AS_OF}"),
        Some(&auditor),
    )
    .await;
    // By hand: 3,000.00 and 2,000.00 invoiced, 1,000.00 paid: 4,000.00 at the end of March.
    assert_eq!(
        text(&body, "/currencies/0/openingBalance/amount"),
        "0.00",
        "{body}"
    );
    assert_eq!(
        text(&body, "/currencies/0/closingBalance/amount"),
        "4000.00",
        "{body}"
    );
}

/// Bad parameters are refused with 400 naming every one; no token is 401; a role the RPC does
/// not allow is 403; a subsidiary's token reads its own subsidiary only.
#[tokio::test]
async fn bad_parameters_missing_tokens_and_other_roles_are_refused_precisely() {
    let dashboard = Dashboard::start().await;
    let position = dashboard.post_history().await;
    let reporting = dashboard.token(Role::Reporting).await;
    let sub_1 = dashboard.subsidiary_token(SUB_1).await;
    let client = dashboard.client();
    let base = dashboard.url();

    // Parameters that name nothing or do not read as their field's type: all named at once.
    let (status, body) = get(
        &client,
        format!("{base}/api/v1/aging?scope.asOf={AS_OF}&groupBy=PLANET&colour=red&minPosition=-1"),
        Some(&reporting),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(text(&body, "/code"), "INVALID_ARGUMENT");
    let named: Vec<&str> = body["fieldViolations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| text(v, "/parameter"))
        .collect();
    assert_eq!(named, ["groupBy", "colour", "minPosition"], "{body}");

    // Parameters of the right type the RPC refuses: its own violations, in the JSON names.
    let (status, body) = get(
        &client,
        format!("{base}/api/v1/open-items?scope.asOf=2026-02-30&pageSize=5000"),
        Some(&reporting),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(text(&body, "/reason"), "INVALID_QUERY");
    let named: BTreeSet<&str> = body["fieldViolations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| text(v, "/parameter"))
        .collect();
    assert_eq!(named, BTreeSet::from(["scope.asOf", "pageSize"]), "{body}");

    // No token; a token that is not one; a revoked one.
    let (status, body) = get(&client, format!("{base}/api/v1/aging"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(text(&body, "/reason"), "TOKEN_MISSING");
    let response = client
        .get(format!("{base}/api/v1/aging"))
        .bearer_auth("rcv_nothing_like_a_token")
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let revoked = dashboard.token(Role::Reporting).await;
    dashboard.revoke(&revoked).await;
    let (status, body) = get(&client, format!("{base}/api/v1/aging"), Some(&revoked)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(text(&body, "/reason"), "TOKEN_REVOKED");

    // A subsidiary's token: group-wide queries are not its; its own subsidiary's aging is.
    let (status, body) = get(&client, format!("{base}/api/v1/exposures"), Some(&sub_1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(text(&body, "/code"), "PERMISSION_DENIED");
    let (status, _) = get(
        &client,
        format!("{base}/api/v1/aging?scope.asOf={AS_OF}"),
        Some(&sub_1),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an unfiltered report is the group's"
    );
    let (status, _) = get(
        &client,
        format!("{base}/api/v1/aging?scope.asOf={AS_OF}&scope.subsidiaryId={SUB_2}"),
        Some(&sub_1),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another subsidiary's report");
    let (status, body) = get(
        &client,
        format!("{base}/api/v1/aging?scope.asOf={AS_OF}&scope.subsidiaryId={SUB_1}&groupBy=customer&minPosition={position}"),
        Some(&sub_1),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // By hand: SUB-1's own documents only: ACME's A-1 (2,000.00, 31-60) and BETA's A-2.
    assert_eq!(
        json_lines(&body),
        rows(vec![
            [
                ACME, "0.00", "0.00", "2000.00", "0.00", "0.00", "0.00", "2000.00"
            ],
            [
                BETA, "0.00", "0.00", "0.00", "1500.00", "0.00", "0.00", "1500.00"
            ],
        ])
    );
}

/// The OpenAPI document the service serves is the one in `docs/openapi.json`, and it lists
/// exactly the routes served.
#[tokio::test]
async fn the_openapi_document_is_the_committed_one_and_lists_every_route() {
    let dashboard = Dashboard::start().await;
    let client = dashboard.client();
    let (status, served) = get(
        &client,
        format!("{}/api/v1/openapi.json", dashboard.url()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    if std::env::var_os("RECEIVABLES_WRITE_OPENAPI").is_some() {
        let text = serde_json::to_string_pretty(&served).expect("JSON") + "\n";
        std::fs::write(committed_path, text).expect("docs/openapi.json written");
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path).expect("docs/openapi.json"))
            .expect("docs/openapi.json is JSON");
    assert!(
        served == committed,
        "docs/openapi.json is not what the service serves: run this test with \
         RECEIVABLES_WRITE_OPENAPI=1 to write it again, and review the difference"
    );
    let paths: BTreeSet<&str> = served["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    let routes: BTreeSet<&str> = receivables::web::ROUTES.iter().map(|r| r.path).collect();
    assert_eq!(paths, routes);
    // Every parameter of the aging names a field of its request.
    let parameters: BTreeSet<&str> = served["paths"]["/api/v1/aging"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| text(p, "/name"))
        .collect();
    assert_eq!(
        parameters,
        BTreeSet::from([
            "groupBy",
            "minPosition",
            "scope.asOf",
            "scope.basis",
            "scope.bucketEdgesDays",
            "scope.currency",
            "scope.customerId",
            "scope.subsidiaryId",
        ])
    );
}

/// A login with a token opens a session whose cookie a script cannot read and another site
/// cannot send; a form without the session's CSRF token cannot log it out; a login from
/// another origin is refused; a revoked token ends the session at the next page.
#[tokio::test]
async fn sessions_are_http_only_csrf_safe_and_end_with_their_token() {
    let dashboard = Dashboard::start().await;
    dashboard.post_history().await;
    let reporting = dashboard.token(Role::Reporting).await;
    let client = dashboard.client();
    let base = dashboard.url();

    let page = client.get(format!("{base}/")).send().await.expect("page");
    assert_eq!(
        page.status(),
        StatusCode::SEE_OTHER,
        "no session: to the login form"
    );
    assert_eq!(page.headers()["location"], "/login");

    let wrong = client
        .post(format!("{base}/login"))
        .form(&[("token", "rcv_not_a_token")])
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let elsewhere = client
        .post(format!("{base}/login"))
        .header("origin", "https://evil.example")
        .form(&[("token", reporting.bearer.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);

    let login = client
        .post(format!("{base}/login"))
        .header("origin", base.clone())
        .form(&[("token", reporting.bearer.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    for attribute in [
        "__Host-receivables-session=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains(&reporting.bearer),
        "the token never goes into the cookie"
    );

    let page = client
        .get(format!("{base}/aging?as_of={AS_OF}"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    // No script may run, no other site may frame it, nothing is cached.
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("policy");
    assert!(
        policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert!(!policy.contains("script-src"), "{policy}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.expect("HTML");
    assert!(
        html.contains("5500.00"),
        "the group's open total, by hand 4,000.00 + 1,500.00"
    );
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the logout form's CSRF token")
        .to_owned();

    let forged = client
        .post(format!("{base}/logout"))
        .form(&[("csrf", "0000")])
        .send()
        .await
        .expect("logout");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let still = client.get(format!("{base}/")).send().await.expect("page");
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "a forged form did not log out"
    );

    let logout = client
        .post(format!("{base}/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let after = client.get(format!("{base}/")).send().await.expect("page");
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "logged out");

    // A new session; the token revoked; the next page asks for a login.
    let again = client
        .post(format!("{base}/login"))
        .form(&[("token", reporting.bearer.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client
            .get(format!("{base}/aging"))
            .send()
            .await
            .expect("page")
            .status(),
        StatusCode::OK
    );
    dashboard.revoke(&reporting).await;
    let revoked = client
        .get(format!("{base}/aging"))
        .send()
        .await
        .expect("page");
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    // The session is over: the next page goes to the login form.
    let after = client
        .get(format!("{base}/aging"))
        .send()
        .await
        .expect("page");
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
}

/// A table's CSV and XLSX downloads hold the page's figures: the hand-worked aging by
/// customer, read back with a CSV reader and an XLSX reader.
#[tokio::test]
async fn downloads_hold_the_figures_of_the_page() {
    let dashboard = Dashboard::start().await;
    let position = dashboard.post_history().await;
    let reporting = dashboard.token(Role::Reporting).await;
    let client = dashboard.client();
    let base = dashboard.url();
    // Wait for the read model through the API, then download.
    let (status, _) = get(
        &client,
        format!("{base}/api/v1/aging?minPosition={position}"),
        Some(&reporting),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = format!("{base}/aging?as_of={AS_OF}&group_by=customer");
    let csv_bytes = client
        .get(format!("{page}&format=csv&table=aging"))
        .bearer_auth(&reporting.bearer)
        .send()
        .await
        .expect("CSV")
        .bytes()
        .await
        .expect("CSV bytes");
    let mut reader = csv::Reader::from_reader(csv_bytes.as_ref());
    let headers: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "Group",
            "Name",
            "Currency",
            "current",
            "1-30",
            "31-60",
            "61-90",
            "91-120",
            "over 120",
            "Open",
            "Unapplied",
            "Disputed"
        ]
    );
    let csv_rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            let mut row = vec![r[0].to_owned()];
            row.extend((3..10).map(|i| r[i].to_owned()));
            row
        })
        .collect();
    assert_eq!(csv_rows, rows(expected_by_customer()));

    let response = client
        .get(format!("{page}&format=xlsx&table=aging"))
        .bearer_auth(&reporting.bearer)
        .send()
        .await
        .expect("XLSX");
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = response.bytes().await.expect("XLSX bytes");
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let sheet = workbook
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    let xlsx_rows: Vec<Vec<String>> = sheet
        .rows()
        .skip(1)
        .map(|row| {
            let mut out = vec![cell(&row[0], 0)];
            out.extend((3..10).map(|i| cell(&row[i], 2)));
            out
        })
        .collect();
    assert_eq!(xlsx_rows, rows(expected_by_customer()));
    // Amounts are numbers a spreadsheet sums, not text.
    assert!(matches!(
        sheet.rows().nth(1).expect("a row")[9],
        Data::Float(_)
    ));
}

/// A cell as text; a number at `scale` decimals.
fn cell(data: &Data, scale: usize) -> String {
    match data {
        Data::Float(number) => format!("{number:.scale$}"),
        Data::Int(number) => format!("{number}"),
        Data::String(text) => text.clone(),
        other => format!("{other:?}"),
    }
}
