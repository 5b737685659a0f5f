//! `/v1/admin/invitations...` (invite, list, read, revoke, re-send) and the invitee's
//! `POST /v1/account/invitations/accept`.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::model::{InvitationId, InvitationStatus};
use roster_app::{AppError, Roster};

use crate::dto::{
    AcceptInvitationRequest, AccountDto, AccountWithGrantsDto, CreateInvitationRequest, GrantDto,
    InvitationDto, InvitationFilter, Page, ResendInvitationRequest,
};
use crate::extract::{ApiJson, ApiQuery, Caller, ClientIp, PageParams, PathId, PathResource};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;
use crate::respond::{created, no_store};

impl PathResource for InvitationId {
    const PARAMETER: &'static str = "id";
    const RESOURCE: &'static str = "invitation";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

problems!(
    /// The problems `create` answers besides the shared ones.
    CreateProblems {
        AppError::MfaStepUpRequired => "the caller has a second factor and presented none within \
            `mfa.step_up_window` (default 15 minutes): confirm with `stepUp`, then retry.",
        AppError::Forbidden => "no `account-create` on `*`, or a grant the caller may not give.",
        AppError::RoleNotFound => "a grant names an unknown role.",
        AppError::EmailTaken => "an account has this email address.",
        AppError::InvitationPending => "a pending, unexpired invitation has this email address.",
        AppError::TooManyGrants { limit: 0 } => "more grants than `grants.max_per_holder` (default 1000).",
        AppError::RoleChanged => "a role's rules changed while the request was checked; retry.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_email` (`email`), \
            `invalid_name` (`name`), `invalid_duration` (`expires_in`: not a duration, or over \
            30 days), `invalid_role_name` and `invalid_scope` (`grants[i].role`, \
            `grants[i].scope`), `duplicate_grant`.",
    }
);

/// `POST /v1/admin/invitations`: 201 with the invitation; the link goes by email only.
#[utoipa::path(
    post,
    path = "/v1/admin/invitations",
    operation_id = "createInvitation",
    tag = "invitations",
    summary = "Invite someone by email",
    description = "Stores the invitation and queues an email with the single-use link \
        `{public_url}/console/invitation#rin_...`, in one transaction with the audit event \
        `invitation.created`. The link works for `expires_in` (default 7 days, at most 30). \
        Works whether or not `account-registration` is on and whatever \
        `registration.allowed_domains` says. Needs `account-create` on `*`, and for each grant \
        what creating it would need; the grants are checked now and given on acceptance.",
    request_body = CreateInvitationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The invitation was created and its email queued.",
            body = InvitationDto,
            headers(("Location" = String, description = "`/v1/admin/invitations/{id}`"))),
        CreateProblems,
    ),
)]
pub async fn create(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<CreateInvitationRequest>,
) -> Result<impl Responder, ApiError> {
    let invitation = roster.invite(&caller, body.into()).await?;
    let location = format!("/v1/admin/invitations/{}", invitation.id);
    Ok(created(
        location,
        InvitationDto::new(&invitation, roster.now()),
    ))
}

problems!(
    /// The problems `list` answers besides the shared ones.
    ListProblems {
        ApiError::INVALID_QUERY => "`limit` outside 1..=200, a `cursor` not from this list, or a \
            `status` other than `pending`, `accepted`, `revoked`, `expired`.",
        AppError::Forbidden => "no `account-read` on `*`.",
    }
);

/// `GET /v1/admin/invitations`.
#[utoipa::path(
    get,
    path = "/v1/admin/invitations",
    operation_id = "listInvitations",
    tag = "invitations",
    summary = "List invitations",
    description = "Newest first; `status` filters by the status at this moment. Needs \
        `account-read` on `*`.",
    params(PageParams, InvitationFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of invitations.", body = Page<InvitationDto>),
        ListProblems,
    ),
)]
pub async fn list(
    roster: Data<Roster>,
    Caller(caller): Caller,
    page: PageParams,
    ApiQuery(filter): ApiQuery<InvitationFilter>,
) -> Result<impl Responder, ApiError> {
    let status = filter
        .status
        .as_deref()
        .map(|text| {
            InvitationStatus::parse(text).ok_or_else(|| ApiError::InvalidParameter {
                name: "status".into(),
                message: "must be one of pending, accepted, revoked, expired".into(),
            })
        })
        .transpose()?;
    let page = roster
        .list_invitations(&caller, status, page.after()?, page.limit)
        .await?;
    let now = roster.now();
    Ok(no_store().json(Page {
        items: page
            .invitations
            .iter()
            .map(|invitation| InvitationDto::new(invitation, now))
            .collect(),
        next_cursor: page.next_before.map(|id| id.to_string()),
    }))
}

problems!(
    /// The problems `get` answers besides the shared ones.
    GetProblems {
        AppError::Forbidden => "no `account-read` on `*`.",
        ApiError::NotFound => "no such invitation (also for a malformed id).",
    }
);

/// `GET /v1/admin/invitations/{id}`.
#[utoipa::path(
    get,
    path = "/v1/admin/invitations/{id}",
    operation_id = "getInvitation",
    tag = "invitations",
    summary = "Read an invitation",
    description = "Needs `account-read` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The invitation's id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The invitation.", body = InvitationDto),
        GetProblems,
    ),
)]
pub async fn get(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<InvitationId>,
) -> Result<impl Responder, ApiError> {
    let invitation = roster.invitation(&caller, id).await?;
    Ok(no_store().json(InvitationDto::new(&invitation, roster.now())))
}

problems!(
    /// The problems `revoke` answers besides the shared ones.
    RevokeProblems {
        AppError::Forbidden => "no `account-create` on `*`.",
        ApiError::NotFound => "no such invitation (also for a malformed id).",
        AppError::InvitationAccepted => "the invitation was accepted: disable the account instead.",
    }
);

/// `DELETE /v1/admin/invitations/{id}`: the link stops working at once; 204.
#[utoipa::path(
    delete,
    path = "/v1/admin/invitations/{id}",
    operation_id = "revokeInvitation",
    tag = "invitations",
    summary = "Revoke an invitation",
    description = "The link stops working at once (410 `token_invalid`); audit event \
        `invitation.revoked`. Revoking a revoked invitation changes nothing (204); an accepted \
        one cannot be revoked (409 `invitation_accepted`). Needs `account-create` on `*`.",
    params(("id" = String, Path, format = "uuid", description = "The invitation's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The invitation is revoked."),
        RevokeProblems,
    ),
)]
pub async fn revoke(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<InvitationId>,
) -> Result<impl Responder, ApiError> {
    roster.revoke_invitation(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

problems!(
    /// The problems `resend` answers besides the shared ones.
    ResendProblems {
        AppError::Forbidden => "no `account-create` on `*`, or a grant of the invitation the caller may not give.",
        ApiError::NotFound => "no such invitation (also for a malformed id).",
        AppError::InvitationAccepted => "the invitation was accepted.",
        AppError::InvitationRevoked => "the invitation was revoked: invite the address again.",
        AppError::EmailTaken => "an account has this email address now.",
        AppError::InvitationPending => "another invitation for the address is pending.",
        AppError::RoleNotFound => "a role of the invitation was deleted.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_duration` (`expires_in`).",
    }
);

/// `POST /v1/admin/invitations/{id}/resend`: re-invite with a fresh link.
#[utoipa::path(
    post,
    path = "/v1/admin/invitations/{id}/resend",
    operation_id = "resendInvitation",
    tag = "invitations",
    summary = "Send an invitation again with a new link",
    description = "For a pending or expired invitation: a new link, valid `expires_in` from now \
        (default 7 days, at most 30), in a new email; the old link stops working. Audit event \
        `invitation.resent`. Needs what creating the invitation would need now. The body may \
        be empty (`{}`).",
    params(("id" = String, Path, format = "uuid", description = "The invitation's id.")),
    request_body = ResendInvitationRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The invitation with its new expiry.", body = InvitationDto),
        ResendProblems,
    ),
)]
pub async fn resend(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<InvitationId>,
    ApiJson(body): ApiJson<ResendInvitationRequest>,
) -> Result<impl Responder, ApiError> {
    let invitation = roster
        .resend_invitation(&caller, id, body.expires_in.as_deref())
        .await?;
    Ok(no_store().json(InvitationDto::new(&invitation, roster.now())))
}

problems!(
    /// The problems `accept` answers besides the shared ones.
    AcceptProblems {
        AppError::TokenInvalid => "the token is unknown, expired, used, revoked, or replaced by \
            a newer link.",
        AppError::EmailTaken => "an account with the address was created meanwhile; the \
            invitation stays pending.",
        AppError::Validation(Vec::new()) => "`errors[]`: `password` with `password_too_short`, \
            `password_too_long`, `weak_password`; `name` with `invalid_name`.",
        AppError::RoleNotFound => "a role of the invitation was deleted.",
        AppError::RoleChanged => "a role's rules changed while the request was checked; retry.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing or password-strength work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/account/invitations/accept`: public; the token is the credential.
#[utoipa::path(
    post,
    path = "/v1/account/invitations/accept",
    operation_id = "acceptInvitation",
    tag = "invitations",
    summary = "Accept an invitation (public)",
    description = "Creates the account (active, `email_verified: true`) with exactly the \
        invited grants, marks the invitation accepted and records `invitation.accepted`, in \
        one transaction. Works whether or not `account-registration` is on and whatever \
        `registration.allowed_domains` says. The token is checked before the password. \
        Rate-limited per client IP (shared with login and registration). No session is \
        opened: log in with the new password.",
    request_body = AcceptInvitationRequest,
    responses(
        (status = 201, description = "The account was created.", body = AccountWithGrantsDto,
            headers(("Location" = String, description = "`/v1/admin/accounts/{id}`"))),
        AcceptProblems,
    ),
)]
pub async fn accept(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<AcceptInvitationRequest>,
) -> Result<impl Responder, ApiError> {
    let accepted = roster
        .accept_invitation(&body.token, &body.password, body.name.as_deref(), source_ip)
        .await?;
    let location = format!("/v1/admin/accounts/{}", accepted.account.id);
    Ok(created(
        location,
        AccountWithGrantsDto {
            account: AccountDto::from(&accepted.account),
            grants: accepted.grants.iter().map(GrantDto::from).collect(),
        },
    ))
}
