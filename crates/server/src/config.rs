//! Server configuration: command-line flags, `RAMPART_*` environment variables and an optional
//! TOML file, in that order of precedence, then built-in defaults.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// What happens when a request's audit event cannot be made durable (see `audit.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditMode {
    /// Requests wait for their event's commit; a failing store is retried, never dropped.
    BestEffort,
    /// A request fails if its event cannot be made durable.
    FailClosed,
    /// No audit at all: a benchmarking aid to measure the audit's cost. Never in production.
    #[value(hide = true)]
    Off,
}

/// `rampart serve` options. Every flag can also be set as an environment variable or in the
/// config file (same name, with underscores: `data_dir = "..."`).
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:4566]
    #[arg(long, env = "RAMPART_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory holding the store, the master key and the credentials file [default: ./rampart-data]
    #[arg(long, env = "RAMPART_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Account id of the default account, used on first start only [default: random 12 digits]
    #[arg(long, env = "RAMPART_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Region for requests that name none [default: us-east-1]
    #[arg(long, env = "RAMPART_REGION")]
    pub region: Option<String>,
    /// Development mode: unknown access keys act as the default account's root, and
    /// POST /_rampart/reset wipes all state. Never use it in production.
    #[arg(long, env = "RAMPART_DEV", num_args = 0..=1, default_missing_value = "true")]
    pub dev: Option<bool>,
    /// Log format [default: text]
    #[arg(long, env = "RAMPART_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, in tracing's `EnvFilter` syntax [default: info]
    #[arg(long, env = "RAMPART_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Largest request body accepted, in bytes; larger ones get HTTP 413 [default: 1048576]
    #[arg(long, env = "RAMPART_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Log the policy engine's trace for every denied request (for debugging policies)
    #[arg(long, env = "RAMPART_EXPLAIN", num_args = 0..=1, default_missing_value = "true")]
    pub explain: Option<bool>,
    /// best-effort (requests wait for their audit event; never dropped) or fail-closed
    /// (a request fails if its event cannot be made durable) [default: best-effort]
    #[arg(long, env = "RAMPART_AUDIT_MODE", value_enum)]
    pub audit_mode: Option<AuditMode>,
    /// Longest time a trail's events wait before a log file is delivered, in seconds [default: 300]
    #[arg(long, env = "RAMPART_TRAIL_DELIVERY_SECONDS")]
    pub trail_delivery_seconds: Option<u64>,
    /// Period of digest files for trails with log file validation, in seconds [default: 3600]
    #[arg(long, env = "RAMPART_TRAIL_DIGEST_SECONDS")]
    pub trail_digest_seconds: Option<u64>,
    /// S3-compatible endpoint trails deliver to (path-style, e.g. http://127.0.0.1:9000);
    /// without it trails write under <data-dir>/trails/<bucket>/
    #[arg(long, env = "RAMPART_TRAIL_S3_ENDPOINT")]
    pub trail_s3_endpoint: Option<String>,
    /// Region to sign S3 requests for [default: the --region]
    #[arg(long, env = "RAMPART_TRAIL_S3_REGION")]
    pub trail_s3_region: Option<String>,
    /// Access key id for the S3 endpoint
    #[arg(long, env = "RAMPART_TRAIL_S3_ACCESS_KEY_ID")]
    pub trail_s3_access_key_id: Option<String>,
    /// Secret access key for the S3 endpoint (prefer the environment variable or config file)
    #[arg(
        long,
        env = "RAMPART_TRAIL_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub trail_s3_secret_access_key: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key)
    #[arg(long, env = "RAMPART_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, env = "RAMPART_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// TOML file with any of the options above
    #[arg(long, env = "RAMPART_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The config file: the same options as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    account_id: Option<String>,
    region: Option<String>,
    dev: Option<bool>,
    log_format: Option<LogFormat>,
    log_level: Option<String>,
    max_body_bytes: Option<usize>,
    explain: Option<bool>,
    audit_mode: Option<AuditMode>,
    trail_delivery_seconds: Option<u64>,
    trail_digest_seconds: Option<u64>,
    trail_s3_endpoint: Option<String>,
    trail_s3_region: Option<String>,
    trail_s3_access_key_id: Option<String>,
    trail_s3_secret_access_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub account_id: Option<String>,
    pub region: String,
    pub dev: bool,
    pub log_format: LogFormat,
    pub log_level: String,
    pub max_body_bytes: usize,
    pub explain: bool,
    pub audit_mode: AuditMode,
    pub trail_delivery_seconds: u64,
    pub trail_digest_seconds: u64,
    pub trail_s3_endpoint: Option<String>,
    pub trail_s3_region: Option<String>,
    pub trail_s3_access_key_id: Option<String>,
    pub trail_s3_secret_access_key: Option<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4566";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl Config {
    pub fn resolve(args: ServeArgs) -> Result<Config, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| format!("config file {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let default_listen: SocketAddr = DEFAULT_LISTEN.parse().map_err(|e| format!("{e}"))?;
        let config = Config {
            listen: args.listen.or(file.listen).unwrap_or(default_listen),
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./rampart-data")),
            account_id: args.account_id.or(file.account_id),
            region: args
                .region
                .or(file.region)
                .unwrap_or_else(|| DEFAULT_REGION.to_string()),
            dev: args.dev.or(file.dev).unwrap_or(false),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            log_level: args
                .log_level
                .or(file.log_level)
                .unwrap_or_else(|| "info".to_string()),
            max_body_bytes: args
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            explain: args.explain.or(file.explain).unwrap_or(false),
            tls_cert: args.tls_cert.or(file.tls_cert),
            tls_key: args.tls_key.or(file.tls_key),
            audit_mode: args
                .audit_mode
                .or(file.audit_mode)
                .unwrap_or(AuditMode::BestEffort),
            trail_delivery_seconds: args
                .trail_delivery_seconds
                .or(file.trail_delivery_seconds)
                .unwrap_or(300)
                .max(1),
            trail_digest_seconds: args
                .trail_digest_seconds
                .or(file.trail_digest_seconds)
                .unwrap_or(3600)
                .max(1),
            trail_s3_endpoint: args.trail_s3_endpoint.or(file.trail_s3_endpoint),
            trail_s3_region: args.trail_s3_region.or(file.trail_s3_region),
            trail_s3_access_key_id: args.trail_s3_access_key_id.or(file.trail_s3_access_key_id),
            trail_s3_secret_access_key: args
                .trail_s3_secret_access_key
                .or(file.trail_s3_secret_access_key),
        };
        if let Some(id) = &config.account_id {
            if !rampart_aws_types::is_account_id(id) {
                return Err(format!("--account-id must be 12 digits, got {id:?}"));
            }
        }
        if !rampart_aws_types::is_region(&config.region) {
            return Err(format!(
                "--region is not a region name: {:?}",
                config.region
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_and_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("rampart-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rampart.toml");
        std::fs::write(
            &path,
            "region = \"eu-west-1\"\nlisten = \"127.0.0.1:9999\"\ndev = true\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path.clone()),
            listen: Some("127.0.0.1:1234".parse().unwrap()),
            ..Default::default()
        };
        let c = Config::resolve(args).unwrap();
        assert_eq!(c.listen.port(), 1234);
        assert_eq!(c.region, "eu-west-1");
        assert!(c.dev);
        assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        std::fs::write(&path, "bogus = 1\n").unwrap();
        assert!(
            Config::resolve(ServeArgs {
                config: Some(path),
                ..Default::default()
            })
            .is_err()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rejects_bad_account_and_region() {
        assert!(
            Config::resolve(ServeArgs {
                account_id: Some("12345".into()),
                ..Default::default()
            })
            .is_err()
        );
        assert!(
            Config::resolve(ServeArgs {
                region: Some("mars".into()),
                ..Default::default()
            })
            .is_err()
        );
        let c = Config::resolve(ServeArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(!c.dev);
    }
}
