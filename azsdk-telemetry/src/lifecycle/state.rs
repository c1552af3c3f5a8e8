//! The per-user state file: what the last run knew, read and written under
//! an exclusive lock so concurrent invocations never lose each other's update.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::files;

/// What one run leaves for the next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct State {
    /// The application version of the last run; `None` before the first.
    pub last_version: Option<String>,
    /// Whether the first-run notice was shown.
    pub notice_shown: bool,
    /// The CLI session that spans invocations.
    pub session: Option<StoredSession>,
}

/// A CLI session as stored between invocations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredSession {
    /// `sessionId`.
    pub id: String,
    /// Last activity, milliseconds since the Unix epoch.
    pub last_activity_ms: u64,
}

/// The state file of one application, in its state directory.
#[derive(Debug, Clone)]
pub(crate) struct StateStore {
    dir: PathBuf,
}

/// How long to wait for another invocation to release the lock.
const LOCK_WAIT: Duration = Duration::from_secs(2);

impl StateStore {
    /// The store in `dir` (created on first update, mode 0700 on Unix).
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Self {
        StateStore { dir: dir.into() }
    }

    fn file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Reads the state, lets `change` update it, and writes it back, all
    /// under an exclusive lock. A missing or corrupt file reads as the
    /// default state (a corrupt one is replaced).
    ///
    /// # Errors
    /// When the directory cannot be created or written, or the lock is held
    /// by another process for longer than two seconds.
    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> io::Result<T> {
        files::create_private_dir(&self.dir)?;
        let _lock = lock(&self.dir.join("state.lock"))?;
        let mut state = self.read_unlocked();
        let result = change(&mut state);
        let text = serde_json::to_vec_pretty(&state).map_err(io::Error::other)?;
        files::replace(&self.file(), &text)?;
        Ok(result)
    }

    /// The state as stored, without locking (a torn read is impossible: writes rename).
    fn read_unlocked(&self) -> State {
        std::fs::read(self.file())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }
}

/// An exclusive advisory lock on `path`, released when the file is dropped.
fn lock(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "the telemetry state in {} is locked by another process",
                        path.display()
                    ),
                ))
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_corrupt_file_reads_as_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("app"));
        assert_eq!(store.read_unlocked(), State::default());
        files::create_private_dir(&store.dir).unwrap();
        std::fs::write(store.dir.join("state.json"), b"{not json").unwrap();
        assert_eq!(store.read_unlocked(), State::default());
        store.update(|state| state.notice_shown = true).unwrap();
        assert!(store.read_unlocked().notice_shown);
    }

    #[test]
    fn concurrent_updates_are_never_lost() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("app"));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        store
                            .update(|state| {
                                let n: u64 = state
                                    .last_version
                                    .as_deref()
                                    .unwrap_or("0")
                                    .parse()
                                    .unwrap();
                                state.last_version = Some((n + 1).to_string());
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(store.read_unlocked().last_version.as_deref(), Some("200"));
    }

    #[cfg(unix)]
    #[test]
    fn state_is_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("app"));
        store.update(|_| ()).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.dir), 0o700);
        assert_eq!(mode(&store.dir.join("state.json")), 0o600);
    }
}
