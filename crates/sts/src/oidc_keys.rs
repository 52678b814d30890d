//! Fetching an OpenID Connect issuer's signing keys (discovery document → `jwks_uri` → JWK set),
//! as STS does for AssumeRoleWithWebIdentity. The TLS connection is trusted when the system's
//! roots validate it, or — AWS's rule for IAM OIDC providers — when a certificate the server
//! presents has a SHA-1 thumbprint registered on the provider.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Keys are re-fetched after this long, or when a token names a key id not in the set.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// A refetch for an unknown key id happens at most this often per issuer.
const MIN_REFETCH: Duration = Duration::from_secs(10);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Discovery documents and key sets are small; anything bigger is refused.
const MAX_BODY: usize = 256 * 1024;

#[derive(Debug)]
pub enum FetchError {
    /// The provider could not be reached or answered nonsense (`IDPCommunicationError`).
    Communication(String),
}

struct Cached {
    keys: Arc<JwkSet>,
    fetched: Instant,
}

fn cache() -> &'static Mutex<HashMap<String, Cached>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Cached>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The issuer's key set, from the cache when fresh. `need_kid`: a key id the caller needs; a
/// cached set without it is refreshed (key rotation at the provider).
pub async fn keys(
    issuer: &str,
    thumbprints: &[String],
    need_kid: Option<&str>,
) -> Result<Arc<JwkSet>, FetchError> {
    if let Ok(c) = cache().lock() {
        if let Some(entry) = c.get(issuer) {
            let fresh = entry.fetched.elapsed() < KEYS_TTL;
            let has_kid = need_kid.is_none_or(|kid| entry.keys.find(kid).is_some());
            if fresh && (has_kid || entry.fetched.elapsed() < MIN_REFETCH) {
                return Ok(entry.keys.clone());
            }
        }
    }
    let keys = Arc::new(fetch(issuer, thumbprints).await?);
    if let Ok(mut c) = cache().lock() {
        c.insert(
            issuer.to_string(),
            Cached {
                keys: keys.clone(),
                fetched: Instant::now(),
            },
        );
    }
    Ok(keys)
}

async fn fetch(issuer: &str, thumbprints: &[String]) -> Result<JwkSet, FetchError> {
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery: serde_json::Value = get_json(&discovery_url, thumbprints).await?;
    let jwks_uri = discovery
        .get("jwks_uri")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            FetchError::Communication("the OpenID configuration has no jwks_uri".into())
        })?;
    let set: serde_json::Value = get_json(jwks_uri, thumbprints).await?;
    serde_json::from_value(set)
        .map_err(|e| FetchError::Communication(format!("the JWK set does not parse: {e}")))
}

async fn get_json(url: &str, thumbprints: &[String]) -> Result<serde_json::Value, FetchError> {
    let comm = |m: String| FetchError::Communication(m);
    if !url.starts_with("https://") {
        return Err(comm(format!("{url} is not an https URL")));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(ThumbprintVerifier::new(provider.clone(), thumbprints));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| comm(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .build();
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let uri: http::Uri = url
        .parse()
        .map_err(|_| comm(format!("{url} is not a URL")))?;
    let response = tokio::time::timeout(FETCH_TIMEOUT, client.get(uri))
        .await
        .map_err(|_| comm(format!("{url} did not answer in time")))?
        .map_err(|e| comm(format!("{url}: {e}")))?;
    if !response.status().is_success() {
        return Err(comm(format!("{url} answered HTTP {}", response.status())));
    }
    let body = tokio::time::timeout(
        FETCH_TIMEOUT,
        Limited::new(response.into_body(), MAX_BODY).collect(),
    )
    .await
    .map_err(|_| comm(format!("{url} did not answer in time")))?
    .map_err(|e| comm(format!("{url}: {e}")))?
    .to_bytes();
    serde_json::from_slice(&body).map_err(|_| comm(format!("{url} did not return JSON")))
}

/// System roots first; otherwise a registered SHA-1 thumbprint of a presented certificate.
#[derive(Debug)]
struct ThumbprintVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    thumbprints: Vec<String>,
    provider: Arc<CryptoProvider>,
}

impl ThumbprintVerifier {
    fn new(provider: Arc<CryptoProvider>, thumbprints: &[String]) -> ThumbprintVerifier {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let webpki = if roots.is_empty() {
            None
        } else {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .ok()
        };
        ThumbprintVerifier {
            webpki,
            thumbprints: thumbprints.iter().map(|t| t.to_ascii_lowercase()).collect(),
            provider,
        }
    }
}

impl ServerCertVerifier for ThumbprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(webpki) = &self.webpki {
            if webpki
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .is_ok()
            {
                return Ok(ServerCertVerified::assertion());
            }
        }
        let registered = std::iter::once(end_entity)
            .chain(intermediates.iter())
            .any(|cert| {
                let thumb = hex::encode(digest::digest(
                    &digest::SHA1_FOR_LEGACY_USE_ONLY,
                    cert.as_ref(),
                ));
                self.thumbprints.contains(&thumb)
            });
        if registered {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
