pub mod fsio;
pub(crate) mod local_records;
pub(crate) mod receipt;
