//! The embedded data files (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/data_files.rs"));

/// The contents of the data file at `path` (relative to `data/`).
pub(crate) fn file(path: &str) -> Option<&'static str> {
    DATA_FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, text)| *text)
}
