//! Barcodes: GS1 Global Trade Item Numbers.
//!
//! A product carries one GTIN, but it is printed and scanned in several lengths: EAN-13 in most of the world,
//! UPC-A (12 digits) in North America, EAN-8 on small packs, GTIN-14 on cases and in supplier data. The UPC-A
//! `012345678905` and the EAN-13 `0012345678905` are the *same* product, and data sources (Open Food Facts
//! among them) sometimes strip leading zeros. So every form is left-padded with zeros to **14 digits**, which is
//! what GS1 itself does in databases; that 14-digit string is the one canonical, stored and compared form.
//! Padding with zeros never changes the check digit, which is why the forms agree.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{CatalogError, GtinProblem};

/// Digits of the canonical form.
pub const GTIN_DIGITS: usize = 14;

/// A validated GTIN, stored as its canonical 14-digit form (zero-padded on the left).
///
/// Equality, ordering and hashing are on the canonical form, so a UPC-A and its EAN-13 equivalent are equal.
/// Ordering of canonical strings is also numeric ordering, which keeps keyset pagination by barcode simple.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gtin([u8; GTIN_DIGITS]);

/// The printed form a GTIN takes, given by its leading zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GtinFormat {
    /// 8 digits (six leading zeros in the canonical form).
    Ean8,
    /// 12 digits, North America (two leading zeros).
    UpcA,
    /// 13 digits (one leading zero).
    Ean13,
    /// 14 digits, an indicator digit in front (trade units, cases).
    Gtin14,
}

impl Gtin {
    /// Parses a scanned or typed barcode: EAN-8, UPC-A, EAN-13 or GTIN-14, with or without leading zeros, with
    /// surrounding whitespace ignored. 9 to 11 digits are read as a longer form whose leading zeros were
    /// stripped. Fewer than 8 digits are refused: an EAN-8 never starts with 0 outside a shop's own codes, so a
    /// 7-digit text is a typo, not a barcode.
    ///
    /// # Errors
    /// [`CatalogError::MalformedGtin`] when the text is not 8–14 digits or is all zeros;
    /// [`CatalogError::InvalidGtin`] with the expected check digit when the last digit is wrong.
    pub fn parse(input: &str) -> Result<Self, CatalogError> {
        let digits = input.trim().as_bytes();
        if digits.is_empty() {
            return Err(CatalogError::MalformedGtin(GtinProblem::Empty));
        }
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(CatalogError::MalformedGtin(GtinProblem::NotDigits));
        }
        if !(8..=GTIN_DIGITS).contains(&digits.len()) {
            return Err(CatalogError::MalformedGtin(GtinProblem::WrongLength {
                digits: digits.len(),
            }));
        }
        let mut canonical = [b'0'; GTIN_DIGITS];
        canonical[GTIN_DIGITS - digits.len()..].copy_from_slice(digits);
        if canonical.iter().all(|&d| d == b'0') {
            return Err(CatalogError::MalformedGtin(GtinProblem::AllZeros));
        }
        let expected = check_digit(&canonical[..GTIN_DIGITS - 1]);
        let found = canonical[GTIN_DIGITS - 1] - b'0';
        if expected != found {
            return Err(CatalogError::InvalidGtin {
                expected_check_digit: expected,
                found_check_digit: found,
            });
        }
        Ok(Self(canonical))
    }

    /// Completes a payload (the digits before the check digit: 7, 11, 12 or 13 of them, or anything from 7 to
    /// 13) with its check digit. Used to make barcodes, e.g. synthetic ones.
    ///
    /// # Errors
    /// [`CatalogError::MalformedGtin`] when the payload is not 7–13 digits or is all zeros.
    pub fn from_payload(payload: &str) -> Result<Self, CatalogError> {
        let digits = payload.as_bytes();
        if digits.is_empty() {
            return Err(CatalogError::MalformedGtin(GtinProblem::Empty));
        }
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(CatalogError::MalformedGtin(GtinProblem::NotDigits));
        }
        if !(7..GTIN_DIGITS).contains(&digits.len()) {
            return Err(CatalogError::MalformedGtin(GtinProblem::WrongLength {
                digits: digits.len() + 1,
            }));
        }
        let mut canonical = [b'0'; GTIN_DIGITS];
        canonical[GTIN_DIGITS - 1 - digits.len()..GTIN_DIGITS - 1].copy_from_slice(digits);
        if canonical.iter().all(|&d| d == b'0') {
            return Err(CatalogError::MalformedGtin(GtinProblem::AllZeros));
        }
        canonical[GTIN_DIGITS - 1] = b'0' + check_digit(&canonical[..GTIN_DIGITS - 1]);
        Ok(Self(canonical))
    }

    /// The canonical 14-digit form: what the database stores and what look-ups compare.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Always ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The canonical form as a number (below 10^14): a compact key for de-duplicating large imports in memory.
    #[must_use]
    pub fn as_u64(&self) -> u64 {
        self.0
            .iter()
            .fold(0_u64, |n, &d| n * 10 + u64::from(d - b'0'))
    }

    /// The form a shopper sees on the pack, deduced from the leading zeros.
    #[must_use]
    pub fn format(&self) -> GtinFormat {
        let zeros = self.0.iter().take_while(|&&d| d == b'0').count();
        match zeros {
            6.. => GtinFormat::Ean8,
            2..=5 => GtinFormat::UpcA,
            1 => GtinFormat::Ean13,
            _ => GtinFormat::Gtin14,
        }
    }

    /// The code as printed on the pack (8, 12, 13 or 14 digits), for display; never for comparison.
    #[must_use]
    pub fn printed(&self) -> &str {
        let len = match self.format() {
            GtinFormat::Ean8 => 8,
            GtinFormat::UpcA => 12,
            GtinFormat::Ean13 => 13,
            GtinFormat::Gtin14 => 14,
        };
        &self.as_str()[GTIN_DIGITS - len..]
    }
}

/// The GS1 check digit of the digits before it: weights 3 and 1 alternate from the right, starting with 3.
fn check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    // The value is below 10.
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gtin({})", self.as_str())
    }
}

impl FromStr for Gtin {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Gtin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Gtin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_printed_form_parses_to_one_canonical_code() {
        // (input, canonical, format)
        let cases = [
            // Nutella 400 g, EAN-13.
            ("3017620422003", "03017620422003", GtinFormat::Ean13),
            ("03017620422003", "03017620422003", GtinFormat::Ean13),
            ("  3017620422003\n", "03017620422003", GtinFormat::Ean13),
            // Coca-Cola 12 oz can, UPC-A, and the same as EAN-13 and GTIN-14.
            ("049000028911", "00049000028911", GtinFormat::UpcA),
            ("0049000028911", "00049000028911", GtinFormat::UpcA),
            ("00049000028911", "00049000028911", GtinFormat::UpcA),
            // The UPC-A with its leading zero stripped, as some exports store it.
            ("49000028911", "00049000028911", GtinFormat::UpcA),
            // EAN-8.
            ("96385074", "00000096385074", GtinFormat::Ean8),
            ("0000096385074", "00000096385074", GtinFormat::Ean8),
            // A GTIN-14 with an indicator digit (a case of the product).
            ("10049000028918", "10049000028918", GtinFormat::Gtin14),
        ];
        for (input, canonical, format) in cases {
            let gtin = Gtin::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(gtin.as_str(), canonical, "{input}");
            assert_eq!(gtin.format(), format, "{input}");
        }
        assert_eq!(
            Gtin::parse("049000028911").unwrap(),
            Gtin::parse("0049000028911").unwrap()
        );
        assert_eq!(
            Gtin::parse("049000028911").unwrap().printed(),
            "049000028911"
        );
        assert_eq!(Gtin::parse("96385074").unwrap().printed(), "96385074");
    }

    #[test]
    fn a_wrong_code_says_why() {
        let cases = [
            (
                "3017620422004",
                CatalogError::InvalidGtin {
                    expected_check_digit: 3,
                    found_check_digit: 4,
                },
            ),
            (
                "049000028912",
                CatalogError::InvalidGtin {
                    expected_check_digit: 1,
                    found_check_digit: 2,
                },
            ),
            ("", CatalogError::MalformedGtin(GtinProblem::Empty)),
            ("   ", CatalogError::MalformedGtin(GtinProblem::Empty)),
            (
                "30176204220O3",
                CatalogError::MalformedGtin(GtinProblem::NotDigits),
            ),
            (
                "3017 620422003",
                CatalogError::MalformedGtin(GtinProblem::NotDigits),
            ),
            (
                "-3017620422003",
                CatalogError::MalformedGtin(GtinProblem::NotDigits),
            ),
            (
                "٣٠١٧٦٢٠٤٢٢٠٠٣",
                CatalogError::MalformedGtin(GtinProblem::NotDigits),
            ),
            (
                "1234567",
                CatalogError::MalformedGtin(GtinProblem::WrongLength { digits: 7 }),
            ),
            (
                "123456789012345",
                CatalogError::MalformedGtin(GtinProblem::WrongLength { digits: 15 }),
            ),
            (
                "00000000",
                CatalogError::MalformedGtin(GtinProblem::AllZeros),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Gtin::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn payloads_get_their_check_digit() {
        assert_eq!(
            Gtin::from_payload("301762042200").unwrap(),
            Gtin::parse("3017620422003").unwrap()
        );
        assert_eq!(Gtin::from_payload("9638507").unwrap().printed(), "96385074");
        assert!(Gtin::from_payload("123456").is_err());
        assert!(Gtin::from_payload("0000000").is_err());
    }

    #[test]
    fn serialises_as_the_canonical_string() {
        let gtin = Gtin::parse("049000028911").unwrap();
        assert_eq!(serde_json::to_string(&gtin).unwrap(), "\"00049000028911\"");
        let back: Gtin = serde_json::from_str("\"0049000028911\"").unwrap();
        assert_eq!(back, gtin);
        assert!(serde_json::from_str::<Gtin>("\"0049000028912\"").is_err());
        assert_eq!(gtin.as_u64(), 49_000_028_911);
    }

    proptest! {
        #[test]
        fn never_panics(input in ".{0,40}") {
            let _ = Gtin::parse(&input);
        }

        #[test]
        fn never_panics_on_digit_soup(input in "[0-9 ]{0,20}") {
            let _ = Gtin::parse(&input);
        }

        #[test]
        fn valid_codes_round_trip_in_every_form(payload in "[0-9]{13}", zeros in 0_usize..4) {
            let Ok(gtin) = Gtin::from_payload(&payload) else { return Ok(()) };
            prop_assert_eq!(Gtin::parse(gtin.as_str()), Ok(gtin));
            prop_assert_eq!(Gtin::parse(gtin.printed()), Ok(gtin));
            let padded = format!("{}{}", "0".repeat(zeros), gtin.printed());
            if padded.len() <= GTIN_DIGITS {
                prop_assert_eq!(Gtin::parse(&padded), Ok(gtin));
            }
            prop_assert_eq!(Gtin::parse(&format!(" {gtin} ")), Ok(gtin));
        }

        #[test]
        fn changing_one_digit_is_detected(payload in "[1-9][0-9]{12}", position in 0_usize..14, delta in 1_u8..10) {
            let gtin = Gtin::from_payload(&payload).unwrap();
            let mut digits = gtin.as_str().as_bytes().to_vec();
            digits[position] = b'0' + (digits[position] - b'0' + delta) % 10;
            let altered = String::from_utf8(digits).unwrap();
            prop_assert!(Gtin::parse(&altered).is_err(), "{} accepted", altered);
        }
    }
}
