//! The skills embedded from `plugin-assets/skills/`, installed as
//! `$CODEX_HOME/skills/axonflow-<folder>/SKILL.md`.

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/skills.rs"));

/// (folder under `skills/`, SKILL.md contents).
pub fn planned(skills_dir: &Path) -> Vec<(PathBuf, &'static str)> {
    SKILLS
        .iter()
        .map(|(folder, contents)| (skills_dir.join(format!("axonflow-{folder}")), *contents))
        .collect()
}
