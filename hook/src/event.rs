//! The Codex hook events this project handles, one enum for the hook and the installer, with
//! the name each place spells them by.

/// A Codex hook event we handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    PreToolUse,
    PostToolUse,
    /// Checked before the prompt leaves, like a tool call.
    UserPromptSubmit,
}

impl Event {
    pub const ALL: [Event; 3] = [
        Event::PreToolUse,
        Event::PostToolUse,
        Event::UserPromptSubmit,
    ];

    /// The name in hooks.json, in Codex's `hook_event_name` and in the installer's receipt.
    pub fn json_name(self) -> &'static str {
        match self {
            Event::PreToolUse => "PreToolUse",
            Event::PostToolUse => "PostToolUse",
            Event::UserPromptSubmit => "UserPromptSubmit",
        }
    }

    /// The name in Codex's hook trust keys and hashes.
    pub fn snake_name(self) -> &'static str {
        match self {
            Event::PreToolUse => "pre_tool_use",
            Event::PostToolUse => "post_tool_use",
            Event::UserPromptSubmit => "user_prompt_submit",
        }
    }

    /// The hook binary's subcommand, also the `event` of a journal record.
    pub fn subcommand(self) -> &'static str {
        match self {
            Event::PreToolUse => "pre-tool-use",
            Event::PostToolUse => "post-tool-use",
            Event::UserPromptSubmit => "user-prompt-submit",
        }
    }

    /// Codex ignores a matcher for this event, and leaves it out of the trust hash
    /// (codex-host.md §2.2, §6): our group carries none.
    pub fn takes_matcher(self) -> bool {
        self != Event::UserPromptSubmit
    }

    pub fn from_json_name(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.json_name() == name)
    }

    pub fn from_subcommand(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.subcommand() == name)
    }
}

/// By [`Event::json_name`], as the installer's receipt has always stored events.
impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.json_name())
    }
}

impl<'de> serde::Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Event::from_json_name(&name).ok_or_else(|| {
            serde::de::Error::unknown_variant(
                &name,
                &["PreToolUse", "PostToolUse", "UserPromptSubmit"],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for event in Event::ALL {
            assert_eq!(Event::from_json_name(event.json_name()), Some(event));
            assert_eq!(Event::from_subcommand(event.subcommand()), Some(event));
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.json_name()));
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
        }
        assert!(serde_json::from_str::<Event>("\"Stop\"").is_err());
    }
}
