//! Password policy and the secret password type.
//!
//! Passwords are NFKC-normalized before anything else, so that the same password typed on
//! different keyboards or input methods hashes the same, and their length is counted in
//! Unicode scalar values of that normalized form (NIST SP 800-63B).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

/// The smallest `min_length` a policy accepts.
pub const MIN_LENGTH_FLOOR: usize = 8;
/// The largest `max_length` a policy accepts.
pub const MAX_LENGTH_CEILING: usize = 4096;
/// The default minimum length (NIST SP 800-63B rev. 4 for single-factor passwords).
pub const DEFAULT_MIN_LENGTH: usize = 15;
/// The default maximum length.
pub const DEFAULT_MAX_LENGTH: usize = 128;

/// The zxcvbn score (0..=4) a password must reach.
const MIN_SCORE: u8 = 3;
/// Personal inputs shorter than this are not searched for in the password.
const MIN_PERSONAL_LEN: usize = 4;

/// A password, NFKC-normalized, held as a secret.
///
/// It has no `Display` and its `Debug` is redacted; read it with [`PlainPassword::expose`]
/// only on the line that hands it to the hasher.
///
/// ```
/// use roster_domain::PlainPassword;
///
/// // NFKC: the ligature "ﬁ" (U+FB01) becomes "fi".
/// let password = PlainPassword::new("\u{FB01}sh");
/// assert_eq!(password.expose(), "fish");
/// assert_eq!(password.char_count(), 4);
/// assert_eq!(format!("{password:?}"), "PlainPassword([REDACTED])");
/// ```
pub struct PlainPassword(SecretString);

impl PlainPassword {
    /// Normalizes `raw` (NFKC) without applying any policy.
    ///
    /// Use it at login, where the stored hash decides; use [`PasswordPolicy::check`] when a
    /// password is set.
    pub fn new(raw: &str) -> PlainPassword {
        PlainPassword(SecretString::from(normalize(raw)))
    }

    /// The normalized password. Keep the borrow short.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The number of Unicode scalar values of the normalized password.
    pub fn char_count(&self) -> usize {
        self.expose().chars().count()
    }
}

impl fmt::Debug for PlainPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainPassword([REDACTED])")
    }
}

fn normalize(raw: &str) -> String {
    raw.nfkc().collect()
}

/// Why a password policy cannot be built from the given limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyConfigError {
    /// `min_length` is below [`MIN_LENGTH_FLOOR`].
    #[error("password minimum length {min} is below the floor of {floor}")]
    MinTooSmall {
        /// The configured minimum.
        min: usize,
        /// [`MIN_LENGTH_FLOOR`].
        floor: usize,
    },
    /// `max_length` is below `min_length`.
    #[error("password maximum length {max} is below the minimum length {min}")]
    MaxBelowMin {
        /// The configured minimum.
        min: usize,
        /// The configured maximum.
        max: usize,
    },
    /// `max_length` is above [`MAX_LENGTH_CEILING`].
    #[error("password maximum length {max} is above the ceiling of {ceiling}")]
    MaxTooLarge {
        /// The configured maximum.
        max: usize,
        /// [`MAX_LENGTH_CEILING`].
        ceiling: usize,
    },
}

/// One reason a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than `min` characters (after NFKC normalization).
    TooShort {
        /// The policy's minimum length.
        min: usize,
    },
    /// More than `max` characters (after NFKC normalization).
    TooLong {
        /// The policy's maximum length.
        max: usize,
    },
    /// Long enough but easy to guess; `hint` says what to do (it never contains the password).
    Weak {
        /// Advice for the user, from zxcvbn's feedback or a generic sentence.
        hint: String,
    },
}

impl PasswordProblem {
    /// The stable machine-readable code: `password_too_short`, `password_too_long` or
    /// `weak_password`.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort { .. } => "password_too_short",
            PasswordProblem::TooLong { .. } => "password_too_long",
            PasswordProblem::Weak { .. } => "weak_password",
        }
    }

    /// A human-readable sentence for the client.
    ///
    /// ```
    /// use roster_domain::PasswordProblem;
    ///
    /// let problem = PasswordProblem::TooShort { min: 15 };
    /// assert_eq!(problem.code(), "password_too_short");
    /// assert_eq!(problem.message(), "password must be at least 15 characters long");
    /// ```
    pub fn message(&self) -> String {
        match self {
            PasswordProblem::TooShort { min } => {
                format!("password must be at least {min} characters long")
            }
            PasswordProblem::TooLong { max } => {
                format!("password must be at most {max} characters long")
            }
            PasswordProblem::Weak { hint } => format!("password is too easy to guess. {hint}"),
        }
    }
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// The rules a new password must satisfy: a length range (in Unicode scalar values after
/// NFKC normalization) and a strength check (zxcvbn score of at least 3, and not built from
/// the user's email or name).
///
/// ```
/// use roster_domain::{PasswordPolicy, PasswordProblem};
///
/// let policy = PasswordPolicy::default();
/// assert_eq!((policy.min_length(), policy.max_length()), (15, 128));
///
/// let inputs = ["ada@example.com", "ada", "Ada Lovelace"];
/// let ok = policy.check("quartz-lantern-fjord-obelisk-9", &inputs).unwrap();
/// assert_eq!(ok.expose(), "quartz-lantern-fjord-obelisk-9");
///
/// let problems = policy.check("short", &inputs).unwrap_err();
/// assert_eq!(problems, vec![PasswordProblem::TooShort { min: 15 }]);
///
/// let problems = policy.check("lovelace-lovelace-2024", &inputs).unwrap_err();
/// assert_eq!(problems[0].code(), "weak_password");
///
/// assert!(PasswordPolicy::new(6, 64).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
    max_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: DEFAULT_MIN_LENGTH,
            max_length: DEFAULT_MAX_LENGTH,
        }
    }
}

impl PasswordPolicy {
    /// Builds a policy; `min_length` must be at least 8, `max_length` at least `min_length`
    /// and at most 4096.
    pub fn new(min_length: usize, max_length: usize) -> Result<Self, PolicyConfigError> {
        if min_length < MIN_LENGTH_FLOOR {
            return Err(PolicyConfigError::MinTooSmall {
                min: min_length,
                floor: MIN_LENGTH_FLOOR,
            });
        }
        if max_length < min_length {
            return Err(PolicyConfigError::MaxBelowMin {
                min: min_length,
                max: max_length,
            });
        }
        if max_length > MAX_LENGTH_CEILING {
            return Err(PolicyConfigError::MaxTooLarge {
                max: max_length,
                ceiling: MAX_LENGTH_CEILING,
            });
        }
        Ok(PasswordPolicy {
            min_length,
            max_length,
        })
    }

    /// The minimum length in characters.
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// The maximum length in characters.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Checks a new password against the policy and returns it normalized.
    ///
    /// `user_inputs` are the user's own data (the email, its local part, the name): a
    /// password containing one of them (case-insensitively, for those of at least 4
    /// characters) is weak whatever its score.
    ///
    /// A length problem is reported alone (`TooShort` or `TooLong`) and the strength check
    /// is skipped, so an over-long input never reaches zxcvbn. Otherwise the result is either
    /// the password or a single `Weak` problem.
    pub fn check(
        &self,
        raw: &str,
        user_inputs: &[&str],
    ) -> Result<PlainPassword, Vec<PasswordProblem>> {
        // Count while normalizing and stop one past the maximum, so that an enormous input
        // costs no more than a maximal one.
        if raw.nfkc().take(self.max_length + 1).count() > self.max_length {
            return Err(vec![PasswordProblem::TooLong {
                max: self.max_length,
            }]);
        }
        let password = PlainPassword::new(raw);
        if password.char_count() < self.min_length {
            return Err(vec![PasswordProblem::TooShort {
                min: self.min_length,
            }]);
        }
        if let Some(hint) = weakness(password.expose(), user_inputs) {
            return Err(vec![PasswordProblem::Weak { hint }]);
        }
        Ok(password)
    }
}

/// Returns a hint when `password` (already normalized, within length limits) is weak.
fn weakness(password: &str, user_inputs: &[&str]) -> Option<String> {
    let lowered = password.to_lowercase();
    if personal_fragments(user_inputs)
        .iter()
        .any(|fragment| lowered.contains(fragment.as_str()))
    {
        return Some("Avoid using your email address or name in your password.".to_owned());
    }
    let inputs: Vec<&str> = user_inputs
        .iter()
        .copied()
        .filter(|s| !s.is_empty())
        .collect();
    if clearly_strong(password, &inputs) {
        return None;
    }
    let entropy = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(entropy.score()) >= MIN_SCORE {
        return None;
    }
    Some(hint_from(entropy.feedback()))
}

/// Window length, in characters, for the fast path of the strength check.
const WINDOW: usize = 24;
/// How many windows the fast path tries (covering the first 144 characters).
const MAX_WINDOWS: usize = 6;
/// Characters next to a window boundary that earn no credit, because a pattern crossing
/// the boundary (a word, a keyboard walk) looks like brute force once cut.
const CUT_MARGIN: usize = 6;
/// log10 of the guesses a part must need for the fast path to accept: 10^10, a hundred
/// times zxcvbn's threshold for score 3 (10^8).
const WINDOW_ACCEPT_LOG10: u32 = 10;

/// The fast path of the strength check, for passwords longer than one window: whether a
/// part of the password is, on its own, clearly strong.
///
/// zxcvbn's dictionary matching costs O(n²) lookups per set of l33t substitutions, so a
/// random 100-character password takes 20 to 200 ms (and one made of l33t symbols such as
/// `4@8({[<3691!|70$5+%2` up to a second), while 24 characters take about a millisecond
/// (20 ms at worst). Guessing a password means guessing every part of it, so a password is
/// at least as strong as any of its parts. Two kinds of part are tried:
///
/// * for a periodic password (`base` repeated, the last copy possibly cut short), the base,
///   which zxcvbn's repeat estimate multiplies by the number of copies;
/// * each 24-character window of the first 144 characters: the tokens of zxcvbn's best match
///   sequence for the window are credited with their guesses, except next to a boundary cut
///   inside the password, where a pattern crossing the cut (a word, a keyboard walk) would
///   look like brute force: there, brute-force characters and tokens touching the margin
///   earn nothing.
///
/// A part must need 10^10 guesses, a hundred times zxcvbn's threshold for score 3. When no
/// part decides, the caller runs zxcvbn on the whole password, so this can only accept
/// sooner, never refuse. A property test checks that it accepts nothing zxcvbn refuses.
fn clearly_strong(password: &str, inputs: &[&str]) -> bool {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() <= WINDOW {
        return false;
    }
    let period = smallest_period(&chars);
    if period <= WINDOW && 2 * period <= chars.len() {
        let base: String = chars[..period].iter().collect();
        if zxcvbn::zxcvbn(&base, inputs).guesses() >= 10_u64.pow(WINDOW_ACCEPT_LOG10) {
            return true;
        }
        // A repeated weak base: every window is weak too; let zxcvbn say so.
        return false;
    }
    chars
        .chunks(WINDOW)
        .take(MAX_WINDOWS)
        .enumerate()
        .any(|(index, window)| {
            let len = window.len();
            let lo = if index > 0 { CUT_MARGIN } else { 0 };
            let hi = if index * WINDOW + len < chars.len() {
                len.saturating_sub(CUT_MARGIN)
            } else {
                len
            };
            if hi <= lo {
                return false;
            }
            let text: String = window.iter().collect();
            let entropy = zxcvbn::zxcvbn(&text, inputs);
            // The product of the credited guesses, saturating (it only needs to reach 10^10).
            let credit = entropy
                .sequence()
                .iter()
                .map(|m| match m.pattern {
                    // Brute force costs 10 guesses a character: credit the characters
                    // outside the margins.
                    zxcvbn::matching::patterns::MatchPattern::BruteForce => {
                        let credited = (m.j + 1).min(hi).saturating_sub(m.i.max(lo));
                        10_u64.saturating_pow(u32::try_from(credited).unwrap_or(u32::MAX))
                    }
                    _ if m.i >= lo && m.j < hi => m.guesses.unwrap_or(1).max(1),
                    _ => 1,
                })
                .fold(1_u64, u64::saturating_mul);
            credit >= 10_u64.pow(WINDOW_ACCEPT_LOG10)
        })
}

/// The smallest `p` such that `chars[i] == chars[i + p]` for every valid `i` (the length
/// itself when the sequence does not repeat), by the Knuth-Morris-Pratt failure function.
fn smallest_period(chars: &[char]) -> usize {
    let mut failure = vec![0_usize; chars.len()];
    let mut k = 0;
    for i in 1..chars.len() {
        while k > 0 && chars[i] != chars[k] {
            k = failure[k - 1];
        }
        if chars[i] == chars[k] {
            k += 1;
        }
        failure[i] = k;
    }
    chars.len() - failure.last().copied().unwrap_or(0)
}

/// The lower-cased, NFKC-normalized strings a password must not contain: each input, the
/// local part of an email input, and the words of those, when at least 4 characters long.
/// The email's domain is deliberately not included (it is rarely personal).
fn personal_fragments(user_inputs: &[&str]) -> Vec<String> {
    let mut fragments = Vec::new();
    let mut push = |s: &str| {
        let s = normalize(s.trim()).to_lowercase();
        if s.chars().count() >= MIN_PERSONAL_LEN && !fragments.contains(&s) {
            fragments.push(s);
        }
    };
    for input in user_inputs {
        let personal = match input.rsplit_once('@') {
            Some((local, _domain)) => local,
            None => input,
        };
        push(input);
        push(personal);
        for word in personal.split(|c: char| !c.is_alphanumeric()) {
            push(word);
        }
    }
    fragments
}

fn hint_from(feedback: Option<&zxcvbn::feedback::Feedback>) -> String {
    let mut sentences: Vec<String> = Vec::new();
    if let Some(feedback) = feedback {
        if let Some(warning) = feedback.warning() {
            sentences.push(warning.to_string());
        }
        sentences.extend(feedback.suggestions().iter().map(ToString::to_string));
    }
    if sentences.is_empty() {
        return "Add more words or characters that are less common; avoid common phrases and patterns."
            .to_owned();
    }
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const INPUTS: [&str; 3] = ["ada.lovelace@example.com", "ada.lovelace", "Ada Lovelace"];
    const GOOD: &str = "correct horse battery staple orbit";

    fn codes(result: Result<PlainPassword, Vec<PasswordProblem>>) -> Vec<&'static str> {
        match result {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(PasswordProblem::code).collect(),
        }
    }

    #[test]
    fn policy_limits() {
        assert_eq!(
            PasswordPolicy::default(),
            PasswordPolicy::new(15, 128).unwrap()
        );
        assert_eq!(PasswordPolicy::new(8, 8).unwrap().max_length(), 8);
        assert_eq!(PasswordPolicy::new(8, 4096).unwrap().min_length(), 8);
        assert_eq!(
            PasswordPolicy::new(7, 64),
            Err(PolicyConfigError::MinTooSmall { min: 7, floor: 8 })
        );
        assert_eq!(
            PasswordPolicy::new(20, 19),
            Err(PolicyConfigError::MaxBelowMin { min: 20, max: 19 })
        );
        assert_eq!(
            PasswordPolicy::new(15, 4097),
            Err(PolicyConfigError::MaxTooLarge {
                max: 4097,
                ceiling: 4096
            })
        );
        assert!(
            PasswordPolicy::new(7, 64)
                .unwrap_err()
                .to_string()
                .contains("below the floor of 8")
        );
    }

    #[test]
    fn length_is_checked_first_and_alone() {
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check("abc", &INPUTS).unwrap_err(),
            vec![PasswordProblem::TooShort { min: 15 }]
        );
        // 14 characters, weak as well: only the length is reported.
        assert_eq!(
            codes(policy.check("aaaaaaaaaaaaaa", &INPUTS)),
            ["password_too_short"]
        );
        assert_eq!(
            policy.check(&"x".repeat(129), &INPUTS).unwrap_err(),
            vec![PasswordProblem::TooLong { max: 128 }]
        );
        assert_eq!(
            codes(policy.check(&"Zq9!".repeat(1_000_000), &INPUTS)),
            ["password_too_long"]
        );
        // Exactly at the limits, the length is fine (and then strength decides).
        assert_eq!(codes(policy.check(&"a".repeat(15), &[])), ["weak_password"]);
        assert_eq!(
            codes(policy.check(&"a".repeat(128), &[])),
            ["weak_password"]
        );
        let custom = PasswordPolicy::new(8, 20).unwrap();
        assert_eq!(
            codes(custom.check("fjord-quartz-9", &[])),
            Vec::<&str>::new()
        );
        assert_eq!(
            custom.check("fjord-quartz-lantern-9", &[]).unwrap_err(),
            vec![PasswordProblem::TooLong { max: 20 }]
        );
    }

    #[test]
    fn length_counts_scalar_values_after_nfkc() {
        let policy = PasswordPolicy::default();
        // 14 × (e + combining acute) is 28 scalar values raw, 14 once composed: too short.
        let composed_short = "e\u{301}".repeat(14);
        assert_eq!(composed_short.chars().count(), 28);
        assert_eq!(
            codes(policy.check(&composed_short, &[])),
            ["password_too_short"]
        );
        // 8 ligatures "ﬃ" are 8 scalar values raw, 24 after NFKC: long enough.
        let ligatures = "\u{FB03}".repeat(8);
        assert_ne!(codes(policy.check(&ligatures, &[])), ["password_too_short"]);
        // Multi-byte characters count once: 15 × "ü" is 30 bytes but 15 characters.
        assert_ne!(
            codes(policy.check(&"ü".repeat(15), &[])),
            ["password_too_short"]
        );
        // And a limit of 128 is 128 characters, not bytes.
        let policy = PasswordPolicy::new(8, 16).unwrap();
        assert_ne!(
            codes(policy.check("日本語のパスワードは長くて安全だ", &[])),
            ["password_too_long"]
        );
    }

    #[test]
    fn nfkc_normalization() {
        let password = PlainPassword::new("Ｐａｓｓ\u{FB01}ｘ e\u{301}");
        assert_eq!(password.expose(), "Passfix é");
        assert_eq!(password.char_count(), 9);
        // check returns the normalized form, which is what gets hashed.
        let checked = PasswordPolicy::default()
            .check("ｑｕａｒｔｚ-lantern-fjord-obelisk-9", &INPUTS)
            .unwrap();
        assert_eq!(checked.expose(), "quartz-lantern-fjord-obelisk-9");
        // The same password typed two ways normalizes to the same string.
        assert_eq!(
            PlainPassword::new("cafe\u{301}").expose(),
            PlainPassword::new("caf\u{e9}").expose()
        );
    }

    #[test]
    fn weak_passwords() {
        let policy = PasswordPolicy::default();
        for weak in [
            "passwordpassword",
            "aaaaaaaaaaaaaaaa",
            "123456789012345678",
            "qwertyuiopasdfghjkl",
            "iloveyouiloveyou1",
            "P@ssw0rdP@ssw0rd",
            "abcdefghijklmnopqrstu",
            &"password1".repeat(14),
            &"dragon".repeat(21),
        ] {
            let problems = policy.check(weak, &INPUTS).expect_err(weak);
            assert_eq!(problems.len(), 1, "{weak}");
            let PasswordProblem::Weak { hint } = &problems[0] else {
                panic!("{weak}: {problems:?}");
            };
            assert!(!hint.is_empty());
            assert!(
                !hint.to_lowercase().contains(&weak.to_lowercase()),
                "{hint}"
            );
            assert_eq!(problems[0].code(), "weak_password");
            assert!(
                problems[0]
                    .message()
                    .starts_with("password is too easy to guess.")
            );
        }
    }

    #[test]
    fn passwords_built_from_email_or_name_are_weak() {
        let policy = PasswordPolicy::default();
        for built in [
            "ada.lovelace@example.com!",
            "xQ7!ADA.LOVELACE#pR2zT9",
            "Lovelace-quartz-fjord-9",
            "my name is Ada Lovelace 1815",
            "zK8#vW2$lovelaceQ4!mN7",
        ] {
            let problems = policy.check(built, &INPUTS).unwrap_err();
            assert_eq!(problems.len(), 1, "{built}");
            assert_eq!(problems[0].code(), "weak_password", "{built}");
        }
        // Inputs shorter than 4 characters are not searched for: "ada" may appear.
        let inputs = ["ada@example.com", "ada", "Ada"];
        assert!(
            policy
                .check("Adamant-quartz-fjord-obelisk", &inputs)
                .is_ok()
        );
        // Nor is the email's domain.
        assert!(
            policy
                .check("example-quartz-fjord-obelisk-9", &inputs)
                .is_ok()
        );
    }

    #[test]
    fn good_passwords() {
        let policy = PasswordPolicy::default();
        for good in [
            GOOD,
            "quartz-lantern-fjord-obelisk-9",
            "Tr0ub4dor&3-velvet-Hamburg",
            "xK#9mQ2$vL7@pR4!wZ8",
            "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich",
            "日本語のパスワードは長くて安全だ",
        ] {
            assert!(policy.check(good, &INPUTS).is_ok(), "{good}");
        }
        let ok = policy.check(GOOD, &INPUTS).unwrap();
        assert_eq!(ok.expose(), GOOD);
        assert_eq!(ok.char_count(), GOOD.chars().count());
    }

    #[test]
    fn debug_is_redacted() {
        let password = PlainPassword::new("hunter2-hunter2-hunter2");
        let debug = format!("{password:?}");
        assert_eq!(debug, "PlainPassword([REDACTED])");
        assert!(!debug.contains("hunter2"));
        let result = PasswordPolicy::default().check("hunter2-quartz-fjord-obelisk", &[]);
        assert!(!format!("{result:?}").contains("hunter2"));
    }

    #[test]
    fn problem_codes_and_messages() {
        let cases = [
            (
                PasswordProblem::TooShort { min: 15 },
                "password_too_short",
                "password must be at least 15 characters long",
            ),
            (
                PasswordProblem::TooLong { max: 128 },
                "password_too_long",
                "password must be at most 128 characters long",
            ),
            (
                PasswordProblem::Weak {
                    hint: "Add another word or two.".to_owned(),
                },
                "weak_password",
                "password is too easy to guess. Add another word or two.",
            ),
        ];
        for (problem, code, message) in cases {
            assert_eq!(problem.code(), code);
            assert_eq!(problem.message(), message);
            assert_eq!(problem.to_string(), message);
        }
    }

    #[test]
    fn smallest_periods() {
        let period = |s: &str| smallest_period(&s.chars().collect::<Vec<_>>());
        assert_eq!(period("abcabcab"), 3);
        assert_eq!(period("aaaa"), 1);
        assert_eq!(period("abcd"), 4);
        assert_eq!(period("abab"), 2);
        assert_eq!(period(""), 0);
    }

    #[test]
    fn long_random_passwords_are_fast_and_accepted() {
        // A 128-character password of the kind a password manager generates. In release this
        // takes about a millisecond (see `clearly_strong`); here we only assert the outcome.
        let password: String = "k7#Rq2!vZ9@mW4$xL8%pN3^bT6&hJ1*cF5(gD0)sY-_=+[]{};:,.<>/?"
            .chars()
            .cycle()
            .take(128)
            .collect();
        assert!(PasswordPolicy::default().check(&password, &[]).is_ok());
    }

    fn pattern_password() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("password".to_owned()),
            Just("dragon".to_owned()),
            Just("iloveyou".to_owned()),
            Just("qwerty".to_owned()),
            Just("p@55w0rd".to_owned()),
            Just("1234".to_owned()),
            Just("1984".to_owned()),
            Just("!".to_owned()),
            Just("-".to_owned()),
            "[a-z]{1,3}",
            "[a-zA-Z0-9!@#$%|+]{1,6}",
        ];
        prop::collection::vec(piece, 1..40)
            .prop_map(|pieces| pieces.concat().chars().take(100).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The fast path only accepts what zxcvbn on the whole password accepts.
        #[test]
        fn fast_path_never_accepts_what_zxcvbn_refuses(password in pattern_password()) {
            if clearly_strong(&password, &[]) {
                let score = u8::from(zxcvbn::zxcvbn(&password, &[]).score());
                prop_assert!(score >= MIN_SCORE, "{password:?} scored {score}");
            }
        }

        /// Repeating a base made of patterns does not fool the fast path either.
        #[test]
        fn fast_path_on_repeats(base in pattern_password(), copies in 2_usize..6) {
            let password: String = base.repeat(copies).chars().take(100).collect();
            if clearly_strong(&password, &[]) {
                let score = u8::from(zxcvbn::zxcvbn(&password, &[]).score());
                prop_assert!(score >= MIN_SCORE, "{password:?} scored {score}");
            }
        }
    }
}
