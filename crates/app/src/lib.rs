//! Roster's application layer: the ports (traits the adapters implement) and the use cases
//! that orchestrate them. Nothing here knows about HTTP, SQL, files or the system clock; the
//! composition root in `crates/server` plugs adapters in as `Arc<dyn Port>`.

pub mod audit;
pub mod error;
pub mod features;
pub mod lifetime;
pub mod ports;
pub mod usecases;

pub use error::{AppError, FieldError};
pub use features::{Feature, FeatureManager, FeatureReport, FeatureSource, FeatureState};
pub use usecases::{
    AccountDetails, ApiKeyDetails, Authenticated, CheckForm, CheckOutcome, CreatedApiKey,
    GrantForm, GrantLimits, LoginSuccess, LoginThrottlePolicy, OwnSession, RegistrationForm,
    RoleForm, Roster, RosterPorts, RosterSettings, RuleForm, SessionSettings,
};
pub use usecases::{BootstrapOutcome, ReloadEvent};
