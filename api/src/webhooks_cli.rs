//! `scimgate webhooks create|list|disable|enable|delete|rotate`: the webhook endpoints
//! of `/webhook_endpoints` from the command line (same checks, same JSON); every change
//! is audited as the command line's action, like the API's.

use clap::Subcommand;
use scimgate_core::audit::{Actor, Entry, Outcome};
use scimgate_core::ids::{OrganizationId, WebhookEndpointId};
use scimgate_core::json::text;
use scimgate_core::service::audit;
use scimgate_core::service::webhooks::{self as svc, EndpointChange};
use scimgate_core::wire_webhooks::WebhookEndpoint;
use scimgate_core::Core;

use crate::config::Config;

#[derive(Subcommand)]
pub enum WebhooksCmd {
    /// Create an endpoint and print it as JSON, with its signing secret (shown once).
    Create {
        #[arg(long)]
        url: String,
        /// An event to deliver (repeatable; default: WorkOS's dsync.* events).
        #[arg(long = "event")]
        events: Vec<String>,
        /// Only this organization's directories.
        #[arg(long)]
        organization: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Print every endpoint as JSON, one per line, with its health.
    List,
    /// Stop delivering to an endpoint (its cursors stay: enabling resumes).
    Disable { id: String },
    /// Resume delivering to an endpoint where it stopped.
    Enable { id: String },
    /// Delete an endpoint.
    Delete { id: String },
    /// A new signing secret (printed once); the old one signs too for the overlap.
    Rotate {
        id: String,
        #[arg(long, default_value_t = 86_400)]
        overlap_seconds: i64,
    },
}

fn id(s: &str) -> anyhow::Result<WebhookEndpointId> {
    WebhookEndpointId::parse(s).map_err(|e| anyhow::anyhow!("{e}"))
}

fn print(core: &Core, row: &svc::Endpoint, secret: Option<String>) -> anyhow::Result<()> {
    let h = svc::health(row, &svc::backlog(core, &row.id)?);
    println!("{}", text(&WebhookEndpoint::new(row, secret, Some(h))));
    Ok(())
}

/// The audit entry of a change to an endpoint, by the command line.
fn entry(action: &str, endpoint: Option<&str>) -> Entry {
    let e = Entry::new(&Actor::cli(), action, Outcome::Success);
    match endpoint {
        Some(i) => e.target("webhook_endpoint", i),
        None => e.target_kind("webhook_endpoint"),
    }
}

fn set_enabled(core: &Core, i: &str, enabled: bool) -> anyhow::Result<()> {
    let change = EndpointChange {
        enabled: Some(enabled),
        ..Default::default()
    };
    let ep = id(i)?;
    let e = entry("webhook_endpoint.updated", Some(i))
        .details(serde_json::json!({ "status": if enabled { "enabled" } else { "disabled" } }));
    let row = audit::audited(
        core,
        e,
        || svc::update_endpoint(core, &ep, change),
        |_| None,
    )?;
    print(core, &row, None)
}

pub fn run(cfg: &Config, core: &Core, cmd: WebhooksCmd) -> anyhow::Result<()> {
    match cmd {
        WebhooksCmd::Create {
            url,
            events,
            organization,
            description,
        } => {
            let organization_id = organization
                .map(|o| OrganizationId::parse(&o).map_err(|e| anyhow::anyhow!("{e}")))
                .transpose()?;
            let events = (!events.is_empty()).then_some(events);
            if let Some(list) = &events {
                svc::check_events(list)?;
            }
            let endpoint_url = scimgate_webhooks::target::check_url(&cfg.webhook_policy(), &url)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let e = entry("webhook_endpoint.created", None).details(serde_json::json!({
                "endpoint_url": endpoint_url.as_str(),
                "organization_id": organization_id.as_ref().map(|o| o.to_string()),
            }));
            let new = svc::NewEndpoint {
                endpoint_url,
                events,
                organization_id,
                description,
            };
            let (row, secret) = audit::audited(
                core,
                e,
                || svc::create_endpoint(core, new),
                |(row, _)| Some(row.id.to_string()),
            )?;
            print(core, &row, Some(secret))
        }
        WebhooksCmd::List => {
            let mut after = None;
            loop {
                let (rows, more) = svc::list_endpoints(core, after.as_ref(), 100)?;
                for r in &rows {
                    print(core, r, None)?;
                }
                after = rows.last().map(|r| r.id.clone());
                if !more {
                    return Ok(());
                }
            }
        }
        WebhooksCmd::Disable { id: i } => set_enabled(core, &i, false),
        WebhooksCmd::Enable { id: i } => set_enabled(core, &i, true),
        WebhooksCmd::Delete { id: i } => {
            let ep = id(&i)?;
            let e = entry("webhook_endpoint.deleted", Some(&i));
            audit::audited(core, e, || svc::delete_endpoint(core, &ep), |_| None)?;
            println!("{}", serde_json::json!({"id": i, "deleted": true}));
            Ok(())
        }
        WebhooksCmd::Rotate {
            id: i,
            overlap_seconds,
        } => {
            if !(0..=7 * 86_400).contains(&overlap_seconds) {
                anyhow::bail!("--overlap-seconds must be from 0 to 604800");
            }
            let ep = id(&i)?;
            let e = entry("webhook_endpoint.secret_rotated", Some(&i))
                .details(serde_json::json!({ "overlap_seconds": overlap_seconds }));
            let overlap = chrono::Duration::seconds(overlap_seconds);
            let (row, secret) =
                audit::audited(core, e, || svc::rotate_secret(core, &ep, overlap), |_| None)?;
            print(core, &row, Some(secret))
        }
    }
}
