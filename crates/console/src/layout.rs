//! The frame every page shares: who is signed in, the menu of what they may do, the token
//! their forms carry, and a one-line notice after an action.

use roster_app::Authenticated;
use roster_domain::{Action, BuiltinAction, ScopePath};

use crate::csrf;
use crate::session::Viewer;

/// One entry of the menu.
#[derive(Debug, Clone)]
pub struct MenuItem {
    pub label: &'static str,
    pub href: &'static str,
    /// The page being shown (`aria-current="page"`).
    pub current: bool,
}

/// A menu entry and who sees it.
struct Entry {
    label: &'static str,
    href: &'static str,
    /// Shown to principals allowed any of these actions on `*` (super admins see all).
    /// Empty: shown to everyone signed in.
    needs_any: &'static [BuiltinAction],
}

/// The menu, in order. It only shows what the principal may use; each page and action
/// still checks through its use case.
const MENU: &[Entry] = &[
    Entry {
        label: "My account",
        href: "/console/account",
        needs_any: &[],
    },
    Entry {
        label: "Accounts",
        href: "/console/admin/accounts",
        needs_any: &[BuiltinAction::AccountRead],
    },
    Entry {
        label: "Invitations",
        href: "/console/admin/invitations",
        needs_any: &[BuiltinAction::AccountRead],
    },
    Entry {
        label: "Roles",
        href: "/console/admin/roles",
        needs_any: &[BuiltinAction::RoleManage],
    },
    Entry {
        label: "API keys",
        href: "/console/admin/api-keys",
        needs_any: &[BuiltinAction::ApikeyManage],
    },
    Entry {
        label: "Audit",
        href: "/console/admin/audit",
        needs_any: &[BuiltinAction::AuditRead],
    },
    Entry {
        label: "Who may do what",
        href: "/console/admin/check",
        needs_any: &[BuiltinAction::AccountRead],
    },
    // For operators: anyone allowed a built-in action on `*` (`feature-manage` among them)
    // sees the flags; only `feature-manage` switches them.
    Entry {
        label: "Features",
        href: "/console/admin/features",
        needs_any: &BuiltinAction::ALL,
    },
];

/// What the frame shows.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The signed-in account's email, shown in the header; `None` on the sign-in pages.
    pub signed_in_as: Option<String>,
    pub menu: Vec<MenuItem>,
    /// The token every form of the page carries.
    pub csrf_token: String,
    /// A one-line confirmation of what the last action did.
    pub notice: Option<&'static str>,
}

impl Layout {
    /// The frame of a signed-in page at `path`.
    pub fn signed_in(viewer: &Viewer, path: &str) -> Layout {
        Layout {
            signed_in_as: Some(viewer.account().email.as_str().to_owned()),
            menu: menu_for(&viewer.caller, path),
            csrf_token: viewer.csrf_token.clone(),
            notice: None,
        }
    }

    /// The frame of a sign-in or sign-up page, its forms bound to `token_secret`.
    pub fn anonymous(token_secret: &str) -> Layout {
        Layout {
            signed_in_as: None,
            menu: Vec::new(),
            csrf_token: csrf::token_for(token_secret),
            notice: None,
        }
    }

    /// The same frame with a notice.
    pub fn with_notice(mut self, notice: Option<&'static str>) -> Layout {
        self.notice = notice;
        self
    }
}

/// The menu entries `caller` may use, the one for `path` marked current. A session the MFA
/// policy holds back until it sets up a second factor may use only My account.
fn menu_for(caller: &Authenticated, path: &str) -> Vec<MenuItem> {
    MENU.iter()
        .filter(|entry| {
            entry.needs_any.is_empty()
                || (!caller.mfa_enrolment_required
                    && entry
                        .needs_any
                        .iter()
                        .any(|action| may_globally(caller, *action)))
        })
        .map(|entry| MenuItem {
            label: entry.label,
            href: entry.href,
            current: path == entry.href || path.starts_with(&format!("{}/", entry.href)),
        })
        .collect()
}

/// Whether `caller` may do `action` on `*` (what the built-in admin actions are checked on).
pub fn may_globally(caller: &Authenticated, action: BuiltinAction) -> bool {
    let action: Action = action.into();
    caller.principal.allows(&action, &ScopePath::root())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use roster_app::CallerKind;
    use roster_app::model::ApiKey;
    use roster_domain::{
        AccountId, ActionPattern, ApiKeyId, Grant, GrantId, Permission, Principal, PrincipalId,
        RoleName,
    };
    use uuid::Uuid;

    use super::*;

    fn caller(is_superadmin: bool, scope: &str, rules: &[Permission]) -> Authenticated {
        let grant = Grant {
            id: GrantId::new(Uuid::from_u128(1)),
            role: RoleName::parse("r").unwrap(),
            scope: ScopePath::parse(scope).unwrap(),
            permissions: rules.to_vec(),
        };
        Authenticated {
            principal: Principal {
                id: PrincipalId::Account(AccountId::new(Uuid::from_u128(0xad))),
                is_superadmin,
                grants: Arc::from(vec![grant]),
            },
            kind: CallerKind::ApiKey {
                key: ApiKey {
                    id: ApiKeyId::new(Uuid::from_u128(0xad)),
                    name: "test".to_owned(),
                    created_at: chrono::DateTime::UNIX_EPOCH,
                    created_by: None,
                    expires_at: None,
                    last_used_at: None,
                    revoked_at: None,
                },
            },
            source_ip: None,
            mfa_enrolment_required: false,
        }
    }

    fn allow(action: &str) -> Permission {
        Permission::allow(ActionPattern::parse(action).unwrap())
    }

    fn labels(caller: &Authenticated) -> Vec<&'static str> {
        menu_for(caller, "/console/account")
            .into_iter()
            .map(|item| item.label)
            .collect()
    }

    #[test]
    fn features_are_listed_for_any_builtin_action_on_the_root() {
        for action in BuiltinAction::ALL {
            let menu = labels(&caller(false, "*", &[allow(action.name())]));
            assert!(menu.contains(&"Features"), "{action:?}: {menu:?}");
        }
        assert!(labels(&caller(true, "acme", &[])).contains(&"Features"));
        for nobody in [
            caller(false, "acme", &[allow("all")]),
            caller(false, "*", &[allow("issuer-*")]),
        ] {
            assert_eq!(labels(&nobody), ["My account"]);
        }
    }

    #[test]
    fn a_session_held_back_until_it_enrols_sees_only_my_account() {
        let mut admin = caller(true, "*", &[]);
        assert!(labels(&admin).len() > 1);
        admin.mfa_enrolment_required = true;
        assert_eq!(labels(&admin), ["My account"]);
    }

    #[test]
    fn the_current_page_is_marked() {
        let admin = caller(true, "*", &[]);
        let current: Vec<_> = menu_for(&admin, "/console/admin/features")
            .into_iter()
            .filter(|item| item.current)
            .map(|item| item.label)
            .collect();
        assert_eq!(current, ["Features"]);
    }
}
