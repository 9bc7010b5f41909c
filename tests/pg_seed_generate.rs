//! pg-seed generate against the throwaway server: determinism, type
//! coverage, uniqueness, foreign keys, CHECK constraints, edge cases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::Value;

fn generate(db: &str, args: &[&str]) -> assert_cmd::Command {
    let mut c = cmd("pg-seed");
    c.env("DATABASE_URL", url(db)).arg("generate").args(args);
    c
}

fn run(c: &mut assert_cmd::Command, code: i32) -> Vec<Value> {
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "generate prints nothing on stdout");
    let lines = json_lines(&out.stderr);
    let last = lines.last().unwrap();
    assert_eq!(last["exitCode"], code);
    lines
}

fn checksum(db: &str, table: &str) -> String {
    query_value(
        db,
        &format!(
            "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t"
        ),
    )
}

const ALL_TYPES: &str = "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s complicated');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE every (
  id serial PRIMARY KEY,
  i2 int2, i4 int4 NOT NULL, i8 int8,
  n numeric(5,2) NOT NULL, nn numeric, f4 float4, f8 float8,
  t text NOT NULL, v varchar(5) NOT NULL, c char(3),
  b bool, d date, ts timestamp, tz timestamptz,
  u uuid, j json, jb jsonb,
  e mood NOT NULL, ia int4[], ta text[] NOT NULL, ea mood[], va varchar(5)[],
  dom posint NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);";

#[test]
fn same_seed_same_rows_in_two_databases() {
    let (a, b, c) = (
        fresh_db("gen_det"),
        fresh_db("gen_det"),
        fresh_db("gen_det"),
    );
    for db in [&a, &b, &c] {
        server().execute(db, ALL_TYPES).unwrap();
    }
    let cols = "i2,i4,i8,n,nn,f4,f8,t,v,c,b,d,ts,tz,u,j,jb,e,ia,ta,ea,va,dom";
    for db in [&a, &b] {
        let lines = run(
            &mut generate(db, &["--table", "every", "--rows", "700", "--seed", "42"]),
            0,
        );
        let last = lines.last().unwrap();
        assert_eq!(last["message"], "Rows generated");
        assert_eq!(last["rows"], 700);
        assert_eq!(last["seed"], 42);
    }
    let view = |db: &str| checksum(db, &format!("(SELECT {cols} FROM every) "));
    assert_eq!(view(&a), view(&b));
    run(
        &mut generate(&c, &["--table", "every", "--rows", "700", "--seed", "43"]),
        0,
    );
    assert_ne!(view(&a), view(&c));

    // Without --seed, the random seed is logged and reproduces the run.
    let (d, e) = (fresh_db("gen_det"), fresh_db("gen_det"));
    server().execute(&d, ALL_TYPES).unwrap();
    server().execute(&e, ALL_TYPES).unwrap();
    let lines = run(&mut generate(&d, &["--table", "every", "--rows", "50"]), 0);
    let seed = lines
        .iter()
        .find(|l| l["message"] == "Random seed chosen; pass --seed to reproduce this run")
        .unwrap()["seed"]
        .as_u64()
        .unwrap();
    assert_eq!(lines.last().unwrap()["seed"], seed);
    run(
        &mut generate(
            &e,
            &[
                "--table",
                "every",
                "--rows",
                "50",
                "--seed",
                &seed.to_string(),
            ],
        ),
        0,
    );
    assert_eq!(view(&d), view(&e));
}

#[test]
fn every_listed_type_is_covered() {
    let db = fresh_db("gen_types");
    server().execute(&db, ALL_TYPES).unwrap();
    run(
        &mut generate(
            &db,
            &["--table", "public.every", "--rows", "500", "--seed", "7"],
        ),
        0,
    );
    let mut c = server().client(&db).unwrap();
    let r = c
        .query_one(
            "SELECT count(*), count(DISTINCT id), max(char_length(v)), max(abs(n)), min(dom),
                    count(e), count(DISTINCT e), count(ia), count(ta), count(u), count(jb), count(j),
                    count(*) FILTER (WHERE created IS NULL), max(char_length(c)), count(DISTINCT b),
                    count(*) FILTER (WHERE jb ? 'id'), min(d), max(d), count(ea), count(va),
                    max((SELECT max(char_length(x)) FROM unnest(va) x)), count(i2), count(nn)
             FROM every",
            &[],
        )
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), 500);
    assert_eq!(r.get::<_, i64>(1), 500, "serial ids left to the database");
    assert!(r.get::<_, i32>(2) <= 5, "varchar(5)");
    let maxn: f64 = c
        .query_one("SELECT max(abs(n))::float8 FROM every", &[])
        .unwrap()
        .get(0);
    assert!(maxn < 1000.0, "numeric(5,2)");
    assert!(r.get::<_, i32>(4) > 0, "domain CHECK (VALUE > 0)");
    assert_eq!(r.get::<_, i64>(5), 500, "NOT NULL enum");
    assert!(r.get::<_, i64>(6) >= 3, "enum labels used");
    for k in [7, 9, 10, 11, 18, 19, 21, 22] {
        assert!(r.get::<_, i64>(k) > 300, "column {k} mostly filled");
    }
    assert_eq!(r.get::<_, i64>(8), 500, "NOT NULL text[]");
    assert_eq!(r.get::<_, i64>(12), 0, "defaults applied");
    assert_eq!(r.get::<_, i32>(13), 3, "char(3) padded");
    assert_eq!(r.get::<_, i64>(14), 2);
    assert_eq!(r.get::<_, i64>(15), r.get::<_, i64>(10), "jsonb objects");
    assert!(
        r.get::<_, Option<i32>>(20).unwrap_or(0) <= 5,
        "varchar(5)[] elements"
    );
    // The enum label with a quote survives COPY.
    let n: i64 = query_value(
        &db,
        "SELECT count(*) FROM every WHERE e = 'it''s complicated'",
    );
    assert!(n > 0);
}

#[test]
fn unique_and_primary_keys_never_collide() {
    let db = fresh_db("gen_unique");
    server()
        .execute(
            &db,
            "CREATE TABLE u (
               id int PRIMARY KEY, code varchar(8) UNIQUE NOT NULL, token uuid UNIQUE,
               day date UNIQUE, a int, b text, amount numeric(8,2) UNIQUE, UNIQUE (a, b))",
        )
        .unwrap();
    run(
        &mut generate(&db, &["--table", "u", "--rows", "3000", "--seed", "1"]),
        0,
    );
    // A second run with the same seed appends, still without collisions.
    run(
        &mut generate(&db, &["--table", "u", "--rows", "1000", "--seed", "1"]),
        0,
    );
    let r = server()
        .client(&db)
        .unwrap()
        .query_one(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT code), count(DISTINCT token),
                    count(DISTINCT day), count(DISTINCT (a, b)), count(DISTINCT amount) FROM u",
            &[],
        )
        .unwrap();
    for k in 0..7 {
        assert_eq!(r.get::<_, i64>(k), 4000, "column {k}");
    }
    // Too many rows for the type: a clear error, nothing written.
    server()
        .execute(&db, "CREATE TABLE flags (f bool PRIMARY KEY)")
        .unwrap();
    let lines = run(&mut generate(&db, &["--table", "flags", "--rows", "3"]), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Cannot generate enough distinct values");
    assert_eq!(last["column"], "f");
    assert!(last["suggestion"].is_string());
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM flags"), 0);
}

#[test]
fn foreign_keys_sample_parents_or_generate_them() {
    let db = fresh_db("gen_fk");
    server()
        .execute(
            &db,
            "CREATE TABLE org (id serial PRIMARY KEY, name text NOT NULL);
             CREATE TABLE team (id int PRIMARY KEY, org_id int NOT NULL REFERENCES org, name text);
             CREATE TABLE member (id bigserial PRIMARY KEY, team_id int NOT NULL REFERENCES team,
                                  mentor_id bigint REFERENCES member, email text UNIQUE);",
        )
        .unwrap();
    // Empty parent without --with-parents: a clear error.
    let lines = run(
        &mut generate(&db, &["--table", "member", "--rows", "10"]),
        4,
    );
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Parent table is empty");
    assert!(last["suggestion"]
        .as_str()
        .unwrap()
        .contains("--with-parents"));
    // --with-parents fills org, then team, then member.
    let lines = run(
        &mut generate(
            &db,
            &[
                "--table",
                "member",
                "--rows",
                "200",
                "--seed",
                "5",
                "--with-parents",
            ],
        ),
        0,
    );
    let last = lines.last().unwrap();
    assert_eq!(
        last["parentTables"],
        serde_json::json!(["public.org", "public.team"])
    );
    assert_eq!(last["parentRows"], 20);
    let filled: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "Table filled")
        .map(|l| l["table"].as_str().unwrap())
        .collect();
    assert_eq!(filled, ["public.org", "public.team", "public.member"]);
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM org"), 20);
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM team"), 20);
    assert_eq!(
        query_value::<i64>(
            &db,
            "SELECT count(*) FROM member m JOIN team t ON t.id = m.team_id"
        ),
        200
    );
    // Existing parents are sampled, not extended.
    run(&mut generate(&db, &["--table", "team", "--rows", "0"]), 0);
    server()
        .execute(&db, "INSERT INTO org (name) VALUES ('x')")
        .unwrap();
    let before: i64 = query_value(&db, "SELECT count(*) FROM org");
    server()
        .execute(
            &db,
            "CREATE TABLE proj (id int, org_id int NOT NULL REFERENCES org)",
        )
        .unwrap();
    run(
        &mut generate(&db, &["--table", "proj", "--rows", "500", "--seed", "3"]),
        0,
    );
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM org"), before);
    assert_eq!(
        query_value::<i64>(
            &db,
            "SELECT count(*) FROM proj p JOIN org o ON o.id = p.org_id"
        ),
        500
    );
    assert!(query_value::<i64>(&db, "SELECT count(DISTINCT org_id) FROM proj") > 10);
}

#[test]
fn check_constraints_are_honoured() {
    let db = fresh_db("gen_check");
    server()
        .execute(
            &db,
            "CREATE TABLE c (
               qty int NOT NULL CHECK (qty BETWEEN 1 AND 5),
               price numeric(6,2) NOT NULL CHECK (price > 0),
               small int2 CHECK (small < -100),
               score float8 CHECK (score >= 0.5 AND score <= 0.75),
               status text NOT NULL CHECK (status IN ('new', 'open', 'done')),
               kind varchar(10) CHECK (kind IN ('a', 'b')),
               lvl int CHECK (lvl = ANY (ARRAY[10, 20, 30])),
               ok_from int NOT NULL CHECK (ok_from >= 1000))",
        )
        .unwrap();
    run(
        &mut generate(&db, &["--table", "c", "--rows", "2000", "--seed", "9"]),
        0,
    );
    let r = server()
        .client(&db)
        .unwrap()
        .query_one(
            "SELECT count(DISTINCT qty), count(DISTINCT status), count(DISTINCT kind),
                    count(DISTINCT lvl), min(ok_from), max(small)::int4
             FROM c",
            &[],
        )
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), 5);
    assert_eq!(r.get::<_, i64>(1), 3);
    assert_eq!(r.get::<_, i64>(2), 2);
    assert_eq!(r.get::<_, i64>(3), 3);
    assert!(r.get::<_, i32>(4) >= 1000);
    assert!(r.get::<_, i32>(5) < -100);
}

#[test]
fn zero_rows_missing_table_columns_and_unsupported() {
    let db = fresh_db("gen_edge");
    server()
        .execute(
            &db,
            "CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL, addr jsonpath)",
        )
        .unwrap();
    let lines = run(&mut generate(&db, &["--table", "t", "--rows", "0"]), 0);
    assert_eq!(lines.last().unwrap()["rows"], 0);
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM t"), 0);

    // SKIP_SEED holds for synthetic rows too (and an invalid one is 78).
    let lines = run(
        generate(&db, &["--table", "t", "--rows", "5"]).env("SKIP_SEED", "yes"),
        0,
    );
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["message"], "Seeding skipped");
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM t"), 0);
    run(
        generate(&db, &["--table", "t", "--rows", "5"]).env("SKIP_SEED", "maybe"),
        78,
    );
    assert_eq!(query_value::<i64>(&db, "SELECT count(*) FROM t"), 0);

    let lines = run(&mut generate(&db, &["--table", "nope", "--rows", "5"]), 4);
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "Table does not exist", "{last}");
    assert_eq!(last["table"], "nope");
    assert!(last["suggestion"].is_string());
    run(
        &mut generate(&db, &["--table", "a.b.c.d", "--rows", "5"]),
        4,
    );

    // --columns names the serial column too; others get defaults or NULL.
    let lines = run(
        &mut generate(
            &db,
            &[
                "--table",
                "t",
                "--rows",
                "10",
                "--seed",
                "1",
                "--columns",
                "id,name",
            ],
        ),
        0,
    );
    assert_eq!(lines.last().unwrap()["rows"], 10);
    assert_eq!(
        query_value::<i64>(&db, "SELECT count(*) FROM t WHERE id BETWEEN 1 AND 10"),
        10
    );
    // The serial sequence moved past the explicit ids: defaults go on from 11.
    run(&mut generate(&db, &["--table", "t", "--rows", "3"]), 0);
    assert_eq!(query_value::<i32>(&db, "SELECT max(id) FROM t"), 13);
    let lines = run(
        &mut generate(&db, &["--table", "t", "--rows", "1", "--columns", "nosuch"]),
        4,
    );
    assert_eq!(lines.last().unwrap()["message"], "Unknown column");
    // An unsupported nullable type is left NULL with a warning.
    let lines = run(
        &mut generate(
            &db,
            &["--table", "t", "--rows", "5", "--columns", "name,addr"],
        ),
        0,
    );
    assert!(has_message(
        &lines,
        "Column type not supported; the column is left NULL"
    ));
    // An unreachable server is 2.
    let out = cmd("pg-seed")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .args(["generate", "--table", "t", "--rows", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(last_line(&out.stderr)["exitCode"], 2);
}
