//! The command-line contract of ../shared/docs/PRODUCT.md ("Command line and configuration"), run
//! as the real binary on a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output};

use common::snapshot_settings;
use scimgate_core::testing::TestDatabase;
use serde_json::Value;
use tempfile::TempDir;

fn run(db: &TestDatabase, data: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimgate"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SCIMGATE_DATABASE_URL", &db.url)
        .env("SCIMGATE_DATA_DIR", data.path())
        .env("SCIMGATE_PUBLIC_URL", "https://scim.example.com")
        .env("RUST_LOG", "error");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run scimgate")
}

fn json_of(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

#[test]
fn onboarding_commands_print_json_and_secrets_once() {
    let db = TestDatabase::new();
    let data = TempDir::with_prefix("scimgate-cli-").unwrap();
    let m = json_of(&run(&db, &data, &["migrate"], &[]));
    assert!(m["applied"].is_array());
    let key = json_of(&run(
        &db,
        &data,
        &["api-keys", "create", "--name", "ci"],
        &[],
    ));
    assert!(key["api_key"].as_str().unwrap().starts_with("sk_"));
    let org = json_of(&run(
        &db,
        &data,
        &[
            "organizations",
            "create",
            "--name",
            "Acme",
            "--domain",
            "acme.com",
        ],
        &[],
    ));
    let org_id = org["id"].as_str().unwrap();
    assert!(org_id.starts_with("org_"));
    let dir = json_of(&run(
        &db,
        &data,
        &[
            "directories",
            "create",
            "--organization",
            org_id,
            "--type",
            "okta scim v2.0",
            "--name",
            "Acme Okta",
        ],
        &[],
    ));
    assert_eq!(
        dir["scim_url"],
        format!(
            "https://scim.example.com/scim/v2/{}",
            dir["id"].as_str().unwrap()
        )
    );
    assert!(dir["bearer_token"].as_str().unwrap().starts_with("sgd_"));
    // what the commands print: the vendor API's objects (WIRE-COMPAT.md §4)
    snapshot_settings(&[(org_id, "organization")]).bind(|| {
        insta::assert_json_snapshot!("cli_organization", org);
        insta::assert_json_snapshot!("cli_directory", dir);
    });
    // bad input: a precise error and a non-zero exit
    let bad = run(
        &db,
        &data,
        &[
            "directories",
            "create",
            "--organization",
            org_id,
            "--type",
            "bamboohr",
        ],
        &[],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unsupported directory type"));
}

#[test]
fn admins_create_takes_the_password_from_the_environment_or_stdin() {
    let db = TestDatabase::new();
    let data = TempDir::with_prefix("scimgate-cli-").unwrap();
    let a = json_of(&run(
        &db,
        &data,
        &["admins", "create", "--email", "ops@acme.com"],
        &[("SCIMGATE_ADMIN_PASSWORD", "correct horse battery")],
    ));
    assert!(a["id"].as_str().unwrap().starts_with("admin_user_"));
    let dup = run(
        &db,
        &data,
        &["admins", "create", "--email", "OPS@acme.com"],
        &[("SCIMGATE_ADMIN_PASSWORD", "correct horse battery")],
    );
    assert!(
        !dup.status.success(),
        "emails are unique case-insensitively"
    );
    let short = run(
        &db,
        &data,
        &["admins", "create", "--email", "x@acme.com"],
        &[("SCIMGATE_ADMIN_PASSWORD", "short")],
    );
    assert!(!short.status.success());
    // from standard input
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimgate"));
    c.args(["admins", "create", "--email", "two@acme.com"])
        .env_clear()
        .env("SCIMGATE_DATABASE_URL", &db.url)
        .env("SCIMGATE_DATA_DIR", data.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v = json_of(&out);
    assert_eq!(v["email"], "two@acme.com");
    // disable, enable and reset-password act on the account, and every command is audited
    json_of(&run(
        &db,
        &data,
        &["admins", "disable", "--email", "two@acme.com"],
        &[],
    ));
    json_of(&run(
        &db,
        &data,
        &["admins", "disable", "--email", "two@acme.com", "--enable"],
        &[],
    ));
    json_of(&run(
        &db,
        &data,
        &["admins", "reset-password", "--email", "two@acme.com"],
        &[("SCIMGATE_ADMIN_PASSWORD", "a brand new password")],
    ));
    let out = run(&db, &data, &["audit", "export"], &[]);
    let got: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|l| {
            assert_eq!(l["actor"]["type"], "cli");
            for pw in [
                "correct horse battery",
                "another long password",
                "a brand new password",
            ] {
                assert!(
                    !l.to_string().contains(pw),
                    "a password in the audit log: {l}"
                );
            }
            (
                l["action"].as_str().unwrap().to_string(),
                l["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("admin_user.created", "success"),
        ("admin_user.created", "failure"),
        ("admin_user.created", "failure"),
        ("admin_user.created", "success"),
        ("admin_user.disabled", "success"),
        ("admin_user.enabled", "success"),
        ("admin_user.password_reset", "success"),
    ]
    .iter()
    .map(|(a, o)| (a.to_string(), o.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn audit_export_and_verify_report_the_first_broken_link() {
    let db = TestDatabase::new();
    let data = TempDir::with_prefix("scimgate-cli-").unwrap();
    json_of(&run(
        &db,
        &data,
        &["api-keys", "create", "--name", "ci"],
        &[],
    ));
    json_of(&run(
        &db,
        &data,
        &["organizations", "create", "--name", "Acme"],
        &[],
    ));
    // a refused command is recorded as a failure
    let bad = run(&db, &data, &["organizations", "create", "--name", " "], &[]);
    assert!(!bad.status.success());
    let out = run(&db, &data, &["audit", "export"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["actor"]["type"].as_str().unwrap(),
                l["action"].as_str().unwrap(),
                l["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("cli", "api_key.created", "success"),
            ("cli", "organization.created", "success"),
            ("cli", "organization.created", "failure"),
        ]
    );
    assert!(lines[0]["target"]["id"]
        .as_str()
        .unwrap()
        .starts_with("key_"));
    let ok = json_of(&run(&db, &data, &["audit", "verify"], &[]));
    assert_eq!(ok["intact"], true);
    assert_eq!(ok["records"], 3);
    // a changed record: verify names it and exits non-zero
    scimgate_core::testing::tamper_audit_record(&db.db(), 2, "organization.deleted").unwrap();
    let broken = run(&db, &data, &["audit", "verify"], &[]);
    assert_eq!(broken.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(v["intact"], false);
    assert_eq!(v["broken_at"], 2);
}

#[test]
fn an_unusable_listen_address_or_database_fails_fast_with_the_reason() {
    let db = TestDatabase::new();
    let data = TempDir::with_prefix("scimgate-cli-").unwrap();
    let t0 = std::time::Instant::now();
    let o = run(
        &db,
        &data,
        &["serve"],
        &[("SCIMGATE_LISTEN", "not-an-address"), ("RUST_LOG", "info")],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot listen on SCIMGATE_LISTEN=not-an-address:"),
        "{err}"
    );
    // the reason follows, and no "listening" line before the failure; plain text in a pipe
    assert!(!err.contains("scimgate listening"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "ANSI colour codes in a pipe: {err}"
    );
    // a database nobody listens on: one clear line, at once
    let o = run(
        &db,
        &data,
        &["migrate"],
        &[(
            "SCIMGATE_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/nothing",
        )],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot connect to postgres://postgres"),
        "{err}"
    );
    assert!(
        err.contains("127.0.0.1:1/nothing: connection to server"),
        "{err}"
    );
    assert_eq!(err.matches("cannot connect").count(), 1, "{err}");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t0.elapsed()
    );
}

#[test]
fn check_names_each_problem_on_its_line_and_fails() {
    let db = TestDatabase::new();
    let data = TempDir::with_prefix("scimgate-cli-").unwrap();
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let ok = run(&db, &data, &["check"], &[]);
    assert!(ok.status.success(), "{}", text(&ok));
    let out = text(&ok);
    for line in [
        "ok   configuration",
        "ok   database",
        " pending (the last: ",
        "ok   redis",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    json_of(&run(&db, &data, &["migrate"], &[]));
    assert!(text(&run(&db, &data, &["check"], &[])).contains("ok   migrations: up to date"));
    // each problem on its own line, and a non-zero exit
    for (env, want) in [
        (
            vec![("SCIMGATE_MAX_PAGE_SIZE", "0")],
            "FAIL configuration: ",
        ),
        (
            vec![("SCIMGATE_DATABASE_URL", "postgres://postgres@127.0.0.1:1/x")],
            "FAIL database: ",
        ),
        (
            vec![("SCIMGATE_REDIS_URL", "redis://127.0.0.1:1")],
            "FAIL redis: ",
        ),
        (
            vec![(
                "SCIMGATE_BOOTSTRAP_API_KEY",
                "sk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            )],
            "FAIL bootstrap API key: guessable",
        ),
        (
            vec![("SCIMGATE_LISTEN", "nowhere:http")],
            "FAIL listen address: ",
        ),
    ] {
        let o = run(&db, &data, &["check"], &env);
        assert_eq!(o.status.code(), Some(1), "{want}: {}", text(&o));
        assert!(text(&o).contains(want), "{want}: {}", text(&o));
    }
}
