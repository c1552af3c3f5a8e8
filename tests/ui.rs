//! Compile-time behaviour of the macros: every supported shape compiles,
//! every mistake gives one clear error at the offending token.

use std::path::Path;

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

/// A diagnostic speaks of the author's code and the public API: no expected
/// output names the runtime's private module.
#[test]
fn no_diagnostic_names_a_private_item() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut stack = vec![dir];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "stderr") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !text.contains("__private") && !text.contains("__Azsdk"),
                    "{} names a private item:\n{text}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} .stderr files found");
}
