//! The S3 requests: rusty-s3 signs them (SigV4 query signing, every header
//! we send is signed too) and parses the XML answers; ureq sends them.
//! Blocking and one request at a time: an upload is bound by the network,
//! and a dump tool has no use for an async runtime.
//!
//! A signed URL carries the access key id and, with temporary credentials,
//! the session token: no URL is ever put in an error or a log line, and
//! ureq's errors (whose text starts with the URL) are reduced to their kind
//! and message. The S3 error's `<Code>` and `<Message>` are all that is
//! kept of an error answer (its `<CanonicalRequest>` would show the key id).

use super::config::Config;
use base64::Engine;
use pgkit::{Error, Exit, Result};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::time::Duration;

/// How long a signed URL stays valid: it is used at once.
const SIGNED_FOR: Duration = Duration::from_secs(3600);
/// Attempts of one request on a transport error or a 5xx answer.
const ATTEMPTS: u32 = 3;

/// An S3 request that failed.
#[derive(Debug)]
pub enum S3Error {
    /// No answer: connection refused or reset, timeout, DNS.
    Transport(String),
    /// An error answer: HTTP status, S3 code, message.
    Status(u16, String, String),
}

impl S3Error {
    /// Whether the store refused who we are (wrong or expired credentials,
    /// no permission, no such bucket): a configuration error.
    pub fn is_auth(&self) -> bool {
        matches!(self, S3Error::Status(403, _, _))
            || matches!(self, S3Error::Status(_, c, _) if matches!(c.as_str(),
                "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied"
                | "InvalidToken" | "ExpiredToken" | "NoSuchBucket" | "AuthorizationHeaderMalformed"))
    }

    /// The exit code for a failure outside `dump` (whose upload failures are
    /// all 5): refused credentials 78, an unreachable store 75, else 5.
    pub fn code(&self) -> Exit {
        match self {
            e if e.is_auth() => Exit::Config,
            S3Error::Transport(_) => Exit::TempFail,
            S3Error::Status(s, _, _) if *s >= 500 => Exit::TempFail,
            _ => Exit::Dump,
        }
    }

    /// An error for the user: what was done, what the store said, what to do.
    pub fn into_error(self, code: Exit, message: &str) -> Error {
        let suggestion = if self.is_auth() {
            "Check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE), the bucket name and AWS_REGION/AWS_ENDPOINT_URL"
        } else if matches!(self, S3Error::Transport(_)) {
            "Check that the store is reachable (AWS_ENDPOINT_URL, network), then retry"
        } else {
            "See the store's error above"
        };
        Error::new(code, message)
            .cause(pgkit::redact::scrub(&self.to_string()))
            .suggest(suggestion)
    }
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            S3Error::Transport(m) => write!(f, "the store did not answer: {m}"),
            S3Error::Status(s, c, m) if m.is_empty() => write!(f, "HTTP {s} {c}"),
            S3Error::Status(s, c, m) => write!(f, "HTTP {s} {c}: {m}"),
        }
    }
}

/// An object in a listing.
#[derive(Debug, Clone)]
pub struct Object {
    pub key: String,
    pub size: u64,
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// A multipart upload that was started and neither completed nor aborted
/// (a `dump --remote` killed mid-upload leaves one, its parts billed).
#[derive(Debug, Clone)]
pub struct Upload {
    pub key: String,
    pub id: String,
    /// When it was started, as the store says.
    pub initiated: Option<chrono::DateTime<chrono::Utc>>,
}

/// One bucket, with credentials and an HTTP agent.
pub struct Client {
    bucket: Bucket,
    creds: Credentials,
    agent: ureq::Agent,
}

/// The text of an XML element (first occurrence), unescaped for the five
/// predefined entities.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&close)? + start;
    let text = &body[start..end];
    // moto (and some proxies) wrap messages in CDATA: taken as they are.
    if let Some(raw) = text
        .strip_prefix("<![CDATA[")
        .and_then(|t| t.strip_suffix("]]>"))
    {
        return Some(raw.to_string());
    }
    Some(
        text.replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn status_error(status: u16, body: &str) -> S3Error {
    let code = xml_text(body, "Code").unwrap_or_else(|| match status {
        403 => "AccessDenied".into(),
        404 => "NotFound".into(),
        _ => "Error".into(),
    });
    let message = xml_text(body, "Message").unwrap_or_default();
    S3Error::Status(status, code, message)
}

fn b64_sha256(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(data))
}

impl Client {
    /// A client for `bucket` with the resolved settings.
    pub fn new(cfg: &Config, bucket: &str) -> Result<Client> {
        let endpoint: url::Url = cfg.endpoint.parse().map_err(|e| {
            Error::config("Invalid S3 endpoint URL")
                .cause(e)
                .field("endpoint", cfg.endpoint.clone())
                .suggest("Set AWS_ENDPOINT_URL to e.g. http://127.0.0.1:9000 or https://ACCOUNT.r2.cloudflarestorage.com")
        })?;
        let path_style = cfg
            .path_style
            .unwrap_or(cfg.custom_endpoint || bucket.contains('.'));
        let style = if path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket =
            Bucket::new(endpoint, style, bucket.to_string(), cfg.region.clone()).map_err(|e| {
                Error::config("Invalid S3 endpoint or bucket")
                    .cause(format!("{e:?}"))
                    .field("endpoint", cfg.endpoint.clone())
            })?;
        let creds = match &cfg.token {
            Some(t) => Credentials::new_with_token(cfg.key.clone(), cfg.secret.clone(), t.clone()),
            None => Credentials::new(cfg.key.clone(), cfg.secret.clone()),
        };
        let tls = native_tls::TlsConnector::new()
            .map_err(|e| Error::new(Exit::Failure, "Cannot set up TLS").cause(e))?;
        let agent = ureq::AgentBuilder::new()
            .tls_connector(std::sync::Arc::new(tls))
            .timeout_connect(Duration::from_secs(30))
            .timeout_read(Duration::from_secs(300))
            .timeout_write(Duration::from_secs(300))
            .user_agent(concat!("pg-dump-rotate/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            bucket,
            creds,
            agent,
        })
    }

    /// Sends one request, again on a transport error or a 5xx answer.
    /// `sign` makes a fresh signed URL for each attempt.
    fn send(
        &self,
        method: &str,
        sign: &dyn Fn() -> url::Url,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> std::result::Result<ureq::Response, S3Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.agent.request_url(method, &sign());
            for (k, v) in headers {
                req = req.set(k, v);
            }
            let r = match body {
                Some(b) => req.send_bytes(b),
                None => req.call(),
            };
            let err = match r {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(s, resp)) => {
                    let mut text = String::new();
                    let _ = resp.into_reader().take(64 * 1024).read_to_string(&mut text);
                    status_error(s, &text)
                }
                // Kind and message only: the error's own text starts with
                // the signed URL.
                Err(ureq::Error::Transport(t)) => S3Error::Transport(match t.message() {
                    Some(m) => format!("{}: {m}", t.kind()),
                    None => t.kind().to_string(),
                }),
            };
            let retry = match &err {
                S3Error::Transport(_) => true,
                // 501: the store does not implement the request; asking
                // again will not change that.
                S3Error::Status(s, _, _) => *s >= 500 && *s != 501,
            };
            if !retry || attempt >= ATTEMPTS || pgkit::interrupt::check().is_err() {
                return Err(err);
            }
            let pause = Duration::from_millis(250 * 4u64.pow(attempt - 1));
            if pgkit::interrupt::sleep(pause).is_err() {
                return Err(err);
            }
        }
    }

    /// PUT of a whole object from memory; the store checks its SHA-256.
    pub fn put(&self, key: &str, data: &[u8]) -> std::result::Result<(), S3Error> {
        let sum = b64_sha256(data);
        let mut a = self.bucket.put_object(Some(&self.creds), key);
        a.headers_mut().insert("x-amz-checksum-sha256", sum.clone());
        let url = || a.sign(SIGNED_FOR);
        self.send(
            "PUT",
            &url,
            &[("x-amz-checksum-sha256", sum.clone())],
            Some(data),
        )
        .map(|_| ())
    }

    /// Starts a multipart upload (parts checked by SHA-256): its upload id.
    pub fn create_multipart(&self, key: &str) -> std::result::Result<String, S3Error> {
        let mut a = self.bucket.create_multipart_upload(Some(&self.creds), key);
        a.headers_mut().insert("x-amz-checksum-algorithm", "SHA256");
        let url = || a.sign(SIGNED_FOR);
        let resp = self.send(
            "POST",
            &url,
            &[("x-amz-checksum-algorithm", "SHA256".into())],
            None,
        )?;
        let text = read_text(resp)?;
        xml_text(&text, "UploadId")
            .ok_or_else(|| S3Error::Status(200, "MalformedResponse".into(), "no UploadId".into()))
    }

    /// Uploads one part: (ETag, base64 SHA-256).
    pub fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: &[u8],
    ) -> std::result::Result<(String, String), S3Error> {
        let sum = b64_sha256(data);
        let mut a = self
            .bucket
            .upload_part(Some(&self.creds), key, number, upload_id);
        a.headers_mut().insert("x-amz-checksum-sha256", sum.clone());
        let url = || a.sign(SIGNED_FOR);
        let resp = self.send(
            "PUT",
            &url,
            &[("x-amz-checksum-sha256", sum.clone())],
            Some(data),
        )?;
        let etag = resp.header("ETag").unwrap_or_default().to_string();
        Ok((etag, sum))
    }

    /// Completes a multipart upload with each part's checksum (the body is
    /// ours: rusty-s3's carries no checksums, which S3 then refuses).
    pub fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(String, String)],
    ) -> std::result::Result<(), S3Error> {
        let a = self.bucket.complete_multipart_upload(
            Some(&self.creds),
            key,
            upload_id,
            std::iter::empty::<&str>(),
        );
        let mut body = String::from("<CompleteMultipartUpload>");
        for (i, (etag, sum)) in parts.iter().enumerate() {
            body.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag><ChecksumSHA256>{sum}</ChecksumSHA256></Part>",
                i + 1,
                etag.replace('&', "&amp;").replace('<', "&lt;")
            ));
        }
        body.push_str("</CompleteMultipartUpload>");
        let url = || a.sign(SIGNED_FOR);
        let resp = self.send("POST", &url, &[], Some(body.as_bytes()))?;
        // S3 may answer 200 and still fail the completion in the body.
        let text = read_text(resp)?;
        if text.contains("<Error>") {
            return Err(status_error(500, &text));
        }
        Ok(())
    }

    /// Aborts a multipart upload (its parts are deleted by the store).
    pub fn abort_multipart(&self, key: &str, upload_id: &str) -> std::result::Result<(), S3Error> {
        let a = self
            .bucket
            .abort_multipart_upload(Some(&self.creds), key, upload_id);
        let url = || a.sign(SIGNED_FOR);
        self.send("DELETE", &url, &[], None).map(|_| ())
    }

    /// GET of an object as a reader; None when it does not exist.
    pub fn get(
        &self,
        key: &str,
    ) -> std::result::Result<Option<Box<dyn Read + Send + Sync>>, S3Error> {
        let a = self.bucket.get_object(Some(&self.creds), key);
        let url = || a.sign(SIGNED_FOR);
        match self.send("GET", &url, &[], None) {
            Ok(r) => Ok(Some(r.into_reader())),
            Err(S3Error::Status(404, _, _)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET of a small object into memory (a sidecar, a manifest).
    pub fn get_small(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, S3Error> {
        let Some(mut r) = self.get(key)? else {
            return Ok(None);
        };
        let mut v = Vec::new();
        r.by_ref()
            .take(16 << 20)
            .read_to_end(&mut v)
            .map_err(|e| S3Error::Transport(e.to_string()))?;
        Ok(Some(v))
    }

    /// DELETE of an object (absent is fine: S3 answers 204 either way).
    pub fn delete(&self, key: &str) -> std::result::Result<(), S3Error> {
        let a = self.bucket.delete_object(Some(&self.creds), key);
        let url = || a.sign(SIGNED_FOR);
        match self.send("DELETE", &url, &[], None) {
            Ok(_) | Err(S3Error::Status(404, _, _)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// One small listing: whether we may read the bucket at all.
    pub fn probe(&self, prefix: &str) -> std::result::Result<(), S3Error> {
        let mut a = self.bucket.list_objects_v2(Some(&self.creds));
        if !prefix.is_empty() {
            a.with_prefix(prefix.to_string());
        }
        a.with_max_keys(1);
        let url = || a.sign(SIGNED_FOR);
        read_text(self.send("GET", &url, &[], None)?).map(|_| ())
    }

    /// Every object under `prefix`, in key order (all pages).
    pub fn list(&self, prefix: &str) -> std::result::Result<Vec<Object>, S3Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut a = self.bucket.list_objects_v2(Some(&self.creds));
            if !prefix.is_empty() {
                a.with_prefix(prefix.to_string());
            }
            if let Some(t) = &token {
                a.with_continuation_token(t.clone());
            }
            let url = || a.sign(SIGNED_FOR);
            let text = read_text(self.send("GET", &url, &[], None)?)?;
            let (objects, next) = parse_listing(&text);
            out.extend(objects);
            match next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Every unfinished multipart upload of the bucket (all pages), for
    /// the caller to filter: MinIO answers a `prefix` with the uploads of
    /// that exact key only (minio/minio#20989, "working as intended"), so a
    /// prefix would find nothing there. rusty-s3 has no ListMultipartUploads
    /// action; it is the same signed GET on the bucket as ListObjectsV2,
    /// with the `uploads` subresource in place of `list-type=2` (keys come
    /// URL-encoded as there).
    pub fn uploads(&self) -> std::result::Result<Vec<Upload>, S3Error> {
        let mut out = Vec::new();
        let mut marker: Option<(String, String)> = None;
        loop {
            let mut a = self.bucket.list_objects_v2(Some(&self.creds));
            let q = a.query_mut();
            q.remove("list-type");
            q.insert("uploads", "");
            if let Some((key, id)) = &marker {
                q.insert("key-marker", key.clone());
                q.insert("upload-id-marker", id.clone());
            }
            let url = || a.sign(SIGNED_FOR);
            let text = read_text(self.send("GET", &url, &[], None)?)?;
            let (uploads, next) = parse_uploads(&text);
            out.extend(uploads);
            match next {
                // A store that says "truncated" without moving on would
                // have us ask forever.
                Some(m) if Some(&m) != marker.as_ref() => marker = Some(m),
                _ => break,
            }
        }
        Ok(out)
    }

    /// When the newest part of an unfinished upload was stored (None: no
    /// part yet), from ListParts (all pages: up to 10,000 parts).
    pub fn last_part(
        &self,
        key: &str,
        upload_id: &str,
    ) -> std::result::Result<Option<chrono::DateTime<chrono::Utc>>, S3Error> {
        let mut newest = None;
        let mut marker: Option<u16> = None;
        loop {
            let mut a = self.bucket.list_parts(Some(&self.creds), key, upload_id);
            if let Some(m) = marker {
                a.set_part_number_marker(m);
            }
            let url = || a.sign(SIGNED_FOR);
            let text = read_text(self.send("GET", &url, &[], None)?)?;
            for part in blocks(&text, "Part") {
                if let Some(t) = listed_time(xml_text(part, "LastModified")) {
                    newest = Some(newest.map_or(t, |n: chrono::DateTime<chrono::Utc>| n.max(t)));
                }
            }
            let truncated = xml_text(&text, "IsTruncated").is_some_and(|t| t.trim() == "true");
            let next = xml_text(&text, "NextPartNumberMarker").and_then(|m| m.trim().parse().ok());
            match next {
                Some(m) if truncated && Some(m) != marker => marker = Some(m),
                _ => break,
            }
        }
        Ok(newest)
    }
}

/// A key from a listing, decoded when the listing is URL-encoded: form
/// encoding, as AWS and MinIO write it (a space is `+`, a plus sign %2B).
fn listed_key(key: &str, url_encoded: bool) -> String {
    if url_encoded {
        percent_encoding::percent_decode_str(&key.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    } else {
        key.to_string()
    }
}

fn listed_time(text: Option<String>) -> Option<chrono::DateTime<chrono::Utc>> {
    text.and_then(|t| chrono::DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The blocks `<tag>...</tag>` of an answer, in order.
fn blocks<'t>(text: &'t str, tag: &str) -> Vec<&'t str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut v = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let body = &rest[i + open.len()..];
        let end = body.find(&close).unwrap_or(body.len());
        v.push(&body[..end]);
        rest = &body[end..];
    }
    v
}

/// A ListMultipartUploads answer: its uploads and, when truncated, the
/// markers of the next page (NextKeyMarker is URL-encoded like the keys).
fn parse_uploads(text: &str) -> (Vec<Upload>, Option<(String, String)>) {
    let url_encoded = xml_text(text, "EncodingType").is_some_and(|e| e.trim() == "url");
    let uploads = blocks(text, "Upload")
        .into_iter()
        .filter_map(|u| {
            Some(Upload {
                key: listed_key(&xml_text(u, "Key")?, url_encoded),
                id: xml_text(u, "UploadId")?,
                initiated: listed_time(xml_text(u, "Initiated")),
            })
        })
        .collect();
    let truncated = xml_text(text, "IsTruncated").is_some_and(|t| t.trim() == "true");
    let next = if truncated {
        xml_text(text, "NextKeyMarker").map(|k| {
            (
                listed_key(&k, url_encoded),
                xml_text(text, "NextUploadIdMarker").unwrap_or_default(),
            )
        })
    } else {
        None
    };
    (uploads, next)
}

/// A ListObjectsV2 answer: its objects and the continuation token. Read
/// by element, whatever the namespace: some S3-compatible servers declare
/// another one than AWS's, which a strict parser (rusty-s3's) refuses.
/// Keys come URL-encoded (rusty-s3 asks `encoding-type=url`).
fn parse_listing(text: &str) -> (Vec<Object>, Option<String>) {
    let url_encoded = xml_text(text, "EncodingType").is_some_and(|e| e.trim() == "url");
    let objects = blocks(text, "Contents")
        .into_iter()
        .filter_map(|c| {
            Some(Object {
                key: listed_key(&xml_text(c, "Key")?, url_encoded),
                size: xml_text(c, "Size")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0),
                modified: listed_time(xml_text(c, "LastModified")).unwrap_or_else(chrono::Utc::now),
            })
        })
        .collect();
    let truncated = xml_text(text, "IsTruncated").is_some_and(|t| t.trim() == "true");
    let next = if truncated {
        xml_text(text, "NextContinuationToken")
    } else {
        None
    };
    (objects, next)
}

fn read_text(resp: ureq::Response) -> std::result::Result<String, S3Error> {
    let mut text = String::new();
    resp.into_reader()
        .take(64 << 20)
        .read_to_string(&mut text)
        .map_err(|e| S3Error::Transport(e.to_string()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_checksums() {
        let body = "<Error><Code>SignatureDoesNotMatch</Code><Message>a &amp; b</Message><CanonicalRequest>X-Amz-Credential=AKID</CanonicalRequest></Error>";
        let e = status_error(403, body);
        assert!(e.is_auth());
        assert_eq!(e.code(), Exit::Config);
        let text = e.to_string();
        assert!(text.contains("SignatureDoesNotMatch: a & b"), "{text}");
        assert!(!text.contains("AKID"));
        assert_eq!(
            S3Error::Transport("x".into()).code(),
            Exit::TempFail,
            "unreachable"
        );
        let (objects, next) = parse_listing(
            "<ListBucketResult xmlns=\"x\"><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><Contents><Key>nightly+backups/a%26b%2B</Key><LastModified>2025-01-02T03:04:05.000Z</LastModified><Size>12</Size></Contents><Contents><Key>c</Key><Size>1</Size></Contents><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>",
        );
        assert_eq!(objects.len(), 2);
        assert_eq!(
            (objects[0].key.as_str(), objects[0].size),
            ("nightly backups/a&b+", 12)
        );
        assert_eq!(next.as_deref(), Some("tok"));
        // ListMultipartUploads, as AWS writes it (URL-encoded keys and
        // next key marker), and a CDATA message as moto writes it.
        let (uploads, next) = parse_uploads(
            "<ListMultipartUploadsResult><Bucket>b</Bucket><KeyMarker></KeyMarker><EncodingType>url</EncodingType><NextKeyMarker>p/app/a+b%2B.pgdump</NextKeyMarker><NextUploadIdMarker>id2</NextUploadIdMarker><IsTruncated>true</IsTruncated><Upload><Key>p/app/x.pgdump</Key><UploadId>id1</UploadId><Owner><ID>o</ID></Owner><Initiated>2025-01-02T03:04:05.000Z</Initiated></Upload><Upload><Key>p/app/a+b%2B.pgdump</Key><UploadId>id2</UploadId></Upload></ListMultipartUploadsResult>",
        );
        assert_eq!(uploads.len(), 2);
        assert_eq!(
            (uploads[0].key.as_str(), uploads[0].id.as_str()),
            ("p/app/x.pgdump", "id1")
        );
        assert_eq!(
            uploads[0].initiated.map(|t| t.to_rfc3339()).as_deref(),
            Some("2025-01-02T03:04:05+00:00")
        );
        assert_eq!(
            (uploads[1].key.as_str(), uploads[1].initiated),
            ("p/app/a b+.pgdump", None)
        );
        assert_eq!(next, Some(("p/app/a b+.pgdump".into(), "id2".into())));
        let (_, next) =
            parse_uploads("<IsTruncated>false</IsTruncated><NextKeyMarker>k</NextKeyMarker>");
        assert_eq!(next, None);
        assert_eq!(
            status_error(
                400,
                "<Error><Code>EntityTooSmall</Code><Message><![CDATA[a < b]]></Message></Error>"
            )
            .to_string(),
            "HTTP 400 EntityTooSmall: a < b"
        );
        assert_eq!(
            b64_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
