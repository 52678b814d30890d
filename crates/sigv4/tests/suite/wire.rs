//! Requests in the test-vector text format: `METHOD uri HTTP/1.1`, `Name:value` header lines
//! (a line starting with whitespace continues the previous value), an empty line, the body.

use rampart_sigv4::{PayloadHash, Request};

/// A request parsed from `*.txt`: request line, headers (with continuation lines), body.
pub struct WireRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl WireRequest {
    pub fn parse(text: &str) -> WireRequest {
        let (head, body) = match text.split_once("\n\n") {
            Some((h, b)) => (h, b.as_bytes().to_vec()),
            None => (text.trim_end_matches('\n'), Vec::new()),
        };
        let mut lines = head.split('\n');
        let request_line = lines.next().unwrap();
        let (method, rest) = request_line.split_once(' ').unwrap();
        let uri = rest.strip_suffix(" HTTP/1.1").unwrap();
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        for line in lines {
            if line.starts_with(' ') || line.starts_with('\t') {
                // Obsolete line folding: the parts join with single spaces.
                let last = headers.last_mut().unwrap();
                last.1.push(b' ');
                last.1.extend_from_slice(line.trim().as_bytes());
                continue;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.as_bytes().to_vec()));
        }
        WireRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body,
        }
    }

    pub fn header_refs(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect()
    }
}

pub fn with_request<R>(w: &WireRequest, f: impl FnOnce(&Request<'_>) -> R) -> R {
    let headers = w.header_refs();
    let req = Request {
        method: &w.method,
        path: &w.path,
        query: &w.query,
        headers: &headers,
        payload: PayloadHash::Body(&w.body),
    };
    f(&req)
}
