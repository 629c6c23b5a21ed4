use diningcoach_kernel::{InfraError, KernelError};

use crate::food::FoodId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogError {
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// The stored health profile names a code the diet catalog no longer has (the catalog is data and evolves):
    /// judging without it could say "ok" to someone it is not ok for, so the user must update the profile first.
    #[error("the health profile needs updating: {0}")]
    HealthProfileOutdated(String),
    #[error("the account does not exist")]
    UserNotFound,
    /// A barcode whose digits are well formed but whose last digit is not the GS1 check digit of the others: a
    /// mistyped or misread code. The expected digit lets a client say "did you mean …".
    #[error(
        "invalid barcode: the check digit should be {expected_check_digit}, not {found_check_digit}"
    )]
    InvalidGtin {
        expected_check_digit: u8,
        found_check_digit: u8,
    },
    /// A barcode that is not a GTIN at all (wrong length, letters, all zeros).
    #[error("malformed barcode: {0}")]
    MalformedGtin(GtinProblem),
    /// A food (import row or user submission) failed validation; every field at fault is listed, so that a
    /// client can fix them all at once (RFC 9457 field errors).
    #[error("invalid food: {}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidFood { errors: Vec<FieldError> },
    /// A search text that is empty once normalised, or too long to be a search.
    #[error("invalid search query: {0}")]
    InvalidSearchQuery(String),
    /// An import file that cannot be read at all: no header, a required column missing, an unknown column in
    /// our own format. Row-level problems are never this: they are reported per row and skipped.
    #[error("unreadable import file: {0}")]
    UnreadableImport(String),
    #[error("no such food")]
    FoodNotFound,
    /// Another food already has this barcode: the client should look that one up instead of adding a copy.
    #[error("food {existing} already has this barcode")]
    BarcodeTaken { existing: FoodId },
    /// The food changed since the client read it (`If-Match` carried another version).
    #[error("the food has changed since version {expected}; it is at version {current}")]
    VersionMismatch { expected: i32, current: i32 },
    /// Adding foods needs a confirmed email; editing and deleting them needs an admin.
    #[error("{0}")]
    NotAllowed(&'static str),
    /// No import with this id.
    #[error("no such import")]
    ImportNotFound,
    /// Another run holds the import and committed progress recently; try again once its claim goes stale.
    #[error("the import is being run elsewhere")]
    ImportBusy,
    /// An `Idempotency-Key` reused with a different request (DESIGN.md §4: 422).
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

/// Why a text is not a GTIN, before any check digit is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum GtinProblem {
    #[error("no digits given")]
    Empty,
    #[error("only digits are allowed")]
    NotDigits,
    /// GTINs have 8, 12, 13 or 14 digits; 9 to 11 are accepted as zero-stripped forms.
    #[error("{digits} digits; a barcode has 8, 12, 13 or 14 digits")]
    WrongLength { digits: usize },
    /// All zeros passes the check-digit test but names no product.
    #[error("all digits are zero")]
    AllZeros,
}

/// One field of a food that failed validation, with a path a client can point at (`nutrients.fat_g`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
