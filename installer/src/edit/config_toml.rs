//! `[mcp_servers.axonflow]` and our `[hooks.state."<key>"]` trust entries in
//! `$CODEX_HOME/config.toml`, edited as splices ([`crate::edit::splice`]), the way rustup's
//! `do_add_to_path` / `do_remove_from_path` add and cut exact bytes: the file is parsed with
//! spans, our entries are inserted, replaced or cut as byte ranges, and the result is kept only
//! when it parses and means the user's document plus (or minus) exactly our entries. A shape
//! that cannot be spliced is refused with a hint and nothing is written; nothing is ever
//! re-rendered, so every other byte of the user's file stays where it was.

use std::path::Path;

use toml_edit::{Document, DocumentMut, InlineTable, Item, Table, Value};

use crate::edit::config_outline::Outline;
use crate::edit::splice::{self, line_end, newline_of, Splice};
use crate::edit::toml_spans::{
    canonical, cut_entry, cut_from_inline, headed_ranges, insert_into_inline, key_repr, means,
    refuse, spanned, string_repr, Planned, TABLE_HINT,
};
use crate::error::{CommandError, Result};

pub(crate) const MCP_SERVER_NAME: &str = "axonflow";

/// Our MCP server entry.
#[derive(Debug, Clone, PartialEq)]
pub struct McpEntry {
    pub url: String,
    pub http_headers_helper: String,
}

/// One trust entry: key and `sha256:` hash.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustEntry {
    pub key: String,
    pub hash: String,
}

/// What merging created, so uninstall removes exactly that.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    pub text: String,
    pub created_mcp_servers: bool,
    pub created_hooks: bool,
    pub created_hooks_state: bool,
    /// What the merge adds or replaces, one line each (the dry run's summary).
    pub changes: Vec<String>,
}

/// What uninstall takes out of config.toml.
#[derive(Debug, Clone, Default)]
pub struct Removal {
    pub mcp_server: bool,
    pub trust_keys: Vec<String>,
    pub created_mcp_servers: bool,
    pub created_hooks: bool,
    pub created_hooks_state: bool,
}

/// Reads and checks config.toml text; a parse error names the file, line, column and cause.
pub fn check(path: &Path, bytes: Option<&[u8]>) -> Result<String> {
    let Some(bytes) = bytes else {
        return Ok(String::new());
    };
    let text = crate::state::fsio::utf8_text(path, bytes)?;
    if Outline::of(text).is_none() {
        parse(path, text)?;
    }
    Ok(text.to_string())
}

/// The file parsed with the byte spans of its parts.
fn parse<'a>(path: &Path, text: &'a str) -> Result<Document<&'a str>> {
    Document::parse(text).map_err(|e| {
        CommandError::failure(axonflow_codex_hook::text::toml_error(path, text, &e)).hint(format!(
            "fix {} by hand, then run the command again; nothing was changed",
            path.display()
        ))
    })
}

pub fn merge(
    path: &Path,
    text: &str,
    mcp: Option<&McpEntry>,
    trust: &[TrustEntry],
) -> Result<Merged> {
    let plan = |root: &Table, outline: Option<&Outline>| {
        let mut additions = Additions::new(text);
        if let Some(entry) = mcp {
            let elsewhere = outline.is_some_and(|o| o.has(&["mcp_servers"]));
            additions.mcp(root, entry, elsewhere)?;
        }
        additions.trust(root, trust)?;
        Ok(additions.finish())
    };
    let expect = |doc: &mut DocumentMut, _: &Merged| add_entries(doc, mcp, trust);
    let (text, mut merged) = spliced(path, text, plan, expect, false)?;
    merged.text = text;
    Ok(merged)
}

pub fn remove(path: &Path, text: &str, removal: &Removal) -> Result<String> {
    remove_owned(path, text, removal, &[])
}

/// [`remove`], taking out only those of `removal.trust_keys` that hold one of
/// `trust_hashes` (every one when it is empty): the others are the user's now.
pub(crate) fn remove_owned(
    path: &Path,
    text: &str,
    removal: &Removal,
    trust_hashes: &[String],
) -> Result<String> {
    let plan = |root: &Table, _: Option<&Outline>| {
        let removal = Removal {
            trust_keys: keys_holding(root, &removal.trust_keys, trust_hashes),
            ..removal.clone()
        };
        Ok((cuts(root, text, &removal)?, removal))
    };
    let (text, _) = spliced(path, text, plan, remove_entries, true)?;
    Ok(text)
}

/// Plans splices on a view of `text`, makes them, and keeps the result only when it means
/// what `expect` makes of the user's document (without empty tables when `prune`).
///
/// A file [`Outline`] accepts is planned on a copy with every section but ours blanked (same
/// offsets, a small tree), checked there, and the whole result checked section by section:
/// no tree of a big file is ever built. Otherwise the whole file is parsed, once.
fn spliced<T>(
    path: &Path,
    text: &str,
    plan: impl Fn(&Table, Option<&Outline>) -> Planned<(Vec<Splice>, T)>,
    expect: impl Fn(&mut DocumentMut, &T),
    prune: bool,
) -> Result<(String, T)> {
    if let Some(done) = by_sections(text, &plan, &expect) {
        return Ok(done);
    }
    let doc = parse(path, text)?;
    let (splices, planned) = plan(doc.as_table(), None).map_err(|r| r.into_error(path))?;
    if splices.is_empty() {
        return Ok((text.to_string(), planned));
    }
    let out = splice::apply(text, &splices);
    // One tree at a time: the user's is edited, reduced to what it means and dropped before
    // the result is parsed.
    let mut wanted = doc.into_mut();
    expect(&mut wanted, &planned);
    let wanted = canonical(wanted.as_item(), prune);
    match out {
        Some(out) if means(&out, &wanted, prune) => Ok((out, planned)),
        _ => Err(CommandError::failure(format!(
            "{} cannot be edited in place: the edit would not mean the file plus exactly the axonflow entries",
            path.display()
        ))
        .hint("nothing was changed; please report this with the shape of the file (without its values)")),
    }
}

/// [`spliced`] on the file with every section but ours blanked; `None` when the file or the
/// result does not fit [`Outline`]'s rules, or anything is refused: the whole file decides.
fn by_sections<T>(
    text: &str,
    plan: impl Fn(&Table, Option<&Outline>) -> Planned<(Vec<Splice>, T)>,
    expect: impl Fn(&mut DocumentMut, &T),
) -> Option<(String, T)> {
    let outline = Outline::of(text)?;
    let reduced = outline.reduced(text)?;
    let doc = Document::parse(reduced.as_str()).ok()?;
    let (splices, planned) = plan(doc.as_table(), Some(&outline)).ok()?;
    drop(outline);
    if splices.is_empty() {
        return Some((text.to_string(), planned));
    }
    // Each splice must find in the copy the bytes it finds in the file.
    if splices
        .iter()
        .any(|s| reduced.get(s.range.clone()) != text.get(s.range.clone()))
    {
        return None;
    }
    let reduced_out = splice::apply(&reduced, &splices)?;
    let mut wanted = doc.into_mut();
    drop(reduced);
    expect(&mut wanted, &planned);
    // The blanked sections may hold what a table of ours, empty here, stands for.
    let wanted = canonical(wanted.as_item(), true);
    if !means(&reduced_out, &wanted, true) {
        return None;
    }
    drop(reduced_out);
    let out = splice::apply(text, &splices)?;
    Outline::of(&out)?;
    Some((out, planned))
}

/// The splices of a merge, and what they create.
struct Additions<'t> {
    text: &'t str,
    nl: &'static str,
    splices: Vec<Splice>,
    /// Whole tables, appended after the user's last byte.
    blocks: Vec<String>,
    merged: Merged,
}

impl<'t> Additions<'t> {
    fn new(text: &'t str) -> Additions<'t> {
        Additions {
            text,
            nl: newline_of(text),
            splices: Vec::new(),
            blocks: Vec::new(),
            merged: Merged::default(),
        }
    }

    /// `[mcp_servers.axonflow]` made exactly `entry`: appended, left alone, or put in place
    /// of an older one. `elsewhere`: a blanked section defines `mcp_servers`.
    fn mcp(&mut self, root: &Table, entry: &McpEntry, elsewhere: bool) -> Planned<()> {
        let block = mcp_block(entry, self.nl);
        match root.get("mcp_servers") {
            None => {
                self.merged.created_mcp_servers = !elsewhere;
                self.add_block(block, "[mcp_servers.axonflow] added");
            }
            Some(Item::Table(servers)) => match servers.get(MCP_SERVER_NAME) {
                None => self.add_block(block, "[mcp_servers.axonflow] added"),
                Some(Item::Table(old)) if our_mcp(old).as_ref() == Some(entry) => {}
                Some(Item::Table(old)) => self.take_over(old, block)?,
                Some(Item::Value(old)) => self.replace_server(old, entry)?,
                Some(_) => refuse(
                    "`[[mcp_servers.axonflow]]` is an array of tables",
                    TABLE_HINT,
                )?,
            },
            Some(Item::Value(Value::InlineTable(servers))) => match servers.get(MCP_SERVER_NAME) {
                None => {
                    let member = format!("{} = {}", key_repr(MCP_SERVER_NAME), inline_mcp(entry));
                    self.splices
                        .push(insert_into_inline(self.text, servers, &[member])?);
                    self.merged
                        .changes
                        .push("mcp_servers.axonflow added (inline)".into());
                }
                Some(old) => self.replace_server(old, entry)?,
            },
            Some(_) => {
                return refuse(
                    "`mcp_servers` is not a table, so the axonflow MCP server cannot be added",
                    "fix the file, or install with --no-mcp",
                )
            }
        }
        Ok(())
    }

    /// An older `[mcp_servers.axonflow]` (the bash plugin's) replaced in place: its lines and
    /// those of its sub-tables are cut, and ours stand where the first of them stood.
    fn take_over(&mut self, old: &Table, block: String) -> Planned<()> {
        let mut ranges = Vec::new();
        headed_ranges(self.text, old, "mcp_servers.axonflow", &mut ranges)?;
        ranges.sort_by_key(|r| r.start);
        let mut ranges = ranges.into_iter();
        let Some(first) = ranges.next() else {
            return refuse("`mcp_servers.axonflow` has no table of its own", TABLE_HINT);
        };
        self.splices.push(Splice::replace(first, block));
        self.splices.extend(ranges.map(Splice::cut));
        self.merged
            .changes
            .push("[mcp_servers.axonflow] replaced in place (it held another entry)".into());
        Ok(())
    }

    /// `axonflow = <value>` (inline, or anything else) given our entry as its value.
    fn replace_server(&mut self, old: &Value, entry: &McpEntry) -> Planned<()> {
        if old.as_inline_table().and_then(|t| our_mcp(t)).as_ref() == Some(entry) {
            return Ok(());
        }
        let span = spanned(old.span(), "`mcp_servers.axonflow`")?;
        self.splices.push(Splice::replace(span, inline_mcp(entry)));
        self.merged
            .changes
            .push("mcp_servers.axonflow replaced in place (it held another entry)".into());
        Ok(())
    }

    /// Each trust entry recorded under `hooks.state`, as a table appended or inside an inline
    /// `state = { … }`, or its hash replaced in place.
    fn trust(&mut self, root: &Table, trust: &[TrustEntry]) -> Planned<()> {
        if trust.is_empty() {
            return Ok(());
        }
        let state = match root.get("hooks") {
            None => {
                self.merged.created_hooks = true;
                None
            }
            Some(Item::Table(hooks)) => hooks.get("state"),
            Some(_) => return refuse(HOOKS_NOT_A_TABLE, HOOKS_HINT),
        };
        match state {
            None => {
                self.merged.created_hooks_state = true;
                for entry in trust {
                    self.add_block(trust_block(entry, self.nl), &trust_added(entry));
                }
            }
            Some(Item::Table(state)) => {
                for entry in trust {
                    match state.get(&entry.key) {
                        None => self.add_block(trust_block(entry, self.nl), &trust_added(entry)),
                        Some(existing) => self.update_trust(existing, entry)?,
                    }
                }
            }
            Some(Item::Value(Value::InlineTable(state))) => {
                let mut members = Vec::new();
                for entry in trust {
                    match state.get(&entry.key) {
                        None => {
                            members.push(inline_trust_member(entry));
                            self.merged.changes.push(trust_added(entry));
                        }
                        Some(existing) => {
                            self.update_trust(&Item::Value(existing.clone()), entry)?
                        }
                    }
                }
                if !members.is_empty() {
                    self.splices
                        .push(insert_into_inline(self.text, state, &members)?);
                }
            }
            Some(_) => return refuse(HOOKS_NOT_A_TABLE, HOOKS_HINT),
        }
        Ok(())
    }

    /// A trust entry already there: its `trusted_hash` replaced, or added, when not `entry`'s.
    fn update_trust(&mut self, existing: &Item, entry: &TrustEntry) -> Planned<()> {
        let name = format!("`hooks.state.{}`", key_repr(&entry.key));
        let before = self.splices.len();
        let hash = string_repr(&entry.hash);
        let current = match existing {
            Item::Table(table) => table.get("trusted_hash").map(Item::as_value),
            Item::Value(Value::InlineTable(table)) => table.get("trusted_hash").map(Some),
            _ => return refuse(format!("{name} is not a table"), TABLE_HINT),
        };
        match current {
            Some(Some(value)) if value.as_str() == Some(entry.hash.as_str()) => {}
            Some(Some(value)) => {
                let span = spanned(value.span(), &name)?;
                self.splices.push(Splice::replace(span, hash));
            }
            Some(None) => return refuse(format!("{name}.trusted_hash is a table"), TABLE_HINT),
            None => self.add_hash(existing, &name, hash)?,
        }
        if self.splices.len() > before {
            let change = format!("trust for {} updated to its new hash", key_repr(&entry.key));
            self.merged.changes.push(change);
        }
        Ok(())
    }

    fn add_block(&mut self, block: String, change: &str) {
        self.blocks.push(block);
        self.merged.changes.push(change.to_string());
    }

    /// `trusted_hash = …` added to a trust entry that has none: under its header, or inside
    /// its braces.
    fn add_hash(&mut self, existing: &Item, name: &str, hash: String) -> Planned<()> {
        let member = format!("trusted_hash = {hash}");
        match existing {
            Item::Table(table) if !table.is_dotted() && !table.is_implicit() => {
                let header = spanned(table.span(), name)?;
                let at = line_end(self.text, header.end);
                let text = if self.text[..at].ends_with('\n') {
                    format!("{member}{}", self.nl)
                } else {
                    format!("{}{member}", self.nl)
                };
                self.splices.push(Splice::insert(at, text));
            }
            Item::Value(Value::InlineTable(table)) => {
                self.splices
                    .push(insert_into_inline(self.text, table, &[member])?);
            }
            _ => return refuse(format!("{name} is made of dotted keys"), TABLE_HINT),
        }
        Ok(())
    }

    /// The splices, the appended tables last (each after a blank line), and what they create.
    fn finish(mut self) -> (Vec<Splice>, Merged) {
        if !self.blocks.is_empty() {
            let mut tail = String::new();
            if !self.text.is_empty() && !self.text.ends_with('\n') {
                tail.push_str(self.nl);
            }
            for (i, block) in self.blocks.iter().enumerate() {
                if i > 0 || !self.text.is_empty() {
                    tail.push_str(self.nl);
                }
                tail.push_str(block);
            }
            self.splices.push(Splice::insert(self.text.len(), tail));
        }
        (self.splices, self.merged)
    }
}

fn trust_added(entry: &TrustEntry) -> String {
    format!("trust recorded for {}", key_repr(&entry.key))
}

const HOOKS_NOT_A_TABLE: &str =
    "`hooks` (or `hooks.state`) is not a table, so hook trust cannot be recorded";
const HOOKS_HINT: &str =
    "fix the file, or install with --no-trust-hooks and trust the hooks in Codex's /hooks";

/// Uninstall's cuts: our server and trust entries, wherever they stand now.
fn cuts(root: &Table, text: &str, removal: &Removal) -> Planned<Vec<Splice>> {
    let mut cuts = Vec::new();
    if removal.mcp_server {
        match root.get("mcp_servers") {
            Some(Item::Table(servers)) => {
                if let Some((key, item)) = servers.get_key_value(MCP_SERVER_NAME) {
                    cut_entry(text, key, item, "mcp_servers.axonflow", &mut cuts)?;
                }
            }
            Some(Item::Value(Value::InlineTable(servers)))
                if servers.contains_key(MCP_SERVER_NAME) =>
            {
                cuts.extend(cut_from_inline(text, servers, &[MCP_SERVER_NAME])?);
            }
            _ => {}
        }
    }
    let keys = removal.trust_keys.iter().map(String::as_str);
    match root.get("hooks").and_then(|h| h.get("state")) {
        Some(Item::Table(state)) => {
            for key in keys {
                if let Some((key, item)) = state.get_key_value(key) {
                    let name = format!("hooks.state.{}", key_repr(key.get()));
                    cut_entry(text, key, item, &name, &mut cuts)?;
                }
            }
        }
        Some(Item::Value(Value::InlineTable(state))) => {
            let present: Vec<&str> = keys.filter(|k| state.contains_key(k)).collect();
            cuts.extend(cut_from_inline(text, state, &present)?);
        }
        _ => {}
    }
    Ok(cuts)
}

/// `[mcp_servers.axonflow]` as we write it.
fn mcp_block(entry: &McpEntry, nl: &str) -> String {
    format!(
        "[mcp_servers.{}]{nl}url = {}{nl}http_headers_helper = {}{nl}",
        key_repr(MCP_SERVER_NAME),
        string_repr(&entry.url),
        string_repr(&entry.http_headers_helper)
    )
}

/// Our server as an inline table, where the user's file holds it as a value.
fn inline_mcp(entry: &McpEntry) -> String {
    format!(
        "{{ url = {}, http_headers_helper = {} }}",
        string_repr(&entry.url),
        string_repr(&entry.http_headers_helper)
    )
}

/// `[hooks.state."<key>"]` as we write it.
fn trust_block(entry: &TrustEntry, nl: &str) -> String {
    format!(
        "[hooks.state.{}]{nl}trusted_hash = {}{nl}",
        key_repr(&entry.key),
        string_repr(&entry.hash)
    )
}

/// One trust entry as we write it inside an inline `hooks.state = { … }`.
fn inline_trust_member(entry: &TrustEntry) -> String {
    format!(
        "{} = {{ trusted_hash = {} }}",
        key_repr(&entry.key),
        string_repr(&entry.hash)
    )
}

/// The entry a table (headed, dotted or inline) holds when it has exactly our two keys, as
/// strings.
fn our_mcp(table: &dyn toml_edit::TableLike) -> Option<McpEntry> {
    (table.len() == 2).then_some(())?;
    Some(McpEntry {
        url: table.get("url")?.as_str()?.to_string(),
        http_headers_helper: table.get("http_headers_helper")?.as_str()?.to_string(),
    })
}

/// What a merge must mean: the user's document with our entries set (the oracle the splices
/// are checked against).
fn add_entries(doc: &mut DocumentMut, mcp: Option<&McpEntry>, trust: &[TrustEntry]) {
    use toml_edit::TableLike;
    fn child<'a>(parent: &'a mut dyn TableLike, key: &str) -> Option<&'a mut dyn TableLike> {
        if parent.get(key).is_none() {
            parent.insert(key, Item::Table(Table::new()));
        }
        parent.get_mut(key)?.as_table_like_mut()
    }
    let root: &mut dyn TableLike = doc.as_table_mut();
    if let Some(entry) = mcp {
        if let Some(servers) = child(root, "mcp_servers") {
            let mut table = InlineTable::new();
            table.insert("url", entry.url.as_str().into());
            table.insert(
                "http_headers_helper",
                entry.http_headers_helper.as_str().into(),
            );
            servers.insert(MCP_SERVER_NAME, Item::Value(Value::InlineTable(table)));
        }
    }
    if trust.is_empty() {
        return;
    }
    let Some(state) = child(root, "hooks").and_then(|hooks| child(hooks, "state")) else {
        return;
    };
    for entry in trust {
        if let Some(existing) = child(state, &entry.key) {
            existing.insert("trusted_hash", toml_edit::value(&entry.hash));
        }
    }
}

/// What a removal must mean: our entries taken out of the user's document, and the tables we
/// created when nothing else is in them.
fn remove_entries(doc: &mut DocumentMut, removal: &Removal) {
    if removal.mcp_server {
        if let Some(servers) = doc.get_mut("mcp_servers").and_then(Item::as_table_like_mut) {
            servers.remove(MCP_SERVER_NAME);
            if removal.created_mcp_servers && servers.is_empty() {
                doc.remove("mcp_servers");
            }
        }
    }
    if let Some(hooks) = doc.get_mut("hooks").and_then(Item::as_table_like_mut) {
        if let Some(state) = hooks.get_mut("state").and_then(Item::as_table_like_mut) {
            for key in &removal.trust_keys {
                state.remove(key);
            }
            if removal.created_hooks_state && state.is_empty() {
                hooks.remove("state");
            }
        }
        if removal.created_hooks && hooks.is_empty() {
            doc.remove("hooks");
        }
    }
}

/// The trusted hash recorded for `key`, if any.
pub(crate) fn trusted_hash(text: &str, key: &str) -> Option<String> {
    let doc: DocumentMut = text.parse().ok()?;
    doc.get("hooks")?
        .get("state")?
        .get(key)?
        .get("trusted_hash")?
        .as_str()
        .map(str::to_string)
}

/// Those of `keys` whose entry in `[hooks.state]` holds one of `hashes` (all of them when
/// `hashes` is empty).
fn keys_holding(root: &Table, keys: &[String], hashes: &[String]) -> Vec<String> {
    if hashes.is_empty() {
        return keys.to_vec();
    }
    let state = root.get("hooks").and_then(|h| h.get("state"));
    keys.iter()
        .filter(|key| {
            state
                .and_then(|s| s.get(key.as_str()))
                .and_then(|entry| entry.get("trusted_hash"))
                .and_then(Item::as_str)
                .is_some_and(|hash| hashes.iter().any(|h| h == hash))
        })
        .cloned()
        .collect()
}

/// Our MCP server's entry, if present: (url, http_headers_helper).
pub(crate) fn mcp_entry(text: &str) -> Option<(Option<String>, Option<String>)> {
    let doc: DocumentMut = text.parse().ok()?;
    let server = doc.get("mcp_servers")?.get(MCP_SERVER_NAME)?;
    let field = |key: &str| server.get(key).and_then(Item::as_str).map(str::to_string);
    Some((field("url"), field("http_headers_helper")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/c/config.toml";
    const KEY: &str = "/h/.codex/hooks.json:pre_tool_use:0:0";

    fn entry() -> McpEntry {
        McpEntry {
            url: "http://localhost:8080/api/v1/mcp-server".into(),
            http_headers_helper: "/h/bin/axonflow-codex-hook mcp-headers".into(),
        }
    }

    fn trust() -> Vec<TrustEntry> {
        vec![TrustEntry {
            key: KEY.into(),
            hash: "sha256:abc".into(),
        }]
    }

    fn ours(nl: &str) -> String {
        format!("[mcp_servers.axonflow]{nl}url = \"http://localhost:8080/api/v1/mcp-server\"{nl}http_headers_helper = \"/h/bin/axonflow-codex-hook mcp-headers\"{nl}{nl}[hooks.state.\"{KEY}\"]{nl}trusted_hash = \"sha256:abc\"{nl}")
    }

    fn install(text: &str) -> Merged {
        merge(Path::new(PATH), text, Some(&entry()), &trust()).unwrap()
    }

    fn removal(merged: &Merged) -> Removal {
        Removal {
            mcp_server: true,
            trust_keys: vec![KEY.into()],
            created_mcp_servers: merged.created_mcp_servers,
            created_hooks: merged.created_hooks,
            created_hooks_state: merged.created_hooks_state,
        }
    }

    /// Install, install again, uninstall: the second changes nothing, the last gives back
    /// `original` (an unterminated last line keeps the line break it gained).
    fn round_trip(original: &str) -> String {
        let merged = install(original);
        assert_eq!(
            install(&merged.text).text,
            merged.text,
            "a second install changed it"
        );
        let removed = remove(Path::new(PATH), &merged.text, &removal(&merged)).unwrap();
        assert!(
            removed == original || removed.strip_suffix(newline_of(original)) == Some(original),
            "{removed:?}"
        );
        merged.text
    }

    #[test]
    fn appends_to_empty_and_odd_files_and_cuts_back() {
        assert_eq!(round_trip(""), ours("\n"));
        assert_eq!(round_trip("\n"), format!("\n\n{}", ours("\n")));
        assert_eq!(round_trip("   "), format!("   \n\n{}", ours("\n")));
        assert_eq!(
            round_trip("# only a comment ✨"),
            format!("# only a comment ✨\n\n{}", ours("\n"))
        );
        let user =
            "# my settings\nmodel = \"gpt-5.5\" # why\n\n[mcp_servers.other]\nurl = \"http://x\"\n";
        assert_eq!(round_trip(user), format!("{user}\n{}", ours("\n")));
    }

    #[test]
    fn crlf_files_stay_crlf_and_mixed_ones_get_lf() {
        assert_eq!(
            round_trip("a = 1\r\n"),
            format!("a = 1\r\n\r\n{}", ours("\r\n"))
        );
        assert_eq!(
            round_trip("a = 1\r\nb = 2"),
            format!("a = 1\r\nb = 2\r\n\r\n{}", ours("\r\n"))
        );
        assert_eq!(
            round_trip("a = 1\r\nb = 2\n"),
            format!("a = 1\r\nb = 2\n\n{}", ours("\n"))
        );
    }

    #[test]
    fn inline_tables_are_extended_inside_their_braces() {
        let out = round_trip("mcp_servers = { other = { url = \"http://x\" } } # mine\n");
        assert!(out.starts_with("mcp_servers = { other = { url = \"http://x\" }, axonflow = { url = \"http://localhost:8080/api/v1/mcp-server\", http_headers_helper = \"/h/bin/axonflow-codex-hook mcp-headers\" } } # mine\n"), "{out}");
        let out = round_trip("mcp_servers = {}\n[hooks]\nstate = { }\n");
        assert!(out.starts_with("mcp_servers = { axonflow = {"), "{out}");
        assert!(
            out.ends_with(&format!(
                "[hooks]\nstate = {{ \"{KEY}\" = {{ trusted_hash = \"sha256:abc\" }}  }}\n"
            )),
            "{out}"
        );
        // An older server inline in the user's inline table is replaced in place.
        let old =
            "mcp_servers = { axonflow = { url = \"https://old\" }, pg = { command = \"npx\" } }\n";
        let merged = install(old);
        assert!(
            merged
                .changes
                .contains(&"mcp_servers.axonflow replaced in place (it held another entry)".into()),
            "{:?}",
            merged.changes
        );
        assert!(merged.text.starts_with("mcp_servers = { axonflow = { url = \"http://localhost:8080/api/v1/mcp-server\", http_headers_helper = \"/h/bin/axonflow-codex-hook mcp-headers\" }, pg = { command = \"npx\" } }\n"), "{}", merged.text);
        let removed = remove(Path::new(PATH), &merged.text, &removal(&merged)).unwrap();
        assert!(
            removed.starts_with("mcp_servers = { pg = { command = \"npx\" } }\n"),
            "{removed}"
        );
    }

    #[test]
    fn dotted_keys_get_tables_of_their_own() {
        for user in [
            "mcp_servers.other.url = \"http://x\"\n",
            "[hooks]\nstate.\"/x:stop:0:0\".trusted_hash = \"sha256:0\"\n",
            "mcp_servers . \"名前 ✨\" . url = \"u\"\nmodel = \"o3\"\n",
        ] {
            assert_eq!(round_trip(user), format!("{user}\n{}", ours("\n")));
        }
        let refused = merge(
            Path::new(PATH),
            "mcp_servers.axonflow.url = \"old\"\n",
            Some(&entry()),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            refused.message,
            format!(
                "{PATH} cannot be edited in place: `mcp_servers.axonflow` is made of dotted keys"
            )
        );
        assert_eq!(
            refused.hints,
            [format!("{TABLE_HINT}; nothing was changed")]
        );
    }

    #[test]
    fn comments_next_to_our_entries_stay() {
        let installed = format!("a = 1\n\n# above ours\n{}# below ours\n", ours("\n"));
        let merged = install(&installed);
        assert_eq!(merged.text, installed);
        let removed = remove(Path::new(PATH), &installed, &removal(&merged)).unwrap();
        assert_eq!(removed, "a = 1\n\n# above ours\n# below ours\n");
    }

    #[test]
    fn entries_moved_or_changed_by_the_user_are_found_where_they_are() {
        // Ours swapped, and a table of the user's between them.
        let (server, state) = ours("\n")
            .split_once("\n\n")
            .map(|(a, b)| (a.to_string() + "\n", b.to_string()))
            .unwrap();
        let moved = format!("model = \"o3\"\n{state}[profiles.x]\nmodel = \"o3\"\n{server}");
        assert_eq!(install(&moved).text, moved);
        let removed = remove(Path::new(PATH), &moved, &removal(&Merged::default())).unwrap();
        assert_eq!(removed, "model = \"o3\"\n[profiles.x]\nmodel = \"o3\"\n");
        // A re-install with another endpoint and hash: both replaced in place.
        let changed = moved
            .replace("localhost:8080", "old:1")
            .replace("sha256:abc", "sha256:old");
        let merged = install(&changed);
        assert_eq!(merged.text, moved);
        // A trust entry the user gave another key keeps it, and gains the hash.
        let text = format!("[hooks.state.\"{KEY}\"]\nenabled = false\n");
        let merged = merge(Path::new(PATH), &text, None, &trust()).unwrap();
        assert_eq!(
            merged.text,
            format!("[hooks.state.\"{KEY}\"]\ntrusted_hash = \"sha256:abc\"\nenabled = false\n")
        );
    }

    #[test]
    fn an_older_server_is_taken_over_in_place() {
        let old = "[mcp_servers.axonflow] # old plugin\nurl = \"https://old\"\nenabled = true\n\n# headers\n[mcp_servers.axonflow.http_headers]\nAuthorization = \"Basic x\"\n[profiles.p]\nmodel = \"o3\"\n";
        let merged = merge(Path::new(PATH), old, Some(&entry()), &[]).unwrap();
        assert!(
            merged.changes.contains(
                &"[mcp_servers.axonflow] replaced in place (it held another entry)".into()
            ),
            "{:?}",
            merged.changes
        );
        let block = &ours("\n")[..ours("\n").find("\n\n").unwrap() + 1];
        assert_eq!(
            merged.text,
            format!("{block}\n# headers\n[profiles.p]\nmodel = \"o3\"\n")
        );
    }

    #[test]
    fn duplicates_and_other_shapes_are_refused_with_a_hint() {
        let path = Path::new(PATH);
        let twice = "[mcp_servers.axonflow]\nurl = \"a\"\n[mcp_servers.axonflow]\nurl = \"b\"\n";
        let err = merge(path, twice, Some(&entry()), &[]).unwrap_err();
        assert!(
            err.message
                .starts_with(&format!("{PATH} is not valid TOML (line 3, column ")),
            "{}",
            err.message
        );
        let err = merge(path, "mcp_servers = 1\n", Some(&entry()), &[]).unwrap_err();
        assert!(
            err.message.ends_with(
                "`mcp_servers` is not a table, so the axonflow MCP server cannot be added"
            ),
            "{}",
            err.message
        );
        assert_eq!(
            err.hints,
            ["fix the file, or install with --no-mcp; nothing was changed"]
        );
        let err = merge(
            path,
            "[[mcp_servers.axonflow]]\nurl = \"x\"\n",
            Some(&entry()),
            &[],
        )
        .unwrap_err();
        assert!(
            err.message
                .ends_with("`[[mcp_servers.axonflow]]` is an array of tables"),
            "{}",
            err.message
        );
        let err = merge(path, "hooks = []\n", None, &trust()).unwrap_err();
        assert!(err.message.ends_with(HOOKS_NOT_A_TABLE), "{}", err.message);
        let err = merge(
            path,
            &format!("hooks.state.\"{KEY}\" = 1\n"),
            None,
            &trust(),
        )
        .unwrap_err();
        assert!(err.message.ends_with("is not a table"), "{}", err.message);
        let shared = "[mcp_servers]\naxonflow = { url = \"u\" }; x = 1\n";
        assert!(merge(path, shared, Some(&entry()), &[]).is_err());
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = check(Path::new(PATH), Some(b"a = 1\nb = \n")).unwrap_err();
        assert!(
            err.message
                .starts_with("/c/config.toml is not valid TOML (line 2, column 5: "),
            "{}",
            err.message
        );
    }
}
