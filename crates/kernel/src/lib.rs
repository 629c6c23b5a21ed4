//! The shared kernel: the few types every domain speaks.
//!
//! Nothing here does I/O. Ports that several domains need (the [`Clock`], the job and mail contracts) are
//! traits; adapters implement them and the binaries wire them.

pub mod clock;
pub mod email;
pub mod error;
pub mod health;
pub mod id;
pub mod job;
pub mod mail;
pub mod memo;
pub mod page;
pub mod schedule;

pub use clock::{Clock, SystemClock};
pub use email::Email;
pub use error::{InfraError, KernelError};
pub use job::{
    Job, JobFailure, JobHandler, JobKind, JobLedger, JobPayload, JobPublisher, PublishError,
};
pub use mail::{MailError, MailTemplate, Mailer, OutgoingEmail, SendEmailHandler};
pub use memo::GenerationalMemo;
pub use page::{Cursor, CursorCodec, Limit, Page};

pub use id::{JobId, UserId};

/// Re-exports used by [`typed_id!`], so that crates declaring ids need no direct uuid/serde dependency.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use uuid;
}
