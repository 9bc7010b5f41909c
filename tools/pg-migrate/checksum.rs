//! Migration checksums: SHA-256 (hex) of the file with a UTF-8 BOM removed
//! and CRLF normalised to LF, so a Windows checkout never breaks them.

use sha2::{Digest, Sha256};

/// The checksum of a file's bytes.
pub fn of(bytes: &[u8]) -> String {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut h = Sha256::new();
    let mut rest = body;
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        h.update(&rest[..i]);
        h.update(b"\n");
        rest = &rest[i + 2..];
    }
    h.update(rest);
    hex(&h.finalize())
}

/// The plain SHA-256 of the bytes as they are (what other runners, such as
/// the provisioning runbook's, stored): accepted as a match too.
pub fn raw(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_bom_do_not_change_it() {
        let lf = of(b"CREATE TABLE a (id int);\nSELECT 1;\n");
        assert_eq!(of(b"CREATE TABLE a (id int);\r\nSELECT 1;\r\n"), lf);
        assert_eq!(
            of(b"\xEF\xBB\xBFCREATE TABLE a (id int);\r\nSELECT 1;\n"),
            lf
        );
        assert_ne!(of(b"CREATE TABLE b (id int);\nSELECT 1;\n"), lf);
        assert_eq!(
            of(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(raw(b""), of(b""));
    }
}
