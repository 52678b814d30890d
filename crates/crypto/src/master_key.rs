//! The node's 256-bit master key. Everything sealed at rest is sealed under it; the store alone
//! reveals nothing. It lives in a 0600 key file outside the store (a PKCS#11 HSM later).
use std::fs;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, RandomizedNonceKey};
use zeroize::Zeroizing;

use crate::seal::SealError;

pub const MASTER_KEY_LEN: usize = 32;

/// The master key, ready to seal and open. The raw bytes are not kept after construction
/// (aws-lc-rs holds the expanded key).
pub struct MasterKey {
    pub(crate) aead: RandomizedNonceKey,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, SealError> {
        if bytes.len() != MASTER_KEY_LEN {
            return Err(SealError::BadMasterKey);
        }
        let aead =
            RandomizedNonceKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::BadMasterKey)?;
        Ok(MasterKey { aead })
    }

    /// Creates a new random key file with mode 0600. Fails if the file already exists, so an
    /// existing key is never overwritten.
    pub fn create_file(path: &Path) -> Result<MasterKey, SealError> {
        let bytes = Zeroizing::new(
            rampart_aws_types::ids::random_bytes::<MASTER_KEY_LEN>().map_err(|_| SealError::Rng)?,
        );
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(SealError::Io)?;
        file.write_all(bytes.as_ref()).map_err(SealError::Io)?;
        file.sync_all().map_err(SealError::Io)?;
        MasterKey::from_bytes(bytes.as_ref())
    }

    /// Loads the key file, refusing a file that others can read.
    pub fn load_file(path: &Path) -> Result<MasterKey, SealError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path)
                .map_err(SealError::Io)?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(SealError::InsecureKeyFile(format!(
                    "{} has mode {:o}; it must be 0600",
                    path.display(),
                    mode & 0o777
                )));
            }
        }
        let bytes = Zeroizing::new(fs::read(path).map_err(SealError::Io)?);
        MasterKey::from_bytes(&bytes)
    }
}
