//! What `pg-seed generate` needs to know about a table, from pg_catalog:
//! columns with their resolved types (domains to their base, typmods, enum
//! labels, arrays), NOT NULL, defaults and identity, unique indexes, CHECK
//! constraints and foreign keys. A handful of queries per table, never per row.

use pgkit::{Error, Exit, Result};
use postgres::types::Oid;
use postgres::GenericClient;

/// A scalar type we can generate values for.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Int2,
    Int4,
    Int8,
    /// numeric(precision, scale); no typmod: None.
    Numeric(Option<(u32, u32)>),
    Float4,
    Float8,
    /// text, or varchar(n) with its length limit.
    Text(Option<usize>),
    /// char(n).
    Char(usize),
    Bool,
    Date,
    Timestamp,
    Timestamptz,
    Time,
    Uuid,
    Json,
    Jsonb,
    Bytea,
    /// An enum, by its labels in sort order.
    Enum(Vec<String>),
    /// timetz.
    Timetz,
    Interval,
    Money,
    Inet,
    Cidr,
    Macaddr,
    Macaddr8,
    /// oid and the other 32-bit unsigned identifiers.
    Oid,
    /// name (63 bytes at most).
    Name,
    /// "char" (one byte).
    CharByte,
    Tsvector,
    Tsquery,
    Xml,
    Point,
    Line,
    Lseg,
    Box,
    Path,
    Polygon,
    Circle,
    /// bit(n).
    Bit(usize),
    /// bit varying(n); no limit: None.
    Varbit(Option<usize>),
    PgLsn,
    /// The ltree extension's label paths.
    Ltree,
    /// The hstore extension's key/value sets.
    Hstore,
    /// A range type, by its subtype; `true` for the multirange.
    Range(RangeKind, bool),
    /// A composite type, by its fields' types.
    Composite(Vec<Ty>),
}

/// The subtype of a range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeKind {
    Int4,
    Int8,
    Num,
    Date,
    Ts,
    Tstz,
}

/// A column type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Scalar(Scalar),
    Array(Scalar),
    /// A type we do not generate; its name.
    Unsupported(String),
}

/// A column.
#[derive(Debug, Clone)]
pub struct Column {
    pub attnum: i16,
    pub name: String,
    pub ty: Ty,
    pub not_null: bool,
    pub has_default: bool,
    /// The default's expression, when there is one.
    pub default_expr: Option<String>,
    pub identity: bool,
    /// GENERATED ALWAYS AS IDENTITY.
    pub identity_always: bool,
    pub generated: bool,
    /// CHECK constraints of the column's domains (`VALUE > 0`).
    pub domain_checks: Vec<String>,
}

/// A CHECK constraint.
#[derive(Debug, Clone)]
pub struct CheckDef {
    pub name: String,
    pub attnums: Vec<i16>,
    pub def: String,
}

/// A foreign key.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    pub cols: Vec<i16>,
    pub parent: Oid,
    pub parent_cols: Vec<String>,
    /// DEFERRABLE (checked at commit once deferred).
    pub deferrable: bool,
}

/// A partitioned table's single-column key and its children's bounds.
#[derive(Debug, Clone)]
pub struct Partitioning {
    /// The key column; None for an expression or multi-column key.
    pub key: Option<i16>,
    /// `r` range, `l` list, `h` hash.
    pub strategy: char,
    /// Each child partition's bound, as pg_get_expr prints it.
    pub bounds: Vec<String>,
}

/// A table's shape.
#[derive(Debug, Clone)]
pub struct Table {
    pub oid: Oid,
    /// `"schema"."name"`.
    pub sql: String,
    /// `schema.name`.
    pub display: String,
    pub columns: Vec<Column>,
    /// Unique indexes (primary key included), as attnums, sorted.
    pub uniques: Vec<Vec<i16>>,
    pub checks: Vec<CheckDef>,
    pub fks: Vec<ForeignKey>,
    /// Partial and expression unique indexes, and exclusion constraints,
    /// by name: honoured by checking candidate rows on the server.
    pub other_uniques: Vec<String>,
    /// Set for a partitioned table.
    pub partitioning: Option<Partitioning>,
    /// Whether the table is itself a partition (its bound limits rows).
    pub is_partition: bool,
    /// Columns that a BEFORE INSERT row trigger sets (named in its
    /// function's body as `NEW.col` or among its arguments).
    pub trigger_cols: Vec<i16>,
}

fn db(e: postgres::Error) -> Error {
    crate::sql::with_db_error(
        Error::new(Exit::Seed, "Cannot read the table's definition"),
        &e,
    )
}

/// The table's oid, by a name as written in SQL (search_path, case folding);
/// a relation that is not a table (a view, a sequence) is an error.
pub fn find(c: &mut impl GenericClient, name: &str) -> Result<Option<Oid>> {
    let row = c
        .query_opt(
            "SELECT c.oid, c.relkind::text FROM pg_class c WHERE c.oid = to_regclass($1::text)",
            &[&name],
        )
        .or_else(|e| match e.as_db_error().map(|d| d.code().code()) {
            // An impossible name (a.b.c.d) is "not found", not a crash.
            Some("42601") | Some("42602") | Some("3F000") | Some("3D000") => Ok(None),
            _ => Err(db(e)),
        })?;
    match row {
        Some(r) => {
            let kind: String = r.get(1);
            if kind == "r" || kind == "p" {
                Ok(Some(r.get(0)))
            } else {
                Err(Error::new(Exit::Seed, "Not a table")
                    .field("table", name.to_string())
                    .field("relkind", kind)
                    .suggest("Generate rows into a table (or a partitioned table), not a view, sequence or other relation"))
            }
        }
        None => Ok(None),
    }
}

fn resolve_type(
    c: &mut impl GenericClient,
    oid: Oid,
    typmod: i32,
    domain_checks: &mut Vec<String>,
    not_null: &mut bool,
) -> Result<Ty> {
    let r = c
        .query_one(
            "SELECT t.typname::text, t.typtype::text, t.typbasetype, t.typtypmod, t.typelem, t.typcategory::text, t.typnotnull, n.nspname::text
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = $1",
            &[&oid],
        )
        .map_err(db)?;
    let name: String = r.get(0);
    let typtype: String = r.get(1);
    let base: Oid = r.get(2);
    let base_mod: i32 = r.get(3);
    let elem: Oid = r.get(4);
    let category: String = r.get(5);
    let typnotnull: bool = r.get(6);
    let nsp: String = r.get(7);
    if typtype == "d" {
        *not_null |= typnotnull;
        for row in c
            .query(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = $1 AND contype = 'c' ORDER BY conname",
                &[&oid],
            )
            .map_err(db)?
        {
            domain_checks.push(row.get(0));
        }
        let m = if typmod >= 0 { typmod } else { base_mod };
        return resolve_type(c, base, m, domain_checks, not_null);
    }
    if typtype == "e" {
        let labels = c
            .query(
                "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder",
                &[&oid],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        return Ok(Ty::Scalar(Scalar::Enum(labels)));
    }
    if typtype == "c" {
        let fields = c
            .query(
                "SELECT a.atttypid, a.atttypmod FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid
                 WHERE t.oid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                &[&oid],
            )
            .map_err(db)?;
        let mut tys = Vec::with_capacity(fields.len());
        for f in fields {
            let mut ignore = false;
            tys.push(resolve_type(
                c,
                f.get(0),
                f.get(1),
                &mut Vec::new(),
                &mut ignore,
            )?);
        }
        return Ok(Ty::Scalar(Scalar::Composite(tys)));
    }
    if typtype == "r" || typtype == "m" {
        let sub: Option<String> = c
            .query_opt(
                "SELECT st.typname::text FROM pg_range r JOIN pg_type st ON st.oid = r.rngsubtype
                 WHERE r.rngtypid = $1 OR r.rngmultitypid = $1",
                &[&oid],
            )
            .map_err(db)?
            .map(|r| r.get(0));
        let kind = match sub.as_deref() {
            Some("int4") => RangeKind::Int4,
            Some("int8") => RangeKind::Int8,
            Some("numeric") => RangeKind::Num,
            Some("date") => RangeKind::Date,
            Some("timestamp") => RangeKind::Ts,
            Some("timestamptz") => RangeKind::Tstz,
            _ => return Ok(Ty::Unsupported(name)),
        };
        return Ok(Ty::Scalar(Scalar::Range(kind, typtype == "m")));
    }
    if category == "A" && elem != 0 {
        // An element domain's CHECKs bind each element: kept with the column.
        let mut ignore = false;
        return Ok(
            match resolve_type(c, elem, typmod, domain_checks, &mut ignore)? {
                Ty::Scalar(s) => Ty::Array(s),
                _ => Ty::Unsupported(format!("{name} (array)")),
            },
        );
    }
    if nsp != "pg_catalog" {
        // Extension types, recognised by name wherever the extension lives.
        return Ok(match name.as_str() {
            "citext" => Ty::Scalar(Scalar::Text(None)),
            "ltree" => Ty::Scalar(Scalar::Ltree),
            "hstore" => Ty::Scalar(Scalar::Hstore),
            _ => Ty::Unsupported(name),
        });
    }
    let len = |m: i32| if m >= 4 { Some((m - 4) as usize) } else { None };
    Ok(Ty::Scalar(match name.as_str() {
        "int2" => Scalar::Int2,
        "int4" => Scalar::Int4,
        "int8" => Scalar::Int8,
        "numeric" => Scalar::Numeric(if typmod >= 4 {
            let m = typmod - 4;
            let p = ((m >> 16) & 0xffff) as u32;
            let s = (m & 0xffff) as i16;
            Some((p, s.max(0) as u32))
        } else {
            None
        }),
        "float4" => Scalar::Float4,
        "float8" => Scalar::Float8,
        "text" | "citext" => Scalar::Text(None),
        "varchar" => Scalar::Text(len(typmod)),
        "bpchar" => Scalar::Char(len(typmod).unwrap_or(1)),
        "bool" => Scalar::Bool,
        "date" => Scalar::Date,
        "timestamp" => Scalar::Timestamp,
        "timestamptz" => Scalar::Timestamptz,
        "time" => Scalar::Time,
        "uuid" => Scalar::Uuid,
        "json" => Scalar::Json,
        "jsonb" => Scalar::Jsonb,
        "bytea" => Scalar::Bytea,
        "timetz" => Scalar::Timetz,
        "interval" => Scalar::Interval,
        "money" => Scalar::Money,
        "inet" => Scalar::Inet,
        "cidr" => Scalar::Cidr,
        "macaddr" => Scalar::Macaddr,
        "macaddr8" => Scalar::Macaddr8,
        "oid" | "xid" | "cid" => Scalar::Oid,
        "name" => Scalar::Name,
        "char" => Scalar::CharByte,
        "tsvector" => Scalar::Tsvector,
        "tsquery" => Scalar::Tsquery,
        "xml" => Scalar::Xml,
        "point" => Scalar::Point,
        "line" => Scalar::Line,
        "lseg" => Scalar::Lseg,
        "box" => Scalar::Box,
        "path" => Scalar::Path,
        "polygon" => Scalar::Polygon,
        "circle" => Scalar::Circle,
        "bit" => Scalar::Bit(if typmod > 0 { typmod as usize } else { 1 }),
        "varbit" => Scalar::Varbit((typmod > 0).then_some(typmod as usize)),
        "pg_lsn" => Scalar::PgLsn,
        _ => return Ok(Ty::Unsupported(name)),
    }))
}

/// Loads a table's shape.
pub fn load(c: &mut impl GenericClient, oid: Oid) -> Result<Table> {
    let r = c
        .query_one(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
            &[&oid],
        )
        .map_err(db)?;
    let (schema, name): (String, String) = (r.get(0), r.get(1));
    let rows = c
        .query(
            "SELECT a.attnum, a.attname::text, a.atttypid, a.atttypmod, a.attnotnull, a.atthasdef,
                    a.attidentity::text, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid)
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            &[&oid],
        )
        .map_err(db)?;
    let mut columns = Vec::with_capacity(rows.len());
    for r in rows {
        let mut not_null: bool = r.get(4);
        let mut domain_checks = Vec::new();
        let ty = resolve_type(c, r.get(2), r.get(3), &mut domain_checks, &mut not_null)?;
        let identity: String = r.get(6);
        let generated: String = r.get(7);
        columns.push(Column {
            attnum: r.get(0),
            name: r.get(1),
            ty,
            not_null,
            has_default: r.get(5),
            default_expr: r.get(8),
            identity: !identity.is_empty(),
            identity_always: identity == "a",
            generated: !generated.is_empty(),
            domain_checks,
        });
    }
    let mut uniques: Vec<Vec<i16>> = c
        .query(
            "SELECT indkey::int2[] FROM pg_index WHERE indrelid = $1 AND indisunique AND indpred IS NULL AND indexprs IS NULL",
            &[&oid],
        )
        .map_err(db)?
        .iter()
        .map(|r| r.get::<_, Vec<i16>>(0))
        .collect();
    uniques.sort();
    uniques.dedup();
    let mut checks = Vec::new();
    let mut fks = Vec::new();
    for r in c
        .query(
            // Foreign keys declared on a partitioned table's partitions only
            // (pagila's payment) bind the rows generated for the parent too:
            // they are read with their columns mapped to the parent's by name.
            "SELECT conname::text, contype::text, conkey, confrelid, confkey, pg_get_constraintdef(oid), condeferrable
             FROM pg_constraint WHERE conrelid = $1 AND contype IN ('c', 'f')
             UNION ALL
             SELECT c.conname::text, 'f', ARRAY(
                      SELECT pa.attnum FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute la ON la.attrelid = c.conrelid AND la.attnum = k.n
                      JOIN pg_attribute pa ON pa.attrelid = $1 AND pa.attname = la.attname
                      ORDER BY k.o)::int2[],
                    c.confrelid, c.confkey, pg_get_constraintdef(c.oid), c.condeferrable
             FROM pg_constraint c
             WHERE c.contype = 'f' AND c.conparentid = 0
               AND c.conrelid IN (SELECT relid FROM pg_partition_tree($1::oid::regclass) WHERE relid <> $1::oid::regclass)
             ORDER BY 1",
            &[&oid],
        )
        .map_err(db)?
    {
        let kind: String = r.get(1);
        let conkey: Option<Vec<i16>> = r.get(2);
        if kind == "c" {
            checks.push(CheckDef {
                name: r.get(0),
                attnums: conkey.unwrap_or_default(),
                def: r.get(5),
            });
        } else {
            let parent: Oid = r.get(3);
            let confkey: Vec<i16> = r.get::<_, Option<Vec<i16>>>(4).unwrap_or_default();
            let mut parent_cols = Vec::with_capacity(confkey.len());
            for k in &confkey {
                let n: String = c
                    .query_one(
                        "SELECT attname::text FROM pg_attribute WHERE attrelid = $1 AND attnum = $2",
                        &[&parent, k],
                    )
                    .map_err(db)?
                    .get(0);
                parent_cols.push(n);
            }
            let cols = conkey.unwrap_or_default();
            if fks.iter().any(|f: &ForeignKey| f.cols == cols && f.parent == parent && f.parent_cols == parent_cols) {
                continue;
            }
            fks.push(ForeignKey {
                name: r.get(0),
                cols,
                parent,
                parent_cols,
                deferrable: r.get(6),
            });
        }
    }
    let other_uniques: Vec<String> = c
        .query(
            "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = $1
               AND ((i.indisunique AND (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL))
                    OR i.indisexclusion)
             ORDER BY 1",
            &[&oid],
        )
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let (kind, is_partition): (String, bool) = {
        let r = c
            .query_one(
                "SELECT relkind::text, relispartition FROM pg_class WHERE oid = $1",
                &[&oid],
            )
            .map_err(db)?;
        (r.get(0), r.get(1))
    };
    let partitioning = if kind == "p" {
        let r = c
            .query_one(
                "SELECT partstrat::text, partnatts::int, partattrs[0]::int2 FROM pg_partitioned_table WHERE partrelid = $1",
                &[&oid],
            )
            .map_err(db)?;
        let strat: String = r.get(0);
        let natts: i32 = r.get(1);
        let key: i16 = r.get(2);
        let bounds = c
            .query(
                "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = $1 ORDER BY c.relname",
                &[&oid],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        Some(Partitioning {
            key: (natts == 1 && key != 0).then_some(key),
            strategy: strat.chars().next().unwrap_or('r'),
            bounds,
        })
    } else {
        None
    };
    // BEFORE INSERT row triggers: tgtype bits ROW (1), BEFORE (2), INSERT (4).
    let mut trigger_cols = Vec::new();
    for r in c
        .query(
            "SELECT lower(p.prosrc), encode(t.tgargs, 'escape') FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE t.tgrelid = $1 AND NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgtype & 7 = 7",
            &[&oid],
        )
        .map_err(db)?
    {
        let body: String = r.get(0);
        let args: String = r.get(1);
        // A C trigger such as tsvector_update_trigger names the column it
        // sets first; a PL/pgSQL one assigns `NEW.col := …`.
        let first_arg = args.split("\\000").next().unwrap_or("");
        for col in &columns {
            if col.name == first_arg || assigns(&body, &col.name.to_lowercase()) {
                trigger_cols.push(col.attnum);
            }
        }
    }
    Ok(Table {
        oid,
        sql: format!(
            "{}.{}",
            crate::ident::quote(&schema),
            crate::ident::quote(&name)
        ),
        display: format!("{schema}.{name}"),
        columns,
        uniques,
        checks,
        fks,
        other_uniques,
        partitioning,
        is_partition,
        trigger_cols,
    })
}

/// Whether a trigger body (lower-cased) assigns `new.<col>` (`:=` or `=`).
fn assigns(body: &str, col: &str) -> bool {
    let pat = format!("new.{col}");
    let mut from = 0;
    while let Some(i) = body[from..].find(&pat) {
        let at = from + i;
        let before_ok = at == 0
            || !body[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let rest = body[at + pat.len()..].trim_start();
        // `=` assigns only as a statement of its own (`IF new.a = 1` compares).
        let line_start = body[..at].rfind(['\n', ';']).map_or(0, |p| p + 1);
        let statement = body[line_start..at].trim().is_empty();
        if before_ok && (rest.starts_with(":=") || (statement && rest.starts_with('='))) {
            return true;
        }
        from = at + pat.len();
    }
    false
}
