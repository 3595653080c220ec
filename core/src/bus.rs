//! Notifications between request handlers, long polls and instances.
//!
//! The database is the source of truth; notices are only wake-ups (new events in a
//! directory) and invalidations (a revoked token or key). In process they travel on a
//! tokio broadcast channel; with Redis configured they are also published on a Redis
//! channel and every instance forwards what it receives into its own broadcast, so a
//! long poll on instance B wakes when instance A commits (CRATE-NOTES.md §c).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::ids::{DirectoryId, OrganizationId};

pub const REDIS_CHANNEL: &str = "scimgate:notices";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// New events were committed for a directory.
    Events {
        directory_id: DirectoryId,
        organization_id: OrganizationId,
        last_seq: i64,
    },
    /// A directory token or API key (by hash) was revoked: drop cached verifications.
    Revoked { hash: String },
    /// A directory changed (deleted, mappings): drop cached directory rows.
    DirectoryChanged { directory_id: DirectoryId },
    /// Webhook endpoints or cursors changed (enabled, redelivery): workers look again.
    Webhooks,
    /// A directory's sync health (its SCIM requests and rejections) was written: the
    /// setup portal's status panel looks again.
    Health { directory_id: DirectoryId },
}

#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<Notice>,
    remote: Option<mpsc::UnboundedSender<Notice>>,
    origin: Arc<str>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("redis", &self.remote.is_some())
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: String,
    notice: Notice,
}

impl Default for Bus {
    fn default() -> Self {
        Self::in_process()
    }
}

impl Bus {
    /// In-process only (the embedded default).
    pub fn in_process() -> Bus {
        let (local, _) = broadcast::channel(4096);
        Bus {
            local,
            remote: None,
            origin: Arc::from(crate::ids::new_id("instance")),
        }
    }

    /// Connect to Redis and start the publisher and subscriber tasks on the current
    /// tokio runtime. Fails if Redis cannot be reached (an explicitly configured Redis
    /// is required, not optional).
    pub async fn with_redis(url: &str) -> Result<Bus, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let mut manager = client
            .get_connection_manager()
            .await
            .map_err(|e| format!("cannot connect to Redis: {e}"))?;
        let mut pubsub = client
            .get_async_pubsub()
            .await
            .map_err(|e| format!("cannot open a Redis pub/sub connection: {e}"))?;
        pubsub
            .subscribe(REDIS_CHANNEL)
            .await
            .map_err(|e| format!("cannot subscribe to Redis channel: {e}"))?;
        let mut bus = Bus::in_process();
        let (tx, mut rx) = mpsc::unbounded_channel::<Notice>();
        bus.remote = Some(tx);
        let origin = bus.origin.to_string();
        tokio::spawn(async move {
            while let Some(notice) = rx.recv().await {
                let payload = match serde_json::to_string(&Envelope {
                    origin: origin.clone(),
                    notice,
                }) {
                    Ok(p) => p,
                    Err(_) => continue,
                };
                let res: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(REDIS_CHANNEL)
                    .arg(payload)
                    .query_async(&mut manager)
                    .await;
                if let Err(e) = res {
                    tracing::warn!(error = %e, "redis publish failed");
                }
            }
        });
        let local = bus.local.clone();
        let me = bus.origin.to_string();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut stream = pubsub.on_message();
            while let Some(msg) = stream.next().await {
                let Ok(payload) = msg.get_payload::<String>() else {
                    continue;
                };
                if let Ok(env) = serde_json::from_str::<Envelope>(&payload) {
                    if env.origin != me {
                        let _ = local.send(env.notice);
                    }
                }
            }
            tracing::error!(
                "redis subscription ended; cross-instance wake-ups fall back to polling"
            );
        });
        Ok(bus)
    }

    pub fn has_redis(&self) -> bool {
        self.remote.is_some()
    }

    pub fn publish(&self, notice: Notice) {
        if let Some(r) = &self.remote {
            let _ = r.send(notice.clone());
        }
        let _ = self.local.send(notice);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.local.subscribe()
    }
}
