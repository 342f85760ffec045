//! Small text helpers shared by the hooks.

/// Collapses a reason into one line: Codex hands all of a blocking hook's stderr to the model,
/// and the contract is exactly one line, so newlines and other control characters coming from
/// the agent (or from anything it echoes) become spaces.
pub fn single_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.trim().to_string()
}

/// The first `limit` characters (Unicode scalar values) of `text`; never splits a character.
pub fn first_chars(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((byte_index, _)) => &text[..byte_index],
        None => text,
    }
}

/// A JSON scalar as the bash hooks' `jq -r` printed it: strings raw, absent or null as `""`,
/// anything else as compact JSON.
pub fn json_as_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// An I/O error's cause without the `(os error N)` suffix.
pub fn io_cause(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The line and column (both from 1, the column in characters) of byte `offset` of `bytes`.
pub fn line_and_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The one wording of a TOML parse error, for every file either crate reads: the file, the
/// line and column, and toml_edit's cause on one line.
pub fn toml_error(path: &std::path::Path, text: &str, error: &toml_edit::TomlError) -> String {
    let (line, column) = error
        .span()
        .map_or((1, 1), |span| line_and_column(text.as_bytes(), span.start));
    format!(
        "{} is not valid TOML (line {line}, column {column}: {})",
        path.display(),
        single_line(error.message())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_replaces_control_characters() {
        assert_eq!(single_line("a\nb\r\nc\td\u{7f}"), "a b  c d");
        assert_eq!(single_line("  x \n"), "x");
        assert_eq!(single_line("\u{1}x\u{7}"), "x");
    }

    #[test]
    fn first_chars_counts_characters_not_bytes() {
        assert_eq!(first_chars("héllo", 2), "hé");
        assert_eq!(first_chars("日本語", 5), "日本語");
        assert_eq!(first_chars("", 3), "");
    }

    #[test]
    fn line_and_column_count_from_one() {
        assert_eq!(line_and_column(b"a\nbc\n", 3), (2, 2));
        assert_eq!(line_and_column(b"", 0), (1, 1));
        assert_eq!(line_and_column("\u{e9}x\n".as_bytes(), 3), (1, 3));
    }
}
