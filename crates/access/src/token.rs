//! The bearer token: `rcv_<id>_<secret>`, made once, shown once, and afterwards known to the
//! service only by the SHA-256 of its secret.
//!
//! The token carries its own lookup key. `<id>` (16 lowercase hex digits, 64 random bits) is
//! public: it names the token in listings, in revocations and in the principal `token:<id>`
//! recorded in every event the token posts. `<secret>` (64 lowercase hex digits, 32 bytes from a
//! cryptographically secure generator) is what proves possession; the service stores only its
//! hash, so a copy of the token store lets nobody call the service.
//!
//! Why a fast hash is right here, when passwords need a slow one: a slow hash (Argon2, bcrypt)
//! exists to make guessing a low-entropy, human-chosen password expensive, because an attacker
//! holding the hashes can try a dictionary against them. A secret of 256 random bits has no
//! dictionary: guessing it costs 2^255 hashes on average whatever the hash costs, so a slow hash
//! would only slow down every authenticated call (the server hashes the presented secret on each
//! request) and protect nothing. SHA-256 is preimage-resistant, which is all that is needed.
//!
//! The prefix `rcv_` makes a leaked token recognisable by secret scanners and tells a person
//! what it is; the strict grammar (exact lengths, lowercase hex only) means a token is never
//! normalised, so one string is one token.

use std::fmt;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use receivables_domain::Principal;

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "rcv_";

/// Random bytes in a token id (64 bits: a name, not a secret; collisions are refused by the
/// store and are negligible at any number of tokens an organisation issues).
pub const TOKEN_ID_BYTES: usize = 8;

/// Hex digits in a token id.
pub const TOKEN_ID_HEX_LENGTH: usize = TOKEN_ID_BYTES * 2;

/// Random bytes in a secret (256 bits).
pub const SECRET_BYTES: usize = 32;

/// Hex digits in a secret.
pub const SECRET_HEX_LENGTH: usize = SECRET_BYTES * 2;

/// Bytes of a SHA-256 digest.
pub const SECRET_SHA256_BYTES: usize = 32;

/// Hex digits of a SHA-256 digest as stored.
pub const SECRET_SHA256_HEX_LENGTH: usize = SECRET_SHA256_BYTES * 2;

/// The separator between id and secret.
const SEPARATOR: u8 = b'_';

/// Length of a whole token: prefix, id, separator, secret.
pub const BEARER_LENGTH: usize = TOKEN_PREFIX.len() + TOKEN_ID_HEX_LENGTH + 1 + SECRET_HEX_LENGTH;

/// What a principal that acts through a token is called: `token:<id>`.
pub const TOKEN_PRINCIPAL_PREFIX: &str = "token:";

const HEX_ALPHABET: &str = "lowercase hex digits 0-9 and a-f";

fn is_lower_hex(byte: u8) -> bool {
    byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)
}

/// Which part of a token a complaint is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPart {
    Id,
    Secret,
}

impl fmt::Display for TokenPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenPart::Id => "id",
            TokenPart::Secret => "secret",
        })
    }
}

/// Why a string is not a token. Never quotes the string: it may be a real token, mistyped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedToken {
    #[error("the token is empty")]
    Empty,
    #[error("the token must start with {TOKEN_PREFIX:?}")]
    MissingPrefix,
    #[error("the token must be rcv_<id>_<secret>, but has no '_' after the id")]
    MissingSeparator,
    #[error("the token's {part} must be {expected} characters long, got {actual}")]
    WrongLength {
        part: TokenPart,
        expected: usize,
        actual: usize,
    },
    #[error("the token's {part} may hold only {HEX_ALPHABET}; character {position} is not one")]
    BadCharacter { part: TokenPart, position: usize },
}

/// Checks that `text` is exactly `expected` lowercase hex digits.
fn check_hex(text: &str, expected: usize, part: TokenPart) -> Result<(), MalformedToken> {
    let actual = text.chars().count();
    if actual != expected {
        return Err(MalformedToken::WrongLength {
            part,
            expected,
            actual,
        });
    }
    match text.bytes().position(|b| !is_lower_hex(b)) {
        // Counted from 1 within the part, as a person reads it.
        Some(index) => Err(MalformedToken::BadCharacter {
            part,
            position: index + 1,
        }),
        None => Ok(()),
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The thread-local generator is a CSPRNG (ChaCha, seeded and reseeded from the OS).
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// The public name of a token: 16 lowercase hex digits. Its key in the store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenId(String);

impl TokenId {
    /// A fresh random id.
    pub fn generate() -> TokenId {
        TokenId(hex::encode(random_bytes::<TOKEN_ID_BYTES>()))
    }

    /// Accepts exactly [`TOKEN_ID_HEX_LENGTH`] lowercase hex digits.
    pub fn parse(value: &str) -> Result<TokenId, MalformedToken> {
        check_hex(value, TOKEN_ID_HEX_LENGTH, TokenPart::Id)?;
        Ok(TokenId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The principal recorded in the events this token posts: `token:<id>`.
    pub fn principal(&self) -> Principal {
        // 22 printable characters: always within the principal's limits (tested below).
        Principal::parse(&format!("{TOKEN_PRINCIPAL_PREFIX}{}", self.0))
            .expect("a token principal is short and printable")
    }
}

impl TryFrom<String> for TokenId {
    type Error = MalformedToken;
    fn try_from(value: String) -> Result<TokenId, MalformedToken> {
        TokenId::parse(&value)
    }
}

impl From<TokenId> for String {
    fn from(id: TokenId) -> String {
        id.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret half of a token, as 64 lowercase hex digits. Printing it in any way shows
/// `<redacted>`; it is not serializable; the only way to its text is
/// [`Secret::expose_hex`], used to write the token once. It has no `==`: secrets are compared
/// only through their hashes, in constant time ([`SecretHash::matches`]).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A fresh secret of [`SECRET_BYTES`] random bytes.
    pub fn generate() -> Secret {
        Secret(hex::encode(random_bytes::<SECRET_BYTES>()))
    }

    /// Accepts exactly [`SECRET_HEX_LENGTH`] lowercase hex digits.
    pub fn parse(value: &str) -> Result<Secret, MalformedToken> {
        check_hex(value, SECRET_HEX_LENGTH, TokenPart::Secret)?;
        Ok(Secret(value.to_owned()))
    }

    /// The SHA-256 of the secret's text (its 64 hex digits as ASCII), which is what the store
    /// keeps. Hashing the text rather than the decoded bytes lets an operator check a stored
    /// hash with any `sha256sum`.
    pub fn sha256(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The secret's text. Only for writing a newly issued token out, once.
    pub fn expose_hex(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The SHA-256 of a secret: what the store keeps instead of the secret. Stored and serialized
/// as 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecretHash([u8; SECRET_SHA256_BYTES]);

/// Why a stored hash cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a secret's SHA-256 must be {SECRET_SHA256_HEX_LENGTH} lowercase hex digits, got {length} characters"
)]
pub struct BadSecretHash {
    pub length: usize,
}

impl SecretHash {
    /// Reads a stored hash: exactly [`SECRET_SHA256_HEX_LENGTH`] lowercase hex digits.
    pub fn parse_hex(value: &str) -> Result<SecretHash, BadSecretHash> {
        let bad = || BadSecretHash {
            length: value.chars().count(),
        };
        if value.len() != SECRET_SHA256_HEX_LENGTH || !value.bytes().all(is_lower_hex) {
            return Err(bad());
        }
        let mut bytes = [0u8; SECRET_SHA256_BYTES];
        hex::decode_to_slice(value, &mut bytes).map_err(|_| bad())?;
        Ok(SecretHash(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Whether `secret` hashes to this hash, in time that does not depend on where the two
    /// hashes differ.
    ///
    /// Comparing hashes rather than secrets already gives an attacker little to learn from
    /// timing (they cannot choose a hash's bytes), but the comparison is made constant-time
    /// anyway, so that this property does not rest on that argument.
    pub fn matches(&self, secret: &Secret) -> bool {
        constant_time_eq(&self.0, &secret.sha256().0)
    }
}

impl TryFrom<String> for SecretHash {
    type Error = BadSecretHash;
    fn try_from(value: String) -> Result<SecretHash, BadSecretHash> {
        SecretHash::parse_hex(&value)
    }
}

impl From<SecretHash> for String {
    fn from(hash: SecretHash) -> String {
        hash.to_hex()
    }
}

impl fmt::Display for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Equality of two digests that looks at every byte whatever the first difference.
fn constant_time_eq(a: &[u8; SECRET_SHA256_BYTES], b: &[u8; SECRET_SHA256_BYTES]) -> bool {
    let mut difference = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        difference |= x ^ y;
    }
    // Keeps the optimiser from turning the loop into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

/// A whole token, `rcv_<id>_<secret>`, as handed to its holder once at issue. Debug shows only
/// the id; there is no Display: [`Bearer::expose`] is the one deliberate way to its text.
#[derive(Clone)]
pub struct Bearer {
    id: TokenId,
    text: String,
}

impl Bearer {
    pub fn new(id: &TokenId, secret: &Secret) -> Bearer {
        Bearer {
            id: id.clone(),
            text: format!("{TOKEN_PREFIX}{id}_{}", secret.expose_hex()),
        }
    }

    pub fn id(&self) -> &TokenId {
        &self.id
    }

    /// The token's text, to give to its holder (and to send as `authorization: Bearer <it>`).
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bearer({TOKEN_PREFIX}{}_<redacted>)", self.id)
    }
}

/// Splits a token into its id and its secret, checking its grammar strictly: the prefix, both
/// lengths and the lowercase hex alphabet. Nothing is trimmed or case-folded.
pub fn parse_bearer(token: &str) -> Result<(TokenId, Secret), MalformedToken> {
    if token.is_empty() {
        return Err(MalformedToken::Empty);
    }
    let Some(rest) = token.strip_prefix(TOKEN_PREFIX) else {
        return Err(MalformedToken::MissingPrefix);
    };
    let Some(separator) = rest.bytes().position(|b| b == SEPARATOR) else {
        return Err(MalformedToken::MissingSeparator);
    };
    // The separator is ASCII, so both slices fall on character boundaries.
    let (id, secret) = (&rest[..separator], &rest[separator + 1..]);
    let id = TokenId::parse(id)?;
    let secret = Secret::parse(secret)?;
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "0123456789abcdef";

    fn secret_text() -> String {
        "ab".repeat(SECRET_BYTES)
    }

    #[test]
    fn a_well_formed_token_parses() {
        let text = format!("rcv_{ID}_{}", secret_text());
        assert_eq!(text.len(), BEARER_LENGTH);
        let (id, secret) = parse_bearer(&text).unwrap();
        assert_eq!(id.as_str(), ID);
        assert_eq!(secret.expose_hex(), secret_text());
    }

    #[test]
    fn malformed_tokens_say_precisely_why() {
        let secret = secret_text();
        let cases: Vec<(String, MalformedToken)> = vec![
            (String::new(), MalformedToken::Empty),
            (format!("RCV_{ID}_{secret}"), MalformedToken::MissingPrefix),
            (format!("{ID}_{secret}"), MalformedToken::MissingPrefix),
            (
                format!("rcv_{ID}{secret}"),
                MalformedToken::MissingSeparator,
            ),
            (
                format!("rcv_{}_{secret}", &ID[..15]),
                MalformedToken::WrongLength {
                    part: TokenPart::Id,
                    expected: 16,
                    actual: 15,
                },
            ),
            (
                format!("rcv_{ID}_{}", &secret[..63]),
                MalformedToken::WrongLength {
                    part: TokenPart::Secret,
                    expected: 64,
                    actual: 63,
                },
            ),
            (
                format!("rcv_{ID}_{secret}0"),
                MalformedToken::WrongLength {
                    part: TokenPart::Secret,
                    expected: 64,
                    actual: 65,
                },
            ),
            (
                format!("rcv_{ID}_{secret}_"),
                MalformedToken::WrongLength {
                    part: TokenPart::Secret,
                    expected: 64,
                    actual: 65,
                },
            ),
            (
                format!("rcv_0123456789ABCDEF_{secret}"),
                MalformedToken::BadCharacter {
                    part: TokenPart::Id,
                    position: 11,
                },
            ),
            (
                format!("rcv_{ID}_{}g", &secret[..63]),
                MalformedToken::BadCharacter {
                    part: TokenPart::Secret,
                    position: 64,
                },
            ),
            (
                format!("rcv_{ID}_{}é", &secret[..63]),
                MalformedToken::BadCharacter {
                    part: TokenPart::Secret,
                    position: 64,
                },
            ),
            (format!(" rcv_{ID}_{secret}"), MalformedToken::MissingPrefix),
            (
                format!("rcv_{ID}_{secret}\n"),
                MalformedToken::WrongLength {
                    part: TokenPart::Secret,
                    expected: 64,
                    actual: 65,
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_bearer(&text).err(), Some(expected), "{text:?}");
        }
    }

    #[test]
    fn errors_never_quote_the_token() {
        let secret = format!("{}G", &secret_text()[..63]);
        let error = parse_bearer(&format!("rcv_{ID}_{secret}")).unwrap_err();
        let shown = error.to_string();
        assert!(!shown.contains(&secret[..63]), "{shown}");
        assert_eq!(
            shown,
            "the token's secret may hold only lowercase hex digits 0-9 and a-f; character 64 is not one"
        );
    }

    #[test]
    fn secrets_and_bearers_are_never_printed() {
        let id = TokenId::generate();
        let secret = Secret::generate();
        let bearer = Bearer::new(&id, &secret);
        for shown in [
            format!("{secret:?}"),
            format!("{secret}"),
            format!("{bearer:?}"),
            format!("{:?}", (id.clone(), secret.clone())),
        ] {
            assert!(!shown.contains(secret.expose_hex()), "{shown}");
        }
        assert_eq!(
            format!("{bearer:?}"),
            format!("Bearer(rcv_{id}_<redacted>)")
        );
    }

    #[test]
    fn fresh_ids_and_secrets_are_well_formed_and_distinct() {
        let id = TokenId::generate();
        assert!(TokenId::parse(id.as_str()).is_ok());
        assert_ne!(id, TokenId::generate());
        let secret = Secret::generate();
        assert!(Secret::parse(secret.expose_hex()).is_ok());
        assert_ne!(secret.expose_hex(), Secret::generate().expose_hex());
    }

    #[test]
    fn the_principal_names_the_token() {
        let id = TokenId::parse(ID).unwrap();
        assert_eq!(id.principal().as_str(), "token:0123456789abcdef");
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_secret_text_and_matches_only_it() {
        let secret = Secret::parse(&secret_text()).unwrap();
        let hash = secret.sha256();
        assert_eq!(
            hash.to_hex(),
            hex::encode(Sha256::digest(secret_text().as_bytes()))
        );
        assert!(hash.matches(&secret));
        assert!(!hash.matches(&Secret::generate()));
        assert_eq!(SecretHash::parse_hex(&hash.to_hex()), Ok(hash));
        assert!(SecretHash::parse_hex(&hash.to_hex().to_uppercase()).is_err());
        assert!(SecretHash::parse_hex("abc").is_err());
    }

    #[test]
    fn constant_time_equality_is_equality() {
        let a = [7u8; SECRET_SHA256_BYTES];
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        for index in [0, 15, SECRET_SHA256_BYTES - 1] {
            b = a;
            b[index] ^= 1;
            assert!(!constant_time_eq(&a, &b));
        }
    }

    proptest! {
        #[test]
        fn parse_bearer_never_panics(text in any::<String>()) {
            let _ = parse_bearer(&text);
        }

        #[test]
        fn parse_bearer_never_panics_near_the_format(
            text in "(rcv_)?[0-9a-fA-F_é\\- ]{0,100}"
        ) {
            if let Ok((id, secret)) = parse_bearer(&text) {
                let bearer = Bearer::new(&id, &secret);
                prop_assert_eq!(bearer.expose(), text.as_str());
            }
        }

        #[test]
        fn issued_tokens_round_trip(_seed in any::<u64>()) {
            let id = TokenId::generate();
            let secret = Secret::generate();
            let bearer = Bearer::new(&id, &secret);
            prop_assert_eq!(bearer.expose().len(), BEARER_LENGTH);
            let (parsed_id, parsed_secret) = parse_bearer(bearer.expose()).unwrap();
            prop_assert_eq!(&parsed_id, &id);
            prop_assert!(secret.sha256().matches(&parsed_secret));
        }
    }
}
