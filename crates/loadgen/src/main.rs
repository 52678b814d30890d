//! `rampart-loadgen`: command-line front end of the load generator.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use rampart_loadgen::{
    Credentials, Endpoint, LoadConfig, Operation, RequestTemplate, Stop, default_query_version,
    from_ini, measure_sign_cost, run,
};

/// Sends SigV4-signed awsQuery or awsJson requests over N keep-alive HTTP/1.1 connections and
/// reports requests/s, latency percentiles and errors by HTTP status.
///
/// Examples:
///   rampart-loadgen --service sts --target-or-action GetCallerIdentity --requests 10000
///   rampart-loadgen --service kms --target-or-action TrentService.Encrypt \
///       --body '{"KeyId":"alias/bench","Plaintext":"aGVsbG8="}' --duration 30 --connections 16
#[derive(Debug, Parser)]
#[command(name = "rampart-loadgen", version, verbatim_doc_comment)]
struct Args {
    /// Endpoint URL (plain HTTP).
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint: String,

    /// Concurrent keep-alive connections (each has one request in flight).
    #[arg(long, short = 'c', default_value_t = 8)]
    connections: usize,

    /// Total requests to send (default 1000 when --duration is not given).
    #[arg(long, short = 'n', conflicts_with = "duration")]
    requests: Option<u64>,

    /// Run for this many seconds instead of a fixed count.
    #[arg(long, short = 'd')]
    duration: Option<f64>,

    /// Access key id (else from --profile).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", requires = "secret_key")]
    access_key: Option<String>,

    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: Option<String>,

    /// Session token of temporary credentials.
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    session_token: Option<String>,

    /// Profile in the credentials file (used when no --access-key is given).
    #[arg(long, env = "AWS_PROFILE", default_value = "default")]
    profile: String,

    /// AWS CLI credentials file (default ~/.aws/credentials).
    #[arg(long, env = "AWS_SHARED_CREDENTIALS_FILE")]
    credentials_file: Option<PathBuf>,

    /// Signing region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,

    /// Signing service name (sts, iam, kms, secretsmanager, ...).
    #[arg(long)]
    service: String,

    /// awsQuery action (`GetCallerIdentity`) or awsJson target (`TrentService.Encrypt`).
    /// A value containing '.' is a JSON target unless --protocol says otherwise.
    #[arg(long)]
    target_or_action: String,

    /// Protocol; inferred from --target-or-action when absent.
    #[arg(long, value_enum)]
    protocol: Option<Protocol>,

    /// awsQuery API version (defaults known for sts, iam, sns, sqs, ec2).
    #[arg(long)]
    api_version: Option<String>,

    /// awsJson version for the content type application/x-amz-json-<v>.
    #[arg(long, default_value = "1.1")]
    json_version: String,

    /// Body: the JSON document (awsJson, default `{}`) or extra URL-encoded form parameters
    /// appended after Action and Version (awsQuery, e.g. `RoleArn=...&RoleSessionName=x`).
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,

    /// Extra header `Name: value` sent (and signed) with every request; repeatable.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,

    /// Read the body from a file.
    #[arg(long)]
    body_file: Option<PathBuf>,

    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,

    /// Print the report as JSON.
    #[arg(long)]
    json: bool,

    /// Do not send anything: build and sign this many requests on one thread and print the
    /// cost per request (to check that signing is not the bottleneck).
    #[arg(long, value_name = "ITERATIONS")]
    sign_bench: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Protocol {
    Query,
    Json,
}

fn credentials(args: &Args) -> Result<Credentials, String> {
    match (&args.access_key, &args.secret_key) {
        (Some(access_key_id), Some(secret)) => {
            return Ok(Credentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret.clone(),
                session_token: args.session_token.clone().filter(|t| !t.is_empty()),
            });
        }
        (None, Some(_)) => {
            return Err(
                "--secret-key (or AWS_SECRET_ACCESS_KEY) given without --access-key".into(),
            );
        }
        _ => {}
    }
    let path = match &args.credentials_file {
        Some(p) => p.clone(),
        None => {
            let home = std::env::var_os("HOME")
                .ok_or("no --access-key and no HOME to find ~/.aws/credentials")?;
            PathBuf::from(home).join(".aws").join("credentials")
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read credentials file {}: {e}", path.display()))?;
    from_ini(&text, &args.profile).map_err(|e| format!("{}: {e}", path.display()))
}

fn operation(args: &Args) -> Result<Operation, String> {
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => Some(b.clone().into_bytes()),
        (None, Some(path)) => {
            Some(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)
        }
        (None, None) => None,
    };
    let protocol = args
        .protocol
        .unwrap_or(if args.target_or_action.contains('.') {
            Protocol::Json
        } else {
            Protocol::Query
        });
    Ok(match protocol {
        Protocol::Json => Operation::Json {
            target: args.target_or_action.clone(),
            json_version: args.json_version.clone(),
            body: body.unwrap_or_else(|| b"{}".to_vec()),
        },
        Protocol::Query => Operation::Query {
            action: args.target_or_action.clone(),
            version: match &args.api_version {
                Some(v) => v.clone(),
                None => default_query_version(&args.service)
                    .ok_or_else(|| {
                        format!("--api-version is required for service '{}'", args.service)
                    })?
                    .to_owned(),
            },
            params: body
                .map(|b| {
                    String::from_utf8(b).map_err(|_| "the awsQuery body must be UTF-8".to_owned())
                })
                .transpose()?
                .unwrap_or_default()
                .trim()
                .to_owned(),
        },
    })
}

fn config(args: &Args) -> Result<LoadConfig, String> {
    let endpoint = Endpoint::parse(&args.endpoint).map_err(|e| e.to_string())?;
    let stop = match (args.requests, args.duration) {
        (_, Some(secs)) if secs.is_finite() && secs > 0.0 => {
            Stop::Duration(Duration::from_secs_f64(secs))
        }
        (_, Some(_)) => return Err("--duration must be a positive number of seconds".to_owned()),
        (Some(n), None) => Stop::Requests(n),
        (None, None) => Stop::Requests(1000),
    };
    let mut template = RequestTemplate::new(endpoint.clone(), &operation(args)?);
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("--header '{h}' is not 'Name: value'"))?;
        template = template.with_header(name, value);
    }
    Ok(LoadConfig {
        endpoint,
        connections: args.connections,
        stop,
        template,
        credentials: credentials(args)?,
        region: args.region.clone(),
        service: args.service.clone(),
        timeout: Duration::from_millis(args.timeout_ms),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rampart-loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(iterations) = args.sign_bench {
        return match measure_sign_cost(
            &cfg.template,
            cfg.credentials.clone(),
            &cfg.region,
            &cfg.service,
            iterations,
        ) {
            Ok(ns) => {
                if args.json {
                    println!("{{\"sign_ns_per_request\": {ns:.1}, \"iterations\": {iterations}}}");
                } else {
                    println!(
                        "signing: {:.2} us/request over {iterations} requests",
                        ns / 1000.0
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rampart-loadgen: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cfg).await {
        Ok(report) => {
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("rampart-loadgen: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{report}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rampart-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
