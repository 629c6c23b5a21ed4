-- Accounts. The email is stored normalised (trimmed, lower-case), so the unique index makes one account per
-- address whatever the case the user types.
CREATE TABLE users (
    id                uuid        PRIMARY KEY,
    email             text        NOT NULL,
    nickname          text        NOT NULL,
    password_hash     text        NOT NULL,
    role              text        NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    email_verified_at timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

-- One row per user, created with the account.
CREATE TABLE user_profiles (
    user_id        uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    birth_year     smallint    CHECK (birth_year BETWEEN 1900 AND 2200),
    sex            text        CHECK (sex IN ('female', 'male', 'other')),
    height_cm      double precision CHECK (height_cm BETWEEN 40 AND 272),
    weight_kg      double precision CHECK (weight_kg BETWEEN 2 AND 650),
    activity_level text        CHECK (activity_level IN ('sedentary', 'light', 'moderate', 'active', 'very_active')),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per user, created with the account. `diets` holds [{code, params}]; codes are checked by the dietary
-- catalog in the application, which is data and changes without a migration.
CREATE TABLE health_profiles (
    user_id    uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    conditions text[]      NOT NULL DEFAULT '{}',
    diets      jsonb       NOT NULL DEFAULT '[]',
    allergens  text[]      NOT NULL DEFAULT '{}',
    pregnant   boolean     NOT NULL DEFAULT false,
    notes      text,
    version    integer     NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Single-use tokens of mailed links; only their SHA-256 is stored.
CREATE TABLE email_tokens (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    token_hash bytea       NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL,
    CONSTRAINT email_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX email_tokens_user_purpose_idx ON email_tokens (user_id, purpose);

-- Refresh tokens. A family is one login: every rotation adds a token to it, and reuse of a rotated token revokes
-- the family. Only SHA-256 hashes are stored.
CREATE TABLE refresh_tokens (
    id                uuid        PRIMARY KEY,
    family_id         uuid        NOT NULL,
    user_id           uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash        bytea       NOT NULL,
    issued_at         timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    family_expires_at timestamptz NOT NULL,
    used_at           timestamptz,
    revoked_at        timestamptz,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);

-- Failed logins, for the lockout window.
CREATE TABLE login_failures (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_user_id_failed_at_idx ON login_failures (user_id, failed_at);
