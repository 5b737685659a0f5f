//! Scope paths: where in the organization tree a grant applies or an action is checked.

use std::fmt;
use std::str::FromStr;

use crate::grammar::{IdentProblem, check_ident, is_name_char};

/// The most segments a scope path may have.
pub const MAX_SCOPE_DEPTH: usize = 8;
/// The longest segment, in characters.
pub const MAX_SEGMENT_LENGTH: usize = 63;

const WILDCARD: &str = "*";

/// A scope: the global root `*`, or a dot path of 1 to 8 segments such as `acme`
/// (organization), `acme.berlin` (tenant) or `acme.berlin.issuer` (service).
///
/// Each segment is `[a-z0-9][a-z0-9_-]{0,62}`; any segment but the first may instead be `*`,
/// meaning "any one segment". A path without `*` segment is *concrete*
/// ([`ScopePath::is_concrete`]); checks are made against concrete targets, wildcards belong
/// in grants.
///
/// ```
/// use roster_domain::ScopePath;
///
/// let tenant = ScopePath::parse("acme.berlin")?;
/// assert!(tenant.covers(&ScopePath::parse("acme.berlin.issuer")?));
/// assert!(!tenant.covers(&ScopePath::parse("acme")?));          // never a parent
/// assert!(!tenant.covers(&ScopePath::parse("acme.paris")?));    // never a sibling
///
/// let every_issuer = ScopePath::parse("acme.*.issuer")?;
/// assert!(every_issuer.covers(&ScopePath::parse("acme.paris.issuer.v2")?));
///
/// assert!(ScopePath::root().covers(&tenant));
/// assert_eq!(ScopePath::parse("*")?, ScopePath::root());
/// assert_eq!(every_issuer.to_string(), "acme.*.issuer");
/// # Ok::<(), roster_domain::ScopeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopePath {
    /// Empty for the root; otherwise 1..=8 segments, each a name or `*` (never the first).
    segments: Vec<String>,
}

/// What is wrong with one segment of a scope path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentProblem {
    /// Longer than [`MAX_SEGMENT_LENGTH`] characters.
    #[error("is longer than {max} characters")]
    TooLong {
        /// [`MAX_SEGMENT_LENGTH`].
        max: usize,
    },
    /// Does not start with a lower-case ASCII letter or digit.
    #[error("must start with a lower-case letter or a digit")]
    InvalidFirstCharacter,
    /// Has a character other than `a-z`, `0-9`, `_`, `-` at this zero-based position
    /// within the segment (a `*` must be a whole segment).
    #[error(
        "contains an invalid character at position {position} (allowed: a-z, 0-9, '_', '-', or '*' as a whole segment)"
    )]
    InvalidCharacter {
        /// Zero-based character position within the segment.
        position: usize,
    },
}

/// Why a scope path is refused. Messages name the problem and never echo the input.
///
/// Segment indexes are zero-based in the fields; messages count from 1 ("segment 2").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// The input is empty (the global root is written `*`).
    #[error("scope is empty (the global scope is written '*')")]
    Empty,
    /// More than [`MAX_SCOPE_DEPTH`] segments.
    #[error("scope has more than {max} segments")]
    TooDeep {
        /// [`MAX_SCOPE_DEPTH`].
        max: usize,
    },
    /// A segment breaks the segment grammar.
    #[error("scope segment {} {reason}", .index + 1)]
    InvalidSegment {
        /// Zero-based index of the segment.
        index: usize,
        /// What is wrong with it.
        reason: SegmentProblem,
    },
    /// The first segment is `*` in a multi-segment path (`*.acme`); the organization must be
    /// named, and `*` alone is the global root.
    #[error("the first scope segment cannot be '*' ('*' alone is the global scope)")]
    WildcardFirstSegment,
    /// Two dots in a row, or a leading or trailing dot.
    #[error("scope segment {} is empty (leading, trailing or doubled '.')", .index + 1)]
    EmptySegment {
        /// Zero-based index of the empty segment.
        index: usize,
    },
}

impl ScopeError {
    /// The stable machine-readable code: always `"invalid_scope"`.
    pub fn code(&self) -> &'static str {
        "invalid_scope"
    }
}

impl ScopePath {
    /// The global root `*`, which covers every scope and global resources such as accounts.
    pub fn root() -> ScopePath {
        ScopePath {
            segments: Vec::new(),
        }
    }

    /// Parses `*` or a dot path.
    ///
    /// ```
    /// use roster_domain::{ScopeError, ScopePath};
    ///
    /// assert_eq!(ScopePath::parse("acme..x"), Err(ScopeError::EmptySegment { index: 1 }));
    /// assert_eq!(ScopePath::parse("*.acme"), Err(ScopeError::WildcardFirstSegment));
    /// assert_eq!(ScopePath::parse("a.b.c.d.e.f.g.h.i"), Err(ScopeError::TooDeep { max: 8 }));
    /// assert!(ScopePath::parse("acme.*").is_ok());
    /// ```
    pub fn parse(input: &str) -> Result<ScopePath, ScopeError> {
        if input.is_empty() {
            return Err(ScopeError::Empty);
        }
        if input == WILDCARD {
            return Ok(ScopePath::root());
        }
        let mut segments = Vec::new();
        for (index, segment) in input.split('.').enumerate() {
            if index >= MAX_SCOPE_DEPTH {
                return Err(ScopeError::TooDeep {
                    max: MAX_SCOPE_DEPTH,
                });
            }
            if segment.is_empty() {
                return Err(ScopeError::EmptySegment { index });
            }
            if segment == WILDCARD {
                if index == 0 {
                    return Err(ScopeError::WildcardFirstSegment);
                }
            } else {
                check_ident(segment, MAX_SEGMENT_LENGTH, is_name_char).map_err(|problem| {
                    let reason = match problem {
                        // Unreachable: empty segments are handled above.
                        IdentProblem::Empty | IdentProblem::InvalidFirst => {
                            SegmentProblem::InvalidFirstCharacter
                        }
                        IdentProblem::TooLong => SegmentProblem::TooLong {
                            max: MAX_SEGMENT_LENGTH,
                        },
                        IdentProblem::InvalidChar { position } => {
                            SegmentProblem::InvalidCharacter { position }
                        }
                    };
                    ScopeError::InvalidSegment { index, reason }
                })?;
            }
            segments.push(segment.to_owned());
        }
        Ok(ScopePath { segments })
    }

    /// Whether this is the global root `*`.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// Whether no segment is `*` (the root counts as concrete: it is a single, named place).
    pub fn is_concrete(&self) -> bool {
        self.segments.iter().all(|s| s != WILDCARD)
    }

    /// The number of segments: 0 for the root, 1 for an organization, and so on.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// The segments in order (`*` for a wildcard segment); empty for the root.
    ///
    /// ```
    /// let scope = roster_domain::ScopePath::parse("acme.*.issuer")?;
    /// assert_eq!(scope.segments().collect::<Vec<_>>(), ["acme", "*", "issuer"]);
    /// assert_eq!(roster_domain::ScopePath::root().segments().count(), 0);
    /// # Ok::<(), roster_domain::ScopeError>(())
    /// ```
    pub fn segments(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + '_ {
        self.segments.iter().map(String::as_str)
    }

    /// The parent scope: `acme` for `acme.berlin`, the root for `acme`, `None` for the root.
    pub fn parent(&self) -> Option<ScopePath> {
        if self.is_root() {
            return None;
        }
        let mut segments = self.segments.clone();
        segments.pop();
        Some(ScopePath { segments })
    }

    /// Whether a grant on `self` reaches `target`.
    ///
    /// The root covers everything. Otherwise `self` covers `target` when `self` is a
    /// segment-wise prefix of `target` (so a scope covers itself and everything beneath it,
    /// never a parent or a sibling), where a `*` segment in `self` matches any one segment.
    ///
    /// Targets are expected to be concrete. Should a target contain a `*` segment, that
    /// segment is matched only by a `*` in `self`: `acme.*` covers `acme.*`, but `acme.berlin`
    /// does not, since `acme.*` names more than `acme.berlin` reaches.
    ///
    /// ```
    /// use roster_domain::ScopePath;
    ///
    /// let parse = |s| ScopePath::parse(s).unwrap();
    /// assert!(parse("*").covers(&parse("acme")));
    /// assert!(!parse("acme").covers(&parse("*")));
    /// assert!(parse("acme.*").covers(&parse("acme.berlin.dev")));
    /// assert!(!parse("acme.*").covers(&parse("acme")));
    /// ```
    pub fn covers(&self, target: &ScopePath) -> bool {
        self.segments.len() <= target.segments.len()
            && self
                .segments
                .iter()
                .zip(&target.segments)
                .all(|(mine, theirs)| mine == WILDCARD || mine == theirs)
    }
}

impl Default for ScopePath {
    /// The global root.
    fn default() -> Self {
        ScopePath::root()
    }
}

/// `*` for the root, otherwise the dot path; [`ScopePath::parse`] reads it back.
impl fmt::Display for ScopePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(WILDCARD);
        }
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(segment)?;
        }
        Ok(())
    }
}

impl FromStr for ScopePath {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScopePath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> ScopePath {
        ScopePath::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn valid_scopes_round_trip() {
        let segment63 = "a".repeat(63);
        let long = format!("{segment63}.b");
        for input in [
            "*",
            "acme",
            "acme.berlin",
            "acme.berlin.dev",
            "acme.berlin.issuer",
            "acme.*",
            "acme.*.issuer",
            "acme.*.*",
            "a.b.c.d.e.f.g.h",
            "0.1-2.x_y",
            "a-",
            long.as_str(),
        ] {
            let parsed = scope(input);
            assert_eq!(parsed.to_string(), input);
            assert_eq!(input.parse::<ScopePath>().unwrap(), parsed);
        }
    }

    #[test]
    fn invalid_scopes() {
        let segment64 = "a".repeat(64);
        let too_long_segment = format!("acme.{segment64}");
        let invalid = |index, reason| ScopeError::InvalidSegment { index, reason };
        let cases: &[(&str, ScopeError)] = &[
            ("", ScopeError::Empty),
            ("a.b.c.d.e.f.g.h.i", ScopeError::TooDeep { max: 8 }),
            ("*.acme", ScopeError::WildcardFirstSegment),
            ("acme..x", ScopeError::EmptySegment { index: 1 }),
            (".acme", ScopeError::EmptySegment { index: 0 }),
            ("acme.", ScopeError::EmptySegment { index: 1 }),
            ("**", invalid(0, SegmentProblem::InvalidFirstCharacter)),
            ("Acme", invalid(0, SegmentProblem::InvalidFirstCharacter)),
            (
                "acme.Berlin",
                invalid(1, SegmentProblem::InvalidFirstCharacter),
            ),
            (
                "acme.berLin",
                invalid(1, SegmentProblem::InvalidCharacter { position: 3 }),
            ),
            (
                "acme.ber*",
                invalid(1, SegmentProblem::InvalidCharacter { position: 3 }),
            ),
            ("acme.-x", invalid(1, SegmentProblem::InvalidFirstCharacter)),
            ("acme._x", invalid(1, SegmentProblem::InvalidFirstCharacter)),
            (
                "acme:berlin",
                invalid(0, SegmentProblem::InvalidCharacter { position: 4 }),
            ),
            (
                "acme/berlin",
                invalid(0, SegmentProblem::InvalidCharacter { position: 4 }),
            ),
            (" acme", invalid(0, SegmentProblem::InvalidFirstCharacter)),
            (
                "acme ",
                invalid(0, SegmentProblem::InvalidCharacter { position: 4 }),
            ),
            (
                &too_long_segment,
                invalid(1, SegmentProblem::TooLong { max: 63 }),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(ScopePath::parse(input).as_ref(), Err(expected), "{input:?}");
            assert_eq!(expected.code(), "invalid_scope");
        }
    }

    #[test]
    fn error_messages_name_the_problem() {
        let message = |s| ScopePath::parse(s).unwrap_err().to_string();
        assert_eq!(
            message("acme..x"),
            "scope segment 2 is empty (leading, trailing or doubled '.')"
        );
        assert_eq!(
            message("a.b.c.d.e.f.g.h.i"),
            "scope has more than 8 segments"
        );
        assert_eq!(
            message("acme.Berlin"),
            "scope segment 2 must start with a lower-case letter or a digit"
        );
        assert!(message("*.acme").contains("first scope segment cannot be '*'"));
        assert!(message("").contains("empty"));
        assert!(!message("acme.s\u{1b}cret").contains("cret"));
    }

    #[test]
    fn accessors() {
        let root = ScopePath::root();
        assert!(root.is_root() && root.is_concrete());
        assert_eq!(root.depth(), 0);
        assert_eq!(root.to_string(), "*");
        assert_eq!(root.parent(), None);
        assert_eq!(ScopePath::default(), root);

        let wild = scope("acme.*.issuer");
        assert!(!wild.is_root() && !wild.is_concrete());
        assert_eq!(wild.depth(), 3);
        assert_eq!(wild.segments().collect::<Vec<_>>(), ["acme", "*", "issuer"]);

        let tenant = scope("acme.berlin");
        assert!(tenant.is_concrete());
        assert_eq!(tenant.parent(), Some(scope("acme")));
        assert_eq!(scope("acme").parent(), Some(root));
    }

    #[test]
    fn coverage() {
        let rows = [
            // (grant scope, target, covers)
            ("*", "*", true),
            ("*", "acme", true),
            ("*", "acme.berlin.dev", true),
            ("acme", "*", false),
            ("acme", "acme", true),
            ("acme", "acme.berlin", true),
            ("acme", "acme.berlin.dev.x.y.z.w.v", true),
            ("acme", "acmecorp", false),
            ("acme", "other", false),
            ("acme.berlin", "acme", false),
            ("acme.berlin", "acme.paris", false),
            ("acme.berlin", "acme.berlin.dev", true),
            ("acme.berlin.dev", "acme.berlin", false),
            ("acme.*", "acme", false),
            ("acme.*", "acme.berlin", true),
            ("acme.*", "acme.berlin.dev", true),
            ("acme.*", "other.berlin", false),
            ("acme.*.issuer", "acme.berlin.issuer", true),
            ("acme.*.issuer", "acme.paris.issuer.keys", true),
            ("acme.*.issuer", "acme.berlin.dev", false),
            ("acme.*.issuer", "acme.berlin", false),
            // Wildcards in the target are matched only by wildcards.
            ("acme.*", "acme.*", true),
            ("acme.*", "acme.*.issuer", true),
            ("acme.berlin", "acme.*", false),
            ("acme", "acme.*", true),
        ];
        for (grant, target, expected) in rows {
            assert_eq!(
                scope(grant).covers(&scope(target)),
                expected,
                "{grant} covers {target}"
            );
        }
    }
}
