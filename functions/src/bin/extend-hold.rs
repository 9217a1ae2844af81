//! The `extend-hold` Lambda: [`functions::extend_hold`] on the real backends.

functions::lambda_main!(extend_hold);
