//! The remote's address: `s3://BUCKET/PREFIX`, and the keys under it.

use crate::layout;
use pgkit::{Error, Result};

/// A parsed `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    pub bucket: String,
    /// Without leading or trailing slashes; may be empty.
    pub prefix: String,
}

impl RemoteUrl {
    /// Parses `s3://BUCKET[/PREFIX]`; anything else is a usage error.
    pub fn parse(s: &str) -> Result<RemoteUrl> {
        let bad = |why: &str| {
            Error::usage("Invalid remote URL")
                .cause(format!("{s:?}: {why}"))
                .suggest("Use s3://BUCKET or s3://BUCKET/PREFIX (--remote, DUMP_REMOTE)")
        };
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| bad("it does not start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = bucket.len() >= 3
            && bucket.len() <= 63
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'));
        if !bucket_ok {
            return Err(bad(
                "the bucket name must be 3-63 lowercase letters, digits, '.' or '-'",
            ));
        }
        let prefix = prefix.trim_matches('/');
        let parts_ok = prefix.is_empty()
            || prefix.split('/').all(|p| {
                !p.is_empty() && p != "." && p != ".." && !p.chars().any(char::is_control)
            });
        if !parts_ok {
            return Err(bad("the prefix has an empty, '.' or '..' part"));
        }
        Ok(RemoteUrl {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// `s3://BUCKET/PREFIX` as parsed (no doubled or trailing slashes).
    pub fn display(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    /// The key of `rest` (`SOURCE/NAME...`) under the prefix.
    pub(super) fn key(&self, rest: &str) -> String {
        if self.prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// The listing prefix (with its slash) of everything, or of a source.
    pub(super) fn list_prefix(&self, source: Option<&str>) -> String {
        match source {
            Some(s) => self.key(&format!("{s}/")),
            None if self.prefix.is_empty() => String::new(),
            None => format!("{}/", self.prefix),
        }
    }

    /// The URL of one dump, as `restore` and `verify` accept it.
    pub fn dump_url(&self, source: &str, name: &str) -> String {
        format!(
            "s3://{}/{}",
            self.bucket,
            self.key(&format!("{source}/{name}"))
        )
    }
}

/// Parses `s3://BUCKET/[PREFIX/]SOURCE/NAME`: the remote, the source and
/// the dump's name (which must be of the tool's shape).
pub fn parse_dump_url(s: &str) -> Result<(RemoteUrl, String, String)> {
    let u = RemoteUrl::parse(s)?;
    let mut parts: Vec<&str> = u.prefix.split('/').collect();
    let name = parts.pop().unwrap_or_default().to_string();
    let source = parts.pop().unwrap_or_default().to_string();
    if !layout::valid_source(&source) || layout::parse_dump_name(&source, &name).is_none() {
        return Err(Error::usage("Not the URL of a dump")
            .cause(format!(
                "{s:?} does not end in SOURCE/SOURCE_YYYYMMDDTHHMMSSZ.EXT"
            ))
            .suggest("Copy a dump's URL from 'pg-dump-rotate list --remote s3://BUCKET/PREFIX'"));
    }
    Ok((
        RemoteUrl {
            bucket: u.bucket,
            prefix: parts.join("/"),
        },
        source,
        name,
    ))
}

/// The source of a bare dump name: what stands before `_STAMP.EXT`.
pub(super) fn source_of(name: &str) -> Option<String> {
    let dot = name.find('.')?;
    let stem = &name[..dot];
    let cut = stem.len().checked_sub(17)?;
    (stem.as_bytes().get(cut) == Some(&b'_')).then(|| stem[..cut].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = RemoteUrl::parse("s3://my-bucket/backups/pg/").unwrap_or_else(|_| unreachable!());
        assert_eq!(u.bucket, "my-bucket");
        assert_eq!(u.prefix, "backups/pg");
        assert_eq!(u.key("app/x"), "backups/pg/app/x");
        assert_eq!(u.list_prefix(None), "backups/pg/");
        let bare = RemoteUrl::parse("s3://bkt").unwrap_or_else(|_| unreachable!());
        assert_eq!(bare.list_prefix(None), "");
        assert_eq!(bare.key("app/x"), "app/x");
        for bad in [
            "http://b/x",
            "s3://",
            "s3://B/x",
            "s3://b/../x",
            "s3://bk/a//b",
        ] {
            assert!(RemoteUrl::parse(bad).is_err(), "{bad}");
        }
        let (u, s, n) = parse_dump_url("s3://bkt/pre/fix/app_1/app_1_20250102T030405Z.pgdump")
            .unwrap_or_else(|_| unreachable!());
        assert_eq!((u.prefix.as_str(), s.as_str()), ("pre/fix", "app_1"));
        assert_eq!(n, "app_1_20250102T030405Z.pgdump");
        assert!(parse_dump_url("s3://bkt/app/other.pgdump").is_err());
        assert!(parse_dump_url("s3://bkt/x/.._20250102T030405Z.pgdump").is_err());
        assert_eq!(
            source_of("app_1_20250102T030405Z.sql.gz").as_deref(),
            Some("app_1")
        );
    }
}
