//! Embeds the skills from `plugin-assets/skills/<folder>/SKILL.md` into the binary.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let skills_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-assets/skills");
    println!("cargo:rerun-if-changed={}", skills_dir.display());
    let mut folders: Vec<String> = std::fs::read_dir(&skills_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().join("SKILL.md").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    folders.sort();
    let mut code = String::from("/// (folder, SKILL.md contents), sorted by folder.\npub const SKILLS: &[(&str, &str)] = &[\n");
    for folder in &folders {
        let file = skills_dir.join(folder).join("SKILL.md");
        println!("cargo:rerun-if-changed={}", file.display());
        writeln!(
            code,
            "    ({folder:?}, include_str!({:?})),",
            file.canonicalize().unwrap().display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("skills.rs");
    std::fs::write(out, code).unwrap();
}
