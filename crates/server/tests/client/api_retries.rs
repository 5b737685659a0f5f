//! When the client sends a request again: against a port where nothing listens, and
//! against a tiny local server that answers 503 (or drops the connection unanswered) and
//! counts what it received. Reads, deletes and idempotent changes are sent 1 + retries
//! times; creations, logins, password changes and anything that mails or counts attempts
//! are sent once.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use roster_client::{
    AccountQuery, AuditQuery, Client, Error, GrantRequest, InvitationQuery, NewAccount, NewApiKey,
    NewInvitation, NewRole, PageRequest, ProblemCode, RoleContent,
};
use uuid::Uuid;

const RETRIES: u32 = 2;

const UNAVAILABLE: &str = r#"{"type":"urn:roster:problem:unavailable","title":"Service unavailable","status":503,"detail":"The database is unavailable.","code":"unavailable"}"#;

/// A local HTTP/1.1 server answering every request with a 503 problem (or, `answer`
/// false, closing the connection without a word), one request per connection.
struct Fake {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    fn start(answer: bool) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, answer, &requests),
                        Err(error) if error.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                        Err(error) => panic!("accept: {error}"),
                    }
                }
            }
        });
        Fake {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn client(&self) -> Client {
        client_of(self.port)
    }

    /// The requests received since the last call.
    fn take_count(&self) -> usize {
        self.requests.swap(0, Ordering::SeqCst)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one whole request (head and `Content-Length` body), counts it, then answers or
/// hangs up.
fn serve(mut stream: TcpStream, answer: bool, requests: &AtomicUsize) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    let head_end = loop {
        let Ok(read @ 1..) = stream.read(&mut buffer) else {
            return; // the client hung up mid-request: nothing received
        };
        received.extend_from_slice(&buffer[..read]);
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().unwrap());
    while received.len() < head_end + length {
        let Ok(read @ 1..) = stream.read(&mut buffer) else {
            return;
        };
        received.extend_from_slice(&buffer[..read]);
    }
    requests.fetch_add(1, Ordering::SeqCst);
    if answer {
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{UNAVAILABLE}",
            UNAVAILABLE.len()
        );
        let _ = stream.write_all(response.as_bytes());
    }
}

fn client_of(port: u16) -> Client {
    Client::builder(format!("http://127.0.0.1:{port}"))
        .token("rst_not-a-real-token")
        .retries(RETRIES)
        .backoff(Duration::from_millis(1))
        .build()
        .unwrap()
}

/// Awaits `$call`, asserts it failed as `$check` says, and that `$fake` received it
/// `$times` times.
macro_rules! sent {
    ($fake:expr, $times:expr, $check:expr, $call:expr) => {{
        let error = $call.await.expect_err(stringify!($call));
        assert!($check(&error), "{}: {error:?}", stringify!($call));
        assert_eq!($fake.take_count(), $times, "{}", stringify!($call));
    }};
}

fn unavailable(error: &Error) -> bool {
    error.code() == Some(&ProblemCode::Unavailable) && error.status() == Some(503)
}

fn unreachable(error: &Error) -> bool {
    matches!(error, Error::Unreachable(_))
}

#[tokio::test]
async fn a_safe_read_fails_as_unreachable_where_nothing_listens() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client_of(port);
    let error = client.roles(&PageRequest::default()).await.unwrap_err();
    assert!(unreachable(&error), "{error:?}");
    assert!(error.is_unavailable());
    // Nothing was sent, so even a creation may be tried again; it ends the same way.
    let error = client.create_role(&NewRole::new("r", Vec::new())).await;
    assert!(unreachable(&error.unwrap_err()));
}

#[tokio::test]
async fn after_a_503_what_changes_nothing_is_sent_again_and_the_rest_is_not() {
    let fake = Fake::start(true);
    let client = fake.client();
    let id = Uuid::now_v7();
    let again = 1 + RETRIES as usize;

    // Reads, deletes, and changes that a repeat leaves as they are.
    sent!(fake, again, unavailable, client.me());
    sent!(
        fake,
        again,
        unavailable,
        client.accounts(&AccountQuery::default())
    );
    sent!(fake, again, unavailable, client.account(id));
    sent!(fake, again, unavailable, client.disable_account(id));
    sent!(
        fake,
        again,
        unavailable,
        client.account_grants(id, &PageRequest::default())
    );
    sent!(
        fake,
        again,
        unavailable,
        client.delete_account_grant(id, id)
    );
    sent!(
        fake,
        again,
        unavailable,
        client.api_key_grants(id, &PageRequest::default())
    );
    sent!(
        fake,
        again,
        unavailable,
        client.delete_api_key_grant(id, id)
    );
    sent!(
        fake,
        again,
        unavailable,
        client.roles(&PageRequest::default())
    );
    sent!(fake, again, unavailable, client.role("viewer"));
    sent!(fake, again, unavailable, client.delete_role("viewer"));
    sent!(
        fake,
        again,
        unavailable,
        client.api_keys(&PageRequest::default())
    );
    sent!(fake, again, unavailable, client.api_key(id));
    sent!(fake, again, unavailable, client.revoke_api_key(id));
    sent!(
        fake,
        again,
        unavailable,
        client.invitations(&InvitationQuery::default())
    );
    sent!(fake, again, unavailable, client.invitation(id));
    sent!(fake, again, unavailable, client.revoke_invitation(id));
    sent!(
        fake,
        again,
        unavailable,
        client.audit_events(&AuditQuery::default())
    );
    sent!(fake, again, unavailable, client.registration_policy());
    sent!(fake, again, unavailable, client.my_sessions());
    sent!(fake, again, unavailable, client.revoke_my_session(id));
    sent!(fake, again, unavailable, client.my_mfa());

    // Creations, logins, password changes, mail, counted attempts, and changes another
    // admin's change in between would be undone by a repeat (enabling an account, replacing
    // a role's rules): once.
    let viewer = GrantRequest::new("viewer", "acme");
    sent!(fake, 1, unavailable, client.enable_account(id));
    sent!(
        fake,
        1,
        unavailable,
        client.replace_role("viewer", &RoleContent::new(Vec::new()))
    );
    sent!(
        fake,
        1,
        unavailable,
        client.register_account(&NewAccount::new("a@example.com", "p"))
    );
    sent!(fake, 1, unavailable, client.reset_account_password(id, "p"));
    sent!(fake, 1, unavailable, client.grant_to_account(id, &viewer));
    sent!(fake, 1, unavailable, client.grant_to_api_key(id, &viewer));
    sent!(
        fake,
        1,
        unavailable,
        client.create_role(&NewRole::new("viewer", Vec::new()))
    );
    sent!(
        fake,
        1,
        unavailable,
        client.create_api_key(&NewApiKey::new("svc"))
    );
    sent!(
        fake,
        1,
        unavailable,
        client.invite(&NewInvitation::new("a@example.com"))
    );
    sent!(fake, 1, unavailable, client.resend_invitation(id, None));
    sent!(
        fake,
        1,
        unavailable,
        client.accept_invitation("rin_x", "p", None)
    );
    sent!(
        fake,
        1,
        unavailable,
        client.register("a@example.com", "p", None)
    );
    sent!(fake, 1, unavailable, client.change_my_password("p", "q"));
    sent!(
        fake,
        1,
        unavailable,
        client.request_password_reset("a@example.com")
    );
    sent!(
        fake,
        1,
        unavailable,
        client.confirm_password_reset("rpr_x", "p")
    );
    sent!(fake, 1, unavailable, client.verify_email("rev_x"));
    sent!(
        fake,
        1,
        unavailable,
        client.resend_verification("a@example.com")
    );
    sent!(fake, 1, unavailable, client.begin_totp());
    sent!(fake, 1, unavailable, client.confirm_totp("123456"));
    sent!(fake, 1, unavailable, client.remove_totp("p"));
    sent!(fake, 1, unavailable, client.renew_recovery_codes("p"));
    sent!(fake, 1, unavailable, client.step_up("123456"));
    sent!(fake, 1, unavailable, client.login("a@example.com", "p"));
    sent!(
        fake,
        1,
        unavailable,
        client.login_second_factor("rmf_x", "123456")
    );
}

#[tokio::test]
async fn a_connection_dropped_unanswered_is_tried_again_only_when_that_is_safe() {
    let fake = Fake::start(false);
    let client = fake.client();
    let again = 1 + RETRIES as usize;
    sent!(
        fake,
        again,
        unreachable,
        client.roles(&PageRequest::default())
    );
    sent!(
        fake,
        again,
        unreachable,
        client.revoke_api_key(Uuid::now_v7())
    );
    sent!(
        fake,
        1,
        unreachable,
        client.create_role(&NewRole::new("r", Vec::new()))
    );
    sent!(fake, 1, unreachable, client.step_up("123456"));
}
