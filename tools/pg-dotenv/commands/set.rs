//! `set KEY VALUE | KEY=VALUE | KEY +DEFAULT …` and `set --stdin KEY`.

use super::{check_key, dedup, modify, utf8_arg, Ctx};
use crate::cli::SetArgs;
use crate::edit::Op;
use crate::parse::valid_key;
use pgkit::cli::Summary;
use pgkit::{Error, Exit, Result};
use std::ffi::OsString;

/// Turns `set`'s arguments into changes: `KEY VALUE`, `KEY=VALUE`, and a
/// value `+DEFAULT` for set-if-absent (`++X` is the literal `+X`).
pub fn parse_pairs(args: &[OsString]) -> Result<Vec<Op>> {
    let mut ops = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = utf8_arg(a, "argument")?;
        let (key, value) = match a.split_once('=') {
            Some((k, v)) if valid_key(k) => (k.to_string(), v.to_string()),
            _ => {
                check_key(&a)?;
                let v = it.next().ok_or_else(|| {
                    Error::usage("Missing value")
                        .cause(format!("no value given for {a}"))
                        .suggest(format!(
                            "Write 'set {a} VALUE', 'set {a}=VALUE', or 'set {a} +DEFAULT' to set it only when absent"
                        ))
                })?;
                (a.clone(), utf8_arg(v, "value")?)
            }
        };
        let op = if let Some(rest) = value.strip_prefix("++") {
            Op::Set(key, format!("+{rest}"))
        } else if let Some(rest) = value.strip_prefix('+') {
            Op::SetIfAbsent(key, rest.to_string())
        } else {
            Op::Set(key, value)
        };
        ops.push(op);
    }
    Ok(ops)
}

/// The value piped to `set --stdin`: UTF-8 (else 65), one trailing newline
/// (LF or CRLF) dropped, as `echo` adds one.
fn read_stdin_value() -> Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Error::new(Exit::Failure, "Cannot read stdin").cause(e))?;
    let mut v = String::from_utf8(bytes).map_err(|_| {
        Error::new(Exit::DataErr, "Cannot write the value")
            .cause("stdin is not valid UTF-8")
            .suggest(".env files hold UTF-8 text without NUL bytes: convert or remove the offending bytes")
    })?;
    if v.ends_with('\n') {
        v.pop();
        if v.ends_with('\r') {
            v.pop();
        }
    }
    Ok(v)
}

/// Runs `set`.
pub fn run(ctx: &Ctx, a: &SetArgs) -> Result<Summary> {
    let args = &a.pairs;
    let ops = if a.stdin {
        let [key] = args.as_slice() else {
            return Err(Error::usage("--stdin sets one key")
                .cause(format!("{} arguments given", args.len()))
                .suggest("printf %s \"$SECRET\" | pg-dotenv set --stdin KEY"));
        };
        let key = utf8_arg(key, "key")?;
        check_key(&key)?;
        vec![Op::Set(key, read_stdin_value()?)]
    } else {
        parse_pairs(args)?
    };
    // `--if-empty`: `+DEFAULT` also fills a key that is present but empty.
    let ops: Vec<Op> = ops
        .into_iter()
        .map(|op| match op {
            Op::SetIfAbsent(k, v) if a.if_empty => Op::SetIfEmpty(k, v),
            other => other,
        })
        .collect();
    for op in &ops {
        if let Op::Set(_, v) | Op::SetIfAbsent(_, v) | Op::SetIfEmpty(_, v) = op {
            if v.contains('\0') {
                return Err(Error::new(Exit::DataErr, "Cannot write the value")
                    .cause("it contains a NUL byte, which no .env reader can represent")
                    .suggest(".env files hold UTF-8 text without NUL bytes: convert or remove the offending bytes")
                    .field("key", op.key()));
            }
        }
    }
    let o = modify(ctx, &ops, true)?.unwrap_or_default();
    Ok(Summary::ok(if o.changed.is_empty() && o.added.is_empty() {
        "Nothing to change"
    } else {
        "Keys set"
    })
    .field("filename", ctx.target()?.display().to_string())
    .field("changed", dedup(o.changed))
    .field("added", dedup(o.added))
    .field("unchanged", dedup(o.unchanged)))
}
