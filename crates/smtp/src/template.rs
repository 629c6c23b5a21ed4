use diningcoach_kernel::MailTemplate;

/// A mail ready to send: subject, plain-text body and HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

struct Source {
    subject: &'static str,
    text: &'static str,
    html: &'static str,
}

fn source(template: &MailTemplate) -> (Source, Vec<(&'static str, &str)>) {
    match template {
        MailTemplate::ConfirmEmail { nickname, link } => (
            Source {
                subject: "Confirm your DiningCoach email address",
                text: include_str!("../templates/confirm_email.txt"),
                html: include_str!("../templates/confirm_email.html"),
            },
            vec![("nickname", nickname.as_str()), ("link", link.as_str())],
        ),
        MailTemplate::ResetPassword { nickname, link } => (
            Source {
                subject: "Reset your DiningCoach password",
                text: include_str!("../templates/reset_password.txt"),
                html: include_str!("../templates/reset_password.html"),
            },
            vec![("nickname", nickname.as_str()), ("link", link.as_str())],
        ),
    }
}

/// Fills a template. Values are HTML-escaped in the HTML body: a nickname is user input and must not become markup.
pub fn render(template: &MailTemplate) -> RenderedMail {
    let (source, values) = source(template);
    let fill = |body: &str, escape: bool| {
        values.iter().fold(body.to_owned(), |body, (name, value)| {
            let value = if escape {
                escape_html(value)
            } else {
                (*value).to_owned()
            };
            body.replace(&format!("{{{{{name}}}}}"), &value)
        })
    };
    RenderedMail {
        subject: source.subject.to_owned(),
        text: fill(source.text, false),
        html: fill(source.html, true),
    }
}

fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder_and_escapes_html() {
        let mail = render(&MailTemplate::ConfirmEmail {
            nickname: "<b>Ann</b>".into(),
            link: "https://app.example/verify-email?token=abc&x=1".into(),
        });
        assert!(mail.text.contains("Hello <b>Ann</b>,"));
        assert!(
            mail.text
                .contains("https://app.example/verify-email?token=abc&x=1")
        );
        assert!(mail.html.contains("Hello &lt;b&gt;Ann&lt;/b&gt;,"));
        assert!(
            mail.html
                .contains("href=\"https://app.example/verify-email?token=abc&amp;x=1\"")
        );
        for body in [&mail.text, &mail.html] {
            assert!(!body.contains("{{"), "unfilled placeholder in {body}");
        }
    }

    #[test]
    fn every_template_renders_completely() {
        for template in [
            MailTemplate::ConfirmEmail {
                nickname: "n".into(),
                link: "l".into(),
            },
            MailTemplate::ResetPassword {
                nickname: "n".into(),
                link: "l".into(),
            },
        ] {
            let mail = render(&template);
            assert!(!mail.subject.is_empty());
            assert!(
                !mail.text.contains("{{") && !mail.html.contains("{{"),
                "{template:?}"
            );
        }
    }
}
