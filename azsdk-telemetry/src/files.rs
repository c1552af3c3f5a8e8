//! Private files: directories only the user can enter (0700 on Unix) and files only the
//! user can read (0600), replaced atomically (written under a temporary name, synced,
//! renamed), so a reader never sees half a file. The state file, the settings file and
//! the spool all write through here.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Creates `dir` (and parents) and makes the leaf private to the user, tightening one
/// that already existed.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)?;
    Ok(())
}

/// Creates a new file private to the user; fails if `path` exists.
pub(crate) fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes `bytes` to `temporary` (a new private file in the same directory), syncs it and
/// renames it over `target`. On failure the temporary file is removed.
pub(crate) fn write_atomically(target: &Path, temporary: &Path, bytes: &[u8]) -> io::Result<()> {
    let written = create_private_file(temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let result = written.and_then(|()| fs::rename(temporary, target));
    if result.is_err() {
        let _ = fs::remove_file(temporary);
    }
    result
}

/// Replaces `path`'s content atomically, through a temporary file beside it (named for
/// this process, so two processes never write the same temporary).
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temporary = path.with_extension(format!("tmp-{}-{nanos}", std::process::id()));
    write_atomically(path, &temporary, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_is_whole_and_private_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("state");
        create_private_dir(&home).unwrap();
        let target = home.join("file.json");
        write_atomically(&target, &home.join(".tmp-1"), b"first").unwrap();
        replace(&target, b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert_eq!(fs::read_dir(&home).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!((mode(&home), mode(&target)), (0o700, 0o600));
        }
    }

    #[test]
    fn a_failed_write_removes_its_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let temporary = dir.path().join(".tmp");
        let target = dir.path().join("missing-dir").join("file");
        assert!(write_atomically(&target, &temporary, b"x").is_err());
        assert!(!temporary.exists());
    }
}
