//! The manifest check: what a tool collects, compared with the file checked
//! into its repository.

use std::path::Path;

/// `AZSDK_TELEMETRY_MANIFEST=overwrite` makes [`assert_manifest`] (and
/// [`check_manifest`]) write the file instead of comparing, as `TRYBUILD=overwrite`
/// and `INSTA_UPDATE=always` do.
pub const ENV_MANIFEST: &str = "AZSDK_TELEMETRY_MANIFEST";

/// Why the manifest does not match its file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestMismatch {
    /// The file's text and the manifest differ; the message holds a unified
    /// diff (`-` checked in, `+` now collected).
    #[error("the telemetry manifest changed: what the tools collect is not what {path} says.\n{diff}\nReview the change; if it is intended, rerun with {ENV_MANIFEST}=overwrite and check the file in.")]
    Changed {
        /// The file.
        path: String,
        /// The unified diff.
        diff: String,
    },
    /// The file cannot be read or written.
    #[error("cannot {action} the telemetry manifest {path}: {source}; rerun with {ENV_MANIFEST}=overwrite to create it")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Compares `manifest` (as [`Manifest::to_json`](azsdk_telemetry::manifest::Manifest::to_json)
/// writes it) with the file at `path`; with `AZSDK_TELEMETRY_MANIFEST=overwrite`
/// writes the file instead.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("telemetry-manifest.json");
/// let manifest = azsdk_telemetry::manifest();
/// std::fs::write(&path, manifest.to_json()).unwrap();
/// azsdk_telemetry_testkit::check_manifest(&manifest, &path).unwrap();
/// ```
///
/// # Errors
/// [`ManifestMismatch`] with a readable diff when they differ, or when the file
/// cannot be read.
pub fn check_manifest(
    manifest: &azsdk_telemetry::manifest::Manifest,
    path: impl AsRef<Path>,
) -> Result<(), ManifestMismatch> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let actual = manifest.to_json();
    if std::env::var(ENV_MANIFEST).is_ok_and(|value| value.trim() == "overwrite") {
        return std::fs::write(path, &actual).map_err(|source| ManifestMismatch::Io {
            action: "write",
            path: shown,
            source,
        });
    }
    let expected = std::fs::read_to_string(path).map_err(|source| ManifestMismatch::Io {
        action: "read",
        path: shown.clone(),
        source,
    })?;
    if expected.replace("\r\n", "\n") == actual {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header(&shown, "collected now")
        .to_string();
    Err(ManifestMismatch::Changed { path: shown, diff })
}

/// Asserts that this test binary's [`manifest()`](azsdk_telemetry::manifest())
/// matches the file at `path` (usually `telemetry-manifest.json` beside the
/// crate's `Cargo.toml`), failing with a diff that names each key a tool
/// started or stopped collecting.
///
/// ```no_run
/// #[test]
/// fn telemetry_manifest_is_reviewed() {
///     azsdk_telemetry_testkit::assert_manifest(
///         concat!(env!("CARGO_MANIFEST_DIR"), "/telemetry-manifest.json"),
///     );
/// }
/// ```
#[track_caller]
pub fn assert_manifest(path: impl AsRef<Path>) {
    if let Err(mismatch) = check_manifest(&azsdk_telemetry::manifest(), path) {
        panic!("{mismatch}");
    }
}
