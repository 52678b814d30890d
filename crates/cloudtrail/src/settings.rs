//! Node-wide CloudTrail settings the server sets once at start (the job scheduler hands ticks
//! only the node and the time). Library functions take these as parameters; only [`crate::tick`]
//! reads the installed copy.
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// An S3-compatible endpoint trails deliver to (path-style addressing, SigV4-signed).
#[derive(Debug, Clone)]
pub struct S3Endpoint {
    /// e.g. `http://127.0.0.1:9000` (plain HTTP; put a TLS proxy in front otherwise).
    pub url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Events with no account (authentication failures with unknown keys) belong here.
    pub default_account: String,
    /// Local delivery root: a trail's `S3BucketName` is a directory under it.
    pub trails_dir: PathBuf,
    /// Longest wait before pending events are delivered.
    pub delivery_interval: Duration,
    /// Pending events that trigger a delivery at once.
    pub delivery_volume: usize,
    /// Period of digest files.
    pub digest_interval: Duration,
    pub s3: Option<S3Endpoint>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Installs the settings; the first call wins (one server per process).
pub fn install(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

pub fn get() -> Option<&'static Settings> {
    SETTINGS.get()
}
