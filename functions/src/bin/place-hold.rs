//! The `place-hold` Lambda: [`functions::place_hold`] on the real backends.

functions::lambda_main!(place_hold);
