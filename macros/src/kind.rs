//! Which of the two attributes is being expanded.
//!
//! `#[magpie::main]` and `#[magpie::test]` share their arguments, their checks and most of their
//! expansion; [`Kind`] carries the few differences (the `#[test]` marker, the wording of errors).

use std::fmt;

/// The attribute being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[magpie::main]`: the program's entry point (or any function that runs a whole runtime).
    Main,
    /// `#[magpie::test]`: a test function; the expansion carries `#[test]`.
    Test,
}

impl fmt::Display for Kind {
    /// Writes the attribute's name as the user spells it after `magpie::`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Kind::Main => "main",
            Kind::Test => "test",
        })
    }
}
