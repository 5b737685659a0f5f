//! Characters that make text shown to people lie about itself: invisible characters and
//! bidirectional controls.
//!
//! Two sets are defined here, both from Unicode properties so that they can be checked
//! against the standard rather than against a list someone remembered:
//!
//! * **bidirectional controls** ([`is_bidi_control`]), the `Bidi_Control` property: U+061C
//!   ARABIC LETTER MARK, U+200E/U+200F (LRM, RLM), U+202A..U+202E (LRE, RLE, PDF, LRO, RLO)
//!   and U+2066..U+2069 (LRI, RLI, FSI, PDI). They reorder the text around them, so that
//!   `"\u{202e}moc.elpmaxe@nimda"` is displayed as `admin@example.com`.
//! * **invisible characters** ([`is_invisible`]): every `Default_Ignorable_Code_Point`
//!   (Unicode 16: soft hyphen U+00AD, combining grapheme joiner U+034F, the Hangul fillers,
//!   the Mongolian variation selectors and vowel separator, U+200B..U+200F zero-width space,
//!   joiners and marks, U+2060..U+206F word joiner, invisible operators and the deprecated
//!   format characters, variation selectors U+FE00..U+FE0F and U+E0100..U+E01EF, the byte
//!   order mark U+FEFF, the tag characters U+E0000..U+E0FFF, ...) plus the interlinear
//!   annotation controls U+FFF9..U+FFFB. Such characters are drawn as nothing, so two strings
//!   that differ by them look the same, and they can smuggle content past a reader.
//!
//! [`check_display_text`] applies both to free text such as display names and descriptions,
//! with one allowance: the joiners and variation selectors that scripts and emoji need are
//! accepted where they join or select something visible (see its documentation). Email
//! addresses get no allowance (see [`Email::parse`](crate::Email::parse)).

/// Whether `c` is a bidirectional formatting control (the Unicode `Bidi_Control` property).
///
/// ```
/// use roster_domain::text::is_bidi_control;
///
/// assert!(is_bidi_control('\u{202e}')); // RIGHT-TO-LEFT OVERRIDE
/// assert!(is_bidi_control('\u{2066}')); // LEFT-TO-RIGHT ISOLATE
/// assert!(!is_bidi_control('a'));
/// assert!(!is_bidi_control('\u{5d0}')); // Hebrew alef: right-to-left, but a letter
/// ```
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// `Default_Ignorable_Code_Point`, Unicode 16 (`DerivedCoreProperties.txt`), as ranges.
/// A test checks every code point against the table of the `unicode-security` crate.
const DEFAULT_IGNORABLE: &[(char, char)] = &[
    ('\u{00ad}', '\u{00ad}'),
    ('\u{034f}', '\u{034f}'),
    ('\u{061c}', '\u{061c}'),
    ('\u{115f}', '\u{1160}'),
    ('\u{17b4}', '\u{17b5}'),
    ('\u{180b}', '\u{180f}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2060}', '\u{206f}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{fe00}', '\u{fe0f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{ffa0}', '\u{ffa0}'),
    ('\u{fff0}', '\u{fff8}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0000}', '\u{e0fff}'),
];

/// Whether `c` is drawn as nothing: a `Default_Ignorable_Code_Point` (which includes the
/// zero-width characters, the bidirectional controls, the variation selectors and the tag
/// characters) or an interlinear annotation control (U+FFF9..U+FFFB).
///
/// ```
/// use roster_domain::text::is_invisible;
///
/// for c in ['\u{200b}', '\u{ad}', '\u{feff}', '\u{2060}', '\u{fe0f}', '\u{e0041}'] {
///     assert!(is_invisible(c), "{:04x}", c as u32);
/// }
/// assert!(!is_invisible(' '));
/// assert!(!is_invisible('ж'));
/// ```
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{fff9}'..='\u{fffb}')
        || DEFAULT_IGNORABLE
            .binary_search_by(|&(low, high)| {
                if high < c {
                    std::cmp::Ordering::Less
                } else if low > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
}

/// Why a piece of text is refused by [`check_display_text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// A bidirectional control ([`is_bidi_control`]).
    BidiControl,
    /// An invisible character ([`is_invisible`]) outside the allowance for joiners and
    /// variation selectors.
    Invisible,
}

/// ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200c}' | '\u{200d}')
}

/// The variation selectors: U+FE00..U+FE0F, U+E0100..U+E01EF and the Mongolian free
/// variation selectors U+180B..U+180D, U+180F.
fn is_variation_selector(c: char) -> bool {
    matches!(
        c,
        '\u{fe00}'..='\u{fe0f}'
            | '\u{e0100}'..='\u{e01ef}'
            | '\u{180b}'..='\u{180d}'
            | '\u{180f}'
    )
}

/// A character something can be attached to: visible, not whitespace, and outside ASCII
/// (Latin text never needs a joiner or a variation selector; Persian, Indic scripts,
/// Mongolian and emoji do).
fn is_visible_non_ascii(c: char) -> bool {
    !c.is_ascii() && !c.is_whitespace() && !c.is_control() && !is_invisible(c)
}

/// Checks free text shown to people (display names, descriptions): no bidirectional control
/// anywhere, and no invisible character except
///
/// * a variation selector directly after a visible non-ASCII character (the emoji
///   presentation selector in `❤️`), one at most;
/// * ZERO WIDTH NON-JOINER or ZERO WIDTH JOINER between a visible non-ASCII character (or
///   such a character and its variation selector) and another visible non-ASCII character,
///   as Persian words (`علی‌رضا`), Indic conjuncts and emoji sequences (`👩‍💻`) use them.
///
/// Anything else invisible is refused, so `Ada\u{200b}` or `ad\u{200d}min` are refused.
///
/// ```
/// use roster_domain::text::{check_display_text, TextProblem};
///
/// assert_eq!(check_display_text("Jürgen Groß"), Ok(()));
/// assert_eq!(check_display_text("👩\u{200d}💻 ❤\u{fe0f}"), Ok(()));
/// assert_eq!(check_display_text("Ada\u{202e}gpj.exe"), Err(TextProblem::BidiControl));
/// assert_eq!(check_display_text("Ada\u{200b}"), Err(TextProblem::Invisible));
/// assert_eq!(check_display_text("ad\u{200d}min"), Err(TextProblem::Invisible));
/// ```
///
/// # Errors
/// The first problem found, bidirectional controls before invisible characters.
pub fn check_display_text(text: &str) -> Result<(), TextProblem> {
    if text.is_ascii() {
        return Ok(());
    }
    if text.chars().any(is_bidi_control) {
        return Err(TextProblem::BidiControl);
    }
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !is_invisible(c) {
            continue;
        }
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let allowed = if is_variation_selector(c) {
            before.is_some_and(is_visible_non_ascii)
        } else if is_joiner(c) {
            let joined_before = before.is_some_and(is_visible_non_ascii)
                || (before.is_some_and(is_variation_selector)
                    && i >= 2
                    && is_visible_non_ascii(chars[i - 2]));
            joined_before && after.is_some_and(is_visible_non_ascii)
        } else {
            false
        };
        if !allowed {
            return Err(TextProblem::Invisible);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Default_Ignorable_Code_Point` as `unicode-security` knows it: its skeleton drops
    /// exactly those characters (and maps every other one to a non-empty prototype).
    fn default_ignorable_per_unicode_security(c: char) -> bool {
        unicode_security::skeleton(c.encode_utf8(&mut [0; 4]))
            .next()
            .is_none()
    }

    #[test]
    fn the_invisible_table_is_default_ignorable_code_point() {
        let mut checked = 0;
        for c in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            let expected =
                default_ignorable_per_unicode_security(c) || matches!(c, '\u{fff9}'..='\u{fffb}');
            assert_eq!(is_invisible(c), expected, "U+{:04X}", c as u32);
            checked += 1;
        }
        assert_eq!(checked, 0x11_0000 - 0x800);
    }

    #[test]
    fn bidi_controls_are_invisible_too() {
        for c in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            if is_bidi_control(c) {
                assert!(is_invisible(c), "U+{:04X}", c as u32);
            }
        }
    }

    #[test]
    fn display_text_refused() {
        let cases: &[(&str, TextProblem)] = &[
            ("\u{202e}Ada", TextProblem::BidiControl),
            ("Ada\u{202d}", TextProblem::BidiControl),
            ("Ada \u{2066}x\u{2069}", TextProblem::BidiControl),
            ("Ada\u{200e}", TextProblem::BidiControl),
            ("علی\u{200f}", TextProblem::BidiControl),
            ("\u{61c}Ada", TextProblem::BidiControl),
            ("Ada\u{200b}Lovelace", TextProblem::Invisible),
            ("Ada\u{ad}", TextProblem::Invisible),
            ("\u{feff}Ada", TextProblem::Invisible),
            ("Ad\u{2060}a", TextProblem::Invisible),
            ("Ada\u{2062}", TextProblem::Invisible),
            ("\u{3164}", TextProblem::Invisible),
            ("\u{115f}\u{1160}", TextProblem::Invisible),
            ("Ada\u{e0041}\u{e0042}", TextProblem::Invisible),
            ("Ada\u{fff9}x\u{fffb}", TextProblem::Invisible),
            ("Ada\u{34f}", TextProblem::Invisible),
            // Joiners and selectors next to ASCII, whitespace or nothing.
            ("ad\u{200d}min", TextProblem::Invisible),
            ("ad\u{200c}min", TextProblem::Invisible),
            ("Ada\u{fe0f}", TextProblem::Invisible),
            ("\u{200d}👩", TextProblem::Invisible),
            ("👩\u{200d}", TextProblem::Invisible),
            ("👩 \u{200d}💻", TextProblem::Invisible),
            ("\u{fe0f}", TextProblem::Invisible),
            // Runs of them carry hidden data.
            ("é\u{fe0f}\u{fe0f}", TextProblem::Invisible),
            ("é\u{e0100}\u{e0101}", TextProblem::Invisible),
            ("👩\u{200d}\u{200d}💻", TextProblem::Invisible),
        ];
        for (input, problem) in cases {
            assert_eq!(check_display_text(input), Err(*problem), "{input:?}");
        }
    }

    #[test]
    fn display_text_accepted() {
        for input in [
            "Ada Lovelace",
            "Jürgen Groß",
            "Σοφία Παπαδοπούλου",
            "Иван Петров",
            "李小龍",
            "שרה כהן",
            "محمد علی",
            "علی\u{200c}رضا",
            "क्\u{200d}ष",
            "👩\u{200d}💻",
            "🏳\u{fe0f}\u{200d}🌈",
            "❤\u{fe0f} Ada",
            "ᠠ\u{180b}",
            "葛\u{e0100}",
            "Zoë\u{a0}Smith",
        ] {
            assert_eq!(check_display_text(input), Ok(()), "{input:?}");
        }
    }
}
