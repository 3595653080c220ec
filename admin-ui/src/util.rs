//! Small helpers the pages share.

use actix_web::http::header;
use actix_web::HttpResponse;
use chrono::NaiveDateTime;

/// A time as operators read it.
pub fn when(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// 303 to `to` (after a POST: the browser GETs the page).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// A comma- or whitespace-separated list.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

/// A JSON value as readable text (strings without quotes, null as empty).
pub fn text_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// `path?k=v&…&cursor_name=cursor`: a page link that keeps the list's filters (empty
/// ones left out), the values URL-encoded.
pub fn link(path: &str, filters: &[(&str, &str)], cursor_name: &str, cursor: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    q.append_pair(cursor_name, cursor);
    format!("{path}?{}", q.finish())
}
