//! Safe edits of the features file for `roster features enable|disable NAME`.
//!
//! The file belongs to the operator: it carries their comments and their reasons for each flag.
//! So an edit touches only the lines that hold the name being moved (or adds one line), checks
//! the result parses to exactly the intended change, and replaces the file atomically so the
//! running server never reads half of it.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use roster_app::model::{Feature, FeatureSource};

use crate::file::{self, MAX_FILE_BYTES, ReadError};
use crate::parser::{self, Document, ListKey, ListSpan, ParseError, TokenKind};

/// What [`set_feature`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOutcome {
    /// The feature was already in the wanted list and absent from the other; the file was
    /// not touched.
    Unchanged,
    /// The file was rewritten.
    Updated,
    /// There was no file; it was created from [`default_file_contents`] plus the change.
    Created,
}

impl EditOutcome {
    /// Whether the file on disk changed.
    pub fn changed(self) -> bool {
        self != EditOutcome::Unchanged
    }
}

/// Why [`set_feature`] left the file alone. Messages are complete sentences for the CLI; they
/// include their cause, so callers print them with `{}` and need not walk `source()`.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read features file {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("features file {} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("features file {} is larger than {MAX_FILE_BYTES} bytes", path.display())]
    TooLarge { path: PathBuf },
    /// The file does not parse: editing it could only guess at what the operator meant.
    #[error("refusing to edit features file {}: {cause}; fix it by hand first", path.display())]
    Invalid { path: PathBuf, cause: ParseError },
    /// The layout-keeping edit did not produce exactly the intended change (an unusual layout);
    /// nothing was written.
    #[error("refusing to write features file {}: {reason}; please edit it by hand", path.display())]
    Unsafe { path: PathBuf, reason: String },
    #[error("cannot write features file {}: {cause}", path.display())]
    Write { path: PathBuf, cause: io::Error },
}

/// Puts `feature` in `enabledFeatures` (if `enabled`) or `disabledFeatures`, removing it from
/// the other list, and keeps every other byte of the file as it was. A missing file is created
/// from [`default_file_contents`]. A symlink is followed and its target edited, so an operator's
/// link to a file kept elsewhere stays a link.
pub fn set_feature(path: &Path, feature: Feature, enabled: bool) -> Result<EditOutcome, EditError> {
    let path = real_path(path)?;
    let existing = file::read(&path).map_err(|error| match error {
        ReadError::NotAFile => EditError::NotAFile { path: path.clone() },
        ReadError::TooLarge => EditError::TooLarge { path: path.clone() },
        ReadError::Io(cause) => EditError::Read {
            path: path.clone(),
            cause,
        },
    })?;
    let created = existing.is_none();
    let original = match &existing {
        Some(bytes) => parser::decode(bytes)
            .map_err(|cause| EditError::Invalid {
                path: path.clone(),
                cause,
            })?
            .to_owned(),
        None => default_file_contents(),
    };
    let edited = match edit_text(&original, feature, enabled) {
        Ok(Some(edited)) => edited,
        Ok(None) if !created => return Ok(EditOutcome::Unchanged),
        // Unreachable with the shipped template (it lists nothing), but a missing file must
        // still end up existing.
        Ok(None) => original,
        Err(EditFailure::Invalid(cause)) => {
            return Err(EditError::Invalid {
                path: path.clone(),
                cause,
            });
        }
        Err(EditFailure::Unsafe(reason)) => return Err(EditError::Unsafe { path, reason }),
    };
    let previous = if created {
        None
    } else {
        fs::metadata(&path).ok()
    };
    write_atomically(&path, edited.as_bytes(), previous.as_ref())
        .map_err(|cause| EditError::Write { path, cause })?;
    Ok(if created {
        EditOutcome::Created
    } else {
        EditOutcome::Updated
    })
}

/// The path to write: a symlink's target, so the rename replaces the file, not the link.
fn real_path(path: &Path) -> Result<PathBuf, EditError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|cause| EditError::Read {
                path: path.to_owned(),
                cause,
            })
        }
        _ => Ok(path.to_owned()),
    }
}

/// The commented file shipped as `features/_features.conf`: every catalog flag with its default
/// and what it does, and the advice to switch public registration off in production. Both
/// lists are empty, so the shipped file keeps every default in force.
pub fn default_file_contents() -> String {
    let mut text = String::from(
        "# Roster feature flags.
#
# Roster reads this file at start-up: a syntax error or an unknown name stops the service
# with a message that names the line. While running, Roster re-reads the file and applies an
# edit within 2 seconds, without a restart. A broken edit (a syntax error, an unknown name,
# a deleted or unreadable file) is logged and shown at GET /v1/features as \"file.error\",
# and the last good state stays in force until the file is fixed.
#
# Syntax: two optional lists of feature names, enabledFeatures and disabledFeatures, one name
# per line or separated by commas. A feature in neither list keeps its default; a name in
# both lists stays disabled. Comments start with \"#\" or \"//\".
#
# Instead of editing by hand you can run:
#     roster features list
#     roster features enable NAME
#     roster features disable NAME
#
# Features, with their defaults:
#
",
    );
    for feature in Feature::ALL {
        let default = if feature.default_enabled() {
            "on"
        } else {
            "off"
        };
        // Writing to a String cannot fail.
        let _ = writeln!(text, "#   {} (default: {default})", feature.name());
        let _ = writeln!(text, "#       {}", feature.description());
    }
    text.push_str(
        "#
# Production advice: unless anyone on the internet should be able to create an account,
# switch public registration off by uncommenting account-registration in disabledFeatures
# below (or run: roster features disable account-registration). Administrators can still
# create accounts.

enabledFeatures = [
]

disabledFeatures = [
    # account-registration   // production: only administrators create accounts
]
",
    );
    text
}

/// Why an edit of the text was not made.
#[derive(Debug, PartialEq, Eq)]
enum EditFailure {
    Invalid(ParseError),
    Unsafe(String),
}

/// One replacement of `start..end` in the text.
#[derive(Debug)]
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

/// The file text with `feature` moved to the wanted list, or `None` when it is already there
/// and only there. Pure, so every layout rule is unit-tested without touching the disk.
fn edit_text(text: &str, feature: Feature, enabled: bool) -> Result<Option<String>, EditFailure> {
    let (bom, body) = parser::strip_bom(text);
    let document = parser::parse_document(body).map_err(EditFailure::Invalid)?;
    let (target, other) = if enabled {
        (ListKey::Enabled, ListKey::Disabled)
    } else {
        (ListKey::Disabled, ListKey::Enabled)
    };
    let in_target = document
        .list(target)
        .is_some_and(|list| list.contains(feature));
    let other_list = document.list(other).filter(|list| list.contains(feature));
    if in_target && other_list.is_none() {
        return Ok(None);
    }

    let eol = if body.contains("\r\n") { "\r\n" } else { "\n" };
    let mut splices = Vec::new();
    if let Some(list) = other_list {
        remove(body, &document, list, feature, &mut splices);
    }
    if !in_target {
        insert(body, &document, target, feature, eol, &mut splices);
    }
    // Back to front, so earlier offsets stay valid; at one offset the longer (a deleted line)
    // goes first so an insertion there is not swallowed.
    splices.sort_by_key(|splice| std::cmp::Reverse((splice.start, splice.end)));
    let mut edited = body.to_owned();
    for splice in splices {
        edited.replace_range(splice.start..splice.end, &splice.text);
    }

    verify(&document, &edited, feature, enabled)?;
    Ok(Some(format!("{bom}{edited}")))
}

/// Removes every occurrence of `feature` from `list`: a line holding nothing else goes
/// entirely (its trailing comment described that entry); otherwise only the names on that line
/// are rewritten.
fn remove(
    body: &str,
    document: &Document,
    list: &ListSpan,
    feature: Feature,
    splices: &mut Vec<Splice>,
) {
    let tokens = &document.tokens;
    let item_at = |index: usize| {
        list.items
            .iter()
            .find(|&&(item, _)| item == index)
            .map(|&(_, feature)| feature)
    };
    let inside = |index: usize| index > list.open && index < list.close;
    let mut lines: Vec<usize> = list
        .items
        .iter()
        .filter(|&&(_, item)| item == feature)
        .map(|&(index, _)| tokens[index].line)
        .collect();
    lines.dedup();

    for line in lines {
        let on_line: Vec<usize> = (0..tokens.len())
            .filter(|&index| tokens[index].line == line && tokens[index].kind != TokenKind::Newline)
            .collect();
        let only_this = on_line.iter().all(|&index| {
            inside(index)
                && (tokens[index].kind == TokenKind::Comma || item_at(index) == Some(feature))
        });
        let first = tokens[on_line[0]];
        if only_this {
            splices.push(Splice {
                start: line_start(body, first.start),
                end: line_end(body, first.start),
                text: String::new(),
            });
            continue;
        }
        let segment: Vec<usize> = on_line.into_iter().filter(|&index| inside(index)).collect();
        let kept: Vec<&str> = segment
            .iter()
            .filter(|&&index| item_at(index).is_some_and(|item| item != feature))
            .map(|&index| &body[tokens[index].start..tokens[index].end])
            .collect();
        let (head, tail) = (tokens[segment[0]], tokens[segment[segment.len() - 1]]);
        let mut start = head.start;
        let text = if kept.is_empty() {
            // `[ metrics ]` becomes `[ ]`, not `[  ]`.
            while start > 0 && matches!(body.as_bytes()[start - 1], b' ' | b'\t') {
                start -= 1;
            }
            String::new()
        } else {
            let leading_comma = if head.kind == TokenKind::Comma {
                ", "
            } else {
                ""
            };
            let trailing_comma = if tail.kind == TokenKind::Comma {
                ","
            } else {
                ""
            };
            format!("{leading_comma}{}{trailing_comma}", kept.join(", "))
        };
        splices.push(Splice {
            start,
            end: tail.end,
            text,
        });
    }
}

/// Adds `feature` to the `key` list: on a new line before a `]` that starts its line (indented
/// like the list's last name), inline in a one-line list, or as a new list at the end.
fn insert(
    body: &str,
    document: &Document,
    key: ListKey,
    feature: Feature,
    eol: &str,
    splices: &mut Vec<Splice>,
) {
    let tokens = &document.tokens;
    let name = feature.name();
    let Some(list) = document.list(key) else {
        let mut text = String::new();
        if !body.is_empty() {
            if !body.ends_with('\n') {
                text.push_str(eol);
            }
            if !body.trim_end_matches([' ', '\t', '\r']).ends_with("\n\n") {
                text.push_str(eol);
            }
        }
        let _ = write!(text, "{} = [{eol}    {name}{eol}]{eol}", key.name());
        splices.push(Splice {
            start: body.len(),
            end: body.len(),
            text,
        });
        return;
    };
    let close = tokens[list.close];
    let previous = (list.open..list.close)
        .rev()
        .map(|index| tokens[index])
        .find(|token| token.kind != TokenKind::Newline)
        .unwrap_or(tokens[list.open]);
    if previous.line == close.line {
        let text = match previous.kind {
            TokenKind::Word => format!(", {name}"),
            TokenKind::Comma => format!(" {name}"),
            _ => name.to_owned(),
        };
        splices.push(Splice {
            start: previous.end,
            end: previous.end,
            text,
        });
        return;
    }
    let indent = list
        .items
        .iter()
        .rev()
        .map(|&(index, _)| {
            let start = tokens[index].start;
            &body[line_start(body, start)..start]
        })
        .find(|before| before.chars().all(|c| c == ' ' || c == '\t'))
        .unwrap_or("    ");
    let at = line_start(body, close.start);
    splices.push(Splice {
        start: at,
        end: at,
        text: format!("{indent}{name}{eol}"),
    });
}

/// Re-parses the edited text and checks that it differs from the original in exactly the one
/// intended way; anything else means the layout was one the edit rules did not foresee.
fn verify(
    original: &Document,
    edited: &str,
    feature: Feature,
    enabled: bool,
) -> Result<(), EditFailure> {
    let unsafe_edit = |reason: String| EditFailure::Unsafe(reason);
    let document = parser::parse_document(edited)
        .map_err(|error| unsafe_edit(format!("the edited file would not parse ({error})")))?;
    let (before, after) = (original.to_file(), document.to_file());
    let (want_list, other_list) = if enabled {
        (&after.enabled, &after.disabled)
    } else {
        (&after.disabled, &after.enabled)
    };
    if !want_list.contains(&feature) || other_list.contains(&feature) {
        return Err(unsafe_edit(format!(
            "the edit did not move {feature} into the right list"
        )));
    }
    let want_source = if enabled {
        FeatureSource::EnabledList
    } else {
        FeatureSource::DisabledList
    };
    for (old, new) in before.resolve().iter().zip(after.resolve().iter()) {
        let as_wanted = if new.feature == feature {
            new.enabled == enabled && new.source == want_source
        } else {
            old == new
        };
        if !as_wanted {
            return Err(unsafe_edit(format!(
                "the edit would change {} unexpectedly",
                new.feature
            )));
        }
    }
    Ok(())
}

/// Offset of the start of the line holding `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |newline| newline + 1)
}

/// Offset just past the newline ending the line holding `offset` (or the end of the text).
fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |newline| offset + newline + 1)
}

/// Replaces `path` with `contents` so that a reader sees the old file or the new one, never a
/// mix: write a temporary file in the same directory, copy the old file's permissions (and,
/// where allowed, owner), fsync, rename over, fsync the directory.
fn write_atomically(
    path: &Path,
    contents: &[u8],
    previous: Option<&fs::Metadata>,
) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(directory)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?
        .to_string_lossy();

    let mut attempt = 0;
    let (temporary, mut file) = loop {
        let candidate =
            directory.join(format!(".{file_name}.{}.{attempt}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => break (candidate, file),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    };

    let result = (|| {
        file.write_all(contents)?;
        if let Some(previous) = previous {
            file.set_permissions(previous.permissions())?;
            keep_owner(&file, previous);
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, path)?;
        // Makes the rename itself durable; not every platform can open a directory.
        if let Ok(directory) = fs::File::open(directory) {
            let _ = directory.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Best effort: when root edits a file owned by the service user, the new file stays theirs.
/// Failing (not root) is fine: the permissions were copied.
#[cfg(unix)]
fn keep_owner(file: &fs::File, previous: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(current) = file.metadata() else {
        return;
    };
    if (current.uid(), current.gid()) != (previous.uid(), previous.gid()) {
        let _ = std::os::unix::fs::fchown(file, Some(previous.uid()), Some(previous.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _previous: &fs::Metadata) {}

#[cfg(test)]
mod tests {
    use super::*;
    use Feature::{AccountRegistration as Reg, Healthchecks, Metrics, Openapi};

    fn edit(text: &str, feature: Feature, enabled: bool) -> String {
        edit_text(text, feature, enabled)
            .unwrap_or_else(|error| panic!("edit failed: {error:?}"))
            .expect("expected a change")
    }

    fn state(text: &str, feature: Feature) -> (bool, FeatureSource) {
        let states = parser::parse(text).unwrap().resolve();
        let state = states
            .iter()
            .find(|state| state.feature == feature)
            .unwrap();
        (state.enabled, state.source)
    }

    const OPERATOR_FILE: &str = "\
# Our flags. Ticket OPS-12.
// second comment style

enabledFeatures = [
    # some-feature
    metrics      // scraped by prometheus-2
]

disabledFeatures = [
    account-registration   // public signup off: only the admin route creates accounts
    openapi,  # not public
]
# trailing comment
";

    #[test]
    fn disabling_keeps_every_other_byte() {
        let edited = edit(OPERATOR_FILE, Metrics, false);
        assert_eq!(
            edited,
            "\
# Our flags. Ticket OPS-12.
// second comment style

enabledFeatures = [
    # some-feature
]

disabledFeatures = [
    account-registration   // public signup off: only the admin route creates accounts
    openapi,  # not public
    metrics
]
# trailing comment
"
        );
    }

    #[test]
    fn enabling_keeps_every_other_byte() {
        let edited = edit(OPERATOR_FILE, Reg, true);
        assert_eq!(
            edited,
            "\
# Our flags. Ticket OPS-12.
// second comment style

enabledFeatures = [
    # some-feature
    metrics      // scraped by prometheus-2
    account-registration
]

disabledFeatures = [
    openapi,  # not public
]
# trailing comment
"
        );
    }

    #[test]
    fn enable_then_disable_round_trips() {
        let mut text = OPERATOR_FILE.to_owned();
        for feature in Feature::ALL {
            for enabled in [true, false, true] {
                text = edit_text(&text, feature, enabled)
                    .unwrap()
                    .unwrap_or(text.clone());
                let want = if enabled {
                    FeatureSource::EnabledList
                } else {
                    FeatureSource::DisabledList
                };
                assert_eq!(state(&text, feature), (enabled, want), "{feature}\n{text}");
            }
        }
        assert!(text.starts_with("# Our flags. Ticket OPS-12.\n// second comment style\n\n"));
        assert!(text.ends_with("]\n# trailing comment\n"));
    }

    #[test]
    fn edit_that_is_already_in_force_is_unchanged() {
        assert_eq!(edit_text(OPERATOR_FILE, Metrics, true), Ok(None));
        assert_eq!(edit_text(OPERATOR_FILE, Openapi, false), Ok(None));
    }

    #[test]
    fn a_name_in_both_lists_is_moved() {
        let text = "enabledFeatures = [metrics]\ndisabledFeatures = [metrics]\n";
        assert_eq!(
            edit(text, Metrics, true),
            "enabledFeatures = [metrics]\ndisabledFeatures = []\n"
        );
        assert_eq!(
            edit(text, Metrics, false),
            "enabledFeatures = []\ndisabledFeatures = [metrics]\n"
        );
    }

    #[test]
    fn one_line_lists_are_edited_inline() {
        let cases = [
            (
                "enabledFeatures = [metrics, openapi]  // c\n",
                Metrics,
                false,
                "enabledFeatures = [openapi]  // c\n\ndisabledFeatures = [\n    metrics\n]\n",
            ),
            (
                "enabledFeatures = [metrics, openapi]\ndisabledFeatures = []\n",
                Openapi,
                false,
                "enabledFeatures = [metrics]\ndisabledFeatures = [openapi]\n",
            ),
            (
                "enabledFeatures = [ metrics ]\ndisabledFeatures = [healthchecks]\n",
                Metrics,
                false,
                "enabledFeatures = [ ]\ndisabledFeatures = [healthchecks, metrics]\n",
            ),
            (
                "disabledFeatures = [healthchecks,]\n",
                Metrics,
                false,
                "disabledFeatures = [healthchecks, metrics]\n",
            ),
            (
                "disabledFeatures = [metrics, metrics, openapi]\n",
                Metrics,
                true,
                "disabledFeatures = [openapi]\n\nenabledFeatures = [\n    metrics\n]\n",
            ),
            (
                "enabledFeatures = [\n  healthchecks,\n  openapi, metrics,\n]\n",
                Openapi,
                false,
                "enabledFeatures = [\n  healthchecks,\n  metrics,\n]\n\ndisabledFeatures = [\n    openapi\n]\n",
            ),
            (
                "disabledFeatures = [\n\thealthchecks\n\topenapi ]\n",
                Metrics,
                false,
                "disabledFeatures = [\n\thealthchecks\n\topenapi, metrics ]\n",
            ),
            (
                "disabledFeatures = [\n\thealthchecks\n]\n",
                Metrics,
                false,
                "disabledFeatures = [\n\thealthchecks\n\tmetrics\n]\n",
            ),
        ];
        for (before, feature, enabled, after) in cases {
            assert_eq!(edit(before, feature, enabled), after, "from {before:?}");
        }
    }

    #[test]
    fn missing_keys_are_appended() {
        assert_eq!(
            edit("", Metrics, false),
            "disabledFeatures = [\n    metrics\n]\n"
        );
        assert_eq!(
            edit("# only a comment", Metrics, true),
            "# only a comment\n\nenabledFeatures = [\n    metrics\n]\n"
        );
        assert_eq!(
            edit("# c\n\n", Metrics, true),
            "# c\n\nenabledFeatures = [\n    metrics\n]\n"
        );
    }

    #[test]
    fn crlf_and_bom_are_kept() {
        let text = "\u{feff}# c\r\ndisabledFeatures = [\r\n    openapi\r\n]\r\n";
        assert_eq!(
            edit(text, Healthchecks, false),
            "\u{feff}# c\r\ndisabledFeatures = [\r\n    openapi\r\n    healthchecks\r\n]\r\n"
        );
        assert_eq!(
            edit(text, Openapi, true),
            "\u{feff}# c\r\ndisabledFeatures = [\r\n]\r\n\r\nenabledFeatures = [\r\n    openapi\r\n]\r\n"
        );
    }

    #[test]
    fn invalid_text_is_refused() {
        let failure = edit_text("enabledFeatures = [metric]\n", Metrics, true).unwrap_err();
        match failure {
            EditFailure::Invalid(error) => assert_eq!(error.line(), 1),
            EditFailure::Unsafe(reason) => panic!("unexpected {reason}"),
        }
    }

    #[test]
    fn a_layout_the_rules_cannot_handle_is_refused_not_written() {
        // Removing the first name would leave a comma right after '['.
        let failure =
            edit_text("disabledFeatures = [metrics\n, openapi]\n", Metrics, true).unwrap_err();
        assert!(matches!(failure, EditFailure::Unsafe(_)), "{failure:?}");
    }

    #[test]
    fn the_shipped_file_is_the_template_and_keeps_the_defaults() {
        let shipped = include_str!("../../../features/_features.conf");
        assert_eq!(
            shipped,
            default_file_contents(),
            "features/_features.conf differs from default_file_contents(); \
             regenerate it with `cargo test -p roster-flags -- --ignored regenerate`"
        );
        for state in parser::parse(shipped).unwrap().resolve() {
            assert_eq!(state.enabled, state.feature.default_enabled(), "{state:?}");
            assert_eq!(state.source, FeatureSource::Default, "{state:?}");
        }
        for feature in Feature::ALL {
            assert!(shipped.contains(feature.name()), "{feature} not documented");
        }
    }

    #[test]
    #[ignore = "writes features/_features.conf; run after changing the catalog or the template"]
    fn regenerate_shipped_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../features/_features.conf");
        fs::write(path, default_file_contents()).unwrap();
    }

    #[test]
    fn disabling_registration_in_the_template_keeps_the_advice() {
        let edited = edit(&default_file_contents(), Reg, false);
        assert!(edited.contains(
            "disabledFeatures = [\n    # account-registration   // production: only administrators create accounts\n    account-registration\n]\n"
        ));
        assert_eq!(state(&edited, Reg), (false, FeatureSource::DisabledList));
    }

    // On disk.

    #[test]
    fn set_feature_creates_a_missing_file_from_the_template() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("features/_features.conf");
        assert_eq!(
            set_feature(&path, Reg, false).unwrap(),
            EditOutcome::Created
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Roster feature flags."));
        assert_eq!(state(&text, Reg), (false, FeatureSource::DisabledList));
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn set_feature_updates_then_reports_no_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("_features.conf");
        fs::write(&path, OPERATOR_FILE).unwrap();
        let outcome = set_feature(&path, Healthchecks, false).unwrap();
        assert_eq!(outcome, EditOutcome::Updated);
        assert!(outcome.changed());
        let once = fs::read(&path).unwrap();
        let outcome = set_feature(&path, Healthchecks, false).unwrap();
        assert_eq!(outcome, EditOutcome::Unchanged);
        assert!(!outcome.changed());
        assert_eq!(fs::read(&path).unwrap(), once);
        assert_eq!(
            state(&String::from_utf8(once).unwrap(), Healthchecks),
            (false, FeatureSource::DisabledList)
        );
    }

    #[test]
    fn set_feature_refuses_an_invalid_file_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("_features.conf");
        let broken = "enabledFeatures = [\n  metrics\n";
        fs::write(&path, broken).unwrap();
        let error = set_feature(&path, Metrics, false).unwrap_err();
        assert!(matches!(error, EditError::Invalid { .. }), "{error}");
        assert!(error.to_string().contains("line 3"), "{error}");
        assert!(error.to_string().contains("refusing to edit"), "{error}");
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);
    }

    #[test]
    fn set_feature_refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let error = set_feature(dir.path(), Metrics, false).unwrap_err();
        assert!(matches!(error, EditError::NotAFile { .. }), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn set_feature_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("_features.conf");
        fs::write(&path, OPERATOR_FILE).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        set_feature(&path, Openapi, true).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn set_feature_edits_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        let link = dir.path().join("_features.conf");
        fs::write(&real, "").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        set_feature(&link, Metrics, false).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            state(&fs::read_to_string(&real).unwrap(), Metrics),
            (false, FeatureSource::DisabledList)
        );
    }
}
