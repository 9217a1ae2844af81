//! One test binary per crate: a folder under `tests/` whose `main.rs`
//! declares every other file as a module. Cargo compiles only what `main.rs`
//! names, so a file left out would silently never run; each such binary
//! asserts this of itself.

use std::collections::BTreeSet;
use std::path::Path;

/// Checks that `main.rs` in `folder` declares exactly the modules there.
///
/// # Panics
/// Naming them: when `folder` holds a `.rs` file or a module folder that
/// its `main.rs` does not declare with `mod <name>;`, when `main.rs` declares
/// one that is not there, or when the folder cannot be read.
pub fn assert_every_file_is_a_module(folder: &Path) {
    let main = std::fs::read_to_string(folder.join("main.rs"))
        .unwrap_or_else(|error| panic!("{}: {error}", folder.join("main.rs").display()));
    let declared: BTreeSet<String> = main
        .lines()
        .filter_map(|line| line.trim().strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned))
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_stem()?.to_str()?.to_owned();
            let module = if path.is_dir() {
                path.join("mod.rs").is_file()
            } else {
                path.extension()? == "rs" && name != "main"
            };
            module.then_some(name)
        })
        .collect();
    assert!(!files.is_empty(), "no module files found in {}", folder.display());
    assert_eq!(
        files,
        declared,
        "each file in {} needs its `mod` line in main.rs",
        folder.display()
    );
}
