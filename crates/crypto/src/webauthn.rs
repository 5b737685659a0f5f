//! `WebAuthn` on webauthn-rs: the relying party of Roster's passkeys.
//!
//! Credentials are webauthn-rs `Passkey`s (user verification always required), stored as
//! their JSON. Ceremony state is webauthn-rs's own, serialised (feature
//! `danger-allow-state-serialisation`) inside a tag naming the ceremony, because it waits in
//! the database between start and finish and any node may finish: a state handed to the
//! wrong kind of finish is a bug, not the client's fault.
//!
//! webauthn-rs's `start_passkey_registration` asks for a non-resident credential
//! (`residentKey: "discouraged"`), and its registration for resident keys needs attestation
//! from a list of trusted vendors. Passwordless sign-in needs a discoverable credential, so the
//! creation options are raised to `residentKey: "required"` before they leave: the library
//! keeps but never checks that requirement at finish, and no relying party can verify it (an
//! authenticator's answer does not sign it).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use roster_app::model::{
    AssertionClaims, CeremonyState, CredentialId, PasskeyCredential, PasskeyError,
    RegisteredCredential, StartedCeremony, VerifiedAssertion, WebAuthnOptions,
};
use roster_app::ports::WebAuthn;
use roster_domain::Account;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

/// The relying party's name, shown by some authenticators next to the account.
const RP_NAME: &str = "Roster";

/// Why `server.public_url` cannot name a relying party.
#[derive(Debug, thiserror::Error)]
pub enum RelyingPartyError {
    #[error("server.public_url {url:?} is not an http:// or https:// URL: {reason}")]
    NotHttpUrl { url: String, reason: String },
    #[error(
        "server.public_url {0:?} has no domain name to be the passkeys' relying-party id \
         (an IP address cannot be one; use a name such as localhost)"
    )]
    NoDomain(String),
    #[error("server.public_url {url:?} cannot name a WebAuthn relying party: {reason}")]
    Refused { url: String, reason: String },
}

/// The WebAuthn relying party for one public URL: the relying-party id is its host, the one
/// origin accepted is its scheme, host and port.
#[derive(Debug)]
pub struct PasskeyRelyingParty {
    webauthn: Webauthn,
    rp_id: String,
}

impl PasskeyRelyingParty {
    /// The relying party of `public_url` (`https://id.example.org`,
    /// `http://localhost:8080`). Browsers offer passkeys only to https origins and to
    /// localhost.
    ///
    /// # Errors
    /// A URL that is not http(s), or whose host is an IP address (no relying-party id).
    pub fn new(public_url: &str) -> Result<Self, RelyingPartyError> {
        let not_http = |reason: String| RelyingPartyError::NotHttpUrl {
            url: public_url.to_owned(),
            reason,
        };
        let url = Url::parse(public_url).map_err(|e| not_http(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(not_http(format!("the scheme is {}", url.scheme())));
        }
        let rp_id = url
            .domain()
            .ok_or_else(|| RelyingPartyError::NoDomain(public_url.to_owned()))?
            .to_owned();
        let refused = |e: &dyn std::fmt::Display| RelyingPartyError::Refused {
            url: public_url.to_owned(),
            reason: e.to_string(),
        };
        let origin = Url::parse(&url.origin().ascii_serialization()).map_err(|e| refused(&e))?;
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .map_err(|e| refused(&e))?
            .rp_name(RP_NAME)
            .build()
            .map_err(|e| refused(&e))?;
        Ok(Self { webauthn, rp_id })
    }

    /// The relying-party id: the public URL's host.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }
}

/// A ceremony's state between start and finish, tagged with the kind of ceremony.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "ceremony", content = "state", rename_all = "snake_case")]
enum State {
    Registration(PasskeyRegistration),
    /// An assertion of given credentials (second factor, step-up).
    Assertion(PasskeyAuthentication),
    /// An assertion of whichever discoverable credential the authenticator holds.
    DiscoverableAssertion(DiscoverableAuthentication),
}

impl State {
    fn seal(&self) -> Result<CeremonyState, PasskeyError> {
        serde_json::to_string(self)
            .map(CeremonyState)
            .map_err(|e| internal("ceremony state does not serialise", &e))
    }

    fn open(state: &CeremonyState) -> Result<State, PasskeyError> {
        serde_json::from_str(&state.0).map_err(|e| internal("ceremony state does not parse", &e))
    }
}

fn internal(what: &str, error: &dyn std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(format!("{what}: {error}"))
}

fn invalid(what: &str, error: &dyn std::fmt::Display) -> PasskeyError {
    PasskeyError::Invalid(format!("{what}: {error}"))
}

fn options_json(options: &impl Serialize) -> Result<WebAuthnOptions, PasskeyError> {
    serde_json::to_string(options)
        .map(WebAuthnOptions)
        .map_err(|e| internal("options do not serialise", &e))
}

fn stored_passkey(credential: &PasskeyCredential) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&credential.0).map_err(|e| internal("stored passkey does not parse", &e))
}

fn credential_json(passkey: &Passkey) -> Result<PasskeyCredential, PasskeyError> {
    serde_json::to_string(passkey)
        .map(PasskeyCredential)
        .map_err(|e| internal("passkey does not serialise", &e))
}

fn credential_id(id: &CredentialID) -> CredentialId {
    CredentialId(URL_SAFE_NO_PAD.encode(id))
}

/// Base64url as browsers write it, tolerating the padding some client libraries add.
fn base64url(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('='))
}

/// The fields of a `PublicKeyCredential` JSON that say which ceremony, credential and user it
/// answers, before anything is verified.
#[derive(Debug, Deserialize)]
struct ResponseClaims {
    #[serde(rename = "rawId")]
    raw_id: String,
    response: ClaimedResponse,
}

#[derive(Debug, Deserialize)]
struct ClaimedResponse {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "userHandle", default)]
    user_handle: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ClientData {
    challenge: String,
}

/// The challenge of request or creation options, as `{"publicKey": {"challenge": ...}}`.
#[derive(Debug, Deserialize)]
struct ChallengeOf {
    #[serde(rename = "publicKey")]
    public_key: ClientData,
}

/// A started ceremony: its options, its state, and its challenge (base64url without padding,
/// as the browser echoes it and `claims` reads it back), the key it is kept under.
fn started(
    options: WebAuthnOptions,
    state: CeremonyState,
) -> Result<StartedCeremony, PasskeyError> {
    let challenge = challenge_of(&options)?;
    Ok(StartedCeremony {
        options,
        state,
        challenge,
    })
}

/// The challenge of options this relying party made.
fn challenge_of(options: &WebAuthnOptions) -> Result<String, PasskeyError> {
    let options: ChallengeOf =
        serde_json::from_str(&options.0).map_err(|e| internal("options have no challenge", &e))?;
    let bytes = base64url(&options.public_key.challenge)
        .map_err(|e| internal("options' challenge is not base64url", &e))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl WebAuthn for PasskeyRelyingParty {
    fn start_registration(
        &self,
        account: &Account,
        existing: &[PasskeyCredential],
    ) -> Result<StartedCeremony, PasskeyError> {
        let exclude = existing
            .iter()
            .map(|credential| stored_passkey(credential).map(|p| p.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let email = account.email.as_str();
        let display_name = account.name.as_ref().map_or(email, |name| name.as_str());
        let (mut options, state) = self
            .webauthn
            .start_passkey_registration(*account.id.as_uuid(), email, display_name, Some(exclude))
            .map_err(|e| internal("registration does not start", &e))?;
        // See the module's documentation: a discoverable credential, for passwordless sign-in.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Required);
            selection.require_resident_key = true;
        }
        started(options_json(&options)?, State::Registration(state).seal()?)
    }

    fn finish_registration(
        &self,
        response: &str,
        state: &CeremonyState,
    ) -> Result<RegisteredCredential, PasskeyError> {
        let State::Registration(state) = State::open(state)? else {
            return Err(PasskeyError::Internal(
                "a registration finished with another ceremony's state".into(),
            ));
        };
        let response: RegisterPublicKeyCredential =
            serde_json::from_str(response).map_err(|e| invalid("response does not parse", &e))?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|e| invalid("registration refused", &e))?;
        Ok(RegisteredCredential {
            credential_id: credential_id(passkey.cred_id()),
            credential: credential_json(&passkey)?,
        })
    }

    fn start_assertion(
        &self,
        credentials: &[PasskeyCredential],
    ) -> Result<StartedCeremony, PasskeyError> {
        let passkeys = credentials
            .iter()
            .map(stored_passkey)
            .collect::<Result<Vec<_>, _>>()?;
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| internal("assertion does not start", &e))?;
        started(options_json(&options)?, State::Assertion(state).seal()?)
    }

    fn start_discoverable_assertion(&self) -> Result<StartedCeremony, PasskeyError> {
        let (mut options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| internal("discoverable assertion does not start", &e))?;
        // webauthn-rs asks for conditional mediation (passkeys offered in a form's autofill),
        // which needs a page prepared for it; without it the browser shows its usual dialog.
        // A page that wants autofill adds `mediation` itself.
        options.mediation = None;
        started(
            options_json(&options)?,
            State::DiscoverableAssertion(state).seal()?,
        )
    }

    fn claims(&self, response: &str) -> Result<AssertionClaims, PasskeyError> {
        let claims: ResponseClaims =
            serde_json::from_str(response).map_err(|e| invalid("response does not parse", &e))?;
        let raw_id =
            base64url(&claims.raw_id).map_err(|e| invalid("rawId is not base64url", &e))?;
        let client_data = base64url(&claims.response.client_data_json)
            .map_err(|e| invalid("clientDataJSON is not base64url", &e))?;
        let client_data: ClientData = serde_json::from_slice(&client_data)
            .map_err(|e| invalid("clientDataJSON does not parse", &e))?;
        let challenge = base64url(&client_data.challenge)
            .map_err(|e| invalid("the challenge is not base64url", &e))?;
        let user_handle = match claims.response.user_handle.as_deref() {
            None | Some("") => None,
            Some(handle) => {
                let bytes =
                    base64url(handle).map_err(|e| invalid("userHandle is not base64url", &e))?;
                Some(
                    Uuid::from_slice(&bytes)
                        .map_err(|e| invalid("userHandle is not an account id", &e))?,
                )
            }
        };
        Ok(AssertionClaims {
            challenge: URL_SAFE_NO_PAD.encode(challenge),
            credential_id: CredentialId(URL_SAFE_NO_PAD.encode(raw_id)),
            user_handle,
        })
    }

    fn finish_assertion(
        &self,
        response: &str,
        state: &CeremonyState,
        credential: &PasskeyCredential,
    ) -> Result<VerifiedAssertion, PasskeyError> {
        let state = State::open(state)?;
        let mut passkey = stored_passkey(credential)?;
        let response: PublicKeyCredential =
            serde_json::from_str(response).map_err(|e| invalid("response does not parse", &e))?;
        if response.get_credential_id() != passkey.cred_id().as_slice() {
            return Err(PasskeyError::Invalid(
                "the response is signed by another credential than the one given".into(),
            ));
        }
        let result = match state {
            State::Assertion(state) => self
                .webauthn
                .finish_passkey_authentication(&response, &state),
            State::DiscoverableAssertion(state) => {
                // A discoverable credential names its user; the caller matches the handle
                // (`claims`) with the passkey's owner.
                self.webauthn
                    .identify_discoverable_authentication(&response)
                    .map_err(|e| invalid("the response names no user", &e))?;
                self.webauthn
                    .finish_discoverable_authentication_v2(&response, state, &passkey)
            }
            State::Registration(_) => {
                return Err(PasskeyError::Internal(
                    "an assertion finished with a registration's state".into(),
                ));
            }
        }
        .map_err(|e| invalid("assertion refused", &e))?;
        let updated = match passkey.update_credential(&result) {
            Some(true) => Some(credential_json(&passkey)?),
            Some(false) | None => None,
        };
        Ok(VerifiedAssertion {
            credential_id: credential_id(result.cred_id()),
            updated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use roster_domain::{AccountId, AccountStatus, DisplayName, Email};
    use roster_testkit_webauthn::SoftAuthenticator;
    use serde_json::Value;

    const PUBLIC_URL: &str = "http://localhost:8080";

    fn relying_party() -> PasskeyRelyingParty {
        PasskeyRelyingParty::new(PUBLIC_URL).unwrap()
    }

    fn account() -> Account {
        let now = Utc::now();
        Account {
            id: AccountId::new(Uuid::now_v7()),
            email: Email::parse("ada@example.org").unwrap(),
            name: Some(DisplayName::parse("Ada Lovelace").unwrap()),
            status: AccountStatus::Active,
            is_superadmin: false,
            email_verified: true,
            has_second_factor: false,
            created_at: now,
            updated_at: now,
        }
    }

    fn json(options: &WebAuthnOptions) -> Value {
        serde_json::from_str(&options.0).unwrap()
    }

    /// Registers a passkey for `account` on `authenticator`, through the relying party.
    fn register(
        rp: &PasskeyRelyingParty,
        authenticator: &mut SoftAuthenticator,
        account: &Account,
    ) -> RegisteredCredential {
        let StartedCeremony { options, state, .. } = rp.start_registration(account, &[]).unwrap();
        let response = authenticator.register(&json(&options));
        rp.finish_registration(&response.to_string(), &state)
            .unwrap()
    }

    fn is_invalid<T>(result: &Result<T, PasskeyError>) -> bool {
        matches!(result, Err(PasskeyError::Invalid(_)))
    }

    #[test]
    fn the_public_url_names_the_relying_party() {
        let rp = PasskeyRelyingParty::new("https://id.example.org").unwrap();
        assert_eq!(rp.rp_id(), "id.example.org");
        assert_eq!(
            rp.webauthn.get_allowed_origins(),
            [Url::parse("https://id.example.org").unwrap()]
        );
        assert_eq!(relying_party().rp_id(), "localhost");
        for url in [
            "http://127.0.0.1:8080",
            "https://[::1]",
            "ftp://id.example.org",
            "id.example.org",
            "",
        ] {
            assert!(PasskeyRelyingParty::new(url).is_err(), "{url}");
        }
    }

    #[test]
    fn registration_asks_for_a_discoverable_verified_credential_for_the_account() {
        let rp = relying_party();
        let ada = account();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let first = register(&rp, &mut authenticator, &ada);

        let StartedCeremony {
            options, state: _, ..
        } = rp
            .start_registration(&ada, std::slice::from_ref(&first.credential))
            .unwrap();
        let options = json(&options);
        let public_key = &options["publicKey"];
        assert_eq!(public_key["rp"]["id"], "localhost");
        assert_eq!(public_key["rp"]["name"], "Roster");
        assert_eq!(
            public_key["user"]["id"],
            URL_SAFE_NO_PAD.encode(ada.id.as_uuid().as_bytes())
        );
        assert_eq!(public_key["user"]["name"], "ada@example.org");
        assert_eq!(public_key["user"]["displayName"], "Ada Lovelace");
        let selection = &public_key["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["requireResidentKey"], true);
        assert_eq!(selection["userVerification"], "required");
        // The account's passkey is excluded: the authenticator holding it declines.
        assert_eq!(
            public_key["excludeCredentials"][0]["id"],
            first.credential_id.0.as_str()
        );
        assert!(authenticator.try_register(&options).is_err());
        // The display name falls back to the email.
        let nameless = Account { name: None, ..ada };
        let StartedCeremony {
            options, state: _, ..
        } = rp.start_registration(&nameless, &[]).unwrap();
        assert_eq!(
            json(&options)["publicKey"]["user"]["displayName"],
            "ada@example.org"
        );
    }

    #[test]
    fn a_registered_passkey_asserts_and_its_counter_is_kept() {
        let rp = relying_party();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let registered = register(&rp, &mut authenticator, &account());

        let StartedCeremony { options, state, .. } = rp
            .start_assertion(std::slice::from_ref(&registered.credential))
            .unwrap();
        let options = json(&options);
        assert_eq!(
            options["publicKey"]["allowCredentials"][0]["id"],
            registered.credential_id.0.as_str()
        );
        assert_eq!(options["publicKey"]["userVerification"], "required");
        let response = authenticator.assert(&options).to_string();
        let claims = rp.claims(&response).unwrap();
        assert_eq!(claims.credential_id, registered.credential_id);
        assert_eq!(
            claims.challenge,
            challenge_of(&WebAuthnOptions(options.to_string())).unwrap()
        );
        let verified = rp
            .finish_assertion(&response, &state, &registered.credential)
            .unwrap();
        assert_eq!(verified.credential_id, registered.credential_id);
        // The counter moved from 0 to 1: the credential to store instead.
        let updated = verified.updated.expect("the counter moved");

        // A copy of the authenticator as it is now, then one more use of the original.
        let mut copy = authenticator.clone();
        let StartedCeremony { options, state, .. } =
            rp.start_assertion(std::slice::from_ref(&updated)).unwrap();
        let response = authenticator.assert(&json(&options)).to_string();
        let verified = rp.finish_assertion(&response, &state, &updated).unwrap();
        let updated = verified.updated.expect("the counter moved again");
        // The copy's counter no longer exceeds the stored one: a cloned key, refused.
        let StartedCeremony { options, state, .. } =
            rp.start_assertion(std::slice::from_ref(&updated)).unwrap();
        let response = copy.assert(&json(&options)).to_string();
        assert!(is_invalid(
            &rp.finish_assertion(&response, &state, &updated)
        ));
    }

    #[test]
    fn an_assertion_from_another_origin_is_refused() {
        let rp = relying_party();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let registered = register(&rp, &mut authenticator, &account());
        let StartedCeremony { options, state, .. } = rp
            .start_assertion(std::slice::from_ref(&registered.credential))
            .unwrap();
        let mut phishing = authenticator.at_origin("http://localhost:8081");
        let response = phishing.assert(&json(&options)).to_string();
        assert!(is_invalid(&rp.finish_assertion(
            &response,
            &state,
            &registered.credential
        )));
        // The same authenticator on the right page passes (the refusal was the origin).
        let response = authenticator.assert(&json(&options)).to_string();
        assert!(
            rp.finish_assertion(&response, &state, &registered.credential)
                .is_ok()
        );
    }

    #[test]
    fn a_registration_from_another_origin_is_refused() {
        let rp = relying_party();
        let StartedCeremony { options, state, .. } =
            rp.start_registration(&account(), &[]).unwrap();
        let mut phishing = SoftAuthenticator::new("https://roster.example.net");
        let response = phishing.register(&json(&options)).to_string();
        assert!(is_invalid(&rp.finish_registration(&response, &state)));
    }

    #[test]
    fn an_answer_to_another_ceremony_is_refused() {
        let rp = relying_party();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let registered = register(&rp, &mut authenticator, &account());
        let credentials = std::slice::from_ref(&registered.credential);
        let StartedCeremony {
            options: options_a,
            state: _state_a,
            ..
        } = rp.start_assertion(credentials).unwrap();
        let StartedCeremony {
            options: _options_b,
            state: state_b,
            ..
        } = rp.start_assertion(credentials).unwrap();
        let response = authenticator.assert(&json(&options_a)).to_string();
        assert!(is_invalid(&rp.finish_assertion(
            &response,
            &state_b,
            &registered.credential
        )));
    }

    #[test]
    fn a_tampered_signature_is_refused() {
        let rp = relying_party();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let registered = register(&rp, &mut authenticator, &account());
        let StartedCeremony { options, state, .. } = rp
            .start_assertion(std::slice::from_ref(&registered.credential))
            .unwrap();
        let mut response = authenticator.assert(&json(&options));
        let signature = response["response"]["signature"].as_str().unwrap();
        let mut bytes = base64url(signature).unwrap();
        // The last byte is inside s: the DER stays well formed, the signature is wrong.
        *bytes.last_mut().unwrap() ^= 0x01;
        response["response"]["signature"] = Value::String(URL_SAFE_NO_PAD.encode(bytes));
        assert!(is_invalid(&rp.finish_assertion(
            &response.to_string(),
            &state,
            &registered.credential
        )));
    }

    #[test]
    fn user_verification_is_required() {
        let rp = relying_party();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL).skipping_user_verification();
        let StartedCeremony { options, state, .. } =
            rp.start_registration(&account(), &[]).unwrap();
        let response = authenticator.register(&json(&options)).to_string();
        assert!(is_invalid(&rp.finish_registration(&response, &state)));

        let mut verifying = SoftAuthenticator::new(PUBLIC_URL);
        let registered = register(&rp, &mut verifying, &account());
        let StartedCeremony { options, state, .. } = rp
            .start_assertion(std::slice::from_ref(&registered.credential))
            .unwrap();
        let mut lazy = verifying.clone().skipping_user_verification();
        let response = lazy.assert(&json(&options)).to_string();
        assert!(is_invalid(&rp.finish_assertion(
            &response,
            &state,
            &registered.credential
        )));
    }

    #[test]
    fn a_discoverable_passkey_signs_in_with_its_user_handle() {
        let rp = relying_party();
        let ada = account();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let registered = register(&rp, &mut authenticator, &ada);

        let StartedCeremony { options, state, .. } = rp.start_discoverable_assertion().unwrap();
        let options = json(&options);
        assert!(options.get("mediation").is_none(), "{options}");
        assert!(
            options["publicKey"]["allowCredentials"]
                .as_array()
                .is_none_or(Vec::is_empty),
            "{options}"
        );
        let response = authenticator.assert(&options).to_string();
        let claims = rp.claims(&response).unwrap();
        assert_eq!(claims.user_handle, Some(*ada.id.as_uuid()));
        assert_eq!(claims.credential_id, registered.credential_id);
        let verified = rp
            .finish_assertion(&response, &state, &registered.credential)
            .unwrap();
        assert_eq!(verified.credential_id, registered.credential_id);

        // Without its user handle the same answer is refused.
        let StartedCeremony { options, state, .. } = rp.start_discoverable_assertion().unwrap();
        let mut response = authenticator.assert(&json(&options));
        response["response"]["userHandle"] = Value::Null;
        assert!(is_invalid(&rp.finish_assertion(
            &response.to_string(),
            &state,
            &registered.credential
        )));
    }

    #[test]
    fn a_credential_other_than_the_one_that_signed_is_refused() {
        let rp = relying_party();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let ada = register(&rp, &mut authenticator, &account());
        let mut other = SoftAuthenticator::new(PUBLIC_URL);
        let grace = register(&rp, &mut other, &account());
        let StartedCeremony { options, state, .. } = rp.start_discoverable_assertion().unwrap();
        let response = authenticator.assert(&json(&options)).to_string();
        assert!(is_invalid(&rp.finish_assertion(
            &response,
            &state,
            &grace.credential
        )));
        assert!(
            rp.finish_assertion(&response, &state, &ada.credential)
                .is_ok()
        );

        // Both allowed: the state alone would accept either, the credential given decides.
        let both = [ada.credential.clone(), grace.credential.clone()];
        let StartedCeremony { options, state, .. } = rp.start_assertion(&both).unwrap();
        let response = authenticator.assert(&json(&options)).to_string();
        assert!(is_invalid(&rp.finish_assertion(
            &response,
            &state,
            &grace.credential
        )));
        assert!(
            rp.finish_assertion(&response, &state, &ada.credential)
                .is_ok()
        );
    }

    #[test]
    fn claims_read_registration_responses_and_refuse_garbage() {
        let rp = relying_party();
        let StartedCeremony {
            options, state: _, ..
        } = rp.start_registration(&account(), &[]).unwrap();
        let challenge = challenge_of(&options).unwrap();
        let response = SoftAuthenticator::new(PUBLIC_URL).register(&json(&options));
        let claims = rp.claims(&response.to_string()).unwrap();
        assert_eq!(claims.challenge, challenge);
        assert_eq!(claims.user_handle, None);
        assert_eq!(claims.credential_id.0, response["rawId"].as_str().unwrap());

        for garbage in [
            "",
            "{}",
            r#"{"rawId": "!", "response": {"clientDataJSON": "e30"}}"#,
        ] {
            assert!(is_invalid(&rp.claims(garbage)), "{garbage}");
        }
        let mut bad_handle = response.clone();
        bad_handle["response"]["userHandle"] = Value::String("AAEC".into());
        assert!(is_invalid(&rp.claims(&bad_handle.to_string())));
    }

    #[test]
    fn a_state_of_another_kind_or_unreadable_is_internal() {
        let rp = relying_party();
        let mut authenticator = SoftAuthenticator::new(PUBLIC_URL);
        let registered = register(&rp, &mut authenticator, &account());
        let StartedCeremony {
            options,
            state: assertion_state,
            ..
        } = rp
            .start_assertion(std::slice::from_ref(&registered.credential))
            .unwrap();
        let response = authenticator.assert(&json(&options)).to_string();
        assert!(matches!(
            rp.finish_registration(&response, &assertion_state),
            Err(PasskeyError::Internal(_))
        ));
        let StartedCeremony {
            options: _,
            state: registration_state,
            ..
        } = rp.start_registration(&account(), &[]).unwrap();
        assert!(matches!(
            rp.finish_assertion(&response, &registration_state, &registered.credential),
            Err(PasskeyError::Internal(_))
        ));
        assert!(matches!(
            rp.finish_assertion(
                &response,
                &CeremonyState("{}".into()),
                &registered.credential
            ),
            Err(PasskeyError::Internal(_))
        ));
        assert!(matches!(
            rp.start_assertion(&[PasskeyCredential("not json".into())]),
            Err(PasskeyError::Internal(_))
        ));
    }
}
