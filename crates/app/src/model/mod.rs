//! The application's records: what the use cases, the ports and the adapters hand each other
//! (a stored account, an API key, a page of grants, an audit event, a store error, ...). Plain
//! data with the few rules that belong to the record itself ([`ApiKey::is_usable`]); the port
//! traits that move them are in [`crate::ports`], the rules of access in `roster-domain`.

mod accounts;
mod api_keys;
mod audit;
mod credentials;
mod features;
mod grants;
mod invitations;
mod mail;
mod mfa;
mod passkeys;
mod roles;
mod sessions;
mod store_error;
mod throttle;

pub use accounts::{AccountPage, AccountWithGrants, StatusChange, StoredAccount};
pub use api_keys::{ApiKey, ApiKeyPage, StoredApiKey};
pub use audit::{AuditAction, AuditEvent, AuditPage, AuditQuery, AuditRange, GrantChange};
pub use credentials::{HashError, IssuedToken, PasswordHash, TokenDigest};
pub use features::{Feature, FeatureEditError, FeatureReport, FeatureSource, FeatureState};
pub use grants::{GrantInsertion, GrantPage, GrantRecord, NewGrant};
pub use invitations::{
    Invitation, InvitationChange, InvitationId, InvitationPage, InvitationStatus, InvitedGrant,
};
pub use mail::{
    ClaimedMail, DeliveryError, DeliveryReport, EmailRequest, EmailTokenPurpose, MailDelivery,
    MailError, MailKind, MailMessage, NewEmailToken, OutboxStats, SealedMail,
};
pub use mfa::{
    AuthMethod, AuthMethods, MfaChallenge, SealedTotpSecret, TotpEnrolment, TotpError, TotpRecord,
};
pub use passkeys::{
    AssertionClaims, Ceremony, CeremonyPurpose, CeremonyState, CredentialId,
    MAX_PASSKEY_NAME_CHARS, Passkey, PasskeyCredential, PasskeyError, PasskeyId,
    RegisteredCredential, StartedCeremony, StoredPasskey, VerifiedAssertion, WebAuthnOptions,
};
pub use roles::{
    CheckedRole, RoleDeletion, RoleHolder, RoleHolders, RoleHolding, RolePage, StoredRole,
};
pub use sessions::{
    ClientInfo, MAX_USER_AGENT_CHARS, NewSession, SessionId, SessionRecord, SessionSummary,
};
pub use store_error::{Conflict, Missing, StoreError};
pub use throttle::ThrottleState;
