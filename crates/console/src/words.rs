//! Grants, rules, scopes and times said in words, for people rather than machines.

use chrono::{DateTime, Utc};
use roster_app::model::{ApiKey, RoleHolder, RoleHolders};
use roster_domain::{ActionPattern, Effect, Grant, Permission, PrincipalId, ScopePath};

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
    #[expect(
        dead_code,
        reason = "read by the admin pages' grant lists, being built"
    )]
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

/// A point in time as people read it, to the minute, in UTC.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional point in time, or `none` (such as "never") when there is none.
pub fn when_or(at: Option<DateTime<Utc>>, none: &'static str) -> String {
    at.map_or_else(|| none.to_owned(), when)
}

/// One grant of a role by who holds it and where: "ada@example.com on acme.berlin", "API key
/// ci-deploy on *"; a holder the reader may not see named is "an account" or "an API key".
pub fn holder_in_words(holder: &RoleHolder) -> String {
    let who = match (&holder.holder, &holder.label) {
        (PrincipalId::Account(_), Some(email)) => email.clone(),
        (PrincipalId::Account(_), None) => "an account".to_owned(),
        (PrincipalId::ApiKey(_), Some(name)) => format!("API key {name}"),
        (PrincipalId::ApiKey(_), None) => "an API key".to_owned(),
    };
    format!("{who} on {}", holder.scope)
}

/// The holders of a role as a list a sentence can end with: "ada@example.com on
/// acme.berlin, API key ci-deploy on *, and 3 more".
pub fn holders_in_words(found: &RoleHolders) -> String {
    let mut parts: Vec<String> = found.holders.iter().map(holder_in_words).collect();
    let listed = u64::try_from(parts.len()).unwrap_or(u64::MAX);
    let more = found.total.saturating_sub(listed);
    match (parts.is_empty(), more) {
        (true, 1) => return "one holder".to_owned(),
        (true, more) => return format!("{more} holders"),
        (false, 0) => {}
        (false, more) => parts.push(format!("{more} more")),
    }
    match parts.as_slice() {
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
        [] => String::new(),
    }
}

/// Where an API key stands, for the badge beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    /// The key's status at `now`: revoked wins over expired (it is the lasting fact).
    pub fn of(key: &ApiKey, now: DateTime<Utc>) -> KeyStatus {
        if key.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if key.is_usable(now) {
            KeyStatus::Active
        } else {
            KeyStatus::Expired
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }

    /// The badge's class: `good` for a key that works, `bad` for one that does not.
    pub fn badge(self) -> &'static str {
        match self {
            KeyStatus::Active => "good",
            KeyStatus::Expired | KeyStatus::Revoked => "bad",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use roster_domain::{AccountId, Action, ApiKeyId};
    use uuid::Uuid;

    fn held_by(account: Option<&str>, key: Option<&str>, scope: &str) -> RoleHolder {
        let id = Uuid::from_u128(7);
        RoleHolder {
            holder: if key.is_some() || account.is_none() {
                PrincipalId::ApiKey(ApiKeyId::new(id))
            } else {
                PrincipalId::Account(AccountId::new(id))
            },
            label: account.or(key).map(str::to_owned),
            scope: ScopePath::parse(scope).unwrap(),
        }
    }

    #[test]
    fn holders_read_as_a_list_ending_with_how_many_more() {
        let ada = held_by(Some("ada@example.com"), None, "acme.berlin");
        let ci = held_by(None, Some("ci-deploy"), "*");
        let found = |holders: Vec<RoleHolder>, total| RoleHolders { holders, total };
        assert_eq!(
            holders_in_words(&found(vec![ada.clone(), ci.clone()], 5)),
            "ada@example.com on acme.berlin, API key ci-deploy on *, and 3 more"
        );
        assert_eq!(
            holders_in_words(&found(vec![ada.clone(), ci.clone()], 2)),
            "ada@example.com on acme.berlin and API key ci-deploy on *"
        );
        assert_eq!(
            holders_in_words(&found(vec![ada.clone()], 2)),
            "ada@example.com on acme.berlin and 1 more"
        );
        assert_eq!(
            holders_in_words(&found(vec![ada], 1)),
            "ada@example.com on acme.berlin"
        );
        assert_eq!(holders_in_words(&found(vec![], 4)), "4 holders");
        assert_eq!(holders_in_words(&found(vec![], 1)), "one holder");
    }

    #[test]
    fn unnamed_holders_are_said_by_their_kind() {
        let account = RoleHolder {
            label: None,
            ..held_by(Some("hidden@example.com"), None, "acme")
        };
        let key = RoleHolder {
            label: None,
            ..held_by(None, Some("hidden"), "*")
        };
        assert_eq!(holder_in_words(&account), "an account on acme");
        assert_eq!(holder_in_words(&key), "an API key on *");
    }

    #[test]
    fn a_key_is_active_until_it_expires_or_is_revoked() {
        let now = Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap();
        let key = ApiKey {
            id: ApiKeyId::new(Uuid::from_u128(1)),
            name: "ci".into(),
            created_at: now - Duration::days(1),
            created_by: None,
            expires_at: Some(now + Duration::minutes(1)),
            last_used_at: None,
            revoked_at: None,
        };
        assert_eq!(KeyStatus::of(&key, now), KeyStatus::Active);
        let never = ApiKey {
            expires_at: None,
            ..key.clone()
        };
        assert_eq!(KeyStatus::of(&never, now), KeyStatus::Active);
        let expired = ApiKey {
            expires_at: Some(now),
            ..key.clone()
        };
        assert_eq!(KeyStatus::of(&expired, now), KeyStatus::Expired);
        let revoked = ApiKey {
            revoked_at: Some(now - Duration::hours(1)),
            ..expired
        };
        assert_eq!(KeyStatus::of(&revoked, now), KeyStatus::Revoked);
        assert_eq!(
            [KeyStatus::Active, KeyStatus::Expired, KeyStatus::Revoked].map(KeyStatus::word),
            ["active", "expired", "revoked"]
        );
        assert_eq!(KeyStatus::Active.badge(), "good");
        assert_eq!(KeyStatus::Revoked.badge(), "bad");
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
}
