//! Catalog imports end to end: an admin uploads an Open Food Facts export through the API and the real worker
//! imports it from RabbitMQ; an operator imports and generates foods with the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use diningcoach_e2e::{Api, Stack, eventually, root};
use serde_json::{Value, json};

const DEMO_PASSWORD: &str = "demo passphrase for diningcoach";

fn fixture() -> PathBuf {
    root().join("crates/catalog/tests/fixtures/off_sample.tsv")
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dc-imports-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn cli(stack: &Stack, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(diningcoach_e2e::binary("diningcoach-cli"))
        .env_clear()
        .envs(&stack.env)
        .args(args)
        .output()
        .await
        .unwrap()
}

async fn token(api: &Api, email: &str) -> String {
    let session: Value = api
        .post(
            "/api/v1/auth/login",
            json!({"email": email, "password": DEMO_PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    session["access_token"].as_str().unwrap().to_owned()
}

/// A `multipart/form-data` body with the fields `format` and `file`, as a browser or curl would send it.
fn upload_form(format: &str, file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("dc-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\n{format}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: text/tab-separated-values\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(api: &Api, token: &str, key: &str, content: &[u8]) -> (u16, Value, Option<String>) {
    let (content_type, body) = upload_form("off", "off_sample.tsv", content);
    let response = api
        .client
        .post(api.url("/api/v1/admin/catalog/imports"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .header("idempotency-key", key)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        location,
    )
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_uploads_an_off_export_and_the_worker_imports_it() {
    let imports = scratch_dir();
    let stack = Stack::new()
        .await
        .with("IMPORT_DIR", imports.to_string_lossy());
    let demo = cli(&stack, &["demo"]).await;
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let worker = stack.worker().await;
    let api = stack.api().await;
    let admin = token(&api, "admin@diningcoach.app").await;
    let user = token(&api, "demo@diningcoach.app").await;
    let content = std::fs::read(fixture()).unwrap();

    // Not for ordinary users.
    let (status, problem, _) = upload(&api, &user, "k-user", &content).await;
    assert_eq!(status, 403, "{problem:#}");

    let (status, accepted, location) = upload(&api, &admin, "k-1", &content).await;
    assert_eq!(status, 202, "{accepted:#}");
    let id = accepted["id"].as_str().unwrap().to_owned();
    let location = location.unwrap();
    assert_eq!(location, format!("/api/v1/admin/catalog/imports/{id}"));
    assert_eq!(accepted["format"], "off");
    assert_eq!(accepted["file_bytes"], content.len() as u64);

    // A client retry with the same key and file: the same import, not a second one.
    let (status, again, _) = upload(&api, &admin, "k-1", &content).await;
    assert_eq!(status, 202, "{again:#}");
    assert_eq!(again["id"], id.as_str());
    // The same key with another file: refused.
    let (status, problem, _) = upload(&api, &admin, "k-1", b"code\tproduct_name\n").await;
    assert_eq!(status, 422, "{problem:#}");
    assert_eq!(
        problem["type"],
        "https://diningcoach.app/problems/idempotency-key-reused"
    );

    let report = eventually(Duration::from_secs(60), "the import to finish", || {
        let request = api.client.get(api.url(&location)).bearer_auth(&admin);
        async move {
            let report: Value = request.send().await.ok()?.json().await.ok()?;
            (report["status"] == "done" || report["status"] == "failed").then_some(report)
        }
    })
    .await;
    assert_eq!(report["status"], "done", "{report:#}");
    assert_eq!(report["rows_read"], 11, "{report:#}");
    assert_eq!(report["accepted"], 6);
    assert_eq!(report["inserted"], 6);
    assert_eq!(report["skipped"], 5);
    assert_eq!(report["progress"], 1.0);
    assert_eq!(report["bytes_read"], content.len() as u64);
    let lines: Vec<u64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [6, 7, 8, 9, 10], "{report:#}");
    assert_eq!(report["errors"][1]["problem"], "malformed_number");

    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM foods WHERE source = 'import'")
            .await,
        6
    );
    let nutella: Value = api
        .client
        .get(api.url("/api/v1/foods/barcode/3017620422003"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nutella["name"], "Nutella", "{nutella:#}");
    // The upload is removed once imported (the retry's copy at once).
    eventually(
        Duration::from_secs(10),
        "the upload to be removed",
        || async { (files_in(&imports) == 0).then_some(()) },
    )
    .await;
    // Only admins see imports.
    let forbidden = api.get_authed(&location, &user).await;
    assert_eq!(forbidden.status(), 403);
    let missing = api
        .get_authed(
            &format!("/api/v1/admin/catalog/imports/{}", uuid::Uuid::now_v7()),
            &admin,
        )
        .await;
    assert_eq!(missing.status(), 404);

    api.process.terminate(Duration::from_secs(30)).await;
    worker.terminate(Duration::from_secs(30)).await;
    let _ = std::fs::remove_dir_all(&imports);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_imports_a_file_and_generates_foods() {
    let scratch = scratch_dir();
    let stack = Stack::new()
        .await
        .with("IMPORT_DIR", scratch.to_string_lossy());
    let fixture = fixture();
    let imported = cli(
        &stack,
        &[
            "catalog",
            "import",
            fixture.to_str().unwrap(),
            "--format",
            "off",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&imported.stdout);
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(": done"), "{stdout}");
    assert!(
        stdout.contains("rows read 11, accepted 6, inserted 6, updated 0, skipped 5"),
        "{stdout}"
    );
    assert!(stdout.contains("line 7: column `fat_100g`"), "{stdout}");
    assert!(stderr.contains("rows/s"), "{stderr}");
    assert!(fixture.exists(), "the operator's file is left where it is");
    assert_eq!(stack.count("SELECT count(*) AS n FROM foods").await, 6);
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM catalog_imports WHERE status = 'done' AND rows_committed = 11")
            .await,
        1
    );

    // Synthetic foods straight into the database…
    let generated = cli(
        &stack,
        &["catalog", "generate", "--count", "2500", "--seed", "3"],
    )
    .await;
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(
        String::from_utf8_lossy(&generated.stdout).contains("inserted 2500"),
        "{}",
        String::from_utf8_lossy(&generated.stdout)
    );
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM foods WHERE source = 'generated'")
            .await,
        2500
    );
    // …or as an import file: re-importing the first 100 of them updates, never duplicates.
    let file = scratch.join("gen.csv");
    let written = cli(
        &stack,
        &[
            "catalog",
            "generate",
            "--count",
            "100",
            "--seed",
            "3",
            "--output",
            file.to_str().unwrap(),
            "--format",
            "csv",
        ],
    )
    .await;
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let reimported = cli(
        &stack,
        &[
            "catalog",
            "import",
            file.to_str().unwrap(),
            "--format",
            "csv",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&reimported.stdout);
    assert!(reimported.status.success(), "{stdout}");
    assert!(stdout.contains("inserted 0, updated 100"), "{stdout}");
    assert_eq!(stack.count("SELECT count(*) AS n FROM foods").await, 2506);

    // A file that is not what --format says fails cleanly, with the reason.
    let wrong = cli(
        &stack,
        &[
            "catalog",
            "import",
            file.to_str().unwrap(),
            "--format",
            "off",
        ],
    )
    .await;
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("product_name"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
