//! `scimgate`: the directory-sync gateway binary (serve, migrate, and the onboarding
//! commands of ../shared/docs/PRODUCT.md "Command line and configuration").

mod auth;
mod client_addr;
mod config;
mod error;
mod exec;
mod guard;
mod ops;
mod scim;
mod server;
mod state;
mod vendor;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use config::Config;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use scimgate_core::bus::Bus;
use scimgate_core::json::text;
use scimgate_core::service::{admin, admin_ui};
use scimgate_core::store::Db;
use scimgate_core::{wire, Core};

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
}

#[derive(Subcommand)]
enum ApiKeysCmd {
    /// Create an API key and print it once.
    Create {
        #[arg(long)]
        name: String,
    },
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cfg = Config::from_env()?;
    init_tracing(&cfg);
    match cli.command {
        Command::Serve => server::serve(cfg),
        Command::Migrate => {
            let db = Db::connect_oneshot(&cfg.database_url).map_err(|e| anyhow::anyhow!("{e}"))?;
            let applied = db.migrate().map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", json!({"applied": applied}));
            Ok(())
        }
        Command::ApiKeys {
            cmd: ApiKeysCmd::Create { name },
        } => {
            let core = open_core(&cfg, Bus::in_process())?;
            let (row, secret) =
                admin::create_api_key(&core, &name).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}",
                json!({"id": row.id, "name": row.name, "api_key": secret})
            );
            Ok(())
        }
        Command::Admins {
            cmd: AdminsCmd::Create { email },
        } => {
            let password = admin_password(&email)?;
            let core = open_core(&cfg, Bus::in_process())?;
            let (id, email) = admin::create_admin(&core, &email, &password)
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
            let a = admin_ui::set_admin_disabled(&core, &email, !enable)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", admin_json(&a));
            Ok(())
        }
        Command::Admins {
            cmd: AdminsCmd::ResetPassword { email },
        } => {
            let password = admin_password(&email)?;
            let core = open_core(&cfg, Bus::in_process())?;
            let a = admin_ui::reset_admin_password(&core, &email, &password)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", admin_json(&a));
            Ok(())
        }
        Command::Organizations {
            cmd: OrganizationsCmd::Create { name, domains },
        } => {
            let core = open_core(&cfg, Bus::in_process())?;
            let org = admin::create_organization(&core, &name, &domains)
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
            let created = admin::directory_request(&organization, &dir_type)
                .and_then(|(organization, dir_type)| {
                    admin::create_directory(&core, &organization, dir_type, name.as_deref())
                })
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("creating the directory")?;
            println!("{}", text(&wire::CreatedDirectory::from(&created)));
            Ok(())
        }
    }
}
