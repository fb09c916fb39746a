//! The frame every page shares (the navigation, who is logged in, the logout form), the login
//! form and the page of a failure. The style sheet is inline: nothing is loaded from
//! elsewhere, and a page saved to disk still reads.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::failure::Failure;

/// Who is looking, as the frame shows it.
pub struct Frame {
    pub principal: String,
    /// The subsidiary a subsidiary's token is confined to.
    pub subsidiary: Option<String>,
    pub csrf: String,
    pub in_session: bool,
    /// Seconds after which the page loads itself again (`?refresh=N`), for a wall screen;
    /// no script: the browser's own refresh.
    pub refresh: Option<u32>,
}

/// The shortest and the longest refresh a page takes; outside them none.
pub const REFRESH_SECS_MIN: u32 = 10;
pub const REFRESH_SECS_MAX: u32 = 3600;

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
header { background: #17324d; color: #fff; padding: .6rem 1.2rem; display: flex; gap: 1.2rem; align-items: center; flex-wrap: wrap; }
header a { color: #fff; text-decoration: none; }
header a:hover { text-decoration: underline; }
header .who { margin-left: auto; font-size: .85rem; opacity: .9; }
header form { display: inline; }
main { padding: 1rem 1.2rem; max-width: 1400px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-bottom: .3rem; }
table.data { border-collapse: collapse; background: #fff; font-size: .85rem; }
table.data th, table.data td { border: 1px solid #d9d9d9; padding: .25rem .5rem; text-align: left; }
table.data th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.breach td { background: #fdecea; }
p.exports { font-size: .8rem; margin: .2rem 0 .4rem; }
form.options { display: flex; gap: .8rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
form.options label { display: flex; flex-direction: column; font-size: .8rem; }
figure.chart figcaption { font-size: .85rem; padding: .3rem .5rem; }
figure.chart { margin: 0 0 1rem; max-width: 960px; background: #fff; border: 1px solid #d9d9d9; }
.failure { background: #fdecea; border: 1px solid #e53935; padding: .8rem; }
.note { color: #555; font-size: .85rem; }
section.login { max-width: 28rem; margin: 4rem auto; background: #fff; padding: 1.5rem; border: 1px solid #d9d9d9; }
section.login input[type=password] { width: 100%; }
"#;

fn head(title: &str, refresh: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            @if let Some(seconds) = refresh { meta http-equiv="refresh" content=(seconds); }
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Receivables" }
            style { (PreEscaped(STYLE)) }
        }
    }
}

/// A page of the dashboard in its frame.
pub fn page(frame: &Frame, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, frame.refresh))
            body {
                header {
                    strong { "Receivables" }
                    nav {
                        a href="/" { "Overview" } " · "
                        a href="/aging" { "Aging" } " · "
                        a href="/exposure" { "Credit exposure" } " · "
                        a href="/work-queue" { "Work queue" } " · "
                        a href="/promises" { "Promises" } " · "
                        a href="/receipts" { "Receipts" } " · "
                        a href="/audit" { "Audit" }
                    }
                    form method="get" action="/customer" {
                        input type="search" name="customer" placeholder="Customer id" aria-label="Customer id";
                    }
                    span.who {
                        (frame.principal)
                        @if let Some(subsidiary) = &frame.subsidiary { " · subsidiary " (subsidiary) }
                        @if frame.in_session {
                            " "
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(frame.csrf);
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The login form; `open` when the listener takes no tokens (nothing to log in to).
pub fn login(open: bool, message: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Log in", None))
            body {
                section.login {
                    h1 { "Receivables" }
                    @if open {
                        p { "This service runs without tokens (--insecure): there is nothing to log in to." }
                        p { a href="/" { "Open the dashboard" } }
                    } @else {
                        @if let Some(message) = message { p.failure role="alert" { (message) } }
                        form method="post" action="/login" {
                            p {
                                label for="token" { "Token" } br;
                                input #token type="password" name="token" autocomplete="off" required;
                            }
                            p.note { "The token a Receivables administrator gave you (receivables tokens create). It stays on the server; the browser keeps only a session cookie." }
                            button type="submit" { "Log in" }
                        }
                    }
                }
            }
        }
    }
}

/// A page that could not be answered, in the frame.
pub fn failure(frame: &Frame, failure: &Failure) -> Markup {
    let title = match failure.status.as_u16() {
        403 => "Not for your role",
        400 => "Check the options",
        404 => "Not found",
        _ => "Not answered",
    };
    page(
        frame,
        title,
        html! {
            div.failure role="alert" {
                p { strong { (failure.code) } @if let Some(reason) = &failure.reason { " · " (reason) } }
                p { (failure.message) }
                @if !failure.fields.is_empty() {
                    ul { @for field in &failure.fields { li { code { (field.parameter) } ": " (field.description) } } }
                }
            }
        },
    )
}
