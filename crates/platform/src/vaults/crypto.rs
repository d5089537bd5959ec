//! Encryption at rest of credential secrets: the vault key and sealing with ChaCha20-Poly1305.
//!
//! **The key.** One 256-bit key per data directory, in `<data_dir>/vault.key` ([`KEY_FILE`])
//! as 64 lowercase hex characters and a newline. The platform creates it on first start with
//! mode 0600 (from the OS random source) and loads it on every later start.
//!
//! Start-up refuses, rather than warns, when:
//! * the file exists with a mode that lets anyone but its owner read or write it (any of the
//!   `0o077` bits), the way ssh treats private keys: a readable key file makes the encryption
//!   at rest pointless, and a loud refusal is the only warning nobody misses. `chmod 600` fixes
//!   it;
//! * the file does not hold exactly 32 hex-encoded bytes (it is never overwritten, since that
//!   would lose every stored secret);
//! * the file is missing while the database holds credentials: they were sealed with the lost
//!   key, and a fresh key would only hide that. Restore the file (or delete the credentials).
//!
//! **Sealing.** Each sealed value is `[1] ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`:
//! a format byte, a fresh random 96-bit nonce, and the ChaCha20-Poly1305 output. The associated
//! data is the credential ID, so a sealed value copied to another row fails to open instead of
//! decrypting as that row's secrets.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::TryRngCore;
use rand::rngs::OsRng;

use crate::error::{Error, Result, StartError};

/// Name of the key file in the data directory.
pub const KEY_FILE: &str = "vault.key";

/// Length of the key in bytes.
const KEY_LEN: usize = 32;
/// Length of a nonce in bytes (96 bits).
const NONCE_LEN: usize = 12;
/// First byte of every sealed value; a later format (another cipher, key rotation) gets another.
const FORMAT_V1: u8 = 1;

/// The key that seals credential secrets. Cheap to clone; `Debug` never shows the key.
#[derive(Clone)]
pub struct VaultKey {
    cipher: Arc<ChaCha20Poly1305>,
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey([redacted])")
    }
}

impl VaultKey {
    fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Self {
            cipher: Arc::new(ChaCha20Poly1305::new(Key::from_slice(bytes))),
        }
    }

    /// A fresh random key that is never written anywhere (for unit tests).
    #[cfg(test)]
    pub(crate) fn ephemeral() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        OsRng.try_fill_bytes(&mut bytes).unwrap();
        Self::from_bytes(&bytes)
    }

    /// Encrypts `plaintext` under a fresh random nonce, bound to `aad` (the credential ID).
    pub(crate) fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.try_fill_bytes(&mut nonce).map_err(Error::internal)?;
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| Error::internal("failed to encrypt credential secrets"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts a value made by [`seal`](Self::seal) with the same `aad`. A wrong key, a
    /// wrong `aad` or a tampered value is a 500 (the request cannot be served), logged without
    /// the value.
    pub(crate) fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let fail = || {
            Error::internal(format!(
                "failed to decrypt the secrets of `{aad}`: wrong vault key or damaged value"
            ))
        };
        let (&format, rest) = sealed.split_first().ok_or_else(fail)?;
        if format != FORMAT_V1 || rest.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| fail())
    }
}

/// Loads the key in `data_dir`, creating it if absent (see the module docs for when this
/// refuses). `holds_credentials` says whether the database already stores sealed secrets.
pub(crate) fn load_or_create(
    data_dir: &Path,
    holds_credentials: bool,
) -> Result<VaultKey, StartError> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::metadata(&path) {
        Ok(_) => load(&path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if holds_credentials {
                return Err(refuse(
                    &path,
                    "the vault key file is missing but the database holds credentials sealed \
                     with it; restore the file from a backup (or delete the credentials)",
                ));
            }
            create(&path)
        }
        Err(source) => Err(StartError::Io { path, source }),
    }
}

fn refuse(path: &Path, why: &str) -> StartError {
    StartError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, why.to_owned()),
    }
}

fn load(path: &Path) -> Result<VaultKey, StartError> {
    let io = |source| StartError::Io {
        path: path.to_path_buf(),
        source,
    };
    check_mode(path)?;
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut bytes = [0u8; KEY_LEN];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
        refuse(
            path,
            "the vault key file does not hold a 256-bit key as 64 hex characters; it was \
             left as it is",
        )
    })?;
    tracing::debug!(path = %path.display(), "loaded the vault key");
    Ok(VaultKey::from_bytes(&bytes))
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| StartError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(refuse(
            path,
            &format!(
                "the vault key file has mode {:04o}, open to other users; run `chmod 600 {}`",
                mode & 0o7777,
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path) -> Result<(), StartError> {
    Ok(())
}

/// Writes a new random key with mode 0600. `create_new` makes two racing starts agree: the
/// loser fails instead of replacing the winner's key.
fn create(path: &Path) -> Result<VaultKey, StartError> {
    let io = |source| StartError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = [0u8; KEY_LEN];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| io(std::io::Error::other(e)))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    let written = (|| {
        #[cfg(unix)]
        {
            // The umask cannot widen 0600, but make the mode explicit anyway.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())?;
        file.sync_all()
    })();
    if let Err(source) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(io(source));
    }
    sync_dir(path);
    tracing::info!(path = %path.display(), "created the vault key");
    Ok(VaultKey::from_bytes(&bytes))
}

/// Makes the new directory entry durable (best effort; not possible everywhere).
fn sync_dir(path: &Path) {
    let dir: PathBuf = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_with_fresh_nonces() {
        let key = VaultKey::ephemeral();
        let a = key.seal("vcrd_1", b"hello").unwrap();
        let b = key.seal("vcrd_1", b"hello").unwrap();
        assert_ne!(a, b, "each seal uses a fresh nonce");
        assert_eq!(a.len(), 1 + NONCE_LEN + 5 + 16);
        assert!(!a.windows(5).any(|w| w == b"hello"));
        assert_eq!(key.open("vcrd_1", &a).unwrap(), b"hello");
        assert_eq!(key.open("vcrd_1", &b).unwrap(), b"hello");
    }

    #[test]
    fn wrong_aad_key_or_bytes_fail() {
        let key = VaultKey::ephemeral();
        let sealed = key.seal("vcrd_1", b"hello").unwrap();
        assert!(key.open("vcrd_2", &sealed).is_err());
        assert!(VaultKey::ephemeral().open("vcrd_1", &sealed).is_err());
        let mut tampered = sealed;
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open("vcrd_1", &tampered).is_err());
        assert!(key.open("vcrd_1", &[]).is_err());
        assert!(key.open("vcrd_1", &[2; 40]).is_err());
        let err = key.open("vcrd_1", &tampered).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn key_file_is_created_0600_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create(dir.path(), false).unwrap();
        let sealed = key.seal("vcrd_x", b"secret").unwrap();
        let text = std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        assert_eq!(text.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = load_or_create(dir.path(), true).unwrap();
        assert_eq!(again.open("vcrd_x", &sealed).unwrap(), b"secret");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap(),
            text
        );
    }

    #[cfg(unix)]
    #[test]
    fn loose_permissions_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), false).unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(dir.path(), false).unwrap_err();
        let message = format!("{:#}", anyhow_like(&err));
        assert!(message.contains("chmod 600"), "{message}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_or_create(dir.path(), false).is_ok());
    }

    #[test]
    fn a_missing_key_with_stored_credentials_or_a_bad_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_or_create(dir.path(), true).unwrap_err();
        assert!(
            anyhow_like(&err).contains("missing"),
            "{}",
            anyhow_like(&err)
        );
        assert!(!dir.path().join(KEY_FILE).exists());
        std::fs::write(dir.path().join(KEY_FILE), "not hex\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join(KEY_FILE),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        let err = load_or_create(dir.path(), false).unwrap_err();
        assert!(
            anyhow_like(&err).contains("64 hex"),
            "{}",
            anyhow_like(&err)
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap(),
            "not hex\n",
            "a bad key file is never overwritten"
        );
    }

    /// The error and its sources, joined like `anyhow`'s `{:#}`.
    fn anyhow_like(err: &dyn std::error::Error) -> String {
        let mut out = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }
}
