//! `generate KEY [--length N] [--charset C] [--print] [--if-empty]`: a
//! random secret, set only when the key is absent (or empty, with
//! `--if-empty`).

use super::{check_key, modify, Ctx};
use crate::cli::{Charset, GenerateArgs};
use crate::edit::Op;
use crate::read::Order;
use pgkit::cli::Summary;
use pgkit::{out, Error, Result};

/// A random secret from the OS CSPRNG, each character drawn uniformly.
pub fn secret(length: usize, charset: Charset) -> String {
    use rand::distributions::{Distribution, Slice};
    let chars: &[u8] = match charset {
        Charset::Alnum => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        Charset::Hex => b"0123456789abcdef",
        Charset::Base64url => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    };
    match Slice::new(chars) {
        Ok(dist) => dist
            .sample_iter(rand::rngs::OsRng)
            .take(length)
            .map(|&c| c as char)
            .collect(),
        Err(_) => String::new(),
    }
}

/// Runs `generate`.
pub fn run(ctx: &Ctx, a: &GenerateArgs) -> Result<Summary> {
    let key = a.key.as_str();
    check_key(key)?;
    if !(1..=4096).contains(&a.length) {
        return Err(Error::usage("Invalid length")
            .cause(format!("{} is not from 1 to 4096", a.length))
            .suggest("Give --length from 1 to 4096 (32 alnum characters hold 190 bits)"));
    }
    let value = secret(a.length, a.charset);
    let ops = [if a.if_empty {
        Op::SetIfEmpty(key.to_string(), value.clone())
    } else {
        Op::SetIfAbsent(key.to_string(), value.clone())
    }];
    let o = modify(ctx, &ops, true)?.unwrap_or_default();
    let file = ctx.target()?.display().to_string();
    let generated = !o.added.is_empty() || !o.changed.is_empty();
    let mut empty = false;
    if generated {
        if a.print {
            out::println(&value)?;
        }
    } else {
        let values = ctx.load(Order::EnvFirst)?;
        let current = values.get(key);
        // `SECRET_KEY=` copied from an example is a placeholder, not a
        // secret: say so rather than pass an empty value off quietly.
        empty = current == Some("");
        if a.print {
            if let Some(v) = current {
                out::println(v)?;
            }
        }
    }
    let s = Summary::ok(if generated {
        "Secret generated"
    } else if empty {
        "Key is set but empty; left as it is"
    } else {
        "Key already set; left as it is"
    })
    .field("filename", file)
    .field("key", key)
    .field("generated", generated);
    Ok(if empty {
        s.level(pgkit::log::Level::Warn).field(
            "suggestion",
            "Pass --if-empty to generate a secret for an empty placeholder (KEY= from a .env.example)",
        )
    } else {
        s
    })
}
