//! Grants, rules, scopes and times said in words, for people rather than machines.

use chrono::{DateTime, Utc};
use roster_domain::{ActionPattern, Effect, Grant, Permission, ScopePath};

/// Where a grant applies, in words.
pub fn scope_in_words(scope: &ScopePath) -> String {
    if scope.is_root() {
        "everywhere (every scope, and global resources such as accounts)".to_owned()
    } else if scope.segments().any(|segment| segment == "*") {
        format!("in every scope matching {scope}, and everything beneath them")
    } else {
        format!("in {scope} and everything beneath it")
    }
}

/// Which actions a rule is about, in words.
pub fn pattern_in_words(pattern: &ActionPattern) -> String {
    match pattern {
        ActionPattern::All => "every action".to_owned(),
        ActionPattern::Exact(action) => action.as_str().to_owned(),
        ActionPattern::Prefix(prefix) => {
            format!("every action starting with \u{201c}{prefix}\u{201d}")
        }
    }
}

/// One rule as a sentence fragment: "may do every action", "may not do audit-read".
pub fn rule_in_words(rule: &Permission) -> String {
    match rule.effect {
        Effect::Allow => format!("may do {}", pattern_in_words(&rule.pattern)),
        Effect::Deny => format!("may not do {}", pattern_in_words(&rule.pattern)),
    }
}

/// A grant as shown in a list: the role, the scope, and what it lets its holder do.
#[derive(Debug, Clone)]
pub struct GrantInWords {
    pub id: String,
    pub role: String,
    pub scope: String,
    pub scope_words: String,
    /// "may do account-read", "may not do every action starting with “billing-”", ...
    pub rules: Vec<String>,
}

impl From<&Grant> for GrantInWords {
    fn from(grant: &Grant) -> Self {
        GrantInWords {
            id: grant.id.to_string(),
            role: grant.role.as_str().to_owned(),
            scope: grant.scope.to_string(),
            scope_words: scope_in_words(&grant.scope),
            rules: grant.permissions.iter().map(rule_in_words).collect(),
        }
    }
}

/// Where a grant may be given, beside a scope field: `scopes` are where the viewer manages
/// grants (see `roster_app::GrantOptions`), and anything beneath them is open too.
pub fn grant_scopes_hint(scopes: &[ScopePath]) -> String {
    if scopes.iter().any(ScopePath::is_root) {
        "You may give roles on any scope: * for everywhere, or a dot path such as acme or \
         acme.berlin for an organization or tenant and everything beneath it."
            .to_owned()
    } else {
        let listed: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        format!("You may give roles at or beneath: {}.", listed.join(", "))
    }
}

/// A point in time as people read it, to the minute, in UTC.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional point in time, or `none` (such as "never") when there is none.
#[expect(dead_code, reason = "read by the admin pages, being built")]
pub fn when_or(at: Option<DateTime<Utc>>, none: &'static str) -> String {
    at.map_or_else(|| none.to_owned(), when)
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::Action;

    #[test]
    fn rules_and_scopes_read_as_sentences() {
        let allow_all = Permission::allow(ActionPattern::All);
        assert_eq!(rule_in_words(&allow_all), "may do every action");
        let deny_prefix = Permission {
            pattern: ActionPattern::Prefix("billing-".to_owned()),
            effect: Effect::Deny,
        };
        assert_eq!(
            rule_in_words(&deny_prefix),
            "may not do every action starting with \u{201c}billing-\u{201d}"
        );
        let exact = Permission::allow(ActionPattern::Exact(Action::parse("audit-read").unwrap()));
        assert_eq!(rule_in_words(&exact), "may do audit-read");
        assert!(scope_in_words(&ScopePath::root()).starts_with("everywhere"));
        assert_eq!(
            scope_in_words(&ScopePath::parse("acme.berlin").unwrap()),
            "in acme.berlin and everything beneath it"
        );
        assert!(
            scope_in_words(&ScopePath::parse("acme.*").unwrap())
                .contains("every scope matching acme.*")
        );
    }

    #[test]
    fn the_scopes_hint_names_where_grants_may_go() {
        let parse = |s| ScopePath::parse(s).unwrap();
        assert!(grant_scopes_hint(&[ScopePath::root()]).contains("any scope"));
        assert_eq!(
            grant_scopes_hint(&[parse("acme"), parse("globex.paris")]),
            "You may give roles at or beneath: acme, globex.paris."
        );
    }
}
