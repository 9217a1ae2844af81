//! The `release-hold` Lambda: [`functions::release_hold`] on the real backends.

functions::lambda_main!(release_hold);
