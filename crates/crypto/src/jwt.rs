use chrono::{DateTime, Utc};
use diningcoach_identity::ports::{AccessClaims, AccessTokens};
use diningcoach_identity::{IdentityError, Role, User, UserId};
use diningcoach_kernel::InfraError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ISSUER: &str = "diningcoach";
const AUDIENCE: &str = "diningcoach-app";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    role: Role,
    /// The login (refresh-token family) the token belongs to.
    sid: Uuid,
}

/// Short-lived HS256 access tokens. The algorithm is pinned on verification (a token claiming `none` or RS256 is
/// refused), as are issuer and audience; `exp` is checked against our clock with no leeway.
pub struct JwtAccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime_secs: u64,
}

impl JwtAccessTokens {
    pub fn new(secret: &[u8], lifetime_secs: u64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime_secs,
        }
    }
}

impl AccessTokens for JwtAccessTokens {
    fn issue(
        &self,
        user: &User,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> Result<String, IdentityError> {
        let claims = Claims {
            sub: user.id.as_uuid(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(self.lifetime_secs).unwrap_or(900),
            role: user.role,
            sid: session,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            IdentityError::Infra(InfraError::Fault(format!("signing an access token: {e}")))
        })
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, IdentityError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // Expiry is checked below against the injected clock, so that tests control time.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| IdentityError::Unauthenticated)?;
        if data.claims.exp <= now.timestamp() {
            return Err(IdentityError::Unauthenticated);
        }
        Ok(AccessClaims {
            user: UserId::from_uuid(data.claims.sub),
            role: data.claims.role,
            session: data.claims.sid,
        })
    }

    fn lifetime_secs(&self) -> u64 {
        self.lifetime_secs
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeDelta;
    use diningcoach_identity::Nickname;
    use diningcoach_kernel::Email;

    use super::*;

    fn user() -> User {
        User {
            id: UserId::generate(),
            email: Email::parse("ann@example.org").unwrap(),
            nickname: Nickname::parse("Ann").unwrap(),
            role: Role::Admin,
            email_verified: true,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let tokens = JwtAccessTokens::new(b"0123456789abcdef0123456789abcdef", 900);
        let now = Utc::now();
        let user = user();
        let session = Uuid::now_v7();
        let token = tokens.issue(&user, session, now).unwrap();
        let claims = tokens
            .verify(&token, now + TimeDelta::seconds(899))
            .unwrap();
        assert_eq!(
            claims,
            AccessClaims {
                user: user.id,
                role: Role::Admin,
                session
            }
        );
        assert_eq!(
            tokens.verify(&token, now + TimeDelta::seconds(900)),
            Err(IdentityError::Unauthenticated)
        );
    }

    #[test]
    fn foreign_forged_and_unsigned_tokens_are_refused() {
        let ours = JwtAccessTokens::new(b"0123456789abcdef0123456789abcdef", 900);
        let theirs = JwtAccessTokens::new(b"another secret, another service!", 900);
        let now = Utc::now();
        let foreign = theirs.issue(&user(), Uuid::nil(), now).unwrap();
        assert_eq!(
            ours.verify(&foreign, now),
            Err(IdentityError::Unauthenticated)
        );
        // alg "none": header {"alg":"none","typ":"JWT"} with our claims and no signature.
        let token = ours.issue(&user(), Uuid::nil(), now).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(
            ours.verify(&unsigned, now),
            Err(IdentityError::Unauthenticated)
        );
        assert_eq!(
            ours.verify("garbage", now),
            Err(IdentityError::Unauthenticated)
        );
    }
}
