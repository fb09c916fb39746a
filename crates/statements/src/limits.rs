//! Every limit of the statement reader, in one place. A statement file comes from outside (a
//! bank's portal, a payment platform's export, a customer's e-mail), so each limit is there to
//! keep a wrong or hostile file from costing more than a real one ever would.

/// The largest file read, checked before anything else. A month of a busy account is a few
/// megabytes in any of the formats; 32 MiB leaves room for a year of one, and refuses a file
/// that would only be big to exhaust memory (the XML tree and the decoded text are a few times
/// the size of the bytes).
pub const STATEMENT_BYTES_MAX: usize = 32 * 1024 * 1024;

/// The most transactions (camt.053 entries or their parts, MT940 `:61:` fields, CSV data rows)
/// in one file. Some 6,500 a day for a month; a file with more is not one account's statement.
pub const STATEMENT_LINES_MAX: usize = 200_000;

/// The longest text kept for a payer name, a payer account, a reference or a bank id, in
/// characters. camt.053 allows 140 characters for a name and for each of its remittance lines,
/// MT940 six lines of 65 for `:86:`; a longer field is refused, not cut, so that nothing a bank
/// wrote is silently lost from the text a payment is matched by.
pub const TEXT_FIELD_CHARS_MAX: usize = 1_000;

/// The most problems reported for one file. Past this, a file is wrong throughout (a wrong
/// layout, a wrong format) and more of the same helps nobody; the reader stops.
pub const PROBLEMS_MAX: usize = 100;

/// The deepest element nesting read in a camt.053 file. The deepest path the standard defines
/// (`Document/BkToCstmrStmt/Stmt/Ntry/NtryDtls/TxDtls/RltdPties/Dbtr/Pty/Id/OrgId/Othr/SchmeNm/Cd`)
/// is 14 levels; 32 allows banks' extensions and refuses a nesting attack before the tree grows.
pub const XML_DEPTH_MAX: usize = 32;
