//! Grants: a role given to an account or API key on a scope. Creating or deleting one needs
//! `grant-manage` throughout its scope and, unless the caller is a super admin, every action
//! the role allows there, and for the role's deny rules the holder's rights they cut or free
//! (see [`roster_domain::may_change_grant`]). A super admin's grants change only by a super
//! admin.

use roster_domain::mfa::grant_needs_step_up;
use roster_domain::{
    BuiltinAction, Grant, GrantId, PrincipalId, Rights, Role, RoleName, ScopePath, may_delegate,
    may_manage_grants_on,
};
use tracing::instrument;
use uuid::Uuid;

use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};
use crate::model::{
    AuditAction, Conflict, GrantInsertion, GrantPage, Missing, NewGrant, StoreError,
};

/// A grant as it arrives from a client, not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantForm {
    pub role: String,
    pub scope: String,
}

/// What a caller may give, for a form that offers only that: the roles it may grant
/// somewhere, and the scopes at or beneath which it may manage grants. An offer, not a
/// promise: giving a role still goes through [`Roster::create_grant`]'s checks (the role may
/// be delegable on some of these scopes only, and a deny rule weighs the holder's rights).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantOptions {
    /// Every role the caller may give on at least one scope where it manages grants (every
    /// role for a super admin), in name order.
    pub roles: Vec<RoleName>,
    /// Where the caller may manage grants (`*` for a super admin), in order. Granting on a
    /// scope beneath one of these is allowed as well. A scope beneath another stays listed:
    /// some roles may be delegable on the narrower one only.
    pub scopes: Vec<ScopePath>,
}

/// How many roles one read of the role port asks for while collecting [`GrantOptions`].
const ROLE_PAGE: u32 = 200;

/// The scopes of `grants` on which they hold `grant-manage` throughout (see
/// [`may_manage_grants_on`]), each once, in order. Only the scopes of the grants themselves
/// are candidates: where a deny beneath a grant's scope keeps it from qualifying, the
/// sub-scopes still open cannot be listed (there are endlessly many), so none is offered.
fn grant_manage_scopes(grants: &[Grant]) -> Vec<ScopePath> {
    let mut scopes: Vec<ScopePath> = grants
        .iter()
        .map(|grant| grant.scope.clone())
        .filter(|scope| may_manage_grants_on(grants, scope))
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// Parses the grants of a creation request; problems name `grants[i].role` / `.scope`, and
/// a (role, scope) pair given twice names `grants[i]` (`duplicate_grant`).
pub(super) fn parse_grant_forms(
    forms: &[GrantForm],
) -> Result<Vec<(RoleName, ScopePath)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut parsed: Vec<(RoleName, ScopePath)> = Vec::new();
    for (i, form) in forms.iter().enumerate() {
        match parse_grant_form(form, &format!("grants[{i}].")) {
            Ok(grant) if parsed.contains(&grant) => errors.push(FieldError::new(
                format!("grants[{i}]"),
                "duplicate_grant",
                "this role is already given on this scope earlier in the list",
            )),
            Ok(grant) => parsed.push(grant),
            Err(problems) => errors.extend(problems),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

/// Parses one grant; problems name `{prefix}role` and `{prefix}scope`.
fn parse_grant_form(
    form: &GrantForm,
    prefix: &str,
) -> Result<(RoleName, ScopePath), Vec<FieldError>> {
    let role = RoleName::parse(&form.role)
        .map_err(|e| FieldError::new(format!("{prefix}role"), e.code(), e.to_string()));
    let scope = ScopePath::parse(&form.scope)
        .map_err(|e| FieldError::new(format!("{prefix}scope"), e.code(), e.to_string()));
    match (role, scope) {
        (Ok(role), Ok(scope)) => Ok((role, scope)),
        (role, scope) => Err(role.err().into_iter().chain(scope.err()).collect()),
    }
}

/// `role@scope, ...` for audit details.
pub(super) fn describe_grants(grants: &[NewGrant]) -> String {
    if grants.is_empty() {
        return "no grants".to_owned();
    }
    grants
        .iter()
        .map(|g| format!("{}@{}", g.role, g.scope))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Roster {
    /// Checks the grants fit the cap on grants per holder (`TooManyGrants`), the caller may
    /// grant on each scope, loads each role (`RoleNotFound` if missing) and checks the caller
    /// may give it there to a principal holding `holder` ([`Rights::NONE`] for one being
    /// created).
    pub(super) async fn authorize_grants(
        &self,
        caller: &Authenticated,
        holder: Rights<'_>,
        grants: Vec<(RoleName, ScopePath)>,
    ) -> Result<Vec<NewGrant>, AppError> {
        if grants.is_empty() {
            return Ok(Vec::new());
        }
        // A new holder's grants all arrive here, so this bounds them; grants added later are
        // counted by the store (`insert_grant`).
        let limit = self.grant_limits.max_per_holder;
        if grants.len() > limit as usize {
            return Err(AppError::TooManyGrants { limit });
        }
        let now = self.ports.clock.now();
        let mut authorized = Vec::with_capacity(grants.len());
        for (role, scope) in grants {
            caller.require_grant_manage(&scope)?;
            let stored = self
                .ports
                .roles
                .find_role(&role)
                .await?
                .ok_or(AppError::RoleNotFound)?;
            caller.require_grant_change(holder, &stored.role, &scope)?;
            if grant_needs_step_up(&stored.role.permissions) {
                self.require_step_up(caller)?;
            }
            authorized.push(NewGrant {
                id: GrantId::new(Uuid::now_v7()),
                role,
                scope,
                created_at: now,
                created_by: Some(caller.principal.id),
                role_rules: stored.role.permissions,
            });
        }
        Ok(authorized)
    }

    /// Grants `form.role` on `form.scope` to an account or API key. A role that allows
    /// `grant-manage` needs a recent second factor (step-up).
    ///
    /// # Errors
    /// `Validation` (`role`, `scope`), `RoleNotFound`, `Forbidden`, `MfaStepUpRequired`,
    /// `NotFound` (holder), `GrantExists`, `TooManyGrants`, `Unavailable`.
    #[instrument(skip_all, fields(%holder), err(level = "debug"))]
    pub async fn create_grant(
        &self,
        caller: &Authenticated,
        holder: PrincipalId,
        form: &GrantForm,
    ) -> Result<NewGrant, AppError> {
        let parsed = parse_grant_form(form, "").map_err(AppError::Validation)?;
        caller.require_grant_manage(&parsed.1)?;
        let held = self.held_by(holder).await?;
        let grant = self
            .authorize_grants(caller, held.rights(), vec![parsed])
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("no grant authorized".into()))?;
        let audit = caller
            .audit(AuditAction::GrantCreated, grant.created_at)
            .target("grant", grant.id)
            .detail(format!("{}@{} to {holder}", grant.role, grant.scope));
        let limit = self.grant_limits.max_per_holder;
        match self
            .ports
            .grants
            .insert_grant(holder, &grant, limit, &audit)
            .await
        {
            Ok(GrantInsertion::Inserted) => Ok(grant),
            Ok(GrantInsertion::TooManyGrants) => Err(AppError::TooManyGrants { limit }),
            Err(StoreError::Duplicate(Conflict::Grant)) => Err(AppError::GrantExists),
            Err(StoreError::Missing(Missing::Role)) => Err(AppError::RoleNotFound),
            Err(StoreError::Missing(Missing::Holder)) => Err(not_found(holder)),
            Err(other) => Err(other.into()),
        }
    }

    /// A page of the holder's grants in creation order after `after` (`account-read` for
    /// accounts, `apikey-manage` for API keys).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn list_grants(
        &self,
        caller: &Authenticated,
        holder: PrincipalId,
        after: Option<GrantId>,
        limit: u32,
    ) -> Result<GrantPage, AppError> {
        caller.require_global(read_permission(holder))?;
        self.require_holder(holder).await?;
        Ok(self
            .ports
            .grants
            .list_grants_page(holder, after, limit)
            .await?)
    }

    /// Takes a grant away; needs the same rights as giving it.
    ///
    /// # Errors
    /// `NotFound` (holder or grant), `Forbidden`, `Unavailable`.
    #[instrument(skip_all, fields(%holder, grant_id = %id), err(level = "debug"))]
    pub async fn delete_grant(
        &self,
        caller: &Authenticated,
        holder: PrincipalId,
        id: GrantId,
    ) -> Result<(), AppError> {
        let record = self
            .ports
            .grants
            .find_grant(holder, id)
            .await?
            .ok_or(AppError::NotFound("grant"))?;
        let role = Role {
            name: record.grant.role.clone(),
            description: String::new(),
            permissions: record.grant.permissions.clone(),
        };
        caller.require_grant_manage(&record.grant.scope)?;
        let held = self.held_by(holder).await?;
        caller.require_grant_change(held.rights(), &role, &record.grant.scope)?;
        let audit = caller
            .audit(AuditAction::GrantDeleted, self.ports.clock.now())
            .target("grant", id)
            .detail(format!(
                "{}@{} from {holder}",
                record.grant.role, record.grant.scope
            ));
        if self.ports.grants.delete_grant(holder, id, &audit).await? {
            self.forget_introspectors();
            Ok(())
        } else {
            Err(AppError::NotFound("grant"))
        }
    }

    /// What the caller may give (see [`GrantOptions`]): for a super admin every role and `*`;
    /// for anyone else the roles it may delegate on at least one scope where it holds
    /// `grant-manage` throughout, and those scopes. Needs no `role-manage` (a delegate
    /// usually lacks it: roles are read here only to be offered), but `grant-manage`
    /// somewhere; whoever may grant nowhere learns nothing about roles.
    ///
    /// # Errors
    /// `Forbidden` (no `grant-manage` anywhere), `Unavailable`.
    pub async fn grant_options(&self, caller: &Authenticated) -> Result<GrantOptions, AppError> {
        let principal = &caller.principal;
        let managed = if principal.is_superadmin {
            vec![ScopePath::root()]
        } else {
            grant_manage_scopes(&principal.grants)
        };
        if managed.is_empty() {
            return Err(AppError::Forbidden);
        }
        let mut roles = Vec::new();
        let mut after = None;
        loop {
            let page = self.ports.roles.list_roles(after, ROLE_PAGE).await?;
            let last_page = page.roles.is_empty() || page.next_after.is_none();
            roles.extend(
                page.roles
                    .into_iter()
                    .filter(|stored| {
                        principal.is_superadmin
                            || managed
                                .iter()
                                .any(|scope| may_delegate(&principal.grants, &stored.role, scope))
                    })
                    .map(|stored| stored.role.name),
            );
            if last_page {
                break;
            }
            after = page.next_after;
        }
        Ok(GrantOptions {
            roles,
            scopes: managed,
        })
    }

    async fn require_holder(&self, holder: PrincipalId) -> Result<(), AppError> {
        let exists = match holder {
            PrincipalId::Account(id) => self.ports.accounts.find_by_id(id).await?.is_some(),
            PrincipalId::ApiKey(id) => self.ports.api_keys.find_api_key(id).await?.is_some(),
        };
        if exists {
            Ok(())
        } else {
            Err(not_found(holder))
        }
    }
}

fn read_permission(holder: PrincipalId) -> BuiltinAction {
    match holder {
        PrincipalId::Account(_) => BuiltinAction::AccountRead,
        PrincipalId::ApiKey(_) => BuiltinAction::ApikeyManage,
    }
}

fn not_found(holder: PrincipalId) -> AppError {
    match holder {
        PrincipalId::Account(_) => AppError::NotFound("account"),
        PrincipalId::ApiKey(_) => AppError::NotFound("api key"),
    }
}

#[cfg(test)]
mod tests;
