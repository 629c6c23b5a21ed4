//! Embeds every file under `data/` into the crate so that binaries are self-contained and adding a diet,
//! an allergen or taxonomy entries only means adding or editing data files: no Rust code names them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs, io};

fn main() -> io::Result<()> {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let data_dir = manifest_dir.join("data");
    println!("cargo:rerun-if-changed={}", data_dir.display());

    let mut files = Vec::new();
    collect(&data_dir, &mut files)?;
    files.sort();

    let mut generated = String::from(
        "/// Every data file, as (path relative to `data/`, contents), sorted by path.\n",
    );
    generated.push_str("pub(crate) static DATA_FILES: &[(&str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file
            .strip_prefix(&data_dir)
            .map_err(io::Error::other)?
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            generated,
            "    ({relative:?}, include_str!({:?})),",
            file.display().to_string()
        );
    }
    generated.push_str("];\n");

    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("data_files.rs");
    fs::write(out, generated)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "toml" || ext == "txt")
        {
            files.push(path);
        }
    }
    Ok(())
}
