//! The `create-order` Lambda: [`functions::create_order`] on the real backends.

functions::lambda_main!(create_order);
