//! Rotators, named by `RotationLambdaARN` (AWS calls a Lambda function; Rampart calls one of
//! these):
//! - `arn:aws:lambda:REGION:ACCOUNT:function:rampart-random-password` — a new random password
//!   (the `password` member of a JSON secret, or the whole string);
//! - `...:function:rampart-postgresql-single-user` — changes the password of the secret's
//!   PostgreSQL user (`host`, `port`, `username`, `password`, `dbname` members) with
//!   `ALTER USER`, then logs in with it;
//! - `...:function:rampart-webhook` — POSTs each step as JSON to the URL in the secret's tag
//!   `rampart:rotation-webhook`; any non-2xx answer fails the step.
//!
//! Errors are messages for the secret's rotation status: they never carry secret values.
use std::time::Duration;

use serde_json::{Value, json};

pub const RANDOM_PASSWORD: &str = "rampart-random-password";
pub const POSTGRES: &str = "rampart-postgresql-single-user";
pub const WEBHOOK: &str = "rampart-webhook";
pub const WEBHOOK_TAG: &str = "rampart:rotation-webhook";
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    Set,
    Test,
    Finish,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Create, Step::Set, Step::Test, Step::Finish];

    pub fn name(self) -> &'static str {
        match self {
            Step::Create => "createSecret",
            Step::Set => "setSecret",
            Step::Test => "testSecret",
            Step::Finish => "finishSecret",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotator {
    RandomPassword,
    Postgres,
    Webhook(String),
}

/// The rotator a `RotationLambdaARN` names (the function name decides).
pub fn kind_of(lambda_arn: &str) -> Option<&'static str> {
    let function = lambda_arn.rsplit(':').next().unwrap_or_default();
    [RANDOM_PASSWORD, POSTGRES, WEBHOOK]
        .into_iter()
        .find(|k| *k == function)
}

pub fn rotator_for(lambda_arn: &str, webhook_url: Option<&str>) -> Result<Rotator, String> {
    match kind_of(lambda_arn) {
        Some(RANDOM_PASSWORD) => Ok(Rotator::RandomPassword),
        Some(POSTGRES) => Ok(Rotator::Postgres),
        Some(WEBHOOK) => webhook_url
            .filter(|u| u.starts_with("http://"))
            .map(|u| Rotator::Webhook(u.to_string()))
            .ok_or_else(|| {
                format!("The webhook rotator needs an http:// URL in the tag {WEBHOOK_TAG}.")
            }),
        _ => Err(format!(
            "Rampart has no rotator for {lambda_arn}; use a function named {RANDOM_PASSWORD}, {POSTGRES} or {WEBHOOK}."
        )),
    }
}

/// Connection facts of a PostgreSQL secret.
pub struct PgCredentials {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub dbname: String,
}

pub fn pg_credentials(value: &[u8]) -> Result<PgCredentials, String> {
    let v: Value = serde_json::from_slice(value).map_err(|_| {
        "The secret value is not a JSON object with PostgreSQL credentials.".to_string()
    })?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let port = v
        .get("port")
        .and_then(|p| {
            p.as_u64()
                .or_else(|| p.as_str().and_then(|s| s.parse().ok()))
        })
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(5432);
    Ok(PgCredentials {
        host: s("host").unwrap_or_else(|| "127.0.0.1".into()),
        port,
        username: s("username").ok_or("The secret has no username member.")?,
        password: s("password").ok_or("The secret has no password member.")?,
        dbname: s("dbname").unwrap_or_else(|| "postgres".into()),
    })
}

async fn pg_connect(c: &PgCredentials) -> Result<tokio_postgres::Client, String> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(&c.host)
        .port(c.port)
        .user(&c.username)
        .password(c.password.as_bytes())
        .dbname(&c.dbname)
        .connect_timeout(TIMEOUT);
    let (client, conn) = tokio::time::timeout(TIMEOUT, cfg.connect(tokio_postgres::NoTls))
        .await
        .map_err(|_| {
            format!(
                "Timed out connecting to PostgreSQL at {}:{}.",
                c.host, c.port
            )
        })?
        .map_err(|e| {
            format!(
                "Cannot connect to PostgreSQL at {}:{} as {}: {}",
                c.host,
                c.port,
                c.username,
                pg_reason(&e)
            )
        })?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// A PostgreSQL error without anything the statement carried (the SQLSTATE and server message).
fn pg_reason(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => "connection failed".to_string(),
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// setSecret: log in with the current credentials and give the user the pending password.
pub async fn pg_set(current: &PgCredentials, pending: &PgCredentials) -> Result<(), String> {
    if pending.username != current.username {
        return Err("The pending secret names a different user than the current one.".into());
    }
    let client = pg_connect(current).await?;
    let sql = format!(
        "ALTER USER {} WITH PASSWORD {}",
        quote_ident(&pending.username),
        quote_literal(&pending.password)
    );
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| format!("ALTER USER failed: {}", pg_reason(&e)))
}

/// testSecret: log in with the pending credentials.
pub async fn pg_test(pending: &PgCredentials) -> Result<(), String> {
    let client = pg_connect(pending).await?;
    client
        .simple_query("SELECT 1")
        .await
        .map(|_| ())
        .map_err(|e| format!("Test query failed: {}", pg_reason(&e)))
}

/// POSTs one step; returns the answer's JSON body (or `null`).
pub async fn webhook(url: &str, body: &Value) -> Result<Value, String> {
    use http_body_util::BodyExt as _;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let req = http::Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", "rampart-secretsmanager-rotation")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_string(),
        )))
        .map_err(|_| format!("Invalid webhook URL {url}."))?;
    let step = body.get("Step").and_then(Value::as_str).unwrap_or_default();
    let resp = tokio::time::timeout(TIMEOUT, client.request(req))
        .await
        .map_err(|_| format!("The webhook did not answer {step} within 30 seconds."))?
        .map_err(|_| format!("The webhook at {url} could not be reached for {step}."))?;
    let status = resp.status();
    let bytes = tokio::time::timeout(TIMEOUT, resp.into_body().collect())
        .await
        .map_err(|_| format!("The webhook's answer to {step} timed out."))?
        .map_err(|_| format!("The webhook's answer to {step} could not be read."))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "The webhook answered {step} with HTTP {}.",
            status.as_u16()
        ));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The webhook request of one step. setSecret and testSecret carry the pending value (the
/// endpoint has no other way to read it); nothing else does.
pub fn webhook_body(step: Step, arn: &str, token: &str, pending: Option<&str>) -> Value {
    let mut b = json!({ "Step": step.name(), "SecretId": arn, "ClientRequestToken": token });
    if let (Some(p), Step::Set | Step::Test) = (pending, step)
        && let Some(m) = b.as_object_mut()
    {
        m.insert("PendingSecretString".into(), json!(p));
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quoting() {
        assert_eq!(
            rotator_for(
                "arn:aws:lambda:us-east-1:111122223333:function:rampart-random-password",
                None
            ),
            Ok(Rotator::RandomPassword)
        );
        assert!(rotator_for("arn:aws:lambda:us-east-1:1:function:rampart-webhook", None).is_err());
        assert_eq!(
            rotator_for(
                "arn:aws:lambda:us-east-1:1:function:rampart-webhook",
                Some("http://127.0.0.1:9/x")
            ),
            Ok(Rotator::Webhook("http://127.0.0.1:9/x".into()))
        );
        assert!(rotator_for("arn:aws:lambda:us-east-1:1:function:mine", None).is_err());
        assert_eq!(quote_literal("a'b"), "'a''b'");
        assert_eq!(quote_ident("u\"x"), "\"u\"\"x\"");
        let c = pg_credentials(br#"{"username":"u","password":"p","port":"5433"}"#).unwrap();
        assert_eq!(
            (c.port, c.dbname.as_str(), c.host.as_str()),
            (5433, "postgres", "127.0.0.1")
        );
        assert!(pg_credentials(b"plain").is_err());
    }
}
