//! Where the store is and who we are to it, resolved as the AWS CLI and
//! SDKs do, so the settings users already have work unchanged:
//!
//! - credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+
//!   `AWS_SESSION_TOKEN`), else the profile `AWS_PROFILE` (default
//!   `default`) in `AWS_SHARED_CREDENTIALS_FILE` (`~/.aws/credentials`),
//!   then in `AWS_CONFIG_FILE` (`~/.aws/config`, `[profile NAME]`);
//! - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`,
//!   else `us-east-1`;
//! - endpoint: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's
//!   `endpoint_url` (MinIO, R2, Ceph), else AWS's regional endpoint;
//! - addressing: path-style with a custom endpoint (what MinIO and Ceph
//!   expect) or a bucket name with dots (AWS's wildcard certificate does
//!   not cover `a.b.s3.amazonaws.com`), else virtual-hosted;
//!   `AWS_S3_FORCE_PATH_STYLE` decides when set.
//!
//! Every secret learned here is registered with `pgkit::redact`, so no log
//! line or error can show it.

use pgkit::{Error, Result};
use std::collections::HashMap;
use std::path::PathBuf;

/// The resolved settings.
pub struct Config {
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
    pub region: String,
    pub endpoint: String,
    /// `AWS_S3_FORCE_PATH_STYLE` when set.
    pub path_style: Option<bool>,
    /// Whether the endpoint is a custom one (not AWS's).
    pub custom_endpoint: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn home() -> Option<PathBuf> {
    env("HOME").map(PathBuf::from)
}

/// One INI section of an AWS file: `[NAME]` in credentials, `[profile
/// NAME]` (or `[default]`) in config. Missing file or section: empty.
fn ini_section(path: Option<PathBuf>, wanted: &[String]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
        return out;
    };
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            inside = wanted.contains(&name);
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.entry(k.trim().to_ascii_lowercase())
                .or_insert_with(|| v.trim().to_string());
        }
    }
    out
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl Config {
    /// Resolves the settings from the environment and the AWS files.
    pub fn resolve() -> Result<Config> {
        let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
        let creds_file = env("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".aws/credentials")));
        let config_file = env("AWS_CONFIG_FILE")
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".aws/config")));
        let creds = ini_section(creds_file, std::slice::from_ref(&profile));
        let conf_names = if profile == "default" {
            vec!["default".to_string(), "profile default".to_string()]
        } else {
            vec![format!("profile {profile}")]
        };
        let conf = ini_section(config_file, &conf_names);
        let from_files = |k: &str| creds.get(k).or_else(|| conf.get(k)).cloned();

        let (key, secret, token) = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(k), Some(s)) => (k, s, env("AWS_SESSION_TOKEN")),
            _ => match (
                from_files("aws_access_key_id"),
                from_files("aws_secret_access_key"),
            ) {
                (Some(k), Some(s)) => (k, s, from_files("aws_session_token")),
                _ => {
                    return Err(Error::config("No S3 credentials found").suggest(format!(
                        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in ~/.aws/credentials (looked for profile '{profile}')"
                    )))
                }
            },
        };
        pgkit::redact::register(&secret);
        pgkit::redact::register(&key);
        if let Some(t) = &token {
            pgkit::redact::register(t);
        }
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| conf.get("region").cloned())
            .unwrap_or_else(|| "us-east-1".into());
        let custom = env("AWS_ENDPOINT_URL_S3")
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| conf.get("endpoint_url").cloned());
        let custom_endpoint = custom.is_some();
        let endpoint = custom.unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let path_style = env("AWS_S3_FORCE_PATH_STYLE")
            .map(|v| {
                truthy(&v).ok_or_else(|| {
                    Error::config("Invalid AWS_S3_FORCE_PATH_STYLE")
                        .cause(format!("{v:?} is not a boolean"))
                        .suggest("Use true or false")
                })
            })
            .transpose()?;
        Ok(Config {
            key,
            secret,
            token,
            region,
            endpoint,
            path_style,
            custom_endpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let p = dir.path().join("config");
        std::fs::write(
            &p,
            "[default]\nregion = eu-west-1\n[profile  minio]\n# c\nregion=us-west-2\nendpoint_url = http://127.0.0.1:9000\n",
        )
        .unwrap_or_default();
        let s = ini_section(Some(p.clone()), &["profile minio".to_string()]);
        assert_eq!(s.get("region").map(String::as_str), Some("us-west-2"));
        assert_eq!(
            s.get("endpoint_url").map(String::as_str),
            Some("http://127.0.0.1:9000")
        );
        let d = ini_section(Some(p), &["default".to_string()]);
        assert_eq!(d.get("region").map(String::as_str), Some("eu-west-1"));
        assert!(ini_section(None, &["default".to_string()]).is_empty());
    }
}
