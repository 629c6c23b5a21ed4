//! The identity ports on PostgreSQL: users, profiles, mailed-link tokens, refresh-token families, login failures.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diningcoach_identity::ports::{
    NewEmailToken, NewRefreshToken, NewUser, ProfileRepository, Rotation, SessionRepository,
    UserRepository,
};
use diningcoach_identity::{
    ActivityLevel, BodyMetrics, Credentials, DietChoice, HealthProfile, IdentityError, Nickname,
    PasswordHash, Patch, Profile, ProfilePatch, Role, Sex, TokenHash, User, UserId, UserSummary,
    ValidHealthProfile,
};
use diningcoach_kernel::{Email, InfraError};
use uuid::Uuid;

use crate::outbox::insert_jobs;
use crate::pool::checkout;
use crate::schema::{
    email_tokens, health_profiles, login_failures, refresh_tokens, user_profiles, users,
};
use crate::{PgError, PgPool};

/// Implements the identity ports.
#[derive(Clone)]
pub struct PgIdentityStore {
    pool: PgPool,
}

impl PgIdentityStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

fn infra(error: impl Into<PgError>) -> IdentityError {
    IdentityError::Infra(InfraError::from(error.into()))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: Uuid,
    email: String,
    nickname: String,
    password_hash: String,
    role: String,
    email_verified_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn into_credentials(self) -> Result<Credentials, IdentityError> {
        let corrupt = |what: &str| {
            IdentityError::Infra(InfraError::Fault(format!(
                "user {}: stored {what} is invalid",
                self.id
            )))
        };
        let email = Email::parse(&self.email).map_err(|_| corrupt("email"))?;
        let role = Role::parse(&self.role).ok_or_else(|| corrupt("role"))?;
        Ok(Credentials {
            user: User {
                id: UserId::from_uuid(self.id),
                email,
                nickname: Nickname::from_trusted(self.nickname),
                role,
                email_verified: self.email_verified_at.is_some(),
                created_at: self.created_at,
            },
            password_hash: PasswordHash::new(self.password_hash),
        })
    }
}

fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Stores a mailed-link token and its mail job, and retires the user's earlier tokens of the same purpose.
async fn store_email_token(conn: &mut AsyncPgConnection, token: &NewEmailToken) -> QueryResult<()> {
    let now = token.mail.created_at;
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(token.user.as_uuid()))
            .filter(email_tokens::purpose.eq(token.purpose.as_str()))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)
    .await?;
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::id.eq(Uuid::now_v7()),
            email_tokens::user_id.eq(token.user.as_uuid()),
            email_tokens::purpose.eq(token.purpose.as_str()),
            email_tokens::token_hash.eq(token.hash.as_bytes()),
            email_tokens::expires_at.eq(token.expires_at),
            email_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .await?;
    insert_jobs(conn, std::slice::from_ref(&token.mail)).await
}

/// Uses a mailed-link token if it is current; the row lock makes two concurrent uses yield one winner.
async fn use_email_token(
    conn: &mut AsyncPgConnection,
    hash: &TokenHash,
    purpose: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Uuid>> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::token_hash.eq(hash.as_bytes()))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set(email_tokens::used_at.eq(now))
    .returning(email_tokens::user_id)
    .get_result(conn)
    .await
    .optional()
}

#[async_trait]
impl UserRepository for PgIdentityStore {
    async fn register(
        &self,
        user: &NewUser,
        verification: Option<NewEmailToken>,
    ) -> Result<User, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let outcome = conn
            .transaction(async |conn| {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(user.id.as_uuid()),
                        users::email.eq(user.email.as_str()),
                        users::nickname.eq(user.nickname.as_str()),
                        users::password_hash.eq(user.password_hash.as_str()),
                        users::role.eq(user.role.as_str()),
                        users::email_verified_at.eq(user.email_verified.then_some(user.created_at)),
                        users::created_at.eq(user.created_at),
                    ))
                    .execute(conn)
                    .await?;
                diesel::insert_into(user_profiles::table)
                    .values(user_profiles::user_id.eq(user.id.as_uuid()))
                    .execute(conn)
                    .await?;
                diesel::insert_into(health_profiles::table)
                    .values(health_profiles::user_id.eq(user.id.as_uuid()))
                    .execute(conn)
                    .await?;
                if let Some(token) = &verification {
                    store_email_token(conn, token).await?;
                }
                Ok::<_, DieselError>(())
            })
            .await;
        match outcome {
            Ok(()) => Ok(User {
                id: user.id,
                email: user.email.clone(),
                nickname: user.nickname.clone(),
                role: user.role,
                email_verified: user.email_verified,
                created_at: user.created_at,
            }),
            Err(error) if is_unique_violation(&error) => Err(IdentityError::EmailTaken),
            Err(error) => Err(infra(error)),
        }
    }

    async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<Credentials>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let row: Option<UserRow> = users::table
            .filter(users::email.eq(email.as_str()))
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(infra)?;
        row.map(UserRow::into_credentials).transpose()
    }

    async fn credentials(&self, user: UserId) -> Result<Option<Credentials>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let row: Option<UserRow> = users::table
            .find(user.as_uuid())
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(infra)?;
        row.map(UserRow::into_credentials).transpose()
    }

    async fn issue_email_token(&self, token: &NewEmailToken) -> Result<(), IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        conn.transaction(async |conn| store_email_token(conn, token).await)
            .await
            .map_err(infra)
    }

    async fn verify_email(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        conn.transaction(async |conn| {
            let Some(user) = use_email_token(conn, token, "verify_email", now).await? else {
                return Ok(None);
            };
            diesel::update(
                users::table
                    .find(user)
                    .filter(users::email_verified_at.is_null()),
            )
            .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
            .execute(conn)
            .await?;
            Ok::<_, DieselError>(Some(UserId::from_uuid(user)))
        })
        .await
        .map_err(infra)
    }

    async fn reset_password(
        &self,
        token: &TokenHash,
        new_hash: &PasswordHash,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        conn.transaction(async |conn| {
            let Some(user) = use_email_token(conn, token, "reset_password", now).await? else {
                return Ok(None);
            };
            // The mailed link proves the address too.
            diesel::update(users::table.find(user))
                .set((
                    users::password_hash.eq(new_hash.as_str()),
                    users::email_verified_at.eq(diesel::dsl::sql::<
                        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
                    >(
                        "coalesce(email_verified_at, now())"
                    )),
                    users::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            revoke_sessions(conn, user, None, now).await?;
            diesel::delete(login_failures::table.filter(login_failures::user_id.eq(user)))
                .execute(conn)
                .await?;
            Ok::<_, DieselError>(Some(UserId::from_uuid(user)))
        })
        .await
        .map_err(infra)
    }

    async fn set_password_hash(
        &self,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<(), IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        diesel::update(users::table.find(user.as_uuid()))
            .set((
                users::password_hash.eq(hash.as_str()),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(&mut conn)
            .await
            .map_err(infra)?;
        Ok(())
    }

    async fn record_failed_login(
        &self,
        user: UserId,
        at: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        conn.transaction(async |conn| {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::user_id.eq(user.as_uuid()),
                    login_failures::failed_at.eq(at),
                ))
                .execute(conn)
                .await?;
            // Failures that left the window are of no further use.
            diesel::delete(
                login_failures::table
                    .filter(login_failures::user_id.eq(user.as_uuid()))
                    .filter(login_failures::failed_at.le(window_start)),
            )
            .execute(conn)
            .await?;
            failures_since(conn, user, window_start).await
        })
        .await
        .map_err(infra)
    }

    async fn failed_logins_since(
        &self,
        user: UserId,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        failures_since(&mut conn, user, since).await.map_err(infra)
    }

    async fn clear_failed_logins(&self, user: UserId) -> Result<(), IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        diesel::delete(login_failures::table.filter(login_failures::user_id.eq(user.as_uuid())))
            .execute(&mut conn)
            .await
            .map_err(infra)?;
        Ok(())
    }

    async fn delete(&self, user: UserId) -> Result<(), IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        // Profiles, health data, tokens and sessions go with the row (ON DELETE CASCADE).
        diesel::delete(users::table.find(user.as_uuid()))
            .execute(&mut conn)
            .await
            .map_err(infra)?;
        Ok(())
    }
}

async fn failures_since(
    conn: &mut AsyncPgConnection,
    user: UserId,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    login_failures::table
        .filter(login_failures::user_id.eq(user.as_uuid()))
        .filter(login_failures::failed_at.gt(since))
        .order(login_failures::failed_at)
        .select(login_failures::failed_at)
        .load(conn)
        .await
}

async fn revoke_sessions(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let query = refresh_tokens::table
        .filter(refresh_tokens::user_id.eq(user))
        .filter(refresh_tokens::revoked_at.is_null())
        .into_boxed();
    let query = match keep {
        Some(family) => query.filter(refresh_tokens::family_id.ne(family)),
        None => query,
    };
    let ids: Vec<Uuid> = query.select(refresh_tokens::id).load(conn).await?;
    diesel::update(refresh_tokens::table.filter(refresh_tokens::id.eq_any(ids)))
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)
        .await
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshRow {
    family_id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    family_expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
impl SessionRepository for PgIdentityStore {
    async fn start(&self, token: &NewRefreshToken) -> Result<(), IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::id.eq(Uuid::now_v7()),
                refresh_tokens::family_id.eq(token.family),
                refresh_tokens::user_id.eq(token.user.as_uuid()),
                refresh_tokens::token_hash.eq(token.hash.as_bytes()),
                refresh_tokens::issued_at.eq(token.issued_at),
                refresh_tokens::expires_at.eq(token.expires_at),
                refresh_tokens::family_expires_at.eq(token.family_expires_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(infra)?;
        Ok(())
    }

    async fn rotate(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> Result<Rotation, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        conn.transaction(async |conn| {
            // The row lock serialises two concurrent uses of one token: the second sees it used.
            let row: Option<RefreshRow> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(presented.as_bytes()))
                .select(RefreshRow::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?;
            let Some(row) = row else {
                return Ok(Rotation::Dead);
            };
            if row.revoked_at.is_some() {
                return Ok(Rotation::Dead);
            }
            if row.used_at.is_some() {
                diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::family_id.eq(row.family_id))
                        .filter(refresh_tokens::revoked_at.is_null()),
                )
                .set(refresh_tokens::revoked_at.eq(now))
                .execute(conn)
                .await?;
                return Ok(Rotation::Reused);
            }
            if row.expires_at <= now || row.family_expires_at <= now {
                return Ok(Rotation::Dead);
            }
            diesel::update(
                refresh_tokens::table.filter(refresh_tokens::token_hash.eq(presented.as_bytes())),
            )
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)
            .await?;
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::id.eq(Uuid::now_v7()),
                    refresh_tokens::family_id.eq(row.family_id),
                    refresh_tokens::user_id.eq(row.user_id),
                    refresh_tokens::token_hash.eq(successor.as_bytes()),
                    refresh_tokens::issued_at.eq(now),
                    refresh_tokens::expires_at.eq(idle_expires_at.min(row.family_expires_at)),
                    refresh_tokens::family_expires_at.eq(row.family_expires_at),
                ))
                .execute(conn)
                .await?;
            Ok::<_, DieselError>(Rotation::Rotated {
                user: UserId::from_uuid(row.user_id),
                family: row.family_id,
            })
        })
        .await
        .map_err(infra)
    }

    async fn revoke_family(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let family: Option<Uuid> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token.as_bytes()))
            .select(refresh_tokens::family_id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(infra)?;
        if let Some(family) = family {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(family))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(now))
            .execute(&mut conn)
            .await
            .map_err(infra)?;
        }
        Ok(())
    }

    async fn revoke_all(
        &self,
        user: UserId,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        revoke_sessions(&mut conn, user.as_uuid(), keep, now)
            .await
            .map_err(infra)?;
        Ok(())
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = user_profiles)]
struct ProfileRow {
    birth_year: Option<i16>,
    sex: Option<String>,
    height_cm: Option<f64>,
    weight_kg: Option<f64>,
    activity_level: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = health_profiles)]
struct HealthRow {
    conditions: Vec<Option<String>>,
    diets: serde_json::Value,
    allergens: Vec<Option<String>>,
    pregnant: bool,
    notes: Option<String>,
    version: i32,
    updated_at: DateTime<Utc>,
}

fn enum_text<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

fn text_enum<T: serde::de::DeserializeOwned>(text: Option<String>) -> Option<T> {
    text.and_then(|t| serde_json::from_value(serde_json::Value::String(t)).ok())
}

fn diets_to_json(diets: &[DietChoice]) -> serde_json::Value {
    serde_json::Value::Array(
        diets
            .iter()
            .map(|d| serde_json::json!({"code": d.code, "params": d.params}))
            .collect(),
    )
}

pub(crate) fn diets_from_json(value: serde_json::Value) -> Vec<DietChoice> {
    #[derive(serde::Deserialize)]
    struct Stored {
        code: String,
        #[serde(default)]
        params: BTreeMap<String, f64>,
    }
    serde_json::from_value::<Vec<Stored>>(value)
        .unwrap_or_default()
        .into_iter()
        .map(|d| DietChoice {
            code: d.code,
            params: d.params,
        })
        .collect()
}

async fn load_profile(
    conn: &mut AsyncPgConnection,
    user: Uuid,
) -> QueryResult<Option<(UserRow, ProfileRow)>> {
    users::table
        .inner_join(user_profiles::table)
        .filter(users::id.eq(user))
        .select((UserRow::as_select(), ProfileRow::as_select()))
        .first(conn)
        .await
        .optional()
}

fn to_profile(user: UserRow, profile: ProfileRow) -> Result<Profile, IdentityError> {
    let credentials = user.into_credentials()?;
    Ok(Profile {
        user: UserSummary::from(&credentials.user),
        birth_year: profile.birth_year,
        sex: text_enum::<Sex>(profile.sex),
        body: BodyMetrics {
            height_cm: profile.height_cm,
            weight_kg: profile.weight_kg,
        },
        activity_level: text_enum::<ActivityLevel>(profile.activity_level),
    })
}

fn to_health(row: HealthRow, body: BodyMetrics) -> HealthProfile {
    HealthProfile {
        conditions: row.conditions.into_iter().flatten().collect(),
        diets: diets_from_json(row.diets),
        allergens: row.allergens.into_iter().flatten().collect(),
        pregnant: row.pregnant,
        body,
        notes: row.notes,
        version: row.version,
        updated_at: row.updated_at,
    }
}

/// A column's new value: `None` leaves it, `Some(None)` clears it.
fn column<T>(patch: Patch<T>) -> Option<Option<T>> {
    match patch {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(value) => Some(Some(value)),
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = user_profiles)]
struct ProfileChanges {
    birth_year: Option<Option<i16>>,
    sex: Option<Option<String>>,
    height_cm: Option<Option<f64>>,
    weight_kg: Option<Option<f64>>,
    activity_level: Option<Option<String>>,
    updated_at: DateTime<Utc>,
}

#[async_trait]
impl ProfileRepository for PgIdentityStore {
    async fn profile(&self, user: UserId) -> Result<Option<Profile>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let found = load_profile(&mut conn, user.as_uuid())
            .await
            .map_err(infra)?;
        found
            .map(|(user, profile)| to_profile(user, profile))
            .transpose()
    }

    async fn update_profile(
        &self,
        user: UserId,
        patch: &ProfilePatch,
    ) -> Result<Option<Profile>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let id = user.as_uuid();
        let changes = ProfileChanges {
            birth_year: column(patch.birth_year),
            sex: column(patch.sex).map(|s| s.and_then(|s| enum_text(&s))),
            height_cm: column(patch.height_cm),
            weight_kg: column(patch.weight_kg),
            activity_level: column(patch.activity_level).map(|a| a.and_then(|a| enum_text(&a))),
            updated_at: Utc::now(),
        };
        let nickname = patch.nickname.clone();
        conn.transaction(async |conn| {
            if let Some(nickname) = &nickname {
                diesel::update(users::table.find(id))
                    .set((
                        users::nickname.eq(nickname.as_str()),
                        users::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
            }
            diesel::update(user_profiles::table.find(id))
                .set(&changes)
                .execute(conn)
                .await?;
            load_profile(conn, id).await
        })
        .await
        .map_err(infra)?
        .map(|(user, profile)| to_profile(user, profile))
        .transpose()
    }

    async fn health(&self, user: UserId) -> Result<Option<HealthProfile>, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let found: Option<(HealthRow, Option<f64>, Option<f64>)> = health_profiles::table
            .inner_join(
                user_profiles::table.on(user_profiles::user_id.eq(health_profiles::user_id)),
            )
            .filter(health_profiles::user_id.eq(user.as_uuid()))
            .select((
                HealthRow::as_select(),
                user_profiles::height_cm,
                user_profiles::weight_kg,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(infra)?;
        Ok(found.map(|(row, height_cm, weight_kg)| {
            to_health(
                row,
                BodyMetrics {
                    height_cm,
                    weight_kg,
                },
            )
        }))
    }

    async fn replace_health(
        &self,
        user: UserId,
        profile: &ValidHealthProfile,
        expected_version: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<HealthProfile, IdentityError> {
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let id = user.as_uuid();
        conn.transaction(async |conn| {
            let current: Option<i32> = health_profiles::table
                .find(id)
                .select(health_profiles::version)
                .for_update()
                .first(conn)
                .await
                .optional()?;
            let Some(current) = current else {
                return Ok(Err(IdentityError::UserNotFound));
            };
            if expected_version.is_some_and(|expected| expected != current) {
                return Ok(Err(IdentityError::VersionMismatch { expected: current }));
            }
            let row: HealthRow = diesel::update(health_profiles::table.find(id))
                .set((
                    health_profiles::conditions.eq(profile
                        .conditions
                        .iter()
                        .cloned()
                        .map(Some)
                        .collect::<Vec<_>>()),
                    health_profiles::diets.eq(diets_to_json(&profile.diets)),
                    health_profiles::allergens.eq(profile
                        .allergens
                        .iter()
                        .cloned()
                        .map(Some)
                        .collect::<Vec<_>>()),
                    health_profiles::pregnant.eq(profile.pregnant),
                    health_profiles::notes.eq(profile.notes.as_deref()),
                    health_profiles::version.eq(health_profiles::version + 1),
                    health_profiles::updated_at.eq(now),
                ))
                .returning(HealthRow::as_returning())
                .get_result(conn)
                .await?;
            diesel::update(user_profiles::table.find(id))
                .set((
                    user_profiles::height_cm.eq(profile.body.height_cm),
                    user_profiles::weight_kg.eq(profile.body.weight_kg),
                    user_profiles::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok::<_, DieselError>(Ok(to_health(row, profile.body)))
        })
        .await
        .map_err(infra)?
    }
}
