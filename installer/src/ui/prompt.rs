//! Questions to the user, behind a small trait: dialoguer on a real terminal, a script in
//! tests, and nothing at all without a terminal (the caller fails with the flags to pass).

use std::io::IsTerminal as _;

use crate::error::{CommandError, Result};

pub type Validator<'a> = &'a dyn Fn(&str) -> std::result::Result<(), String>;

pub trait Prompter {
    fn select(&mut self, prompt: &str, items: &[&str], default: usize) -> Result<usize>;
    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String>;
    /// Hidden input.
    fn password(&mut self, prompt: &str) -> Result<String>;
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool>;
    /// Text shown before a question (a notice, a summary).
    fn show(&mut self, text: &str);
}

/// Whether prompts can be shown: stdin and stderr (where dialoguer draws) are terminals.
pub fn terminal_available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

pub struct TerminalPrompter {
    theme: Box<dyn dialoguer::theme::Theme>,
}

impl TerminalPrompter {
    pub fn new() -> Self {
        let theme: Box<dyn dialoguer::theme::Theme> = if console::colors_enabled_stderr() {
            Box::new(dialoguer::theme::ColorfulTheme::default())
        } else {
            Box::new(dialoguer::theme::SimpleTheme)
        };
        TerminalPrompter { theme }
    }
}

impl Default for TerminalPrompter {
    fn default() -> Self {
        Self::new()
    }
}

fn interrupted(error: dialoguer::Error) -> CommandError {
    CommandError::failure(format!("prompt failed: {error}")).hint("nothing was changed")
}

impl Prompter for TerminalPrompter {
    fn select(&mut self, prompt: &str, items: &[&str], default: usize) -> Result<usize> {
        dialoguer::Select::with_theme(&*self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(interrupted)
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String> {
        let mut input = dialoguer::Input::<String>::with_theme(&*self.theme).with_prompt(prompt);
        if let Some(default) = default {
            input = input.default(default.to_string());
        }
        input
            .validate_with(|text: &String| validate(text))
            .interact_text()
            .map_err(interrupted)
    }

    fn password(&mut self, prompt: &str) -> Result<String> {
        dialoguer::Password::with_theme(&*self.theme)
            .with_prompt(prompt)
            .interact()
            .map_err(interrupted)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        dialoguer::Confirm::with_theme(&*self.theme)
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(interrupted)
    }

    fn show(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// Answers given in advance, for tests of the interactive logic without a terminal.
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    pub answers: std::collections::VecDeque<String>,
    pub shown: Vec<String>,
    pub asked: Vec<String>,
}

impl ScriptedPrompter {
    pub fn new(answers: &[&str]) -> Self {
        ScriptedPrompter {
            answers: answers.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }
    }

    fn next(&mut self, prompt: &str) -> Result<String> {
        self.asked.push(prompt.to_string());
        self.answers
            .pop_front()
            .ok_or_else(|| CommandError::failure(format!("no scripted answer for {prompt:?}")))
    }
}

impl Prompter for ScriptedPrompter {
    fn select(&mut self, prompt: &str, items: &[&str], default: usize) -> Result<usize> {
        let answer = self.next(prompt)?;
        if answer.is_empty() {
            return Ok(default);
        }
        items
            .iter()
            .position(|item| item.starts_with(&answer))
            .ok_or_else(|| CommandError::failure(format!("{answer:?} is not one of {items:?}")))
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: Validator<'_>,
    ) -> Result<String> {
        let answer = self.next(prompt)?;
        let answer = if answer.is_empty() {
            default.unwrap_or_default().to_string()
        } else {
            answer
        };
        validate(&answer).map_err(CommandError::failure)?;
        Ok(answer)
    }

    fn password(&mut self, prompt: &str) -> Result<String> {
        self.next(prompt)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        Ok(match self.next(prompt)?.as_str() {
            "" => default,
            answer => answer.starts_with('y'),
        })
    }

    fn show(&mut self, text: &str) {
        self.shown.push(text.to_string());
    }
}
