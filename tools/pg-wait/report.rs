//! What pg-wait reports: the error that ends a wait, and `--json` results.

use pgkit::conn::Settings;
use pgkit::wait::{self, Class, Failure};
use pgkit::{out, Error, Exit, Result};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// How one target ended.
pub struct Outcome {
    /// The target, redacted.
    pub target: String,
    /// Ready (attempts, duration) or the error that ended its wait.
    pub result: Result<wait::Ready>,
    /// Time until it ended.
    pub duration: Duration,
}

/// The error of a single probe (`--once`, `--healthcheck`): not ready is 2.
pub fn once_error(f: Failure, target: &str) -> Error {
    if f.class != Class::Retry {
        return f.into_error(target);
    }
    let mut e = Error::new(Exit::NotReady, "Postgres is not ready")
        .cause(&f.error)
        .field("target", target.to_string());
    if let Some(s) = &f.sqlstate {
        e = e.field("sqlstate", s.clone());
    }
    // No `note`: it explains why a wait retries, and a single probe does not.
    e.suggest(f.suggestion)
}

/// The error when some target is not ready: the first one's error, naming
/// every target that is not ready when there are several.
pub fn failure(outcomes: &[Outcome]) -> Option<Error> {
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    let first = failed.first()?;
    let mut e = first.result.as_ref().err()?.clone();
    if outcomes.len() > 1 {
        e = e
            .field(
                "notReady",
                failed.iter().map(|o| o.target.clone()).collect::<Vec<_>>(),
            )
            .field(
                "ready",
                outcomes
                    .iter()
                    .filter(|o| o.result.is_ok())
                    .map(|o| o.target.clone())
                    .collect::<Vec<_>>(),
            );
    }
    Some(e)
}

/// `--json`: one object per line and target, in the order given. No
/// password: targets are redacted, errors scrubbed.
pub fn json(targets: &[Settings], slots: &[Option<Outcome>], check: &str) -> Result<()> {
    let mut text = String::new();
    for (s, slot) in targets.iter().zip(slots) {
        let mut m = Map::new();
        m.insert("target".into(), json!(s.redacted()));
        m.insert("check".into(), json!(check));
        match slot {
            Some(o) => match &o.result {
                Ok(r) => {
                    m.insert("ready".into(), json!(true));
                    m.insert("attempts".into(), json!(r.attempts));
                    m.insert("durationMs".into(), json!(r.duration.as_millis() as u64));
                    m.insert("exitCode".into(), json!(0));
                }
                Err(e) => {
                    m.insert("ready".into(), json!(false));
                    if let Some(a) = e.fields.get("attempts") {
                        m.insert("attempts".into(), a.clone());
                    }
                    m.insert("durationMs".into(), json!(o.duration.as_millis() as u64));
                    m.insert("exitCode".into(), json!(e.code.code()));
                    m.insert("message".into(), json!(e.message));
                    if let Some(err) = &e.error {
                        m.insert("error".into(), json!(err));
                    }
                    if let Some(state) = e.fields.get("sqlstate") {
                        m.insert("sqlstate".into(), state.clone());
                    }
                }
            },
            None => {
                m.insert("ready".into(), json!(false));
                m.insert(
                    "message".into(),
                    json!("not finished: another target failed"),
                );
            }
        }
        let mut v = Value::Object(m);
        pgkit::redact::scrub_value(&mut v);
        text.push_str(&v.to_string());
        text.push('\n');
    }
    out::print(&text)
}
