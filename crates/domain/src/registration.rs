//! Which email domains may self-register (`registration.allowed_domains`).
//!
//! An operator lists domains (`example.org`) or wildcards for the subdomains of one
//! (`*.example.org`). A wildcard covers subdomains at any depth but not the domain itself,
//! as a wildcard in a TLS certificate does not: list both `example.org` and `*.example.org`
//! to allow both. Rules are kept and matched in the canonical form [`Email`] uses for its
//! domain (IDNA ASCII, lower case), so `Bücher.DE` and `xn--bcher-kva.de` are one rule.

use std::fmt;
use std::net::IpAddr;

use crate::email::{Email, canonical_domain};

/// The wildcard prefix of a rule that covers subdomains.
const WILDCARD: &str = "*.";

/// One entry of `registration.allowed_domains`: a domain, or `*.` and a domain for its
/// subdomains.
///
/// ```
/// use roster_domain::{DomainRule, Email};
///
/// let exact = DomainRule::parse("Example.ORG")?;
/// assert_eq!(exact.to_string(), "example.org");
/// assert!(exact.allows(&Email::parse("ada@example.org")?));
/// assert!(!exact.allows(&Email::parse("ada@mail.example.org")?));
///
/// // A wildcard covers subdomains at any depth, never the domain itself.
/// let wildcard = DomainRule::parse("*.example.com")?;
/// assert!(wildcard.allows(&Email::parse("ada@eu.mail.example.com")?));
/// assert!(!wildcard.allows(&Email::parse("ada@example.com")?));
/// assert!(!wildcard.allows(&Email::parse("ada@badexample.com")?));
///
/// // Matched on the canonical (IDNA) form.
/// let idn = DomainRule::parse("Bücher.de")?;
/// assert_eq!(idn.domain(), "xn--bcher-kva.de");
/// assert!(idn.allows(&Email::parse("jürgen@BÜCHER.DE")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainRule {
    /// The canonical domain (IDNA ASCII, lower case).
    domain: String,
    /// Whether the rule covers the subdomains of `domain` (and not `domain` itself).
    subdomains: bool,
}

/// Why an entry is not a domain rule. The message names the entry: rules come from the
/// operator's settings, never from clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{entry}` is not a domain rule: {problem}")]
pub struct DomainRuleError {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub problem: DomainRuleProblem,
}

/// What is wrong with a domain rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainRuleProblem {
    /// Nothing but whitespace.
    #[error("it is empty")]
    Empty,
    /// `*` alone, or `*.` with nothing after it.
    #[error("a wildcard needs a domain after `*.` (leave the list empty to allow every domain)")]
    BareWildcard,
    /// A `*` anywhere but as the whole first label.
    #[error("`*` may only stand as the first label, as in `*.example.org`")]
    MisplacedWildcard,
    /// An IP address (or something shaped like one): mail domains are names.
    #[error("an IP address is not a mail domain")]
    IpAddress,
    /// Not a host name after IDNA mapping: empty labels (`a..b`), a leading or trailing dot
    /// or hyphen, characters other than letters, digits and hyphens, an `@`, too long.
    #[error("it is not a domain name (letters, digits and inner hyphens, separated by dots)")]
    NotADomain,
}

impl DomainRule {
    /// Parses one entry: surrounding whitespace is trimmed, the domain is converted to its
    /// canonical form.
    ///
    /// ```
    /// use roster_domain::{DomainRule, DomainRuleProblem};
    ///
    /// for (entry, problem) in [
    ///     ("*", DomainRuleProblem::BareWildcard),
    ///     ("*.", DomainRuleProblem::BareWildcard),
    ///     ("a..b", DomainRuleProblem::NotADomain),
    ///     ("192.0.2.1", DomainRuleProblem::IpAddress),
    ///     ("mail.*.example.org", DomainRuleProblem::MisplacedWildcard),
    /// ] {
    ///     let error = DomainRule::parse(entry).unwrap_err();
    ///     assert_eq!(error.problem, problem);
    ///     assert!(error.to_string().contains(entry));
    /// }
    /// ```
    ///
    /// # Errors
    /// A [`DomainRuleError`] naming the entry and the problem.
    pub fn parse(entry: &str) -> Result<DomainRule, DomainRuleError> {
        let refuse = |problem| DomainRuleError {
            entry: entry.to_owned(),
            problem,
        };
        let text = entry.trim();
        if text.is_empty() {
            return Err(refuse(DomainRuleProblem::Empty));
        }
        let (subdomains, domain) = match text.strip_prefix(WILDCARD) {
            Some(rest) => (true, rest),
            None if text == "*" => return Err(refuse(DomainRuleProblem::BareWildcard)),
            None => (false, text),
        };
        if domain.is_empty() {
            return Err(refuse(DomainRuleProblem::BareWildcard));
        }
        if domain.contains('*') {
            return Err(refuse(DomainRuleProblem::MisplacedWildcard));
        }
        if looks_like_ip(domain) {
            return Err(refuse(DomainRuleProblem::IpAddress));
        }
        let domain = canonical_domain(domain).map_err(|_| refuse(DomainRuleProblem::NotADomain))?;
        if looks_like_ip(&domain) {
            return Err(refuse(DomainRuleProblem::IpAddress));
        }
        Ok(DomainRule { domain, subdomains })
    }

    /// The canonical domain the rule is about (without the `*.`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Whether the rule covers the subdomains of [`DomainRule::domain`] (a `*.` rule)
    /// rather than that domain itself.
    pub fn covers_subdomains(&self) -> bool {
        self.subdomains
    }

    /// Whether an email address's domain is covered.
    pub fn allows(&self, email: &Email) -> bool {
        self.matches(email.canonical_domain())
    }

    /// Whether a canonical domain is covered.
    fn matches(&self, domain: &str) -> bool {
        if self.subdomains {
            domain
                .strip_suffix(self.domain.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            domain == self.domain
        }
    }
}

/// The canonical form: `example.org` or `*.example.org`.
impl fmt::Display for DomainRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subdomains {
            f.write_str(WILDCARD)?;
        }
        f.write_str(&self.domain)
    }
}

/// An IP address in any spelling the operator might use (`192.0.2.1`, `[2001:db8::1]`,
/// `2001:db8::1`), or a dotted name whose last label is all digits (no top-level domain
/// is), such as `10.1`.
fn looks_like_ip(domain: &str) -> bool {
    let bare = domain.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok()
        || domain
            .rsplit('.')
            .next()
            .is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// The domains that may self-register: any, when the list is empty (the default), else an
/// address whose domain some rule covers.
///
/// ```
/// use roster_domain::{AllowedDomains, Email};
///
/// let any = AllowedDomains::default();
/// assert!(any.is_any());
/// assert!(any.allows(&Email::parse("ada@anywhere.example")?));
///
/// let allowed = AllowedDomains::parse(["example.org", "*.example.com"])?;
/// assert!(allowed.allows(&Email::parse("Ada@EXAMPLE.org")?));
/// assert!(allowed.allows(&Email::parse("ada@eu.example.com")?));
/// assert!(!allowed.allows(&Email::parse("ada@example.com")?));
/// assert!(!allowed.allows(&Email::parse("ada@example.net")?));
/// let shown: Vec<String> = allowed.rules().iter().map(ToString::to_string).collect();
/// assert_eq!(shown, ["example.org", "*.example.com"]);
///
/// let error = AllowedDomains::parse(["example.org", "*"]).unwrap_err();
/// assert_eq!(error.entry, "*");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedDomains(Vec<DomainRule>);

impl AllowedDomains {
    /// Parses every entry, in order; a rule listed twice is kept once.
    ///
    /// # Errors
    /// The first entry that is not a domain rule.
    pub fn parse<'a>(
        entries: impl IntoIterator<Item = &'a str>,
    ) -> Result<AllowedDomains, DomainRuleError> {
        let mut rules: Vec<DomainRule> = Vec::new();
        for entry in entries {
            let rule = DomainRule::parse(entry)?;
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        Ok(AllowedDomains(rules))
    }

    /// Whether every domain may register (no rules).
    pub fn is_any(&self) -> bool {
        self.0.is_empty()
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[DomainRule] {
        &self.0
    }

    /// Whether an email address may self-register.
    pub fn allows(&self, email: &Email) -> bool {
        self.is_any() || self.0.iter().any(|rule| rule.allows(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Email {
        Email::parse(text).unwrap()
    }

    #[test]
    fn garbage_entries_are_refused_with_their_problem() {
        let cases = [
            ("", DomainRuleProblem::Empty),
            ("   ", DomainRuleProblem::Empty),
            ("*", DomainRuleProblem::BareWildcard),
            ("*.", DomainRuleProblem::BareWildcard),
            (" *. ", DomainRuleProblem::BareWildcard),
            ("**.example.org", DomainRuleProblem::MisplacedWildcard),
            ("*example.org", DomainRuleProblem::MisplacedWildcard),
            ("*.*.example.org", DomainRuleProblem::MisplacedWildcard),
            ("mail.*.example.org", DomainRuleProblem::MisplacedWildcard),
            ("example.*", DomainRuleProblem::MisplacedWildcard),
            ("a..b", DomainRuleProblem::NotADomain),
            (".example.org", DomainRuleProblem::NotADomain),
            ("example.org.", DomainRuleProblem::NotADomain),
            ("-example.org", DomainRuleProblem::NotADomain),
            ("ex ample.org", DomainRuleProblem::NotADomain),
            ("@example.org", DomainRuleProblem::NotADomain),
            ("ada@example.org", DomainRuleProblem::NotADomain),
            ("example_org", DomainRuleProblem::NotADomain),
            ("*.a..b", DomainRuleProblem::NotADomain),
            ("192.0.2.1", DomainRuleProblem::IpAddress),
            ("*.192.0.2.1", DomainRuleProblem::IpAddress),
            ("10.1", DomainRuleProblem::IpAddress),
            ("[2001:db8::1]", DomainRuleProblem::IpAddress),
            ("2001:db8::1", DomainRuleProblem::IpAddress),
            ("::1", DomainRuleProblem::IpAddress),
            // Full-width digits map to ASCII digits under IDNA: still an address.
            ("１９２.０.２.１", DomainRuleProblem::IpAddress),
        ];
        for (entry, problem) in cases {
            let error = DomainRule::parse(entry).expect_err(entry);
            assert_eq!(error.problem, problem, "{entry:?}");
            assert_eq!(error.entry, entry);
            assert!(error.to_string().contains(&format!("`{entry}`")), "{error}");
        }
    }

    #[test]
    fn entries_are_kept_in_canonical_form() {
        for (entry, shown) in [
            ("example.org", "example.org"),
            ("  Example.ORG ", "example.org"),
            ("*.Example.COM", "*.example.com"),
            ("bücher.de", "xn--bcher-kva.de"),
            ("*.BÜCHER.de", "*.xn--bcher-kva.de"),
            ("xn--bcher-kva.de", "xn--bcher-kva.de"),
            ("localhost", "localhost"),
            ("*.co.uk", "*.co.uk"),
        ] {
            assert_eq!(DomainRule::parse(entry).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn exact_rules_match_the_domain_only() {
        let rule = DomainRule::parse("example.org").unwrap();
        assert!(!rule.covers_subdomains());
        assert!(rule.allows(&email("ada@example.org")));
        assert!(rule.allows(&email("ADA@Example.Org")));
        for other in [
            "ada@mail.example.org",
            "ada@example.org.evil.test",
            "ada@badexample.org",
            "ada@example.com",
        ] {
            assert!(!rule.allows(&email(other)), "{other}");
        }
    }

    #[test]
    fn wildcards_match_subdomains_at_any_depth_but_not_the_domain() {
        let rule = DomainRule::parse("*.example.com").unwrap();
        assert!(rule.covers_subdomains());
        assert_eq!(rule.domain(), "example.com");
        for allowed in ["ada@eu.example.com", "ada@a.b.c.EXAMPLE.com"] {
            assert!(rule.allows(&email(allowed)), "{allowed}");
        }
        for refused in [
            "ada@example.com",
            "ada@badexample.com",
            "ada@example.com.evil.test",
            "ada@xexample.com",
        ] {
            assert!(!rule.allows(&email(refused)), "{refused}");
        }
    }

    #[test]
    fn internationalised_domains_match_whichever_way_they_are_written() {
        let rules = AllowedDomains::parse(["Bücher.de", "*.xn--caf-dma.fr"]).unwrap();
        assert!(rules.allows(&email("jürgen@BÜCHER.de")));
        assert!(rules.allows(&email("jürgen@xn--bcher-kva.de")));
        assert!(rules.allows(&email("amelie@paris.café.fr")));
        assert!(!rules.allows(&email("amelie@café.fr")));
        assert!(!rules.allows(&email("jürgen@buecher.de")));
    }

    #[test]
    fn an_empty_list_allows_any_domain_and_duplicates_are_kept_once() {
        assert!(AllowedDomains::parse([]).unwrap().is_any());
        assert!(AllowedDomains::default().allows(&email("a@b.c")));
        let rules = AllowedDomains::parse(["example.org", "EXAMPLE.org", "*.example.org"]).unwrap();
        assert_eq!(rules.rules().len(), 2);
        assert!(!rules.is_any());
        let error = AllowedDomains::parse(["example.org", "a..b", "*"]).unwrap_err();
        assert_eq!(error.entry, "a..b");
    }
}
