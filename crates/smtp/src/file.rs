use std::path::PathBuf;

use async_trait::async_trait;
use diningcoach_kernel::{JobId, MailError, Mailer, OutgoingEmail};
use lettre::message::Mailbox;

use crate::SmtpError;
use crate::smtp::message;

/// Writes each mail as `<message id>.eml` in a directory instead of sending it: the default on a developer's
/// machine, where no SMTP server runs. Any mail client opens the files. Writing the same job twice replaces the
/// file, so the drop is idempotent like a real delivery should be.
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox) -> Result<Self, SmtpError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| SmtpError::MailDir {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self { dir, from })
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message_id: JobId, mail: &OutgoingEmail) -> Result<(), MailError> {
        let bytes = message(&self.from, message_id, mail)?.formatted();
        let path = self.dir.join(format!("{message_id}.eml"));
        let partial = self.dir.join(format!(".{message_id}.eml.partial"));
        // Write then rename, so a reader never sees half a mail.
        tokio::fs::write(&partial, bytes)
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?;
        tracing::info!(%message_id, to = %mail.to, path = %path.display(), "mail written to the mail directory");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use diningcoach_kernel::{Email, MailTemplate};

    use super::*;

    #[tokio::test]
    async fn writes_a_complete_mime_mail_named_by_its_id() {
        let dir = std::env::temp_dir().join(format!("dc-mail-{}", JobId::generate()));
        let mailer = FileMailer::new(
            &dir,
            crate::sender("DiningCoach <no-reply@diningcoach.app>").unwrap(),
        )
        .unwrap();
        let id = JobId::generate();
        let mail = OutgoingEmail {
            to: Email::parse("ann@example.org").unwrap(),
            template: MailTemplate::ResetPassword {
                nickname: "Ann".into(),
                link: "https://a/reset?token=t".into(),
            },
        };
        mailer.send(id, &mail).await.unwrap();
        mailer.send(id, &mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1, "the same job writes one file");
        let eml = std::fs::read_to_string(dir.join(format!("{id}.eml"))).unwrap();
        assert!(eml.contains("To: ann@example.org"));
        assert!(eml.contains(&format!("Message-ID: <{id}@diningcoach.app>")));
        assert!(eml.contains("Subject: Reset your DiningCoach password"));
        assert!(eml.contains("multipart/alternative"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
