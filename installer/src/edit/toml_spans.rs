//! Where things stand in a spanned TOML document, for splices ([`crate::edit::splice`]): the
//! lines of a headed table, a member of an inline table and the separator that joins it, a
//! key-value line; and what a document means, to check a spliced result. config.toml's own
//! entries are in [`crate::edit::config_toml`]; this is to TOML what `json_edit` is to JSON.

use std::ops::Range;
use std::path::Path;

use toml_edit::{DocumentMut, InlineTable, Item, Key, Table, Value};

use crate::edit::splice::{line_end, line_start, Splice};
use crate::error::CommandError;

/// A shape of the user's file that splices cannot edit: what it is, and what to change.
pub(crate) struct Refusal {
    shape: String,
    hint: &'static str,
}

pub(crate) type Planned<T> = std::result::Result<T, Refusal>;

pub(crate) fn refuse<T>(shape: impl Into<String>, hint: &'static str) -> Planned<T> {
    Err(Refusal {
        shape: shape.into(),
        hint,
    })
}

impl Refusal {
    pub(crate) fn into_error(self, path: &Path) -> CommandError {
        CommandError::failure(format!(
            "{} cannot be edited in place: {}",
            path.display(),
            self.shape
        ))
        .hint(format!("{}; nothing was changed", self.hint))
    }
}

pub(crate) const TABLE_HINT: &str =
    "write it as a [table] of its own (or delete it), then run the command again";

/// The cuts that take `key = item` (a table, or a value on a line of its own) out of a table.
/// A headed table goes with the blank line before it, as we appended it.
pub(crate) fn cut_entry(
    text: &str,
    key: &Key,
    item: &Item,
    name: &str,
    cuts: &mut Vec<Splice>,
) -> Planned<()> {
    match item {
        Item::Table(table) => {
            let mut ranges = Vec::new();
            headed_ranges(text, table, name, &mut ranges)?;
            cuts.extend(
                ranges
                    .into_iter()
                    .map(|r| Splice::cut(with_blank_line_before(text, r))),
            );
        }
        Item::Value(value) => {
            let key_at = spanned(key.span(), name)?.start;
            let value_end = spanned(value.span(), name)?.end;
            let range = line_start(text, key_at)..line_end(text, value_end);
            let after = text[value_end..range.end].trim_start();
            if !text[range.start..key_at].trim().is_empty()
                || !(after.is_empty() || after.starts_with('#'))
            {
                return refuse(
                    format!("`{name}` shares its line with other keys"),
                    TABLE_HINT,
                );
            }
            cuts.push(Splice::cut(range));
        }
        _ => return refuse(format!("`[[{name}]]` is an array of tables"), TABLE_HINT),
    }
    Ok(())
}

/// `range` with the blank line just before it, when the line before that ends there too:
/// the separator we write before an appended table.
fn with_blank_line_before(text: &str, range: Range<usize>) -> Range<usize> {
    let before = &text[..range.start];
    for blank in ["\r\n", "\n"] {
        if let Some(rest) = before.strip_suffix(blank) {
            if rest.ends_with('\n') {
                return rest.len()..range.end;
            }
        }
    }
    range
}

/// The lines of a headed table (from its header to the end of its last value's line) and
/// of each headed table under it. Comments and blank lines after the last value stay: they
/// lead into the next table.
pub(crate) fn headed_ranges(
    text: &str,
    table: &Table,
    name: &str,
    out: &mut Vec<Range<usize>>,
) -> Planned<()> {
    if table.is_dotted() {
        return refuse(format!("`{name}` is made of dotted keys"), TABLE_HINT);
    }
    if !table.is_implicit() {
        let header = spanned(table.span(), name)?;
        let end = last_value_end(table).unwrap_or(header.end).max(header.end);
        out.push(line_start(text, header.start)..line_end(text, end));
    }
    for (_, item) in table.iter() {
        match item {
            Item::Table(child) if !child.is_dotted() => headed_ranges(text, child, name, out)?,
            Item::ArrayOfTables(_) => {
                return refuse(format!("`{name}` holds an array of tables"), TABLE_HINT)
            }
            _ => {}
        }
    }
    Ok(())
}

/// Where the last value written under a table's own header ends (dotted keys included).
fn last_value_end(table: &Table) -> Option<usize> {
    table
        .iter()
        .filter_map(|(_, item)| match item {
            Item::Value(value) => value.span().map(|s| s.end),
            Item::Table(dotted) if dotted.is_dotted() => last_value_end(dotted),
            _ => None,
        })
        .max()
}

/// `members` added inside an inline table's braces, after its last member.
pub(crate) fn insert_into_inline(
    text: &str,
    table: &InlineTable,
    members: &[String],
) -> Planned<Splice> {
    let span = inline_span(table)?;
    let inside = &text[span.start + 1..span.end - 1];
    let joined = members.join(", ");
    Ok(match inside.trim_end().len() {
        0 => Splice::insert(span.start + 1, format!(" {joined} ")),
        used => Splice::insert(span.start + 1 + used, format!(", {joined}")),
    })
}

/// Members `keys` cut from an inline table, each run of them with the separator before it
/// (after it, for a run at the start).
pub(crate) fn cut_from_inline(
    text: &str,
    table: &InlineTable,
    keys: &[&str],
) -> Planned<Vec<Splice>> {
    let span = inline_span(table)?;
    let mut members = Vec::new();
    for (name, value) in table.iter() {
        match (table.key(name).and_then(Key::span), value.span()) {
            (Some(k), Some(v)) => members.push((keys.contains(&name), k.start, v.end)),
            _ => return refuse("an inline table holds dotted keys", TABLE_HINT),
        }
    }
    members.sort_by_key(|m| m.1);
    let mut cuts = Vec::new();
    let mut i = 0;
    while i < members.len() {
        if !members[i].0 {
            i += 1;
            continue;
        }
        let mut j = i;
        while members.get(j + 1).is_some_and(|m| m.0) {
            j += 1;
        }
        let end = members[j].2;
        cuts.push(Splice::cut(if i > 0 {
            members[i - 1].2..end
        } else if let Some(next) = members.get(j + 1) {
            members[i].1..next.1
        } else if text[..members[i].1].ends_with(' ') && text[end..].starts_with(' ') {
            // ` X ` as we put it into `{}`.
            span.start + 1..end + 1
        } else {
            span.start + 1..end
        }));
        i = j + 1;
    }
    Ok(cuts)
}

fn inline_span(table: &InlineTable) -> Planned<Range<usize>> {
    match table.span() {
        Some(span) if !table.is_dotted() => Ok(span),
        _ => refuse("an inline table is written with dotted keys", TABLE_HINT),
    }
}

pub(crate) fn spanned(span: Option<Range<usize>>, name: &str) -> Planned<Range<usize>> {
    match span {
        Some(span) => Ok(span),
        None => refuse(
            format!("{name} has no place in the file's text"),
            TABLE_HINT,
        ),
    }
}

pub(crate) fn key_repr(key: &str) -> String {
    Key::new(key).display_repr().into_owned()
}

pub(crate) fn string_repr(value: &str) -> String {
    toml_edit::Formatted::new(value.to_string())
        .display_repr()
        .into_owned()
}

/// Whether `text` parses to a document whose [`canonical`] form is `wanted`.
pub(crate) fn means(text: &str, wanted: &str, prune: bool) -> bool {
    text.parse::<DocumentMut>()
        .is_ok_and(|parsed| canonical(parsed.as_item(), prune) == wanted)
}

/// What a TOML item means, independent of its layout (a table and an inline table alike),
/// leaving out empty tables when `prune`: an empty table means nothing to Codex, and with
/// every section but ours blanked, one of ours left empty may stand for one others fill.
pub(crate) fn canonical(root: &Item, prune: bool) -> String {
    let mut out = String::new();
    Node::Item(root).write(&mut out, prune);
    out
}

/// A part of a document, whether a table's item or an inline value.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Value(&'a Value),
}

impl Node<'_> {
    fn write(self, out: &mut String, prune: bool) {
        match self {
            Node::Item(Item::None) => {}
            Node::Item(Item::Value(v)) => Node::Value(v).write(out, prune),
            Node::Item(Item::Table(t)) => {
                table(t.iter().map(|(k, v)| (k, Node::Item(v))), out, prune)
            }
            Node::Item(Item::ArrayOfTables(a)) => {
                out.push('[');
                for t in a.iter() {
                    table(t.iter().map(|(k, v)| (k, Node::Item(v))), out, prune);
                    out.push(',');
                }
                out.push(']');
            }
            Node::Value(Value::InlineTable(t)) => {
                table(t.iter().map(|(k, v)| (k, Node::Value(v))), out, prune)
            }
            Node::Value(Value::Array(a)) => {
                out.push('[');
                for v in a.iter() {
                    Node::Value(v).write(out, prune);
                    out.push(',');
                }
                out.push(']');
            }
            Node::Value(Value::String(s)) => out.push_str(&format!("{:?}", s.value())),
            Node::Value(Value::Integer(i)) => out.push_str(&i.value().to_string()),
            Node::Value(Value::Float(f)) => out.push_str(&format!("{:?}", f.value())),
            Node::Value(Value::Boolean(b)) => out.push_str(&b.value().to_string()),
            Node::Value(Value::Datetime(d)) => out.push_str(&d.value().to_string()),
        }
    }

    fn is_table(self) -> bool {
        matches!(
            self,
            Node::Item(Item::Table(_)) | Node::Value(Value::InlineTable(_))
        )
    }
}

fn table<'a>(entries: impl Iterator<Item = (&'a str, Node<'a>)>, out: &mut String, prune: bool) {
    let mut entries: Vec<(&str, Node<'_>)> = entries.collect();
    entries.sort_by_key(|(k, _)| *k);
    out.push('{');
    for (k, v) in entries {
        let mut child = String::new();
        v.write(&mut child, prune);
        if prune && child == "{}" && v.is_table() {
            continue;
        }
        out.push_str(&format!("{k:?}={child},"));
    }
    out.push('}');
}
