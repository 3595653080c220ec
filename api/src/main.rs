//! `scimgate`: the directory-sync gateway binary (serve, migrate, and the onboarding
//! commands of ../shared/docs/PRODUCT.md "Command line and configuration").

mod auth;
mod check;
mod client_addr;
mod config;
mod error;
mod exec;
mod guard;
mod openapi;
mod ops;
mod routes;
mod scim;
mod server;
mod state;
mod vendor;
mod webhooks_cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use config::Config;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use scimgate_core::audit::{Actor, Entry, Outcome, Verdict};
use scimgate_core::bus::Bus;
use scimgate_core::ids::{ApiKeyId, PrefixedId};
use scimgate_core::json::text;
use scimgate_core::scope::Scopes;
use scimgate_core::service::{admin, admin_ui, api_keys, audit};
use scimgate_core::store::Db;
use scimgate_core::{wire, wire_api_key, Core};

#[derive(Parser)]
#[command(
    name = "scimgate",
    version,
    about = "Multi-tenant SCIM 2.0 directory-sync gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the gateway (applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Validate the configuration and reach the database, its migrations and Redis:
    /// one line per check, exit status 1 if any failed.
    Check,
    /// Vendor API keys.
    #[command(name = "api-keys")]
    ApiKeys {
        #[command(subcommand)]
        cmd: ApiKeysCmd,
    },
    /// Operators of the admin UI.
    Admins {
        #[command(subcommand)]
        cmd: AdminsCmd,
    },
    /// Organizations (the vendor's customers).
    Organizations {
        #[command(subcommand)]
        cmd: OrganizationsCmd,
    },
    /// Directories (one IdP connection of an organization).
    Directories {
        #[command(subcommand)]
        cmd: DirectoriesCmd,
    },
    /// Webhook endpoints (signed, ordered delivery of the events).
    Webhooks {
        #[command(subcommand)]
        cmd: webhooks_cli::WebhooksCmd,
    },
    /// The audit log of privileged actions.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Print every audit record as NDJSON, oldest first.
    Export,
    /// Check the hash chain; exits 1 and names the first broken link if it is broken.
    Verify,
}

#[derive(Subcommand)]
enum ApiKeysCmd {
    /// Create an API key and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// A scope of the key (repeatable): events:read, directories:read,
        /// directories:write, portal:write, admin. Default: all of them.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// When the key stops working (RFC 3339, e.g. 2027-01-01T00:00:00Z).
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List the keys that are not revoked (never the keys themselves), as JSON lines.
    List,
    /// Revoke a key by id: refused by every instance within a second.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum AdminsCmd {
    /// Create an operator; the password comes from SCIMGATE_ADMIN_PASSWORD or standard input.
    Create {
        #[arg(long)]
        email: String,
    },
    /// List the operators as JSON lines (never their password hashes).
    List,
    /// Disable an operator (`--enable` to allow it again): it cannot log in, and its
    /// sessions end at their next request.
    Disable {
        #[arg(long)]
        email: String,
        #[arg(long)]
        enable: bool,
    },
    /// Set a new password (SCIMGATE_ADMIN_PASSWORD or standard input); the operator's
    /// sessions end.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

/// An operator's password: `SCIMGATE_ADMIN_PASSWORD`, else a line of standard input.
fn admin_password(email: &str) -> anyhow::Result<String> {
    match std::env::var("SCIMGATE_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => {
            eprint!("Password for {email}: ");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password")?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

fn admin_json(a: &scimgate_core::store::admin_ui::AdminUserRow) -> serde_json::Value {
    json!({
        "id": a.id.to_string(),
        "email": a.email,
        "created_at": scimgate_core::clock::to_workos(a.created_at),
        "disabled": a.disabled_at.is_some(),
    })
}

#[derive(Subcommand)]
enum OrganizationsCmd {
    /// Create an organization and print it as JSON.
    Create {
        #[arg(long)]
        name: String,
        /// A domain of the organization (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DirectoriesCmd {
    /// Create a directory and print it as JSON, with its SCIM URL and a bearer token (shown once).
    Create {
        #[arg(long)]
        organization: String,
        #[arg(long = "type")]
        dir_type: String,
        #[arg(long)]
        name: Option<String>,
    },
}

fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // colours only for a terminal: a log file or a pipe gets plain text
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if cfg.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn open_core(cfg: &Config, bus: Bus) -> anyhow::Result<Core> {
    let db = Db::connect_oneshot(&cfg.database_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    db.migrate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Core::new(db, bus, cfg.settings()))
}

/// `scimgate api-keys …`, audited as the command line's actions.
fn api_keys_command(cfg: &Config, cmd: ApiKeysCmd) -> anyhow::Result<()> {
    // a revocation from here reaches running instances as their cached verifications
    // expire (service::auth::CACHE_TTL, under a second)
    let core = open_core(cfg, Bus::in_process())?;
    match cmd {
        ApiKeysCmd::Create {
            name,
            scopes,
            expires_at,
        } => {
            let scopes = if scopes.is_empty() {
                Scopes::all()
            } else {
                Scopes::parse_names(&scopes).map_err(|e| anyhow::anyhow!("{e}"))?
            };
            let expires_at = expires_at
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(&t)
                        .map(|t| t.naive_utc())
                        .with_context(|| format!("--expires-at {t:?} is no RFC 3339 timestamp"))
                })
                .transpose()?;
            let entry = Entry::new(&Actor::cli(), "api_key.created", Outcome::Success)
                .target_kind("api_key")
                .details(json!({"name": name, "scopes": scopes.names()}));
            let (row, secret) = audit::audited(
                &core,
                entry,
                || api_keys::create(&core, &name, scopes, expires_at),
                |(row, _)| Some(row.id.to_string()),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}",
                text(&wire_api_key::NewApiKey {
                    key: wire_api_key::ApiKey::from(&row),
                    api_key: secret,
                })
            );
        }
        ApiKeysCmd::List => {
            for k in api_keys::list(&core).map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{}", text(&wire_api_key::ApiKey::from(&k)));
            }
        }
        ApiKeysCmd::Revoke { id } => {
            let entry = Entry::new(&Actor::cli(), "api_key.revoked", Outcome::Success)
                .target("api_key", id.clone());
            let row = audit::audited(
                &core,
                entry,
                || api_keys::revoke(&core, &ApiKeyId::parse_or_not_found(&id)?),
                |_| None,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"id": row.id, "revoked": true}));
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Check) {
        // a bad configuration is one of the lines, not an error before them
        std::process::exit(if check::run(Config::from_env()) { 0 } else { 1 });
    }
    let cfg = Config::from_env()?;
    init_tracing(&cfg);
    match cli.command {
        Command::Serve => server::serve(cfg),
        Command::Check => Ok(()),
        Command::Migrate => {
            let db = Db::connect_oneshot(&cfg.database_url).map_err(|e| anyhow::anyhow!("{e}"))?;
            let applied = db.migrate().map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"applied": applied}));
            Ok(())
        }
        Command::ApiKeys { cmd } => api_keys_command(&cfg, cmd),
        Command::Admins {
            cmd: AdminsCmd::Create { email },
        } => {
            let password = admin_password(&email)?;
            let core = open_core(&cfg, Bus::in_process())?;
            let entry = Entry::new(&Actor::cli(), "admin_user.created", Outcome::Success)
                .target_kind("admin_user")
                .details(json!({ "email": email }));
            let (id, email) = audit::audited(
                &core,
                entry,
                || admin::create_admin(&core, &email, &password),
                |(id, _)| Some(id.to_string()),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"id": id, "email": email}));
            Ok(())
        }
        Command::Admins {
            cmd: AdminsCmd::List,
        } => {
            let core = open_core(&cfg, Bus::in_process())?;
            for a in admin_ui::list_admins(&core).map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{}", admin_json(&a));
            }
            Ok(())
        }
        Command::Admins {
            cmd: AdminsCmd::Disable { email, enable },
        } => {
            let core = open_core(&cfg, Bus::in_process())?;
            let action = if enable {
                "admin_user.enabled"
            } else {
                "admin_user.disabled"
            };
            let entry = Entry::new(&Actor::cli(), action, Outcome::Success)
                .target_kind("admin_user")
                .details(json!({ "email": email }));
            let a = audit::audited(
                &core,
                entry,
                || admin_ui::set_admin_disabled(&core, &email, !enable),
                |a| Some(a.id.to_string()),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", admin_json(&a));
            Ok(())
        }
        Command::Admins {
            cmd: AdminsCmd::ResetPassword { email },
        } => {
            let password = admin_password(&email)?;
            let core = open_core(&cfg, Bus::in_process())?;
            let entry = Entry::new(&Actor::cli(), "admin_user.password_reset", Outcome::Success)
                .target_kind("admin_user")
                .details(json!({ "email": email }));
            let a = audit::audited(
                &core,
                entry,
                || admin_ui::reset_admin_password(&core, &email, &password),
                |a| Some(a.id.to_string()),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", admin_json(&a));
            Ok(())
        }
        Command::Organizations {
            cmd: OrganizationsCmd::Create { name, domains },
        } => {
            let core = open_core(&cfg, Bus::in_process())?;
            let entry = Entry::new(&Actor::cli(), "organization.created", Outcome::Success)
                .target_kind("organization")
                .details(json!({"name": name, "domains": domains}));
            let org = audit::audited(
                &core,
                entry,
                || admin::create_organization(&core, &name, &domains),
                |o| Some(o.id.to_string()),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", text(&wire::Organization::from(&org)));
            Ok(())
        }
        Command::Directories {
            cmd:
                DirectoriesCmd::Create {
                    organization,
                    dir_type,
                    name,
                },
        } => {
            let core = open_core(&cfg, Bus::in_process())?;
            let entry = Entry::new(&Actor::cli(), "directory.created", Outcome::Success)
                .target_kind("directory")
                .details(json!({"organization_id": organization, "type": dir_type}));
            let created = audit::audited(
                &core,
                entry,
                || {
                    let (org, dt) = admin::directory_request(&organization, &dir_type)?;
                    admin::create_directory(&core, &org, dt, name.as_deref())
                },
                |c| Some(c.directory.id.to_string()),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("creating the directory")?;
            println!("{}", text(&wire::CreatedDirectory::from(&created)));
            Ok(())
        }
        Command::Webhooks { cmd } => {
            let core = open_core(&cfg, Bus::in_process())?.with_sealer(cfg.sealer()?);
            webhooks_cli::run(&cfg, &core, cmd)
        }
        Command::Audit { cmd } => {
            let core = open_core(&cfg, Bus::in_process())?;
            match cmd {
                AuditCmd::Export => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    audit::export(&core, &mut out).map_err(|e| anyhow::anyhow!("{e}"))?;
                    std::io::Write::flush(&mut out).context("writing the export")?;
                    Ok(())
                }
                AuditCmd::Verify => {
                    match audit::verify(&core).map_err(|e| anyhow::anyhow!("{e}"))? {
                        Verdict::Intact { records, anchor } => {
                            println!(
                                "{}",
                                json!({"intact": true, "records": records, "anchor": anchor})
                            );
                            Ok(())
                        }
                        Verdict::Broken { seq, reason } => {
                            println!(
                                "{}",
                                json!({"intact": false, "broken_at": seq, "reason": reason})
                            );
                            eprintln!("audit chain broken at record {seq}: {reason}");
                            std::process::exit(1);
                        }
                    }
                }
            }
        }
    }
}
