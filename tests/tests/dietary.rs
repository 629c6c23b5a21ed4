//! Verdicts end to end: a user records diets and allergens, then asks about a label.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use diningcoach_e2e::Stack;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_vegan_with_a_peanut_allergy_checks_a_label() {
    let stack = Stack::new().await;
    let api = stack.api().await;
    let password = "correct horse battery staple";
    api.post(
        "/api/v1/auth/signup",
        json!({"email": "vee@example.org", "password": password, "nickname": "Vee"}),
    )
    .await;
    let session: Value = api
        .post(
            "/api/v1/auth/login",
            json!({"email": "vee@example.org", "password": password}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap();
    let health = api
        .client
        .put(api.url("/api/v1/me/health"))
        .bearer_auth(token)
        .json(&json!({"diets": [{"code": "vegan"}], "allergens": ["peanuts"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let check = |body: Value| {
        let request = api
            .client
            .post(api.url("/api/v1/verdicts/check"))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let verdict: Value = check(json!({
        "ingredients_text": "Sugar, cocoa butter, whole milk powder, emulsifier (soy lecithin). May contain peanuts.",
        "nutrients_per_100g": {"sodium_mg": 80}
    }))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(verdict["level"], "avoid");
    let reasons = verdict["reasons"].as_array().unwrap();
    assert!(
        reasons.iter().any(|r| r["diet"] == "vegan"
            && r["severity"] == "avoid"
            && r["evidence"].to_string().contains("whole milk powder")),
        "{verdict:#}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r["allergen"] == "peanuts" && r["severity"] == "caution"),
        "{verdict:#}"
    );

    let unknown: Value = check(json!({})).await.json().await.unwrap();
    assert_eq!(
        unknown["level"], "unknown",
        "no ingredient list is never ok for a vegan"
    );

    let negative =
        check(json!({"ingredients_text": "water", "nutrients_per_100g": {"sodium_mg": -5}})).await;
    assert_eq!(negative.status(), 422);
    let unknown_nutrient =
        check(json!({"ingredients_text": "water", "nutrients_per_100g": {"unobtainium_mg": 5}}))
            .await;
    assert_eq!(unknown_nutrient.status(), 422);
    let anonymous = api
        .post(
            "/api/v1/verdicts/check",
            json!({"ingredients_text": "water"}),
        )
        .await;
    assert_eq!(anonymous.status(), 401);

    api.process.terminate(Duration::from_secs(30)).await;
}
