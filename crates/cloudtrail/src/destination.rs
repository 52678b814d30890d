//! Where a trail's files go: a directory tree under the node's trails directory (the default;
//! `<trails_dir>/<S3BucketName>/<key>`), or an S3-compatible endpoint (path-style PUTs signed
//! with SigV4). Bucket names and key prefixes are validated on CreateTrail/UpdateTrail so a
//! local path never leaves its bucket directory.
use std::io::Write as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use time::OffsetDateTime;

use crate::settings::S3Endpoint;

/// Object metadata written beside local files (S3 keeps it as `x-amz-meta-*`).
pub const LOCAL_METADATA_SUFFIX: &str = ".metadata.json";

#[derive(Debug, Clone)]
pub enum Destination {
    Local(PathBuf),
    S3(S3Endpoint),
}

impl Destination {
    /// Stores one object; `metadata` pairs are `x-amz-meta-<name>` values.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, String)],
        now: OffsetDateTime,
    ) -> Result<(), String> {
        match self {
            Destination::Local(root) => {
                let path = local_path(root, bucket, key);
                let meta: serde_json::Map<String, serde_json::Value> = metadata
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), v.clone().into()))
                    .collect();
                tokio::task::spawn_blocking(move || write_local(&path, &body, &meta))
                    .await
                    .map_err(|e| e.to_string())?
            }
            Destination::S3(endpoint) => s3_put(endpoint, bucket, key, body, metadata, now).await,
        }
    }
}

pub fn local_path(root: &Path, bucket: &str, key: &str) -> PathBuf {
    let mut p = root.join(bucket);
    for seg in key.split('/') {
        p.push(seg);
    }
    p
}

/// Writes durably: a temporary file, fsync, rename, so a crash leaves the old file or the new.
fn write_local(
    path: &Path,
    body: &[u8],
    meta: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    let dir = path.parent().ok_or("no parent directory")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |target: &Path, bytes: &[u8]| -> Result<(), String> {
        let tmp = target.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        f.write_all(bytes).map_err(|e| e.to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, target).map_err(|e| e.to_string())
    };
    if !meta.is_empty() {
        let mut name = path.as_os_str().to_owned();
        name.push(LOCAL_METADATA_SUFFIX);
        let bytes = serde_json::to_vec(meta).map_err(|e| e.to_string())?;
        write(Path::new(&name), &bytes)?;
    }
    write(path, body)
}

/// S3's URI encoding of a key (each segment, `/` kept).
fn encode_key(key: &str) -> String {
    key.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn s3_put(
    endpoint: &S3Endpoint,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    metadata: &[(&str, String)],
    now: OffsetDateTime,
) -> Result<(), String> {
    let base = endpoint.url.trim_end_matches('/');
    let host = base
        .strip_prefix("http://")
        .ok_or("only http:// S3 endpoints are supported")?
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let path = format!("/{bucket}/{}", encode_key(key));
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host),
        ("content-type".into(), "application/octet-stream".into()),
    ];
    for (k, v) in metadata {
        headers.push((format!("x-amz-meta-{k}"), v.clone()));
    }
    let signable_headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let req = rampart_sigv4::SignableRequest {
        method: "PUT",
        path: &path,
        query: "",
        headers: &signable_headers,
        body: &body,
    };
    let params = rampart_sigv4::SigningParams {
        access_key_id: &endpoint.access_key_id,
        session_token: None,
        region: &endpoint.region,
        service: "s3",
        now,
    };
    let added = rampart_sigv4::sign_headers(&req, &endpoint.secret_access_key, &params, true);
    let mut builder = http::Request::builder()
        .method("PUT")
        .uri(format!("{base}{path}"));
    for (k, v) in headers.iter().chain(added.iter()) {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response =
        tokio::time::timeout(std::time::Duration::from_secs(30), client.request(request))
            .await
            .map_err(|_| "S3 PUT timed out".to_string())?
            .map_err(|e| format!("S3 PUT failed: {e}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let code = text
        .split("<Code>")
        .nth(1)
        .and_then(|r| r.split("</Code>").next())
        .unwrap_or("error");
    Err(format!("S3 answered {status}: {code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_per_segment() {
        assert_eq!(encode_key("a b/c+d/e.json.gz"), "a%20b/c%2Bd/e.json.gz");
    }

    #[tokio::test]
    async fn local_files_land_under_the_bucket_with_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let d = Destination::Local(dir.path().to_path_buf());
        d.put(
            "bkt",
            "p/AWSLogs/x.json.gz",
            b"abc".to_vec(),
            &[("signature", "00ff".into())],
            OffsetDateTime::UNIX_EPOCH,
        )
        .await
        .unwrap();
        let p = dir.path().join("bkt/p/AWSLogs/x.json.gz");
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        let meta =
            std::fs::read_to_string(dir.path().join("bkt/p/AWSLogs/x.json.gz.metadata.json"))
                .unwrap();
        assert!(meta.contains("00ff"));
    }
}
