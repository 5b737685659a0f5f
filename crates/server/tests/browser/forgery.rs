//! A forged cross-site POST: a page on another origin submits a console form in the browser
//! of someone signed in. It is answered 403 and changes nothing.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crate::axe;
use crate::harness::{Console, PASSWORD};

const FORGED_PASSWORD: &str = "a password the victim never chose";

/// Another site: a tiny HTTP server on another port whose pages post a form to the console
/// as soon as they load (`/password`: change the password; `/logout`: sign out).
struct EvilSite {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EvilSite {
    fn start(console_origin: String) -> EvilSite {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                // A thread per connection: the browser also opens connections it may never
                // send a request on, and a served page must not wait behind them.
                if let Ok(stream) = stream {
                    let console = console_origin.clone();
                    std::thread::spawn(move || serve(stream, &console));
                }
            }
        });
        EvilSite {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EvilSite {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request with the attacking page for its path.
fn serve(mut stream: TcpStream, console: &str) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut request_line = String::new();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The rest of the head; these pages need nothing from it.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let form = match path {
        "/password" => format!(
            r#"<form method="post" action="{console}/console/account/password">
<input name="csrf_token" value="guessed">
<input name="current_password" value="{PASSWORD}">
<input name="new_password" value="{FORGED_PASSWORD}">
</form>"#
        ),
        "/logout" => format!(
            r#"<form method="post" action="{console}/console/logout">
<input name="csrf_token" value="guessed">
</form>"#
        ),
        _ => String::new(),
    };
    let (status, body) = if form.is_empty() {
        ("404 Not Found", String::new())
    } else {
        (
            "200 OK",
            format!(
                "<!doctype html><html lang=en><title>You won a prize</title>{form}\
                 <script>document.forms[0].submit();</script></html>"
            ),
        )
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_cross_site_post_is_refused_and_changes_nothing() {
    let Some(console) = Console::start() else {
        return;
    };
    let email = "victim@example.com";
    console.account(email, "Victim").await;
    let browser = console.browser().await;
    browser.sign_in(email, PASSWORD).await;
    let evil = EvilSite::start(console.origin());

    // `localhost` is another site than 127.0.0.1: under SameSite=Strict the browser sends no
    // cookie at all. `127.0.0.1` on another port is the same site but another origin: the
    // cookie is sent, and only the origin check stands between the page and the account.
    for site in [
        format!("http://localhost:{}", evil.port),
        format!("http://127.0.0.1:{}", evil.port),
    ] {
        for (page, target) in [
            ("/password", "/console/account/password"),
            ("/logout", "/console/logout"),
        ] {
            browser.goto_url(&format!("{site}{page}")).await;
            browser.wait_for_path(target).await;
            assert_eq!(browser.status().await, 403, "{site}{page}");
            assert_eq!(
                browser.text("main h1").await,
                "Request refused",
                "{site}{page}"
            );
            assert!(browser.url().await.starts_with(&console.origin()));
        }
    }
    browser.snap("request-refused").await;
    axe::check(&browser, "a refused request").await;

    // Nothing changed: the browser is still signed in, the password is the old one.
    browser.goto("/console/account").await;
    assert_eq!(browser.location().await, "/console/account");
    assert!(console.api_login(email, PASSWORD).await.is_some());
    assert!(console.api_login(email, FORGED_PASSWORD).await.is_none());
    browser.close().await;
}
