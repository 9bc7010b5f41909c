//! Rows for a partitioned table without a DEFAULT partition must land in a
//! partition that exists. For a single-column RANGE or LIST key, each
//! candidate row gets a key value inside one child's bound (children taken
//! in turn, so every partition gets rows): a random point of a range where
//! the key's type allows arithmetic (numbers, dates, timestamps), else the
//! range's lower bound; one of the listed values for LIST.

use crate::introspect::Table;
use pgkit::Result;
use postgres::Transaction;

/// Splits a bound's value list at top-level commas (quotes respected).
fn split_values(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut depth) = (Vec::new(), String::new(), false, 0i32);
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The text inside the parentheses that follow `keyword`.
fn after<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let i = s.find(keyword)? + keyword.len();
    let rest = s[i..].trim_start().strip_prefix('(')?;
    let (mut depth, mut quoted) = (1i32, false);
    for (k, c) in rest.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(&rest[..k]);
                }
            }
            _ => {}
        }
    }
    None
}

/// An SQL expression (over the staging row's `ord`, text-valued) for the
/// key of rows routed to one child, or None when the bound is not usable.
fn child_expr(bound: &str, ty: &str, category: &str, typname: &str) -> Option<String> {
    if let Some(list) = after(bound, "IN") {
        let items = split_values(list);
        if items.is_empty() {
            return None;
        }
        let texts: Vec<String> = items.iter().map(|v| format!("({v})::text")).collect();
        return Some(format!(
            "(ARRAY[{}])[1 + floor(random() * {})::int]",
            texts.join(", "),
            items.len()
        ));
    }
    let lo = split_values(after(bound, "FROM")?);
    let hi = split_values(after(bound, "TO")?);
    let (lo, hi) = (lo.first()?.clone(), hi.first()?.clone());
    let open = |v: &str| v == "MINVALUE" || v == "MAXVALUE";
    match (open(&lo), open(&hi), category, typname) {
        (false, false, "N", _) => Some(format!(
            "(({lo})::{ty} + floor(random() * ((({hi})::{ty} - ({lo})::{ty})::float8)))::{ty}::text"
        )),
        (false, false, "D", "date") => Some(format!(
            "(({lo})::date + floor(random() * (({hi})::date - ({lo})::date))::int)::text"
        )),
        (false, false, "D", _) => Some(format!(
            "date_trunc('second', ({lo})::{ty} + random() * (({hi})::{ty} - ({lo})::{ty}))::{ty}::text"
        )),
        (false, _, _, _) => Some(format!("(({lo})::{ty})::text")),
        (true, false, "N", _) => Some(format!(
            "(({hi})::{ty} - 1 - floor(random() * 1000))::{ty}::text"
        )),
        (true, false, "D", "date") => Some(format!(
            "(({hi})::date - 1 - floor(random() * 365)::int)::text"
        )),
        (true, false, "D", _) => Some(format!(
            "(({hi})::{ty} - interval '1 second' - random() * interval '365 days')::text"
        )),
        _ => None,
    }
}

/// The `UPDATE` that routes staged rows (`pg_temp.pg_seed_stage`, key in
/// column `c{pos}`) into the children, or None when no routing is needed
/// or possible (a DEFAULT or HASH partition, an expression key).
pub fn routing(
    tx: &mut Transaction<'_>,
    table: &Table,
    key_pos: Option<usize>,
) -> Result<Option<String>> {
    let Some(p) = &table.partitioning else {
        return Ok(None);
    };
    let (Some(key), Some(pos)) = (p.key, key_pos) else {
        return Ok(None);
    };
    if p.strategy == 'h' || p.bounds.iter().any(|b| b == "DEFAULT") {
        return Ok(None);
    }
    let r = tx
        .query_one(
            "SELECT format_type(a.atttypid, a.atttypmod), t.typcategory::text, t.typname::text
             FROM pg_attribute a JOIN pg_type t ON t.oid = coalesce(nullif(
               (SELECT typbasetype FROM pg_type WHERE oid = a.atttypid), 0), a.atttypid)
             WHERE a.attrelid = $1 AND a.attnum = $2",
            &[&table.oid, &key],
        )
        .map_err(|e| crate::sql::db_err("Cannot read the partition key's type", &e))?;
    let (ty, category, typname): (String, String, String) = (r.get(0), r.get(1), r.get(2));
    let exprs: Vec<String> = p
        .bounds
        .iter()
        .filter_map(|b| child_expr(b, &ty, &category, &typname))
        .collect();
    if exprs.is_empty() {
        return Ok(None);
    }
    let arms: Vec<String> = exprs
        .iter()
        .enumerate()
        .map(|(k, e)| format!("WHEN {k} THEN {e}"))
        .collect();
    Ok(Some(format!(
        "UPDATE pg_temp.pg_seed_stage SET c{pos} = CASE ord % {} {} END",
        exprs.len(),
        arms.join(" ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        let r = child_expr(
            "FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00')",
            "timestamp with time zone",
            "D",
            "timestamptz",
        );
        assert!(r.is_some_and(|e| e.contains("random()")));
        let l = child_expr("FOR VALUES IN ('a', 'b,c')", "text", "S", "text").unwrap_or_default();
        assert!(l.contains("('b,c')::text") && l.contains("* 2"), "{l}");
        let m = child_expr("FOR VALUES FROM (MINVALUE) TO (10)", "integer", "N", "int4");
        assert!(m.is_some());
        assert!(child_expr(
            "FOR VALUES FROM (MINVALUE) TO (MAXVALUE)",
            "integer",
            "N",
            "int4"
        )
        .is_none());
    }
}
