//! The one way the installer edits a user's file: exact byte ranges replaced (an insertion
//! is an empty range, a cut an empty replacement), every other byte left where it was.
//! json_edit and config_toml locate the ranges; the caller checks what the result means.

use std::ops::Range;

/// One edit: the bytes at `range` become `text`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Splice {
    pub(crate) range: Range<usize>,
    pub(crate) text: String,
}

impl Splice {
    pub(crate) fn insert(at: usize, text: impl Into<String>) -> Splice {
        Splice {
            range: at..at,
            text: text.into(),
        }
    }

    pub(crate) fn replace(range: Range<usize>, text: impl Into<String>) -> Splice {
        Splice {
            range,
            text: text.into(),
        }
    }

    pub(crate) fn cut(range: Range<usize>) -> Splice {
        Splice::replace(range, "")
    }
}

/// `text` with every splice made; splices at one offset keep their order. `None` when two
/// ranges overlap or one falls outside `text` (or inside a character).
pub(crate) fn apply(text: &str, splices: &[Splice]) -> Option<String> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out =
        String::with_capacity(text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>());
    let mut at = 0;
    for splice in sorted {
        if splice.range.start < at {
            return None;
        }
        out.push_str(text.get(at..splice.range.start)?);
        text.get(splice.range.clone())?;
        out.push_str(&splice.text);
        at = splice.range.end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

/// Where the line holding `at` starts.
pub(crate) fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Where the line holding `at` ends, its line break included (the text's end for the last).
pub(crate) fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// The line ending added lines take: CRLF in a text whose every line ends so, else LF.
pub(crate) fn newline_of(text: &str) -> &'static str {
    let mut ended = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .peekable();
    if ended.peek().is_some() && ended.all(|l| l.ends_with("\r\n")) {
        "\r\n"
    } else {
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_apply_in_order_and_refuse_overlaps() {
        let text = "abcdef";
        let edits = [
            Splice::insert(6, "!"),
            Splice::replace(1..3, "XY"),
            Splice::insert(6, "?"),
            Splice::cut(4..5),
        ];
        assert_eq!(apply(text, &edits).as_deref(), Some("aXYdf!?"));
        assert_eq!(apply(text, &[Splice::cut(1..4), Splice::cut(3..5)]), None);
        assert_eq!(apply("é", &[Splice::insert(1, "x")]), None);
        assert_eq!(apply(text, &[Splice::cut(5..9)]), None);
    }

    #[test]
    fn lines_and_newlines() {
        let text = "a\r\nbc\r\nd";
        assert_eq!((line_start(text, 4), line_end(text, 4)), (3, 7));
        assert_eq!(line_end(text, 8), 8);
        assert_eq!(newline_of(text), "\r\n");
        assert_eq!(newline_of("a\r\nb\n"), "\n");
        assert_eq!(newline_of("a"), "\n");
    }
}
