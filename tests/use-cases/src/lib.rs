//! The use cases' tests live in `tests/use_cases/` (one test binary, a
//! module per file). This library only guards that layout: a file there
//! that `main.rs` does not name would never be compiled or run.

#[cfg(test)]
mod layout {
    use std::collections::BTreeSet;
    use std::path::Path;

    #[test]
    fn every_file_of_the_test_binary_is_a_module_of_it() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/use_cases");
        let main = std::fs::read_to_string(folder.join("main.rs")).expect("main.rs");
        let declared: BTreeSet<String> = main
            .lines()
            .filter_map(|line| line.trim().strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned))
            .collect();
        let files: BTreeSet<String> = std::fs::read_dir(&folder)
            .expect("the test folder")
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_stem()?.to_str()?.to_owned();
                (path.is_dir() || (path.extension()? == "rs" && name != "main")).then_some(name)
            })
            .collect();
        assert!(files.len() >= 9, "the reader found the files: {files:?}");
        assert_eq!(
            files, declared,
            "each file in tests/use_cases needs its `mod` line in main.rs"
        );
    }
}
