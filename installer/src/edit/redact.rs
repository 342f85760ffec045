//! Secrets hidden from what a dry run prints, found by parsing the TOML (every shape a value
//! can take: quoted keys, dotted keys, multi-line strings, inline tables), not by line patterns.

use std::ops::Range;

use toml_edit::{Document, Item, Value};

const REDACTED: &str = "\"<redacted>\"";

/// Whether a key names a secret. Generous on purpose: hiding a harmless value in a preview costs
/// nothing. Covers ours (the hook's `SECRET_KEYS`), the legacy plugin's (`secret`,
/// `tenant_id`), and words in the usual names of credentials and user tokens.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let ours = axonflow_codex_hook::settings::SECRET_KEYS.contains(&key.as_str());
    ours || [
        "auth",
        "secret",
        "token",
        "tenant",
        "password",
        "passwd",
        "credential",
        "api_key",
        "apikey",
        "private_key",
        "bearer",
        "cookie",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// TOML text with the value of every secret key replaced by `"<redacted>"`. Text that does not
/// parse is withheld whole: nothing in it can be told apart from a secret.
pub fn toml_secrets(text: &str) -> String {
    let Ok(document) = Document::parse(text) else {
        return "# <content withheld: not valid TOML, and it may hold credentials>\n".to_string();
    };
    let mut spans = Vec::new();
    collect_item(document.as_item(), &mut spans);
    spans.sort_by_key(|span| span.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str(REDACTED);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

fn collect_item(item: &Item, spans: &mut Vec<Range<usize>>) {
    match item {
        Item::Table(table) => {
            for (key, child) in table.iter() {
                secret_or_descend(key, child, spans);
            }
        }
        Item::ArrayOfTables(tables) => {
            for table in tables.iter() {
                for (key, child) in table.iter() {
                    secret_or_descend(key, child, spans);
                }
            }
        }
        Item::Value(value) => collect_value(value, spans),
        Item::None => {}
    }
}

fn collect_value(value: &Value, spans: &mut Vec<Range<usize>>) {
    match value {
        Value::InlineTable(table) => {
            for (key, child) in table.iter() {
                if is_secret_key(key) {
                    spans.extend(child.span());
                } else {
                    collect_value(child, spans);
                }
            }
        }
        Value::Array(array) => array.iter().for_each(|v| collect_value(v, spans)),
        _ => {}
    }
}

fn secret_or_descend(key: &str, item: &Item, spans: &mut Vec<Range<usize>>) {
    match item {
        // A whole table named like a secret (`[auth]`) is descended into: its keys decide.
        Item::Value(value) if is_secret_key(key) => spans.extend(value.span()),
        other => collect_item(other, spans),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_is_redacted() {
        let text = "endpoint = \"http://h\"\n\"auth\" = \"S1\"\nsecret = '''\nS2\nS3'''\nx.tenant_id = \"S4\"\nt = { client_secret = \"S5\", n = 1 }\n[u]\nuser_token = \"S6\"\n";
        let redacted = toml_secrets(text);
        for secret in ["S1", "S2", "S3", "S4", "S5", "S6"] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        assert!(redacted.contains("endpoint = \"http://h\""), "{redacted}");
        assert!(redacted.contains("n = 1"), "{redacted}");
    }
}
