//! The file-backed [`FeatureManager`]: loads the features file at start-up, answers
//! `is_enabled` from memory, and hot-reloads the file from a polling thread.
//!
//! Polling with a content comparison, rather than file-system notifications, is deliberate:
//! it needs no runtime and no platform API, and it sees every kind of edit (in place, by
//! rename, a Kubernetes ConfigMap swapping its symlink, two edits in the same second) at the
//! cost of reading a small file twice a second.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, Weak};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use chrono::{DateTime, Utc};
// The event is the application's type: the features-reload audit use case takes it as is.
pub use roster_app::ReloadEvent;
use roster_app::model::{Feature, FeatureEditError, FeatureReport, FeatureState};
use roster_app::ports::{Clock, FeatureManager};

use crate::editor::{EditError, set_feature};
use crate::file::{self, MAX_FILE_BYTES, ReadError};
use crate::parser::{FeatureFile, ParseError, parse_bytes};

/// What is wrong with the features file. The `Display` text is for the operator's log (it may
/// quote the offending line); [`FileProblem::summary`] is what `report().error` holds and what
/// `GET /v1/features` shows to anyone, so it quotes neither the file's path nor its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    /// The file disappeared while the service was running on it.
    #[error("features file is missing (deleted or renamed)")]
    Missing,
    /// A directory, FIFO or device sits at the path.
    #[error("features file path is not a regular file")]
    NotAFile,
    #[error("features file is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    /// The operating system's message (`Permission denied (os error 13)`, ...).
    #[error("cannot read features file: {0}")]
    Unreadable(String),
    #[error("{0}")]
    Invalid(ParseError),
}

impl FileProblem {
    /// The problem without the file's content: a syntax error gives its line and kind only.
    pub fn summary(&self) -> String {
        match self {
            FileProblem::Invalid(error) => error.summary(),
            other => other.to_string(),
        }
    }
}

/// The features file could not be loaded at start-up; the service must not start, because
/// running with defaults could switch on what the operator switched off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot load features file {}: {problem}", path.display())]
pub struct LoadError {
    path: PathBuf,
    problem: FileProblem,
}

impl LoadError {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn problem(&self) -> &FileProblem {
        &self.problem
    }
}

/// A callback registered with [`FileFeatureManager::on_change`].
pub type Listener = Box<dyn Fn(&ReloadEvent) + Send + Sync>;

/// Where the state in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// There was no file: catalog defaults.
    Missing,
    File,
}

/// The state in force; replaced whole, so readers never see half an update.
#[derive(Debug)]
struct Current {
    features: Vec<FeatureState>,
    loaded_at: DateTime<Utc>,
    error: Option<FileProblem>,
    origin: Origin,
}

/// One look at the path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Missing,
    Content(Vec<u8>),
    Failed(FileProblem),
}

/// The watcher's memory, behind one mutex so that two polls never interleave.
#[derive(Debug)]
struct PollState {
    /// What the last processed look found.
    seen: Seen,
    /// A different look waiting to be seen once more before it is acted on.
    candidate: Option<Seen>,
}

/// Feature flags from `features/_features.conf`, hot-reloaded. Build it with [`load`], share
/// it as `Arc<dyn FeatureManager>`, and keep the [`WatchHandle`] from [`watch`] alive for as
/// long as edits should be picked up.
///
/// [`load`]: FileFeatureManager::load
/// [`watch`]: FileFeatureManager::watch
pub struct FileFeatureManager {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    current: RwLock<Arc<Current>>,
    poll: Mutex<PollState>,
    listeners: Mutex<Vec<Arc<Listener>>>,
    /// Held through each [`FeatureManager::set`]: an edit reads the file, changes it and
    /// replaces it, so two at once would each write their own change over the original and
    /// one would be lost. (Nodes sharing one file through a network mount are not covered;
    /// their edits come from people, seconds apart.)
    edit: Mutex<()>,
}

impl fmt::Debug for FileFeatureManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileFeatureManager")
            .field("path", &self.path)
            .field("current", &*read(&self.current))
            .finish_non_exhaustive()
    }
}

impl FileFeatureManager {
    /// Reads the file at `path` once. A missing file means every catalog default (logged at
    /// info); a file that exists but cannot be read, is not a regular file, or does not parse
    /// is an error, which should stop start-up. `clock` stamps `loaded_at`.
    pub fn load(path: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Result<Arc<Self>, LoadError> {
        let path = path.into();
        let seen = observe(&path);
        let (file, origin) = match &seen {
            Seen::Missing => {
                tracing::info!(
                    path = %path.display(),
                    "features file not found; every feature is at its default"
                );
                (FeatureFile::default(), Origin::Missing)
            }
            Seen::Content(bytes) => match parse_bytes(bytes) {
                Ok(file) => (file, Origin::File),
                Err(error) => {
                    return Err(LoadError {
                        path,
                        problem: FileProblem::Invalid(error),
                    });
                }
            },
            Seen::Failed(problem) => {
                return Err(LoadError {
                    path,
                    problem: problem.clone(),
                });
            }
        };
        let features = file.resolve();
        tracing::info!(
            path = %path.display(),
            features = %summary(features.iter()),
            "feature flags loaded"
        );
        let current = Current {
            features,
            loaded_at: clock.now(),
            error: None,
            origin,
        };
        Ok(Arc::new(Self {
            path,
            clock,
            current: RwLock::new(Arc::new(current)),
            poll: Mutex::new(PollState {
                seen,
                candidate: None,
            }),
            listeners: Mutex::new(Vec::new()),
            edit: Mutex::new(()),
        }))
    }

    /// The path being watched.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a background thread (a plain OS thread, so no async runtime is needed) that
    /// re-reads the file every `interval` and applies a change once two consecutive reads
    /// agree, so a file caught half-written (an empty file would mean "all defaults") is never
    /// applied. A change is therefore in force within about two intervals; 500 ms meets the
    /// 2-second promise. The thread stops promptly when the handle is dropped, and within an
    /// interval once the manager itself is dropped (it holds only a `Weak`).
    pub fn watch(self: &Arc<Self>, interval: Duration) -> WatchHandle {
        let (stop, stopped) = mpsc::channel::<()>();
        let manager = Arc::downgrade(self);
        let thread = thread::Builder::new()
            .name("roster-flags-watch".to_owned())
            .spawn(move || watch_loop(&manager, &stopped, interval))
            .expect("cannot start the features file watcher thread");
        WatchHandle {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Re-reads the file now and applies it without waiting for a second read; for tests, and
    /// for a server that wants to reload on a signal. Listeners are told as usual.
    pub fn check_now(&self) -> Option<ReloadEvent> {
        self.poll_and_notify(false)
    }

    /// Registers `listener` to be told of every reload and rejected edit (for metrics and
    /// audit events). It runs on the watcher thread with no lock held, so it may call
    /// [`FeatureManager::report`]; it should be quick, and a panic in it is logged and
    /// swallowed so the watcher keeps running.
    pub fn on_change(&self, listener: Listener) {
        lock(&self.listeners).push(Arc::new(listener));
    }

    fn poll_and_notify(&self, settle: bool) -> Option<ReloadEvent> {
        let event = self.poll(settle)?;
        // Cloned so a listener may register another without deadlocking.
        let listeners = lock(&self.listeners).clone();
        for listener in listeners {
            if catch_unwind(AssertUnwindSafe(|| listener(&event))).is_err() {
                tracing::error!("a features file listener panicked");
            }
        }
        Some(event)
    }

    /// One look at the file; returns what changed, if anything.
    fn poll(&self, settle: bool) -> Option<ReloadEvent> {
        let mut poll = lock(&self.poll);
        let seen = observe(&self.path);
        if seen == poll.seen {
            poll.candidate = None;
            return None;
        }
        if settle && poll.candidate.as_ref() != Some(&seen) {
            poll.candidate = Some(seen);
            return None;
        }
        poll.candidate = None;
        let origin = read(&self.current).origin;
        let outcome = match &seen {
            // A file that vanishes must not silently bring back the defaults (public
            // registration on); only a file that never existed means defaults.
            Seen::Missing if origin == Origin::File => Err(FileProblem::Missing),
            Seen::Missing => Ok((FeatureFile::default(), Origin::Missing)),
            Seen::Content(bytes) => parse_bytes(bytes)
                .map(|file| (file, Origin::File))
                .map_err(FileProblem::Invalid),
            Seen::Failed(problem) => Err(problem.clone()),
        };
        poll.seen = seen;
        match outcome {
            Ok((file, origin)) => Some(self.apply(&file, origin)),
            Err(problem) => self.reject(&problem),
        }
    }

    fn apply(&self, file: &FeatureFile, origin: Origin) -> ReloadEvent {
        let features = file.resolve();
        let next = Arc::new(Current {
            features,
            loaded_at: self.clock.now(),
            error: None,
            origin,
        });
        let previous = std::mem::replace(&mut *write(&self.current), Arc::clone(&next));
        let changed: Vec<FeatureState> = next
            .features
            .iter()
            .zip(&previous.features)
            .filter(|(new, old)| new.enabled != old.enabled)
            .map(|(new, _)| new.clone())
            .collect();
        tracing::info!(
            path = %self.path.display(),
            changed = %if changed.is_empty() { "none".to_owned() } else { summary(changed.iter()) },
            previous_error = previous.error.as_ref().map(tracing::field::display),
            "features file reloaded"
        );
        ReloadEvent::Reloaded { changed }
    }

    /// Keeps the state in force and records the error; `None` if it is the error already shown.
    fn reject(&self, problem: &FileProblem) -> Option<ReloadEvent> {
        let message = problem.to_string();
        {
            let mut current = write(&self.current);
            if current.error.as_ref() == Some(problem) {
                return None;
            }
            *current = Arc::new(Current {
                features: current.features.clone(),
                loaded_at: current.loaded_at,
                error: Some(problem.clone()),
                origin: current.origin,
            });
        }
        tracing::warn!(
            path = %self.path.display(),
            error = %message,
            "features file rejected; the last good state stays in force"
        );
        Some(ReloadEvent::Rejected { error: message })
    }
}

impl FeatureManager for FileFeatureManager {
    fn is_enabled(&self, feature: Feature) -> bool {
        read(&self.current)
            .features
            .iter()
            .find(|state| state.feature == feature)
            .is_some_and(|state| state.enabled)
    }

    fn report(&self) -> FeatureReport {
        let current = Arc::clone(&read(&self.current));
        FeatureReport {
            features: current.features.clone(),
            loaded_at: current.loaded_at,
            error: current.error.as_ref().map(FileProblem::summary),
            path: self.path.display().to_string(),
            writable: file::writable(&self.path),
        }
    }

    /// Edits the file with the CLI's editor ([`set_feature`]: only the lines naming the
    /// feature change, the result is checked and replaces the file atomically), then reads it
    /// back at once so the change is in force on return; listeners hear the reload as usual.
    ///
    /// Refused, with the file untouched, while the state in force is not the file on disk (a
    /// rejected edit, a deleted or unreadable file): editing would put in force whatever the
    /// disk says about every other flag, and a deleted file would come back from the template
    /// with every default, public registration included.
    fn set(&self, feature: Feature, enabled: bool) -> Result<bool, FeatureEditError> {
        let _edit = lock(&self.edit);
        // Whatever changed on disk since the watcher last looked is seen first.
        self.poll_and_notify(false);
        if let Some(problem) = &read(&self.current).error {
            return Err(FeatureEditError::Invalid(problem.to_string()));
        }
        if !file::writable(&self.path) {
            return Err(FeatureEditError::ReadOnly(format!(
                "{} (or its folder) may not be written by this process",
                self.path.display()
            )));
        }
        let outcome = set_feature(&self.path, feature, enabled).map_err(edit_error)?;
        if outcome.changed() {
            self.poll_and_notify(false);
            tracing::info!(
                path = %self.path.display(),
                %feature,
                enabled,
                "features file edited"
            );
        }
        Ok(outcome.changed())
    }
}

/// The editor's refusal as the port reports it; the message (which may name the path) is for
/// the operator's log.
fn edit_error(error: EditError) -> FeatureEditError {
    let message = error.to_string();
    match error {
        EditError::Write { cause, .. }
            if matches!(
                cause.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            FeatureEditError::ReadOnly(message)
        }
        EditError::Write { .. } => FeatureEditError::Failed(message),
        EditError::Read { .. }
        | EditError::NotAFile { .. }
        | EditError::TooLarge { .. }
        | EditError::Invalid { .. }
        | EditError::Unsafe { .. } => FeatureEditError::Invalid(message),
    }
}

/// Keeps the watcher thread of [`FileFeatureManager::watch`] running; dropping it stops the
/// thread and waits for it (at most the length of one read of the file).
#[derive(Debug)]
#[must_use = "the watcher stops as soon as its handle is dropped"]
pub struct WatchHandle {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl WatchHandle {
    /// Whether the watcher thread is still running (it ends on its own once the manager is
    /// dropped).
    pub fn is_running(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        // Disconnecting the channel wakes the thread at once.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // A listener that drops the handle runs on the watcher itself: joining would hang.
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

fn watch_loop(
    manager: &Weak<FileFeatureManager>,
    stopped: &mpsc::Receiver<()>,
    interval: Duration,
) {
    // Anything but a timeout (the handle was dropped) ends the loop.
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
        let Some(manager) = manager.upgrade() else {
            break;
        };
        manager.poll_and_notify(true);
    }
    tracing::debug!("features file watcher stopped");
}

fn observe(path: &Path) -> Seen {
    match file::read(path) {
        Ok(Some(bytes)) => Seen::Content(bytes),
        Ok(None) => Seen::Missing,
        Err(ReadError::NotAFile) => Seen::Failed(FileProblem::NotAFile),
        Err(ReadError::TooLarge) => Seen::Failed(FileProblem::TooLarge),
        Err(ReadError::Io(error)) => Seen::Failed(FileProblem::Unreadable(error.to_string())),
    }
}

/// `account-registration=off, metrics=on` for the log.
fn summary<'a>(states: impl Iterator<Item = &'a FeatureState>) -> String {
    states
        .map(|state| {
            format!(
                "{}={}",
                state.feature,
                if state.enabled { "on" } else { "off" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// A panic elsewhere must not take the flags down with it: the data behind these locks is
// always whole (replaced in one assignment), so a poisoned lock is still safe to use.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Feature::{AccountRegistration as Reg, Metrics, Openapi};
    use roster_app::model::FeatureEditError;
    use roster_app::model::FeatureSource;
    use std::fs;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::time::Instant;

    const INTERVAL: Duration = Duration::from_millis(50);

    /// A clock that ticks one second per call, so `loaded_at` shows whether a reload happened.
    #[derive(Debug, Default)]
    struct TickingClock(AtomicI64);

    impl Clock for TickingClock {
        fn now(&self) -> DateTime<Utc> {
            let seconds = self.0.fetch_add(1, Ordering::SeqCst);
            DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
        }
    }

    struct Fixture {
        dir: tempfile::TempDir,
        path: PathBuf,
    }

    impl Fixture {
        fn new(contents: Option<&str>) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("_features.conf");
            if let Some(contents) = contents {
                fs::write(&path, contents).unwrap();
            }
            Self { dir, path }
        }

        fn load(&self) -> Arc<FileFeatureManager> {
            FileFeatureManager::load(&self.path, Arc::new(TickingClock::default())).unwrap()
        }

        fn write(&self, contents: &str) {
            fs::write(&self.path, contents).unwrap();
        }

        #[cfg(unix)]
        /// Makes the path unreadable whoever runs the test (file permissions do not stop
        /// root, which is how CI runs): a symbolic link to itself, which no one can open.
        fn make_unreadable(&self) {
            let _ = fs::remove_file(&self.path);
            std::os::unix::fs::symlink(&self.path, &self.path).unwrap();
            let error = fs::read(&self.path).expect_err("a self-referring link cannot be read");
            assert_ne!(error.kind(), std::io::ErrorKind::NotFound);
        }

        /// Replaces the file the way many editors and `roster features` do.
        fn replace_by_rename(&self, contents: &str) {
            let temporary = self.dir.path().join(".edit.tmp");
            fs::write(&temporary, contents).unwrap();
            fs::rename(&temporary, &self.path).unwrap();
        }
    }

    fn eventually(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !condition() {
            assert!(Instant::now() < deadline, "not within 2 s: {what}");
            thread::sleep(Duration::from_millis(10));
        }
    }

    const REGISTRATION_OFF: &str = "disabledFeatures = [\n    account-registration\n]\n";
    const BROKEN: &str = "disabledFeatures = [\n    account-registration\n    metrix\n]\n";

    #[test]
    fn missing_file_at_start_means_defaults() {
        let fixture = Fixture::new(None);
        let manager = fixture.load();
        let report = manager.report();
        assert_eq!(report.error, None);
        assert_eq!(report.features, FeatureFile::default().resolve());
        for feature in Feature::ALL {
            assert_eq!(manager.is_enabled(feature), feature.default_enabled());
        }
    }

    #[test]
    fn valid_file_at_start_is_in_force() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        assert!(!manager.is_enabled(Reg));
        assert!(manager.is_enabled(Metrics));
        let report = manager.report();
        assert_eq!(report.error, None);
        assert_eq!(
            report.loaded_at,
            DateTime::from_timestamp(1_700_000_000, 0).unwrap()
        );
        let order: Vec<Feature> = report.features.iter().map(|state| state.feature).collect();
        assert_eq!(order, Feature::ALL.to_vec());
        assert_eq!(report.features[0].source, FeatureSource::DisabledList);
    }

    #[test]
    fn invalid_file_at_start_is_an_error_naming_path_and_line() {
        let fixture = Fixture::new(Some(BROKEN));
        let error =
            FileFeatureManager::load(&fixture.path, Arc::new(TickingClock::default())).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("_features.conf"), "{message}");
        assert!(
            message.contains("line 3: unknown feature \"metrix\""),
            "{message}"
        );
        assert!(message.contains(&Feature::known_names()), "{message}");
        assert!(matches!(error.problem(), FileProblem::Invalid(_)));
    }

    #[test]
    fn directory_at_start_is_an_error() {
        let fixture = Fixture::new(None);
        fs::create_dir(&fixture.path).unwrap();
        let error =
            FileFeatureManager::load(&fixture.path, Arc::new(TickingClock::default())).unwrap_err();
        assert_eq!(error.problem(), &FileProblem::NotAFile);
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_file_at_start_is_an_error() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        fixture.make_unreadable();
        let error =
            FileFeatureManager::load(&fixture.path, Arc::new(TickingClock::default())).unwrap_err();
        assert!(
            matches!(error.problem(), FileProblem::Unreadable(_)),
            "{error}"
        );
    }

    #[test]
    fn a_valid_edit_is_seen_within_two_seconds() {
        let fixture = Fixture::new(Some("# nothing yet\n"));
        let manager = fixture.load();
        let _watch = manager.watch(INTERVAL);
        assert!(manager.is_enabled(Reg));
        let loaded_before = manager.report().loaded_at;
        fixture.write(REGISTRATION_OFF);
        eventually("registration switched off", || !manager.is_enabled(Reg));
        let report = manager.report();
        assert!(report.loaded_at > loaded_before);
        assert_eq!(report.error, None);
    }

    #[test]
    fn a_rename_replace_edit_is_seen() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let _watch = manager.watch(INTERVAL);
        fixture.replace_by_rename("enabledFeatures = [account-registration]\n");
        eventually("registration back on", || manager.is_enabled(Reg));
        assert_eq!(
            manager.report().features[0].source,
            FeatureSource::EnabledList
        );
    }

    #[test]
    fn a_file_created_after_start_is_loaded() {
        let fixture = Fixture::new(None);
        let manager = fixture.load();
        let _watch = manager.watch(INTERVAL);
        fixture.write(REGISTRATION_OFF);
        eventually("registration switched off", || !manager.is_enabled(Reg));
    }

    #[test]
    fn a_broken_edit_keeps_the_last_state_until_fixed() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let _watch = manager.watch(INTERVAL);
        let loaded_at = manager.report().loaded_at;

        fixture.write(BROKEN);
        eventually("error reported", || manager.report().error.is_some());
        let report = manager.report();
        let error = report.error.unwrap();
        // The line and the kind only: the file's content stays in the operator's log.
        assert_eq!(error, "features file line 3: unknown feature name");
        assert!(
            !error.contains(fixture.dir.path().to_str().unwrap()),
            "path leaked: {error}"
        );
        assert!(!manager.is_enabled(Reg));
        assert_eq!(report.loaded_at, loaded_at);

        fixture.write("disabledFeatures = [account-registration, metrics]\n");
        eventually("error cleared", || manager.report().error.is_none());
        assert!(!manager.is_enabled(Reg));
        assert!(!manager.is_enabled(Metrics));
    }

    #[test]
    fn a_deleted_file_keeps_the_last_state_and_reports_it() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let _watch = manager.watch(INTERVAL);

        fs::remove_file(&fixture.path).unwrap();
        eventually("error reported", || manager.report().error.is_some());
        assert_eq!(
            manager.report().error.as_deref(),
            Some("features file is missing (deleted or renamed)")
        );
        assert!(
            !manager.is_enabled(Reg),
            "deleting the file must not re-open registration"
        );

        fixture.write(REGISTRATION_OFF);
        eventually("error cleared", || manager.report().error.is_none());
        assert!(!manager.is_enabled(Reg));
    }

    #[test]
    fn a_file_replaced_by_a_directory_keeps_the_last_state() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let _watch = manager.watch(INTERVAL);

        fs::remove_file(&fixture.path).unwrap();
        fs::create_dir(&fixture.path).unwrap();
        eventually("error reported", || manager.report().error.is_some());
        assert_eq!(
            manager.report().error.as_deref(),
            Some("features file path is not a regular file")
        );
        assert!(!manager.is_enabled(Reg));

        fs::remove_dir(&fixture.path).unwrap();
        fixture.write("");
        eventually("empty file loaded", || manager.report().error.is_none());
        assert!(manager.is_enabled(Reg));
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_file_keeps_the_last_state() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        fixture.make_unreadable();
        assert!(matches!(
            manager.check_now(),
            Some(ReloadEvent::Rejected { .. })
        ));
        assert!(!manager.is_enabled(Reg));
        assert!(
            manager
                .report()
                .error
                .unwrap()
                .starts_with("cannot read features file")
        );
    }

    #[test]
    fn a_broken_file_that_never_took_effect_is_forgotten_when_deleted() {
        let fixture = Fixture::new(None);
        let manager = fixture.load();
        fixture.write(BROKEN);
        assert!(matches!(
            manager.check_now(),
            Some(ReloadEvent::Rejected { .. })
        ));
        fs::remove_file(&fixture.path).unwrap();
        // Defaults were in force all along, and no file means defaults: nothing is wrong now.
        assert_eq!(
            manager.check_now(),
            Some(ReloadEvent::Reloaded { changed: vec![] })
        );
        assert_eq!(manager.report().error, None);
    }

    #[test]
    fn a_half_written_file_is_not_applied() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        // The truncation step of an in-place write: empty means "all defaults".
        fixture.write("");
        assert_eq!(manager.poll(true), None);
        fixture.write("disabledFeatures = [account-registration, openapi]\n");
        assert_eq!(manager.poll(true), None);
        assert!(
            !manager.is_enabled(Reg),
            "the empty file must never take effect"
        );
        let event = manager.poll(true);
        assert_eq!(
            event,
            Some(ReloadEvent::Reloaded {
                changed: vec![FeatureState {
                    feature: Openapi,
                    enabled: false,
                    source: FeatureSource::DisabledList,
                }]
            })
        );
        assert!(!manager.is_enabled(Reg));
        assert_eq!(manager.poll(true), None, "nothing changed since");
    }

    #[test]
    fn listeners_hear_reloads_and_each_distinct_error_once() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&heard);
        manager.on_change(Box::new(move |event| {
            sink.lock().unwrap().push(event.clone());
        }));
        manager.on_change(Box::new(|_| {
            panic!("a broken listener must not stop the others")
        }));

        fixture.write("# registration back on\n");
        manager.check_now();
        fixture.write(BROKEN);
        manager.check_now();
        fixture.write(&format!("{BROKEN}# same error, different bytes\n"));
        manager.check_now();
        fs::remove_file(&fixture.path).unwrap();
        manager.check_now();
        manager.check_now();

        let heard = heard.lock().unwrap();
        let missing = FileProblem::Missing.to_string();
        assert!(
            matches!(
                heard.as_slice(),
                [
                    ReloadEvent::Reloaded { changed },
                    ReloadEvent::Rejected { error: unknown },
                    ReloadEvent::Rejected { error: deleted },
                ] if changed.len() == 1
                    && changed[0].feature == Reg
                    && changed[0].enabled
                    && unknown.contains("metrix")
                    && *deleted == missing
            ),
            "{heard:?}"
        );
    }

    #[test]
    fn dropping_the_handle_stops_the_thread_promptly() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let watch = manager.watch(Duration::from_secs(30));
        assert!(watch.is_running());
        let started = Instant::now();
        drop(watch);
        assert!(started.elapsed() < Duration::from_secs(1));

        let watch = manager.watch(INTERVAL);
        drop(watch);
        fixture.write("");
        thread::sleep(INTERVAL * 4);
        assert!(
            !manager.is_enabled(Reg),
            "a stopped watcher must not reload"
        );
    }

    #[test]
    fn dropping_the_manager_stops_the_thread() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let watch = manager.watch(INTERVAL);
        drop(manager);
        eventually("watcher stopped", || !watch.is_running());
    }

    #[test]
    fn usable_as_a_port() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let port: Arc<dyn FeatureManager> = fixture.load();
        assert!(!port.is_enabled(Reg));
        assert_eq!(port.report().features.len(), Feature::ALL.len());
    }

    // Switching a flag through the port (the console).

    const OPERATOR_FILE: &str = "\
# Ticket OPS-12: registration stays off.
disabledFeatures = [
    account-registration   // only admins create accounts
]
";

    /// Whether this process can write `path` whatever its permission bits say (root, or
    /// `CAP_DAC_OVERRIDE`): then `0o444` does not make a file read-only for it. Found by
    /// trying, so the tests below hold as root (CI) and as anyone else (run them as `nobody`
    /// with `setpriv --reuid=65534 --regid=65534 --clear-groups` to see the read-only side).
    #[cfg(unix)]
    fn permissions_do_not_bind(path: &Path) -> bool {
        fs::OpenOptions::new().append(true).open(path).is_ok()
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn set_edits_the_file_keeps_its_comments_and_is_in_force_at_once() {
        let fixture = Fixture::new(Some(OPERATOR_FILE));
        let manager = fixture.load();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&heard);
        manager.on_change(Box::new(move |event| {
            sink.lock().unwrap().push(event.clone());
        }));
        let loaded_at = manager.report().loaded_at;
        // No watcher runs: only the set itself can put the change in force.
        assert_eq!(manager.set(Metrics, false), Ok(true));
        assert!(!manager.is_enabled(Metrics), "in force on return");
        assert!(!manager.is_enabled(Reg), "the rest as it was");
        let report = manager.report();
        assert!(report.loaded_at > loaded_at);
        assert_eq!(
            report
                .features
                .iter()
                .find(|s| s.feature == Metrics)
                .unwrap()
                .source,
            FeatureSource::DisabledList
        );
        assert_eq!(
            fs::read_to_string(&fixture.path).unwrap(),
            "\
# Ticket OPS-12: registration stays off.
disabledFeatures = [
    account-registration   // only admins create accounts
    metrics
]
"
        );
        // Listeners (the audit trail and the metrics) hear the reload as from the watcher.
        assert_eq!(
            heard.lock().unwrap().as_slice(),
            [ReloadEvent::Reloaded {
                changed: vec![FeatureState {
                    feature: Metrics,
                    enabled: false,
                    source: FeatureSource::DisabledList,
                }]
            }]
        );

        // Already so: nothing written, nothing reloaded.
        let before = fs::read(&fixture.path).unwrap();
        let loaded_at = manager.report().loaded_at;
        assert_eq!(manager.set(Metrics, false), Ok(false));
        assert_eq!(fs::read(&fixture.path).unwrap(), before);
        assert_eq!(manager.report().loaded_at, loaded_at);

        assert_eq!(manager.set(Metrics, true), Ok(true));
        assert!(manager.is_enabled(Metrics));
        assert!(!manager.is_enabled(Reg));
        assert!(
            fs::read_to_string(&fixture.path)
                .unwrap()
                .contains("// only admins create accounts")
        );
    }

    #[test]
    fn set_creates_a_missing_file_while_the_defaults_are_in_force() {
        let fixture = Fixture::new(None);
        let manager = fixture.load();
        assert!(manager.report().writable);
        assert_eq!(manager.set(Reg, false), Ok(true));
        assert!(!manager.is_enabled(Reg));
        let text = fs::read_to_string(&fixture.path).unwrap();
        assert!(text.starts_with("# Roster feature flags."), "{text}");
        assert_eq!(manager.report().error, None);
    }

    #[test]
    fn set_refuses_a_file_that_does_not_parse_and_leaves_it_untouched() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        // Broken after start, and not yet seen by any watcher: the set looks first.
        fixture.write(BROKEN);
        let result = manager.set(Metrics, false);
        assert!(
            matches!(&result, Err(FeatureEditError::Invalid(why)) if why.contains("metrix")),
            "{result:?}"
        );
        assert_eq!(fs::read_to_string(&fixture.path).unwrap(), BROKEN);
        assert!(manager.is_enabled(Metrics));
        assert!(!manager.is_enabled(Reg), "the last good state stays");
    }

    #[test]
    fn set_refuses_to_recreate_a_file_deleted_while_in_force() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        fs::remove_file(&fixture.path).unwrap();
        // Recreating it from the template would switch public registration back on.
        let result = manager.set(Metrics, false);
        assert!(
            matches!(&result, Err(FeatureEditError::Invalid(_))),
            "{result:?}"
        );
        assert!(!fixture.path.exists());
        assert!(!manager.is_enabled(Reg));
        assert!(manager.is_enabled(Metrics));
    }

    #[test]
    fn set_refuses_a_directory_at_the_path() {
        let fixture = Fixture::new(None);
        let manager = fixture.load();
        fs::create_dir(&fixture.path).unwrap();
        let result = manager.set(Metrics, false);
        assert!(
            matches!(&result, Err(FeatureEditError::Invalid(_))),
            "{result:?}"
        );
        assert!(!manager.report().writable);
    }

    #[test]
    fn the_report_names_the_path_as_configured() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        let report = manager.report();
        assert_eq!(report.path, fixture.path.display().to_string());
        assert!(report.writable);
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_file_is_reported_and_refused() {
        let fixture = Fixture::new(Some(REGISTRATION_OFF));
        let manager = fixture.load();
        set_mode(&fixture.path, 0o444);
        let privileged = permissions_do_not_bind(&fixture.path);
        assert_eq!(manager.report().writable, privileged);
        let result = manager.set(Metrics, false);
        if privileged {
            assert_eq!(result, Ok(true));
        } else {
            assert!(
                matches!(&result, Err(FeatureEditError::ReadOnly(_))),
                "{result:?}"
            );
            assert_eq!(fs::read_to_string(&fixture.path).unwrap(), REGISTRATION_OFF);
            assert!(manager.is_enabled(Metrics));
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_folder_is_reported_and_refused() {
        for existing in [true, false] {
            let fixture = Fixture::new(existing.then_some(REGISTRATION_OFF));
            let manager = fixture.load();
            set_mode(fixture.dir.path(), 0o555);
            let probe = fixture.dir.path().join("probe");
            let privileged = fs::write(&probe, "").is_ok();
            assert_eq!(
                manager.report().writable,
                privileged,
                "file exists: {existing}"
            );
            let result = manager.set(Metrics, false);
            set_mode(fixture.dir.path(), 0o755);
            if privileged {
                assert_eq!(result, Ok(true));
            } else {
                assert!(
                    matches!(&result, Err(FeatureEditError::ReadOnly(_))),
                    "file exists: {existing}: {result:?}"
                );
                assert_eq!(fixture.path.exists(), existing);
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_judged_by_its_target() {
        let fixture = Fixture::new(None);
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("flags.conf");
        fs::write(&target, REGISTRATION_OFF).unwrap();
        std::os::unix::fs::symlink(&target, &fixture.path).unwrap();
        let manager = fixture.load();
        assert!(manager.report().writable);
        assert_eq!(manager.set(Metrics, false), Ok(true));
        assert!(
            fs::symlink_metadata(&fixture.path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(fs::read_to_string(&target).unwrap().contains("metrics"));

        // A dangling link cannot be edited (the editor cannot resolve it either).
        let dangling = Fixture::new(None);
        std::os::unix::fs::symlink(dangling.dir.path().join("gone"), &dangling.path).unwrap();
        let manager = dangling.load();
        assert!(!manager.report().writable);
    }

    #[test]
    fn a_missing_file_in_missing_folders_is_writable_where_they_can_be_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/roster/_features.conf");
        let manager = FileFeatureManager::load(&path, Arc::new(TickingClock::default())).unwrap();
        assert!(manager.report().writable);
        assert_eq!(manager.set(Reg, false), Ok(true));
        assert!(path.exists());

        // Under a regular file, no folder can be made (the manager would not even load).
        let blocked = dir.path().join("a-file");
        fs::write(&blocked, "").unwrap();
        assert!(!file::writable(&blocked.join("_features.conf")));
    }

    #[test]
    fn concurrent_sets_lose_no_edit() {
        let fixture = Fixture::new(Some("# one line per flag, please\n"));
        let manager = fixture.load();
        for enabled in [false, true, false] {
            let start = Arc::new(std::sync::Barrier::new(Feature::ALL.len()));
            let threads: Vec<_> = Feature::ALL
                .into_iter()
                .map(|feature| {
                    let (manager, start) = (Arc::clone(&manager), Arc::clone(&start));
                    thread::spawn(move || {
                        start.wait();
                        manager.set(feature, enabled)
                    })
                })
                .collect();
            for thread in threads {
                assert_eq!(thread.join().unwrap(), Ok(true));
            }
            let on_disk = crate::parser::parse(&fs::read_to_string(&fixture.path).unwrap())
                .unwrap()
                .resolve();
            for state in on_disk {
                assert_eq!(state.enabled, enabled, "{state:?}");
                assert_eq!(manager.is_enabled(state.feature), enabled, "{state:?}");
            }
        }
    }
}
