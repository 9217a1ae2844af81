//! The use cases' tests live in `tests/use_cases/` (one test binary, a
//! module per file). This library only guards that layout: a file there
//! that `main.rs` does not name would never be compiled or run.

#[cfg(test)]
mod layout {
    #[test]
    fn every_file_of_the_test_binary_is_a_module_of_it() {
        test_doubles::test_binary::assert_every_file_is_a_module(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/use_cases"),
        );
    }
}
