//! Log-file integrity: for trails with log file validation, a digest file every digest period
//! under `[prefix/]AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/` in AWS's format —
//! each delivered log file's SHA-256, the previous digest's hash and signature (a chain) —
//! signed SHA256withRSA with the region's key. The signature travels as object metadata
//! (`x-amz-meta-signature`, or `<file>.metadata.json` locally), over AWS's data signing string:
//! `digestEndTime \n bucket/key \n hex(SHA-256(uncompressed digest)) \n previousDigestSignature`.
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_aws_types::AwsError;
use rampart_crypto::MasterKey;
use rampart_services::common::records;
use rampart_store::{Expect, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::delivery::log_file_body_raw;
use crate::destination::Destination;
use crate::record::format_time;
use crate::settings::Settings;
use crate::trail::{self, DeliveryState, LastDigest, TrailConfig, TrailRef};

pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// A region's signing key, the private half sealed under the master key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyRecord {
    pub fingerprint: String,
    /// PKCS#1 DER, base64.
    pub public_key: String,
    /// PKCS#8 DER sealed with [`seal_context`], base64.
    pub sealed_private_key: String,
    pub validity_start: i64,
}

pub fn key_store_key(region: &str) -> String {
    format!("sys/cloudtrail/signing-key/{region}")
}

fn seal_context(region: &str) -> String {
    format!("cloudtrail-digest-key/{region}")
}

fn internal(what: &str) -> AwsError {
    tracing::error!(what, "digest key failure");
    AwsError::internal("The digest signing key is unavailable.")
}

/// Fingerprint: the first 128 bits of SHA-256 of the public key, hex (AWS uses MD5, which
/// aws-lc-rs does not offer for new use; the field is an identifier only).
pub fn fingerprint(public_der: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public_der);
    hex::encode(d.as_ref().get(..16).unwrap_or_default())
}

/// The region's key, created (and sealed) on first use.
pub async fn region_key(
    store: &Store,
    master_key: &MasterKey,
    region: &str,
    now: OffsetDateTime,
) -> Result<(SigningKeyRecord, RsaKeyPair), AwsError> {
    let key = key_store_key(region);
    let k2 = key.clone();
    let existing = store
        .read(move |tx| records::get::<SigningKeyRecord>(tx, &k2))
        .await?;
    let record = match existing {
        Some((r, _)) => r,
        None => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| internal("generate"))?;
            let der = pair.as_der().map_err(|_| internal("encode"))?;
            let public = pair.public_key().as_ref().to_vec();
            let sealed = master_key
                .seal(&seal_context(region), der.as_ref())
                .map_err(|_| internal("seal"))?;
            let record = SigningKeyRecord {
                fingerprint: fingerprint(&public),
                public_key: STANDARD.encode(&public),
                sealed_private_key: STANDARD.encode(sealed),
                validity_start: now.unix_timestamp(),
            };
            let r2 = record.clone();
            // Two nodes racing: the first key wins; the loser reads it back.
            let won = store
                .write(
                    move |tx| match records::put(tx, &key, &r2, Expect::Absent) {
                        Ok(_) => Ok(true),
                        Err(e) if e.status == 409 => Ok(false),
                        Err(e) => Err(e),
                    },
                )
                .await?;
            if won {
                record
            } else {
                let k3 = key_store_key(region);
                store
                    .read(move |tx| records::get::<SigningKeyRecord>(tx, &k3))
                    .await?
                    .map(|(r, _)| r)
                    .ok_or_else(|| internal("reload"))?
            }
        }
    };
    let sealed = STANDARD
        .decode(&record.sealed_private_key)
        .map_err(|_| internal("decode"))?;
    let der = master_key
        .open(&seal_context(region), &sealed)
        .map_err(|_| internal("unseal"))?;
    let pair = RsaKeyPair::from_pkcs8(&der).map_err(|_| internal("parse"))?;
    Ok((record, pair))
}

/// AWS's data signing string.
pub fn signing_string(
    end_time: &str,
    bucket: &str,
    key: &str,
    digest_json: &[u8],
    previous_signature: Option<&str>,
) -> String {
    let hash = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        digest_json,
    ));
    format!(
        "{end_time}\n{bucket}/{key}\n{hash}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// Verifies a digest's hex signature with a PKCS#1 public key.
pub fn verify(public_der: &[u8], signing_string: &str, signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_der)
        .verify(signing_string.as_bytes(), &sig)
        .is_ok()
}

/// `YYYYMMDDTHHmmssZ`
fn compact_second(t: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn digest_key(config: &TrailConfig, region: &str, end: OffsetDateTime) -> String {
    let p = config
        .s3_key_prefix
        .as_deref()
        .map(|p| format!("{p}/"))
        .unwrap_or_default();
    let a = &config.account;
    format!(
        "{p}AWSLogs/{a}/CloudTrail-Digest/{region}/{:04}/{:02}/{:02}/{a}_CloudTrail-Digest_{region}_{}_{}_{}.json.gz",
        end.year(),
        u8::from(end.month()),
        end.day(),
        config.name,
        config.home_region,
        compact_second(end)
    )
}

/// Writes the trail's digest when its period is over.
pub async fn maybe_digest(
    store: &Store,
    master_key: &MasterKey,
    settings: &Settings,
    dest: &Destination,
    r: &TrailRef,
    now: OffsetDateTime,
) -> Result<(), AwsError> {
    let (ck, sk) = (
        trail::config_key(&r.account, &r.region, &r.name),
        trail::state_key(&r.account, &r.region, &r.name),
    );
    let loaded = store
        .read(move |tx| {
            let c = records::get::<TrailConfig>(tx, &ck)?;
            let s = records::get::<DeliveryState>(tx, &sk)?;
            Ok::<_, AwsError>((c, s))
        })
        .await?;
    let (Some((config, _)), Some((state, version))) = loaded else {
        return Ok(());
    };
    if !config.log_file_validation_enabled || (!config.is_logging && state.undigested.is_empty()) {
        return Ok(());
    }
    let sk = trail::state_key(&r.account, &r.region, &r.name);
    let Some(start) = state.digest_period_start else {
        let mut s = state;
        s.digest_period_start = Some(now.unix_timestamp());
        store
            .write(move |tx| records::put(tx, &sk, &s, Expect::Version(version)).map(|_| ()))
            .await?;
        return Ok(());
    };
    let period = i64::try_from(settings.digest_interval.as_secs()).unwrap_or(3600);
    if now.unix_timestamp() - start < period {
        return Ok(());
    }
    // One digest per region the trail's files came from; the home region's always.
    let region = config.home_region.clone();
    let start_t = OffsetDateTime::from_unix_timestamp(start).unwrap_or(now);
    let key = digest_key(&config, &region, now);
    let (key_record, pair) = region_key(store, master_key, &region, now).await?;
    let prev = state.last_digest.clone();
    let times: Vec<&str> = state
        .undigested
        .iter()
        .flat_map(|f| [f.oldest_event_time.as_str(), f.newest_event_time.as_str()])
        .collect();
    let log_files: Vec<Value> = state
        .undigested
        .iter()
        .map(|f| {
            json!({
                "s3Bucket": f.bucket, "s3Object": f.key, "hashValue": f.sha256,
                "hashAlgorithm": "SHA-256", "newestEventTime": f.newest_event_time,
                "oldestEventTime": f.oldest_event_time,
            })
        })
        .collect();
    let end_text = format_time(now);
    let doc = json!({
        "awsAccountId": config.account,
        "digestStartTime": format_time(start_t),
        "digestEndTime": end_text,
        "digestS3Bucket": config.s3_bucket_name,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": key_record.fingerprint,
        "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
        "newestEventTime": times.iter().max(),
        "oldestEventTime": times.iter().min(),
        "previousDigestS3Bucket": prev.as_ref().map(|p| p.bucket.clone()),
        "previousDigestS3Object": prev.as_ref().map(|p| p.key.clone()),
        "previousDigestHashValue": prev.as_ref().map(|p| p.hash.clone()),
        "previousDigestHashAlgorithm": prev.as_ref().map(|_| "SHA-256"),
        "previousDigestSignature": prev.as_ref().map(|p| p.signature.clone()),
        "logFiles": log_files,
    });
    let json_bytes =
        serde_json::to_vec(&doc).map_err(|_| AwsError::internal("cannot encode a digest"))?;
    let to_sign = signing_string(
        &end_text,
        &config.s3_bucket_name,
        &key,
        &json_bytes,
        prev.as_ref().map(|p| p.signature.as_str()),
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        to_sign.as_bytes(),
        &mut sig,
    )
    .map_err(|_| internal("sign"))?;
    let sig_hex = hex::encode(&sig);
    let body = log_file_body_raw(&json_bytes)?;
    let result = dest
        .put(
            &config.s3_bucket_name,
            &key,
            body,
            &[
                ("signature", sig_hex.clone()),
                ("signature-algorithm", SIGNATURE_ALGORITHM.to_string()),
            ],
            now,
        )
        .await;
    let digested = state.undigested.len();
    let now_s = now.unix_timestamp();
    let hash = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &json_bytes,
    ));
    let bucket = config.s3_bucket_name.clone();
    store
        .write(move |tx| {
            let mut s = records::get::<DeliveryState>(tx, &sk)?
                .map(|(s, _)| s)
                .unwrap_or_default();
            match &result {
                Ok(()) => {
                    s.undigested.drain(..digested.min(s.undigested.len()));
                    s.digest_period_start = Some(now_s);
                    s.latest_digest_delivery_time = Some(now_s);
                    s.latest_digest_delivery_error = None;
                    s.last_digest = Some(LastDigest {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        hash: hash.clone(),
                        signature: sig_hex.clone(),
                        end_time: now_s,
                    });
                }
                Err(e) => s.latest_digest_delivery_error = Some(e.clone()),
            }
            records::put(tx, &sk, &s, Expect::Any).map(|_| ())
        })
        .await?;
    Ok(())
}

/// `ListPublicKeys`: the region's digest-signing public key (PKCS#1 DER), once it exists.
pub fn list_public_keys(
    ctx: std::sync::Arc<rampart_services::Ctx>,
    _input: Value,
) -> rampart_services::HandlerFuture {
    Box::pin(async move {
        ctx.authorize("cloudtrail:ListPublicKeys", "*", &[])?;
        let key = key_store_key(ctx.region());
        let record = ctx
            .store()
            .read(move |tx| records::get::<SigningKeyRecord>(tx, &key))
            .await?;
        let list: Vec<Value> = record
            .into_iter()
            .map(|(r, _)| {
                json!({
                    "Value": r.public_key,
                    "ValidityStartTime": r.validity_start,
                    // Keys are not rotated yet: valid for a year from creation.
                    "ValidityEndTime": r.validity_start + 365 * 86_400,
                    "Fingerprint": r.fingerprint,
                })
            })
            .collect();
        Ok(json!({ "PublicKeyList": list }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let s = signing_string("2024-01-01T00:00:00Z", "b", "k", b"{}", None);
        assert!(s.ends_with("\nnull"));
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            s.as_bytes(),
            &mut sig,
        )
        .unwrap();
        let public = pair.public_key().as_ref().to_vec();
        assert!(verify(&public, &s, &hex::encode(&sig)));
        let other = signing_string("2024-01-01T00:00:00Z", "b", "k2", b"{}", None);
        assert!(!verify(&public, &other, &hex::encode(&sig)));
    }
}
