//! What is wrong with a statement file: every problem found, each with its line and field, so
//! that whoever fixes the file (or the layout) sees all of it at once, not one at a time.

use std::fmt;

use crate::limits::PROBLEMS_MAX;

/// One thing wrong with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line of the file, where one applies (not for "the file is too large").
    pub line: Option<usize>,
    /// Where in the record: a camt.053 path such as `Ntry[3]/Amt`, an MT940 tag such as `:61:`,
    /// a CSV column's header name, or `file` for the file as a whole.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// Why a statement file was refused: every problem found, up to [`PROBLEMS_MAX`]. Nothing of a
/// refused file is returned, so that a half-read statement is never taken for a whole one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.problems))]
pub struct StatementError {
    pub problems: Vec<Problem>,
}

fn describe(problems: &[Problem]) -> String {
    let mut text = match problems.len() {
        1 => "the statement file has a problem".to_owned(),
        n if n >= PROBLEMS_MAX => {
            format!("the statement file has at least {n} problems (reading stopped there)")
        }
        n => format!("the statement file has {n} problems"),
    };
    for problem in problems {
        text.push_str("; ");
        text.push_str(&problem.to_string());
    }
    text
}

/// The problems found so far while reading one file.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    /// Notes a problem; past [`PROBLEMS_MAX`] it is dropped, and the readers stop at their next
    /// check of [`Problems::is_full`].
    pub(crate) fn report(
        &mut self,
        line: Option<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        if self.is_full() {
            return;
        }
        self.list.push(Problem {
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    /// A problem at a line of the file.
    pub(crate) fn at(&mut self, line: usize, field: impl Into<String>, message: impl Into<String>) {
        self.report(Some(line), field, message);
    }

    pub(crate) fn is_full(&self) -> bool {
        self.list.len() >= PROBLEMS_MAX
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn into_error(self) -> StatementError {
        StatementError {
            problems: self.list,
        }
    }
}
