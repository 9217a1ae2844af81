//! The `verify-hold` Lambda: [`functions::verify_hold`] on the real backends.

functions::lambda_main!(verify_hold);
