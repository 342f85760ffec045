//! Format-preserving edits of a JSON document: every byte outside the spans we change stays
//! where it was. serde_json validates and reads; this module only locates spans and splices
//! text, copying the file's own indentation and line endings.

use serde_json::Value;

/// A value's byte span in the text.
#[derive(Debug, Clone)]
pub struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    Scalar,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub key: String,
    pub key_start: usize,
    pub value: Node,
}

impl Node {
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            NodeKind::Object(members) => members.iter().rev().find(|m| m.key == key),
            _ => None,
        }
    }

    pub fn elements(&self) -> &[Node] {
        match &self.kind {
            NodeKind::Array(elements) => elements,
            _ => &[],
        }
    }
}

/// Spans of a document that serde_json has already accepted.
pub fn scan(text: &str) -> Node {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    scanner.skip_ws();
    scanner.value()
}

struct Scanner<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len()
            && matches!(self.bytes[self.pos], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Node {
        let start = self.pos;
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(start),
            Some(b'[') => self.array(start),
            Some(b'"') => {
                self.string();
                Node {
                    start,
                    end: self.pos,
                    kind: NodeKind::Scalar,
                }
            }
            _ => {
                while self.pos < self.bytes.len()
                    && !matches!(
                        self.bytes[self.pos],
                        b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.pos += 1;
                }
                Node {
                    start,
                    end: self.pos,
                    kind: NodeKind::Scalar,
                }
            }
        }
    }

    fn object(&mut self, start: usize) -> Node {
        self.pos += 1;
        let mut members = Vec::new();
        loop {
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b'}') | None => break,
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let key_start = self.pos;
            self.string();
            let key = serde_json::from_str(&self.text[key_start..self.pos]).unwrap_or_default();
            self.skip_ws();
            self.pos += 1; // ':'
            self.skip_ws();
            let value = self.value();
            members.push(Member {
                key,
                key_start,
                value,
            });
        }
        self.pos += 1;
        Node {
            start,
            end: self.pos,
            kind: NodeKind::Object(members),
        }
    }

    fn array(&mut self, start: usize) -> Node {
        self.pos += 1;
        let mut elements = Vec::new();
        loop {
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b']') | None => break,
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                _ => elements.push(self.value()),
            }
        }
        self.pos += 1;
        Node {
            start,
            end: self.pos,
            kind: NodeKind::Array(elements),
        }
    }

    fn string(&mut self) {
        self.pos += 1; // opening quote
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return;
                }
                _ => self.pos += 1,
            }
        }
    }
}

/// The file's layout conventions, so inserted text looks like the rest of it.
#[derive(Debug, Clone)]
pub struct Style {
    pub newline: &'static str,
    pub indent_unit: String,
}

impl Style {
    pub fn of(text: &str) -> Style {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let indent_unit = text
            .split('\n')
            .skip(1)
            .map(|line| &line[..line.len() - line.trim_start_matches([' ', '\t']).len()])
            .find(|indent| !indent.is_empty())
            .unwrap_or("  ")
            .to_string();
        Style {
            newline,
            indent_unit,
        }
    }

    /// `value` pretty-printed with this style, its continuation lines indented by `base`.
    pub fn render(&self, value: &Value, base: &str) -> String {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(self.indent_unit.as_bytes());
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        serde::Serialize::serialize(value, &mut serializer).expect("a Value always serialises");
        let pretty = String::from_utf8(out).expect("serde_json writes UTF-8");
        pretty.replace('\n', &format!("{}{base}", self.newline))
    }
}

/// The whitespace that starts the line holding `pos`.
fn line_indent(text: &str, pos: usize) -> &str {
    let line = &text[crate::edit::splice::line_start(text, pos)..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Appends `value` to the array at `array` (a node of `text`).
pub fn append_element(text: &str, array: &Node, value: &Value) -> String {
    let style = Style::of(text);
    match array.elements().last() {
        Some(last) => {
            let before_last = &text[..last.start];
            let gap = &before_last[before_last.trim_end_matches([' ', '\t', '\n', '\r']).len()..];
            let insertion = if gap.contains('\n') {
                let indent = line_indent(text, last.start);
                format!(",{}{indent}{}", style.newline, style.render(value, indent))
            } else {
                format!(", {}", serde_json::to_string(value).unwrap_or_default())
            };
            splice(text, last.end, last.end, &insertion)
        }
        None => {
            let outer = line_indent(text, array.start).to_string();
            let inner = format!("{outer}{}", style.indent_unit);
            let body = format!(
                "[{nl}{inner}{}{nl}{outer}]",
                style.render(value, &inner),
                nl = style.newline
            );
            splice(text, array.start, array.end, &body)
        }
    }
}

/// Adds `"key": value` at the end of the object at `object`.
pub fn append_member(text: &str, object: &Node, key: &str, value: &Value) -> String {
    let style = Style::of(text);
    let key_json = serde_json::to_string(key).unwrap_or_default();
    let members = match &object.kind {
        NodeKind::Object(members) => members.as_slice(),
        _ => &[],
    };
    match members.last() {
        Some(last) => {
            let indent = line_indent(text, last.key_start);
            let insertion = format!(
                ",{}{indent}{key_json}: {}",
                style.newline,
                style.render(value, indent)
            );
            splice(text, last.value.end, last.value.end, &insertion)
        }
        None => {
            let outer = line_indent(text, object.start).to_string();
            let inner = format!("{outer}{}", style.indent_unit);
            let body = format!(
                "{{{nl}{inner}{key_json}: {}{nl}{outer}}}",
                style.render(value, &inner),
                nl = style.newline
            );
            splice(text, object.start, object.end, &body)
        }
    }
}

/// Replaces the value at `node` with `value`, at the node's indentation.
pub fn replace_value(text: &str, node: &Node, value: &Value) -> String {
    let style = Style::of(text);
    let indent = line_indent(text, node.start).to_string();
    splice(text, node.start, node.end, &style.render(value, &indent))
}

/// Removes element `index` of the array at `array`, with the separator that joined it.
pub fn remove_element(text: &str, array: &Node, index: usize) -> String {
    let elements = array.elements();
    let element = &elements[index];
    if index > 0 {
        splice(text, elements[index - 1].end, element.end, "")
    } else if let Some(next) = elements.get(1) {
        splice(text, element.start, next.start, "")
    } else {
        splice(text, array.start, array.end, "[]")
    }
}

/// Removes member `key` of the object at `object`, with the separator that joined it.
pub fn remove_member(text: &str, object: &Node, key: &str) -> String {
    let NodeKind::Object(members) = &object.kind else {
        return text.to_string();
    };
    let Some(index) = members.iter().rposition(|m| m.key == key) else {
        return text.to_string();
    };
    if index > 0 {
        splice(
            text,
            members[index - 1].value.end,
            members[index].value.end,
            "",
        )
    } else if let Some(next) = members.get(1) {
        splice(text, members[index].key_start, next.key_start, "")
    } else {
        splice(text, object.start, object.end, "{}")
    }
}

/// `text` with the bytes `start..end` replaced.
fn splice(text: &str, start: usize, end: usize, replacement: &str) -> String {
    let mut out = text.to_string();
    out.replace_range(start..end, replacement);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn appends_in_the_files_style() {
        let text = "{\n    \"a\": [\n        1\n    ],\n    \"b\": []\n}\n";
        let root = scan(text);
        let a = &root.member("a").unwrap().value;
        let out = append_element(text, a, &json!({"k": 2}));
        assert_eq!(out, "{\n    \"a\": [\n        1,\n        {\n            \"k\": 2\n        }\n    ],\n    \"b\": []\n}\n");
        let root = scan(&out);
        let b = &root.member("b").unwrap().value;
        let out = append_element(&out, b, &json!(3));
        assert!(out.ends_with("\"b\": [\n        3\n    ]\n}\n"), "{out}");
    }

    #[test]
    fn crlf_and_members() {
        let text = "{\r\n  \"x\": 1\r\n}";
        let out = append_member(text, &scan(text), "y", &json!([1]));
        assert_eq!(out, "{\r\n  \"x\": 1,\r\n  \"y\": [\r\n    1\r\n  ]\r\n}");
        let out = remove_member(&out, &scan(&out), "y");
        assert_eq!(out, text);
        let empty = "{}";
        assert_eq!(
            append_member(empty, &scan(empty), "h", &json!({})),
            "{\n  \"h\": {}\n}"
        );
    }

    #[test]
    fn removal_round_trips_appends() {
        let text = "[1, 2]";
        let out = append_element(text, &scan(text), &json!(3));
        assert_eq!(out, "[1, 2, 3]");
        assert_eq!(remove_element(&out, &scan(&out), 2), text);
        let one = "[\n  1\n]";
        assert_eq!(remove_element(one, &scan(one), 0), "[]");
        assert_eq!(remove_element("[1, 2]", &scan("[1, 2]"), 0), "[2]");
    }

    #[test]
    fn scanner_handles_escapes_and_nesting() {
        let text = r#"{"a\"b": {"c": ["]", "}", {"d": null}]}, "e": -1.5e3}"#;
        let root = scan(text);
        assert_eq!(
            root.member("a\"b")
                .unwrap()
                .value
                .member("c")
                .unwrap()
                .value
                .elements()
                .len(),
            3
        );
        let e = &root.member("e").unwrap().value;
        assert_eq!(&text[e.start..e.end], "-1.5e3");
    }
}
