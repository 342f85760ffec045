//! A config.toml checked one section (a header line and what follows it) at a time.
//!
//! toml_edit's tree of a file costs up to ~50 times the text (a file of many small tables),
//! so a big file is never held as one tree: each section is parsed on its own and dropped,
//! and what sections must agree on across the file (no key or table defined twice, no table
//! under a value) is kept as one hash per key path. The rules are stricter than TOML's (an
//! array of tables, or a table both dotted and headed, is left to the whole-file parse):
//! whatever this module does not accept, the caller parses whole, as before.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;

use toml_edit::{Item, Table};

use crate::edit::config_toml::MCP_SERVER_NAME;

/// How a key path was defined.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Only as the parent of a header's table (`a` of `[a.b]`).
    Implicit,
    /// By its own `[header]`.
    Header,
    /// By a dotted key (`a` of `a.b = 1`).
    Dotted,
    /// As a value (an inline table or an array included: both are closed).
    Value,
}

pub(crate) struct Outline {
    kinds: HashMap<u64, Kind>,
    /// Where each section starts: the file's start, then each header line's start.
    pub(crate) starts: Vec<usize>,
    /// The sections our entries live in or next to (see [`matters`]).
    ours: Vec<Range<usize>>,
}

impl Outline {
    /// The outline of `text`, or `None` when a section does not parse alone or the sections
    /// do not fit together by this module's rules.
    pub(crate) fn of(text: &str) -> Option<Outline> {
        let starts = section_starts(text);
        let mut outline = Outline {
            kinds: HashMap::new(),
            starts: Vec::new(),
            ours: Vec::new(),
        };
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            let section = toml_edit::Document::parse(text.get(start..end)?).ok()?;
            if matters(section.as_table()) {
                outline.ours.push(start..end);
            }
            outline.register(&mut Vec::new(), section.as_table())?;
        }
        outline.starts = starts;
        Some(outline)
    }

    /// Whether `path` is defined in any way (as a table, even implicitly, or a value).
    pub(crate) fn has(&self, path: &[&str]) -> bool {
        self.kinds.contains_key(&path_hash(path))
    }

    /// `text` with every section but ours blanked: its tree is small, and its spans are those
    /// of `text`. A blanked section keeps the line break of its last line that is not blank and
    /// the blank lines after it (where our tables are looked for, as appended), so it is a few
    /// tokens, not two a line.
    pub(crate) fn reduced(&self, text: &str) -> Option<String> {
        let mut bytes = vec![b' '; text.len()];
        for (i, &start) in self.starts.iter().enumerate() {
            let end = self.starts.get(i + 1).copied().unwrap_or(text.len());
            let section = text.get(start..end)?;
            let content = section.trim_end_matches([' ', '\t', '\r', '\n']).len();
            let tail = section[content..]
                .find('\n')
                .map_or(end, |at| start + content + at);
            let tail = if text[..tail].ends_with('\r') {
                tail - 1
            } else {
                tail
            };
            bytes[tail..end].copy_from_slice(text.as_bytes().get(tail..end)?);
        }
        for range in &self.ours {
            bytes[range.clone()].copy_from_slice(text.as_bytes().get(range.clone())?);
        }
        String::from_utf8(bytes).ok()
    }

    fn register<'a>(&mut self, path: &mut Vec<&'a str>, table: &'a Table) -> Option<()> {
        for (key, item) in table.iter() {
            path.push(key);
            let kind = match item {
                Item::Table(t) if t.is_dotted() => Kind::Dotted,
                Item::Table(t) if t.is_implicit() => Kind::Implicit,
                Item::Table(_) => Kind::Header,
                Item::Value(_) => Kind::Value,
                Item::ArrayOfTables(_) | Item::None => return None,
            };
            self.mark(path_hash(path), kind)?;
            if let Item::Table(child) = item {
                self.register(path, child)?;
            }
            path.pop();
        }
        Some(())
    }

    /// Records one definition; `None` when it clashes with an earlier one (or might).
    fn mark(&mut self, at: u64, kind: Kind) -> Option<()> {
        match (self.kinds.entry(at), kind) {
            (Entry::Vacant(vacant), _) => {
                vacant.insert(kind);
            }
            (Entry::Occupied(old), Kind::Implicit)
                if matches!(old.get(), Kind::Implicit | Kind::Header) => {}
            (Entry::Occupied(mut old), Kind::Header) if *old.get() == Kind::Implicit => {
                old.insert(Kind::Header);
            }
            _ => return None,
        }
        Some(())
    }
}

/// The start of the file and of every line whose first non-blank character is `[`. A `[`
/// line inside a multi-line string or array splits that construct, and the first half then
/// fails to parse alone: such a file is left to the whole-file parse.
fn section_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at > 0 && line.trim_start_matches([' ', '\t']).starts_with('[') {
            starts.push(at);
        }
        at += line.len();
    }
    starts
}

/// Whether a section (parsed alone) holds anything of `[hooks]` or `[mcp_servers.axonflow]`.
fn matters(section: &Table) -> bool {
    section.get("hooks").is_some()
        || section
            .get("mcp_servers")
            .and_then(|servers| servers.get(MCP_SERVER_NAME))
            .is_some()
}

fn path_hash(path: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    path.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_fits_and_refuses_what_may_clash() {
        let ok = "a = 1\n[t.u]\nx = 1\n[t]\ny.z = 2\n[hooks.state.\"k\"]\ntrusted_hash = \"h\"\n";
        let outline = Outline::of(ok).unwrap();
        assert!(outline.has(&["t", "y", "z"]) && outline.has(&["t", "u"]));
        assert!(!outline.has(&["t", "v"]));
        assert_eq!(outline.ours.len(), 1);
        for clash in [
            "a = 1\n[a]\n",
            "[a]\n[a]\n",
            "[a]\nb = 1\n[a.b]\n",
            "a.b = 1\n[a]\n",
            "[a]\nx = {}\n[a.x.y]\n",
            "[[a]]\n",
            "s = \"\"\"\n[a]\n\"\"\"\n",
            "x = [\n[1],\n]\n",
        ] {
            assert!(Outline::of(clash).is_none(), "{clash:?}");
        }
    }

    #[test]
    fn reduced_keeps_our_sections_and_every_offset() {
        let text = "m = \"é\"\r\n[x]\ny = 2\n\n \n[hooks.state.\"k\"]\ntrusted_hash = \"h\"\n";
        let reduced = Outline::of(text).unwrap().reduced(text).unwrap();
        assert_eq!(reduced.len(), text.len());
        assert!(reduced.ends_with("[hooks.state.\"k\"]\ntrusted_hash = \"h\"\n"));
        assert!(
            reduced.starts_with("        \r\n         \n\n \n"),
            "{reduced:?}"
        );
    }
}
