//! Password policy and the secret password type.
//!
//! Passwords are NFKC-normalized before anything else, so that the same password typed on
//! different keyboards or input methods hashes the same, and their length is counted in
//! Unicode scalar values of that normalized form (NIST SP 800-63B).

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, Instant};

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
/// A password holding the user's data needs at least this many other letters not to count
/// as essentially that data.
const MIN_OTHER_LETTERS: usize = 4;

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

    /// Checks a new password against the policy and returns it normalized: first the length
    /// ([`PasswordPolicy::check_length`]), then the strength ([`PlainPassword::weakness`] with
    /// the default [`STRENGTH_BUDGET`]).
    ///
    /// `user_inputs` are the user's own data (the email, its local part, the name): a
    /// password containing one of them (case-insensitively, for those of at least 4
    /// characters) is weak whatever its score.
    ///
    /// A length problem is reported alone (`TooShort` or `TooLong`) and the strength check
    /// is skipped, so an over-long input never reaches zxcvbn. Otherwise the result is either
    /// the password or a single `Weak` problem.
    ///
    /// The strength estimate costs up to a few hundred milliseconds of CPU: a service runs it
    /// off its request threads, with bounded concurrency.
    pub fn check(
        &self,
        raw: &str,
        user_inputs: &[&str],
    ) -> Result<PlainPassword, Vec<PasswordProblem>> {
        let password = self.check_length(raw).map_err(|problem| vec![problem])?;
        match password.weakness(user_inputs, STRENGTH_BUDGET) {
            Some(problem) => Err(vec![problem]),
            None => Ok(password),
        }
    }

    /// The cheap half of [`PasswordPolicy::check`]: normalizes the password and checks its
    /// length only. It costs at most a few microseconds per kilobyte, whatever the input.
    ///
    /// ```
    /// use roster_domain::{PasswordPolicy, PasswordProblem};
    ///
    /// let policy = PasswordPolicy::default();
    /// assert!(policy.check_length("password password").is_ok()); // weak, but long enough
    /// assert_eq!(
    ///     policy.check_length("short").unwrap_err(),
    ///     PasswordProblem::TooShort { min: 15 }
    /// );
    /// ```
    ///
    /// # Errors
    /// `TooLong` (also for more than [`MAX_PASSWORD_BYTES`] bytes, checked before normalizing)
    /// or `TooShort`.
    pub fn check_length(&self, raw: &str) -> Result<PlainPassword, PasswordProblem> {
        let too_long = PasswordProblem::TooLong {
            max: self.max_length,
        };
        // Count while normalizing and stop one past the maximum, so that an enormous input
        // costs no more than a maximal one; the byte cap first bounds what NFKC may have to
        // buffer (a run of combining marks is reordered as a whole).
        if raw.len() > MAX_PASSWORD_BYTES
            || raw.nfkc().take(self.max_length + 1).count() > self.max_length
        {
            return Err(too_long);
        }
        let password = PlainPassword::new(raw);
        if password.char_count() < self.min_length {
            return Err(PasswordProblem::TooShort {
                min: self.min_length,
            });
        }
        Ok(password)
    }
}

/// The longest raw password, in bytes, that is ever normalized: 4 bytes (the longest UTF-8
/// character) for each of the [`MAX_LENGTH_CEILING`] characters the most generous policy
/// allows. Longer inputs are refused before NFKC normalization, which can expand a
/// character eighteen-fold.
pub const MAX_PASSWORD_BYTES: usize = 4 * MAX_LENGTH_CEILING;

/// The default time budget of one strength estimate ([`PlainPassword::weakness`]). The cost
/// is bounded by construction well below it; the budget is the backstop on a busy machine.
pub const STRENGTH_BUDGET: Duration = Duration::from_millis(300);

impl PlainPassword {
    /// Normalizes a password presented to be verified (at login, or as the current password)
    /// and returns `None` when it cannot be any password a policy accepts: more than
    /// [`MAX_PASSWORD_BYTES`] bytes raw, or more than [`MAX_LENGTH_CEILING`] characters once
    /// normalized. The work is bounded either way.
    ///
    /// ```
    /// use roster_domain::PlainPassword;
    ///
    /// assert_eq!(PlainPassword::bounded("\u{FB01}sh").unwrap().expose(), "fish");
    /// assert!(PlainPassword::bounded(&"x".repeat(5000)).is_none());
    /// // U+FDFA is 3 bytes and 18 characters after NFKC.
    /// assert!(PlainPassword::bounded(&"\u{FDFA}".repeat(300)).is_none());
    /// ```
    pub fn bounded(raw: &str) -> Option<PlainPassword> {
        if raw.len() > MAX_PASSWORD_BYTES
            || raw.nfkc().take(MAX_LENGTH_CEILING + 1).count() > MAX_LENGTH_CEILING
        {
            return None;
        }
        Some(PlainPassword::new(raw))
    }

    /// The strength half of [`PasswordPolicy::check`]: `Some(Weak)` when this password is
    /// easy to guess or contains one of `user_inputs`, `None` when it is strong enough.
    ///
    /// The cost is bounded by construction: zxcvbn is only run on text whose estimated cost
    /// (its dictionary lookups, l33t substitutions included) stays under a fixed bound, on the first 100 characters (zxcvbn
    /// reads no more); a password too costly to estimate whole is judged by its parts. If the
    /// estimate still takes longer than `budget`, the password counts as weak (with a hint
    /// saying so): an unproven password is never accepted.
    ///
    /// ```
    /// use std::time::Duration;
    /// use roster_domain::{PasswordPolicy, STRENGTH_BUDGET};
    ///
    /// let password = PasswordPolicy::default().check_length("quartz-lantern-fjord-9").unwrap();
    /// assert_eq!(password.weakness(&[], STRENGTH_BUDGET), None);
    /// // With no time at all, nothing can be proven strong.
    /// assert!(password.weakness(&[], Duration::ZERO).is_some());
    /// ```
    pub fn weakness(&self, user_inputs: &[&str], budget: Duration) -> Option<PasswordProblem> {
        weakness(self.expose(), user_inputs, budget).map(|hint| PasswordProblem::Weak { hint })
    }
}

/// The hint when the password is judged by its parts and none is strong enough.
const PARTS_HINT: &str = "Look-alike substitutions such as @ for a or 0 for o make words \
    barely harder to guess; add more words or characters that are less common.";
/// The hint when the password is judged by its parts and repeats a base that is not strong.
const REPEAT_HINT: &str = "Repeats like \"abcabcabc\" are only slightly harder to guess than \
    \"abc\"; avoid repeated words and characters.";
/// The hint when the estimate ran out of time.
const BUDGET_HINT: &str = "This password has too many substitutions and patterns to be \
    checked in time; use fewer look-alike substitutions and more uncommon words.";

/// Returns a hint when `password` (already normalized, within length limits) is weak.
fn weakness(password: &str, user_inputs: &[&str], budget: Duration) -> Option<String> {
    if is_essentially_personal(&password.to_lowercase(), user_inputs) {
        return Some("Avoid using your email address or name in your password.".to_owned());
    }
    let inputs: Vec<&str> = user_inputs
        .iter()
        .copied()
        .filter(|s| !s.is_empty())
        .collect();
    let estimator = Estimator::new(&inputs, budget);
    let chars: Vec<char> = password.chars().take(ZXCVBN_PREFIX).collect();
    if zxcvbn_cost(&chars) <= CALL_COST_BOUND {
        let Ok(entropy) = estimator.zxcvbn(&chars) else {
            return Some(BUDGET_HINT.to_owned());
        };
        if u8::from(entropy.score()) >= MIN_SCORE {
            return None;
        }
        return Some(hint_from(entropy.feedback()));
    }
    match clearly_strong(&chars, password.chars().count(), &estimator) {
        Ok(true) => None,
        Ok(false) if 2 * smallest_period(&chars) <= chars.len() => Some(REPEAT_HINT.to_owned()),
        Ok(false) => Some(PARTS_HINT.to_owned()),
        Err(OutOfTime) => Some(BUDGET_HINT.to_owned()),
    }
}

/// zxcvbn reads only the first 100 characters of a password; so does everything here.
const ZXCVBN_PREFIX: usize = 100;

/// zxcvbn's l33t table (zxcvbn 3.1, `matching::L33T_TABLE`): each letter and the symbols
/// that may stand for it.
const L33T_TABLE: [&[char]; 12] = [
    &['4', '@'],
    &['8'],
    &['(', '{', '[', '<'],
    &['3'],
    &['6', '9'],
    &['1', '!', '|'],
    &['1', '|', '7'],
    &['0'],
    &['$', '5'],
    &['+', '7'],
    &['%'],
    &['2'],
];

/// The work of the matchers other than the l33t one, in l33t substitution tables.
const OTHER_MATCHERS_COST: u64 = 6;

/// The most [`zxcvbn_cost`] one zxcvbn call may have: about 20 ms on a busy core. A plain
/// passphrase of 100 characters costs 70 000.
const CALL_COST_BOUND: u64 = 80_000;

/// An estimate of zxcvbn's work on `chars` (at most [`ZXCVBN_PREFIX`] of them), in
/// dictionary lookups.
///
/// zxcvbn looks up every substring in its dictionaries (n² lookups), once as typed and
/// again for every table of l33t substitutions that the symbols present allow. That number
/// of tables is the product, over letters, of how many of the letter's symbols occur, so a
/// password sprinkled with all twenty l33t symbols multiplies the work by about a thousand:
/// 128 such characters cost over a second, 20 cost 0.1 s, while a 100-character passphrase
/// costs 20 ms.
fn zxcvbn_cost(chars: &[char]) -> u64 {
    let n = chars.len().min(ZXCVBN_PREFIX) as u64;
    let tables: u64 = L33T_TABLE
        .iter()
        .map(|symbols| symbols.iter().filter(|s| chars.contains(s)).count().max(1) as u64)
        .product();
    (tables + OTHER_MATCHERS_COST) * n * n
}

/// The strength estimate ran past its time budget.
#[derive(Debug, PartialEq, Eq)]
struct OutOfTime;

/// Runs zxcvbn within a time budget, checked before each call, and at most [`MAX_CALLS`]
/// times per password, each on text within [`CALL_COST_BOUND`].
struct Estimator<'a> {
    inputs: &'a [&'a str],
    started: Instant,
    budget: Duration,
    calls: Cell<usize>,
}

impl<'a> Estimator<'a> {
    fn new(inputs: &'a [&'a str], budget: Duration) -> Self {
        Estimator {
            inputs,
            started: Instant::now(),
            budget,
            calls: Cell::new(0),
        }
    }

    fn zxcvbn(&self, chars: &[char]) -> Result<zxcvbn::Entropy, OutOfTime> {
        // The callers only ever pass text within the bound: that is what bounds the cost.
        debug_assert!(
            zxcvbn_cost(chars) <= CALL_COST_BOUND,
            "strength estimate over its cost bound"
        );
        if self.calls.get() >= MAX_CALLS || self.started.elapsed() >= self.budget {
            return Err(OutOfTime);
        }
        self.calls.set(self.calls.get() + 1);
        let text: String = chars.iter().collect();
        Ok(zxcvbn::zxcvbn(&text, self.inputs))
    }
}

/// The most zxcvbn calls one strength estimate makes: the windows and a periodic base.
const MAX_CALLS: usize = MAX_WINDOWS + 1;

/// How many windows the parts check runs zxcvbn on at most.
const MAX_WINDOWS: usize = 6;
/// Characters next to a window boundary that earn no credit, because a pattern crossing
/// the boundary (a word, a keyboard walk) looks like brute force once cut.
const CUT_MARGIN: usize = 6;
/// log10 of the guesses a part must need to be accepted: 10^10, a hundred times zxcvbn's
/// threshold for score 3 (10^8).
const WINDOW_ACCEPT_LOG10: u32 = 10;

/// The check by parts, for a password whose first 100 characters (`chars`) cost too much
/// to estimate whole; `full_len` is the length of the whole password. Whether a part of the
/// password is, on its own, clearly strong: guessing a password means guessing every part
/// of it, so a password is at least as strong as any of its parts. Two kinds of part are
/// tried:
///
/// * for a periodic password (`base` repeated, the last copy possibly cut short), the base
///   alone (zxcvbn's repeat estimate barely multiplies it by the number of copies);
/// * windows as long as [`CALL_COST_BOUND`] allows (at most [`MAX_WINDOWS`] of them,
///   overlapping by two margins): the tokens of zxcvbn's best match sequence for the window
///   are credited with their guesses, except next to a boundary cut inside the password,
///   where a pattern crossing the cut (a word, a keyboard walk) would look like brute force:
///   there, brute-force characters and tokens touching the margin earn nothing.
///
/// A part must need 10^10 guesses, a hundred times zxcvbn's threshold for score 3. A
/// property test checks that this accepts nothing zxcvbn on the whole password refuses; it
/// refuses some passwords zxcvbn would accept (those whose strength is spread thinly over
/// many substituted words), which is the price of a bounded cost.
fn clearly_strong(
    chars: &[char],
    full_len: usize,
    estimator: &Estimator<'_>,
) -> Result<bool, OutOfTime> {
    let threshold = 10_u64.pow(WINDOW_ACCEPT_LOG10);
    let period = smallest_period(chars);
    if 2 * period <= chars.len() {
        let base = &chars[..period];
        if zxcvbn_cost(base) <= CALL_COST_BOUND {
            return Ok(estimator.zxcvbn(base)?.guesses() >= threshold);
        }
        // A long base: judge it by its own parts (every copy of it is cut somewhere).
        return clearly_strong(base, usize::MAX, estimator);
    }
    let mut start = 0;
    let mut windows = 0;
    while start < chars.len() && windows < MAX_WINDOWS {
        let mut end = start + 1;
        while end < chars.len() && zxcvbn_cost(&chars[start..=end]) <= CALL_COST_BOUND {
            end += 1;
        }
        let window = &chars[start..end];
        let lo = if start > 0 { CUT_MARGIN } else { 0 };
        let hi = if end < full_len {
            window.len().saturating_sub(CUT_MARGIN)
        } else {
            window.len()
        };
        if hi > lo {
            windows += 1;
            if window_credit(&estimator.zxcvbn(window)?, lo, hi) >= threshold {
                return Ok(true);
            }
        }
        if end >= chars.len() {
            break;
        }
        start = if end - start > 2 * CUT_MARGIN {
            end - 2 * CUT_MARGIN
        } else {
            end
        };
    }
    Ok(false)
}

/// The product of the guesses credited to a window's tokens between `lo` and `hi`,
/// saturating (it only needs to reach 10^10).
fn window_credit(entropy: &zxcvbn::Entropy, lo: usize, hi: usize) -> u64 {
    entropy
        .sequence()
        .iter()
        .map(|m| match m.pattern {
            // Brute force costs 10 guesses a character: credit the characters outside the
            // margins.
            zxcvbn::matching::patterns::MatchPattern::BruteForce => {
                let credited = (m.j + 1).min(hi).saturating_sub(m.i.max(lo));
                10_u64.saturating_pow(u32::try_from(credited).unwrap_or(u32::MAX))
            }
            _ if m.i >= lo && m.j < hi => m.guesses.unwrap_or(1).max(1),
            _ => 1,
        })
        .fold(1_u64, u64::saturating_mul)
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

/// Whether `lowered` is, or is essentially, the user's own data (NIST SP 800-63B's
/// context-specific words): it contains some of it, and once every piece of it is taken out
/// fewer than [`MIN_OTHER_LETTERS`] letters are left (digits and symbols around a name add
/// little). A longer password that merely contains a name is left to the estimate, which
/// counts the user's data as known words.
fn is_essentially_personal(lowered: &str, user_inputs: &[&str]) -> bool {
    let mut fragments = personal_fragments(user_inputs);
    // Longest first, so that a whole address goes before the words inside it.
    fragments.sort_by_key(|fragment| std::cmp::Reverse(fragment.chars().count()));
    let mut rest = lowered.to_owned();
    let mut found = false;
    for fragment in &fragments {
        if rest.contains(fragment.as_str()) {
            found = true;
            rest = rest.replace(fragment.as_str(), " ");
        }
    }
    found && rest.chars().filter(|c| c.is_alphabetic()).count() < MIN_OTHER_LETTERS
}

/// The lower-cased, NFKC-normalized pieces of the user's data: each input, the
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
        // The address with the local part's separators left out (`annaberg@…` for
        // `anna.berg@…`) is still the address.
        if let Some((local, domain)) = input.rsplit_once('@') {
            let compact: String = local.chars().filter(|c| c.is_alphanumeric()).collect();
            push(&format!("{compact}@{domain}"));
        }
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
    fn passwords_that_are_essentially_the_email_or_name_are_weak() {
        let policy = PasswordPolicy::default();
        for built in [
            "ada.lovelace@example.com!",
            "adalovelace@example.com",
            "Ada Lovelace 1815!!!!",
            "LOVELACE.lovelace.1815",
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

    /// A chain of common words in l33t spelling, as in the red-team finding: every window is
    /// weak, and zxcvbn on the whole password took about a second.
    const CRAFTED: &str = "p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99er7!6er5h@d0wdr@90nm0nk3y%b0%\
        2!pp3r8@5k3+4ng3|p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99";

    /// The check by parts with a generous budget, as the proptests use it.
    fn by_parts(password: &str) -> bool {
        let chars: Vec<char> = password.chars().take(ZXCVBN_PREFIX).collect();
        let estimator = Estimator::new(&[], Duration::from_secs(3600));
        clearly_strong(&chars, password.chars().count(), &estimator).unwrap_or(false)
    }

    /// The hint of a single `Weak` problem.
    fn weak_hint(result: Result<PlainPassword, Vec<PasswordProblem>>) -> String {
        match result.map_err(|mut problems| (problems.len(), problems.pop())) {
            Err((1, Some(PasswordProblem::Weak { hint }))) => hint,
            Err((_, other)) => panic!("expected one weak_password, got {other:?}"),
            Ok(_) => panic!("expected weak_password, got accepted"),
        }
    }

    #[test]
    fn crafted_l33t_chains_are_judged_by_their_parts() {
        assert_eq!(CRAFTED.chars().count(), 128);
        // Too costly to give to zxcvbn whole: judged by a few windows within the cost bound.
        let prefix: Vec<char> = CRAFTED.chars().take(ZXCVBN_PREFIX).collect();
        assert!(zxcvbn_cost(&prefix) > 20 * CALL_COST_BOUND);
        let estimator = Estimator::new(&[], Duration::from_secs(3600));
        // Fifteen words, l33t or not, make a strong password (zxcvbn scores the whole 4).
        assert_eq!(clearly_strong(&prefix, 128, &estimator), Ok(true));
        assert!(estimator.calls.get() <= MAX_CALLS);
        assert!(PasswordPolicy::default().check(CRAFTED, &[]).is_ok());
    }

    #[test]
    fn l33t_dense_passwords_with_no_strong_part_are_weak() {
        let policy = PasswordPolicy::default();
        // All twenty l33t symbols, then one l33t word over and over.
        let password = format!("4@8({{[<3691!|70$5+%2{}", "p@$$w0rd".repeat(8));
        assert_eq!(weak_hint(policy.check(&password, &[])), PARTS_HINT);
        // A short l33t base repeated.
        let repeated: String = "p@$$w0rd(|7+9%2".chars().cycle().take(128).collect();
        assert_eq!(weak_hint(policy.check(&repeated, &[])), REPEAT_HINT);
        for (weak, hint) in [(&password, PARTS_HINT), (&repeated, REPEAT_HINT)] {
            let chars: Vec<char> = weak.chars().take(ZXCVBN_PREFIX).collect();
            assert!(zxcvbn_cost(&chars) > CALL_COST_BOUND, "{hint}");
            assert!(
                PasswordProblem::Weak {
                    hint: hint.to_owned()
                }
                .message()
                .starts_with("password is too easy to guess. ")
            );
        }
    }

    #[test]
    fn long_strong_passwords_still_pass() {
        let policy = PasswordPolicy::new(15, MAX_LENGTH_CEILING).unwrap();
        let words = "correct horse battery staple orbit violin marble thunder crisp anchor \
            velvet quartz lantern fjord obelisk meadow copper silent harbor ";
        let generated: String = "k7#Rq2!vZ9@mW4$xL8%pN3^bT6&hJ1*cF5(gD0)sY-_=+[]{};:,.<>/?"
            .chars()
            .cycle()
            .take(128)
            .collect();
        for (label, password) in [
            (
                "passphrase of 128",
                words.chars().take(128).collect::<String>(),
            ),
            (
                "passphrase of 4096",
                words.chars().cycle().take(4096).collect(),
            ),
            (
                "l33t-dense passphrase",
                "Tr0ub4dor&3-v3lv3t-H@mburg-(0ff33-7!g3r-5unsh!n3-qu@rtz-l@nt3rn-fj0rd".to_owned(),
            ),
            ("generated, many symbols", generated),
            (
                "generated, all l33t symbols",
                "xQ4@vB8(nK{w3[mR6<z9J1!tP|7uY0$h5+cL%2sD".repeat(3),
            ),
        ] {
            assert!(policy.check(&password, &INPUTS).is_ok(), "{label}");
        }
    }

    #[test]
    fn an_exhausted_time_budget_counts_as_weak() {
        let password = PasswordPolicy::default().check_length(GOOD).unwrap();
        assert_eq!(password.weakness(&INPUTS, STRENGTH_BUDGET), None);
        let problem = password.weakness(&INPUTS, Duration::ZERO).unwrap();
        assert_eq!(problem.code(), "weak_password");
        assert_eq!(
            problem,
            PasswordProblem::Weak {
                hint: BUDGET_HINT.to_owned()
            }
        );
        // By parts as well.
        let crafted = PasswordPolicy::default().check_length(CRAFTED).unwrap();
        assert_eq!(
            crafted.weakness(&[], Duration::ZERO),
            Some(PasswordProblem::Weak {
                hint: BUDGET_HINT.to_owned()
            })
        );
        // Essentially personal data needs no estimate: that hint wins even with no time.
        let personal = PasswordPolicy::default()
            .check_length("ADA.LOVELACE#2024!!")
            .unwrap();
        assert_eq!(
            personal
                .weakness(&INPUTS, Duration::ZERO)
                .unwrap()
                .message(),
            "password is too easy to guess. Avoid using your email address or name in your \
             password."
        );
    }

    /// NIST SP 800-63B: refuse what is, or is essentially, the user's own data; a passphrase
    /// that merely contains a name is judged by the estimate like any other.
    #[test]
    fn personal_data_is_refused_only_when_it_is_essentially_the_password() {
        let policy = PasswordPolicy::default();
        let boot = ["boot@example.com", "boot"];
        let anna = ["anna.berg@example.com", "anna.berg", "Anna Berg"];
        let personal = "password is too easy to guess. Avoid using your email address or name \
                        in your password.";
        let refused: &[(&str, &[&str])] = &[
            ("boot@example.com", &boot),
            ("BOOT@EXAMPLE.COM!!", &boot),
            ("bootbootboot2024!", &boot),
            ("boot-boot-boot-boot", &boot),
            ("Anna.Berg.1987!!!", &anna),
            ("berg-anna-berg-anna", &anna),
            ("anna berg 19870412", &anna),
            ("annaberg@example.com", &anna),
            ("AnnaBerg@Example.com!", &anna),
        ];
        for (password, inputs) in refused {
            let problems = policy.check(password, inputs).unwrap_err();
            assert_eq!(problems.len(), 1, "{password}");
            assert_eq!(problems[0].message(), personal, "{password}");
        }
        let accepted: &[(&str, &[&str])] = &[
            ("bootstrap-admin-correct-horse-battery-staple-91", &boot),
            ("boot camp for quiet violet harbours", &boot),
            ("anna paints quiet violet harbours at dawn", &anna),
            ("berg lantern obelisk fjord quartz", &anna),
            ("zK8#vW2$bootQ4!mN7xP", &boot),
        ];
        for (password, inputs) in accepted {
            assert!(policy.check(password, inputs).is_ok(), "{password}");
        }
        // Containing a name is not enough to pass: the estimate still judges the rest, and
        // it knows the user's data as words.
        assert!(policy.check("anna berg anna berg 1234", &anna).is_err());
        assert!(policy.check("boot boot boot qwerty", &boot).is_err());
    }

    #[test]
    fn check_length_alone() {
        let policy = PasswordPolicy::default();
        // Weak but long enough: the length check does not judge strength.
        assert_eq!(
            policy.check_length("aaaaaaaaaaaaaaaa").unwrap().expose(),
            "aaaaaaaaaaaaaaaa"
        );
        assert_eq!(
            policy.check_length("abc").unwrap_err(),
            PasswordProblem::TooShort { min: 15 }
        );
        assert_eq!(
            policy.check_length(&"x".repeat(129)).unwrap_err(),
            PasswordProblem::TooLong { max: 128 }
        );
        // Over the byte cap: refused before normalizing, whatever the policy.
        let generous = PasswordPolicy::new(8, MAX_LENGTH_CEILING).unwrap();
        let marks = format!("a{}", "\u{301}".repeat(MAX_PASSWORD_BYTES / 2));
        assert!(marks.len() > MAX_PASSWORD_BYTES);
        assert_eq!(
            generous.check_length(&marks).unwrap_err(),
            PasswordProblem::TooLong { max: 4096 }
        );
        assert!(generous.check_length(&"ü".repeat(4096)).is_ok());
    }

    #[test]
    fn bounded_login_passwords() {
        // Anything a policy could have accepted is kept, normalized.
        let longest = "\u{FB01}".repeat(2048); // 2048 raw, 4096 after NFKC
        assert_eq!(
            PlainPassword::bounded(&longest).unwrap().char_count(),
            MAX_LENGTH_CEILING
        );
        assert!(PlainPassword::bounded(&"😀".repeat(4096)).is_some());
        // Over the byte cap (checked before normalizing) or over the ceiling once normalized.
        assert!(PlainPassword::bounded(&"😀".repeat(4097)).is_none());
        assert!(PlainPassword::bounded(&"\u{FB01}".repeat(2049)).is_none());
        // The finding: 63 KB of U+FDFA (18 characters each after NFKC).
        assert!(PlainPassword::bounded(&"\u{FDFA}".repeat(21_000)).is_none());
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
        fn parts_never_accept_what_zxcvbn_refuses(password in pattern_password()) {
            if by_parts(&password) {
                let score = u8::from(zxcvbn::zxcvbn(&password, &[]).score());
                prop_assert!(score >= MIN_SCORE, "{password:?} scored {score}");
            }
        }

        /// Whatever the password, the estimate makes few zxcvbn calls, each within the cost
        /// bound (the estimator's debug assertion), and returns.
        #[test]
        fn estimates_stay_within_the_cost_bound(
            password in "[a-z4@8({\\[<369!|70$5+%2 ]{15,300}",
        ) {
            let chars: Vec<char> = password.chars().take(ZXCVBN_PREFIX).collect();
            let estimator = Estimator::new(&[], Duration::from_secs(3600));
            if zxcvbn_cost(&chars) > CALL_COST_BOUND {
                let _ = clearly_strong(&chars, password.chars().count(), &estimator);
                prop_assert!(estimator.calls.get() <= MAX_CALLS);
            }
        }

        /// Repeating a base made of patterns does not fool the check by parts either.
        #[test]
        fn parts_on_repeats(base in pattern_password(), copies in 2_usize..6) {
            let password: String = base.repeat(copies).chars().take(100).collect();
            if by_parts(&password) {
                let score = u8::from(zxcvbn::zxcvbn(&password, &[]).score());
                prop_assert!(score >= MIN_SCORE, "{password:?} scored {score}");
            }
        }
    }
}
