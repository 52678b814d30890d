//! Log-file integrity validation, the way `aws cloudtrail validate-logs` does it: start from the
//! newest digest file, check its signature, check every log file it lists (present, same
//! SHA-256), then follow the chain to the previous digest (present, same hash, same signature)
//! until the requested start time. Additionally, log files in the validated window that no
//! digest lists are reported as not digested (forged, or copied in from elsewhere).
//!
//! Works over a local delivery directory (`<trails_dir>/<bucket>/...`), with signatures in the
//! `<file>.metadata.json` sidecars the local destination writes.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::destination::{LOCAL_METADATA_SUFFIX, local_path};
use crate::digest;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    DigestValid(String),
    DigestNotFound(String),
    DigestBadSignature(String),
    DigestHashMismatch(String),
    LogValid(String),
    LogNotFound(String),
    LogHashMismatch(String),
    LogNotDigested(String),
}

impl Finding {
    pub fn is_valid(&self) -> bool {
        matches!(self, Finding::DigestValid(_) | Finding::LogValid(_))
    }

    /// One line in validate-logs' words.
    pub fn line(&self) -> String {
        match self {
            Finding::DigestValid(p) => format!("Digest file {p} valid"),
            Finding::DigestNotFound(p) => format!("Digest file {p} INVALID: not found"),
            Finding::DigestBadSignature(p) => {
                format!("Digest file {p} INVALID: signature verification failed")
            }
            Finding::DigestHashMismatch(p) => {
                format!("Digest file {p} INVALID: hash value doesn't match")
            }
            Finding::LogValid(p) => format!("Log file {p} valid"),
            Finding::LogNotFound(p) => format!("Log file {p} INVALID: not found"),
            Finding::LogHashMismatch(p) => {
                format!("Log file {p} INVALID: hash value doesn't match")
            }
            Finding::LogNotDigested(p) => {
                format!("Log file {p} INVALID: not listed in any digest file")
            }
        }
    }

    fn is_digest(&self) -> bool {
        matches!(
            self,
            Finding::DigestValid(_)
                | Finding::DigestNotFound(_)
                | Finding::DigestBadSignature(_)
                | Finding::DigestHashMismatch(_)
        )
    }
}

/// What to validate.
pub struct Request<'a> {
    pub trails_dir: &'a Path,
    pub bucket: &'a str,
    pub prefix: Option<&'a str>,
    pub account: &'a str,
    pub home_region: &'a str,
    pub trail_name: &'a str,
    /// Region → PKCS#1 public key.
    pub public_keys: &'a BTreeMap<String, Vec<u8>>,
    /// Epoch seconds.
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn all_valid(&self) -> bool {
        self.findings.iter().all(Finding::is_valid)
    }

    pub fn summary(&self) -> String {
        let count = |digest: bool| {
            let all: Vec<&Finding> = self
                .findings
                .iter()
                .filter(|f| f.is_digest() == digest)
                .collect();
            let valid = all.iter().filter(|f| f.is_valid()).count();
            (valid, all.len())
        };
        let (dv, dn) = count(true);
        let (lv, ln) = count(false);
        let part = |v: usize, n: usize, what: &str| {
            if v == n {
                format!("{v}/{n} {what} files valid")
            } else {
                format!(
                    "{v}/{n} {what} files valid, {}/{n} {what} files INVALID",
                    n - v
                )
            }
        };
        format!("{}\n{}", part(dv, dn, "digest"), part(lv, ln, "log"))
    }
}

fn s3_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).ok()?;
    Some(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// `...Z.json.gz` names end with a compact UTC time; its epoch seconds.
fn name_time(name: &str) -> Option<i64> {
    let stem = name.strip_suffix(".json.gz")?;
    let parts: Vec<&str> = stem.split('_').collect();
    // Digest: ..._<YYYYMMDDTHHmmssZ>; log: ..._<YYYYMMDDTHHmmZ>_<unique>.
    let t = parts
        .iter()
        .rev()
        .find(|p| p.len() >= 14 && p.ends_with('Z') && p.contains('T'))?;
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<u32>().ok());
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        u8::try_from(num(12..14).unwrap_or(0)).ok()?,
    )
    .ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

fn relative_key(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Validates a trail's files between `start` and `end`.
pub fn validate(req: &Request<'_>) -> Report {
    let mut report = Report::default();
    let bucket_root = req.trails_dir.join(req.bucket);
    let base = req.prefix.map(|p| format!("{p}/")).unwrap_or_default();
    let digest_marker = format!(
        "_CloudTrail-Digest_{}_{}_{}_",
        req.home_region, req.trail_name, req.home_region
    );
    let mut files = Vec::new();
    walk(
        &bucket_root.join(format!("{base}AWSLogs/{}", req.account)),
        &mut files,
    );
    let mut digests: Vec<(i64, String)> = files
        .iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            if !name.ends_with(".json.gz") || !name.contains(&digest_marker) {
                return None;
            }
            Some((name_time(&name)?, relative_key(&bucket_root, p)?))
        })
        .collect();
    digests.sort();
    // The newest digest whose period starts before `end`; then back along the chain.
    let mut next: Option<String> = digests
        .iter()
        .rev()
        .find(|(t, _)| *t <= req.end.saturating_add(3600))
        .map(|(_, k)| k.clone());
    let newest_digest_time = digests.last().map_or(i64::MIN, |(t, _)| *t);
    let mut listed: BTreeSet<String> = BTreeSet::new();
    // What the later digest said about this one: (hash, signature).
    let mut expected: Option<(String, String)> = None;
    while let Some(key) = next.take() {
        let uri = s3_uri(req.bucket, &key);
        let path = local_path(req.trails_dir, req.bucket, &key);
        let Ok(gz) = std::fs::read(&path) else {
            report.findings.push(Finding::DigestNotFound(uri));
            break;
        };
        let meta: Value = {
            let mut m = path.as_os_str().to_owned();
            m.push(LOCAL_METADATA_SUFFIX);
            std::fs::read(PathBuf::from(m))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null)
        };
        let signature = meta
            .get("signature")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(json_bytes) = gunzip(&gz) else {
            report.findings.push(Finding::DigestBadSignature(uri));
            break;
        };
        let doc: Value = serde_json::from_slice(&json_bytes).unwrap_or(Value::Null);
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        let end_time = text("digestEndTime").unwrap_or_default();
        let prev_sig = text("previousDigestSignature");
        let to_sign = digest::signing_string(
            &end_time,
            req.bucket,
            &key,
            &json_bytes,
            prev_sig.as_deref(),
        );
        let region = key
            .split('/')
            .skip_while(|s| *s != "CloudTrail-Digest")
            .nth(1)
            .unwrap_or(req.home_region);
        let signed_ok = req
            .public_keys
            .get(region)
            .is_some_and(|pk| digest::verify(pk, &to_sign, &signature));
        if !signed_ok {
            report.findings.push(Finding::DigestBadSignature(uri));
            break;
        }
        if let Some((hash, sig)) = &expected {
            if *hash != sha256_hex(&json_bytes) || *sig != signature {
                report.findings.push(Finding::DigestHashMismatch(uri));
                break;
            }
        }
        report.findings.push(Finding::DigestValid(uri));
        for f in doc
            .get("logFiles")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let (Some(b), Some(k), Some(h)) = (
                f.get("s3Bucket").and_then(Value::as_str),
                f.get("s3Object").and_then(Value::as_str),
                f.get("hashValue").and_then(Value::as_str),
            ) else {
                continue;
            };
            listed.insert(k.to_string());
            let uri = s3_uri(b, k);
            // Only files of this trail's bucket, never a path out of it.
            if b != req.bucket
                || k.split('/')
                    .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            {
                report.findings.push(Finding::LogNotFound(uri));
                continue;
            }
            match std::fs::read(local_path(req.trails_dir, b, k)) {
                Err(_) => report.findings.push(Finding::LogNotFound(uri)),
                Ok(bytes) if sha256_hex(&bytes) != h => {
                    report.findings.push(Finding::LogHashMismatch(uri));
                }
                Ok(_) => report.findings.push(Finding::LogValid(uri)),
            }
        }
        let start_time = text("digestStartTime")
            .and_then(|t| crate::record::parse_time(&t))
            .map_or(i64::MIN, |t| t.unix_timestamp());
        if start_time <= req.start {
            break;
        }
        next = text("previousDigestS3Object").filter(|k| {
            !k.split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        });
        expected = match (text("previousDigestHashValue"), prev_sig) {
            (Some(h), Some(s)) => Some((h, s)),
            _ => None,
        };
    }
    // Log files in the window that no digest vouches for.
    for p in &files {
        let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !name.ends_with(".json.gz") || name.contains("_CloudTrail-Digest_") {
            continue;
        }
        let Some(key) = relative_key(&bucket_root, p) else {
            continue;
        };
        let Some(t) = name_time(&name) else { continue };
        if t >= req.start - 60 && t <= req.end && t <= newest_digest_time && !listed.contains(&key)
        {
            report
                .findings
                .push(Finding::LogNotDigested(s3_uri(req.bucket, &key)));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_names() {
        let d = "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240102T030405Z.json.gz";
        assert_eq!(name_time(d), Some(1_704_164_645));
        let l = "111122223333_CloudTrail_us-east-1_20240102T0304Z_abcdef0123456789.json.gz";
        assert_eq!(name_time(l), Some(1_704_164_640));
    }
}
