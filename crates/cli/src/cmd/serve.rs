//! `shotline serve`: the studio server and web dashboard; `shotline user passwd|token`: the
//! credentials it accepts. The library (`shotline-server`) does the work; see `docs/server.md`.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use shotline_server::{ServeOptions, DEFAULT_BIND};

use super::track::common::{actor, db_path, open_ro};
use crate::context::Ctx;
use crate::output::Exit;

/// Arguments of `shotline serve`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  shotline serve                          this machine only, http://127.0.0.1:8080/
  shotline serve --bind 0.0.0.0:8080 --secure-cookies    the studio network, behind a TLS proxy

Users log in with a password set by `shotline user passwd NAME`; scripts use a token from
`shotline user token NAME` (Authorization: Bearer). Stop with Ctrl-C or SIGTERM.")]
pub struct ServeArgs {
    /// Address and port to listen on (port 0: any free port).
    #[arg(long, default_value = DEFAULT_BIND, value_name = "ADDR:PORT")]
    pub bind: SocketAddr,
    /// Mark the session cookie Secure (when a TLS reverse proxy serves the dashboard).
    #[arg(long)]
    pub secure_cookies: bool,
    /// How often live updates look for changes, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub poll_ms: u64,
    /// Log a browser out after this many minutes without a request (sessions survive restarts).
    #[arg(long, default_value_t = 720, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(1..=525_600))]
    pub session_idle_mins: u64,
}

/// `shotline user ...`: credentials for the server.
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Set a user's server password (read from the terminal or stdin, never the command line).
    #[command(after_help = "\
Examples:
  shotline user passwd ana                    asks twice on a terminal
  printf '%s\\n' \"$PW\" | shotline user passwd ana   from a secret store, one line on stdin
A user may set their own password; project_admin and admin may set anyone's.
Every session of the user ends (browsers must log in again), in running servers too.")]
    Passwd {
        /// User name (must be known to the project: see `shotline db user ls`).
        name: String,
    },
    /// Make an API token for scripts (printed once, only its hash is kept); list or revoke
    /// tokens.
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "\
Examples:
  shotline user token ana --label farm-dashboard    a new token, printed once
  shotline user token ls ana                         ana's tokens (ids, labels; never secrets)
  shotline user token revoke 7                       refused from the next request on
A user manages their own tokens; project_admin and admin anyone's.
--json: new {\"id\", \"user\", \"token\"}; ls [{\"id\", \"user\", \"label\", \"created_at\"}]."
    )]
    Token {
        /// User name the new token acts as.
        #[arg(required = true)]
        name: Option<String>,
        /// What the token is for.
        #[arg(long, default_value = "")]
        label: String,
        /// List or revoke instead of making one.
        #[command(subcommand)]
        action: Option<TokenCmd>,
    },
}

/// `shotline user token ls|revoke`.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// List a user's API tokens.
    Ls {
        /// User name.
        name: String,
    },
    /// Revoke an API token by id (see `ls`).
    Revoke {
        /// Token id.
        id: i64,
    },
}

/// Runs `shotline serve` until SIGINT/SIGTERM.
pub fn run(args: &ServeArgs, ctx: &Ctx) -> Result<Exit> {
    let cfg = &ctx.config.config;
    let root = ctx.project_root();
    let db = db_path(ctx);
    // A PostgreSQL URL is checked by connecting (in `serve`, before listening).
    if !shotline_store::target::is_postgres_url(&db) && !db.is_file() {
        bail!(
            "no project database at {}; run `shotline init` first",
            db.display()
        );
    }
    let opts = ServeOptions {
        render_dir: shotline_render::default_render_dir(&root, &db, &cfg.render),
        render: cfg.render.clone(),
        db,
        bind: args.bind,
        busy_timeout_ms: cfg.store.busy_timeout_ms,
        secure_cookies: args.secure_cookies,
        poll: Duration::from_millis(args.poll_ms),
        session_idle: Duration::from_secs(args.session_idle_mins.saturating_mul(60)),
    };
    if !args.bind.ip().is_loopback() {
        ctx.out.warn(format!(
            "listening on {} (not only this machine): put a TLS reverse proxy in front (docs/server.md)",
            args.bind
        ));
    }
    let mut printed = Ok(());
    shotline_server::serve(&opts, |ready| {
        let url = format!("http://{}/", ready.addr);
        if let Some(why) = &ready.render_unavailable {
            ctx.out.warn(format!("render endpoints answer 503: {why}"));
        }
        printed = if ctx.out.json() {
            ctx.out.json_line(&serde_json::json!({
                "listening": ready.addr.to_string(),
                "url": url,
                "render_unavailable": ready.render_unavailable,
            }))
        } else {
            ctx.out.line(format!("shotline serving {url}"))
        };
        ctx.out.flush();
    })?;
    printed?;
    ctx.out.note("server stopped");
    Ok(Exit::Clean)
}

/// Runs `shotline user ...`.
pub fn user(cmd: &UserCmd, ctx: &Ctx) -> Result<Exit> {
    match cmd {
        UserCmd::Passwd { name } => {
            let store = open_ro(ctx)?;
            let password = read_password(ctx)?;
            let ended = shotline_server::accounts::set_password(&store, &actor(), name, &password)?;
            if ctx.out.json() {
                ctx.out.json_doc(&serde_json::json!(
                    {"user": name, "password_set": true, "sessions_ended": ended}
                ))?;
            } else {
                ctx.out.line(format!("password set for {name}"))?;
                if ended > 0 {
                    ctx.out.note(format!("{ended} session(s) of {name} ended"));
                }
            }
        }
        UserCmd::Token {
            action: Some(action),
            ..
        } => token_action(action, ctx)?,
        UserCmd::Token {
            name: Some(name),
            label,
            action: None,
        } => {
            let store = open_ro(ctx)?;
            let t = shotline_server::accounts::create_token(&store, &actor(), name, label)?;
            if ctx.out.json() {
                ctx.out.json_doc(&t)?;
            } else {
                ctx.out.line(&t.token)?;
                ctx.out.note(format!(
                    "token {} for {name}: shown once, keep it secret",
                    t.id
                ));
            }
        }
        UserCmd::Token { name: None, .. } => {
            bail!("a user name is needed: shotline user token NAME")
        }
    }
    Ok(Exit::Clean)
}

/// `shotline user token ls NAME` / `revoke ID`.
fn token_action(action: &TokenCmd, ctx: &Ctx) -> Result<()> {
    let store = open_ro(ctx)?;
    match action {
        TokenCmd::Ls { name } => {
            let tokens = shotline_server::accounts::list_tokens(&store, &actor(), name)?;
            if ctx.out.json() {
                return Ok(ctx.out.json_doc(&tokens)?);
            }
            for t in &tokens {
                let label = if t.label.is_empty() { "-" } else { &t.label };
                ctx.out.line(format!(
                    "{:>5}  {}  {}  {label}",
                    t.id, t.user, t.created_at
                ))?;
            }
            ctx.out
                .note(format!("{} token(s) for {name}", tokens.len()));
        }
        TokenCmd::Revoke { id } => {
            let t = shotline_server::accounts::revoke_token(&store, &actor(), *id)?;
            if ctx.out.json() {
                ctx.out.json_doc(&serde_json::json!({"revoked": t}))?;
            } else {
                ctx.out
                    .line(format!("token {} of {} revoked", t.id, t.user))?;
            }
        }
    }
    Ok(())
}

/// The password: asked twice without echo on a terminal, else the first line of stdin.
fn read_password(ctx: &Ctx) -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        ctx.out.note("new password:");
        let first = read_hidden_line()?;
        ctx.out.note("again:");
        let second = read_hidden_line()?;
        if first != second {
            bail!("the two passwords differ; nothing changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        bail!("no password on stdin (expected one line)");
    }
    Ok(pw)
}

/// One line from the terminal with echo off (restored even on error).
fn read_hidden_line() -> Result<String> {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).context("reading terminal settings")?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &quiet).context("turning terminal echo off")?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let restored = tcsetattr(&stdin, OptionalActions::Now, &saved);
    read.context("reading the password")?;
    restored.context("restoring terminal echo")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
