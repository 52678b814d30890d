//! What to send: the endpoint, the operation (awsQuery form POST or awsJson POST), and a
//! signer that re-signs every request with the current time.

use bytes::Bytes;
use http_body_util::Full;
use rampart_sigv4::{SignableRequest, SigningKey, SigningParams, format_scope_date};
use time::OffsetDateTime;

use crate::credentials::Credentials;

/// Why the request could not be prepared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// The endpoint URL is not `http://host[:port][/path]`.
    #[error("invalid endpoint '{0}': expected http://host[:port][/path] (TLS is not supported)")]
    BadEndpoint(String),
    /// A header value or the URI could not be built.
    #[error("cannot build the HTTP request: {0}")]
    Http(String),
}

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` to connect to.
    pub connect_addr: String,
    /// The `Host` header (the URL's authority as written).
    pub host: String,
    /// Request path, `/` by default.
    pub path: String,
}

impl Endpoint {
    /// Parses `http://127.0.0.1:4566` (an optional path is kept).
    pub fn parse(url: &str) -> Result<Endpoint, RequestError> {
        let bad = || RequestError::BadEndpoint(url.to_owned());
        let uri: http::Uri = url.parse().map_err(|_| bad())?;
        if uri.scheme_str() != Some("http") {
            return Err(bad());
        }
        let authority = uri.authority().ok_or_else(bad)?;
        let port = authority.port_u16().unwrap_or(80);
        let host_only = authority.host();
        let connect_addr = if host_only.contains(':') && !host_only.starts_with('[') {
            format!("[{host_only}]:{port}")
        } else {
            format!("{host_only}:{port}")
        };
        let path = match uri.path() {
            "" => "/".to_owned(),
            p => p.to_owned(),
        };
        Ok(Endpoint {
            connect_addr,
            host: authority.as_str().to_owned(),
            path,
        })
    }
}

/// The operation to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// awsQuery (IAM, STS): `POST` form `Action=..&Version=..&<params>`.
    Query {
        /// e.g. `GetCallerIdentity`.
        action: String,
        /// API version, e.g. `2011-06-15`.
        version: String,
        /// Extra form parameters, already URL-encoded (`RoleArn=arn%3A...&RoleSessionName=x`).
        params: String,
    },
    /// awsJson 1.0/1.1: `POST` with `X-Amz-Target` and a JSON body.
    Json {
        /// e.g. `TrentService.Encrypt`.
        target: String,
        /// `1.0` or `1.1`: the content type `application/x-amz-json-<v>`.
        json_version: String,
        /// The JSON body.
        body: Vec<u8>,
    },
}

/// Default API versions for the awsQuery services Rampart serves.
pub fn default_query_version(service: &str) -> Option<&'static str> {
    match service {
        "sts" => Some("2011-06-15"),
        "iam" => Some("2010-05-08"),
        "sns" => Some("2010-03-31"),
        "sqs" => Some("2012-11-05"),
        "ec2" => Some("2016-11-15"),
        _ => None,
    }
}

/// An unsigned request, built once and re-signed for every send.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    endpoint: Endpoint,
    /// Headers other than the signature ones, in send order.
    headers: Vec<(String, String)>,
    body: Bytes,
    /// SHA-256 of `body`, computed once: the body never changes, and hashing a 4 KiB body for
    /// every request was a quarter of the load generator's CPU (taken from the server it
    /// measures, on a shared machine).
    body_sha256: [u8; 32],
}

impl RequestTemplate {
    /// Builds the template for an operation.
    pub fn new(endpoint: Endpoint, op: &Operation) -> RequestTemplate {
        let mut headers = vec![("host".to_owned(), endpoint.host.clone())];
        let body = match op {
            Operation::Query {
                action,
                version,
                params,
            } => {
                headers.push((
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
                ));
                let mut body = format!("Action={action}&Version={version}");
                let params = params.trim_matches('&');
                if !params.is_empty() {
                    body.push('&');
                    body.push_str(params);
                }
                Bytes::from(body)
            }
            Operation::Json {
                target,
                json_version,
                body,
            } => {
                headers.push((
                    "content-type".to_owned(),
                    format!("application/x-amz-json-{json_version}"),
                ));
                headers.push(("x-amz-target".to_owned(), target.clone()));
                Bytes::from(body.clone())
            }
        };
        RequestTemplate {
            endpoint,
            headers,
            body_sha256: rampart_sigv4::body_sha256(&body),
            body,
        }
    }

    /// Adds a header that every request carries and that is signed (names are lower-cased).
    pub fn with_header(mut self, name: &str, value: &str) -> RequestTemplate {
        self.headers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        self
    }

    /// The body every request carries.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Builds a signed `POST` for time `now`.
    pub fn build(
        &self,
        signer: &mut RequestSigner,
        now: OffsetDateTime,
    ) -> Result<http::Request<Full<Bytes>>, RequestError> {
        let signature_headers = signer.sign(self, now);
        let mut builder = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.endpoint.path.as_str());
        for (name, value) in self.headers.iter().chain(signature_headers.iter()) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder
            .header("content-length", self.body.len())
            .header("user-agent", "rampart-loadgen/0.1")
            .body(Full::new(self.body.clone()))
            .map_err(|e| RequestError::Http(e.to_string()))
    }
}

/// Signs requests with one set of credentials, caching the derived key for the current date
/// (key derivation is four HMACs; per-request signing is then one SHA-256 of the body, one of
/// the canonical request and one HMAC).
pub struct RequestSigner {
    credentials: Credentials,
    region: String,
    service: String,
    cached: Option<(String, SigningKey)>,
}

impl RequestSigner {
    /// A signer for one region and service.
    pub fn new(credentials: Credentials, region: &str, service: &str) -> RequestSigner {
        RequestSigner {
            credentials,
            region: region.to_owned(),
            service: service.to_owned(),
            cached: None,
        }
    }

    /// The headers to add: `x-amz-date`, optional `x-amz-security-token`, `authorization`.
    pub fn sign(&mut self, tmpl: &RequestTemplate, now: OffsetDateTime) -> Vec<(String, String)> {
        let date = format_scope_date(now);
        let key = match &self.cached {
            Some((d, key)) if *d == date => key.clone(),
            _ => {
                let key = SigningKey::derive(
                    &self.credentials.secret_access_key,
                    &date,
                    &self.region,
                    &self.service,
                );
                self.cached = Some((date, key.clone()));
                key
            }
        };
        let headers: Vec<(&str, &[u8])> = tmpl
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let signable = SignableRequest {
            method: "POST",
            path: &tmpl.endpoint.path,
            query: "",
            headers: &headers,
            body: &tmpl.body,
        };
        let params = SigningParams {
            access_key_id: &self.credentials.access_key_id,
            session_token: self.credentials.session_token.as_deref(),
            region: &self.region,
            service: &self.service,
            now,
        };
        rampart_sigv4::sign_headers_with_body_sha256(
            &signable,
            &key,
            &params,
            false,
            tmpl.body_sha256,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:4566").unwrap();
        assert_eq!(e.connect_addr, "127.0.0.1:4566");
        assert_eq!(e.host, "127.0.0.1:4566");
        assert_eq!(e.path, "/");
        let e = Endpoint::parse("http://localhost/api").unwrap();
        assert_eq!(e.connect_addr, "localhost:80");
        assert_eq!(e.path, "/api");
        let e = Endpoint::parse("http://[::1]:9000").unwrap();
        assert_eq!(e.connect_addr, "[::1]:9000");
        assert!(Endpoint::parse("https://sts.amazonaws.com").is_err());
        assert!(Endpoint::parse("not a url").is_err());
    }

    #[test]
    fn query_and_json_templates() {
        let ep = Endpoint::parse("http://h:1").unwrap();
        let q = RequestTemplate::new(
            ep.clone(),
            &Operation::Query {
                action: "AssumeRole".into(),
                version: "2011-06-15".into(),
                params: "RoleArn=a&RoleSessionName=s".into(),
            },
        );
        assert_eq!(
            q.body(),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=a&RoleSessionName=s"
        );
        let j = RequestTemplate::new(
            ep,
            &Operation::Json {
                target: "TrentService.Encrypt".into(),
                json_version: "1.1".into(),
                body: b"{}".to_vec(),
            },
        );
        assert!(
            j.headers
                .contains(&("x-amz-target".into(), "TrentService.Encrypt".into()))
        );
        assert!(
            j.headers
                .contains(&("content-type".into(), "application/x-amz-json-1.1".into()))
        );
    }

    #[test]
    fn extra_headers_are_sent_and_signed() {
        let tmpl = RequestTemplate::new(
            Endpoint::parse("http://h:1").unwrap(),
            &Operation::Json {
                target: "TrentService.ListKeys".into(),
                json_version: "1.1".into(),
                body: b"{}".to_vec(),
            },
        )
        .with_header("X-Custom-Trace", " abc ");
        let creds = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "s".into(),
            session_token: None,
        };
        let mut signer = RequestSigner::new(creds, "us-east-1", "kms");
        let now = rampart_sigv4::parse_amz_date("20260102T030405Z").unwrap();
        let req = tmpl.build(&mut signer, now).unwrap();
        assert_eq!(req.headers()["x-custom-trace"], "abc");
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.contains(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-custom-trace,"
            ),
            "{auth}"
        );
        assert_eq!(req.headers()["x-amz-date"], "20260102T030405Z");
    }
}
