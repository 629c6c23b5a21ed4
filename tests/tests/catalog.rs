//! The food catalog end to end, as the mobile app uses it: a verified user adds products, scans barcodes in any
//! printed form, searches with and without logging in, keeps only what suits them; an admin edits and deletes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diningcoach_e2e::{Api, Stack};
use serde_json::{Value, json};

const DEMO_PASSWORD: &str = "demo passphrase for diningcoach";

async fn token(api: &Api, email: &str, password: &str) -> String {
    let session: Value = api
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
        .json()
        .await
        .unwrap();
    session["access_token"].as_str().unwrap().to_owned()
}

async fn demo_stack() -> (Stack, Api) {
    let stack = Stack::new().await;
    let output = tokio::process::Command::new(diningcoach_e2e::binary("diningcoach-cli"))
        .env_clear()
        .envs(&stack.env)
        .arg("demo")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let api = stack.api().await;
    (stack, api)
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

fn cola() -> Value {
    json!({
        "name": "Coca-Cola Classic",
        "brand": "Coca-Cola",
        "barcode": "049000028911",
        "category_main": "Beverages",
        "category_sub": "Sodas",
        "serving_size_g": 330,
        "ingredients_text": "Carbonated water, sugar, colour (caramel E150d), phosphoric acid, natural flavourings including caffeine",
        "nutrients_per_100g": {"energy_kcal": 42, "sugars_g": 10.6, "sodium_mg": 4, "caffeine_mg": 9.7}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verified_user_adds_scans_and_searches_foods() {
    let (_stack, api) = demo_stack().await;
    let demo = token(&api, "demo@diningcoach.app", DEMO_PASSWORD).await;
    let c = &api.client;

    let (status, created, headers) = send(
        c.post(api.url("/api/v1/foods"))
            .bearer_auth(&demo)
            .json(&cola()),
    )
    .await;
    assert_eq!(status, 201, "{created:#}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(headers["location"], format!("/api/v1/foods/{id}").as_str());
    assert_eq!(created["kind"], "user_submitted");
    assert_eq!(created["barcode"]["gtin"], "00049000028911");
    assert!(created["verdict"]["level"].is_string(), "{created:#}");

    // The same product again, by its EAN-13 form: the client is pointed at the existing food.
    let mut again = cola();
    again["barcode"] = json!("0049000028911");
    let (status, problem, _) = send(
        c.post(api.url("/api/v1/foods"))
            .bearer_auth(&demo)
            .json(&again),
    )
    .await;
    assert_eq!(status, 409, "{problem:#}");
    assert!(problem["detail"].as_str().unwrap().contains(&id));

    // Any printed form scans to it; a wrong check digit names the right one; an unknown code says how to add it.
    for code in ["049000028911", "0049000028911", "00049000028911"] {
        let (status, found, _) =
            send(c.get(api.url(&format!("/api/v1/foods/barcode/{code}")))).await;
        assert_eq!((status, found["id"].as_str()), (200, Some(id.as_str())));
        assert!(found["verdict"].is_null(), "anonymous: no verdict");
        assert!(found["matched"].is_null(), "not a search");
    }
    let (status, problem, headers) =
        send(c.get(api.url("/api/v1/foods/barcode/049000028912"))).await;
    assert_eq!(status, 422);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(problem.to_string().contains("should be 1"), "{problem:#}");
    let (status, problem, _) = send(c.get(api.url("/api/v1/foods/barcode/4006381333931"))).await;
    assert_eq!(status, 404);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("POST /api/v1/foods")
    );
    let (status, _, _) = send(c.get(api.url("/api/v1/foods/barcode/12ab"))).await;
    assert_eq!(status, 422);

    // A salty one, to see the suitability filter at work for the demo user (low sodium).
    let (status, _, _) = send(
        c.post(api.url("/api/v1/foods"))
            .bearer_auth(&demo)
            .json(&json!({
                "name": "Cola Salted Crisps",
                "serving_size_g": 30,
                "ingredients_text": "Potatoes, sunflower oil, salt",
                "nutrients_per_100g": {"sodium_mg": 1600}
            })),
    )
    .await;
    assert_eq!(status, 201);

    // Search: the exact name first, then names starting with the text, then word starts.
    let (status, page, _) = send(c.get(api.url("/api/v1/foods?q=COLA&limit=10"))).await;
    assert_eq!(status, 200, "{page:#}");
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("Cola Salted Crisps"), json!("Coca-Cola Classic")]
    );
    assert_eq!(page["items"][0]["matched"], "name_prefix");
    assert_eq!(page["items"][1]["matched"], "word_prefix");
    assert!(page["next_cursor"].is_null());
    // Two letters give no trigram, but a word of the name that starts with them is still found.
    let (status, page, _) = send(c.get(api.url("/api/v1/foods?q=cl"))).await;
    assert_eq!(status, 200, "{page:#}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page:#}");
    assert_eq!(page["items"][0]["name"], "Coca-Cola Classic");
    assert_eq!(page["items"][0]["matched"], "word_prefix");
    // A misspelt word finds what it was meant to, marked as a correction.
    let (status, page, _) = send(c.get(api.url("/api/v1/foods?q=coca%20cola%20clasic"))).await;
    assert_eq!(status, 200, "{page:#}");
    assert_eq!(page["items"][0]["name"], "Coca-Cola Classic", "{page:#}");
    assert_eq!(page["items"][0]["matched"], "corrected_prefix");

    let (_, page, _) = send(c.get(api.url("/api/v1/foods?q=cola")).bearer_auth(&demo)).await;
    let items = page["items"].as_array().unwrap();
    assert!(
        items.iter().all(|f| f["verdict"]["level"].is_string()),
        "{page:#}"
    );
    let crisps = items
        .iter()
        .find(|f| f["name"] == "Cola Salted Crisps")
        .unwrap();
    assert_eq!(crisps["verdict"]["level"], "avoid", "{crisps:#}");
    assert!(crisps["verdict"]["reasons"].to_string().contains("sodium"));

    let (_, page, _) = send(
        c.get(api.url("/api/v1/foods?q=cola&suitable=true"))
            .bearer_auth(&demo),
    )
    .await;
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert!(!names.contains(&json!("Cola Salted Crisps")), "{page:#}");

    // Paging: one at a time, the cursor moves on; a forged one is refused.
    let (_, first, _) = send(c.get(api.url("/api/v1/foods?q=cola&limit=1"))).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second, _) =
        send(c.get(api.url(&format!("/api/v1/foods?q=cola&limit=1&cursor={cursor}")))).await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    let last = if cursor.ends_with('x') { "y" } else { "x" };
    let forged = format!("{}{last}", &cursor[..cursor.len() - 1]);
    let (status, problem, _) =
        send(c.get(api.url(&format!("/api/v1/foods?q=cola&cursor={forged}")))).await;
    assert_eq!(status, 400, "{problem:#}");
    for bad in ["limit=101", "limit=0", "suitable=maybe", "q=%20%21%20"] {
        let (status, problem, _) = send(c.get(api.url(&format!("/api/v1/foods?{bad}")))).await;
        assert_eq!(status, 422, "{bad}: {problem:#}");
    }
    let (status, _, _) = send(c.get(api.url("/api/v1/foods?suitable=true"))).await;
    assert_eq!(status, 403, "suitable needs a user");
    let (status, _, _) = send(
        c.get(api.url("/api/v1/foods?q=cola"))
            .bearer_auth("not-a-token"),
    )
    .await;
    assert_eq!(status, 401, "a token that is sent must be valid");

    // The verdict with its reasons.
    let (status, verdict, _) = send(
        c.get(api.url(&format!("/api/v1/foods/{id}/verdict")))
            .bearer_auth(&demo),
    )
    .await;
    assert_eq!(status, 200);
    assert!(verdict["reasons"].is_array());
    let (status, _, _) = send(c.get(api.url(&format!("/api/v1/foods/{id}/verdict")))).await;
    assert_eq!(status, 401);
    let (status, _, _) = send(c.get(api.url("/api/v1/foods/not-a-uuid"))).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_verified_users_contribute_and_only_admins_edit() {
    let (_stack, api) = demo_stack().await;
    let c = &api.client;
    api.post(
        "/api/v1/auth/signup",
        json!({"email": "new@example.org", "password": "a fresh long passphrase", "nickname": "New"}),
    )
    .await;
    let newcomer = token(&api, "new@example.org", "a fresh long passphrase").await;
    let (status, problem, _) = send(
        c.post(api.url("/api/v1/foods"))
            .bearer_auth(&newcomer)
            .json(&cola()),
    )
    .await;
    assert_eq!(status, 403, "unconfirmed email: {problem:#}");

    let demo = token(&api, "demo@diningcoach.app", DEMO_PASSWORD).await;
    let (status, problem, _) = send(
        c.post(api.url("/api/v1/foods"))
            .bearer_auth(&demo)
            .json(&json!({"name": "", "barcode": "123", "nutrients_per_100g": {"fat_g": 140}})),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    for field in ["name", "barcode", "nutrients.fat_g"] {
        assert!(
            fields.contains(&json!(field)),
            "{field} not named: {problem:#}"
        );
    }

    let (_, created, headers) = send(
        c.post(api.url("/api/v1/foods"))
            .bearer_auth(&demo)
            .json(&cola()),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let url = api.url(&format!("/api/v1/foods/{id}"));
    let (_, read, _) = send(c.get(&url)).await;
    assert_eq!(read["name"], created["name"]);
    let mut edit = cola();
    edit["name"] = json!("Coca-Cola Original Taste");

    let (status, _, _) = send(
        c.put(&url)
            .bearer_auth(&demo)
            .header("If-Match", &etag)
            .json(&edit),
    )
    .await;
    assert_eq!(status, 403, "users do not edit");
    let admin = token(&api, "admin@diningcoach.app", DEMO_PASSWORD).await;
    let (status, _, _) = send(c.put(&url).bearer_auth(&admin).json(&edit)).await;
    assert_eq!(status, 428, "If-Match is required");
    let (status, _, _) = send(
        c.put(&url)
            .bearer_auth(&admin)
            .header("If-Match", "\"7\"")
            .json(&edit),
    )
    .await;
    assert_eq!(status, 412);
    let (status, edited, headers) = send(
        c.put(&url)
            .bearer_auth(&admin)
            .header("If-Match", &etag)
            .json(&edit),
    )
    .await;
    assert_eq!(status, 200, "{edited:#}");
    assert_eq!(edited["name"], "Coca-Cola Original Taste");
    assert_eq!(
        edited["food_code"], created["food_code"],
        "the code is kept"
    );
    assert_ne!(headers["etag"].to_str().unwrap(), etag);
    // Read back as well: the API keeps a food's JSON per state of the food, and must not give the one read before.
    let (status, read, _) = send(c.get(&url)).await;
    assert_eq!(status, 200);
    assert_eq!(read["name"], "Coca-Cola Original Taste");
    assert_eq!(read["version"], edited["version"]);

    let (status, _, _) = send(c.delete(&url).bearer_auth(&demo)).await;
    assert_eq!(status, 403);
    let (status, _, _) = send(c.delete(&url).bearer_auth(&admin)).await;
    assert_eq!(status, 204);
    let (status, _, _) = send(c.get(&url)).await;
    assert_eq!(status, 404);
    let (status, _, _) = send(c.get(api.url("/api/v1/foods/barcode/049000028911"))).await;
    assert_eq!(status, 404);
}
