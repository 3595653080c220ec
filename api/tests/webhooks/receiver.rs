//! A webhook receiver for the tests: a real HTTP/1.1 server on 127.0.0.1 (std only,
//! one thread per connection, keep-alive) that records every request and answers as
//! told: a status, after a delay, or not at all (the port closed: "down").
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
    pub json: serde_json::Value,
    pub at: Instant,
}

impl Received {
    pub fn event_id(&self) -> String {
        self.json["id"].as_str().unwrap_or_default().to_string()
    }
    pub fn directory(&self) -> String {
        self.json["directory_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    pub fn seq(&self) -> i64 {
        self.json["sequence"].as_i64().unwrap_or(-1)
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// How the next requests are answered: `(status, delay)` popped from the front of
/// `script` while it lasts, then `then`.
#[derive(Debug, Clone)]
pub struct Plan {
    pub script: Vec<(u16, Duration)>,
    pub then: (u16, Duration),
}

pub struct Receiver {
    pub port: u16,
    pub got: Arc<Mutex<Vec<Received>>>,
    /// Every request, answered or not (a timed-out one included).
    pub requests: Arc<Mutex<usize>>,
    plan: Arc<Mutex<Plan>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let r = Receiver {
            port,
            got: Arc::default(),
            requests: Arc::default(),
            plan: Arc::new(Mutex::new(Plan {
                script: Vec::new(),
                then: (200, Duration::ZERO),
            })),
            stop: Arc::new(AtomicBool::new(false)),
        };
        r.serve(l);
        r
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn set(&self, script: Vec<(u16, Duration)>, then: (u16, Duration)) {
        *self.plan.lock().unwrap() = Plan { script, then };
    }

    /// Close the port: connections are refused until [`Receiver::up`].
    pub fn down(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the accept loop so that it drops the listener
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        std::thread::sleep(Duration::from_millis(100));
    }

    pub fn up(&mut self) {
        self.stop = Arc::new(AtomicBool::new(false));
        let l = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        self.serve(l);
    }

    fn serve(&self, l: TcpListener) {
        let (got, plan, stop, requests) = (
            self.got.clone(),
            self.plan.clone(),
            self.stop.clone(),
            self.requests.clone(),
        );
        std::thread::spawn(move || {
            for conn in l.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (got, plan, stop, requests) =
                    (got.clone(), plan.clone(), stop.clone(), requests.clone());
                std::thread::spawn(move || handle(conn, got, plan, stop, requests));
            }
        });
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Wait until `pred` holds on what was received (panics after `secs`).
    pub fn wait_for(
        &self,
        secs: u64,
        what: &str,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let t0 = Instant::now();
        loop {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {what}: got {} deliveries: {:?}",
                got.len(),
                got.iter()
                    .map(|r| (r.directory(), r.seq(), r.json["event"].clone()))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn handle(
    conn: TcpStream,
    got: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<Plan>>,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<usize>>,
) {
    let mut w = match conn.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || stop.load(Ordering::SeqCst) {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let n: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; n];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        *requests.lock().unwrap() += 1;
        let (status, delay) = {
            let mut p = plan.lock().unwrap();
            if p.script.is_empty() {
                p.then
            } else {
                p.script.remove(0)
            }
        };
        std::thread::sleep(delay);
        let body = String::from_utf8_lossy(&body).into_owned();
        if (200..300).contains(&status) {
            got.lock().unwrap().push(Received {
                json: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                headers,
                body,
                at: Instant::now(),
            });
        }
        let text = format!("answered {status}");
        let resp = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n{text}",
            text.len()
        );
        if w.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}
