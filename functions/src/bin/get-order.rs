//! The `get-order` Lambda: [`functions::get_order`] on the real backends.

functions::lambda_main!(get_order);
