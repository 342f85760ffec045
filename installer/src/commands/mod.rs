pub(crate) mod decisions;
pub(crate) mod doctor;
pub mod install;
pub(crate) mod status;
pub(crate) mod uninstall;
pub(crate) mod update;
