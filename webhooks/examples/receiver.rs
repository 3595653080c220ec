//! A webhook receiver fast enough not to be the limit of a benchmark
//! (scripts/bench/webhooks_bench.py): HTTP/1.1 keep-alive on tokio, answers every
//! `POST` with 200 at once and records its arrival time (unix µs), event id, directory
//! id and sequence; `GET /dump` answers those lines and clears them.
//!
//! cargo run --release -p scimgate-webhooks --example receiver -- 127.0.0.1:18500

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn field<'a>(body: &'a str, key: &str) -> &'a str {
    let pat = format!("\"{key}\":");
    let Some(i) = body.find(&pat) else { return "" };
    let rest = body[i + pat.len()..].trim_start_matches('"');
    let end = rest.find(['"', ',', '}']).unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18500".into());
    let listener = TcpListener::bind(&addr).await?;
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    loop {
        let (sock, _) = listener.accept().await?;
        let lines = lines.clone();
        tokio::spawn(async move {
            let (r, mut w) = sock.into_split();
            let mut r = BufReader::new(r);
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let get = line.starts_with("GET");
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).await.is_err() {
                    return;
                }
                let out = if get {
                    let all = {
                        let mut l = lines.lock().unwrap_or_else(|p| p.into_inner());
                        std::mem::take(&mut *l).join("\n")
                    };
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{all}",
                        all.len()
                    )
                } else {
                    let at = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_micros())
                        .unwrap_or(0);
                    let b = String::from_utf8_lossy(&body);
                    let rec = format!(
                        "{at} {} {} {}",
                        field(&b, "id"),
                        field(&b, "directory_id"),
                        field(&b, "sequence")
                    );
                    lines.lock().unwrap_or_else(|p| p.into_inner()).push(rec);
                    "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_string()
                };
                if w.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}
