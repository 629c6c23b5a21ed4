use std::time::Duration;

use async_trait::async_trait;
use diningcoach_kernel::{JobId, MailError, Mailer, OutgoingEmail};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{SmtpError, render};

/// Delivers mail to an SMTP server (`smtp://host:port`, `smtps://…` or `smtp://…?tls=required`, credentials in
/// the URL), with pooled connections and a timeout, so a hung server turns into a retry instead of a stuck worker.
pub struct LettreMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl LettreMailer {
    pub fn new(url: &str, from: Mailbox) -> Result<Self, SmtpError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| SmtpError::InvalidUrl(e.to_string()))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self { transport, from })
    }
}

/// Builds the MIME message: plain text and HTML alternatives, with the job id as Message-ID so that a mail sent
/// again after a crash is recognisably the same mail.
pub(crate) fn message(
    from: &Mailbox,
    message_id: JobId,
    mail: &OutgoingEmail,
) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .map_err(|e| MailError::Rejected(format!("recipient: {e}")))?;
    let rendered = render(&mail.template);
    let domain = from.email.domain().to_owned();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(format!("<{message_id}@{domain}>")))
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .map_err(|e| MailError::Rejected(e.to_string()))
}

#[async_trait]
impl Mailer for LettreMailer {
    async fn send(&self, message_id: JobId, mail: &OutgoingEmail) -> Result<(), MailError> {
        let message = message(&self.from, message_id, mail)?;
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::info!(%message_id, to = %mail.to, "mail delivered to the SMTP server");
                Ok(())
            }
            // A 5xx answer will not change on retry; anything else (no connection, 4xx, timeout) may.
            Err(error) if error.is_permanent() => Err(MailError::Rejected(error.to_string())),
            Err(error) => Err(MailError::Unavailable(error.to_string())),
        }
    }
}
