//! A software passkey for tests, never shipped: it answers the options a relying party sends
//! for `navigator.credentials.create` and `.get` with the `PublicKeyCredential` JSON a browser
//! with a platform authenticator would send back (base64url fields, as `toJSON()` writes them).
//!
//! Every credential it makes is discoverable (resident, with its user handle), signs with
//! ECDSA P-256 (COSE `ES256`), and is attested with format `none`; its authenticator data
//! carries user presence, user verification (unless [`SoftAuthenticator::skipping_user_verification`])
//! and a signature counter that grows with each assertion. It acts for one origin, which a
//! test chooses to play the right site or a phishing one.
//!
//! ```
//! use roster_testkit_webauthn::SoftAuthenticator;
//! use serde_json::json;
//!
//! let mut passkey = SoftAuthenticator::new("https://id.example.org");
//! let created = passkey.register(&json!({"publicKey": {
//!     "rp": {"id": "id.example.org", "name": "Roster"},
//!     "user": {"id": "AAAAAAAAAAAAAAAAAAAAAA", "name": "ada@example.org", "displayName": "Ada"},
//!     "challenge": "c2lnbiB1cA",
//!     "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
//! }}));
//! assert_eq!(created["type"], "public-key");
//! let asserted = passkey.assert(&json!({"publicKey": {
//!     "rpId": "id.example.org", "challenge": "c2lnbiBpbg", "userVerification": "required",
//! }}));
//! assert_eq!(asserted["id"], created["id"]);
//! assert_eq!(asserted["response"]["userHandle"], "AAAAAAAAAAAAAAAAAAAAAA");
//! ```

mod cbor;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use rand::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::cbor::Cbor;

/// COSE algorithm `ES256`: ECDSA on P-256 with SHA-256, the only one this authenticator has.
const ES256: i64 = -7;

/// Authenticator data flags (WebAuthn §6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;

/// Why the authenticator declines, as a browser would reject the promise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A credential listed in `excludeCredentials` lives here (`InvalidStateError`).
    #[error("a credential in excludeCredentials is on this authenticator already")]
    Excluded,
    /// `pubKeyCredParams` does not offer ES256 (`NotSupportedError`).
    #[error("no algorithm this authenticator supports (ES256) is offered")]
    NoSupportedAlgorithm,
    /// No credential here for the relying party, or none of those in `allowCredentials`
    /// (`NotAllowedError`).
    #[error("no credential for this request")]
    NoCredential,
}

/// One credential this authenticator holds.
#[derive(Debug, Clone)]
struct ResidentCredential {
    rp_id: String,
    id: Vec<u8>,
    user_handle: Vec<u8>,
    key: SigningKey,
    sign_count: u32,
}

/// A platform authenticator and the browser around it, acting for one origin.
#[derive(Debug, Clone)]
pub struct SoftAuthenticator {
    origin: String,
    verifies_user: bool,
    credentials: Vec<ResidentCredential>,
}

impl SoftAuthenticator {
    /// An empty authenticator whose client data names `origin` (`https://id.example.org`,
    /// `http://localhost:8080`): the page the browser would be on.
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.trim_end_matches('/').to_owned(),
            verifies_user: true,
            credentials: Vec::new(),
        }
    }

    /// The same authenticator as seen from another page: the credentials are shared, the
    /// client data names `origin` (a phishing site relaying a real challenge).
    #[must_use]
    pub fn at_origin(&self, origin: &str) -> Self {
        Self {
            origin: origin.trim_end_matches('/').to_owned(),
            ..self.clone()
        }
    }

    /// From now on it answers with user presence only, as a security key without a PIN or
    /// biometric would: a relying party requiring user verification must refuse it.
    #[must_use]
    pub fn skipping_user_verification(mut self) -> Self {
        self.verifies_user = false;
        self
    }

    /// How many credentials it holds.
    pub fn credential_count(&self) -> usize {
        self.credentials.len()
    }

    /// Answers `navigator.credentials.create(options)`.
    ///
    /// # Panics
    /// When the authenticator refuses (see [`Self::try_register`]) or the options are not
    /// WebAuthn creation options.
    pub fn register(&mut self, options: &Value) -> Value {
        self.try_register(options).unwrap_or_else(|refusal| {
            panic!("the soft authenticator refused to register: {refusal}")
        })
    }

    /// Answers `navigator.credentials.create(options)` (`{"publicKey": {...}}` or the inner
    /// object): a new discoverable credential for `publicKey.user.id`, replacing one this
    /// authenticator held for the same user and relying party.
    ///
    /// # Errors
    /// [`Refusal::Excluded`] or [`Refusal::NoSupportedAlgorithm`].
    ///
    /// # Panics
    /// When the options lack the challenge or the user id, or hold invalid base64url.
    pub fn try_register(&mut self, options: &Value) -> Result<Value, Refusal> {
        let options = public_key(options);
        let rp_id = options["rp"]["id"]
            .as_str()
            .map_or_else(|| self.origin_host(), str::to_owned);
        let challenge = challenge(options);
        let user_handle = decode(text(&options["user"]["id"], "publicKey.user.id"));
        let offers_es256 = options["pubKeyCredParams"]
            .as_array()
            .is_some_and(|params| params.iter().any(|p| p["alg"].as_i64() == Some(ES256)));
        if !offers_es256 {
            return Err(Refusal::NoSupportedAlgorithm);
        }
        let excluded = credential_ids(&options["excludeCredentials"]);
        if self
            .credentials
            .iter()
            .any(|c| c.rp_id == rp_id && excluded.contains(&c.id))
        {
            return Err(Refusal::Excluded);
        }

        let mut id = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut id);
        let key = new_signing_key();
        let credential = ResidentCredential {
            rp_id,
            id,
            user_handle,
            key,
            sign_count: 0,
        };
        let client_data = self.client_data("webauthn.create", &challenge);
        let attestation_object = Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text("none")),
            (Cbor::Text("attStmt"), Cbor::Map(Vec::new())),
            (
                Cbor::Text("authData"),
                Cbor::Bytes(self.registration_data(&credential)),
            ),
        ])
        .encode();
        let wants_cred_props = options["extensions"]["credProps"].as_bool() == Some(true);
        let response = json!({
            "id": encode(&credential.id),
            "rawId": encode(&credential.id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": encode(&client_data),
                "attestationObject": encode(&attestation_object),
                "transports": ["internal"],
            },
            "clientExtensionResults": if wants_cred_props {
                json!({"credProps": {"rk": true}})
            } else {
                json!({})
            },
        });
        self.credentials
            .retain(|c| !(c.rp_id == credential.rp_id && c.user_handle == credential.user_handle));
        self.credentials.push(credential);
        Ok(response)
    }

    /// Answers `navigator.credentials.get(options)`.
    ///
    /// # Panics
    /// When the authenticator refuses (see [`Self::try_assert`]) or the options are not
    /// WebAuthn request options.
    pub fn assert(&mut self, options: &Value) -> Value {
        self.try_assert(options)
            .unwrap_or_else(|refusal| panic!("the soft authenticator refused to assert: {refusal}"))
    }

    /// Answers `navigator.credentials.get(options)`: with the first of `allowCredentials` it
    /// holds or, when the list is absent or empty (a discoverable request), with the newest
    /// credential it holds for the relying party. The answer carries the user handle.
    ///
    /// # Errors
    /// [`Refusal::NoCredential`].
    ///
    /// # Panics
    /// When the options lack the challenge or hold invalid base64url.
    pub fn try_assert(&mut self, options: &Value) -> Result<Value, Refusal> {
        let options = public_key(options);
        let rp_id = options["rpId"]
            .as_str()
            .map_or_else(|| self.origin_host(), str::to_owned);
        let challenge = challenge(options);
        let allowed = credential_ids(&options["allowCredentials"]);
        let client_data = self.client_data("webauthn.get", &challenge);
        let flags = self.flags();
        let credential = self
            .credentials
            .iter_mut()
            .rev()
            .find(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .ok_or(Refusal::NoCredential)?;
        credential.sign_count += 1;
        let mut authenticator_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        authenticator_data.push(flags);
        authenticator_data.extend_from_slice(&credential.sign_count.to_be_bytes());
        let mut signed = authenticator_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = credential.key.sign(&signed);
        Ok(json!({
            "id": encode(&credential.id),
            "rawId": encode(&credential.id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": encode(&client_data),
                "authenticatorData": encode(&authenticator_data),
                "signature": encode(signature.to_der().as_bytes()),
                "userHandle": encode(&credential.user_handle),
            },
            "clientExtensionResults": {},
        }))
    }

    /// The client data the browser hashes into the signature (WebAuthn §5.8.1).
    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    fn flags(&self) -> u8 {
        if self.verifies_user {
            USER_PRESENT | USER_VERIFIED
        } else {
            USER_PRESENT
        }
    }

    /// Authenticator data with the attested credential (WebAuthn §6.1, §6.5.1): the RP id
    /// hash, flags, the counter, a zero AAGUID, the credential id and its COSE public key.
    fn registration_data(&self, credential: &ResidentCredential) -> Vec<u8> {
        let point = credential.key.verifying_key().to_sec1_point(false);
        let point = point.as_bytes();
        let (x, y) = point[1..].split_at(32);
        let cose_key = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),     // kty: EC2
            (Cbor::Int(3), Cbor::Int(ES256)), // alg
            (Cbor::Int(-1), Cbor::Int(1)),    // crv: P-256
            (Cbor::Int(-2), Cbor::Bytes(x.to_vec())),
            (Cbor::Int(-3), Cbor::Bytes(y.to_vec())),
        ])
        .encode();
        let id_length = u16::try_from(credential.id.len()).expect("credential ids are short");
        let mut data = Sha256::digest(credential.rp_id.as_bytes()).to_vec();
        data.push(self.flags() | ATTESTED_CREDENTIAL_DATA);
        data.extend_from_slice(&credential.sign_count.to_be_bytes());
        data.extend_from_slice(&[0u8; 16]);
        data.extend_from_slice(&id_length.to_be_bytes());
        data.extend_from_slice(&credential.id);
        data.extend_from_slice(&cose_key);
        data
    }

    /// The origin's host: the RP id a browser assumes when the options name none.
    fn origin_host(&self) -> String {
        let authority = self
            .origin
            .split_once("://")
            .map_or(self.origin.as_str(), |(_, rest)| rest);
        authority
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(authority, |(host, _)| host)
            .to_owned()
    }
}

/// The `publicKey` member of credential options, or the options themselves when given bare.
fn public_key(options: &Value) -> &Value {
    options.get("publicKey").unwrap_or(options)
}

/// The challenge as the browser writes it into the client data: base64url, no padding.
fn challenge(options: &Value) -> String {
    encode(&decode(text(&options["challenge"], "publicKey.challenge")))
}

/// The ids of a list of credential descriptors (`[{"type", "id"}]`); empty when absent.
fn credential_ids(descriptors: &Value) -> Vec<Vec<u8>> {
    descriptors.as_array().map_or_else(Vec::new, |list| {
        list.iter()
            .map(|descriptor| decode(text(&descriptor["id"], "a credential descriptor's id")))
            .collect()
    })
}

fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("the options have no {what} string: {value}"))
}

fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url with or without padding, as relying parties send it.
fn decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("the options hold invalid base64url {text:?}: {e}"))
}

/// A fresh P-256 key from the thread's CSPRNG (a scalar of zero or above the group order,
/// one chance in 2^128, is drawn again).
fn new_signing_key() -> SigningKey {
    loop {
        let mut scalar = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut scalar);
        if let Ok(key) = SigningKey::from_slice(&scalar) {
            return key;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creation_options(user_id: &str, exclude: &[&str]) -> Value {
        json!({"publicKey": {
            "rp": {"id": "localhost", "name": "Roster"},
            "user": {"id": user_id, "name": "ada@example.org", "displayName": "Ada"},
            "challenge": "Y2hhbGxlbmdl",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "excludeCredentials": exclude.iter().map(|id| json!({"type": "public-key", "id": id})).collect::<Vec<_>>(),
        }})
    }

    fn client_data(response: &Value) -> Value {
        let text = response["response"]["clientDataJSON"].as_str().unwrap();
        serde_json::from_slice(&decode(text)).unwrap()
    }

    #[test]
    fn registration_echoes_the_challenge_and_origin_and_attests_with_none() {
        let mut passkey = SoftAuthenticator::new("http://localhost:8080/");
        let created = passkey.register(&creation_options("dXNlcg", &[]));
        let client = client_data(&created);
        assert_eq!(client["type"], "webauthn.create");
        assert_eq!(client["challenge"], "Y2hhbGxlbmdl");
        assert_eq!(client["origin"], "http://localhost:8080");
        let object = decode(created["response"]["attestationObject"].as_str().unwrap());
        // map(3), "fmt": "none" first.
        assert_eq!(&object[..10], b"\xa3\x63fmt\x64none");
        assert_eq!(created["id"], created["rawId"]);
        assert_eq!(passkey.credential_count(), 1);
    }

    #[test]
    fn an_excluded_credential_refuses_and_the_same_user_replaces_its_credential() {
        let mut passkey = SoftAuthenticator::new("http://localhost:8080");
        let first = passkey.register(&creation_options("dXNlcg", &[]));
        let id = first["id"].as_str().unwrap();
        assert_eq!(
            passkey.try_register(&creation_options("dXNlcg", &[id])),
            Err(Refusal::Excluded)
        );
        passkey.register(&creation_options("dXNlcg", &[]));
        assert_eq!(passkey.credential_count(), 1);
        passkey.register(&creation_options("b3RoZXI", &[]));
        assert_eq!(passkey.credential_count(), 2);
    }

    #[test]
    fn assertions_count_up_and_name_the_user() {
        let mut passkey = SoftAuthenticator::new("http://localhost:8080");
        let created = passkey.register(&creation_options("dXNlcg", &[]));
        let request = json!({"publicKey": {"challenge": "Z2V0", "rpId": "localhost",
            "allowCredentials": [{"type": "public-key", "id": created["id"]}]}});
        let counts: Vec<u32> = (0..2)
            .map(|_| {
                let asserted = passkey.assert(&request);
                assert_eq!(asserted["response"]["userHandle"], "dXNlcg");
                assert_eq!(client_data(&asserted)["type"], "webauthn.get");
                let data = decode(asserted["response"]["authenticatorData"].as_str().unwrap());
                assert_eq!(data[32], USER_PRESENT | USER_VERIFIED);
                u32::from_be_bytes(data[33..37].try_into().unwrap())
            })
            .collect();
        assert_eq!(counts, [1, 2]);
        let elsewhere = json!({"publicKey": {"challenge": "Z2V0", "rpId": "example.org"}});
        assert_eq!(passkey.try_assert(&elsewhere), Err(Refusal::NoCredential));
    }

    #[test]
    fn the_origin_host_is_the_default_rp_id() {
        assert_eq!(
            SoftAuthenticator::new("http://localhost:8080").origin_host(),
            "localhost"
        );
        assert_eq!(
            SoftAuthenticator::new("https://id.example.org").origin_host(),
            "id.example.org"
        );
    }
}
