//! Roster's application layer: the model (records both sides share), the ports (traits the
//! adapters implement) and the use cases that orchestrate them. Nothing here knows about HTTP, SQL, files or the system clock; the
//! composition root in `crates/server` plugs adapters in as `Arc<dyn Port>`.

pub mod error;
pub mod lifetime;
pub mod model;
pub mod ports;
pub mod usecases;

pub use error::{AppError, FieldError};
pub use model::{
    ClientInfo, Feature, FeatureEditError, FeatureReport, FeatureSource, FeatureState,
};
pub use ports::FeatureManager;
pub use usecases::MAX_RULES;
pub use usecases::{
    AcceptedInvitation, AccountDetails, ApiKeyDetails, AuditSettings, Authenticated, CallerKind,
    CheckForm, CheckOutcome, CreatedApiKey, EmailVerification, FeatureOverview, GrantForm,
    GrantLimits, GrantOptions, InvitationForm, LoginSuccess, LoginThrottlePolicy, MailRetryPolicy,
    MailSenderSettings, OwnSession, PasswordResetSettings, RegistrationForm, RegistrationPolicy,
    RegistrationPolicyView, RoleForm, Roster, RosterPorts, RosterSettings, RuleForm,
    SelfRegistration, SessionSettings, VERIFICATION_TTL,
};
pub use usecases::{ActiveToken, Introspection, TokenHolder};
pub use usecases::{
    AuditTrail, AuditTrailForm, CHECK_CHOICE_LIMIT, CheckChoices, CheckSubject, PrincipalNames,
    SubjectCheck, SubjectCheckForm,
};
pub use usecases::{BootstrapOutcome, ReloadEvent};
pub use usecases::{
    LoginOutcome, MfaSettings, MfaStatus, RECOVERY_CODES, RecoveryCodes, SecondFactorPending,
    TotpSecret,
};
