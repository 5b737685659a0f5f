//! Shared checks for the small ASCII identifier grammars (actions, role names, scope
//! segments): `[a-z0-9][<rest>]{0,max-1}`.

/// What is wrong with an identifier, before each caller maps it into its own error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentProblem {
    Empty,
    /// More than the allowed number of characters.
    TooLong,
    /// The first character is not `[a-z0-9]`.
    InvalidFirst,
    /// The character at this zero-based character position is not allowed.
    InvalidChar {
        position: usize,
    },
}

/// `[a-z0-9]`: the first character of every identifier.
pub(crate) fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9_-]`: role names and scope segments.
pub(crate) fn is_name_char(c: char) -> bool {
    is_lower_alnum(c) || c == '_' || c == '-'
}

/// `[a-z0-9:._-]`: actions.
pub(crate) fn is_action_char(c: char) -> bool {
    is_name_char(c) || c == ':' || c == '.'
}

/// Checks `input` against `[a-z0-9][rest]{0,max-1}`.
///
/// Invalid characters are reported before length so that the message points at the real
/// problem; the length counts characters, which for a valid identifier are bytes.
pub(crate) fn check_ident(
    input: &str,
    max: usize,
    rest: fn(char) -> bool,
) -> Result<(), IdentProblem> {
    let mut chars = input.chars();
    let Some(first) = chars.next() else {
        return Err(IdentProblem::Empty);
    };
    if !is_lower_alnum(first) {
        return Err(IdentProblem::InvalidFirst);
    }
    if let Some(position) = chars.position(|c| !rest(c)) {
        return Err(IdentProblem::InvalidChar {
            position: position + 1,
        });
    }
    if input.len() > max {
        return Err(IdentProblem::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(check_ident("", 4, is_name_char), Err(IdentProblem::Empty));
        assert_eq!(check_ident("abcd", 4, is_name_char), Ok(()));
        assert_eq!(
            check_ident("abcde", 4, is_name_char),
            Err(IdentProblem::TooLong)
        );
        assert_eq!(
            check_ident("-ab", 4, is_name_char),
            Err(IdentProblem::InvalidFirst)
        );
        assert_eq!(
            check_ident("aB", 4, is_name_char),
            Err(IdentProblem::InvalidChar { position: 1 })
        );
        assert_eq!(
            check_ident("a.b", 4, is_name_char),
            Err(IdentProblem::InvalidChar { position: 1 })
        );
        assert_eq!(check_ident("a.b:c", 8, is_action_char), Ok(()));
        assert_eq!(
            check_ident("aé", 8, is_action_char),
            Err(IdentProblem::InvalidChar { position: 1 })
        );
    }
}
