//! Mail adapter: renders the product's mail templates and delivers them over SMTP (lettre), or, when no SMTP
//! server is configured, drops them as `.eml` files for a developer to open.

mod file;
mod smtp;
mod template;

pub use file::FileMailer;
pub use smtp::LettreMailer;
pub use template::{RenderedMail, render};

use lettre::message::Mailbox;
use thiserror::Error;

/// Why the mail adapter cannot be set up.
#[derive(Debug, Error)]
pub enum SmtpError {
    #[error("SMTP_URL is not a valid SMTP URL: {0}")]
    InvalidUrl(String),
    #[error("MAIL_FROM is not a valid mailbox: {0}")]
    InvalidSender(String),
    #[error("cannot use the mail directory {path}: {reason}")]
    MailDir { path: String, reason: String },
}

/// Parses the sender mailbox, e.g. `DiningCoach <no-reply@diningcoach.app>`.
pub fn sender(raw: &str) -> Result<Mailbox, SmtpError> {
    raw.parse()
        .map_err(|e: lettre::address::AddressError| SmtpError::InvalidSender(e.to_string()))
}
