DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE email_tokens;
DROP TABLE health_profiles;
DROP TABLE user_profiles;
DROP TABLE users;
