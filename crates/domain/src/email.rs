//! Email addresses: kept as the user typed them, compared in a canonical form.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use email_address::{EmailAddress, Options};
use unicode_normalization::UnicodeNormalization;
use unicode_security::mixed_script::AugmentedScriptSet;

use crate::text::{is_bidi_control, is_invisible};

/// The longest address accepted, in Unicode scalar values (RFC 5321 path limit minus brackets).
pub const MAX_EMAIL_LENGTH: usize = 254;

/// A syntactically valid email address.
///
/// Two forms are kept:
///
/// * the *given* form ([`Email::as_str`], [`Display`](fmt::Display)): the input with
///   surrounding whitespace trimmed, exactly as the user typed it; this is what is stored and
///   shown back;
/// * the *canonical* form ([`Email::canonical`]): the local part NFC-normalized and
///   lower-cased (Unicode-aware), the domain converted to its ASCII (IDNA / Punycode) form,
///   which also lower-cases it. Uniqueness and equality use this form.
///
/// `PartialEq`, `Eq` and `Hash` compare the canonical form only, so `Ada@Example.com` equals
/// `ada@example.COM`.
///
/// ```
/// use roster_domain::Email;
///
/// let typed = Email::parse(" JÜRGEN@Bücher.DE ")?;
/// assert_eq!(typed.as_str(), "JÜRGEN@Bücher.DE");
/// assert_eq!(typed.to_string(), "JÜRGEN@Bücher.DE");
/// assert_eq!(typed.canonical(), "jürgen@xn--bcher-kva.de");
/// assert_eq!(typed.local_part(), "JÜRGEN");
/// assert_eq!(typed, Email::parse("jürgen@bücher.de")?);
///
/// assert!(Email::parse("Ada <ada@example.com>").is_err());
/// assert!(Email::parse("not-an-email").is_err());
/// # Ok::<(), roster_domain::EmailError>(())
/// ```
///
/// Single-label domains (`ops@localhost`) are accepted: whether a domain exists is not a
/// syntactic question. Domain literals (`ada@[192.0.2.1]`) and display names are rejected.
///
/// Addresses that would look like another one are refused (see [`Email::parse`]): invisible
/// characters, bidirectional controls, and local parts mixing scripts the way look-alikes do.
///
/// ```
/// use roster_domain::{Email, EmailError};
///
/// assert_eq!(Email::parse("ada\u{200b}@example.com"), Err(EmailError::InvisibleCharacter));
/// assert_eq!(Email::parse("\u{202e}moc.elpmaxe@ada"), Err(EmailError::BidiControl));
/// // "paypal" with a Cyrillic "а" (U+0430).
/// assert_eq!(Email::parse("p\u{430}ypal@example.com"), Err(EmailError::MixedScript));
/// // One script is fine, whichever it is.
/// assert!(Email::parse("иван@пример.рф").is_ok());
/// # Ok::<(), EmailError>(())
/// ```
#[derive(Clone)]
pub struct Email {
    given: String,
    canonical: String,
}

/// Why an input is not an acceptable email address.
///
/// Messages describe the problem without echoing the input, so they are safe to return to
/// clients and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Nothing but whitespace was given.
    #[error("email address is empty")]
    Empty,
    /// The trimmed input is longer than [`MAX_EMAIL_LENGTH`] characters.
    #[error("email address is longer than {max} characters")]
    TooLong {
        /// The limit, [`MAX_EMAIL_LENGTH`].
        max: usize,
    },
    /// The input contains a control character (including NUL).
    #[error("email address contains a control character")]
    ControlCharacter,
    /// A display-name form such as `Ada <ada@example.com>` was given.
    #[error("email address must be a bare address, without a display name or angle brackets")]
    DisplayName,
    /// The address is not valid syntax; `reason` says which rule was broken.
    #[error("email address is not valid: {reason}")]
    Syntax {
        /// A fixed description of the broken rule (never contains the input).
        reason: String,
    },
    /// The domain cannot be converted to its ASCII (IDNA) form.
    #[error("email address has an invalid domain name")]
    InvalidDomain,
    /// The input contains an invisible character ([`text::is_invisible`](crate::text::is_invisible)):
    /// a zero-width space or joiner, a soft hyphen, a byte order mark, a variation selector, a
    /// tag character, ...
    #[error(
        "email address contains an invisible character (such as a zero-width space or a soft hyphen)"
    )]
    InvisibleCharacter,
    /// The input contains a bidirectional control such as RIGHT-TO-LEFT OVERRIDE
    /// ([`text::is_bidi_control`](crate::text::is_bidi_control)).
    #[error("email address contains a bidirectional control character")]
    BidiControl,
    /// The local part mixes letters of scripts that are not used together (such as Latin
    /// and Cyrillic), the way look-alike addresses are built (UTS #39, Highly Restrictive).
    #[error(
        "email address mixes letters of different scripts (such as Latin and Cyrillic) before the '@'"
    )]
    MixedScript,
}

impl EmailError {
    /// The stable machine-readable code: always `"invalid_email"`.
    ///
    /// ```
    /// let err = roster_domain::Email::parse("nope").unwrap_err();
    /// assert_eq!(err.code(), "invalid_email");
    /// ```
    pub fn code(&self) -> &'static str {
        "invalid_email"
    }
}

impl Email {
    /// Parses and canonicalizes an email address.
    ///
    /// Surrounding whitespace is trimmed; the rest must be a bare address (no display
    /// name, no domain literal, no control characters) of at most [`MAX_EMAIL_LENGTH`]
    /// characters with a non-empty local part and domain.
    ///
    /// Addresses that could pass for another are refused (Unicode TS #39):
    ///
    /// * any bidirectional control ([`EmailError::BidiControl`]);
    /// * any invisible character in the local part, and any in the domain except ZERO WIDTH
    ///   NON-JOINER and JOINER, which IDNA accepts only where a script needs them
    ///   ([`EmailError::InvisibleCharacter`]);
    /// * a local part whose letters are not of one script, where Latin with Han and Kana,
    ///   Han and Bopomofo, or Han and Hangul counts as one (the *Highly Restrictive* level of
    ///   UTS #39 section 5.2) ([`EmailError::MixedScript`]). Digits, punctuation and
    ///   combining marks belong to every script. An all-Cyrillic, all-Greek or all-Han local
    ///   part is accepted; `pаypal` with a Cyrillic `а` is not. The domain is left to IDNA.
    ///
    /// ```
    /// use roster_domain::{Email, EmailError};
    ///
    /// assert_eq!(Email::parse("  ada@example.com\n")?.as_str(), "ada@example.com");
    /// assert_eq!(Email::parse("   "), Err(EmailError::Empty));
    /// assert_eq!(Email::parse("a\u{0}@b.c"), Err(EmailError::ControlCharacter));
    /// # Ok::<(), EmailError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let given = input.trim();
        if given.is_empty() {
            return Err(EmailError::Empty);
        }
        if given.chars().any(char::is_control) {
            return Err(EmailError::ControlCharacter);
        }
        if given.chars().count() > MAX_EMAIL_LENGTH {
            return Err(EmailError::TooLong {
                max: MAX_EMAIL_LENGTH,
            });
        }
        if given.contains('<') || given.contains('>') {
            return Err(EmailError::DisplayName);
        }
        if let Some(plain) = plain_ascii(given) {
            return Ok(plain);
        }
        Email::parse_grammar(given, Lookalikes::Refuse)
    }

    /// Parses an address read back from storage: every rule of [`Email::parse`] except the
    /// refusal of invisible characters, bidirectional controls and mixed-script local parts,
    /// which came later. Addresses stored before those rules thus still load, so that their
    /// accounts can be listed and changed; input from clients always goes through
    /// [`Email::parse`].
    ///
    /// ```
    /// use roster_domain::Email;
    ///
    /// let stored = Email::parse_stored("ada\u{200b}@example.com")?;
    /// assert_eq!(stored.canonical(), "ada\u{200b}@example.com");
    /// assert!(Email::parse(stored.as_str()).is_err());
    /// assert!(Email::parse_stored("nope").is_err());
    /// # Ok::<(), roster_domain::EmailError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Email::parse`], less the look-alike rules.
    pub fn parse_stored(input: &str) -> Result<Email, EmailError> {
        let given = input.trim();
        match Email::parse(given) {
            Err(
                EmailError::InvisibleCharacter | EmailError::BidiControl | EmailError::MixedScript,
            ) => Email::parse_grammar(given, Lookalikes::Allow),
            other => other,
        }
    }

    /// The full parse of a trimmed, non-empty input without control characters: the
    /// look-alike rules (unless allowed), the RFC 5322 grammar, then the canonical form (NFC
    /// and lower case, IDNA for the domain).
    fn parse_grammar(given: &str, lookalikes: Lookalikes) -> Result<Email, EmailError> {
        if lookalikes == Lookalikes::Refuse {
            refuse_hidden_characters(given)?;
        }
        let options = Options::default()
            .without_display_text()
            .without_domain_literal();
        let parsed = EmailAddress::parse_with_options(given, options).map_err(syntax_error)?;
        // The parser accepted the whole string as one address; make sure of it, since the
        // given form is what we keep.
        if parsed.as_str() != given {
            return Err(EmailError::DisplayName);
        }
        let (local, domain) = split(given).ok_or(EmailError::Syntax {
            reason: "missing '@' separator".to_owned(),
        })?;
        if local.is_empty() {
            return Err(syntax_error(email_address::Error::LocalPartEmpty));
        }
        if domain.is_empty() {
            return Err(syntax_error(email_address::Error::DomainEmpty));
        }
        if lookalikes == Lookalikes::Refuse && is_mixed_script(local) {
            return Err(EmailError::MixedScript);
        }
        let canonical = format!(
            "{}@{}",
            canonical_local_part(local),
            canonical_domain(domain)?
        );
        Ok(Email {
            given: given.to_owned(),
            canonical,
        })
    }

    /// The address as given (trimmed), e.g. `Ada@Example.com`.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The canonical form used for comparison and uniqueness, e.g. `ada@example.com`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The local part (before the last `@`) of the given form, e.g. `Ada`.
    ///
    /// ```
    /// assert_eq!(roster_domain::Email::parse("Ada.L@Example.com")?.local_part(), "Ada.L");
    /// # Ok::<(), roster_domain::EmailError>(())
    /// ```
    pub fn local_part(&self) -> &str {
        split(&self.given).map_or("", |(local, _)| local)
    }

    /// The domain (after the last `@`) of the given form, e.g. `Example.com`.
    pub fn domain(&self) -> &str {
        split(&self.given).map_or("", |(_, domain)| domain)
    }

    /// The domain of the canonical form: ASCII (IDNA), lower case, e.g. `xn--bcher-kva.de`
    /// for `Jürgen@Bücher.DE`. Domain rules ([`AllowedDomains`](crate::AllowedDomains)) match
    /// on it.
    ///
    /// ```
    /// let email = roster_domain::Email::parse("Jürgen@Bücher.DE")?;
    /// assert_eq!(email.canonical_domain(), "xn--bcher-kva.de");
    /// # Ok::<(), roster_domain::EmailError>(())
    /// ```
    pub fn canonical_domain(&self) -> &str {
        split(&self.canonical).map_or("", |(_, domain)| domain)
    }

    /// Consumes the email, returning the given form.
    pub fn into_string(self) -> String {
        self.given
    }
}

/// The common case, parsed without the grammar and IDNA machinery (which made up most of
/// the cost of decoding an account on every authenticated request): ASCII `local@domain`
/// where the local part is letters, digits and `.`, `_`, `+`, `-` (no leading, trailing or
/// doubled dot, at most 64 characters) and the domain is host-name labels without `--`
/// (so no `xn--` label). For these, NFC and IDNA change nothing but the case, so the
/// canonical form is the lower-cased address, exactly what [`Email::parse_grammar`]
/// computes (a property test holds the two to that). Anything else returns `None`.
fn plain_ascii(given: &str) -> Option<Email> {
    let (local, domain) = given.split_once('@')?;
    let plain_local = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'));
    let plain_domain = is_host_name(domain, u8::is_ascii_alphanumeric)
        && domain.split('.').all(|label| !label.contains("--"));
    (plain_local && plain_domain).then(|| Email {
        given: given.to_owned(),
        canonical: given.to_ascii_lowercase(),
    })
}

/// Whether [`Email::parse_grammar`] applies the look-alike rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookalikes {
    Refuse,
    /// Only for addresses stored before the rules existed.
    Allow,
}

/// Bidirectional controls anywhere; invisible characters anywhere but the ZERO WIDTH
/// NON-JOINER and JOINER of a domain, which IDNA's CONTEXTJ rules (RFC 5892) judge.
fn refuse_hidden_characters(given: &str) -> Result<(), EmailError> {
    if given.is_ascii() {
        return Ok(());
    }
    if given.chars().any(is_bidi_control) {
        return Err(EmailError::BidiControl);
    }
    let (local, domain) = split(given).unwrap_or((given, ""));
    let joiner = |c: char| matches!(c, '\u{200c}' | '\u{200d}');
    if local.chars().any(is_invisible) || domain.chars().any(|c| is_invisible(c) && !joiner(c)) {
        return Err(EmailError::InvisibleCharacter);
    }
    Ok(())
}

/// Whether a local part fails UTS #39's *Highly Restrictive* script test (section 5.2):
/// its characters' script sets (Common and Inherited count as every script) must have a
/// script in common, or, leaving out the Latin characters, have Han with Bopomofo, Japanese
/// or Korean in common. The identifier profile is not applied: `.`, `+` or `'` are not
/// letters and belong to every script.
fn is_mixed_script(local: &str) -> bool {
    if local.is_ascii() {
        return false;
    }
    let latin = AugmentedScriptSet::for_char('a');
    let mut all = AugmentedScriptSet::default();
    let mut without_latin = AugmentedScriptSet::default();
    for c in local.chars() {
        let set = AugmentedScriptSet::for_char(c);
        all.intersect_with(set);
        let mut with_latin = set;
        with_latin.intersect_with(latin);
        if with_latin.is_empty() {
            without_latin.intersect_with(set);
        }
    }
    all.is_empty() && !(without_latin.hanb || without_latin.jpan || without_latin.kore)
}

/// Splits at the last `@`: a quoted local part may itself contain `@`, a domain never does.
fn split(address: &str) -> Option<(&str, &str)> {
    address.rsplit_once('@')
}

fn canonical_local_part(local: &str) -> String {
    // Lower-casing can, in rare cases, produce a non-NFC sequence; normalize again.
    let lowered = local.nfc().collect::<String>().to_lowercase();
    lowered.nfc().collect()
}

pub(crate) fn canonical_domain(domain: &str) -> Result<String, EmailError> {
    let ascii = idna::domain_to_ascii(domain).map_err(|_| EmailError::InvalidDomain)?;
    // A mail domain is a host name: labels of letters, digits and inner hyphens (RFC 5321,
    // RFC 1123). Checked on the ASCII form, since IDNA mapping can turn an innocent-looking
    // character into something else (U+02DC becomes a space and a combining tilde).
    let lowercase_or_digit = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !is_host_name(&ascii, lowercase_or_digit) {
        return Err(EmailError::InvalidDomain);
    }
    Ok(ascii)
}

/// At most 253 bytes of dot-separated labels, each 1 to 63 bytes of `letter_or_digit`
/// characters and inner hyphens (RFC 1123).
fn is_host_name(domain: &str, letter_or_digit: impl Fn(&u8) -> bool) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b == b'-' || letter_or_digit(&b))
        })
}

fn syntax_error(error: email_address::Error) -> EmailError {
    use email_address::Error as E;
    match error {
        E::UnsupportedDisplayName | E::MissingDisplayName | E::MissingEndBracket => {
            EmailError::DisplayName
        }
        // The crate's messages are fixed strings; they never include the input.
        other => EmailError::Syntax {
            reason: other.to_string().trim_end_matches('.').to_lowercase(),
        },
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl TryFrom<&str> for Email {
    type Error = EmailError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Email::parse(value)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.given
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.given)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("given", &self.given)
            .field("canonical", &self.canonical)
            .finish()
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for Email {}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    proptest::proptest! {
        /// The fast path agrees with the full parse wherever it answers.
        #[test]
        fn plain_ascii_agrees_with_the_grammar(
            input in "[A-Za-z0-9._+@-]{1,24}|[a-zA-Z0-9._+-]{1,70}@[a-zA-Z0-9.-]{1,70}|[a-z]{1,8}@[a-z-]{1,9}(\\.[a-zA-Z0-9-]{1,8}){0,3}"
        ) {
            if let Some(fast) = plain_ascii(&input) {
                let full = Email::parse_grammar(&input, Lookalikes::Refuse);
                proptest::prop_assert!(full.is_ok(), "{input:?}: fast path accepts, grammar says {full:?}");
                let full = full.unwrap();
                proptest::prop_assert_eq!(&fast.given, &full.given);
                proptest::prop_assert_eq!(&fast.canonical, &full.canonical);
            }
        }
    }

    /// Characters to build hostile addresses from: ASCII, Latin, Cyrillic and Greek letters
    /// (some of them look-alikes), Han, and the hidden characters of every kind.
    const ALPHABET: &[char] = &[
        'a',
        'p',
        'y',
        'l',
        'o',
        'e',
        'x',
        '.',
        '+',
        '1',
        '@',
        'ü',
        'é',
        '\u{430}',
        '\u{43e}',
        '\u{440}',
        '\u{3bf}',
        '\u{3b1}',
        '用',
        '户',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{ad}',
        '\u{feff}',
        '\u{2060}',
        '\u{fe0f}',
        '\u{e0041}',
        '\u{202e}',
        '\u{2066}',
        '\u{200f}',
        '\u{61c}',
        '\u{308}',
    ];

    fn hostile_address() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let part = || proptest::collection::vec(proptest::sample::select(ALPHABET), 1..10);
        (part(), part()).prop_map(|(local, domain)| {
            let local: String = local.into_iter().filter(|&c| c != '@').collect();
            let domain: String = domain.into_iter().filter(|&c| c != '@').collect();
            format!("{local}@{domain}.de")
        })
    }

    proptest::proptest! {
        /// No accepted address holds a bidirectional control, an invisible character (but
        /// the joiners IDNA allows in a domain), or a local part of mixed scripts.
        #[test]
        fn accepted_addresses_hide_nothing(input in hostile_address()) {
            if let Ok(email) = Email::parse(&input) {
                let given = email.as_str();
                proptest::prop_assert!(!given.chars().any(is_bidi_control), "{input:?}");
                proptest::prop_assert!(!email.local_part().chars().any(is_invisible), "{input:?}");
                proptest::prop_assert!(
                    !email.domain().chars().any(|c| is_invisible(c) && !matches!(c, '\u{200c}' | '\u{200d}')),
                    "{input:?}"
                );
                proptest::prop_assert!(!email.canonical().chars().any(|c| is_invisible(c) || is_bidi_control(c)), "{input:?}");
                // The canonical form passes the same rules (the fuzz target's invariant).
                let again = Email::parse(email.canonical());
                proptest::prop_assert_eq!(again.map(|e| e.canonical().to_owned()), Ok(email.canonical().to_owned()), "{:?}", input);
                let local_scripts = AugmentedScriptSet::for_str(email.local_part());
                proptest::prop_assert!(!local_scripts.is_empty() || email.local_part().chars().any(|c| matches!(c, '用' | '户')), "{input:?}");
            }
        }
    }

    #[test]
    fn lookalike_addresses_are_refused() {
        let cases: &[(&str, EmailError)] = &[
            ("ada\u{200b}@example.com", EmailError::InvisibleCharacter),
            ("\u{200b}ada@example.com", EmailError::InvisibleCharacter),
            ("ad\u{200d}min@example.com", EmailError::InvisibleCharacter),
            ("ad\u{200c}min@example.com", EmailError::InvisibleCharacter),
            ("ada\u{ad}@example.com", EmailError::InvisibleCharacter),
            ("ada@exam\u{ad}ple.com", EmailError::InvisibleCharacter),
            ("ada@example\u{200b}.com", EmailError::InvisibleCharacter),
            ("\u{feff}ada@example.com", EmailError::InvisibleCharacter),
            ("ada\u{2060}@example.com", EmailError::InvisibleCharacter),
            ("ada\u{2063}@example.com", EmailError::InvisibleCharacter),
            ("ada\u{fe0f}@example.com", EmailError::InvisibleCharacter),
            ("ada\u{e0041}@example.com", EmailError::InvisibleCharacter),
            ("\u{3164}@example.com", EmailError::InvisibleCharacter),
            (
                "\"ada\u{200b}\"@example.com",
                EmailError::InvisibleCharacter,
            ),
            ("иван\u{200b}@пример.рф", EmailError::InvisibleCharacter),
            ("\u{202e}moc.elpmaxe@nimda", EmailError::BidiControl),
            ("ada\u{202e}@example.com", EmailError::BidiControl),
            ("ada@example.com\u{202c}", EmailError::BidiControl),
            ("ada\u{2066}x\u{2069}@example.com", EmailError::BidiControl),
            ("ada\u{200e}@example.com", EmailError::BidiControl),
            ("ada@\u{200f}example.com", EmailError::BidiControl),
            ("\u{61c}ada@example.com", EmailError::BidiControl),
            // Latin with Cyrillic: "paypal", "admin" and "apple" with a Cyrillic а, о or р.
            ("p\u{430}ypal@example.com", EmailError::MixedScript),
            ("\u{430}dmin@example.com", EmailError::MixedScript),
            ("\u{430}pple@example.com", EmailError::MixedScript),
            ("g\u{43e}\u{43e}gle@example.com", EmailError::MixedScript),
            ("PAYP\u{410}L@example.com", EmailError::MixedScript),
            ("ivan.\u{43f}etrov@example.com", EmailError::MixedScript),
            // Latin with Greek omicron, Cyrillic with Greek.
            ("g\u{3bf}ogle@example.com", EmailError::MixedScript),
            ("\u{438}\u{3b1}@example.com", EmailError::MixedScript),
            // Latin with Armenian օ (U+0585), Latin with Cherokee Ꭺ.
            ("g\u{585}\u{585}gle@example.com", EmailError::MixedScript),
            ("\u{13aa}da@example.com", EmailError::MixedScript),
            ("\"p\u{430}ypal\"@example.com", EmailError::MixedScript),
        ];
        for (input, expected) in cases {
            assert_eq!(Email::parse(input).as_ref(), Err(expected), "{input:?}");
            assert_eq!(expected.code(), "invalid_email");
        }
    }

    #[test]
    fn single_script_and_cjk_local_parts_and_idn_domains_are_accepted() {
        for input in [
            "иван.петров@example.com",
            "Иван@пример.рф",
            "σοφία@example.gr",
            "ΣΟΦΙΑ@example.com",
            "用户@例子.广告",
            "山田.taro@example.jp",
            "やまだ.taro2@example.jp",
            "タロウ+yamada@例え.jp",
            "김민준.kim@example.kr",
            "李ㄅ@example.tw",
            "jürgen.groß@bücher.de",
            "o'brien@example.ie",
            "ju\u{308}rgen@example.de",
            "אבי@example.co.il",
            "محمد@مثال.مصر",
            "ผู้ใช้@ตัวอย่าง.ไทย",
            "δοκιμή@παράδειγμα.δοκιμή",
            "user@xn--mgbh0fb.xn--kgbechtv",
            // IDNA judges joiners in the domain: ZWNJ after a virama is valid (RFC 5892 A.1).
            "ada@\u{915}\u{94d}\u{200c}\u{937}.in",
        ] {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(email.as_str(), input);
        }
        // A joiner IDNA refuses is still refused.
        assert!(Email::parse("ada@ex\u{200c}ample.com").is_err());
    }

    #[test]
    fn stored_addresses_from_before_the_lookalike_rules_still_load() {
        for stored in [
            "ada\u{200b}@example.com",
            "\u{202e}moc.elpmaxe@nimda",
            "p\u{430}ypal@example.com",
        ] {
            assert!(Email::parse(stored).is_err(), "{stored:?}");
            let email = Email::parse_stored(stored).unwrap_or_else(|e| panic!("{stored:?}: {e}"));
            assert_eq!(email.as_str(), stored);
        }
        assert_eq!(
            Email::parse_stored("Ada@Example.com").unwrap().canonical(),
            "ada@example.com"
        );
        assert_eq!(
            Email::parse_stored("a\u{0}@b.c"),
            Err(EmailError::ControlCharacter)
        );
        assert!(Email::parse_stored("p\u{430}ypal@ex ample.com").is_err());
    }

    #[test]
    fn plain_addresses_take_the_fast_path_and_others_do_not() {
        assert!(plain_ascii("Ada.Lovelace+x@Example.COM").is_some());
        assert!(plain_ascii("ops@localhost").is_some());
        for other in [
            "jürgen@bücher.de",
            "a@xn--bcher-kva.de",
            "\"quoted\"@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@b@c",
        ] {
            assert!(plain_ascii(other).is_none(), "{other}");
        }
    }

    #[test]
    fn domains_must_be_host_names_after_idna_mapping() {
        for refused in [
            "e@a'b.de",
            "e@rg!x.de",
            "e@J\u{2dc}'PGe\u{dc}.de",
            "e@-a.de",
            "e@a-.de",
            "e@a..de",
        ] {
            assert!(Email::parse(refused).is_err(), "{refused}");
        }
        for accepted in [
            "e@b\u{fc}cher.de",
            "e@xn--bcher-kva.de",
            "e@a-b.c0m",
            "e@localhost",
        ] {
            let email = Email::parse(accepted).unwrap();
            assert_eq!(
                Email::parse(email.canonical()).unwrap().canonical(),
                email.canonical()
            );
        }
    }

    #[test]
    fn valid_addresses() {
        for input in [
            "ada@example.com",
            "Ada.Lovelace+tag@Example.COM",
            "o'brien@example.ie",
            "jürgen@bücher.de",
            "用户@例子.广告",
            "ops@localhost",
            "first_last-1@sub.example.co.uk",
            "\"quoted name\"@example.com",
            "x@xn--bcher-kva.de",
        ] {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(email.as_str(), input);
        }
    }

    #[test]
    fn invalid_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let too_long = format!("{}@{}.com", "a".repeat(60), "b".repeat(200));
        let cases: &[(&str, EmailError)] = &[
            ("", EmailError::Empty),
            ("  \t ", EmailError::Empty),
            ("a\u{0}@b.c", EmailError::ControlCharacter),
            ("a@b.c\u{7}", EmailError::ControlCharacter),
            ("a\r\nbcc@b.c", EmailError::ControlCharacter),
            ("Ada <ada@example.com>", EmailError::DisplayName),
            ("<ada@example.com>", EmailError::DisplayName),
            (&too_long, EmailError::TooLong { max: 254 }),
        ];
        for (input, expected) in cases {
            assert_eq!(Email::parse(input).as_ref(), Err(expected), "{input:?}");
        }
        for input in [
            "plainaddress",
            "@example.com",
            "ada@",
            "ada@@example.com",
            "ada example@example.com",
            "ada@exa mple.com",
            "ada@example..com",
            "ada@.example.com",
            "ada@example.com.",
            "ada.@example.com",
            ".ada@example.com",
            "ada@[192.0.2.1]",
            "ada@-example.com",
            "ada,bob@example.com",
            long_local.as_str(),
        ] {
            let err = Email::parse(input).expect_err(input);
            assert_eq!(err.code(), "invalid_email");
        }
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            (" JÜRGEN@Bücher.DE ", "jürgen@xn--bcher-kva.de"),
            ("jürgen@bücher.de", "jürgen@xn--bcher-kva.de"),
            // Decomposed ü (u + combining diaeresis) is NFC-composed first.
            ("ju\u{308}rgen@BU\u{308}CHER.de", "jürgen@xn--bcher-kva.de"),
            ("Ada@Example.COM", "ada@example.com"),
            (
                "\tADA.LOVELACE+Tag@EXAMPLE.com\n",
                "ada.lovelace+tag@example.com",
            ),
            ("ΣΟΦΙΑ@example.com", "σοφια@example.com"),
            ("x@XN--BCHER-KVA.DE", "x@xn--bcher-kva.de"),
        ];
        for (input, canonical) in cases {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(email.canonical(), canonical, "{input:?}");
        }
    }

    #[test]
    fn equality_and_hash_use_the_canonical_form() {
        let a = Email::parse(" JÜRGEN@Bücher.DE ").unwrap();
        let b = Email::parse("jürgen@xn--bcher-kva.de").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.as_str(), b.as_str());
        let set: HashSet<Email> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_ne!(
            Email::parse("ada@example.com").unwrap(),
            Email::parse("ada@example.org").unwrap()
        );
    }

    #[test]
    fn display_and_parts_keep_the_given_form() {
        let email = Email::parse("  Ada.L@Example.COM ").unwrap();
        assert_eq!(email.to_string(), "Ada.L@Example.COM");
        assert_eq!(email.as_str(), "Ada.L@Example.COM");
        assert_eq!(email.local_part(), "Ada.L");
        assert_eq!(email.domain(), "Example.COM");
        assert_eq!(email.clone().into_string(), "Ada.L@Example.COM");
        let parsed: Email = "Ada.L@Example.COM".parse().unwrap();
        assert_eq!(parsed, email);

        let quoted = Email::parse("\"a@b\"@example.com").unwrap();
        assert_eq!(quoted.local_part(), "\"a@b\"");
        assert_eq!(quoted.domain(), "example.com");
    }

    #[test]
    fn length_limit_counts_characters() {
        // 254 characters is the limit, even when most are multi-byte.
        let local = "ü".repeat(30);
        let domain = format!(
            "{}.{}.{}.{}.de",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
            "e".repeat(28)
        );
        let ok = format!("{local}@{domain}");
        assert_eq!(ok.chars().count(), 254);
        assert!(Email::parse(&ok).is_ok(), "{:?}", Email::parse(&ok));
        let long = format!("ü{ok}");
        assert_eq!(
            Email::parse(&long),
            Err(EmailError::TooLong {
                max: MAX_EMAIL_LENGTH
            })
        );
    }

    #[test]
    fn messages_never_echo_the_input() {
        for input in [
            "evil\u{1b}[31m@example.com",
            "secret\u{0}@x.y",
            "Ada <ada@example.com>",
            "nope",
            "ada@exa mple.com",
            "evil\u{200b}@example.com",
            "evil\u{202e}@example.com",
            "p\u{430}ypal.evil@example.com",
        ] {
            let message = Email::parse(input).unwrap_err().to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
            assert!(!message.contains("evil") && !message.contains("secret"));
            assert!(!message.contains("nope") && !message.contains("ada"));
        }
    }
}
