//! Identity end to end, as a mobile client uses it: sign up, read the mail, confirm, log in, refresh, reset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use diningcoach_e2e::{Api, DeadSmtp, SmtpSink, Stack, eventually, link_token};
use futures_util::StreamExt;
use serde_json::{Value, json};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn log_in(api: &Api, email: &str, password: &str) -> reqwest::Response {
    api.post(
        "/api/v1/auth/login",
        json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_signs_up_confirms_logs_in_refreshes_and_resets_the_password() {
    let sink = SmtpSink::start(Duration::ZERO).await;
    let stack = Stack::new()
        .await
        .with("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port));
    let _worker = stack.worker().await;
    let api = stack.api().await;
    let password = "correct horse battery staple";

    let created = api
        .post(
            "/api/v1/auth/signup",
            json!({"email": " Ann@Example.org", "password": password, "nickname": "Ann"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["location"], "/api/v1/me");
    let account = json_of(created).await;
    assert_eq!(account["email"], "ann@example.org");
    assert_eq!(account["email_verified"], false);

    let duplicate = api
        .post(
            "/api/v1/auth/signup",
            json!({"email": "ANN@example.org", "password": password, "nickname": "Ann 2"}),
        )
        .await;
    assert_eq!(duplicate.status(), 409);

    // The confirmation mail, as the SMTP server received it.
    let mails = sink.wait_for(1, Duration::from_secs(30)).await;
    assert!(mails[0].contains("To: ann@example.org"));
    let token = link_token(&mails[0], "https://app.test/verify-email");
    assert_eq!(
        api.post("/api/v1/auth/email/verify", json!({"token": token}))
            .await
            .status(),
        204
    );
    let reused = api
        .post("/api/v1/auth/email/verify", json!({"token": token}))
        .await;
    assert_eq!(reused.status(), 400, "a link works once");

    let session = json_of(log_in(&api, "ann@example.org", password).await).await;
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    let me = json_of(
        api.get_authed("/api/v1/me", session["access_token"].as_str().unwrap())
            .await,
    )
    .await;
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["nickname"], "Ann");

    // Refresh rotates; presenting the old token again ends the whole login.
    let first_refresh = session["refresh_token"].as_str().unwrap();
    let rotated = json_of(
        api.post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first_refresh}),
        )
        .await,
    )
    .await;
    let second_refresh = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(first_refresh, second_refresh);
    let replay = api
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": first_refresh}),
        )
        .await;
    assert_eq!(replay.status(), 401);
    assert_eq!(
        json_of(replay).await["type"],
        "https://diningcoach.app/problems/refresh-token-reused"
    );
    assert_eq!(
        api.post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": second_refresh})
        )
        .await
        .status(),
        401
    );

    // A forgotten password: the reset link ends every session.
    let other_session = json_of(log_in(&api, "ann@example.org", password).await).await;
    assert_eq!(
        api.post(
            "/api/v1/auth/password/reset",
            json!({"email": "ann@example.org"})
        )
        .await
        .status(),
        202
    );
    assert_eq!(
        api.post(
            "/api/v1/auth/password/reset",
            json!({"email": "nobody@example.org"})
        )
        .await
        .status(),
        202
    );
    let mails = sink.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(mails.len(), 2, "no mail for an unknown address");
    let reset = link_token(&mails[1], "https://app.test/reset-password");
    let new_password = "a different long passphrase";
    let confirmed = api
        .post(
            "/api/v1/auth/password/reset/confirm",
            json!({"token": reset, "new_password": new_password}),
        )
        .await;
    assert_eq!(confirmed.status(), 204);
    let ended = api
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": other_session["refresh_token"]}),
        )
        .await;
    assert_eq!(ended.status(), 401);
    assert_eq!(
        log_in(&api, "ann@example.org", password).await.status(),
        401
    );
    assert_eq!(
        log_in(&api, "ann@example.org", new_password).await.status(),
        200
    );

    api.process.terminate(Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_health_profiles_lockout_and_deletion() {
    let stack = Stack::new().await;
    let api = stack.api().await;
    let password = "correct horse battery staple";
    let weak = api
        .post(
            "/api/v1/auth/signup",
            json!({"email": "bo@example.org", "password": "password1", "nickname": "Bo"}),
        )
        .await;
    assert_eq!(weak.status(), 422);
    assert_eq!(json_of(weak).await["errors"][0]["field"], "password");
    assert_eq!(
        api.post(
            "/api/v1/auth/signup",
            json!({"email": "bo@example.org", "password": password, "nickname": "Bo"})
        )
        .await
        .status(),
        201
    );
    let session = json_of(log_in(&api, "bo@example.org", password).await).await;
    let token = session["access_token"].as_str().unwrap();

    let patched = api
        .client
        .patch(api.url("/api/v1/me"))
        .bearer_auth(token)
        .json(&json!({"birth_year": 1980, "height_cm": 180.5, "activity_level": "moderate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched = json_of(patched).await;
    assert_eq!(patched["birth_year"], 1980);
    assert_eq!(patched["activity_level"], "moderate");
    let bad = api
        .client
        .patch(api.url("/api/v1/me"))
        .bearer_auth(token)
        .json(&json!({"birth_year": 1700, "weight_kg": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let fields: Vec<String> = json_of(bad).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["birth_year", "weight_kg"]);

    let health = api.get_authed("/api/v1/me/health", token).await;
    assert_eq!(health.headers()["etag"], "\"1\"");
    assert_eq!(
        json_of(health).await["height_cm"],
        180.5,
        "one height, shared by the profile and the health profile"
    );
    let unknown = api
        .client
        .put(api.url("/api/v1/me/health"))
        .bearer_auth(token)
        .json(&json!({"conditions": ["hypertension", "dragon_pox"], "allergens": ["unicorn"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
    let body = json_of(unknown).await;
    assert_eq!(body["errors"][0]["field"], "conditions[1]");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("dragon_pox")
    );
    let updated = api.client.put(api.url("/api/v1/me/health")).bearer_auth(token).header("if-match", "\"1\"")
        .json(&json!({"conditions": ["hypertension"], "diets": [{"code": "low_sodium", "params": {"daily_sodium_mg": 1500}}],
                      "allergens": ["shrimp"], "pregnant": false, "weight_kg": 70.2, "notes": "salt-sensitive"}))
        .send().await.unwrap();
    assert_eq!(updated.status(), 200);
    assert_eq!(updated.headers()["etag"], "\"2\"");
    let updated = json_of(updated).await;
    assert_eq!(updated["diets"][0]["params"]["daily_sodium_mg"], 1500.0);
    assert_eq!(
        updated["height_cm"],
        Value::Null,
        "PUT replaces the whole representation"
    );
    let stale = api
        .client
        .put(api.url("/api/v1/me/health"))
        .bearer_auth(token)
        .header("if-match", "\"1\"")
        .json(&json!({"conditions": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);

    // Five wrong passwords, then the account is locked for the rest of the window.
    for _ in 0..5 {
        assert_eq!(
            log_in(&api, "bo@example.org", "not the password")
                .await
                .status(),
            401
        );
    }
    let locked = log_in(&api, "bo@example.org", password).await;
    assert_eq!(locked.status(), 429);
    assert!(
        locked.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 800
    );

    let refused = api
        .client
        .delete(api.url("/api/v1/me"))
        .bearer_auth(token)
        .json(&json!({"password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let deleted = api
        .client
        .delete(api.url("/api/v1/me"))
        .bearer_auth(token)
        .json(&json!({"password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(stack.count("SELECT count(*) AS n FROM users").await, 0);
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM health_profiles")
            .await,
        0
    );
    assert_eq!(api.get_authed("/api/v1/me", token).await.status(), 404);

    api.process.terminate(Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_never_waits_for_smtp_and_the_mail_follows_when_it_returns() {
    let dead = DeadSmtp::start().await;
    let stack = Stack::new()
        .await
        .with("SMTP_URL", format!("smtp://127.0.0.1:{}", dead.port));
    let _worker = stack.worker().await;
    let api = stack.api().await;
    let created = api.post("/api/v1/auth/signup", json!({"email": "cy@example.org", "password": "correct horse battery staple", "nickname": "Cy"})).await;
    assert_eq!(created.status(), 201);

    eventually(
        Duration::from_secs(30),
        "the worker to try the dead mail server",
        || async { (dead.attempts() >= 1).then_some(()) },
    )
    .await;
    let sink = SmtpSink::start_on(dead.stop().await, Duration::ZERO).await;
    let mails = sink.wait_for(1, Duration::from_secs(30)).await;
    assert!(mails[0].contains("To: cy@example.org"));
    api.process.terminate(Duration::from_secs(30)).await;
}

/// 1,000 concurrent sign-ups for 250 addresses (each four times, in different cases): exactly one account, one
/// profile, one health profile and one confirmation mail per address.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_duplicate_sign_ups_make_one_account_per_address() {
    let stack = Stack::new().await;
    let api = stack.api().await;
    let requests = (0..1000).map(|n| {
        let email = if n % 2 == 0 { format!("user{}@example.org", n % 250) } else { format!("USER{}@Example.org", n % 250) };
        let client = api.client.clone();
        let url = api.url("/api/v1/auth/signup");
        async move {
            let response = client
                .post(url)
                .json(&json!({"email": email, "password": "correct horse battery staple", "nickname": "Someone"}))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    });
    let statuses: Vec<u16> = futures_util::stream::iter(requests)
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 250);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 750);
    assert_eq!(stack.count("SELECT count(*) AS n FROM users").await, 250);
    assert_eq!(
        stack.count("SELECT count(*) AS n FROM user_profiles").await,
        250
    );
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM health_profiles")
            .await,
        250
    );
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM outbox WHERE kind = 'email.send'")
            .await,
        250
    );
    assert_eq!(
        stack
            .count(
                "SELECT count(DISTINCT payload->>'to') AS n FROM outbox WHERE kind = 'email.send'"
            )
            .await,
        250
    );
    api.process.terminate(Duration::from_secs(30)).await;
}

/// The operator's commands: demo data (twice, to show it is idempotent) and an administrator.
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_loads_demo_data_and_creates_admins() {
    let stack = Stack::new().await;
    let cli = |args: &[&str]| {
        let mut command = tokio::process::Command::new(diningcoach_e2e::binary("diningcoach-cli"));
        command.env_clear().envs(&stack.env).args(args);
        async move { command.output().await.unwrap() }
    };
    for _ in 0..2 {
        let output = cli(&["demo"]).await;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let weak = cli(&[
        "users",
        "create-admin",
        "--email",
        "ops@example.org",
        "--password",
        "password",
    ])
    .await;
    assert!(
        !weak.status.success(),
        "the password policy applies to admins too"
    );
    let created = cli(&[
        "users",
        "create-admin",
        "--email",
        "ops@example.org",
        "--password",
        "a strong operator passphrase",
    ])
    .await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );

    let api = stack.api().await;
    let session: Value = log_in(&api, "ops@example.org", "a strong operator passphrase")
        .await
        .json()
        .await
        .unwrap();
    let me: Value = api
        .get_authed("/api/v1/me", session["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["email_verified"], true);
    let demo: Value = log_in(
        &api,
        "demo@diningcoach.app",
        "demo passphrase for diningcoach",
    )
    .await
    .json()
    .await
    .unwrap();
    let health: Value = api
        .get_authed("/api/v1/me/health", demo["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["diets"][0]["code"], "low_sodium");
    assert_eq!(stack.count("SELECT count(*) AS n FROM users").await, 3);
    api.process.terminate(Duration::from_secs(30)).await;
}
