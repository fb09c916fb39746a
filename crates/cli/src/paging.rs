//! Following `next_page_token` until a list ends or enough rows have arrived.

use std::future::Future;

use crate::error::CliError;

/// The largest page the query service serves (its `page_size` is 1 to 1000).
pub const PAGE_SIZE_MAX: u32 = 1_000;

/// The most pages one listing follows: a service whose tokens never ran out would otherwise
/// keep the client busy forever (10,000 pages of 1,000 rows is far beyond any report).
pub const PAGES_MAX: usize = 10_000;

/// Fetches pages with `fetch(page_size, page_token)` (which answers the page's rows and the
/// next token) until the token is empty or `limit` rows have arrived; returns at most `limit`
/// rows (every row when `limit` is `None`).
pub async fn collect<T, F, Fut>(limit: Option<usize>, mut fetch: F) -> Result<Vec<T>, CliError>
where
    F: FnMut(u32, String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), CliError>>,
{
    let mut rows = Vec::new();
    let mut token = String::new();
    for _ in 0..PAGES_MAX {
        let wanted = limit.map_or(PAGE_SIZE_MAX, |limit| {
            u32::try_from(limit.saturating_sub(rows.len()))
                .unwrap_or(PAGE_SIZE_MAX)
                .min(PAGE_SIZE_MAX)
        });
        if wanted == 0 {
            break;
        }
        let (page, next) = fetch(wanted, token).await?;
        rows.extend(page);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    if let Some(limit) = limit {
        rows.truncate(limit);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A list of 25 numbers served `size` at a time, the token being the next offset.
    async fn page(size: u32, token: String) -> Result<(Vec<u32>, String), CliError> {
        let start: u32 = if token.is_empty() {
            0
        } else {
            token.parse().unwrap()
        };
        let end = (start + size).min(25);
        let next = if end == 25 {
            String::new()
        } else {
            end.to_string()
        };
        Ok(((start..end).collect(), next))
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_limit_or_the_end() {
        assert_eq!(collect(None, page).await.unwrap().len(), 25);
        assert_eq!(
            collect(Some(7), page).await.unwrap(),
            (0..7).collect::<Vec<_>>()
        );
        assert_eq!(collect(Some(100), page).await.unwrap().len(), 25);
    }
}
