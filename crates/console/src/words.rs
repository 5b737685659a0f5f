//! Grants, rules, scopes and times said in words, for people rather than machines.

use chrono::{DateTime, Utc};
use roster_app::model::{ApiKey, AuditAction, AuditEvent, RoleHolder, RoleHolders};
use roster_app::{CheckOutcome, CheckSubject, FeatureSource, PrincipalNames};
use roster_domain::{
    ActionPattern, Effect, Grant, Match, Permission, PrincipalId, Reason, ScopePath,
};

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

/// Where a feature flag's state comes from, in words.
pub fn feature_source_in_words(source: FeatureSource) -> &'static str {
    match source {
        FeatureSource::EnabledList => "the file: listed in enabledFeatures",
        // Named in both lists counts as disabled: say so, for the operator who finds it in both.
        FeatureSource::DisabledList => {
            "the file: listed in disabledFeatures (which wins over enabledFeatures)"
        }
        FeatureSource::Default => "the default: the file does not name it",
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

/// A sentence of fixed words and the names and values it is about, kept apart so a page
/// can draw each name in its own element (`<q>` for names people chose, `<code>` for
/// identifiers): text inside a name, such as an API key called `ci” with role boss on *.
/// admin@example.com granted…`, then cannot pass for the sentence around it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sentence {
    pub parts: Vec<Part>,
}

/// One piece of a [`Sentence`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub text: String,
    pub kind: PartKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// The sentence's own wording.
    Words,
    /// Free text someone chose (an API key's name): drawn quoted.
    Name,
    /// An identifier or recorded value (an email, a role, a scope, an id, a detail as
    /// stored): drawn as code.
    Value,
}

impl Part {
    pub fn is_name(&self) -> bool {
        self.kind == PartKind::Name
    }

    pub fn is_value(&self) -> bool {
        self.kind == PartKind::Value
    }
}

impl Sentence {
    fn push(mut self, kind: PartKind, text: impl Into<String>) -> Sentence {
        let text = text.into();
        match self.parts.last_mut() {
            // Adjacent words make one part: fewer elements, the same text.
            Some(last) if kind == PartKind::Words && last.kind == PartKind::Words => {
                last.text.push_str(&text);
            }
            _ => self.parts.push(Part { text, kind }),
        }
        self
    }

    fn words(self, text: impl Into<String>) -> Sentence {
        self.push(PartKind::Words, text)
    }

    fn name(self, text: impl Into<String>) -> Sentence {
        self.push(PartKind::Name, text)
    }

    fn value(self, text: impl Into<String>) -> Sentence {
        self.push(PartKind::Value, text)
    }

    fn then(self, other: Sentence) -> Sentence {
        other
            .parts
            .into_iter()
            .fold(self, |sentence, part| sentence.push(part.kind, part.text))
    }
}

fn words(text: impl Into<String>) -> Sentence {
    Sentence::default().words(text)
}

/// The sentence as plain text: names in typographic quotes, as the page draws them.
impl std::fmt::Display for Sentence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in &self.parts {
            match part.kind {
                PartKind::Name => write!(f, "\u{201c}{}\u{201d}", part.text)?,
                PartKind::Words | PartKind::Value => f.write_str(&part.text)?,
            }
        }
        Ok(())
    }
}

/// An account or API key as an audit event labels it (`account:<id>`), in words: the
/// account's email or the key's name when the viewer may know them, else the label itself.
pub fn principal_in_words(label: &str, names: &PrincipalNames) -> Sentence {
    match PrincipalId::parse(label) {
        Some(PrincipalId::Account(id)) => match names.accounts.get(&id) {
            Some(email) => Sentence::default().value(email.to_string()),
            None => Sentence::default().value(label),
        },
        Some(PrincipalId::ApiKey(id)) => match names.api_keys.get(&id) {
            Some(name) => words("API key ").name(name.as_str()),
            None => Sentence::default().value(label),
        },
        None => Sentence::default().value(label),
    }
}

/// "API key “name”", for plain-text places (the check page's subject).
fn api_key_named(name: &str) -> String {
    format!("API key \u{201c}{name}\u{201d}")
}

/// The name at the start of `detail` as Rust's `{:?}` wrote it (`"ci \"deploy\""`),
/// unescaped, and the rest after its closing quote; `None` when it is not such a string.
fn debug_quoted(detail: &str) -> Option<(String, &str)> {
    let rest = detail.strip_prefix('"')?;
    let mut name = String::new();
    let mut chars = rest.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((name, &rest[at + 1..])),
            '\\' => {
                let escaped = match chars.next()?.1 {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'u' => {
                        // `\u{1f600}`
                        if chars.next()?.1 != '{' {
                            return None;
                        }
                        let mut hex = String::new();
                        loop {
                            match chars.next()?.1 {
                                '}' => break,
                                digit => hex.push(digit),
                            }
                        }
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                    }
                    other => other,
                };
                name.push(escaped);
            }
            other => name.push(other),
        }
    }
    None
}

/// What an audit action is, in a few words (the action filter's choices).
pub fn audit_action_in_words(action: AuditAction) -> &'static str {
    match action {
        AuditAction::AccountRegistered => "Someone signed up",
        AuditAction::AccountCreated => "Account created by an administrator",
        AuditAction::SuperadminCreated => "Super admin created",
        AuditAction::LoginSucceeded => "Signed in",
        AuditAction::LoginFailed => "Failed sign-in or password check",
        AuditAction::Logout => "Signed out",
        AuditAction::SessionRevoked => "Session signed out by its owner",
        AuditAction::PasswordChanged => "Password changed",
        AuditAction::PasswordReset => "Password reset by an administrator",
        AuditAction::AccountDisabled => "Account disabled",
        AuditAction::AccountEnabled => "Account enabled",
        AuditAction::RoleCreated => "Role created",
        AuditAction::RoleUpdated => "Role changed",
        AuditAction::RoleDeleted => "Role deleted",
        AuditAction::GrantCreated => "Role granted",
        AuditAction::GrantDeleted => "Grant removed",
        AuditAction::ApiKeyCreated => "API key created",
        AuditAction::ApiKeyRevoked => "API key revoked",
        AuditAction::FeaturesReloaded => "Features file reloaded",
        AuditAction::FeaturesRejected => "Features file edit rejected",
        AuditAction::FeatureChanged => "Feature switched",
        AuditAction::PasswordResetByEmail => "Password reset through an emailed link",
        AuditAction::EmailVerified => "Email address verified",
        AuditAction::MailGaveUp => "Email given up after failed deliveries",
        AuditAction::InvitationCreated => "Invitation sent",
        AuditAction::InvitationResent => "Invitation sent again with a new link",
        AuditAction::InvitationRevoked => "Invitation revoked",
        AuditAction::InvitationAccepted => "Invitation accepted",
        AuditAction::MfaTotpEnrolled => "Authenticator app set up",
        AuditAction::MfaTotpRemoved => "Authenticator app removed",
        AuditAction::MfaRecoveryCodesRenewed => "New recovery codes made",
        AuditAction::MfaRecoveryCodeUsed => "Recovery code used",
        AuditAction::MfaFailed => "Wrong second factor",
        AuditAction::MfaStepUp => "Identity confirmed with a second factor",
        AuditAction::PasskeyAdded => "Passkey added",
        AuditAction::PasskeyRemoved => "Passkey removed",
        AuditAction::MfaReset => "Second factors reset by an operator",
        AuditAction::AuditPruned => "Old audit events deleted",
    }
}

/// `role@scope, role@scope` (or `no grants`), as account and API key creations record the
/// grants they gave: "with role viewer on acme and role auditor on *".
fn grants_in_words(listed: &str) -> Sentence {
    if listed == "no grants" {
        return words("with no grants");
    }
    let grants: Option<Vec<(&str, &str)>> = listed
        .split(", ")
        .map(|grant| grant.split_once('@'))
        .collect();
    match grants {
        Some(grants) => {
            grants
                .into_iter()
                .enumerate()
                .fold(words("with "), |sentence, (at, (role, scope))| {
                    let sentence = if at == 0 {
                        sentence
                    } else {
                        sentence.words(" and ")
                    };
                    sentence
                        .words("role ")
                        .value(role)
                        .words(" on ")
                        .value(scope)
                })
        }
        None => words("(").value(listed).words(")"),
    }
}

/// An audit event as a sentence: who did what to whom, with what the event's detail adds
/// ("ada@example.com granted role viewer on acme.berlin to bob@example.com"). Accounts and
/// keys are named as [`principal_in_words`] can; an event recorded without an actor was
/// done by someone not signed in (a sign-in, a sign-up) or by the service itself. Every
/// name and recorded value is its own part of the [`Sentence`], never part of its wording.
pub fn audit_event_in_words(event: &AuditEvent, names: &PrincipalNames) -> Sentence {
    let actor = event.actor.as_deref().map_or_else(
        || words("Someone"),
        |label| principal_in_words(label, names),
    );
    // The target after its noun: "the account ada@example.com", "the API key “ci”", or
    // its bare id when the viewer may not know more.
    let target = match event.target.as_deref() {
        None => words("an unknown target"),
        Some(label) => match PrincipalId::parse(label) {
            Some(PrincipalId::Account(id)) => Sentence::default().value(
                names
                    .accounts
                    .get(&id)
                    .map_or_else(|| id.to_string(), ToString::to_string),
            ),
            Some(PrincipalId::ApiKey(id)) => match names.api_keys.get(&id) {
                Some(name) => Sentence::default().name(name.as_str()),
                None => Sentence::default().value(id.to_string()),
            },
            None => Sentence::default().value(label),
        },
    };
    // The part after `kind:` of a target such as `role:viewer` or `email:ada@example.com`.
    let target_id = event
        .target
        .as_deref()
        .and_then(|label| label.split_once(':'))
        .map_or_else(
            || words("an unknown target"),
            |(_, id)| Sentence::default().value(id),
        );
    let detail = event.detail.as_deref();
    // A detail the service wrote in words, that only adds to the sentence: ", and revoked 2
    // API keys it created".
    let and_detail = |sentence: Sentence| match detail {
        // "revoked 0 API keys" adds nothing a reader needs.
        Some(detail) if !detail.starts_with("revoked 0 ") => {
            sentence.words(format!(", and {detail}"))
        }
        _ => sentence,
    };
    // A detail of a shape the sentence does not know, shown as recorded.
    let with_detail = |sentence: Sentence| match detail {
        Some(detail) => sentence.words(" (").value(detail).words(")"),
        None => sentence,
    };
    let by = |action: &str| actor.clone().words(action);
    match event.action {
        AuditAction::AccountRegistered => match event.actor {
            Some(_) => by(" signed up"),
            None => words("The account ").then(target).words(" signed up"),
        },
        AuditAction::AccountCreated => {
            let sentence = by(" created the account ").then(target);
            match detail {
                Some(listed) => sentence.words(" ").then(grants_in_words(listed)),
                None => sentence,
            }
        }
        AuditAction::SuperadminCreated => words("The super admin ")
            .then(target)
            .words(" was created (from the command line or at start-up)"),
        AuditAction::LoginSucceeded => match detail.and_then(|d| d.strip_prefix("with ")) {
            Some(methods) => by(" signed in with ").words(methods_in_words(methods)),
            None => by(" signed in"),
        },
        AuditAction::LoginFailed if event.actor.is_none() => {
            words("Someone failed to sign in as ").then(target_id)
        }
        AuditAction::LoginFailed => {
            // The detail is one of the service's fixed reasons.
            let sentence = by(" failed a password check as ").then(target_id);
            match detail {
                Some(reason) => sentence.words(format!(" ({reason})")),
                None => sentence,
            }
        }
        AuditAction::Logout => by(" signed out"),
        AuditAction::SessionRevoked => by(" signed out one of their sessions"),
        AuditAction::PasswordChanged => {
            if event.actor.is_some() && event.actor == event.target {
                by(" changed their password; their other sessions ended")
            } else {
                by(" changed the password of ").then(target)
            }
        }
        AuditAction::PasswordReset => by(" reset the password of ")
            .then(target)
            .words("; every session of the account ended"),
        AuditAction::AccountDisabled => and_detail(by(" disabled the account ").then(target)),
        AuditAction::AccountEnabled => by(" enabled the account ").then(target),
        AuditAction::RoleCreated => {
            let sentence = by(" created the role ").then(target_id);
            match detail {
                Some(rules) => sentence.words(" with the rules: ").value(rules),
                None => sentence,
            }
        }
        AuditAction::RoleUpdated => match detail {
            Some(rules) => by(" changed the rules of the role ")
                .then(target_id)
                .words(" to: ")
                .value(rules),
            None => by(" changed the role ").then(target_id),
        },
        AuditAction::RoleDeleted => by(" deleted the role ").then(target_id),
        AuditAction::GrantCreated | AuditAction::GrantDeleted => match event.grant_change() {
            Some(change) => {
                let holder = principal_in_words(&change.holder.to_string(), names);
                let (verb, joint) = if event.action == AuditAction::GrantCreated {
                    ("granted", "to")
                } else {
                    ("removed", "from")
                };
                by(&format!(" {verb} role "))
                    .value(change.role)
                    .words(" on ")
                    .value(change.scope)
                    .words(format!(" {joint} "))
                    .then(holder)
            }
            None if event.action == AuditAction::GrantCreated => {
                with_detail(by(" created the grant ").then(target_id))
            }
            None => with_detail(by(" removed the grant ").then(target_id)),
        },
        AuditAction::ApiKeyCreated => {
            // `name "ci deploy"; role@scope, ...`: the name as Rust's `{:?}` quotes it,
            // shown as it was created.
            let parsed = detail
                .and_then(|detail| detail.strip_prefix("name "))
                .and_then(debug_quoted)
                .and_then(|(name, rest)| Some((name, rest.strip_prefix("; ")?)));
            match parsed {
                Some((name, grants)) => by(" created the API key ")
                    .name(name)
                    .words(" ")
                    .then(grants_in_words(grants)),
                None => with_detail(by(" created the API key ").then(target)),
            }
        }
        AuditAction::ApiKeyRevoked => and_detail(by(" revoked the API key ").then(target)),
        AuditAction::FeaturesReloaded => match detail {
            Some("no value changed") | None => {
                words("The features file was reloaded; no value changed")
            }
            Some(changes) => words("The features file was reloaded: ").value(changes),
        },
        AuditAction::FeaturesRejected => words(
            "An edit of the features file was refused, and the last good state stays in force: ",
        )
        .then(match detail {
            Some(reason) => Sentence::default().value(reason),
            None => words("no reason recorded"),
        }),
        AuditAction::FeatureChanged => match detail {
            Some("enabled") => by(" switched the feature ").then(target_id).words(" on"),
            Some("disabled") => by(" switched the feature ").then(target_id).words(" off"),
            _ => with_detail(by(" switched the feature ").then(target_id)),
        },
        AuditAction::PasswordResetByEmail => {
            by(" set a new password through an emailed link; every session of the account ended")
        }
        AuditAction::EmailVerified => by(" verified their email address through an emailed link"),
        AuditAction::MailGaveUp => with_detail(
            words("Delivery of the email ")
                .then(target_id)
                .words(" was given up"),
        ),
        AuditAction::InvitationCreated | AuditAction::InvitationResent => {
            // `to <email>; role@scope, ...`
            let verb = if event.action == AuditAction::InvitationCreated {
                " invited "
            } else {
                " sent a new invitation link to "
            };
            match detail
                .and_then(|detail| detail.strip_prefix("to "))
                .and_then(|rest| rest.split_once("; "))
            {
                Some((email, grants)) => by(verb)
                    .value(email)
                    .words(" ")
                    .then(grants_in_words(grants)),
                None => with_detail(by(verb).words("the invitee of ").then(target_id)),
            }
        }
        AuditAction::InvitationRevoked => by(" revoked the invitation ").then(target_id),
        AuditAction::InvitationAccepted => {
            // `invitation <id>; role@scope, ...`
            match detail
                .and_then(|detail| detail.strip_prefix("invitation "))
                .and_then(|rest| rest.split_once("; "))
            {
                Some((_, grants)) => {
                    by(" accepted an invitation and signed up ").then(grants_in_words(grants))
                }
                None => with_detail(by(" accepted an invitation and signed up")),
            }
        }
        AuditAction::MfaTotpEnrolled => by(" set up an authenticator app for two-step sign-in"),
        AuditAction::MfaTotpRemoved => by(" removed their authenticator app"),
        AuditAction::MfaRecoveryCodesRenewed => {
            by(" made new recovery codes; the old ones stopped working")
        }
        AuditAction::MfaRecoveryCodeUsed => with_detail(by(" used a recovery code")),
        AuditAction::MfaFailed => with_detail(by(" gave a wrong second factor")),
        AuditAction::MfaStepUp => match detail.and_then(|d| d.strip_prefix("with ")) {
            Some(method) => by(" confirmed it was them with ").words(methods_in_words(method)),
            None => by(" confirmed it was them with a second factor"),
        },
        AuditAction::PasskeyAdded => with_detail(by(" added a passkey")),
        AuditAction::PasskeyRemoved => by(" removed a passkey"),
        AuditAction::MfaReset => with_detail(
            words("An operator removed every second factor of the account ")
                .then(target)
                .words(" and ended its sessions"),
        ),
        AuditAction::AuditPruned => with_detail(words("Old audit events were deleted")),
    }
}

/// Sign-in methods as recorded (`pwd,otp`) in words: "a password and an authenticator code".
/// An unknown method is shown as recorded.
fn methods_in_words(methods: &str) -> String {
    let named: Vec<&str> = methods
        .split(',')
        .map(|method| match method {
            "pwd" => "a password",
            "otp" => "an authenticator code",
            "recovery" => "a recovery code",
            "passkey" => "a passkey",
            other => other,
        })
        .collect();
    named.join(" and ")
}

/// Whose permission a check is about: "You", an email, an API key.
pub fn subject_in_words(subject: &CheckSubject) -> String {
    match subject {
        CheckSubject::Caller => "You".to_owned(),
        CheckSubject::Account(account) => account.email.to_string(),
        CheckSubject::ApiKey {
            name: Some(name), ..
        } => api_key_named(name),
        CheckSubject::ApiKey { id, name: None } => format!("API key {id}"),
    }
}

/// Why a check came out as it did, as a sentence with the deciding grant and rule:
/// "Allowed by the grant of role tenant-admin on acme: rule “all” allows every action."
pub fn check_in_words(
    outcome: &CheckOutcome,
    subject: &CheckSubject,
    action: &str,
    scope: &str,
) -> String {
    let decision = match outcome {
        CheckOutcome::Inactive => {
            let what = match subject {
                CheckSubject::ApiKey { .. } => "the API key is revoked or has expired",
                CheckSubject::Account(_) | CheckSubject::Caller => "the account is disabled",
            };
            return format!("Denied: {what}, so it may do nothing, whatever its grants say.");
        }
        CheckOutcome::Decided(decision) => decision,
    };
    let by = |m: &Match| format!("the grant of role {} on {}", m.role, m.scope);
    match decision.reason() {
        Reason::SuperAdmin => {
            "Allowed: super admin. A super admin may do every action everywhere, whatever their \
             grants say."
                .to_owned()
        }
        Reason::AllowedBy(m) => format!(
            "Allowed by {}: rule \u{201c}{}\u{201d} allows {}.",
            by(m),
            m.rule.pattern,
            pattern_in_words(&m.rule.pattern)
        ),
        Reason::DeniedBy(m) => format!(
            "Denied by {}: rule \u{201c}{}\u{201d} denies {}, and a deny wins over any allow.",
            by(m),
            m.rule.pattern,
            pattern_in_words(&m.rule.pattern)
        ),
        Reason::NoMatchingGrant => format!("Denied: no grant that covers {scope} allows {action}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use roster_domain::{
        Account, AccountId, AccountStatus, Action, ApiKeyId, Decision, Email, GrantId, RoleName,
    };
    use uuid::Uuid;

    #[test]
    fn each_feature_source_says_where_the_state_comes_from() {
        assert_eq!(
            feature_source_in_words(FeatureSource::EnabledList),
            "the file: listed in enabledFeatures"
        );
        assert!(
            feature_source_in_words(FeatureSource::DisabledList)
                .starts_with("the file: listed in disabledFeatures")
        );
        assert_eq!(
            feature_source_in_words(FeatureSource::Default),
            "the default: the file does not name it"
        );
    }

    fn ada() -> AccountId {
        AccountId::new(Uuid::from_u128(1))
    }

    fn bob() -> AccountId {
        AccountId::new(Uuid::from_u128(2))
    }

    fn key() -> ApiKeyId {
        ApiKeyId::new(Uuid::from_u128(3))
    }

    /// Ada and Bob by email, the key by name.
    fn names() -> PrincipalNames {
        let mut names = PrincipalNames::default();
        names
            .accounts
            .insert(ada(), Email::parse("ada@example.com").unwrap());
        names
            .accounts
            .insert(bob(), Email::parse("bob@example.com").unwrap());
        names.api_keys.insert(key(), "ci deploy".to_owned());
        names
    }

    /// An event of `action` as the use case that records it writes it: Ada acting on Bob.
    fn sample(action: AuditAction) -> AuditEvent {
        let at = Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap();
        let event = AuditEvent::new(action, at);
        let by_ada = event.clone().actor(PrincipalId::Account(ada()));
        let session = Uuid::from_u128(0x5e55);
        match action {
            AuditAction::AccountRegistered
            | AuditAction::PasswordChanged
            | AuditAction::PasswordResetByEmail
            | AuditAction::EmailVerified
            | AuditAction::MfaTotpEnrolled
            | AuditAction::MfaTotpRemoved
            | AuditAction::MfaRecoveryCodesRenewed => by_ada.target("account", ada()),
            AuditAction::AccountCreated => by_ada
                .target("account", bob())
                .detail("viewer@acme.berlin, auditor@*"),
            AuditAction::SuperadminCreated => event.target("account", ada()),
            AuditAction::LoginFailed => event.target("email", "x@example.com"),
            AuditAction::LoginSucceeded => by_ada.target("session", session).detail("with pwd,otp"),
            AuditAction::Logout | AuditAction::SessionRevoked => by_ada.target("session", session),
            AuditAction::PasswordReset | AuditAction::AccountEnabled => {
                by_ada.target("account", bob())
            }
            AuditAction::AccountDisabled => by_ada.target("account", bob()).revoked_api_keys(2),
            AuditAction::RoleCreated | AuditAction::RoleUpdated => by_ada
                .target("role", "viewer")
                .detail("allow account-read, deny audit-read"),
            AuditAction::RoleDeleted => by_ada.target("role", "viewer"),
            AuditAction::GrantCreated => by_ada.target("grant", Uuid::from_u128(9)).detail(
                format!("viewer@acme.berlin to {}", PrincipalId::Account(bob())),
            ),
            AuditAction::GrantDeleted => by_ada.target("grant", Uuid::from_u128(9)).detail(
                format!("viewer@acme.berlin from {}", PrincipalId::ApiKey(key())),
            ),
            AuditAction::ApiKeyCreated => by_ada
                .target("api_key", key())
                .detail("name \"ci deploy\"; issuer-admin@acme"),
            AuditAction::ApiKeyRevoked => by_ada.target("api_key", key()).revoked_api_keys(1),
            AuditAction::FeaturesReloaded => event
                .target("file", "features/_features.conf")
                .detail("account-registration=off, metrics=on"),
            AuditAction::FeaturesRejected => event
                .target("file", "features/_features.conf")
                .detail("line 2: unknown feature `no-such-feature`"),
            AuditAction::FeatureChanged => {
                by_ada.target("feature", "web-console").detail("disabled")
            }
            AuditAction::MailGaveUp => event
                .target("mail", Uuid::from_u128(7))
                .detail("password_reset to bob@example.com after 12 attempts: 550 no such user"),
            AuditAction::InvitationCreated | AuditAction::InvitationResent => by_ada
                .target("invitation", Uuid::from_u128(8))
                .detail("to grace@example.com; viewer@acme"),
            AuditAction::InvitationRevoked => by_ada.target("invitation", Uuid::from_u128(8)),
            AuditAction::InvitationAccepted => event
                .actor(PrincipalId::Account(bob()))
                .target("account", bob())
                .detail(format!("invitation {}; no grants", Uuid::from_u128(8))),
            AuditAction::MfaRecoveryCodeUsed => {
                by_ada.target("account", ada()).detail("at sign-in")
            }
            AuditAction::MfaFailed => by_ada
                .target("account", ada())
                .detail("wrong code at sign-in"),
            AuditAction::MfaStepUp => by_ada.target("session", session).detail("with passkey"),
            AuditAction::PasskeyAdded => by_ada
                .target("passkey", Uuid::from_u128(6))
                .detail("named \"Laptop\""),
            AuditAction::PasskeyRemoved => by_ada.target("passkey", Uuid::from_u128(6)),
            AuditAction::MfaReset => event
                .target("account", bob())
                .detail("by an operator: ticket 42"),
            AuditAction::AuditPruned => event.detail("120 events from before 2025-11-01 00:00 UTC"),
        }
    }

    /// What each action's sample says; an action missing here fails the test below.
    const SENTENCES: &[(AuditAction, &str)] = &[
        (AuditAction::AccountRegistered, "ada@example.com signed up"),
        (
            AuditAction::AccountCreated,
            "ada@example.com created the account bob@example.com with role viewer on acme.berlin \
             and role auditor on *",
        ),
        (
            AuditAction::SuperadminCreated,
            "The super admin ada@example.com was created (from the command line or at start-up)",
        ),
        (
            AuditAction::LoginSucceeded,
            "ada@example.com signed in with a password and an authenticator code",
        ),
        (
            AuditAction::MfaTotpEnrolled,
            "ada@example.com set up an authenticator app for two-step sign-in",
        ),
        (
            AuditAction::MfaTotpRemoved,
            "ada@example.com removed their authenticator app",
        ),
        (
            AuditAction::MfaRecoveryCodesRenewed,
            "ada@example.com made new recovery codes; the old ones stopped working",
        ),
        (
            AuditAction::MfaRecoveryCodeUsed,
            "ada@example.com used a recovery code (at sign-in)",
        ),
        (
            AuditAction::MfaFailed,
            "ada@example.com gave a wrong second factor (wrong code at sign-in)",
        ),
        (
            AuditAction::MfaStepUp,
            "ada@example.com confirmed it was them with a passkey",
        ),
        (
            AuditAction::PasskeyAdded,
            "ada@example.com added a passkey (named \"Laptop\")",
        ),
        (
            AuditAction::PasskeyRemoved,
            "ada@example.com removed a passkey",
        ),
        (
            AuditAction::MfaReset,
            "An operator removed every second factor of the account bob@example.com and ended \
             its sessions (by an operator: ticket 42)",
        ),
        (
            AuditAction::AuditPruned,
            "Old audit events were deleted (120 events from before 2025-11-01 00:00 UTC)",
        ),
        (
            AuditAction::LoginFailed,
            "Someone failed to sign in as x@example.com",
        ),
        (AuditAction::Logout, "ada@example.com signed out"),
        (
            AuditAction::SessionRevoked,
            "ada@example.com signed out one of their sessions",
        ),
        (
            AuditAction::PasswordChanged,
            "ada@example.com changed their password; their other sessions ended",
        ),
        (
            AuditAction::PasswordReset,
            "ada@example.com reset the password of bob@example.com; every session of the account \
             ended",
        ),
        (
            AuditAction::AccountDisabled,
            "ada@example.com disabled the account bob@example.com, and revoked 2 API keys it \
             created (directly or through its keys)",
        ),
        (
            AuditAction::AccountEnabled,
            "ada@example.com enabled the account bob@example.com",
        ),
        (
            AuditAction::RoleCreated,
            "ada@example.com created the role viewer with the rules: allow account-read, deny \
             audit-read",
        ),
        (
            AuditAction::RoleUpdated,
            "ada@example.com changed the rules of the role viewer to: allow account-read, deny \
             audit-read",
        ),
        (
            AuditAction::RoleDeleted,
            "ada@example.com deleted the role viewer",
        ),
        (
            AuditAction::GrantCreated,
            "ada@example.com granted role viewer on acme.berlin to bob@example.com",
        ),
        (
            AuditAction::GrantDeleted,
            "ada@example.com removed role viewer on acme.berlin from API key \u{201c}ci deploy\u{201d}",
        ),
        (
            AuditAction::ApiKeyCreated,
            "ada@example.com created the API key \u{201c}ci deploy\u{201d} with role issuer-admin \
             on acme",
        ),
        (
            AuditAction::ApiKeyRevoked,
            "ada@example.com revoked the API key \u{201c}ci deploy\u{201d}, and revoked 1 API key \
             it created (directly or through its keys)",
        ),
        (
            AuditAction::FeaturesReloaded,
            "The features file was reloaded: account-registration=off, metrics=on",
        ),
        (
            AuditAction::FeaturesRejected,
            "An edit of the features file was refused, and the last good state stays in force: \
             line 2: unknown feature `no-such-feature`",
        ),
        (
            AuditAction::FeatureChanged,
            "ada@example.com switched the feature web-console off",
        ),
        (
            AuditAction::PasswordResetByEmail,
            "ada@example.com set a new password through an emailed link; every session of the \
             account ended",
        ),
        (
            AuditAction::EmailVerified,
            "ada@example.com verified their email address through an emailed link",
        ),
        (
            AuditAction::MailGaveUp,
            "Delivery of the email 00000000-0000-0000-0000-000000000007 was given up \
             (password_reset to bob@example.com after 12 attempts: 550 no such user)",
        ),
        (
            AuditAction::InvitationCreated,
            "ada@example.com invited grace@example.com with role viewer on acme",
        ),
        (
            AuditAction::InvitationResent,
            "ada@example.com sent a new invitation link to grace@example.com with role viewer \
             on acme",
        ),
        (
            AuditAction::InvitationRevoked,
            "ada@example.com revoked the invitation 00000000-0000-0000-0000-000000000008",
        ),
        (
            AuditAction::InvitationAccepted,
            "bob@example.com accepted an invitation and signed up with no grants",
        ),
    ];

    #[test]
    fn revoking_no_api_keys_goes_unsaid() {
        let at = Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap();
        let event = AuditEvent::new(AuditAction::AccountDisabled, at)
            .actor(PrincipalId::Account(ada()))
            .target("account", bob())
            .revoked_api_keys(0);
        assert_eq!(
            audit_event_in_words(&event, &names()).to_string(),
            "ada@example.com disabled the account bob@example.com"
        );
    }

    #[test]
    fn every_audit_action_is_said_in_words() {
        let names = names();
        let mut labels = Vec::new();
        for action in AuditAction::ALL {
            let expected = SENTENCES
                .iter()
                .find(|(said, _)| *said == action)
                .map_or_else(
                    || panic!("no wording for {action}: add it to SENTENCES"),
                    |(_, sentence)| *sentence,
                );
            let said = audit_event_in_words(&sample(action), &names).to_string();
            assert_eq!(said, expected, "{action}");
            assert!(!said.contains(action.as_str()), "{action}: {said}");
            labels.push(audit_action_in_words(action));
        }
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(
            labels.len(),
            AuditAction::ALL.len(),
            "two actions share a label"
        );
    }

    #[test]
    fn events_name_only_whom_the_viewer_may_know() {
        let nobody = PrincipalNames::default();
        let granted = audit_event_in_words(&sample(AuditAction::GrantCreated), &nobody).to_string();
        assert_eq!(
            granted,
            format!(
                "{} granted role viewer on acme.berlin to {}",
                PrincipalId::Account(ada()),
                PrincipalId::Account(bob())
            )
        );
        let key_label = PrincipalId::ApiKey(key()).to_string();
        assert_eq!(
            principal_in_words(&key_label, &nobody).to_string(),
            key_label
        );
        assert_eq!(
            principal_in_words(&key_label, &names()).to_string(),
            "API key \u{201c}ci deploy\u{201d}"
        );
        // A key acting, and a password check failed by someone signed in.
        let by_key = sample(AuditAction::RoleDeleted);
        let by_key = AuditEvent {
            actor: Some(key_label),
            ..by_key
        };
        assert_eq!(
            audit_event_in_words(&by_key, &names()).to_string(),
            "API key \u{201c}ci deploy\u{201d} deleted the role viewer"
        );
        let checked = AuditEvent::new(AuditAction::LoginFailed, Utc::now())
            .actor(PrincipalId::Account(ada()))
            .target("email", "ada@example.com")
            .detail("wrong current password on password change");
        assert_eq!(
            audit_event_in_words(&checked, &names()).to_string(),
            "ada@example.com failed a password check as ada@example.com (wrong current password \
             on password change)"
        );
    }

    #[test]
    fn details_of_an_unexpected_shape_are_shown_as_they_are() {
        let names = names();
        let odd_grant = AuditEvent {
            detail: Some("something else".to_owned()),
            ..sample(AuditAction::GrantCreated)
        };
        assert_eq!(
            audit_event_in_words(&odd_grant, &names).to_string(),
            format!(
                "ada@example.com created the grant {} (something else)",
                Uuid::from_u128(9)
            )
        );
        let no_grants = AuditEvent {
            detail: Some("no grants".to_owned()),
            ..sample(AuditAction::AccountCreated)
        };
        assert_eq!(
            audit_event_in_words(&no_grants, &names).to_string(),
            "ada@example.com created the account bob@example.com with no grants"
        );
        let unchanged = AuditEvent {
            detail: Some("no value changed".to_owned()),
            ..sample(AuditAction::FeaturesReloaded)
        };
        assert_eq!(
            audit_event_in_words(&unchanged, &names).to_string(),
            "The features file was reloaded; no value changed"
        );
    }

    /// A key whose name reads like another event.
    const FORGED: &str = "ci\u{201d} with role boss on *. admin@example.com granted role boss on * \
                          to del@example.com";

    /// The sentence's own wording, without its names and values.
    fn wording(sentence: &Sentence) -> String {
        sentence
            .parts
            .iter()
            .filter(|part| part.kind == PartKind::Words)
            .map(|part| part.text.as_str())
            .collect()
    }

    #[test]
    fn names_are_parts_of_their_own_never_wording() {
        let mut names = names();
        names.api_keys.insert(key(), FORGED.to_owned());
        let revoked = AuditEvent {
            detail: None,
            ..sample(AuditAction::ApiKeyRevoked)
        };
        let said = audit_event_in_words(&revoked, &names);
        assert_eq!(wording(&said), " revoked the API key ");
        assert!(
            said.parts
                .iter()
                .any(|part| part.kind == PartKind::Name && part.text == FORGED),
            "{said:?}"
        );
        // Every kind of event keeps names and recorded values out of its wording.
        for action in AuditAction::ALL {
            let said = audit_event_in_words(&sample(action), &names);
            let wording = wording(&said);
            for name in [
                "ada@example.com",
                "bob@example.com",
                "ci deploy",
                "viewer",
                "acme",
            ] {
                assert!(!wording.contains(name), "{action}: {wording}");
            }
        }
        // A grant to the key, and the key acting.
        let granted = audit_event_in_words(&sample(AuditAction::GrantDeleted), &names);
        assert_eq!(
            wording(&granted),
            " removed role  on  from API key ",
            "{granted:?}"
        );
        assert_eq!(
            granted.parts.last().map(|part| part.text.as_str()),
            Some(FORGED)
        );
    }

    /// The created key's name is shown as it was typed, not as Rust's `{:?}` escapes it.
    #[test]
    fn a_created_keys_name_is_shown_as_created() {
        for name in [
            "ci \"deploy\"",
            "back\\slash",
            "two\nlines",
            "quote\"; admin@* ; x",
            FORGED,
            "\u{202e}reversed",
        ] {
            let event = AuditEvent::new(AuditAction::ApiKeyCreated, Utc::now())
                .actor(PrincipalId::Account(ada()))
                .target("api_key", key())
                .detail(format!("name {name:?}; issuer-admin@acme"));
            let said = audit_event_in_words(&event, &names());
            let named: Vec<&str> = said
                .parts
                .iter()
                .filter(|part| part.kind == PartKind::Name)
                .map(|part| part.text.as_str())
                .collect();
            assert_eq!(named, [name], "{said:?}");
            assert!(
                said.to_string().ends_with("with role issuer-admin on acme"),
                "{said}"
            );
        }
        // A detail of another shape is shown as recorded, as a value.
        let odd = AuditEvent::new(AuditAction::ApiKeyCreated, Utc::now())
            .actor(PrincipalId::Account(ada()))
            .target("api_key", key())
            .detail("name \"unterminated");
        let said = audit_event_in_words(&odd, &names());
        assert_eq!(
            said.parts
                .last()
                .map(|part| (part.kind, part.text.as_str())),
            Some((PartKind::Words, ")"))
        );
        assert!(said.to_string().contains("(name \"unterminated)"), "{said}");
    }

    fn decided_by(effect: Effect, pattern: &str) -> Match {
        Match {
            grant: GrantId::new(Uuid::from_u128(5)),
            role: RoleName::parse("tenant-admin").unwrap(),
            scope: ScopePath::parse("acme").unwrap(),
            rule: Permission {
                pattern: ActionPattern::parse(pattern).unwrap(),
                effect,
            },
        }
    }

    #[test]
    fn a_check_says_what_decided_it() {
        let ada = Account {
            id: ada(),
            email: Email::parse("ada@example.com").unwrap(),
            name: None,
            status: AccountStatus::Active,
            is_superadmin: false,
            email_verified: true,
            has_second_factor: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let account = CheckSubject::Account(ada);
        let say = |outcome: CheckOutcome, subject: &CheckSubject| {
            check_in_words(&outcome, subject, "audit-read", "acme.berlin")
        };
        let allowed = |m| CheckOutcome::Decided(Decision::Allowed(Reason::AllowedBy(m)));
        assert_eq!(
            say(allowed(decided_by(Effect::Allow, "all")), &account),
            "Allowed by the grant of role tenant-admin on acme: rule \u{201c}all\u{201d} allows \
             every action."
        );
        assert_eq!(
            say(allowed(decided_by(Effect::Allow, "audit-*")), &account),
            "Allowed by the grant of role tenant-admin on acme: rule \u{201c}audit-*\u{201d} \
             allows every action starting with \u{201c}audit-\u{201d}."
        );
        assert_eq!(
            say(
                CheckOutcome::Decided(Decision::Denied(Reason::DeniedBy(decided_by(
                    Effect::Deny,
                    "audit-read"
                )))),
                &account
            ),
            "Denied by the grant of role tenant-admin on acme: rule \u{201c}audit-read\u{201d} \
             denies audit-read, and a deny wins over any allow."
        );
        assert_eq!(
            say(
                CheckOutcome::Decided(Decision::Denied(Reason::NoMatchingGrant)),
                &CheckSubject::Caller
            ),
            "Denied: no grant that covers acme.berlin allows audit-read."
        );
        assert!(
            say(
                CheckOutcome::Decided(Decision::Allowed(Reason::SuperAdmin)),
                &account
            )
            .starts_with("Allowed: super admin.")
        );
        assert!(say(CheckOutcome::Inactive, &account).contains("the account is disabled"));
        let key = CheckSubject::ApiKey {
            id: key(),
            name: None,
        };
        assert!(say(CheckOutcome::Inactive, &key).contains("the API key is revoked"));
        assert_eq!(
            subject_in_words(&key),
            format!("API key {}", ApiKeyId::new(Uuid::from_u128(3)))
        );
        assert_eq!(subject_in_words(&account), "ada@example.com");
        assert_eq!(subject_in_words(&CheckSubject::Caller), "You");
    }

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

#[cfg(test)]
mod holder_and_key_tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use roster_domain::{AccountId, ApiKeyId};
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
}
