//! The registration policy from settings (`registration.*`): which domains may sign up,
//! whether a new account must verify its email address, and what a sign-up form shows of it
//! (`GET /v1/account/registration-policy`).

use roster_domain::{AllowedDomains, Email};

use super::Roster;
use crate::model::Feature;

/// `registration.email_verification`: whether a self-registered account must verify its
/// email address before it can log in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmailVerification {
    /// Self-registered accounts are verified from the start.
    #[default]
    Off,
    /// Self-registered accounts start unverified; their login answers `EmailUnverified`.
    Required,
}

impl EmailVerification {
    /// The settings and wire form: `off` or `required`.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailVerification::Off => "off",
            EmailVerification::Required => "required",
        }
    }

    /// Parses the exact settings form; anything else is `None`.
    ///
    /// ```
    /// use roster_app::EmailVerification;
    ///
    /// assert_eq!(EmailVerification::parse("required"), Some(EmailVerification::Required));
    /// assert_eq!(EmailVerification::parse("Required"), None);
    /// ```
    pub fn parse(text: &str) -> Option<EmailVerification> {
        match text {
            "off" => Some(EmailVerification::Off),
            "required" => Some(EmailVerification::Required),
            _ => None,
        }
    }
}

/// The registration settings. Only public self-registration is bound by them: accounts
/// made by administrators, the bootstrap and invitations are exempt and verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// `registration.allowed_domains`: empty allows any domain.
    pub allowed_domains: AllowedDomains,
    /// `registration.email_verification`.
    pub email_verification: EmailVerification,
    /// `registration.enumeration_safe`: registration must not reveal whether an email has an
    /// account; implies verification (the address's owner must show they read its mail).
    pub enumeration_safe: bool,
}

impl RegistrationPolicy {
    /// The verification in force: `Required` when set so, or implied by `enumeration_safe`.
    ///
    /// ```
    /// use roster_app::{EmailVerification, RegistrationPolicy};
    ///
    /// assert_eq!(RegistrationPolicy::default().verification(), EmailVerification::Off);
    /// let safe = RegistrationPolicy { enumeration_safe: true, ..RegistrationPolicy::default() };
    /// assert_eq!(safe.verification(), EmailVerification::Required);
    /// ```
    pub fn verification(&self) -> EmailVerification {
        if self.enumeration_safe {
            EmailVerification::Required
        } else {
            self.email_verification
        }
    }

    /// Whether a self-registered account starts verified.
    pub fn self_registered_verified(&self) -> bool {
        self.verification() == EmailVerification::Off
    }

    /// Whether `email`'s domain may self-register.
    pub fn allows(&self, email: &Email) -> bool {
        self.allowed_domains.allows(email)
    }
}

/// What a sign-up form needs to show before anyone types
/// (`GET /v1/account/registration-policy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPolicyView {
    /// Whether public self-registration is on right now (the `account-registration` flag).
    pub open: bool,
    /// The allowed-domain rules in canonical form (`example.org`, `*.example.com`); empty
    /// when any domain may register.
    pub allowed_domains: Vec<String>,
    /// The verification in force (`required` also when implied by `enumeration_safe`).
    pub email_verification: EmailVerification,
    /// The password policy's bounds, in Unicode scalar values.
    pub password_min_length: usize,
    pub password_max_length: usize,
}

impl Roster {
    /// The registration policy as a sign-up form shows it. Public: it reveals settings any
    /// attempt to register would reveal anyway, nothing about accounts.
    pub fn registration_policy(&self) -> RegistrationPolicyView {
        RegistrationPolicyView {
            open: self.ports.features.is_enabled(Feature::AccountRegistration),
            allowed_domains: self
                .registration
                .allowed_domains
                .rules()
                .iter()
                .map(ToString::to_string)
                .collect(),
            email_verification: self.registration.verification(),
            password_min_length: self.password_policy.min_length(),
            password_max_length: self.password_policy.max_length(),
        }
    }
}

#[cfg(test)]
mod tests {
    use roster_domain::AllowedDomains;

    use super::*;
    use crate::usecases::RosterSettings;
    use crate::usecases::test_support::Ports;

    #[test]
    fn the_view_reflects_the_settings_and_the_flag() {
        let settings = RosterSettings {
            registration: RegistrationPolicy {
                allowed_domains: AllowedDomains::parse(["Example.org", "*.example.com"]).unwrap(),
                email_verification: EmailVerification::Off,
                enumeration_safe: true,
            },
            ..RosterSettings::default()
        };
        let mut ports = Ports::new();
        ports.registration(false);
        let view = ports.build_with(settings).registration_policy();
        assert!(!view.open);
        assert_eq!(view.allowed_domains, ["example.org", "*.example.com"]);
        assert_eq!(view.email_verification, EmailVerification::Required);
        assert_eq!(
            (view.password_min_length, view.password_max_length),
            (15, 128)
        );
    }
}
