//! The identity rules against mocks of every port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use diningcoach_kernel::clock::MockClock;
use diningcoach_kernel::{Email, JobKind, MailTemplate, OutgoingEmail};
use uuid::Uuid;

use crate::health::MockHealthVocabulary;
use crate::ports::*;
use crate::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

struct Mocks {
    users: MockUserRepository,
    sessions: MockSessionRepository,
    profiles: MockProfileRepository,
    hasher: MockPasswordHasher,
    tokens: MockAccessTokens,
    vocabulary: MockHealthVocabulary,
}

impl Mocks {
    fn new() -> Self {
        let mut tokens = MockAccessTokens::new();
        tokens
            .expect_issue()
            .returning(|user, session, _| Ok(format!("jwt-for-{}-{session}", user.id)));
        tokens.expect_lifetime_secs().return_const(900u64);
        Self {
            users: MockUserRepository::new(),
            sessions: MockSessionRepository::new(),
            profiles: MockProfileRepository::new(),
            hasher: MockPasswordHasher::new(),
            tokens,
            vocabulary: MockHealthVocabulary::new(),
        }
    }

    fn service(self) -> IdentityService {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let mut randomness = MockRandomness::new();
        let counter = Mutex::new(0u8);
        randomness.expect_bytes32().returning(move || {
            let mut n = counter.lock().unwrap();
            *n += 1;
            [*n; 32]
        });
        IdentityService::new(
            IdentityPorts {
                users: Arc::new(self.users),
                sessions: Arc::new(self.sessions),
                profiles: Arc::new(self.profiles),
                hasher: Arc::new(self.hasher),
                access_tokens: Arc::new(self.tokens),
                randomness: Arc::new(randomness),
                clock: Arc::new(clock),
                vocabulary: Arc::new(self.vocabulary),
            },
            IdentitySettings::new("https://app.example"),
        )
    }
}

fn user(verified: bool) -> User {
    User {
        id: UserId::from_uuid(Uuid::from_u128(1)),
        email: Email::parse("ann@example.org").unwrap(),
        nickname: Nickname::parse("Ann").unwrap(),
        role: Role::User,
        email_verified: verified,
        created_at: now(),
    }
}

fn credentials(verified: bool) -> Credentials {
    Credentials {
        user: user(verified),
        password_hash: PasswordHash::new("$argon2id$stored".into()),
    }
}

fn registration(password: &str) -> Registration {
    Registration {
        email: " Ann@Example.org ".into(),
        password: password.into(),
        nickname: "Ann".into(),
    }
}

#[tokio::test]
async fn sign_up_stores_a_hashed_password_and_queues_the_confirmation_link() {
    let mut mocks = Mocks::new();
    mocks
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(PasswordHash::new("$argon2id$hashed".into())));
    mocks
        .users
        .expect_register()
        .times(1)
        .returning(|new_user, verification| {
            assert_eq!(new_user.email.as_str(), "ann@example.org");
            assert_eq!(new_user.password_hash.as_str(), "$argon2id$hashed");
            assert!(!new_user.email_verified);
            let verification = verification.expect("a verification token");
            assert_eq!(verification.purpose, EmailTokenPurpose::VerifyEmail);
            assert_eq!(verification.expires_at, now() + TimeDelta::hours(24));
            assert_eq!(verification.mail.kind, JobKind::SendEmail);
            let mail: OutgoingEmail = verification.mail.payload().unwrap();
            let MailTemplate::ConfirmEmail { link, .. } = mail.template else {
                panic!("wrong template")
            };
            let token = link
                .strip_prefix("https://app.example/verify-email?token=")
                .expect("link");
            assert_eq!(
                OpaqueToken::presented(token).hash(),
                verification.hash,
                "only the hash is stored"
            );
            Ok(User {
                id: new_user.id,
                email: new_user.email.clone(),
                nickname: new_user.nickname.clone(),
                role: Role::User,
                email_verified: false,
                created_at: now(),
            })
        });
    let user = mocks
        .service()
        .sign_up(&registration("correct horse battery staple"))
        .await
        .unwrap();
    assert!(!user.email_verified);
}

#[tokio::test]
async fn sign_up_reports_every_invalid_field_and_hashes_nothing() {
    let mut mocks = Mocks::new();
    mocks.hasher.expect_hash().never();
    mocks.users.expect_register().never();
    let bad = Registration {
        email: "not-an-email".into(),
        password: "password1".into(),
        nickname: "A".into(),
    };
    let Err(IdentityError::Invalid(issues)) = mocks.service().sign_up(&bad).await else {
        panic!("expected 422")
    };
    let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["email", "nickname", "password"]);
}

#[tokio::test]
async fn a_password_built_from_the_email_is_refused() {
    let mocks = Mocks::new();
    let outcome = mocks
        .service()
        .sign_up(&registration("ann@example.org"))
        .await;
    assert!(
        matches!(outcome, Err(IdentityError::Invalid(ref issues)) if issues[0].field == "password")
    );
}

#[tokio::test]
async fn a_duplicate_email_is_reported_as_taken() {
    let mut mocks = Mocks::new();
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::new("h".into())));
    mocks
        .users
        .expect_register()
        .returning(|_, _| Err(IdentityError::EmailTaken));
    let outcome = mocks
        .service()
        .sign_up(&registration("correct horse battery staple"))
        .await;
    assert_eq!(outcome.err(), Some(IdentityError::EmailTaken));
}

#[tokio::test]
async fn an_unknown_email_costs_a_hash_and_answers_like_a_wrong_password() {
    let mut mocks = Mocks::new();
    mocks
        .users
        .expect_credentials_by_email()
        .returning(|_| Ok(None));
    mocks.hasher.expect_waste_time().times(1).returning(|_| ());
    mocks.hasher.expect_verify().never();
    let outcome = mocks
        .service()
        .log_in("nobody@example.org", "whatever123")
        .await;
    assert_eq!(outcome.err(), Some(IdentityError::InvalidCredentials));
}

#[tokio::test]
async fn a_wrong_password_is_recorded_as_a_failure() {
    let mut mocks = Mocks::new();
    mocks
        .users
        .expect_credentials_by_email()
        .returning(|_| Ok(Some(credentials(true))));
    mocks
        .users
        .expect_failed_logins_since()
        .returning(|_, _| Ok(vec![now(); 3]));
    mocks
        .hasher
        .expect_verify()
        .returning(|_, _| Ok(PasswordCheck::Mismatch));
    mocks
        .users
        .expect_record_failed_login()
        .withf(|_, at, window_start| {
            *at == now() && *window_start == now() - TimeDelta::minutes(15)
        })
        .times(1)
        .returning(|_, _, _| Ok(vec![now(); 4]));
    mocks.sessions.expect_start().never();
    let outcome = mocks
        .service()
        .log_in("ann@example.org", "wrong-password")
        .await;
    assert_eq!(outcome.err(), Some(IdentityError::InvalidCredentials));
}

#[tokio::test]
async fn five_failures_in_the_window_lock_the_account_until_the_oldest_leaves_it() {
    let mut mocks = Mocks::new();
    mocks
        .users
        .expect_credentials_by_email()
        .returning(|_| Ok(Some(credentials(true))));
    let failures: Vec<DateTime<Utc>> = (0..5).map(|m| now() - TimeDelta::minutes(10 - m)).collect();
    mocks
        .users
        .expect_failed_logins_since()
        .returning(move |_, _| Ok(failures.clone()));
    mocks.hasher.expect_verify().never();
    let outcome = mocks
        .service()
        .log_in("ann@example.org", "the right one maybe")
        .await;
    // The oldest failure was 10 minutes ago: it leaves the 15-minute window in 5 minutes.
    assert_eq!(
        outcome.err(),
        Some(IdentityError::TooManyAttempts {
            retry_after_secs: 300
        })
    );
}

#[tokio::test]
async fn a_login_with_an_outdated_hash_rehashes_it_and_opens_a_session() {
    let mut mocks = Mocks::new();
    mocks
        .users
        .expect_credentials_by_email()
        .returning(|_| Ok(Some(credentials(true))));
    mocks
        .users
        .expect_failed_logins_since()
        .returning(|_, _| Ok(vec![]));
    mocks
        .hasher
        .expect_verify()
        .returning(|_, _| Ok(PasswordCheck::Match { outdated: true }));
    mocks
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(PasswordHash::new("$argon2id$new".into())));
    mocks
        .users
        .expect_set_password_hash()
        .withf(|_, h| h.as_str() == "$argon2id$new")
        .times(1)
        .returning(|_, _| Ok(()));
    mocks
        .users
        .expect_clear_failed_logins()
        .times(1)
        .returning(|_| Ok(()));
    mocks.sessions.expect_start().times(1).returning(|token| {
        assert_eq!(token.expires_at, now() + TimeDelta::days(14));
        assert_eq!(token.family_expires_at, now() + TimeDelta::days(30));
        Ok(())
    });
    let tokens = mocks
        .service()
        .log_in("ann@example.org", "correct horse battery staple")
        .await
        .unwrap();
    assert!(tokens.access_token.starts_with("jwt-for-"));
    assert_eq!(tokens.expires_in, 900);
    assert_eq!(
        OpaqueToken::presented(&tokens.refresh_token).hash(),
        OpaqueToken::from_random([1; 32]).hash()
    );
}

#[tokio::test]
async fn refresh_rotates_detects_reuse_and_rejects_dead_tokens() {
    for (rotation, expected) in [
        (
            Rotation::Rotated {
                user: user(true).id,
                family: Uuid::from_u128(9),
            },
            None,
        ),
        (Rotation::Reused, Some(IdentityError::RefreshTokenReused)),
        (Rotation::Dead, Some(IdentityError::SessionEnded)),
    ] {
        let mut mocks = Mocks::new();
        mocks
            .sessions
            .expect_rotate()
            .times(1)
            .returning(move |presented, successor, at, idle| {
                assert_eq!(*presented, OpaqueToken::presented("old-token").hash());
                assert_ne!(presented, successor);
                assert_eq!(idle, at + TimeDelta::days(14));
                Ok(rotation.clone())
            });
        mocks
            .users
            .expect_credentials()
            .returning(|_| Ok(Some(credentials(true))));
        let outcome = mocks.service().refresh("old-token").await;
        match expected {
            None => assert!(
                outcome
                    .unwrap()
                    .access_token
                    .ends_with(&Uuid::from_u128(9).to_string())
            ),
            Some(error) => assert_eq!(outcome.err(), Some(error)),
        }
    }
}

#[tokio::test]
async fn a_reset_for_an_unknown_email_sends_nothing_and_answers_the_same() {
    let mut mocks = Mocks::new();
    mocks
        .users
        .expect_credentials_by_email()
        .returning(|_| Ok(None));
    mocks.users.expect_issue_email_token().never();
    assert_eq!(
        mocks
            .service()
            .request_password_reset("nobody@example.org")
            .await,
        Ok(())
    );
}

#[tokio::test]
async fn a_reset_for_a_known_email_mails_a_one_hour_link() {
    let mut mocks = Mocks::new();
    mocks
        .users
        .expect_credentials_by_email()
        .returning(|_| Ok(Some(credentials(true))));
    mocks.users.expect_issue_email_token().times(1).returning(|token| {
        assert_eq!(token.purpose, EmailTokenPurpose::ResetPassword);
        assert_eq!(token.expires_at, now() + TimeDelta::hours(1));
        let mail: OutgoingEmail = token.mail.payload().unwrap();
        assert!(matches!(mail.template, MailTemplate::ResetPassword { ref link, .. } if link.starts_with("https://app.example/reset-password?token=")));
        Ok(())
    });
    assert_eq!(
        mocks
            .service()
            .request_password_reset("ann@example.org")
            .await,
        Ok(())
    );
}

#[tokio::test]
async fn used_or_unknown_link_tokens_are_refused() {
    let mut mocks = Mocks::new();
    mocks.users.expect_verify_email().returning(|_, _| Ok(None));
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::new("h".into())));
    mocks
        .users
        .expect_reset_password()
        .returning(|_, _, _| Ok(None));
    let service = mocks.service();
    assert_eq!(
        service.verify_email("nope").await,
        Err(IdentityError::InvalidLinkToken)
    );
    assert_eq!(
        service
            .reset_password("nope", "correct horse battery staple")
            .await,
        Err(IdentityError::InvalidLinkToken)
    );
}

#[tokio::test]
async fn resending_a_confirmation_only_mails_unverified_accounts() {
    for (verified, mails) in [(false, 1), (true, 0)] {
        let mut mocks = Mocks::new();
        mocks
            .users
            .expect_credentials_by_email()
            .returning(move |_| Ok(Some(credentials(verified))));
        mocks
            .users
            .expect_issue_email_token()
            .times(mails)
            .returning(|_| Ok(()));
        assert_eq!(
            mocks.service().resend_verification("ann@example.org").await,
            Ok(())
        );
    }
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let who = Principal {
        user: user(true).id,
        role: Role::User,
        session: Uuid::from_u128(5),
    };
    let mut mocks = Mocks::new();
    mocks
        .users
        .expect_credentials()
        .returning(|_| Ok(Some(credentials(true))));
    mocks.hasher.expect_verify().returning(|p, _| {
        Ok(if p.expose() == "old secret phrase" {
            PasswordCheck::Match { outdated: false }
        } else {
            PasswordCheck::Mismatch
        })
    });
    mocks
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(PasswordHash::new("h2".into())));
    mocks
        .users
        .expect_set_password_hash()
        .times(1)
        .returning(|_, _| Ok(()));
    mocks
        .sessions
        .expect_revoke_all()
        .withf(|_, keep, _| *keep == Some(Uuid::from_u128(5)))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = mocks.service();
    assert_eq!(
        service
            .change_password(who, "wrong", "a brand new passphrase")
            .await,
        Err(IdentityError::WrongPassword)
    );
    assert_eq!(
        service
            .change_password(who, "old secret phrase", "a brand new passphrase")
            .await,
        Ok(())
    );
}

#[tokio::test]
async fn a_health_profile_with_unknown_codes_names_each_one() {
    let who = Principal {
        user: user(true).id,
        role: Role::User,
        session: Uuid::nil(),
    };
    let mut mocks = Mocks::new();
    mocks
        .vocabulary
        .expect_check()
        .returning(|conditions, _, _| {
            assert_eq!(
                conditions,
                ["hypertension"],
                "codes are normalised and de-duplicated"
            );
            Err(vec![HealthVocabularyError {
                field: "allergens[0]".into(),
                message: "unknown allergen code: unicorn".into(),
            }])
        });
    mocks.profiles.expect_replace_health().never();
    let input = HealthProfileInput {
        conditions: vec![" Hypertension".into(), "hypertension".into()],
        diets: vec![],
        allergens: vec!["unicorn".into()],
        pregnant: false,
        height_cm: Some(400.0),
        weight_kg: None,
        notes: None,
    };
    let Err(IdentityError::Invalid(issues)) =
        mocks.service().replace_health(who, input, None).await
    else {
        panic!("expected 422")
    };
    let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["height_cm", "allergens[0]"]);
}
