//! The `cancel-order` Lambda: [`functions::cancel_order`] on the real backends.

functions::lambda_main!(cancel_order);
