pub(crate) mod liveness;
pub(crate) mod registration;
