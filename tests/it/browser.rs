//! Real clients end to end: headless Chromium loads the demo page of each example server,
//! which loads the web SDK stand-in from the emulator exactly as the vendor's quick start
//! shows; the tests type, paste and click like a person (CDP input events, not scripts), and
//! the emulator scores what the browser really did.
//!
//! Chromium comes from the system (`chromium` on the PATH, or `CHROMIUM`); when it is missing
//! and the tests run as root, they install Debian's package (as `.ci/run` does first). A failed step saves a screenshot under the target's
//! `tmp/browser-failures`. With `RISK_SCREENSHOTS=<dir>`, the login and step-up pages are
//! also saved there (the README's screenshots).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::input::{DispatchKeyEventParams, DispatchKeyEventType};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures_util::StreamExt as _;
use risk_core::{ActionToken, EventType};
use risk_demo_app::backend::Backend;
use risk_demo_app::{axum_app, serving};
use risk_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use serde::de::DeserializeOwned;

/// A desktop Chrome's user agent: headless Chromium says `HeadlessChrome`, which the
/// emulator (like the vendor) scores as automation.
const PERSON_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// How long any one step may take.
const STEP: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framework {
    Axum,
    Actix,
}

/// An example server and its in-process emulator, on loopback.
struct Site {
    emulator: Arc<EmulatorHandle>,
    backend: Backend,
    url: String,
    stop: Option<actix_web::dev::ServerHandle>,
}

impl Site {
    async fn start(framework: Framework) -> Self {
        let emulator = Arc::new(
            Emulator::start(EmulatorConfig::default(), "127.0.0.1:0")
                .await
                .unwrap(),
        );
        let backend = Backend::with_emulator(emulator.clone()).unwrap();
        let (addr, stop) = match framework {
            Framework::Axum => {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let app = axum_app::router(backend.clone())
                    .into_make_service_with_connect_info::<SocketAddr>();
                tokio::spawn(async move { axum::serve(listener, app).await });
                (addr, None)
            }
            Framework::Actix => {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = serving::actix_server(backend.clone(), listener, Some(1)).unwrap();
                let handle = server.handle();
                actix_web::rt::spawn(server);
                (addr, Some(handle))
            }
        };
        Self {
            emulator,
            backend,
            url: format!("http://{addr}/"),
            stop,
        }
    }

    /// Starts collecting risk events (to read the reported results back).
    async fn collect_events(&self) {
        let client = self.backend.risk.client();
        client.start_collect(EventType::Risk).await.unwrap();
        client
            .create_stream(
                EventType::Risk,
                "browser",
                &risk_core::StreamOptions::default(),
            )
            .await
            .unwrap();
    }

    /// Waits until a result with `result` and `challenge_type` was reported.
    async fn reported(&self, result: &str, challenge_type: Option<&str>) -> bool {
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            let events = self
                .backend
                .risk
                .client()
                .collect(EventType::Risk, "browser", 1000)
                .await
                .unwrap();
            let found = events.iter().any(|e| {
                let p = &e.additional_params;
                e.activity == "action_result_reported"
                    && p.get("result").and_then(|v| v.as_str()) == Some(result)
                    && p.get("challenge_type").and_then(|v| v.as_str()) == challenge_type
            });
            if found {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    async fn stop(self) {
        if let Some(handle) = self.stop {
            handle.stop(true).await;
        }
    }
}

/// Who sits at the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// A person's Chrome: a desktop user agent, `navigator.webdriver` false.
    Person,
    /// An automated browser: `navigator.webdriver` true (the user agent still a person's).
    Automation,
}

/// A headless Chromium with its own profile (a device of its own).
struct Chrome {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    profile: PathBuf,
}

/// The Chromium binary: `CHROMIUM`, else `chromium` (or `chromium-browser`, `google-chrome`) on
/// the PATH, installed with apt when it is missing and the tests run as root (as `.ci/run`
/// does first); otherwise a clear failure. Never a skip.
fn chromium() -> PathBuf {
    static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let found = FOUND.get_or_init(|| {
        if let Some(path) = std::env::var_os("CHROMIUM") {
            return Some(PathBuf::from(path));
        }
        let on_path = || {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path).find_map(|dir| {
                ["chromium", "chromium-browser", "google-chrome"]
                    .iter()
                    .map(|name| dir.join(name))
                    .find(|candidate| candidate.is_file())
            })
        };
        if let Some(path) = on_path() {
            return Some(path);
        }
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        if root {
            let _ = std::process::Command::new("apt-get")
                .args(["update", "-qq"])
                .status();
            let _ = std::process::Command::new("apt-get")
                .args(["install", "-y", "-qq", "chromium"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
        on_path()
    });
    found.clone().unwrap_or_else(|| {
        panic!(
            "the browser tests need Chromium: `apt-get install chromium` (as .ci/run does), or \
             set CHROMIUM to its path"
        )
    })
}

impl Chrome {
    async fn launch(driver: Driver) -> Self {
        static PROFILES: AtomicU32 = AtomicU32::new(0);
        let profile = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "chromium-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        let mut config = BrowserConfig::builder()
            .chrome_executable(chromium())
            .new_headless_mode()
            .no_sandbox()
            .user_data_dir(&profile)
            .window_size(1000, 720)
            .viewport(None)
            .launch_timeout(STEP)
            .request_timeout(STEP)
            .args([
                "disable-gpu",
                "disable-component-update",
                "disable-domain-reliability",
                "no-default-browser-check",
            ])
            .arg(("user-agent", PERSON_USER_AGENT));
        if driver == Driver::Person {
            config = config.arg(("disable-blink-features", "AutomationControlled"));
        }
        let (browser, mut events) = Browser::launch(config.build().unwrap()).await.unwrap();
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        Self {
            browser,
            handler,
            profile,
        }
    }

    /// A tab on `site`'s demo page, once the SDK is initialised.
    async fn open(&self, site: &Site, test: &'static str) -> Tab {
        let page = self.browser.new_page(site.url.as_str()).await.unwrap();
        let tab = Tab { page, test };
        tab.wait_until(
            "document.body.dataset.sdk === 'ready'",
            "the SDK initialised",
        )
        .await;
        tab
    }

    async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab of the demo page. Every step that fails saves a screenshot and panics.
struct Tab {
    page: Page,
    test: &'static str,
}

impl Tab {
    /// Saves a screenshot, then panics with `message`.
    async fn fail(&self, message: impl std::fmt::Display) -> ! {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-failures");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{}.png", self.test));
        let saved = self
            .page
            .save_screenshot(ScreenshotParams::builder().full_page(true).build(), &path)
            .await;
        let text = self.eval::<String>("document.body.innerText").await;
        match saved {
            Ok(_) => panic!("{message}\nscreenshot: {}\npage: {text:?}", path.display()),
            Err(e) => panic!("{message}\n(no screenshot: {e})\npage: {text:?}"),
        }
    }

    async fn eval<T: DeserializeOwned + Default>(&self, expression: &str) -> T {
        match self.page.evaluate(expression).await {
            Ok(result) => result.into_value().unwrap_or_default(),
            Err(_) => T::default(),
        }
    }

    /// Evaluates `expression` (awaiting a promise), or fails.
    async fn js<T: DeserializeOwned>(&self, expression: &str) -> T {
        match self.page.evaluate(expression).await.map(|r| r.into_value()) {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => self.fail(format!("`{expression}`: {e}")).await,
            Err(e) => self.fail(format!("`{expression}`: {e}")).await,
        }
    }

    /// Polls `condition` (a JS expression) until it holds, for at most [`STEP`].
    async fn wait_until(&self, condition: &str, what: &str) {
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            if self.eval::<bool>(condition).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.fail(format!("timed out waiting for {what} (`{condition}`)"))
            .await
    }

    /// Clicks `selector` and types `text` into it with real key events.
    async fn type_into(&self, selector: &str, text: &str) {
        let typed = async {
            self.page
                .find_element(selector)
                .await?
                .click()
                .await?
                .type_str(text)
                .await
                .map(|_| ())
        };
        if let Err(e) = typed.await {
            self.fail(format!("typing into {selector}: {e}")).await;
        }
    }

    /// Pastes `text` into `selector` through the clipboard, as a person does: `text` is
    /// selected in a scratch field and copied with Ctrl+C, then pasted with Ctrl+V (trusted
    /// key events whose editing commands fire real `copy` and `paste` events).
    async fn paste_into(&self, selector: &str, text: &str) {
        let text = serde_json::to_string(text).unwrap();
        self.js::<bool>(&format!(
            "(() => {{ const t = document.createElement('textarea'); t.id = 'scratch'; \
               t.value = {text}; document.body.append(t); t.select(); return true; }})()"
        ))
        .await;
        self.shortcut("KeyC", "c", 67, "copy").await;
        self.js::<bool>("(document.getElementById('scratch').remove(), true)")
            .await;
        let focused = async {
            self.page
                .find_element(selector)
                .await?
                .click()
                .await
                .map(|_| ())
        };
        if let Err(e) = focused.await {
            self.fail(format!("focusing {selector}: {e}")).await;
        }
        self.shortcut("KeyV", "v", 86, "paste").await;
    }

    /// Ctrl+`key`, running the editing `command` (as the platform's shortcut would).
    async fn shortcut(&self, code: &str, key: &str, key_code: i64, command: &str) {
        for kind in [
            DispatchKeyEventType::RawKeyDown,
            DispatchKeyEventType::KeyUp,
        ] {
            let mut event = DispatchKeyEventParams::builder()
                .r#type(kind.clone())
                .key(key)
                .code(code)
                .windows_virtual_key_code(key_code)
                .modifiers(2);
            if kind == DispatchKeyEventType::RawKeyDown {
                event = event.commands(vec![command.to_owned()]);
            }
            if let Err(e) = self.page.execute(event.build().unwrap()).await {
                self.fail(format!("Ctrl+{key}: {e}")).await;
            }
        }
    }

    async fn click(&self, selector: &str) {
        let clicked = async {
            self.page
                .find_element(selector)
                .await?
                .click()
                .await
                .map(|_| ())
        };
        if let Err(e) = clicked.await {
            self.fail(format!("clicking {selector}: {e}")).await;
        }
    }

    /// Waits for the outcome of the last action: its state and recommendation.
    async fn outcome(&self) -> (String, Option<String>) {
        self.wait_until(
            "!!document.getElementById('outcome').dataset.state",
            "an outcome",
        )
        .await;
        self.js("[document.getElementById('outcome').dataset.state, \
                 document.getElementById('outcome').dataset.recommendation ?? null]")
            .await
    }

    /// Logs in with the form (typing both fields) and returns the outcome.
    async fn log_in(&self, username: &str, password: &str) -> (String, Option<String>) {
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("#login-button").await;
        self.outcome().await
    }

    /// The SDK's current session token.
    async fn session_token(&self) -> String {
        self.js("tsPlatform.drs.getSessionToken()").await
    }

    async fn screenshot_for_readme(&self, name: &str) {
        let Some(dir) = std::env::var_os("RISK_SCREENSHOTS") else {
            return;
        };
        let path = PathBuf::from(dir).join(name);
        if let Err(e) = self
            .page
            .save_screenshot(ScreenshotParams::builder().build(), &path)
            .await
        {
            self.fail(format!("screenshot {}: {e}", path.display()))
                .await;
        }
    }

    async fn expect(&self, ok: bool, message: impl std::fmt::Display) {
        if !ok {
            self.fail(message).await;
        }
    }
}

fn state(outcome: &(String, Option<String>)) -> (&str, Option<&str>) {
    (outcome.0.as_str(), outcome.1.as_deref())
}

/// One browser on the demo page of one example server.
struct Visit {
    site: Site,
    chrome: Chrome,
    tab: Tab,
}

impl Visit {
    async fn start(framework: Framework, driver: Driver, test: &'static str) -> Self {
        let site = Site::start(framework).await;
        let chrome = Chrome::launch(driver).await;
        let tab = chrome.open(&site, test).await;
        Self { site, chrome, tab }
    }

    /// What the emulator scores the tab's session on now.
    async fn telemetry(&self) -> risk_emulator::Telemetry {
        self.site
            .emulator
            .session_telemetry(&self.tab.session_token().await)
            .unwrap_or_default()
    }

    async fn end(self) {
        self.chrome.close().await;
        self.site.stop().await;
    }
}

// ---- the scenarios, each played against both example servers ----

/// A person types their credentials on the page: ALLOW, and the page shows the transfer form.
async fn typed_login_is_allowed(framework: Framework, test: &'static str) {
    let visit = Visit::start(framework, Driver::Person, test).await;
    let tab = &visit.tab;
    tab.screenshot_for_readme("login.png").await;
    let outcome = tab.log_in("alice", "wonderland").await;
    tab.expect(
        state(&outcome) == ("logged_in", Some("ALLOW")),
        format!("{outcome:?}"),
    )
    .await;
    // What the engine scored is what the page did: typed, not pasted, no webdriver.
    let t = visit.telemetry().await;
    tab.expect(
        !t.webdriver && !t.no_user_interaction && !t.pasted_input && t.typing_velocity.is_some(),
        format!("{t:?}"),
    )
    .await;
    tab.expect(
        t.timezone.is_some() && !t.languages.is_empty(),
        format!("{t:?}"),
    )
    .await;
    visit.end().await;
}

/// A known user on a new device is challenged; the one-time code passes the step-up, the
/// result is reported with its challenge type, and the next login there is TRUSTed.
async fn new_device_is_challenged_then_trusted(framework: Framework, test: &'static str) {
    let site = Site::start(framework).await;
    site.collect_events().await;
    // Alice's usual device.
    let laptop = Chrome::launch(Driver::Person).await;
    let tab = laptop.open(&site, test).await;
    let outcome = tab.log_in("alice", "wonderland").await;
    tab.expect(
        state(&outcome) == ("logged_in", Some("ALLOW")),
        format!("{outcome:?}"),
    )
    .await;
    laptop.close().await;

    // A new device (another profile: no device fingerprint stored yet).
    let phone = Chrome::launch(Driver::Person).await;
    let tab = phone.open(&site, test).await;
    let outcome = tab.log_in("alice", "wonderland").await;
    tab.expect(
        state(&outcome) == ("challenged", None),
        format!("{outcome:?}"),
    )
    .await;
    tab.expect(
        tab.js::<String>("document.body.dataset.section").await == "step-up",
        "the step-up form is shown",
    )
    .await;
    tab.screenshot_for_readme("step-up.png").await;
    tab.type_into("#code", "000000").await;
    tab.click("#step-up-button").await;
    let outcome = tab.outcome().await;
    tab.expect(outcome.0 == "logged_in", format!("{outcome:?}"))
        .await;
    tab.expect(
        site.reported("success", Some("sms_otp")).await,
        "the step-up's result was reported with its challenge type",
    )
    .await;

    // The same device, a new page (a new session): trusted now.
    let tab = phone.open(&site, test).await;
    let outcome = tab.log_in("alice", "wonderland").await;
    tab.expect(
        state(&outcome) == ("logged_in", Some("TRUST")),
        format!("{outcome:?}"),
    )
    .await;
    phone.close().await;
    site.stop().await;
}

/// An automated browser (`navigator.webdriver`) is denied, whatever it types.
async fn automated_browser_is_denied(framework: Framework, test: &'static str) {
    let visit = Visit::start(framework, Driver::Automation, test).await;
    let tab = &visit.tab;
    let outcome = tab.log_in("alice", "wonderland").await;
    tab.expect(outcome.0 == "denied", format!("{outcome:?}"))
        .await;
    let t = visit.telemetry().await;
    tab.expect(t.webdriver, format!("webdriver reported: {t:?}"))
        .await;
    visit.end().await;
}

/// A pasted password shows in the signals of the session's next assessment.
async fn pasted_password_is_in_the_signals(framework: Framework, test: &'static str) {
    let visit = Visit::start(framework, Driver::Person, test).await;
    let tab = &visit.tab;
    tab.type_into("#username", "bob").await;
    tab.paste_into("#password", "builder").await;
    tab.click("#login-button").await;
    let outcome = tab.outcome().await;
    tab.expect(outcome.0 == "logged_in", format!("{outcome:?}"))
        .await;
    // An action the page triggers now: its recommendation's signals say how input came.
    let action: String = tab
        .js("tsPlatform.drs.triggerActionEvent('login').then(r => r.actionToken)")
        .await;
    let recommendation = visit
        .site
        .backend
        .risk
        .client()
        .get_recommendation(&ActionToken::from(action))
        .await
        .unwrap();
    let methods = &recommendation.risk_signals.behavior.input_method;
    tab.expect(
        methods.iter().any(|m| m == "is_paste") && methods.iter().any(|m| m == "is_typing"),
        format!("input methods: {methods:?}"),
    )
    .await;
    visit.end().await;
}

/// The transfer form triggers its action in the page (`triggerActionEvent`) and sends the
/// action token: the backend makes one upstream call, the recommendation.
async fn page_triggered_transfer_makes_one_upstream_call(framework: Framework, test: &'static str) {
    let visit = Visit::start(framework, Driver::Person, test).await;
    let tab = &visit.tab;
    let outcome = tab.log_in("alice", "wonderland").await;
    tab.expect(outcome.0 == "logged_in", format!("{outcome:?}"))
        .await;
    let before = visit.site.emulator.stats();
    tab.click("#transfer-button").await;
    let outcome = tab.outcome().await;
    tab.expect(
        state(&outcome) == ("transfer_accepted", Some("ALLOW")),
        format!("{outcome:?}"),
    )
    .await;
    let after = visit.site.emulator.stats();
    let calls = |name| after.requests(name) - before.requests(name);
    tab.expect(
        (calls("trigger_action"), calls("recommendation")) == (0, 1),
        format!(
            "backend calls: trigger-action {}, recommendation {}",
            calls("trigger_action"),
            calls("recommendation")
        ),
    )
    .await;
    visit.end().await;
}

macro_rules! on_both_servers {
    ($($scenario:ident => $axum:ident, $actix:ident;)*) => {$(
        #[actix_web::test]
        async fn $axum() {
            $scenario(Framework::Axum, stringify!($axum)).await;
        }

        #[actix_web::test]
        async fn $actix() {
            $scenario(Framework::Actix, stringify!($actix)).await;
        }
    )*};
}

on_both_servers! {
    typed_login_is_allowed =>
        browser_typed_login_is_allowed_axum, browser_typed_login_is_allowed_actix;
    new_device_is_challenged_then_trusted =>
        browser_new_device_is_challenged_then_trusted_axum,
        browser_new_device_is_challenged_then_trusted_actix;
    automated_browser_is_denied =>
        browser_automated_browser_is_denied_axum, browser_automated_browser_is_denied_actix;
    pasted_password_is_in_the_signals =>
        browser_pasted_password_is_in_the_signals_axum,
        browser_pasted_password_is_in_the_signals_actix;
    page_triggered_transfer_makes_one_upstream_call =>
        browser_page_triggered_transfer_makes_one_upstream_call_axum,
        browser_page_triggered_transfer_makes_one_upstream_call_actix;
}
