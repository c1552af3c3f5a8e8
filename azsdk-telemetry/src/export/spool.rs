//! Disk spool for batches that could not be delivered.
//!
//! Layout: one file per batch in the spool directory (mode 0700), named
//! `{created unix ms:016}-{random:016x}.v1.aispool`, mode 0600. A file is written under a
//! `.tmp-` name, synced, then renamed, so a reader never sees half a file. Content: gzip of a
//! header line `{"format":"azsdk-telemetry-spool","version":1,"items":N}` followed by `N`
//! lines, one envelope each (already sanitized, with `iKey`). Anything that does not match
//! (bad gzip, header, count or JSON) is removed and counted as corrupt. Files are aged out by
//! the creation time in their name; resent files keep it when rewritten.
//!
//! Many processes of one app share the spool: a file is claimed before it is read, by
//! renaming it to `.claim-{random:016x}-{name}` (a rename is atomic, so exactly one
//! process wins and sends it). The claimant removes it once delivered, or renames it back
//! to release it. A claim left by a process that died is released by the next process to
//! open the spool once it is older than [`STALE_CLAIM`] (the claim touches the file).

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::retry::XorShift;
use super::stats::Counters;
use crate::files;

const SUFFIX: &str = ".v1.aispool";
const TMP_PREFIX: &str = ".tmp-";
const CLAIM_PREFIX: &str = ".claim-";
/// A claim this old belongs to a process that died while sending it: it is released.
const STALE_CLAIM: Duration = Duration::from_secs(600);
const FORMAT: &str = "azsdk-telemetry-spool";
const VERSION: u64 = 1;
/// Largest decompressed spool file read back.
const MAX_DECOMPRESSED: u64 = 256 * 1024 * 1024;
/// Temporary files older than this are leftovers of a killed writer.
const STALE_TMP: Duration = Duration::from_secs(600);
/// Writes between two scans of the directory for its true size (other processes may
/// share it); in between, the size is tracked in memory.
const WRITES_PER_SCAN: u32 = 64;

/// Why a batch was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpoolWriteError {
    #[error("the spool is at its size cap")]
    Full,
    #[error("could not write the spool file: {0}")]
    Io(#[from] io::Error),
}

/// A spool file waiting to be resent: `path` is where it is now (its claimed name once
/// [`Spool::next_file`] gave it), `home` its name in the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpoolFile {
    pub path: PathBuf,
    home: PathBuf,
    pub created_ms: u64,
}

pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    max_age: Duration,
    counters: Arc<Counters>,
    rng: XorShift,
    /// Bytes in the spool as of the last scan plus what this process wrote since.
    size: u64,
    writes_since_scan: u32,
    /// Files found by the last scan, oldest first, not yet handed out.
    queue: VecDeque<SpoolFile>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The spool files waiting in `dir` (complete, unclaimed ones), oldest first, with their
/// sizes. Reads the directory only.
fn list(dir: &Path) -> Vec<(SpoolFile, u64)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(SpoolFile, u64)> = entries
        .flatten()
        .filter_map(|entry| {
            // Only regular files: opening a FIFO would block the worker, a directory or
            // a symlink is nothing this spool wrote.
            if !entry.file_type().is_ok_and(|t| t.is_file()) {
                return None;
            }
            let name = entry.file_name().into_string().ok()?;
            let stem = name.strip_suffix(SUFFIX)?;
            let created_ms = stem.split('-').next()?.parse::<u64>().ok()?;
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            Some((
                SpoolFile {
                    path: entry.path(),
                    home: entry.path(),
                    created_ms,
                },
                size,
            ))
        })
        .collect();
    files.sort_by(|a, b| (a.0.created_ms, &a.0.path).cmp(&(b.0.created_ms, &b.0.path)));
    files
}

/// What waits in the spool directory `dir`, read without opening (or creating) it as a
/// spool: how many files, their bytes, and when the oldest was written.
pub(crate) fn summary(dir: &Path) -> (u64, u64, Option<SystemTime>) {
    let files = list(dir);
    let bytes = files.iter().map(|(_, size)| size).sum();
    let oldest = files
        .first()
        .map(|(file, _)| UNIX_EPOCH + Duration::from_millis(file.created_ms));
    (files.len() as u64, bytes, oldest)
}

impl Spool {
    pub(crate) fn open(
        dir: PathBuf,
        max_bytes: u64,
        max_age: Duration,
        counters: Arc<Counters>,
    ) -> io::Result<Self> {
        files::create_private_dir(&dir)?;
        let mut spool = Self {
            dir,
            max_bytes,
            max_age,
            counters,
            rng: XorShift::seeded(),
            size: 0,
            writes_since_scan: WRITES_PER_SCAN,
            queue: VecDeque::new(),
        };
        spool.tidy_leftovers();
        spool.size = spool.scan_size();
        spool.writes_since_scan = 0;
        Ok(spool)
    }

    /// Removes temporary files of killed writers and releases claims of dead processes.
    fn tidy_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let older_than = |entry: &fs::DirEntry, limit: Duration| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > limit)
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TMP_PREFIX) && older_than(&entry, STALE_TMP) {
                let _ = fs::remove_file(entry.path());
            } else if let Some(home) = claimed_home(&name) {
                if older_than(&entry, STALE_CLAIM) {
                    let _ = fs::rename(entry.path(), self.dir.join(home));
                }
            }
        }
    }

    /// Total bytes of spool files on disk.
    fn scan_size(&self) -> u64 {
        list(&self.dir).iter().map(|(_, s)| s).sum()
    }

    /// Writes one batch as a new file.
    pub(crate) fn write<'a>(
        &mut self,
        items: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Result<(), SpoolWriteError> {
        let bytes = encode(items)?;
        if self.writes_since_scan >= WRITES_PER_SCAN {
            self.size = self.scan_size();
            self.writes_since_scan = 0;
        }
        let len = bytes.len() as u64;
        if self.size + len > self.max_bytes {
            // Maybe files were delivered or removed since: check the disk before refusing.
            self.size = self.scan_size();
            self.writes_since_scan = 0;
            if self.size + len > self.max_bytes {
                return Err(SpoolWriteError::Full);
            }
        }
        let name = format!("{:016}-{:016x}{SUFFIX}", now_ms(), self.rng.next_u64());
        self.write_atomically(&self.dir.join(name), &bytes)?;
        self.size += len;
        self.writes_since_scan += 1;
        Ok(())
    }

    /// Replaces a file's content with the items still to send, keeping its name (and age).
    pub(crate) fn rewrite<'a>(
        &mut self,
        file: &SpoolFile,
        items: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> io::Result<()> {
        let bytes = encode(items)?;
        self.write_atomically(&file.path, &bytes)
    }

    fn write_atomically(&mut self, target: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = self
            .dir
            .join(format!("{TMP_PREFIX}{:016x}", self.rng.next_u64()));
        files::write_atomically(target, &tmp, bytes)
    }

    /// The oldest file still young enough to send; older ones are removed and counted.
    /// The directory is scanned only when the files of the previous scan are used up.
    pub(crate) fn next_file(&mut self) -> Option<SpoolFile> {
        let max_age_ms = self.max_age.as_millis() as u64;
        let now = now_ms();
        if self.queue.is_empty() {
            self.queue = list(&self.dir).into_iter().map(|(f, _)| f).collect();
        }
        while let Some(file) = self.queue.pop_front() {
            if !file.path.exists() {
                continue;
            }
            if now.saturating_sub(file.created_ms) <= max_age_ms {
                match self.claim(file) {
                    Some(claimed) => return Some(claimed),
                    // Another process claimed it first.
                    None => continue,
                }
            }
            let items = read_items(&file.path).map(|v| v.len()).unwrap_or(0);
            if fs::remove_file(&file.path).is_ok() {
                super::stats::add(&self.counters.spool_too_old, items);
                tracing::debug!(target: "azsdk_telemetry::export", items, "removed spool file past its maximum age");
            }
        }
        None
    }

    /// Reads a file back; a corrupt one is removed, counted, and `None` is returned.
    pub(crate) fn read(&self, file: &SpoolFile) -> Option<Vec<Box<[u8]>>> {
        match read_items(&file.path) {
            Ok(items) => Some(items),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!(target: "azsdk_telemetry::export", error = %e, "removing corrupt spool file");
                if fs::remove_file(&file.path).is_ok() {
                    self.counters.spool_corrupt_files.fetch_add(1, Relaxed);
                }
                None
            }
        }
    }

    /// Claims a file for this process: `None` when another process has it.
    fn claim(&mut self, file: SpoolFile) -> Option<SpoolFile> {
        let name = file.home.file_name()?.to_str()?;
        let claimed = self
            .dir
            .join(format!("{CLAIM_PREFIX}{:016x}-{name}", self.rng.next_u64()));
        fs::rename(&file.home, &claimed).ok()?;
        // The claim's age is its file's: a claim is stale some time after it was made.
        let _ = File::options()
            .write(true)
            .open(&claimed)
            .and_then(|f| f.set_modified(SystemTime::now()));
        Some(SpoolFile {
            path: claimed,
            ..file
        })
    }

    /// Releases a claimed file and puts it back at the head of the queue (it will be
    /// tried again first).
    pub(crate) fn requeue(&mut self, file: SpoolFile) {
        if file.path != file.home {
            if let Err(e) = fs::rename(&file.path, &file.home) {
                tracing::warn!(target: "azsdk_telemetry::export", error = %e, "could not release a claimed spool file");
                return;
            }
        }
        self.queue.push_front(SpoolFile {
            path: file.home.clone(),
            ..file
        });
    }

    pub(crate) fn remove(&mut self, file: &SpoolFile) {
        let len = fs::metadata(&file.path).map(|m| m.len()).unwrap_or(0);
        self.size = self.size.saturating_sub(len);
        if let Err(e) = fs::remove_file(&file.path) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(target: "azsdk_telemetry::export", error = %e, "could not remove a delivered spool file");
            }
        }
    }
}

pub(crate) fn encode<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    writeln!(
        gz,
        r#"{{"format":"{FORMAT}","version":{VERSION},"items":{}}}"#,
        items.len()
    )?;
    for item in items {
        gz.write_all(item)?;
        gz.write_all(b"\n")?;
    }
    gz.finish()
}

/// The spool name a claimed file's name stands for, if it is one.
fn claimed_home(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(CLAIM_PREFIX)?;
    let (_, home) = rest.split_once('-')?;
    home.ends_with(SUFFIX).then_some(home)
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn read_items(path: &Path) -> io::Result<Vec<Box<[u8]>>> {
    if !fs::symlink_metadata(path)?.file_type().is_file() {
        return Err(corrupt("not a regular file"));
    }
    decode_items(File::open(path)?)
}

/// Longest header line read: a real one is about 60 bytes.
const MAX_HEADER: u64 = 1024;

/// Decodes the content of a spool file (see the module documentation).
pub(crate) fn decode_items(file: impl Read) -> io::Result<Vec<Box<[u8]>>> {
    let mut reader = BufReader::new(GzDecoder::new(file).take(MAX_DECOMPRESSED));
    let mut header = Vec::new();
    (&mut reader)
        .take(MAX_HEADER)
        .read_until(b'\n', &mut header)?;
    if header.last() != Some(&b'\n') {
        return Err(corrupt("spool header is missing or too long"));
    }
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|_| corrupt("spool header is not JSON"))?;
    if header.get("format").and_then(|v| v.as_str()) != Some(FORMAT)
        || header.get("version").and_then(|v| v.as_u64()) != Some(VERSION)
    {
        return Err(corrupt("unknown spool format or version"));
    }
    let expected = header
        .get("items")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| corrupt("spool header has no item count"))?;
    let mut items = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            return Err(corrupt("spool file ends mid-line"));
        }
        line.pop();
        serde_json::from_slice::<serde::de::IgnoredAny>(&line)
            .map_err(|_| corrupt("spool line is not JSON"))?;
        items.push(line.clone().into_boxed_slice());
    }
    if items.len() as u64 != expected {
        return Err(corrupt("spool file has the wrong number of items"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(dir: &Path) -> Spool {
        Spool::open(
            dir.to_path_buf(),
            1 << 20,
            Duration::from_secs(3600),
            Arc::default(),
        )
        .unwrap()
    }

    fn items(n: usize) -> Vec<Box<[u8]>> {
        (0..n)
            .map(|i| format!(r#"{{"i":{i}}}"#).into_bytes().into_boxed_slice())
            .collect()
    }

    fn lines(items: &[Box<[u8]>]) -> impl ExactSizeIterator<Item = &[u8]> {
        items.iter().map(|item| &item[..])
    }

    #[test]
    fn round_trip_and_rewrite_keep_the_name() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = spool(tmp.path());
        s.write(lines(&items(3))).unwrap();
        let f = s.next_file().unwrap();
        assert_eq!(s.read(&f).unwrap(), items(3));
        s.rewrite(&f, lines(&items(1))).unwrap();
        s.requeue(f.clone());
        let again = s.next_file().unwrap();
        assert_eq!((&again.home, again.created_ms), (&f.home, f.created_ms));
        assert_eq!(s.read(&again).unwrap(), items(1));
        s.remove(&again);
        assert!(s.next_file().is_none());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_claimed_file_goes_to_one_spool_of_many_until_released() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut first, mut second) = (spool(tmp.path()), spool(tmp.path()));
        first.write(lines(&items(2))).unwrap();
        let claimed = second.next_file().unwrap();
        assert!(claimed
            .path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(CLAIM_PREFIX));
        assert!(first.next_file().is_none(), "claimed by the other");
        second.requeue(claimed);
        let mine = first.next_file().expect("released");
        assert_eq!(first.read(&mine).unwrap(), items(2));
        first.remove(&mine);
        assert!(second.next_file().is_none());
    }

    #[test]
    fn a_stale_claim_of_a_dead_process_is_released() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dead = spool(tmp.path());
        dead.write(lines(&items(3))).unwrap();
        let claimed = dead.next_file().unwrap();
        drop(dead);
        let past = SystemTime::now() - STALE_CLAIM - Duration::from_secs(1);
        File::options()
            .write(true)
            .open(&claimed.path)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let mut next = spool(tmp.path());
        let file = next.next_file().expect("the stale claim is released");
        assert_eq!(next.read(&file).unwrap(), items(3));
    }

    #[test]
    fn truncated_file_is_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = spool(tmp.path());
        s.write(lines(&items(50))).unwrap();
        let f = s.next_file().unwrap();
        let bytes = fs::read(&f.path).unwrap();
        fs::write(&f.path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(s.read(&f).is_none());
        assert!(!f.path.exists());
        assert_eq!(s.counters.spool_corrupt_files.load(Relaxed), 1);
    }

    #[test]
    fn only_regular_files_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = spool(tmp.path());
        let name = |i: u32| {
            tmp.path()
                .join(format!("{:016}-{i:016x}{SUFFIX}", now_ms() - 10))
        };
        fs::create_dir(name(1)).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/dev/zero", name(2)).unwrap();
        s.write(lines(&items(2))).unwrap();
        let f = s.next_file().unwrap();
        assert_eq!(s.read(&f).unwrap(), items(2));
        s.remove(&f);
        assert!(
            s.next_file().is_none(),
            "a directory and a symlink are not spool files"
        );
        #[cfg(unix)]
        assert!(read_items(&name(2)).is_err(), "a symlink is not followed");
    }

    #[test]
    fn the_header_line_is_bounded() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&vec![b' '; 1 << 20]).unwrap();
        let e = decode_items(&gz.finish().unwrap()[..]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn cap_refuses_new_batches() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Spool::open(
            tmp.path().to_path_buf(),
            200,
            Duration::from_secs(60),
            Arc::default(),
        )
        .unwrap();
        s.write(lines(&items(2))).unwrap();
        assert!(matches!(
            s.write(lines(&items(200))),
            Err(SpoolWriteError::Full)
        ));
    }
}
