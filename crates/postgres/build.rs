//! Fingerprints the migrations so that the test harness builds one template database per migration set.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::{env, fs};

fn main() {
    let dir =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let mut hasher = DefaultHasher::new();
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        path.strip_prefix(&dir).unwrap_or(&path).hash(&mut hasher);
        fs::read(&path).unwrap_or_default().hash(&mut hasher);
    }
    println!(
        "cargo:rustc-env=MIGRATIONS_FINGERPRINT={:016x}",
        hasher.finish()
    );
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
