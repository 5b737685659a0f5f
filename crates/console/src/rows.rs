//! Forms with rows: a role's rules (`action` + `effect`) and a key's grants (`role` +
//! `scope`) are edited without JavaScript as a fixed number of rows, each row repeating the
//! same field names. Rows left blank are not sent on to the use case, so its field names
//! (`permissions[1].action`: the second rule it received) count only the filled rows; this
//! module maps them back to the row on the page, so each message shows beside its row.

use roster_app::FieldError;

use crate::forms::FormFields;
use crate::render::ConsoleError;

/// The rows of a form as sent, and which of them were filled in.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    /// Every row as sent, blank ones included: the form is shown back as typed.
    pub sent: Vec<T>,
    /// For each row the use case receives, its index in `sent`.
    filled: Vec<usize>,
}

impl<T> Rows<T> {
    /// The rows `sent`, of which those `is_blank` says are blank are left out.
    pub fn new(sent: Vec<T>, is_blank: impl Fn(&T) -> bool) -> Rows<T> {
        let filled = sent
            .iter()
            .enumerate()
            .filter(|(_, row)| !is_blank(row))
            .map(|(index, _)| index)
            .collect();
        Rows { sent, filled }
    }

    /// The filled rows, in page order: what the use case receives.
    pub fn filled(&self) -> impl Iterator<Item = &T> {
        self.filled.iter().map(|&index| &self.sent[index])
    }

    /// The use case's `errors` with each `{list}[i]...` field (the i-th filled row) renamed
    /// to `{list}[j]...`, `j` being that row's index on the page, and its message prefixed
    /// with the row as people count it ("Rule 3: ..."), so the summary says which row is
    /// meant. Other fields pass unchanged.
    pub fn errors_on_page(
        &self,
        list: &str,
        noun: &str,
        errors: Vec<FieldError>,
    ) -> Vec<FieldError> {
        errors
            .into_iter()
            .map(|error| match self.page_field(list, &error.field) {
                Some((index, field)) => FieldError {
                    field,
                    message: format!("{noun} {}: {}", index + 1, error.message),
                    ..error
                },
                None => error,
            })
            .collect()
    }

    /// `{list}[i]{rest}` as (the page index, `{list}[j]{rest}`) when `i` names a filled row.
    fn page_field(&self, list: &str, field: &str) -> Option<(usize, String)> {
        let (index, rest) = field
            .strip_prefix(list)?
            .strip_prefix('[')?
            .split_once(']')?;
        let on_page = *self.filled.get(index.parse::<usize>().ok()?)?;
        Some((on_page, format!("{list}[{on_page}]{rest}")))
    }
}

/// The values of two repeated fields read side by side: the i-th `first` and the i-th
/// `second` make row i. A form of this console always sends both for every row; a form that
/// does not is not one of ours.
pub fn pairs(
    raw: &FormFields,
    first: &str,
    second: &str,
) -> Result<Vec<(String, String)>, ConsoleError> {
    let firsts: Vec<&str> = raw.all(first).collect();
    let seconds: Vec<&str> = raw.all(second).collect();
    if firsts.len() != seconds.len() {
        return Err(ConsoleError::BadForm(
            "The form's rows are incomplete. Reload the page and try again.",
        ));
    }
    Ok(firsts
        .into_iter()
        .zip(seconds)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Rows<&'static str> {
        // Rows 0 and 2 are blank: the use case sees rows 1, 3 and 4 as its 0, 1 and 2.
        Rows::new(vec!["", "a", " ", "b", "c"], |row| row.trim().is_empty())
    }

    fn error(field: &str) -> FieldError {
        FieldError::new(field, "invalid_action", "action is empty")
    }

    #[test]
    fn blank_rows_are_not_sent_on() {
        assert_eq!(
            rows().filled().copied().collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(rows().sent.len(), 5);
    }

    #[test]
    fn errors_are_moved_to_the_row_on_the_page() {
        let moved = rows().errors_on_page(
            "permissions",
            "Rule",
            vec![
                error("permissions[0].action"),
                error("permissions[1].effect"),
                error("permissions[2]"),
                error("permissions"),
                error("name"),
                // Not a row the use case received, or not a row at all: left alone.
                error("permissions[3].action"),
                error("permissions[x].action"),
                error("grants[0].role"),
            ],
        );
        let fields: Vec<&str> = moved.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "permissions[1].action",
                "permissions[3].effect",
                "permissions[4]",
                "permissions",
                "name",
                "permissions[3].action",
                "permissions[x].action",
                "grants[0].role",
            ]
        );
        assert_eq!(moved[0].message, "Rule 2: action is empty");
        assert_eq!(moved[2].message, "Rule 5: action is empty");
        assert_eq!(moved[3].message, "action is empty");
        assert_eq!(moved[0].code, "invalid_action");
    }

    #[test]
    fn repeated_fields_pair_up_in_order() {
        let raw = FormFields::from_pairs(&[
            ("csrf_token", "t"),
            ("role", "viewer"),
            ("scope", "acme"),
            ("role", ""),
            ("scope", ""),
            ("role", "ops"),
            ("scope", "*"),
        ]);
        let pairs = pairs(&raw, "role", "scope").unwrap();
        assert_eq!(
            pairs,
            [
                ("viewer".to_owned(), "acme".to_owned()),
                (String::new(), String::new()),
                ("ops".to_owned(), "*".to_owned()),
            ]
        );
        let lopsided =
            FormFields::from_pairs(&[("role", "viewer"), ("role", "ops"), ("scope", "*")]);
        assert!(matches!(
            super::pairs(&lopsided, "role", "scope"),
            Err(ConsoleError::BadForm(_))
        ));
    }
}
