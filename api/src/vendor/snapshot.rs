//! `GET /directories/{id}/snapshot`: NDJSON, streamed with bounded memory. First line
//! `{"object":"snapshot","cursor":…}`, then `directory_user`, `directory_group` and
//! `directory_group_membership` lines, last `{"object":"snapshot_end",…}`. Continue
//! with `GET /events?directory_id=…&after=<cursor>` (docs/ARCHITECTURE.md, snapshot
//! handoff).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::exec;
use crate::state::AppState;
use scimgate_core::ids::{DirectoryId, PrefixedId};
use scimgate_core::service::{admin, snapshot};

#[utoipa::path(
    get,
    path = "/directories/{id}/snapshot",
    operation_id = "snapshot_stream",
    tag = "directories",
    summary = "A directory's users, groups and memberships as NDJSON",
    params(("id" = String, Path, description = "a directory id")),
    responses((status = 200, description = "NDJSON: a `snapshot` line with the events cursor, the objects, a `snapshot_end` line", body = String, content_type = "application/x-ndjson"))
)]
pub async fn stream(
    state: web::Data<AppState>,
    key: ApiKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    // authenticate and check the directory before the stream starts (errors get a status)
    let dir = exec::blocking(&state.core, key, move |core, _| {
        Ok(admin::get_directory(
            core,
            &DirectoryId::parse_or_not_found(&id)?,
        )?)
    })
    .await?;
    let id = dir.id;
    // the snapshot's one transaction holds a blocking thread for the whole stream
    let (tx, rx) = tokio::sync::mpsc::channel::<web::Bytes>(64);
    let core = state.core.clone();
    tokio::task::spawn_blocking(move || {
        let res = snapshot::stream(&core, &id, |text| {
            let mut line = text.into_bytes();
            line.push(b'\n');
            tx.blocking_send(web::Bytes::from(line)).is_ok()
        });
        if let Err(e) = res {
            tracing::error!(error = %e, directory_id = %id, "snapshot failed");
            let line = format!(
                "{}\n",
                json!({"object": "error", "message": "snapshot failed; retry"})
            );
            let _ = tx.blocking_send(web::Bytes::from(line));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body))
}
