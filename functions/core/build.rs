//! Embeds every `templates/*.toml` of the workspace, so adding a language is adding a file.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // The package's folder as cargo gives it when it runs this script, not as it was when the
    // script was compiled: a script compiled for another checkout (a worktree sharing the target
    // folder) would otherwise read that checkout's templates, or none.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("../../templates");
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    assert!(files.iter().any(|p| p.ends_with("en.toml")), "{}: no en.toml, no messages could be sent", dir.display());
    files.sort();
    let mut out = String::from("/// Every template file, as (file stem, text).\npub static EMBEDDED: &[(&str, &str)] = &[\n");
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let abs = path.canonicalize().unwrap();
        writeln!(out, "    ({stem:?}, include_str!({:?})),", abs.display().to_string()).unwrap();
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_templates.rs");
    std::fs::write(target, out).unwrap();
}
