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

// Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: [(&str, &str); 7] = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("reqwest", "a Rust program"),
];
const SYSTEMS: [(&str, &str); 6] = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
];

/// A session's device as people name it ("Chrome on Linux"), from its `User-Agent`; the
/// text itself when it names no browser we know, "unknown device" when there is none.
pub fn device_in_words(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent.filter(|agent| !agent.trim().is_empty()) else {
        return "unknown device".to_owned();
    };
    let browser = BROWSERS.iter().find(|(marker, _)| agent.contains(marker));
    let system = SYSTEMS.iter().find(|(marker, _)| agent.contains(marker));
    match (browser, system) {
        (Some((_, browser)), Some((_, system))) => format!("{browser} on {system}"),
        (Some((_, browser)), None) => (*browser).to_owned(),
        _ => agent.chars().take(60).collect(),
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
    fn devices_are_named_by_browser_and_system() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(device_in_words(Some(chrome)), "Chrome on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(device_in_words(Some(edge)), "Edge on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_in_words(Some(safari)), "Safari on iPhone");
        assert_eq!(device_in_words(Some("curl/8.5.0")), "curl");
        assert_eq!(
            device_in_words(Some("my-deploy-bot 1.0")),
            "my-deploy-bot 1.0"
        );
        assert_eq!(device_in_words(None), "unknown device");
        assert_eq!(device_in_words(Some("  ")), "unknown device");
    }

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
