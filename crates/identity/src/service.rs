use std::sync::Arc;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use diningcoach_kernel::{Clock, Email, Job, MailTemplate, OutgoingEmail};
use uuid::Uuid;

use crate::health::HealthProfileInput;
use crate::ports::{
    AccessTokens, NewEmailToken, NewRefreshToken, NewUser, PasswordCheck, PasswordHasher,
    ProfileRepository, Randomness, Rotation, SessionRepository, UserRepository,
};
use crate::{
    ActivityLevel, BodyMetrics, Credentials, EmailTokenPurpose, HealthProfile, HealthVocabulary,
    IdentityError, Nickname, OpaqueToken, Password, Patch, Profile, ProfilePatch, Role, Sex, User,
    UserId,
};

/// Lifetimes and limits of the identity rules.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Where the mobile app's links point: `{app_base_url}/verify-email?token=…`.
    pub app_base_url: String,
    pub verification_ttl: TimeDelta,
    pub reset_ttl: TimeDelta,
    /// A refresh token unused this long dies.
    pub refresh_idle_ttl: TimeDelta,
    /// A login ends this long after it began, however often it was refreshed.
    pub refresh_absolute_ttl: TimeDelta,
    pub lockout_threshold: usize,
    pub lockout_window: TimeDelta,
}

impl IdentitySettings {
    pub fn new(app_base_url: impl Into<String>) -> Self {
        Self {
            app_base_url: app_base_url.into(),
            verification_ttl: TimeDelta::hours(24),
            reset_ttl: TimeDelta::hours(1),
            refresh_idle_ttl: TimeDelta::days(14),
            refresh_absolute_ttl: TimeDelta::days(30),
            lockout_threshold: 5,
            lockout_window: TimeDelta::minutes(15),
        }
    }
}

/// The ports the service works through.
pub struct IdentityPorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub profiles: Arc<dyn ProfileRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub access_tokens: Arc<dyn AccessTokens>,
    pub randomness: Arc<dyn Randomness>,
    pub clock: Arc<dyn Clock>,
    pub vocabulary: Arc<dyn HealthVocabulary>,
}

/// A sign-up as submitted.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub nickname: String,
}

/// The tokens a login or a refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// Who is calling, as proven by a valid access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user: UserId,
    pub role: Role,
    pub session: Uuid,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// How a login ended, for the caller that must answer differently (the HTTP layer only needs the tokens).
pub type LoginOutcome = Result<SessionTokens, IdentityError>;

/// A profile change as submitted: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatchInput {
    pub nickname: Option<String>,
    pub birth_year: Option<Option<i32>>,
    pub sex: Option<Option<Sex>>,
    pub height_cm: Option<Option<f64>>,
    pub weight_kg: Option<Option<f64>>,
    pub activity_level: Option<Option<ActivityLevel>>,
}

fn patch<T>(field: Option<Option<T>>) -> Patch<T> {
    match field {
        None => Patch::Keep,
        Some(None) => Patch::Clear,
        Some(Some(value)) => Patch::Set(value),
    }
}

pub struct IdentityService {
    ports: IdentityPorts,
    settings: IdentitySettings,
}

impl IdentityService {
    pub fn new(ports: IdentityPorts, settings: IdentitySettings) -> Self {
        Self { ports, settings }
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    fn new_token(&self) -> OpaqueToken {
        OpaqueToken::from_random(self.ports.randomness.bytes32())
    }

    fn link(&self, path: &str, token: &OpaqueToken) -> String {
        format!(
            "{}/{path}?token={}",
            self.settings.app_base_url,
            token.expose()
        )
    }

    /// A token for a mailed link, with the mail job that carries it.
    fn email_token(
        &self,
        user: &User,
        purpose: EmailTokenPurpose,
    ) -> Result<NewEmailToken, IdentityError> {
        let now = self.now();
        let token = self.new_token();
        let (template, ttl) = match purpose {
            EmailTokenPurpose::VerifyEmail => (
                MailTemplate::ConfirmEmail {
                    nickname: user.nickname.as_str().to_owned(),
                    link: self.link("verify-email", &token),
                },
                self.settings.verification_ttl,
            ),
            EmailTokenPurpose::ResetPassword => (
                MailTemplate::ResetPassword {
                    nickname: user.nickname.as_str().to_owned(),
                    link: self.link("reset-password", &token),
                },
                self.settings.reset_ttl,
            ),
        };
        let mail = Job::new(
            &OutgoingEmail {
                to: user.email.clone(),
                template,
            },
            now,
        )
        .map_err(|e| IdentityError::Infra(diningcoach_kernel::InfraError::Fault(e.to_string())))?;
        Ok(NewEmailToken {
            user: user.id,
            purpose,
            hash: token.hash(),
            expires_at: now + ttl,
            mail,
        })
    }

    /// Parses the sign-up fields, reporting every bad one at once.
    fn parse_registration(
        registration: &Registration,
    ) -> Result<(Email, Nickname, Password), IdentityError> {
        let email = Email::parse(&registration.email).map_err(IdentityError::from);
        let nickname = Nickname::parse(&registration.nickname);
        let mut context = vec![
            registration.nickname.trim().to_owned(),
            registration.email.trim().to_owned(),
        ];
        if let Some((local, _)) = registration.email.trim().split_once('@') {
            context.push(local.to_owned());
        }
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        let password = Password::new(&registration.password, "password", &context);
        match (email, nickname, password) {
            (Ok(email), Ok(nickname), Ok(password)) => Ok((email, nickname, password)),
            (email, nickname, password) => Err(IdentityError::collect([
                email.map(drop),
                nickname.map(drop),
                password.map(drop),
            ])
            .err()
            .unwrap_or(IdentityError::Unauthenticated)),
        }
    }

    /// `verified`: accounts an operator creates are trusted; self sign-ups prove their address by the mailed link.
    async fn create_user(
        &self,
        registration: &Registration,
        role: Role,
        verified: bool,
    ) -> Result<User, IdentityError> {
        let (email, nickname, password) = Self::parse_registration(registration)?;
        let password_hash = self.ports.hasher.hash(&password).await?;
        let new_user = NewUser {
            id: UserId::generate(),
            email,
            nickname,
            password_hash,
            role,
            email_verified: verified,
            created_at: self.now(),
        };
        let verification = if verified {
            None
        } else {
            let user = User {
                id: new_user.id,
                email: new_user.email.clone(),
                nickname: new_user.nickname.clone(),
                role,
                email_verified: false,
                created_at: new_user.created_at,
            };
            Some(self.email_token(&user, EmailTokenPurpose::VerifyEmail)?)
        };
        self.ports.users.register(&new_user, verification).await
    }

    /// Creates an account and queues its confirmation mail; never waits for the mail to go out.
    pub async fn sign_up(&self, registration: &Registration) -> Result<User, IdentityError> {
        self.create_user(registration, Role::User, false).await
    }

    /// Creates an account from an operator's command (an administrator, demo users): trusted, so verified from the
    /// start and sent no confirmation mail. The password policy still applies.
    pub async fn create_verified_account(
        &self,
        registration: &Registration,
        role: Role,
    ) -> Result<User, IdentityError> {
        self.create_user(registration, role, true).await
    }

    pub async fn verify_email(&self, token: &str) -> Result<(), IdentityError> {
        let hash = OpaqueToken::presented(token).hash();
        match self.ports.users.verify_email(&hash, self.now()).await? {
            Some(_) => Ok(()),
            None => Err(IdentityError::InvalidLinkToken),
        }
    }

    /// Sends a new confirmation link if the address belongs to an unverified account. Answers the same either
    /// way, so that it cannot be used to find out who has an account.
    pub async fn resend_verification(&self, email: &str) -> Result<(), IdentityError> {
        let email = Email::parse(email)?;
        if let Some(credentials) = self.ports.users.credentials_by_email(&email).await?
            && !credentials.user.email_verified
        {
            let token = self.email_token(&credentials.user, EmailTokenPurpose::VerifyEmail)?;
            self.ports.users.issue_email_token(&token).await?;
        }
        Ok(())
    }

    fn lockout(&self, failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), IdentityError> {
        if failures.len() < self.settings.lockout_threshold {
            return Ok(());
        }
        // The account opens again when enough failures have left the window.
        let reopening = failures[failures.len() - self.settings.lockout_threshold]
            + self.settings.lockout_window;
        let retry_after_secs = u64::try_from((reopening - now).num_seconds())
            .unwrap_or(0)
            .max(1);
        Err(IdentityError::TooManyAttempts { retry_after_secs })
    }

    /// Checks the password and opens a session. An unknown email and a wrong password give the same error after
    /// the same work; five failures within fifteen minutes lock the account for the rest of the window.
    pub async fn log_in(&self, email: &str, password: &str) -> LoginOutcome {
        let password = Password::presented(password);
        let Ok(email) = Email::parse(email) else {
            self.ports.hasher.waste_time(&password).await;
            return Err(IdentityError::InvalidCredentials);
        };
        let Some(credentials) = self.ports.users.credentials_by_email(&email).await? else {
            self.ports.hasher.waste_time(&password).await;
            return Err(IdentityError::InvalidCredentials);
        };
        let user = credentials.user;
        let now = self.now();
        let window_start = now - self.settings.lockout_window;
        self.lockout(
            &self
                .ports
                .users
                .failed_logins_since(user.id, window_start)
                .await?,
            now,
        )?;
        match self
            .ports
            .hasher
            .verify(&password, &credentials.password_hash)
            .await?
        {
            PasswordCheck::Mismatch => {
                self.ports
                    .users
                    .record_failed_login(user.id, now, window_start)
                    .await?;
                Err(IdentityError::InvalidCredentials)
            }
            PasswordCheck::Match { outdated } => {
                if outdated {
                    let rehashed = self.ports.hasher.hash(&password).await?;
                    self.ports
                        .users
                        .set_password_hash(user.id, &rehashed)
                        .await?;
                }
                self.ports.users.clear_failed_logins(user.id).await?;
                self.start_session(&user).await
            }
        }
    }

    async fn start_session(&self, user: &User) -> Result<SessionTokens, IdentityError> {
        let now = self.now();
        let refresh = self.new_token();
        let family = Uuid::now_v7();
        let family_expires_at = now + self.settings.refresh_absolute_ttl;
        self.ports
            .sessions
            .start(&NewRefreshToken {
                family,
                user: user.id,
                hash: refresh.hash(),
                issued_at: now,
                expires_at: (now + self.settings.refresh_idle_ttl).min(family_expires_at),
                family_expires_at,
            })
            .await?;
        self.tokens(user, family, refresh, now)
    }

    fn tokens(
        &self,
        user: &User,
        family: Uuid,
        refresh: OpaqueToken,
        now: DateTime<Utc>,
    ) -> Result<SessionTokens, IdentityError> {
        Ok(SessionTokens {
            access_token: self.ports.access_tokens.issue(user, family, now)?,
            refresh_token: refresh.expose().to_owned(),
            expires_in: self.ports.access_tokens.lifetime_secs(),
        })
    }

    /// Trades a refresh token for a new pair. A token used twice revokes its whole login: one of the two users of
    /// it is a thief, and we cannot tell which.
    pub async fn refresh(&self, refresh_token: &str) -> Result<SessionTokens, IdentityError> {
        let now = self.now();
        let presented = OpaqueToken::presented(refresh_token).hash();
        let successor = self.new_token();
        let rotation = self
            .ports
            .sessions
            .rotate(
                &presented,
                &successor.hash(),
                now,
                now + self.settings.refresh_idle_ttl,
            )
            .await?;
        match rotation {
            Rotation::Rotated { user, family } => {
                let credentials = self
                    .ports
                    .users
                    .credentials(user)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                self.tokens(&credentials.user, family, successor, now)
            }
            Rotation::Reused => Err(IdentityError::RefreshTokenReused),
            Rotation::Dead => Err(IdentityError::SessionEnded),
        }
    }

    pub async fn log_out(&self, refresh_token: &str) -> Result<(), IdentityError> {
        self.ports
            .sessions
            .revoke_family(&OpaqueToken::presented(refresh_token).hash(), self.now())
            .await
    }

    /// Mails a reset link if the address has an account; answers the same either way.
    pub async fn request_password_reset(&self, email: &str) -> Result<(), IdentityError> {
        let email = Email::parse(email)?;
        if let Some(credentials) = self.ports.users.credentials_by_email(&email).await? {
            let token = self.email_token(&credentials.user, EmailTokenPurpose::ResetPassword)?;
            self.ports.users.issue_email_token(&token).await?;
        }
        Ok(())
    }

    /// Sets a new password from a mailed link and ends every session of the account.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
    ) -> Result<(), IdentityError> {
        let password = Password::new(new_password, "new_password", &[])?;
        let hash = self.ports.hasher.hash(&password).await?;
        let token = OpaqueToken::presented(token).hash();
        match self
            .ports
            .users
            .reset_password(&token, &hash, self.now())
            .await?
        {
            Some(_) => Ok(()),
            None => Err(IdentityError::InvalidLinkToken),
        }
    }

    /// The caller's credentials, once `password` proves the caller is the account's owner (a stolen access token
    /// alone must not be enough to change the password or delete the account).
    async fn confirm_password(
        &self,
        who: Principal,
        password: &str,
    ) -> Result<Credentials, IdentityError> {
        let credentials = self
            .ports
            .users
            .credentials(who.user)
            .await?
            .ok_or(IdentityError::UserNotFound)?;
        let check = self
            .ports
            .hasher
            .verify(&Password::presented(password), &credentials.password_hash)
            .await?;
        if check == PasswordCheck::Mismatch {
            return Err(IdentityError::WrongPassword);
        }
        Ok(credentials)
    }

    /// Changes the password of a logged-in user and ends their other sessions.
    pub async fn change_password(
        &self,
        who: Principal,
        current: &str,
        new: &str,
    ) -> Result<(), IdentityError> {
        let credentials = self.confirm_password(who, current).await?;
        let user = &credentials.user;
        let password = Password::new(
            new,
            "new_password",
            &[user.email.as_str(), user.nickname.as_str()],
        )?;
        let hash = self.ports.hasher.hash(&password).await?;
        self.ports.users.set_password_hash(user.id, &hash).await?;
        self.ports
            .sessions
            .revoke_all(user.id, Some(who.session), self.now())
            .await
    }

    /// Who holds this access token.
    pub fn authenticate(&self, access_token: &str) -> Result<Principal, IdentityError> {
        let claims = self.ports.access_tokens.verify(access_token, self.now())?;
        Ok(Principal {
            user: claims.user,
            role: claims.role,
            session: claims.session,
        })
    }

    pub async fn profile(&self, who: Principal) -> Result<Profile, IdentityError> {
        self.ports
            .profiles
            .profile(who.user)
            .await?
            .ok_or(IdentityError::UserNotFound)
    }

    pub async fn update_profile(
        &self,
        who: Principal,
        input: ProfilePatchInput,
    ) -> Result<Profile, IdentityError> {
        let this_year = self.now().year();
        let nickname = input.nickname.as_deref().map(Nickname::parse).transpose();
        let birth_year = patch(input.birth_year).map(|year| {
            if (1900..=this_year).contains(&year) {
                i16::try_from(year)
                    .map_err(|_| IdentityError::invalid("birth_year", "is out of range"))
            } else {
                Err(IdentityError::invalid(
                    "birth_year",
                    format!("must be between 1900 and {this_year}"),
                ))
            }
        });
        let height_cm = patch(input.height_cm).map(BodyMetrics::check_height);
        let weight_kg = patch(input.weight_kg).map(BodyMetrics::check_weight);
        let (nickname, birth_year, height_cm, weight_kg) =
            match (nickname, birth_year, height_cm, weight_kg) {
                (Ok(n), Ok(b), Ok(h), Ok(w)) => (n, b, h, w),
                (n, b, h, w) => {
                    return Err(IdentityError::collect([
                        n.map(drop),
                        b.map(drop),
                        h.map(drop),
                        w.map(drop),
                    ])
                    .err()
                    .unwrap_or(IdentityError::Unauthenticated));
                }
            };
        let patch = ProfilePatch {
            nickname,
            birth_year,
            sex: patch(input.sex),
            height_cm,
            weight_kg,
            activity_level: patch(input.activity_level),
        };
        self.ports
            .profiles
            .update_profile(who.user, &patch)
            .await?
            .ok_or(IdentityError::UserNotFound)
    }

    /// Deletes the account after the password confirms it is really its owner asking.
    pub async fn delete_account(
        &self,
        who: Principal,
        password: &str,
    ) -> Result<(), IdentityError> {
        self.confirm_password(who, password).await?;
        self.ports.users.delete(who.user).await
    }

    pub async fn health(&self, who: Principal) -> Result<HealthProfile, IdentityError> {
        self.ports
            .profiles
            .health(who.user)
            .await?
            .ok_or(IdentityError::UserNotFound)
    }

    pub async fn replace_health(
        &self,
        who: Principal,
        input: HealthProfileInput,
        expected_version: Option<i32>,
    ) -> Result<HealthProfile, IdentityError> {
        let profile = input.validate(self.ports.vocabulary.as_ref())?;
        self.ports
            .profiles
            .replace_health(who.user, &profile, expected_version, self.now())
            .await
    }
}
