//! `pg-tmp db create`: a fresh database from the template for these
//! migrations (built once, see `template`); prints its URL.

use crate::cli::DbCreateArgs;
use crate::template::{
    admin, content_hash, ensure_template, exists, sql_error, sqlstate, TEMPLATE_PREFIX, TEST_PREFIX,
};
use crate::util;
use pgkit::cli::Summary;
use pgkit::conn::Settings;
use pgkit::sql::quote_ident as ident;
use pgkit::{interrupt, out, Result};

pub fn run(args: DbCreateArgs) -> Result<Summary> {
    let settings = Settings::resolve(&args.conn, "pg-tmp")?;
    let hash = content_hash(&args.migrations, args.seeds.as_deref())?;
    let template = format!("{TEMPLATE_PREFIX}{}", &hash[..16]);
    let (mut c, admin_settings) = admin(&settings)?;
    let _cancel = pgkit::conn::cancel_on_signal(&admin_settings, &c);
    let mut built = false;
    // Fast path: the template is there (one query, no lock).
    if exists(&mut c, &template)? != Some(true) {
        built = ensure_template(&mut c, &settings, &template, &hash, &args)?;
    }
    let name = format!(
        "{TEST_PREFIX}{}_{}",
        chrono::Utc::now().timestamp(),
        util::random_hex(5)
    );
    let sql = format!(
        "CREATE DATABASE {} TEMPLATE {}",
        ident(&name),
        ident(&template)
    );
    if let Err(e) = c.batch_execute(&sql) {
        interrupt::check()?;
        if sqlstate(&e) != Some("3D000") {
            return Err(sql_error("Cannot create the database", &e)
                .field("template", template.clone())
                .suggest("No session may be connected to the template while databases are created from it"));
        }
        // Dropped (pruned) between our check and the copy: build it again.
        built = ensure_template(&mut c, &settings, &template, &hash, &args)?;
        c.batch_execute(&sql)
            .map_err(|e| sql_error("Cannot create the database", &e))?;
    }
    out::println(&util::url_of(&settings.with_dbname(&name)))?;
    Ok(Summary::ok("Database created")
        .field("database", name)
        .field("template", template)
        .field("templateBuilt", built))
}
