use std::fmt;

use serde::{Deserialize, Serialize};

use crate::KernelError;

/// An email address, trimmed and lower-cased, so that `Ann@Example.org ` and `ann@example.org` are one account.
///
/// The check is deliberately structural (one `@`, a dotted domain, RFC 5321 lengths, no spaces or control
/// characters): the only real proof that an address works is the confirmation mail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, KernelError> {
        let normalised = raw.trim().to_lowercase();
        let invalid = |reason| Err(KernelError::InvalidEmail { reason });
        if normalised.is_empty() {
            return invalid("it is empty");
        }
        if normalised.len() > 254 {
            return invalid("it is longer than 254 characters");
        }
        if normalised
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return invalid("it contains spaces or control characters");
        }
        let Some((local, domain)) = normalised.split_once('@') else {
            return invalid("it has no @");
        };
        if local.is_empty() || local.len() > 64 {
            return invalid("the part before @ must be 1 to 64 characters");
        }
        if domain.contains('@') {
            return invalid("it has more than one @");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
        {
            return invalid("the domain must be a dotted name such as example.org");
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = KernelError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn normalises_case_and_surrounding_space() {
        let email = Email::parse("  Ann.Lee@Example.ORG ").map(|e| e.to_string());
        assert_eq!(email, Ok("ann.lee@example.org".to_owned()));
    }

    #[test]
    fn rejects_what_cannot_be_an_address() {
        for raw in [
            "",
            "   ",
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "ann@@example.org",
            "ann@exa mple.org",
            "ann@.example.org",
            "ann@example..org",
            "ann@-example.org",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} was accepted");
        }
        let too_long = format!("{}@example.org", "a".repeat(65));
        assert!(Email::parse(&too_long).is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(raw in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            }
        }
    }
}
