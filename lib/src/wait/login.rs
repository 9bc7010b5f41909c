//! `--check login`, `--primary` and `--until-sql`: a real login with the
//! resolved credentials, then one query (one round trip each).

use super::failure::Failure;
use crate::conn::Settings;
use postgres::{CancelToken, SimpleQueryMessage};
use std::sync::{Arc, Mutex};

/// Where the attempt leaves its cancel token once connected, so a timeout or
/// a signal can cancel the query in flight on the server.
pub(crate) type CancelSlot = Arc<Mutex<Option<CancelToken>>>;

/// Logs in and runs the checks.
pub(crate) fn login(
    settings: &Settings,
    primary: bool,
    until_sql: Option<&str>,
    slot: &CancelSlot,
) -> Result<(), Failure> {
    let mut client = settings.connect().map_err(|e| {
        // Say where, as libpq does, for failures below the protocol.
        let network = e.sqlstate.is_none() && !e.message.starts_with("connection to ");
        let mut f = Failure::from_connect(e);
        if network {
            f.error = format!("connection to {} failed: {}", where_(settings), f.error);
        }
        f
    })?;
    if let Ok(mut s) = slot.lock() {
        *s = Some(client.cancel_token());
    }
    if primary {
        let msgs = client
            .simple_query("SELECT pg_catalog.pg_is_in_recovery()")
            .map_err(|e| Failure::from_query(&e, false))?;
        if first_values(&msgs).any(|v| v == Some("t")) {
            return Err(Failure::in_recovery());
        }
    }
    match until_sql {
        Some(sql) => {
            let msgs = client
                .simple_query(sql)
                .map_err(|e| Failure::from_query(&e, true))?;
            let rows_without_columns = msgs
                .iter()
                .any(|m| matches!(m, SimpleQueryMessage::Row(r) if r.is_empty()));
            if rows_without_columns {
                return Err(Failure::no_columns());
            }
            if !first_values(&msgs).any(truthy) {
                return Err(Failure::condition_not_met());
            }
        }
        None if !primary => {
            client
                .simple_query("SELECT 1")
                .map_err(|e| Failure::from_query(&e, false))?;
        }
        None => {}
    }
    // Dropping the client sends a Terminate: the backend exits quietly.
    Ok(())
}

/// The server a connection went to, as libpq names it: the socket file, or
/// host:port (the last host of a list, which is the last one tried).
fn where_(settings: &Settings) -> String {
    match settings.hosts.last() {
        Some(h) if h.is_socket() => format!(
            "server on socket {:?}",
            super::ping::socket_path(&h.host, h.port)
                .display()
                .to_string()
        ),
        Some(h) => format!("server at {:?}, port {}", h.host, h.port),
        None => "server".to_string(),
    }
}

/// The first column of every row the query returned.
fn first_values(msgs: &[SimpleQueryMessage]) -> impl Iterator<Item = Option<&str>> {
    msgs.iter().filter_map(|m| match m {
        // try_get: a row without columns has no first value (get would panic).
        SimpleQueryMessage::Row(r) => Some(r.try_get(0).ok().flatten()),
        _ => None,
    })
}

/// Whether a first column counts as "ready": boolean true or a non-zero number
/// (text as the simple protocol sends it). NULL, false, zero, text: not ready.
pub(crate) fn truthy(v: Option<&str>) -> bool {
    let Some(v) = v.map(str::trim) else {
        return false;
    };
    if v.eq_ignore_ascii_case("t") || v.eq_ignore_ascii_case("true") {
        return true;
    }
    v.parse::<f64>().is_ok_and(|n| n != 0.0 && !n.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthiness_of_the_first_column() {
        for v in ["t", "true", "1", "7", "-1", "0.5", "1e3"] {
            assert!(truthy(Some(v)), "{v}");
        }
        for v in ["f", "false", "0", "0.00", "", "yes", "NaN"] {
            assert!(!truthy(Some(v)), "{v}");
        }
        assert!(!truthy(None));
    }
}
