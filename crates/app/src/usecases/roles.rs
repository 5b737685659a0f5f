//! Roles: named sets of permission rules, managed by holders of `role-manage`. Changing the
//! rules of a role that is held needs, wherever it is held, what taking the old role away
//! and giving the new one would need, so `role-manage` alone cannot widen anyone's rights.

use std::collections::HashMap;

use roster_domain::mfa::grant_needs_step_up;
use roster_domain::{
    ActionPattern, BuiltinAction, Effect, Permission, PrincipalId, Rights, Role, RoleName,
};
use tracing::instrument;

use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};
use crate::model::{
    AuditAction, CheckedRole, Conflict, RoleDeletion, RoleHolders, RolePage, StoreError, StoredRole,
};

/// Most rules a role may carry: far beyond any sensible role, small enough that evaluation
/// and storage stay cheap.
pub const MAX_RULES: usize = 256;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 1000;
/// Most grants [`Roster::role_holders`] lists at once: enough to name a few and say how many
/// more there are, without reading every grant of a widely held role.
pub const MAX_HOLDERS_LISTED: u32 = 100;

/// One rule as a client sends it; `effect` defaults to `allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleForm {
    pub action: String,
    pub effect: Option<String>,
}

/// A role as a client sends it (create or replace), not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleForm {
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<RuleForm>,
}

impl RoleForm {
    /// Parses every field and reports all problems at once, each naming its field
    /// (`permissions[2].action`, ...).
    fn validate(&self) -> Result<Role, AppError> {
        let mut errors = Vec::new();
        let name = RoleName::parse(&self.name)
            .map_err(|e| errors.push(FieldError::new("name", e.code(), e.to_string())))
            .ok();
        let description = self.description.clone().unwrap_or_default();
        if description
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            errors.push(FieldError::new(
                "description",
                "invalid_description",
                "control characters other than line breaks and tabs are not allowed",
            ));
        } else if let Err(problem) = roster_domain::text::check_display_text(&description) {
            // Shown to administrators: nothing may reorder or hide part of it.
            errors.push(FieldError::new(
                "description",
                "invalid_description",
                match problem {
                    roster_domain::text::TextProblem::BidiControl => {
                        "bidirectional control characters are not allowed"
                    }
                    roster_domain::text::TextProblem::Invisible => {
                        "invisible characters (such as a zero-width space) are not allowed"
                    }
                },
            ));
        }
        if description.chars().count() > MAX_DESCRIPTION {
            errors.push(FieldError::new(
                "description",
                "description_too_long",
                format!("at most {MAX_DESCRIPTION} characters"),
            ));
        }
        if self.permissions.len() > MAX_RULES {
            errors.push(FieldError::new(
                "permissions",
                "too_many_rules",
                format!("at most {MAX_RULES} rules"),
            ));
        }
        let mut permissions = Vec::with_capacity(self.permissions.len());
        for (i, rule) in self.permissions.iter().enumerate().take(MAX_RULES) {
            let pattern = ActionPattern::parse(&rule.action).map_err(|e| {
                FieldError::new(format!("permissions[{i}].action"), e.code(), e.to_string())
            });
            let effect = match rule.effect.as_deref() {
                None => Ok(Effect::Allow),
                Some(text) => Effect::parse(text).ok_or_else(|| {
                    FieldError::new(
                        format!("permissions[{i}].effect"),
                        "invalid_effect",
                        "must be \"allow\" or \"deny\"",
                    )
                }),
            };
            match (pattern, effect) {
                (Ok(pattern), Ok(effect)) => permissions.push(Permission { pattern, effect }),
                (pattern, effect) => errors.extend(pattern.err().into_iter().chain(effect.err())),
            }
        }
        match name {
            Some(name) if errors.is_empty() => Ok(Role {
                name,
                description,
                permissions,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// `allow issuer-*, deny issuer-delete` for audit details.
fn describe_rules(role: &Role) -> String {
    role.permissions
        .iter()
        .map(|p| format!("{} {}", p.effect.as_str(), p.pattern))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A role name from a path: an invalid one cannot exist, so it is simply not found.
fn role_name(name: &str) -> Result<RoleName, AppError> {
    RoleName::parse(name).map_err(|_| AppError::NotFound("role"))
}

impl Roster {
    /// # Errors
    /// `Forbidden`, `Validation`, `RoleExists`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn create_role(
        &self,
        caller: &Authenticated,
        form: &RoleForm,
    ) -> Result<StoredRole, AppError> {
        caller.require_global(BuiltinAction::RoleManage)?;
        let role = form.validate()?;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::RoleCreated, now)
            .target("role", &role.name)
            .detail(describe_rules(&role));
        match self.ports.roles.insert_role(&role, now, &audit).await {
            Ok(()) => Ok(StoredRole {
                role,
                created_at: now,
                updated_at: now,
            }),
            Err(StoreError::Duplicate(Conflict::Role)) => Err(AppError::RoleExists),
            Err(other) => Err(other.into()),
        }
    }

    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn list_roles(
        &self,
        caller: &Authenticated,
        after: Option<&str>,
        limit: u32,
    ) -> Result<RolePage, AppError> {
        caller.require_global(BuiltinAction::RoleManage)?;
        let after = after.map(RoleName::parse).transpose().map_err(|_| {
            AppError::Validation(vec![FieldError::new(
                "cursor",
                "invalid_cursor",
                "not a cursor from this list",
            )])
        })?;
        Ok(self.ports.roles.list_roles(after, limit).await?)
    }

    /// # Errors
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn role(&self, caller: &Authenticated, name: &str) -> Result<StoredRole, AppError> {
        caller.require_global(BuiltinAction::RoleManage)?;
        self.ports
            .roles
            .find_role(&role_name(name)?)
            .await?
            .ok_or(AppError::NotFound("role"))
    }

    /// Who holds role `name`: its first `limit` grants (at most [`MAX_HOLDERS_LISTED`]),
    /// accounts' first, and how many there are in all, so that a refused deletion
    /// (`RoleInUse`) can say which grants stand in the way. An account is named (by its
    /// email) only to a caller who may read accounts (`account-read` on `*`), an API key (by
    /// its name) only to one who may manage keys (`apikey-manage` on `*`); anyone else sees
    /// such a holder's kind and scope, unnamed: `role-manage` alone does not reveal who
    /// holds what.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn role_holders(
        &self,
        caller: &Authenticated,
        name: &str,
        limit: u32,
    ) -> Result<RoleHolders, AppError> {
        caller.require_global(BuiltinAction::RoleManage)?;
        let name = role_name(name)?;
        let mut found = self
            .ports
            .roles
            .holders(&name, limit.min(MAX_HOLDERS_LISTED))
            .await?
            .ok_or(AppError::NotFound("role"))?;
        let sees_accounts = caller.may_global(BuiltinAction::AccountRead);
        let sees_keys = caller.may_global(BuiltinAction::ApikeyManage);
        for holder in &mut found.holders {
            let named = match holder.holder {
                PrincipalId::Account(_) => sees_accounts,
                PrincipalId::ApiKey(_) => sees_keys,
            };
            if !named {
                holder.label = None;
            }
        }
        Ok(found)
    }

    /// Replaces a role's description and rules. Roles are not renamed: `form.name` must be
    /// `name` (checked after the permission, so a caller without `role-manage` learns
    /// nothing). Every grant of the role sees the new rules from the next request on, so a
    /// change of rules is checked as taking the old role away and giving the new one at each
    /// grant (see [`Roster::require_role_change`]).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Validation` (`name_mismatch`, rule fields), `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn replace_role(
        &self,
        caller: &Authenticated,
        name: &str,
        form: &RoleForm,
    ) -> Result<StoredRole, AppError> {
        caller.require_global(BuiltinAction::RoleManage)?;
        if form.name != name {
            return Err(AppError::Validation(vec![FieldError::new(
                "name",
                "name_mismatch",
                "roles cannot be renamed; leave `name` out or repeat the path's",
            )]));
        }
        let name = role_name(name)?;
        let role = RoleForm {
            name: name.to_string(),
            ..form.clone()
        }
        .validate()?;
        let current = self
            .ports
            .roles
            .find_role(&role.name)
            .await?
            .ok_or(AppError::NotFound("role"))?;
        let checked = self
            .require_role_change(caller, &current.role, &role)
            .await?;
        // Giving a held role the power to grant is granting it to every holder.
        if grant_needs_step_up(&role.permissions) && !grant_needs_step_up(&current.role.permissions)
        {
            self.require_step_up(caller)?;
        }
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::RoleUpdated, now)
            .target("role", &role.name)
            .detail(describe_rules(&role));
        let updated = self
            .ports
            .roles
            .update_role(&role, checked, now, &audit)
            .await?
            .ok_or(AppError::NotFound("role"))?;
        self.forget_introspectors();
        Ok(updated)
    }

    /// `Forbidden` unless the caller may turn `current` into `new` wherever it is held: for
    /// each grant of the role, take `current` away and give `new` on its scope to its holder.
    /// A role nobody holds, or an edit of the description alone, changes nobody's rights.
    ///
    /// The holders' own grants matter only for deny rules, so they are loaded only then.
    /// Returns what the check saw, for the store to confirm in the updating transaction: the
    /// rules always (a concurrent edit fails this one with `RoleChanged` rather than being
    /// overwritten), the grants when they were weighed (a grant made meanwhile fails it too).
    async fn require_role_change(
        &self,
        caller: &Authenticated,
        current: &Role,
        new: &Role,
    ) -> Result<CheckedRole, AppError> {
        if caller.principal.is_superadmin || current.permissions == new.permissions {
            return Ok(CheckedRole {
                rules: current.permissions.clone(),
                holdings: None,
            });
        }
        let holdings = self.ports.roles.holdings(&current.name).await?;
        let has_deny = |role: &Role| role.permissions.iter().any(|p| p.effect == Effect::Deny);
        let needs_holders = has_deny(current) || has_deny(new);
        let mut held = HashMap::new();
        for holding in &holdings {
            if needs_holders && !held.contains_key(&holding.holder) {
                held.insert(holding.holder, self.held_or_gone(holding.holder).await?);
            }
            let rights = held
                .get(&holding.holder)
                .and_then(Option::as_ref)
                .map_or(Rights::NONE, |held| held.rights());
            if rights.is_superadmin {
                // A super admin's rights do not depend on its grants: the edit changes none.
                continue;
            }
            caller.require_grant_change(rights, current, &holding.scope)?;
            caller.require_grant_change(rights, new, &holding.scope)?;
        }
        Ok(CheckedRole {
            rules: current.permissions.clone(),
            holdings: Some(holdings),
        })
    }

    /// What `holder` holds, or `None` when it was deleted meanwhile (its grants went with it).
    async fn held_or_gone(
        &self,
        holder: PrincipalId,
    ) -> Result<Option<super::caller::Held>, AppError> {
        match self.held_by(holder).await {
            Ok(held) => Ok(Some(held)),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Deletes a role nobody holds.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `RoleInUse`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn delete_role(&self, caller: &Authenticated, name: &str) -> Result<(), AppError> {
        caller.require_global(BuiltinAction::RoleManage)?;
        let name = role_name(name)?;
        let audit = caller
            .audit(AuditAction::RoleDeleted, self.ports.clock.now())
            .target("role", &name);
        match self.ports.roles.delete_role(&name, &audit).await? {
            RoleDeletion::Deleted => Ok(()),
            RoleDeletion::NotFound => Err(AppError::NotFound("role")),
            RoleDeletion::InUse => Err(AppError::RoleInUse),
        }
    }
}

#[cfg(test)]
mod tests;
