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

/// A prompt that ended without an answer. Ctrl-C (the prompt reads in raw mode, where it is a
/// key, and console then raises SIGINT, which [`CtrlCAsKey`] ignores) leaves dialoguer's cursor
/// hidden: it is shown again, and the command ends with exit 130 after the usual clean-up.
fn interrupted(error: dialoguer::Error) -> CommandError {
    let dialoguer::Error::IO(error) = error;
    if error.kind() == std::io::ErrorKind::Interrupted {
        return cancelled_by_ctrl_c();
    }
    CommandError::failure(format!(
        "prompt failed: {}",
        axonflow_codex_hook::text::io_cause(&error)
    ))
    .hint("nothing was changed")
}

fn cancelled_by_ctrl_c() -> CommandError {
    let term = console::Term::stderr();
    let _ = term.show_cursor();
    let _ = term.write_line("");
    CommandError::interrupted("interrupted; nothing was changed")
}

/// While a prompt reads: SIGINT ignored, so that Ctrl-C, which console reads as a key and then
/// raises as SIGINT, ends the prompt with an error instead of killing the process (which
/// would leave the cursor hidden and skip the clean-up of a run that wrote nothing).
struct CtrlCAsKey {
    #[cfg(unix)]
    previous: libc::sighandler_t,
}

impl CtrlCAsKey {
    fn new() -> Self {
        // SAFETY: installs SIG_IGN and keeps the previous disposition to put back; no handler
        // code runs in signal context.
        #[cfg(unix)]
        let previous = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
        CtrlCAsKey {
            #[cfg(unix)]
            previous,
        }
    }
}

impl Drop for CtrlCAsKey {
    fn drop(&mut self) {
        // SAFETY: puts back the disposition `new` replaced.
        #[cfg(unix)]
        unsafe {
            libc::signal(libc::SIGINT, self.previous);
        }
    }
}

impl Prompter for TerminalPrompter {
    fn select(&mut self, prompt: &str, items: &[&str], default: usize) -> Result<usize> {
        let _ctrl_c = CtrlCAsKey::new();
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
        let _ctrl_c = CtrlCAsKey::new();
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
        let _ctrl_c = CtrlCAsKey::new();
        let term = console::Term::stderr();
        let mut shown = String::new();
        let _ = self.theme.format_password_prompt(&mut shown, prompt);
        loop {
            term.write_str(&shown).map_err(prompt_io)?;
            let secret = hidden::read_line()?;
            term.clear_line().map_err(prompt_io)?;
            if !secret.is_empty() {
                let mut done = String::new();
                let _ = self
                    .theme
                    .format_password_prompt_selection(&mut done, prompt);
                term.write_line(&done).map_err(prompt_io)?;
                return Ok(secret);
            }
        }
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        let _ctrl_c = CtrlCAsKey::new();
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

fn prompt_io(error: std::io::Error) -> CommandError {
    interrupted(dialoguer::Error::IO(error))
}

/// Hidden input read in raw mode, where Ctrl-C is a key like any other. dialoguer's password
/// prompt reads a cooked line with echo off: Ctrl-C there is a real SIGINT, which either kills
/// the process with echo still off or, ignored, leaves the prompt waiting.
#[cfg(unix)]
mod hidden {
    use super::{cancelled_by_ctrl_c, prompt_io};
    use crate::error::Result;

    const CTRL_C: u8 = 0x03;
    const CTRL_D: u8 = 0x04;
    const BACKSPACE: [u8; 2] = [0x7f, 0x08];

    pub(super) fn read_line() -> Result<String> {
        let fd = libc::STDIN_FILENO;
        // SAFETY: tcgetattr fills the struct it is given; it is only used when that succeeded.
        let mut original = unsafe { std::mem::zeroed::<libc::termios>() };
        if unsafe { libc::tcgetattr(fd, &mut original) } != 0 {
            return Err(prompt_io(std::io::Error::last_os_error()));
        }
        let mut raw = original;
        raw.c_lflag &= !(libc::ECHO | libc::ICANON | libc::ISIG | libc::IEXTEN);
        // SAFETY: a valid termios for this terminal; the original is restored below.
        unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, &raw) };
        let bytes = read_until_enter(fd);
        unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, &original) };
        let bytes = bytes?;
        String::from_utf8(bytes)
            .map_err(|_| crate::error::CommandError::usage("the secret is not valid UTF-8"))
    }

    fn read_until_enter(fd: libc::c_int) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        loop {
            let mut byte = 0u8;
            // SAFETY: reads at most one byte into `byte`.
            let read = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
            if read < 0 {
                let error = std::io::Error::last_os_error();
                if error.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(prompt_io(error));
            }
            match byte {
                _ if read == 0 => return Err(prompt_io(std::io::ErrorKind::UnexpectedEof.into())),
                b'\r' | b'\n' => return Ok(bytes),
                CTRL_C | CTRL_D => return Err(cancelled_by_ctrl_c()),
                _ if BACKSPACE.contains(&byte) => {
                    // One character back: its continuation bytes, then its first byte.
                    while bytes.pop().is_some_and(|b| b & 0xC0 == 0x80) {}
                }
                _ if byte < 0x20 => {}
                _ => bytes.push(byte),
            }
        }
    }
}

#[cfg(not(unix))]
mod hidden {
    use super::interrupted;
    use crate::error::Result;

    pub(super) fn read_line() -> Result<String> {
        console::Term::stderr()
            .read_secure_line()
            .map_err(|e| interrupted(dialoguer::Error::IO(e)))
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
