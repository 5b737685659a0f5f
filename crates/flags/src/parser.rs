//! Parser for `features/_features.conf`.
//!
//! The syntax is the upstream product's: two optional keys, `enabledFeatures` and
//! `disabledFeatures`, each a `[ ... ]` list of bare feature names separated by newlines and/or
//! commas; `#` and `//` start comments that run to the end of the line. The parser is strict on
//! purpose: the file decides whether strangers may create accounts, so anything it does not
//! understand is an error naming the line rather than a guess.
//!
//! Besides [`parse`], the crate-internal [`parse_document`] keeps every token's byte span so the
//! editor can change one name and leave the operator's layout alone.

use std::fmt;

use roster_app::model::{Feature, FeatureSource, FeatureState};

/// The two lists a features file may hold, as parsed. Order follows the file; a name listed
/// twice in one list appears once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureFile {
    /// Names listed in `enabledFeatures`.
    pub enabled: Vec<Feature>,
    /// Names listed in `disabledFeatures`.
    pub disabled: Vec<Feature>,
}

impl FeatureFile {
    /// Every catalog feature's state under this file, in catalog order. A name in both lists
    /// stays disabled: switching something off must not be undone by a stray enable.
    pub fn resolve(&self) -> Vec<FeatureState> {
        Feature::ALL
            .into_iter()
            .map(|feature| {
                let (enabled, source) = if self.disabled.contains(&feature) {
                    (false, FeatureSource::DisabledList)
                } else if self.enabled.contains(&feature) {
                    (true, FeatureSource::EnabledList)
                } else {
                    (feature.default_enabled(), FeatureSource::Default)
                };
                FeatureState {
                    feature,
                    enabled,
                    source,
                }
            })
            .collect()
    }
}

/// Why a features file was rejected: the 1-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("features file line {line}: {message}")]
pub struct ParseError {
    line: usize,
    kind: ParseErrorKind,
    message: String,
}

/// The kind of a [`ParseError`], in words that never quote the file: what anonymous callers
/// of `GET /v1/features` may see (the full message, which quotes the line, is for the
/// operator's log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Bytes that are not UTF-8 text.
    NotText,
    /// A character that has no place in the file (a quote, punctuation).
    UnexpectedCharacter,
    /// A key other than `enabledFeatures` or `disabledFeatures`.
    UnknownKey,
    /// The same list key twice.
    DuplicateKey,
    /// A name that is not in the feature catalog.
    UnknownFeature,
    /// Anything else out of place: a missing `=`, `[`, `]` or `,`, a nested list.
    Syntax,
}

impl std::fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParseErrorKind::NotText => "not valid UTF-8 text",
            ParseErrorKind::UnexpectedCharacter => "unexpected character",
            ParseErrorKind::UnknownKey => "unknown key",
            ParseErrorKind::DuplicateKey => "duplicate key",
            ParseErrorKind::UnknownFeature => "unknown feature name",
            ParseErrorKind::Syntax => "syntax error",
        })
    }
}

impl ParseError {
    fn new(line: usize, kind: ParseErrorKind, message: impl Into<String>) -> Self {
        Self {
            line,
            kind,
            message: message.into(),
        }
    }

    /// What kind of problem it is, without quoting the file.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// `features file line N: <kind>`: the line and the kind, never the line's content.
    pub fn summary(&self) -> String {
        format!("features file line {}: {}", self.line, self.kind)
    }

    /// The 1-based line the problem is on.
    pub fn line(&self) -> usize {
        self.line
    }

    /// What is wrong, without the line prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Parses the text of a features file. A leading UTF-8 byte order mark is ignored, as are
/// carriage returns, so files saved by Windows editors work.
pub fn parse(text: &str) -> Result<FeatureFile, ParseError> {
    parse_document(strip_bom(text).1).map(|document| document.to_file())
}

/// Parses raw file bytes: checks they are UTF-8 (naming the line of the first bad byte) and
/// then [`parse`]s them.
pub fn parse_bytes(bytes: &[u8]) -> Result<FeatureFile, ParseError> {
    parse(decode(bytes)?)
}

/// The bytes as text, or an error naming the line of the first byte that is not UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = valid.split(|&byte| byte == b'\n').count();
        ParseError::new(
            line,
            ParseErrorKind::NotText,
            "the file is not valid UTF-8 text",
        )
    })
}

/// Splits off a leading UTF-8 byte order mark: `(bom, rest)`.
pub(crate) fn strip_bom(text: &str) -> (&str, &str) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    }
}

/// Which of the two lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKey {
    Enabled,
    Disabled,
}

impl ListKey {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ListKey::Enabled => "enabledFeatures",
            ListKey::Disabled => "disabledFeatures",
        }
    }

    fn from_name(name: &str) -> Option<ListKey> {
        match name {
            "enabledFeatures" => Some(ListKey::Enabled),
            "disabledFeatures" => Some(ListKey::Disabled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A bare word: a key or a feature name.
    Word,
    Equals,
    Open,
    Close,
    Comma,
    Newline,
}

/// One token with its byte span in the (BOM-less) text and its 1-based line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) line: usize,
}

/// One `key = [ ... ]` entry, by token index.
#[derive(Debug, Clone)]
pub(crate) struct ListSpan {
    pub(crate) key: ListKey,
    pub(crate) open: usize,
    pub(crate) close: usize,
    /// Every name in the list, duplicates included, with its token index.
    pub(crate) items: Vec<(usize, Feature)>,
}

impl ListSpan {
    pub(crate) fn contains(&self, feature: Feature) -> bool {
        self.items.iter().any(|&(_, item)| item == feature)
    }
}

/// A parsed file that remembers where everything is.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) tokens: Vec<Token>,
    pub(crate) lists: Vec<ListSpan>,
}

impl Document {
    pub(crate) fn list(&self, key: ListKey) -> Option<&ListSpan> {
        self.lists.iter().find(|list| list.key == key)
    }

    pub(crate) fn to_file(&self) -> FeatureFile {
        let collect = |key| {
            let mut features = Vec::new();
            for &(_, feature) in self.list(key).map_or(&[][..], |list| &list.items) {
                if !features.contains(&feature) {
                    features.push(feature);
                }
            }
            features
        };
        FeatureFile {
            enabled: collect(ListKey::Enabled),
            disabled: collect(ListKey::Disabled),
        }
    }
}

/// Characters a bare word may hold. Deliberately narrow, so that a quote, a brace or a
/// look-alike Unicode character is reported where it is instead of becoming part of a name.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// How a character the lexer rejects is shown in the message.
struct Shown(char);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        if c.is_ascii_graphic() {
            write!(f, "'{c}'")
        } else if c.is_control() || c.is_whitespace() || c == '\u{feff}' {
            write!(f, "U+{:04X}", u32::from(c))
        } else {
            write!(f, "'{c}' (U+{:04X})", u32::from(c))
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let single = |kind| Token {
            kind,
            start,
            end: start + c.len_utf8(),
            line,
        };
        match c {
            ' ' | '\t' | '\r' => {}
            '\n' => {
                tokens.push(single(TokenKind::Newline));
                line += 1;
            }
            '=' => tokens.push(single(TokenKind::Equals)),
            '[' => tokens.push(single(TokenKind::Open)),
            ']' => tokens.push(single(TokenKind::Close)),
            ',' => tokens.push(single(TokenKind::Comma)),
            '#' => skip_comment(&mut chars),
            '/' if chars.peek().is_some_and(|&(_, next)| next == '/') => skip_comment(&mut chars),
            '"' | '\'' => {
                return Err(ParseError::new(
                    line,
                    ParseErrorKind::UnexpectedCharacter,
                    "unexpected quote: feature names and keys are bare words, without quotes",
                ));
            }
            c if is_word_char(c) => {
                let mut end = start + c.len_utf8();
                while let Some(&(index, next)) = chars.peek() {
                    if !is_word_char(next) {
                        break;
                    }
                    end = index + next.len_utf8();
                    chars.next();
                }
                tokens.push(Token {
                    kind: TokenKind::Word,
                    start,
                    end,
                    line,
                });
            }
            other => {
                return Err(ParseError::new(
                    line,
                    ParseErrorKind::UnexpectedCharacter,
                    format!("unexpected character {}", Shown(other)),
                ));
            }
        }
    }
    Ok(tokens)
}

fn skip_comment(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) {
    // Stop before the newline so it still separates list items and counts as a line.
    while chars.next_if(|&(_, c)| c != '\n').is_some() {}
}

/// What a token looks like in an error message.
fn describe(text: &str, token: &Token) -> String {
    match token.kind {
        TokenKind::Newline => "the end of the line".to_owned(),
        TokenKind::Word => format!("\"{}\"", &text[token.start..token.end]),
        _ => format!("'{}'", &text[token.start..token.end]),
    }
}

/// Parses the file keeping token positions (the BOM, if any, must already be stripped).
pub(crate) fn parse_document(text: &str) -> Result<Document, ParseError> {
    let tokens = tokenize(text)?;
    let last_line = text.matches('\n').count() + 1;
    let mut lists: Vec<ListSpan> = Vec::new();
    let mut key_lines: Vec<usize> = Vec::new();
    let mut index = 0;
    let word = |token: &Token| &text[token.start..token.end];

    while let Some(token) = tokens.get(index) {
        match token.kind {
            TokenKind::Newline => {
                index += 1;
                continue;
            }
            TokenKind::Word => {}
            _ => {
                return Err(ParseError::new(
                    token.line,
                    ParseErrorKind::Syntax,
                    format!(
                        "unexpected {}; expected enabledFeatures or disabledFeatures",
                        describe(text, token)
                    ),
                ));
            }
        }
        let name = word(token);
        let Some(key) = ListKey::from_name(name) else {
            return Err(ParseError::new(
                token.line,
                ParseErrorKind::UnknownKey,
                format!("unknown key \"{name}\"; expected enabledFeatures or disabledFeatures"),
            ));
        };
        if let Some(previous) = lists.iter().position(|list| list.key == key) {
            return Err(ParseError::new(
                token.line,
                ParseErrorKind::DuplicateKey,
                format!(
                    "duplicate key {name} (first on line {}); put all its names in one list",
                    key_lines[previous]
                ),
            ));
        }
        let key_line = token.line;

        match tokens.get(index + 1) {
            Some(next) if next.kind == TokenKind::Equals => {}
            Some(next) => {
                return Err(ParseError::new(
                    next.line,
                    ParseErrorKind::Syntax,
                    format!("expected '=' after {name}, found {}", describe(text, next)),
                ));
            }
            None => {
                return Err(ParseError::new(
                    last_line,
                    ParseErrorKind::Syntax,
                    format!("expected '=' after {name}, found the end of the file"),
                ));
            }
        }
        let open = index + 2;
        match tokens.get(open) {
            Some(next) if next.kind == TokenKind::Open => {}
            Some(next) => {
                return Err(ParseError::new(
                    next.line,
                    ParseErrorKind::Syntax,
                    format!(
                        "expected '[' after {name} =, found {}",
                        describe(text, next)
                    ),
                ));
            }
            None => {
                return Err(ParseError::new(
                    last_line,
                    ParseErrorKind::Syntax,
                    format!("expected '[' after {name} =, found the end of the file"),
                ));
            }
        }

        let (items, close) = parse_items(text, &tokens, open, last_line)?;

        // Nothing but a comment may follow the closing bracket on its line.
        if let Some(next) = tokens
            .get(close + 1)
            .filter(|next| next.kind != TokenKind::Newline)
        {
            return Err(ParseError::new(
                next.line,
                ParseErrorKind::Syntax,
                format!("unexpected {} after ']'", describe(text, next)),
            ));
        }

        lists.push(ListSpan {
            key,
            open,
            close,
            items,
        });
        key_lines.push(key_line);
        index = close + 1;
    }

    Ok(Document { tokens, lists })
}

/// Reads the items of the list whose `[` is `tokens[open]`; returns them and the index of `]`.
fn parse_items(
    text: &str,
    tokens: &[Token],
    open: usize,
    last_line: usize,
) -> Result<(Vec<(usize, Feature)>, usize), ParseError> {
    #[derive(PartialEq)]
    enum Last {
        Open,
        Name,
        Comma,
    }
    let open_line = tokens[open].line;
    let unclosed = |line| {
        ParseError::new(
            line,
            ParseErrorKind::Syntax,
            format!("missing ']' to close the list opened on line {open_line}"),
        )
    };
    let mut items = Vec::new();
    let mut last = Last::Open;
    let mut newline_since_name = false;
    let mut index = open + 1;
    loop {
        let Some(token) = tokens.get(index) else {
            return Err(unclosed(last_line));
        };
        match token.kind {
            TokenKind::Newline => newline_since_name = true,
            TokenKind::Close => return Ok((items, index)),
            TokenKind::Comma => {
                if last != Last::Name {
                    return Err(ParseError::new(
                        token.line,
                        ParseErrorKind::Syntax,
                        "unexpected ','; a comma must follow a feature name",
                    ));
                }
                last = Last::Comma;
            }
            TokenKind::Word => {
                let name = &text[token.start..token.end];
                let followed_by_equals = tokens
                    .get(index + 1)
                    .is_some_and(|next| next.kind == TokenKind::Equals);
                if ListKey::from_name(name).is_some() || followed_by_equals {
                    return Err(unclosed(token.line));
                }
                if last == Last::Name && !newline_since_name {
                    return Err(ParseError::new(
                        token.line,
                        ParseErrorKind::Syntax,
                        format!(
                            "missing ',' before \"{name}\"; separate names with commas or newlines"
                        ),
                    ));
                }
                let Some(feature) = Feature::from_name(name) else {
                    return Err(ParseError::new(
                        token.line,
                        ParseErrorKind::UnknownFeature,
                        format!(
                            "unknown feature \"{name}\"; known features: {}",
                            Feature::known_names()
                        ),
                    ));
                };
                items.push((index, feature));
                last = Last::Name;
                newline_since_name = false;
            }
            TokenKind::Open => {
                return Err(ParseError::new(
                    token.line,
                    ParseErrorKind::Syntax,
                    "unexpected '['; lists cannot be nested",
                ));
            }
            TokenKind::Equals => {
                return Err(ParseError::new(
                    token.line,
                    ParseErrorKind::Syntax,
                    format!(
                        "unexpected '='; is the ']' of the list opened on line {open_line} missing?"
                    ),
                ));
            }
        }
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Feature::{AccountRegistration as Reg, Healthchecks, Metrics, Openapi};

    /// `Ok((enabled, disabled))` or `Err((line, a substring of the message))`.
    type Expected = Result<(Vec<Feature>, Vec<Feature>), (usize, &'static str)>;

    #[expect(
        clippy::unnecessary_wraps,
        reason = "reads like the Err cases in the table"
    )]
    fn ok(enabled: &[Feature], disabled: &[Feature]) -> Expected {
        Ok((enabled.to_vec(), disabled.to_vec()))
    }

    fn err(line: usize, fragment: &'static str) -> Expected {
        Err((line, fragment))
    }

    #[test]
    fn parses_the_table_of_cases() {
        let cases: Vec<(&str, &str, Expected)> = vec![
            ("empty file", "", ok(&[], &[])),
            ("only blank lines", "\n\n   \n\t\n", ok(&[], &[])),
            ("only comments", "# one\n// two\n   # three\n", ok(&[], &[])),
            (
                "upstream example",
                "enabledFeatures = [\n    # some-feature\n]\ndisabledFeatures = [\n    account-registration   // public signup off\n]\n",
                ok(&[], &[Reg]),
            ),
            ("empty one-line list", "enabledFeatures = []", ok(&[], &[])),
            (
                "empty multi-line list",
                "disabledFeatures = [\n\n]\n",
                ok(&[], &[]),
            ),
            (
                "one-line list with commas",
                "enabledFeatures = [metrics, openapi]\n",
                ok(&[Metrics, Openapi], &[]),
            ),
            (
                "one-line list without spaces",
                "enabledFeatures=[metrics,openapi]",
                ok(&[Metrics, Openapi], &[]),
            ),
            (
                "trailing comma",
                "enabledFeatures = [metrics, openapi,]\n",
                ok(&[Metrics, Openapi], &[]),
            ),
            (
                "commas at line ends",
                "disabledFeatures = [\n  metrics,\n  openapi,\n]\n",
                ok(&[], &[Metrics, Openapi]),
            ),
            (
                "leading commas",
                "disabledFeatures = [\n  metrics\n  , openapi\n]\n",
                ok(&[], &[Metrics, Openapi]),
            ),
            (
                "names on the bracket lines",
                "disabledFeatures = [ metrics\n  openapi ]\n",
                ok(&[], &[Metrics, Openapi]),
            ),
            (
                "comment right after a name and after brackets",
                "enabledFeatures = [ # on\n  metrics# why\n  openapi//why\n] // done\n",
                ok(&[Metrics, Openapi], &[]),
            ),
            (
                "both lists",
                "enabledFeatures = [healthchecks]\ndisabledFeatures = [metrics]\n",
                ok(&[Healthchecks], &[Metrics]),
            ),
            (
                "disabled list first",
                "disabledFeatures = [metrics]\nenabledFeatures = [openapi]\n",
                ok(&[Openapi], &[Metrics]),
            ),
            (
                "name in both lists is kept in both",
                "enabledFeatures = [metrics]\ndisabledFeatures = [metrics]\n",
                ok(&[Metrics], &[Metrics]),
            ),
            (
                "repeated name collapses",
                "enabledFeatures = [metrics, metrics]\n",
                ok(&[Metrics], &[]),
            ),
            (
                "CRLF line endings",
                "enabledFeatures = [\r\n  metrics\r\n]\r\n# c\r\ndisabledFeatures = [openapi]\r\n",
                ok(&[Metrics], &[Openapi]),
            ),
            (
                "no final newline",
                "disabledFeatures = [metrics]",
                ok(&[], &[Metrics]),
            ),
            (
                "tabs",
                "\tdisabledFeatures\t=\t[\tmetrics\t]\t",
                ok(&[], &[Metrics]),
            ),
            (
                "unknown name with line",
                "# header\n\ndisabledFeatures = [\n    acount-registration\n]\n",
                err(
                    4,
                    "unknown feature \"acount-registration\"; known features: account-registration, feature-flag-information-endpoint",
                ),
            ),
            (
                "names are case-sensitive",
                "enabledFeatures = [Metrics]",
                err(1, "unknown feature \"Metrics\""),
            ),
            (
                "unknown key",
                "\nenabledFeature = [metrics]\n",
                err(2, "unknown key \"enabledFeature\""),
            ),
            (
                "duplicate key",
                "enabledFeatures = [metrics]\n\nenabledFeatures = [openapi]\n",
                err(3, "duplicate key enabledFeatures (first on line 1)"),
            ),
            (
                "missing =",
                "enabledFeatures [metrics]\n",
                err(1, "expected '=' after enabledFeatures, found '['"),
            ),
            (
                "colon instead of =",
                "enabledFeatures: [metrics]\n",
                err(1, "unexpected character ':'"),
            ),
            (
                "= on the next line",
                "enabledFeatures\n= [metrics]\n",
                err(
                    1,
                    "expected '=' after enabledFeatures, found the end of the line",
                ),
            ),
            (
                "key alone at the end",
                "# c\nenabledFeatures",
                err(
                    2,
                    "expected '=' after enabledFeatures, found the end of the file",
                ),
            ),
            (
                "missing [",
                "enabledFeatures = metrics\n",
                err(1, "expected '[' after enabledFeatures =, found \"metrics\""),
            ),
            (
                "missing [ at end of file",
                "enabledFeatures =",
                err(
                    1,
                    "expected '[' after enabledFeatures =, found the end of the file",
                ),
            ),
            (
                "unclosed list at end of file",
                "enabledFeatures = [\n  metrics\n",
                err(3, "missing ']' to close the list opened on line 1"),
            ),
            (
                "unclosed list followed by the other key",
                "enabledFeatures = [\n  metrics\ndisabledFeatures = [\n]\n",
                err(3, "missing ']' to close the list opened on line 1"),
            ),
            (
                "text after ]",
                "enabledFeatures = [metrics] openapi\n",
                err(1, "unexpected \"openapi\" after ']'"),
            ),
            (
                "second list on the same line",
                "enabledFeatures = [] disabledFeatures = []\n",
                err(1, "unexpected \"disabledFeatures\" after ']'"),
            ),
            (
                "double ]",
                "enabledFeatures = [metrics]]\n",
                err(1, "unexpected ']' after ']'"),
            ),
            (
                "stray ] at top level",
                "]\n",
                err(
                    1,
                    "unexpected ']'; expected enabledFeatures or disabledFeatures",
                ),
            ),
            (
                "stray word at top level",
                "enabledFeatures = []\nmetrics\n",
                err(2, "unknown key \"metrics\""),
            ),
            (
                "double quoted name",
                "enabledFeatures = [\"metrics\"]\n",
                err(1, "unexpected quote"),
            ),
            (
                "single quoted name",
                "enabledFeatures = [\n'metrics'\n]\n",
                err(2, "unexpected quote"),
            ),
            (
                "quoted key",
                "\"enabledFeatures\" = []\n",
                err(1, "unexpected quote"),
            ),
            (
                "two names without a separator",
                "enabledFeatures = [metrics openapi]\n",
                err(1, "missing ',' before \"openapi\""),
            ),
            (
                "leading comma",
                "enabledFeatures = [, metrics]\n",
                err(1, "unexpected ','"),
            ),
            (
                "double comma",
                "enabledFeatures = [metrics,\n,openapi]\n",
                err(2, "unexpected ','"),
            ),
            (
                "nested list",
                "enabledFeatures = [[metrics]]\n",
                err(1, "lists cannot be nested"),
            ),
            (
                "= inside a list",
                "enabledFeatures = [\n metrics\n foo = [\n",
                err(3, "missing ']' to close the list opened on line 1"),
            ),
            (
                "single slash",
                "enabledFeatures = [] / comment\n",
                err(1, "unexpected character '/'"),
            ),
            (
                "non-ASCII garbage",
                "enabledFeatures = [\n  métrics\n]\n",
                err(2, "unexpected character 'é' (U+00E9)"),
            ),
            (
                "non-breaking space",
                "enabledFeatures = [\u{a0}metrics]\n",
                err(1, "unexpected character U+00A0"),
            ),
            (
                "BOM not at the start",
                "\n\u{feff}enabledFeatures = []\n",
                err(2, "unexpected character U+FEFF"),
            ),
            (
                "= right after [",
                "enabledFeatures = [\n = metrics\n]\n",
                err(2, "unexpected '='"),
            ),
            (
                "control character",
                "enabledFeatures = [\u{7}]\n",
                err(1, "unexpected character U+0007"),
            ),
            (
                "braces (HOCON object)",
                "features {\n}\n",
                err(1, "unexpected character '{'"),
            ),
        ];
        assert!(cases.len() >= 25);
        for (name, text, expected) in cases {
            let got = parse(text)
                .map(|file| (file.enabled, file.disabled))
                .map_err(|error| (error.line(), error.to_string()));
            match (&got, &expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "case {name:?}"),
                (Err((line, message)), Err((want_line, fragment))) => {
                    assert_eq!(line, want_line, "case {name:?}: {message}");
                    assert!(
                        message.contains(fragment),
                        "case {name:?}: {message:?} lacks {fragment:?}"
                    );
                    assert!(
                        message.starts_with(&format!("features file line {line}: ")),
                        "case {name:?}: {message}"
                    );
                }
                _ => panic!("case {name:?}: got {got:?}, want {expected:?}"),
            }
        }
    }

    #[test]
    fn unknown_name_message_matches_the_contract() {
        let error = parse("\n\ndisabledFeatures = [\n    acount-registration\n]\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "features file line 4: unknown feature \"acount-registration\"; known features: {}",
                Feature::known_names()
            )
        );
        assert_eq!(error.line(), 4);
        assert!(error.message().starts_with("unknown feature"));
    }

    #[test]
    fn a_utf8_bom_at_the_start_is_accepted() {
        let file = parse("\u{feff}disabledFeatures = [metrics]\n").unwrap();
        assert_eq!(file.disabled, vec![Metrics]);
        let file = parse_bytes(b"\xEF\xBB\xBFenabledFeatures = [openapi]\n").unwrap();
        assert_eq!(file.enabled, vec![Openapi]);
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let error = parse_bytes(b"# ok\nenabledFeatures = [\n  metr\xFFics\n]\n").unwrap_err();
        assert_eq!(error.line(), 3);
        assert!(error.to_string().contains("not valid UTF-8"), "{error}");
    }

    #[test]
    fn resolve_applies_defaults_lists_and_disabled_wins() {
        let file = parse(
            "enabledFeatures = [metrics, account-registration]\ndisabledFeatures = [account-registration, openapi]\n",
        )
        .unwrap();
        let states = file.resolve();
        let order: Vec<Feature> = states.iter().map(|state| state.feature).collect();
        assert_eq!(order, Feature::ALL.to_vec());
        let state = |feature| {
            let state = states
                .iter()
                .find(|state| state.feature == feature)
                .unwrap();
            (state.enabled, state.source)
        };
        assert_eq!(state(Reg), (false, FeatureSource::DisabledList));
        assert_eq!(state(Openapi), (false, FeatureSource::DisabledList));
        assert_eq!(state(Metrics), (true, FeatureSource::EnabledList));
        assert_eq!(
            state(Healthchecks),
            (Healthchecks.default_enabled(), FeatureSource::Default)
        );
    }

    #[test]
    fn empty_file_resolves_to_catalog_defaults() {
        for state in parse("").unwrap().resolve() {
            assert_eq!(state.enabled, state.feature.default_enabled());
            assert_eq!(state.source, FeatureSource::Default);
        }
    }

    #[test]
    fn document_keeps_spans_of_names() {
        let text = "enabledFeatures = [\n  metrics, openapi\n]\n";
        let document = parse_document(text).unwrap();
        let list = document.list(ListKey::Enabled).unwrap();
        let spans: Vec<&str> = list
            .items
            .iter()
            .map(|&(index, _)| {
                let token = document.tokens[index];
                &text[token.start..token.end]
            })
            .collect();
        assert_eq!(spans, ["metrics", "openapi"]);
        assert_eq!(document.tokens[list.open].line, 1);
        assert_eq!(document.tokens[list.close].line, 3);
        assert!(document.list(ListKey::Disabled).is_none());
    }
}
