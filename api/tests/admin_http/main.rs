//! The admin UI and the setup portal, black-box over HTTP against the real binary:
//! every security rule of issue 16 (sessions, CSRF and Origin, login throttling,
//! security headers, setup links and setup sessions scoped to one organization) and
//! the pages' flows. A small cookie-keeping client stands in for the browser (the
//! browser suite is `scripts/e2e/admin-ui`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod dashboard;
mod pages;
mod portal;
mod security;

use std::collections::HashMap;
use std::process::Command;

use common::*;
use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use scimgate_core::bus::Bus;
use scimgate_core::seal::Sealer;
use scimgate_core::{Core, Settings};

pub const EMAIL: &str = "ops@vendor.test";
pub const PASSWORD: &str = "correct horse battery staple";
/// The sealing key the test servers run with, so tests can read the session keys
/// through core (and sign tokens a server must refuse: expired, wrong kind).
pub const SECRET_KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";

pub fn start() -> Server {
    Server::start_with(&[("SCIMGATE_SECRET_KEY", SECRET_KEY)])
}

/// `scimgate admins …` on the server's database.
pub fn admins(s: &Server, args: &[&str], password: Option<&str>) -> std::process::Output {
    let data = tempfile::TempDir::with_prefix("scimgate-admins-").unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimgate"));
    c.arg("admins")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SCIMGATE_DATABASE_URL", &s.db.url)
        .env("SCIMGATE_DATA_DIR", data.path())
        .env("RUST_LOG", "error");
    if let Some(p) = password {
        c.env("SCIMGATE_ADMIN_PASSWORD", p);
    }
    let out = c.output().expect("run scimgate admins");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn create_admin(s: &Server) {
    admins(s, &["create", "--email", EMAIL], Some(PASSWORD));
}

/// A core on the server's database with the server's sealing key.
pub fn core_of(s: &Server) -> Core {
    Core::new(s.db.db(), Bus::in_process(), Settings::default())
        .with_sealer(Sealer::from_env_value(SECRET_KEY).unwrap())
}

/// A browser: keeps cookies, follows no redirect, sends the server's Origin on POSTs.
pub struct Browser<'a> {
    pub s: &'a Server,
    pub client: Client,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The first hidden `csrf` (or other named) input's value.
    pub fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.body));
        let rest = &self.body[at + marker.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    /// The value of the input with this id.
    pub fn value_of(&self, id: &str) -> String {
        let at = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let rest = &self.body[at..];
        let v = rest.find("value=\"").unwrap() + 7;
        rest[v..v + rest[v..].find('"').unwrap()].to_string()
    }
}

impl<'a> Browser<'a> {
    pub fn new(s: &'a Server) -> Browser<'a> {
        Browser {
            s,
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, h: &HeaderMap) {
        for c in h.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
    }

    pub fn get(&mut self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.s.base))
            .header("Cookie", self.cookie_header())
            .send()
            .unwrap();
        self.page(r)
    }

    fn page(&mut self, r: reqwest::blocking::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        self.keep(&headers);
        Page {
            status,
            headers,
            body: r.text().unwrap_or_default(),
        }
    }

    /// A form POST with this `Origin` (None: no Origin header).
    pub fn post_from(&mut self, origin: Option<&str>, path: &str, form: &[(&str, &str)]) -> Page {
        let mut r = self
            .client
            .post(format!("{}{path}", self.s.base))
            .header("Cookie", self.cookie_header())
            .form(form);
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        let r = r.send().unwrap();
        self.page(r)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let origin = self.s.base.clone();
        self.post_from(Some(&origin), path, form)
    }

    /// Log in; the dashboard's page.
    pub fn login(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/admin/login");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.input("csrf");
        self.post(
            "/admin/login",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
    }

    pub fn logged_in(s: &'a Server) -> Browser<'a> {
        let mut b = Browser::new(s);
        let p = b.login(EMAIL, PASSWORD);
        assert_eq!(p.status, 303, "{}", p.body);
        b
    }

    /// The CSRF token of the dashboard's forms.
    pub fn csrf(&mut self) -> String {
        let p = self.get("/admin");
        assert_eq!(p.status, 200, "{}", p.body);
        p.input("csrf")
    }
}
