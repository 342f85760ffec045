//! `[mcp_servers.axonflow]` and our `[hooks.state."<key>"]` trust entries in
//! `$CODEX_HOME/config.toml`, edited with toml_edit so every comment, key order, dotted key
//! and inline table of the user's file keeps its bytes.

use std::path::Path;

use toml_edit::{DocumentMut, InlineTable, Item, Table};

use crate::edit::config_outline::Outline;
use crate::error::{CommandError, Result};

pub const MCP_SERVER_NAME: &str = "axonflow";

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

fn parse(path: &Path, text: &str) -> Result<DocumentMut> {
    parse_spanned(path, text).map(toml_edit::Document::into_mut)
}

/// The parsed file with the byte spans of its parts, for edits made as text insertions.
fn parse_spanned<'a>(path: &Path, text: &'a str) -> Result<toml_edit::Document<&'a str>> {
    toml_edit::Document::parse(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_and_column(text, span.start))
            .unwrap_or((1, 1));
        CommandError::failure(format!(
            "{} is not valid TOML (line {line}, column {column}: {})",
            path.display(),
            axonflow_codex_hook::text::single_line(e.message())
        ))
        .hint(format!(
            "fix {} by hand, then run the command again; nothing was changed",
            path.display()
        ))
    })
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, column)
}

/// What merging created, so uninstall removes exactly that.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    pub text: String,
    pub created_mcp_servers: bool,
    pub replaced_existing_server: bool,
    pub created_hooks: bool,
    pub created_hooks_state: bool,
}

pub fn merge(
    path: &Path,
    text: &str,
    mcp: Option<&McpEntry>,
    trust: &[TrustEntry],
) -> Result<Merged> {
    if let Some(merged) = merge_by_sections(path, text, mcp, trust) {
        return Ok(merged);
    }
    // One document at a time (a big file's tree costs many times its size): the text
    // insertion is planned on the parsed file, which is then edited in place, reduced to
    // what it means, and dropped before the insertion's result is parsed to compare.
    let edit = |doc: &mut DocumentMut| -> Result<Merged> {
        let mut merged = Merged::default();
        if let Some(entry) = mcp {
            merge_mcp(path, doc, entry, &mut merged)?;
        }
        if !trust.is_empty() {
            merge_trust(path, doc, trust, &mut merged)?;
        }
        Ok(merged)
    };
    let spanned = parse_spanned(path, text)?;
    let inserted = appended(&spanned, text, mcp, trust, None, newline_of(text));
    let mut doc = spanned.into_mut();
    let mut merged = edit(&mut doc)?;
    if let Some(inserted) = inserted {
        let wanted = canonical(doc.as_item());
        drop(doc);
        if means(&inserted, &wanted) {
            merged.text = inserted;
            return Ok(merged);
        }
        doc = parse(path, text)?;
        edit(&mut doc)?;
    }
    merged.text = keep_line_endings(text, keep_user_lines(text, &doc));
    Ok(merged)
}

/// [`merge`] without a tree of the whole file (see [`crate::edit::config_outline`]): the splice is
/// planned on the file with every section but ours blanked, checked there against toml_edit's
/// edit, and the whole result is checked section by section. `None` when any of that does not
/// hold, and the whole-tree merge decides.
fn merge_by_sections(
    path: &Path,
    text: &str,
    mcp: Option<&McpEntry>,
    trust: &[TrustEntry],
) -> Option<Merged> {
    let outline = Outline::of(text)?;
    let reduced = outline.reduced(text)?;
    let spanned = toml_edit::Document::parse(reduced.as_str()).ok()?;
    // The file's line ending, which the blanked sections may no longer show.
    let nl = newline_of(text);
    let headers = Some(outline.starts.as_slice());
    let inserted = appended(&spanned, text, mcp, trust, headers, nl)?;
    let inserted_reduced = appended(&spanned, &reduced, mcp, trust, headers, nl)?;
    let mut doc = spanned.into_mut();
    drop(reduced);
    let mut merged = Merged::default();
    if let Some(entry) = mcp {
        merge_mcp(path, &mut doc, entry, &mut merged).ok()?;
    }
    if !trust.is_empty() {
        merge_trust(path, &mut doc, trust, &mut merged).ok()?;
    }
    // Only the blanked sections can hold other servers.
    merged.created_mcp_servers &= !outline.has(&["mcp_servers"]);
    drop(outline);
    let wanted = canonical_of(doc.as_item(), true);
    drop(doc);
    if !means_pruned(&inserted_reduced, &wanted) {
        return None;
    }
    drop(inserted_reduced);
    Outline::of(&inserted)?;
    merged.text = inserted;
    Some(merged)
}

/// Our entries as whole tables appended after the user's last byte, when that is all the merge
/// has to do (each entry absent, or already exactly ours) and the file lets a table header
/// follow; `None` otherwise. The user's file is then a byte-exact prefix of the result.
fn appended(
    doc: &toml_edit::Document<&str>,
    text: &str,
    mcp: Option<&McpEntry>,
    trust: &[TrustEntry],
    headers: Option<&[usize]>,
    nl: &str,
) -> Option<String> {
    let mut text = std::borrow::Cow::Borrowed(text);
    let mut blocks = Vec::new();
    if let Some(entry) = mcp {
        let servers = match doc.get("mcp_servers") {
            None => None,
            Some(Item::Table(servers)) => Some(servers),
            Some(_) => return None,
        };
        match servers.and_then(|s| s.get(MCP_SERVER_NAME)) {
            None => blocks.push(mcp_block(&entry.url, &entry.http_headers_helper, nl)),
            Some(Item::Table(existing)) if our_mcp_table(existing) == Some(entry.clone()) => {}
            Some(Item::Table(_)) => {
                let block = mcp_block(&entry.url, &entry.http_headers_helper, nl);
                let headers = match headers {
                    Some(headers) => headers.to_vec(),
                    None => header_starts(doc),
                };
                text = std::borrow::Cow::Owned(taken_over(doc, &text, &block, &headers)?);
            }
            Some(_) => return None,
        }
    }
    // Entries that go into an inline `hooks.state = { … }` instead of tables of their own.
    let mut inline_entries = Vec::new();
    for entry in trust {
        let state = match doc.get("hooks") {
            None => None,
            Some(Item::Table(hooks)) => match hooks.get("state") {
                None => None,
                Some(state @ Item::Table(_)) => Some(state),
                Some(state @ Item::Value(toml_edit::Value::InlineTable(inline)))
                    if !inline.is_dotted() =>
                {
                    Some(state)
                }
                Some(_) => return None,
            },
            Some(_) => return None,
        };
        match state.and_then(|s| s.get(&entry.key)) {
            None if state.is_some_and(Item::is_inline_table) => {
                inline_entries.push(inline_trust_entry(&entry.key, &entry.hash))
            }
            None => blocks.push(trust_block(&entry.key, &entry.hash, nl)),
            Some(existing)
                if existing.get("trusted_hash").and_then(Item::as_str)
                    == Some(entry.hash.as_str()) => {}
            Some(_) => return None,
        }
    }
    if !inline_entries.is_empty() {
        if let std::borrow::Cow::Owned(_) = text {
            return None; // an older server taken over as well: leave it to toml_edit
        }
        text = std::borrow::Cow::Owned(extended_inline_state(doc, &text, &inline_entries)?);
    }
    let mut out = text.into_owned();
    if !blocks.is_empty() && !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    for block in blocks {
        if !out.is_empty() {
            out.push_str(nl);
        }
        out.push_str(&block);
    }
    Some(out)
}

/// An older `[mcp_servers.axonflow]` (the bash plugin's) replaced by `block` in place: the lines
/// of that table and of its sub-tables (`[mcp_servers.axonflow.http_headers]`, …), from each
/// header to its last line that is not blank or a comment, are cut, and `block` stands where
/// the first of them stood. Comments and blank lines before the next table stay. `None` when
/// the old entry is not made of headed tables alone (dotted keys, arrays of tables).
/// `headers`: where the file's header lines start, sorted.
fn taken_over(
    doc: &toml_edit::Document<&str>,
    text: &str,
    block: &str,
    headers: &[usize],
) -> Option<String> {
    let server = doc.get("mcp_servers")?.get(MCP_SERVER_NAME)?.as_table()?;
    let mut ours = Vec::new();
    collect_headed(server, &mut ours)?;
    let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for start in ours {
        let from = line_start(start);
        let next = headers
            .iter()
            .copied()
            .find(|&h| h > start)
            .map_or(text.len(), line_start);
        // Back off over trailing blank and comment lines: they lead into the next table.
        let mut to = next;
        while to > from {
            let line_begin = line_start(text[..to].strip_suffix('\n').unwrap_or(&text[..to]).len());
            let line = text[line_begin..to].trim();
            if line_begin <= from || !(line.is_empty() || line.starts_with('#')) {
                break;
            }
            to = line_begin;
        }
        cuts.push((from, to));
    }
    cuts.sort_unstable();
    let first = cuts.first()?.0;
    let mut out = String::with_capacity(text.len() + block.len());
    let mut at = 0;
    for (from, to) in cuts {
        out.push_str(text.get(at..from)?);
        if from == first {
            out.push_str(block);
        }
        at = to;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// `hooks.state = { … }` with `entries` added inside its braces, after the user's last entry;
/// every other byte stays.
fn extended_inline_state(
    doc: &toml_edit::Document<&str>,
    text: &str,
    entries: &[String],
) -> Option<String> {
    let span = doc.get("hooks")?.get("state")?.as_inline_table()?.span()?;
    let inside = text.get(span.start + 1..span.end - 1)?;
    let (at, addition) = match inside.trim_end().len() {
        // `{}` or `{ }`: the entries go right after the brace.
        0 => (span.start + 1, format!(" {} ", entries.join(", "))),
        used => (span.start + 1 + used, format!(", {}", entries.join(", "))),
    };
    let mut out = text.to_string();
    out.insert_str(at, &addition);
    Some(out)
}

/// The header offsets of `table` (when it has a header) and of every table under it; `None`
/// when something under it is not a headed table or a plain value.
fn collect_headed(table: &Table, out: &mut Vec<usize>) -> Option<()> {
    if table.is_dotted() {
        return None;
    }
    if !table.is_implicit() {
        out.push(table.span()?.start);
    }
    for (_, item) in table.iter() {
        match item {
            Item::Table(child) => collect_headed(child, out)?,
            Item::Value(_) => {}
            _ => return None,
        }
    }
    Some(())
}

/// Where the document's headers start, sorted.
fn header_starts(doc: &toml_edit::Document<&str>) -> Vec<usize> {
    let mut headers = Vec::new();
    all_headers(doc.as_table(), &mut headers);
    headers.sort_unstable();
    headers
}

/// Where every `[table]` and `[[array]]` header of the document starts.
fn all_headers(table: &Table, out: &mut Vec<usize>) {
    if let Some(span) = table.span() {
        if !table.is_implicit() && !table.is_dotted() {
            out.push(span.start);
        }
    }
    for (_, item) in table.iter() {
        match item {
            Item::Table(child) => all_headers(child, out),
            Item::ArrayOfTables(array) => array.iter().for_each(|t| all_headers(t, out)),
            _ => {}
        }
    }
}

/// Uninstall's counterpart of [`appended`]: our tables cut out of the text where they stand
/// exactly as we append them (with the blank line before them); `None` when one is not there
/// in that form (edited since, or written by an older version), and toml_edit does it instead.
/// Also returns each cut (offset, removed text), each in the text left by those before it.
fn cut_out(
    doc: &DocumentMut,
    text: &str,
    removal: &Removal,
    nl: &'static str,
) -> Option<(String, Vec<Cut>)> {
    // Our blocks carry the line ending the file had when we wrote them; the user may since
    // have added lines with the other one, so both are looked for (the file's own first).
    let other = if nl == "\n" { "\r\n" } else { "\n" };
    let mut blocks: Vec<[(String, &str); 2]> = Vec::new();
    let mut inline_entries = Vec::new();
    if removal.mcp_server {
        if let Some(server) = doc.get("mcp_servers").and_then(|s| s.get(MCP_SERVER_NAME)) {
            let entry = server.as_table().and_then(our_mcp_table)?;
            blocks.push(
                [nl, other].map(|nl| (mcp_block(&entry.url, &entry.http_headers_helper, nl), nl)),
            );
        }
    }
    for key in &removal.trust_keys {
        let Some(existing) = doc
            .get("hooks")
            .and_then(|h| h.get("state"))
            .and_then(|s| s.get(key))
        else {
            continue;
        };
        if let Some(inline) = existing.as_inline_table() {
            // Inside an inline `hooks.state = { … }`, as extended_inline_state put it.
            let hash = inline.get("trusted_hash").filter(|_| inline.len() == 1)?;
            inline_entries.push(inline_trust_entry(key, hash.as_str()?));
            continue;
        }
        let table = existing.as_table().filter(|t| t.len() == 1)?;
        let hash = table.get("trusted_hash")?.as_str()?;
        blocks.push([nl, other].map(|nl| (trust_block(key, hash, nl), nl)));
    }
    let mut out = text.to_string();
    let mut cuts = Vec::new();
    let mut cut = |out: &mut String, at: usize, len: usize| {
        cuts.push((at, out[at..at + len].to_string()));
        out.replace_range(at..at + len, "");
    };
    for entry in inline_entries {
        let (at, len) = [format!(", {entry}"), format!(" {entry} ")]
            .iter()
            .find_map(|needle| out.find(needle.as_str()).map(|at| (at, needle.len())))?;
        cut(&mut out, at, len);
    }
    for variants in blocks {
        let at = variants
            .iter()
            .find_map(|(block, nl)| block_position(&out, block, nl))?;
        cut(&mut out, at.0, at.1);
    }
    Some((out, cuts))
}

/// One cut of [`cut_out`]: where, and what it removed.
type Cut = (usize, String);

/// `cuts` made in `text`; `None` unless each removes there exactly what it removed before.
fn apply_cuts(text: &str, cuts: &[Cut]) -> Option<String> {
    let mut out = text.to_string();
    for (at, removed) in cuts {
        if out.get(*at..at + removed.len())? != removed {
            return None;
        }
        out.replace_range(*at..at + removed.len(), "");
    }
    Some(out)
}

/// Where `block` stands in `text` as we put it (start, length): at the very start, appended
/// with our blank line before it, or standing alone where an older entry stood.
fn block_position(text: &str, block: &str, nl: &str) -> Option<(usize, usize)> {
    let separated = format!("{nl}{block}");
    if text.starts_with(block) && !text.starts_with(&separated) {
        return Some((0, block.len()));
    }
    let found = [separated.as_str(), block].into_iter().find_map(|needle| {
        text.match_indices(needle)
            .find(|(i, _)| text[..*i].ends_with('\n'))
            .map(|(i, _)| (i, needle.len()))
    });
    found
}

/// The line ending our lines take: CRLF in a file that uses only CRLF, else LF.
fn newline_of(text: &str) -> &'static str {
    let mut lines = text
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'));
    let mut any = false;
    if lines.all(|line| {
        any = true;
        line.ends_with("\r\n")
    }) && any
    {
        "\r\n"
    } else {
        "\n"
    }
}

/// `[mcp_servers.axonflow]` as we write it.
fn mcp_block(url: &str, helper: &str, nl: &str) -> String {
    format!(
        "[mcp_servers.{}]{nl}url = {}{nl}http_headers_helper = {}{nl}",
        toml_edit::Key::new(MCP_SERVER_NAME).display_repr(),
        string_repr(url),
        string_repr(helper)
    )
}

/// `[hooks.state."<key>"]` as we write it.
fn trust_block(key: &str, hash: &str, nl: &str) -> String {
    format!(
        "[hooks.state.{}]{nl}trusted_hash = {}{nl}",
        toml_edit::Key::new(key).display_repr(),
        string_repr(hash)
    )
}

/// One trust entry as we write it inside an inline `hooks.state = { … }`.
fn inline_trust_entry(key: &str, hash: &str) -> String {
    format!(
        "{} = {{ trusted_hash = {} }}",
        toml_edit::Key::new(key).display_repr(),
        string_repr(hash)
    )
}

fn string_repr(value: &str) -> String {
    toml_edit::Formatted::new(value.to_string())
        .display_repr()
        .into_owned()
}

/// The entry a table holds when it has exactly our two keys, as strings.
fn our_mcp_table(table: &Table) -> Option<McpEntry> {
    if table.len() != 2 {
        return None;
    }
    Some(McpEntry {
        url: table.get("url")?.as_str()?.to_string(),
        http_headers_helper: table.get("http_headers_helper")?.as_str()?.to_string(),
    })
}

/// Whether `text` parses to a document whose [`canonical`] form is `wanted`.
fn means(text: &str, wanted: &str) -> bool {
    text.parse::<DocumentMut>()
        .is_ok_and(|parsed| canonical(parsed.as_item()) == wanted)
}

fn merge_mcp(
    path: &Path,
    doc: &mut DocumentMut,
    entry: &McpEntry,
    merged: &mut Merged,
) -> Result<()> {
    if doc.get("mcp_servers").is_none() {
        let mut servers = Table::new();
        servers.set_implicit(true);
        doc.insert("mcp_servers", Item::Table(servers));
        merged.created_mcp_servers = true;
    }
    match doc.get_mut("mcp_servers") {
        Some(Item::Table(servers)) => {
            match servers.get_mut(MCP_SERVER_NAME) {
                Some(Item::Table(existing)) => {
                    merged.replaced_existing_server = !is_ours(
                        existing.get("url"),
                        existing.get("http_headers_helper"),
                        entry,
                    );
                    // We own the whole table: its keys become exactly ours, in place.
                    existing.clear();
                    existing.insert("url", toml_edit::value(&entry.url));
                    existing.insert(
                        "http_headers_helper",
                        toml_edit::value(&entry.http_headers_helper),
                    );
                }
                Some(Item::Value(toml_edit::Value::InlineTable(existing))) => {
                    merged.replaced_existing_server = !is_ours(
                        existing.get("url").map(|v| Item::Value(v.clone())).as_ref(),
                        existing
                            .get("http_headers_helper")
                            .map(|v| Item::Value(v.clone()))
                            .as_ref(),
                        entry,
                    );
                    *existing = inline_entry(entry);
                }
                Some(_) => {
                    merged.replaced_existing_server = true;
                    servers.insert(MCP_SERVER_NAME, Item::Table(table_entry(entry)));
                }
                None => {
                    let dotted = servers.is_dotted();
                    if dotted {
                        let mut inline = inline_entry(entry);
                        inline.set_dotted(true);
                        servers.insert(
                            MCP_SERVER_NAME,
                            Item::Value(toml_edit::Value::InlineTable(inline)),
                        );
                    } else {
                        servers.insert(MCP_SERVER_NAME, Item::Table(table_entry(entry)));
                    }
                }
            }
            Ok(())
        }
        Some(Item::Value(toml_edit::Value::InlineTable(servers))) => {
            merged.replaced_existing_server = servers.contains_key(MCP_SERVER_NAME);
            servers.insert(
                MCP_SERVER_NAME,
                toml_edit::Value::InlineTable(inline_entry(entry)),
            );
            Ok(())
        }
        _ => Err(CommandError::failure(format!(
            "`mcp_servers` in {} is not a table, so the axonflow MCP server cannot be added",
            path.display()
        ))
        .hint("fix the file, or install with --no-mcp")),
    }
}

fn is_ours(url: Option<&Item>, helper: Option<&Item>, entry: &McpEntry) -> bool {
    url.and_then(Item::as_str) == Some(entry.url.as_str())
        && helper.and_then(Item::as_str) == Some(entry.http_headers_helper.as_str())
}

fn table_entry(entry: &McpEntry) -> Table {
    let mut table = Table::new();
    table.insert("url", toml_edit::value(&entry.url));
    table.insert(
        "http_headers_helper",
        toml_edit::value(&entry.http_headers_helper),
    );
    table
}

fn inline_entry(entry: &McpEntry) -> InlineTable {
    let mut table = InlineTable::new();
    table.insert("url", entry.url.as_str().into());
    table.insert(
        "http_headers_helper",
        entry.http_headers_helper.as_str().into(),
    );
    table
}

fn merge_trust(
    path: &Path,
    doc: &mut DocumentMut,
    trust: &[TrustEntry],
    merged: &mut Merged,
) -> Result<()> {
    let not_a_table = || {
        CommandError::failure(format!(
            "`hooks` in {} is not a table, so hook trust cannot be recorded",
            path.display()
        ))
        .hint(
            "fix the file, or install with --no-trust-hooks and trust the hooks in Codex's /hooks",
        )
    };
    if doc.get("hooks").is_none() {
        let mut hooks = Table::new();
        hooks.set_implicit(true);
        doc.insert("hooks", Item::Table(hooks));
        merged.created_hooks = true;
    }
    let hooks = doc
        .get_mut("hooks")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(not_a_table)?;
    if hooks.get("state").is_none() {
        let mut state = Table::new();
        state.set_implicit(true);
        hooks.insert("state", Item::Table(state));
        merged.created_hooks_state = true;
    }
    let state = hooks
        .get_mut("state")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(not_a_table)?;
    for entry in trust {
        match state.get_mut(&entry.key).and_then(Item::as_table_like_mut) {
            Some(existing) => {
                if existing.get("trusted_hash").and_then(Item::as_str) != Some(entry.hash.as_str())
                {
                    existing.insert("trusted_hash", toml_edit::value(&entry.hash));
                }
            }
            None => {
                let mut table = Table::new();
                table.insert("trusted_hash", toml_edit::value(&entry.hash));
                state.insert(&entry.key, Item::Table(table));
            }
        }
    }
    Ok(())
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

pub fn remove(path: &Path, text: &str, removal: &Removal) -> Result<String> {
    remove_owned(path, text, removal, &[])
}

/// [`remove`], taking out only those of `removal.trust_keys` that hold one of
/// `trust_hashes` (every one when it is empty): the others are the user's now.
pub fn remove_owned(
    path: &Path,
    text: &str,
    removal: &Removal,
    trust_hashes: &[String],
) -> Result<String> {
    if text.is_empty() {
        return Ok(String::new());
    }
    if let Some(cut) = remove_by_sections(text, removal, trust_hashes) {
        return Ok(cut);
    }
    let mut doc = parse(path, text)?;
    let removal = &Removal {
        trust_keys: keys_holding(&doc, &removal.trust_keys, trust_hashes),
        ..removal.clone()
    };
    let edit = |doc: &mut DocumentMut| remove_entries(doc, removal);
    // One document at a time, as in merge.
    let cut = cut_out(&doc, text, removal, newline_of(text)).map(|(cut, _)| cut);
    edit(&mut doc);
    if let Some(cut) = cut {
        let wanted = canonical(doc.as_item());
        drop(doc);
        if means(&cut, &wanted) {
            return Ok(cut);
        }
        doc = parse(path, text)?;
        edit(&mut doc);
    }
    Ok(keep_line_endings(text, keep_user_lines(text, &doc)))
}

/// [`remove_owned`] without a tree of the whole file, as [`merge_by_sections`] does it: the
/// cuts are found in the file with every section but ours blanked and checked there against
/// toml_edit's edit; the same cuts must remove the same bytes from the file, whose result is
/// checked section by section.
fn remove_by_sections(text: &str, removal: &Removal, trust_hashes: &[String]) -> Option<String> {
    let outline = Outline::of(text)?;
    let reduced = outline.reduced(text)?;
    drop(outline);
    let mut doc: DocumentMut = reduced.parse().ok()?;
    let removal = &Removal {
        trust_keys: keys_holding(&doc, &removal.trust_keys, trust_hashes),
        ..removal.clone()
    };
    let (cut_reduced, cuts) = cut_out(&doc, &reduced, removal, newline_of(text))?;
    drop(reduced);
    remove_entries(&mut doc, removal);
    let wanted = canonical_of(doc.as_item(), true);
    drop(doc);
    if !means_pruned(&cut_reduced, &wanted) {
        return None;
    }
    drop(cut_reduced);
    let cut = apply_cuts(text, &cuts)?;
    Outline::of(&cut)?;
    Some(cut)
}

/// Our entries taken out of `doc`, and the tables we created when nothing else is in them.
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

/// The edited document as text, with the user's own lines wherever we did not edit.
///
/// toml_edit does not re-render every document it parsed byte for byte: a table header whose
/// parent another header also names loses the spaces around its dots (`[ hooks . state . "b" ]`
/// after `[hooks.state."a"]` comes back as `[ hooks.state. "b" ]`), whether or not we touched
/// it. So when toml_edit's rendering of the untouched file differs from the file, our edits
/// (the difference between that rendering and the edited one) are merged line by line into the
/// user's text, and the result is kept only if it means exactly what the edited document does.
fn keep_user_lines(original: &str, edited: &DocumentMut) -> String {
    let rendered = edited.to_string();
    let Ok(untouched) = original.parse::<DocumentMut>() else {
        return rendered;
    };
    let base = untouched.to_string();
    if base == original {
        return rendered;
    }
    let merged = three_way(&base, &rendered, original);
    match merged.parse::<DocumentMut>() {
        Ok(doc) if canonical(doc.as_item()) == canonical(edited.as_item()) => merged,
        _ => rendered,
    }
}

/// Line-based three-way merge: `ours` and `theirs` both derive from `base`; each side's changes
/// are applied, and where both changed the same lines ours win (the result is checked by the
/// caller). Lines compare
/// without their `\r`; a line neither side changed is written as `theirs` has it.
fn three_way(base: &str, ours: &str, theirs: &str) -> String {
    use similar::{capture_diff_slices, Algorithm, DiffTag};

    struct Hunk<'a> {
        start: usize,
        end: usize,
        lines: &'a [&'a str],
        ours: bool,
    }
    let key = |line: &&str| line.replace("\r\n", "\n");
    let base_lines: Vec<&str> = base.split_inclusive('\n').collect();
    let our_lines: Vec<&str> = ours.split_inclusive('\n').collect();
    let their_lines: Vec<&str> = theirs.split_inclusive('\n').collect();
    let base_keys: Vec<String> = base_lines.iter().map(key).collect();

    // Each side's changes as hunks over base ranges, and the user's own text of every base
    // line theirs left alone.
    let mut hunks: Vec<Hunk<'_>> = Vec::new();
    let mut theirs_of_base: Vec<Option<&str>> = vec![None; base_lines.len()];
    for (is_ours, side) in [(true, &our_lines), (false, &their_lines)] {
        let side_keys: Vec<String> = side.iter().map(key).collect();
        for op in capture_diff_slices(Algorithm::Patience, &base_keys, &side_keys) {
            let (tag, old, new) = op.as_tag_tuple();
            if tag != DiffTag::Equal {
                hunks.push(Hunk {
                    start: old.start,
                    end: old.end,
                    lines: &side[new],
                    ours: is_ours,
                });
            } else if !is_ours {
                for (b, t) in old.zip(new) {
                    theirs_of_base[b] = Some(side[t]);
                }
            }
        }
    }
    // Theirs first where both insert at one line: the user's lines stay ahead of ours.
    hunks.sort_by_key(|h| (h.start, h.end, h.ours));

    let line = |b: usize| theirs_of_base[b].unwrap_or(base_lines[b]);
    let mut out = String::new();
    let mut at = 0; // the next base line to write
    let mut i = 0;
    while i < hunks.len() {
        // A group: hunks whose base ranges overlap, or an insertion strictly inside a range.
        // Insertions at the same line join too, and are all kept; an insertion just before or
        // after another hunk's range is not a conflict.
        let start = hunks[i].start;
        let mut end = hunks[i].end;
        let mut j = i + 1;
        while j < hunks.len()
            && (hunks[j].start < end
                || (end == start && hunks[j].start == start && hunks[j].end == start))
        {
            end = end.max(hunks[j].end);
            j += 1;
        }
        let group = &hunks[i..j];
        let both = group.iter().any(|h| h.ours) && group.iter().any(|h| !h.ours);
        let keep_all = start == end;
        (at..start).for_each(|b| out.push_str(line(b)));
        let mut b = start;
        for h in group.iter().filter(|h| h.ours || !both || keep_all) {
            (b..h.start).for_each(|b| out.push_str(line(b)));
            for (k, new) in h.lines.iter().enumerate() {
                // A line we edited in place keeps the user's `\r\n`.
                let crlf = h.ours
                    && h.end - h.start == h.lines.len()
                    && theirs_of_base[h.start + k].is_some_and(|t| t.ends_with("\r\n"));
                match new.strip_suffix('\n') {
                    Some(body) if crlf && !body.ends_with('\r') => {
                        out.push_str(body);
                        out.push_str("\r\n");
                    }
                    _ => out.push_str(new),
                }
            }
            b = b.max(h.end);
        }
        (b..end).for_each(|b| out.push_str(line(b)));
        at = end;
        i = j;
    }
    (at..base_lines.len()).for_each(|b| out.push_str(line(b)));
    out
}

/// What a TOML item means, independent of its layout: for comparing two documents.
fn canonical(root: &Item) -> String {
    canonical_of(root, false)
}

/// Whether `text` parses to a document whose [`canonical_of`] form, without empty tables, is
/// `wanted`.
fn means_pruned(text: &str, wanted: &str) -> bool {
    text.parse::<DocumentMut>()
        .is_ok_and(|parsed| canonical_of(parsed.as_item(), true) == wanted)
}

/// [`canonical`], leaving out empty tables when `prune`: with every section but ours blanked,
/// a table of ours left empty may stand for one that other sections fill (`[mcp_servers]`).
fn canonical_of(root: &Item, prune: bool) -> String {
    fn value(v: &toml_edit::Value, out: &mut String) {
        use toml_edit::Value as V;
        match v {
            V::String(s) => out.push_str(&format!("{:?}", s.value())),
            V::Integer(i) => out.push_str(&i.value().to_string()),
            V::Float(f) => out.push_str(&format!("{:?}", f.value())),
            V::Boolean(b) => out.push_str(&b.value().to_string()),
            V::Datetime(d) => out.push_str(&d.value().to_string()),
            V::Array(a) => {
                out.push('[');
                for v in a.iter() {
                    value(v, out);
                    out.push(',');
                }
                out.push(']');
            }
            V::InlineTable(t) => {
                let mut entries: Vec<(&str, &toml_edit::Value)> = t.iter().collect();
                entries.sort_by_key(|(k, _)| *k);
                out.push('{');
                for (k, v) in entries {
                    out.push_str(&format!("{k:?}="));
                    value(v, out);
                    out.push(',');
                }
                out.push('}');
            }
        }
    }
    fn item(i: &Item, out: &mut String, prune: bool) {
        match i {
            Item::None => {}
            Item::Value(v) => value(v, out),
            Item::Table(t) => {
                let mut entries: Vec<(&str, &Item)> = t.iter().collect();
                entries.sort_by_key(|(k, _)| *k);
                out.push('{');
                for (k, v) in entries {
                    let mut child = String::new();
                    item(v, &mut child, prune);
                    if prune && v.is_table() && child == "{}" {
                        continue;
                    }
                    out.push_str(&format!("{k:?}="));
                    out.push_str(&child);
                    out.push(',');
                }
                out.push('}');
            }
            Item::ArrayOfTables(a) => {
                out.push('[');
                for t in a.iter() {
                    item(&Item::Table(t.clone()), out, prune);
                    out.push(',');
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    item(root, &mut out, prune);
    out
}

/// toml_edit writes `\n` for what it adds; a CRLF file stays CRLF throughout.
fn keep_line_endings(original: &str, edited: String) -> String {
    if newline_of(original) == "\n" {
        return edited;
    }
    edited.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The trusted hash recorded for `key`, if any.
pub fn trusted_hash(text: &str, key: &str) -> Option<String> {
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
fn keys_holding(doc: &DocumentMut, keys: &[String], hashes: &[String]) -> Vec<String> {
    if hashes.is_empty() {
        return keys.to_vec();
    }
    let state = doc.get("hooks").and_then(|h| h.get("state"));
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
pub fn mcp_entry(text: &str) -> Option<(Option<String>, Option<String>)> {
    let doc: DocumentMut = text.parse().ok()?;
    let server = doc.get("mcp_servers")?.get(MCP_SERVER_NAME)?;
    let field = |key: &str| server.get(key).and_then(Item::as_str).map(str::to_string);
    Some((field("url"), field("http_headers_helper")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> McpEntry {
        McpEntry {
            url: "http://localhost:8080/api/v1/mcp-server".into(),
            http_headers_helper: "/h/.codex/axonflow/bin/axonflow-codex-hook mcp-headers".into(),
        }
    }

    fn trust() -> Vec<TrustEntry> {
        vec![TrustEntry {
            key: "/h/.codex/hooks.json:pre_tool_use:0:0".into(),
            hash: "sha256:abc".into(),
        }]
    }

    fn round_trip(original: &str) -> String {
        let path = Path::new("config.toml");
        let merged = merge(path, original, Some(&entry()), &trust()).unwrap();
        assert!(
            merged.text.starts_with(original.trim_end()),
            "foreign bytes moved:\n{}",
            merged.text
        );
        let removal = Removal {
            mcp_server: true,
            trust_keys: vec![trust()[0].key.clone()],
            created_mcp_servers: merged.created_mcp_servers,
            created_hooks: merged.created_hooks,
            created_hooks_state: merged.created_hooks_state,
        };
        let removed = remove(path, &merged.text, &removal).unwrap();
        assert_eq!(removed.trim_end(), original.trim_end());
        merged.text
    }

    #[test]
    fn appends_after_user_content_and_removes_cleanly() {
        let out = round_trip("# my settings\nmodel = \"gpt-5.5\" # inline comment\n\n[mcp_servers.other]\nurl = \"http://x\"\n");
        assert!(
            out.contains(
                "[mcp_servers.axonflow]\nurl = \"http://localhost:8080/api/v1/mcp-server\"\n"
            ),
            "{out}"
        );
        assert!(out.contains("[hooks.state.\"/h/.codex/hooks.json:pre_tool_use:0:0\"]\ntrusted_hash = \"sha256:abc\"\n"), "{out}");
        round_trip("");
        round_trip("model = \"x\"");
    }

    #[test]
    fn inline_and_dotted_mcp_servers() {
        let path = Path::new("config.toml");
        let inline = "mcp_servers = { other = { url = \"http://x\" } }\n";
        let out = merge(path, inline, Some(&entry()), &[]).unwrap().text;
        // The space before the closing brace is the user's byte and stays where it was.
        assert!(
            out.starts_with("mcp_servers = { other = { url = \"http://x\" } , axonflow = {"),
            "{out}"
        );
        let removal = Removal {
            mcp_server: true,
            ..Removal::default()
        };
        assert_eq!(remove(path, &out, &removal).unwrap(), inline);
        let dotted = "mcp_servers.other.url = \"http://x\"\n";
        let out = merge(path, dotted, Some(&entry()), &[]).unwrap().text;
        let doc: DocumentMut = out.parse().unwrap();
        assert_eq!(
            doc["mcp_servers"]["axonflow"]["url"].as_str(),
            Some("http://localhost:8080/api/v1/mcp-server"),
            "{out}"
        );
        assert!(out.starts_with(dotted), "{out}");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let path = Path::new("config.toml");
        let out = merge(path, "a = 1\r\n", Some(&entry()), &trust())
            .unwrap()
            .text;
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = check(Path::new("/c/config.toml"), Some(b"a = 1\nb = \n")).unwrap_err();
        assert!(
            err.message
                .starts_with("/c/config.toml is not valid TOML (line 2, column 5: "),
            "{}",
            err.message
        );
    }
}
