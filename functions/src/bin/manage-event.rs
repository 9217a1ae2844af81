//! The `manage-event` Lambda: [`functions::manage_event`] on the real backends.

functions::lambda_main!(manage_event);
