//! Bearer tokens for the receivables service: what a token is, what is stored of it, where it
//! is stored, and how a request's `authorization` header becomes an authenticated principal with
//! a [`Role`](receivables_domain::access::Role).
//!
//! - [`token`]: the format `rcv_<id>_<secret>`, its strict parser, and the secret's hash;
//! - [`record`]: the stored record and [`issue`], which makes a token and its record;
//! - [`store`]: the [`TokenStore`] trait the server holds as `Arc<dyn TokenStore>`;
//! - [`sqlite`] and [`nats`]: its two backends, an SQLite file and a JetStream key-value bucket;
//! - [`authenticate`](mod@authenticate): the check run on every request.
//!
//! What the policy allows a role to do is not here: it is a pure function in the domain
//! (`receivables_domain::access`). This crate only establishes who is calling.

pub mod authenticate;
pub mod nats;
pub mod record;
pub mod sqlite;
pub mod store;
pub mod token;

pub use authenticate::{
    AuthError, Authenticated, MalformedHeader, authenticate, parse_authorization,
};
pub use nats::{KvTokenConfig, KvTokenStore};
pub use record::{IssueError, TokenLabel, TokenRecord, TokenStatus, issue};
pub use sqlite::SqliteTokenStore;
pub use store::{StoreError, TokenStore};
pub use token::{Bearer, MalformedToken, Secret, SecretHash, TokenId, parse_bearer};
