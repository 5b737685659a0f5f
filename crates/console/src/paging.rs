//! Lists a page at a time, like the API: `?cursor=` (where the previous page ended) and
//! `?limit=` (1 to [`MAX_LIMIT`] rows, [`DEFAULT_LIMIT`] when not given; an empty value, as a
//! GET form sends it, counts as not given). A link the console did not make (a limit out of
//! range or not a number, a cursor that is not one the list handed out) is answered as the
//! API answers it, 400, with a "Link not understood" page naming the parameter: never
//! clamped or guessed at, so a page never shows something other than what its link says.

use serde::Deserialize;

use crate::render::{ConsoleError, encode_component};

/// Rows on a page when the link does not say (the API's default).
pub const DEFAULT_LIMIT: u32 = 50;
/// The most rows a page shows (the API's maximum).
pub const MAX_LIMIT: u32 = 200;

const BAD_LIMIT: &str = "The link's limit is not understood: a page shows between 1 and 200 \
    rows. Start again from the list's first page.";
const BAD_CURSOR: &str = "The link's cursor is not one this list handed out (the link was \
    changed, or comes from another list). Start again from the list's first page.";

/// `?cursor=&limit=` of a list page, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A page of a list, checked: after which row (a cursor of type `C`) and how many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging<C> {
    pub after: Option<C>,
    pub limit: u32,
}

impl<C> Paging<C> {
    /// The first page, of the default size.
    pub fn first() -> Paging<C> {
        Paging {
            after: None,
            limit: DEFAULT_LIMIT,
        }
    }

    /// The page `query` asks for; `cursor` reads a cursor of this list (`None`: not one).
    pub fn of(
        query: &PageQuery,
        cursor: impl FnOnce(&str) -> Option<C>,
    ) -> Result<Paging<C>, ConsoleError> {
        let limit = match given(query.limit.as_deref()) {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or(ConsoleError::BadLink(BAD_LIMIT))?,
        };
        let after = given(query.cursor.as_deref())
            .map(|text| cursor(text).ok_or(ConsoleError::BadLink(BAD_CURSOR)))
            .transpose()?;
        Ok(Paging { after, limit })
    }

    /// The page size a list's links and forms carry on: `None` for the default.
    pub fn kept_limit(&self) -> Option<u32> {
        (self.limit != DEFAULT_LIMIT).then_some(self.limit)
    }

    /// The links between the pages of the list at `path` narrowed by `filters` (kept in
    /// the links, empty ones left out), this page ending at `next` when more rows follow.
    pub fn pager(
        &self,
        label: &'static str,
        path: &str,
        filters: &[(&str, &str)],
        next: Option<&str>,
    ) -> Pager {
        let limit = self.kept_limit();
        Pager {
            label,
            first: self
                .after
                .is_some()
                .then(|| list_href(path, filters, limit, None)),
            next: next.map(|cursor| list_href(path, filters, limit, Some(cursor))),
            first_words: "First page",
            next_words: "Next page",
        }
    }
}

/// A query value, unless absent or empty.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

/// The address of a list at `path`: its `filters` (empty ones left out), then a page size
/// other than the default, then the cursor.
pub fn list_href(
    path: &str,
    filters: &[(&str, &str)],
    limit: Option<u32>,
    cursor: Option<&str>,
) -> String {
    let limit = limit.map(|limit| limit.to_string());
    let query: Vec<String> = filters
        .iter()
        .copied()
        .chain(limit.as_deref().map(|limit| ("limit", limit)))
        .chain(cursor.map(|cursor| ("cursor", cursor)))
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", encode_component(value)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The links between the pages of a list, as templates/pager.html shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    /// The navigation's name for screen readers: "Pages of roles".
    pub label: &'static str,
    /// Back to the first page, on a later page.
    pub first: Option<String>,
    /// The page after this one, while more rows follow.
    pub next: Option<String>,
    pub first_words: &'static str,
    pub next_words: &'static str,
}

impl Pager {
    /// The same links in other words (the audit trail's "Newest events").
    pub fn worded(self, first_words: &'static str, next_words: &'static str) -> Pager {
        Pager {
            first_words,
            next_words,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;
    use askama::Template;

    use super::*;

    fn query(cursor: Option<&str>, limit: Option<&str>) -> PageQuery {
        PageQuery {
            cursor: cursor.map(str::to_owned),
            limit: limit.map(str::to_owned),
        }
    }

    fn number(text: &str) -> Option<u32> {
        text.parse().ok()
    }

    #[test]
    fn a_page_is_what_the_link_says_or_refused_naming_the_parameter() {
        assert_eq!(
            Paging::of(&query(None, None), number).unwrap(),
            Paging::first()
        );
        // A GET form sends empty fields: they count as absent.
        assert_eq!(
            Paging::of(&query(Some(" "), Some("")), number).unwrap(),
            Paging::first()
        );
        assert_eq!(
            Paging::of(&query(Some("7"), Some(" 200 ")), number).unwrap(),
            Paging {
                after: Some(7),
                limit: 200
            }
        );
        assert_eq!(
            Paging::of(&query(None, Some("1")), number).unwrap().limit,
            1
        );
        for limit in ["0", "201", "-1", "ten", "99999999999"] {
            let refused = Paging::of(&query(None, Some(limit)), number).unwrap_err();
            assert_eq!(refused.status_code(), StatusCode::BAD_REQUEST, "{limit}");
            assert!(refused.to_string().contains("limit"), "{limit}");
        }
        let refused = Paging::of(&query(Some("x"), None), number).unwrap_err();
        assert_eq!(refused.status_code(), StatusCode::BAD_REQUEST);
        assert!(refused.to_string().contains("cursor"));
        assert!(BAD_LIMIT.contains(&format!("between 1 and {MAX_LIMIT} rows")));
    }

    #[test]
    fn links_keep_the_filters_and_a_page_size_other_than_the_default() {
        assert_eq!(list_href("/l", &[("email", "")], None, None), "/l");
        assert_eq!(
            list_href(
                "/l",
                &[("actor", "a+b@x.com"), ("action", "")],
                Some(10),
                Some("c&d")
            ),
            "/l?actor=a%2Bb%40x.com&limit=10&cursor=c%26d"
        );
        let first_page = Paging::<u32>::first();
        assert_eq!(
            first_page.pager("Pages of roles", "/l", &[], Some("ops")),
            Pager {
                label: "Pages of roles",
                first: None,
                next: Some("/l?cursor=ops".to_owned()),
                first_words: "First page",
                next_words: "Next page",
            }
        );
        let later = Paging {
            after: Some(3),
            limit: 20,
        };
        let pager = later.pager("Pages", "/l", &[("email", "a@x.com")], None);
        assert_eq!(pager.first.as_deref(), Some("/l?email=a%40x.com&limit=20"));
        assert_eq!(pager.next, None);
        assert_eq!(Paging::<u32>::first().kept_limit(), None);
        assert_eq!(later.kept_limit(), Some(20));
    }

    #[derive(Template)]
    #[template(source = "{% include \"pager.html\" %}", ext = "html", escape = "html")]
    struct PagerPartial {
        pager: Pager,
    }

    #[test]
    fn the_pager_shows_only_the_links_there_are() {
        let render = |first: Option<&str>, next: Option<&str>| {
            PagerPartial {
                pager: Pager {
                    label: "Pages of roles",
                    first: first.map(str::to_owned),
                    next: next.map(str::to_owned),
                    first_words: "First page",
                    next_words: "Next page",
                }
                .worded("First page", "Next page"),
            }
            .render()
            .unwrap()
        };
        assert!(!render(None, None).contains("<nav"));
        let both = render(Some("/l"), Some("/l?cursor=a&limit=2"));
        assert!(both.contains(r#"<nav class="pager" aria-label="Pages of roles">"#));
        assert!(both.contains(r#"<a href="/l">First page</a>"#));
        assert!(both.contains(r#"<a href="/l?cursor=a&#38;limit=2">Next page</a>"#));
        let next_only = render(None, Some("/l?cursor=a"));
        assert!(!next_only.contains("First page"));
        assert!(next_only.contains("Next page"));
    }
}
