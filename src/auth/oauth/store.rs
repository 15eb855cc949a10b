//! Token storage: one JSON file per address under `$XDG_DATA_HOME/mailprobe/oauth/`
//! (default `~/.local/share/mailprobe/oauth/`, XDG Base Directory spec), created mode 0600 in
//! a 0700 directory, holding the refresh token and the last access token with its expiry.
//! Nothing here prints a token; a file readable by others is refused, not used.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Largest token file read.
const MAX_FILE: u64 = 64 * 1024;

/// What is kept for one address.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    pub address: String,
    pub client_id: String,
    /// The client's secret when it has one (Google's installed-app clients): refreshing needs
    /// it again. Kept here, in the 0600 file beside the refresh token, which is the greater
    /// secret of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub token_url: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    /// Unix seconds after which the access token is considered expired.
    #[serde(default)]
    pub expires_at: Option<u64>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("address", &self.address)
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl StoredToken {
    /// The access token, when there is one that stays valid for at least `margin_s` more.
    pub fn fresh_access_token(&self, now: u64, margin_s: u64) -> Option<&str> {
        match (&self.access_token, self.expires_at) {
            (Some(t), Some(exp)) if now + margin_s < exp => Some(t),
            (Some(t), None) => Some(t),
            _ => None,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `$XDG_DATA_HOME/mailprobe/oauth` (an absolute `XDG_DATA_HOME` only, as the spec says),
/// else `$HOME/.local/share/mailprobe/oauth`.
pub fn default_dir(xdg_data_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    let base = match xdg_data_home.filter(|v| v.starts_with('/')) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(home.filter(|h| !h.is_empty())?).join(".local/share"),
    };
    Some(base.join("mailprobe").join("oauth"))
}

/// The file of `address` in `dir`: the address lower-cased, every byte outside
/// `[a-z0-9.@_-]` hex-escaped, so that no address names a path outside `dir`.
pub(crate) fn path_for(dir: &Path, address: &str) -> PathBuf {
    let mut name = String::new();
    for b in address.to_lowercase().bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'@' | b'_' | b'-')
            || (b == b'.' && !name.is_empty())
        {
            name.push(b as char);
        } else {
            name += &format!("%{b:02x}");
        }
    }
    dir.join(format!("{name}.json"))
}

/// Read the token of `address`; `Ok(None)` when there is none.
pub fn load(dir: &Path, address: &str) -> Result<Option<StoredToken>, String> {
    let path = path_for(dir, address);
    let meta = match fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} is readable by others: refusing to use it (chmod 600, or `mailprobe oauth logout` and log in again)",
            path.display()
        ));
    }
    if meta.len() > MAX_FILE {
        return Err(format!(
            "{} is larger than {MAX_FILE} bytes",
            path.display()
        ));
    }
    let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("{}: not a mailprobe token file: {e}", path.display()))
}

/// Write the token of `t.address`, replacing the old file atomically (write, then rename).
pub(crate) fn save(dir: &Path, t: &StoredToken) -> Result<PathBuf, String> {
    let err = |e: std::io::Error| format!("{}: {e}", dir.display());
    fs::create_dir_all(dir).map_err(err)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
    let path = path_for(dir, &t.address);
    let tmp = path.with_extension("json.tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    let body = serde_json::to_vec_pretty(t).map_err(|e| e.to_string())?;
    f.write_all(&body).and_then(|_| f.sync_all()).map_err(err)?;
    fs::rename(&tmp, &path).map_err(err)?;
    Ok(path)
}

/// Delete the token of `address`; `Ok(false)` when there was none. Only our own file name in
/// our own directory is ever removed.
pub fn delete(dir: &Path, address: &str) -> Result<bool, String> {
    let path = path_for(dir, address);
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> StoredToken {
        StoredToken {
            address: "Alice@Example.com".into(),
            client_id: "cid".into(),
            client_secret: Some("cs-secret".into()),
            token_url: "https://id.example/token".into(),
            scopes: vec!["s".into()],
            refresh_token: Some("rt-secret".into()),
            access_token: Some("at-secret".into()),
            expires_at: Some(1000),
        }
    }

    #[test]
    fn dirs_and_names() {
        assert_eq!(
            default_dir(Some("/x/data"), Some("/home/a")).unwrap(),
            PathBuf::from("/x/data/mailprobe/oauth")
        );
        assert_eq!(
            default_dir(Some("relative"), Some("/home/a")).unwrap(),
            PathBuf::from("/home/a/.local/share/mailprobe/oauth")
        );
        assert_eq!(default_dir(None, None), None);
        let d = Path::new("/d");
        assert_eq!(
            path_for(d, "Alice@Example.com"),
            PathBuf::from("/d/alice@example.com.json")
        );
        assert_eq!(
            path_for(d, "../../etc/passwd"),
            PathBuf::from("/d/%2e.%2f..%2fetc%2fpasswd.json")
        );
        assert_eq!(path_for(d, "a/b@c"), PathBuf::from("/d/a%2fb@c.json"));
    }

    #[test]
    fn save_load_delete_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mailprobe/oauth");
        assert_eq!(load(&dir, "alice@example.com").unwrap(), None);
        let path = save(&dir, &token()).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(load(&dir, "alice@example.com").unwrap(), Some(token()));
        assert!(!format!("{:?}", token()).contains("secret"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            load(&dir, "alice@example.com")
                .unwrap_err()
                .contains("readable by others")
        );
        assert!(delete(&dir, "alice@example.com").unwrap());
        assert!(!delete(&dir, "alice@example.com").unwrap());
    }

    #[test]
    fn freshness() {
        let t = token();
        assert_eq!(t.fresh_access_token(900, 60), Some("at-secret"));
        assert_eq!(t.fresh_access_token(950, 60), None);
        let no_expiry = StoredToken {
            expires_at: None,
            ..token()
        };
        assert_eq!(
            no_expiry.fresh_access_token(u64::MAX / 2, 60),
            Some("at-secret")
        );
    }
}
