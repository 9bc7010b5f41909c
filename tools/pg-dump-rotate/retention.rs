//! Retention rules, as restic's `forget` defines them, as pure logic over a
//! source's dumps (newest first): which to keep, and why.
//!
//! - `last N` keeps the newest N; `hourly`, `daily`, `weekly` (ISO 8601 weeks:
//!   2020-W53 runs into January 2021), `monthly`, `yearly` N keep the newest
//!   dump of each of the newest N periods that have a dump, and, as restic
//!   does since 0.16, the oldest dump as well while such a rule has a count
//!   left (`yearly 10` with three years of dumps keeps the very first one:
//!   the longest history the rule allows).
//! - `within D` keeps every dump taken after the newest good dump's time
//!   minus D (the boundary itself excluded, as restic does), where D is
//!   restic's calendar span `1y2m3d4h` (y years, m months, d days, h hours),
//!   subtracted as Go's `AddDate` does (March 31 minus a month is March 3).
//!   Counted from the newest dump, not from "now", so a source whose dumps
//!   stopped keeps its last ones.
//! - One dump may satisfy several rules; it is kept for all of them.
//!
//! Where pg-dump-rotate differs from restic, on purpose:
//! - Only good dumps (complete, with a consistent checksum) count toward any
//!   rule, and the newest good dump is always kept. Bad dumps are removed
//!   when the source has a good dump; a source without any good dump is
//!   left alone entirely (nothing to fall back on).
//! - A dump named in the future (a clock that was ahead) anchors no rule
//!   and counts toward none (restic only keeps it from being the reference
//!   of `within`); it is kept, and purge warns about it.
//!
//! All times are UTC.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// restic's calendar span for `--keep-within`: years, months, days, hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub years: i64,
    pub months: i64,
    pub days: i64,
    pub hours: i64,
}

impl Span {
    /// Parses restic's form: numbers each followed by a unit `y`, `m`
    /// (months), `d` or `h`, as in `7d`, `2m`, `1y2m3d4h` (a unit given twice
    /// takes the later number, as in restic).
    pub fn parse(s: &str) -> Result<Span, String> {
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err("empty duration".into());
        }
        let mut span = Span::default();
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(format!("expected a number at {rest:?}"));
            }
            let n: i64 = rest[..digits]
                .parse()
                .map_err(|_| format!("number too large: {}", &rest[..digits]))?;
            rest = &rest[digits..];
            let unit = rest.chars().next().ok_or(format!("no unit after {n}"))?;
            match unit {
                'y' => span.years = n,
                'm' => span.months = n,
                'd' => span.days = n,
                'h' => span.hours = n,
                _ => {
                    return Err(format!(
                        "unknown unit {unit:?} after {n} (restic's units: y, m = months, d, h)"
                    ))
                }
            }
            rest = &rest[unit.len_utf8()..];
        }
        Ok(span)
    }

    /// Whether every part is zero (no rule, as in restic).
    pub fn is_zero(&self) -> bool {
        *self == Span::default()
    }

    /// `t` minus the span, the way restic computes it: Go's
    /// `t.AddDate(-years, -months, -days)` (month overflow into years, day
    /// overflow into the next month), then minus the hours. None when out
    /// of range.
    pub fn before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let months = i64::from(t.year())
            .checked_sub(self.years)?
            .checked_mul(12)?
            .checked_add(i64::from(t.month0()))?
            .checked_sub(self.months)?;
        let year = i32::try_from(months.div_euclid(12)).ok()?;
        let month = u32::try_from(months.rem_euclid(12)).ok()? + 1;
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let offset = i64::from(t.day()).checked_sub(1)?.checked_sub(self.days)?;
        let date = first.checked_add_signed(chrono::Duration::try_days(offset)?)?;
        date.and_time(t.time())
            .and_utc()
            .checked_sub_signed(chrono::Duration::try_hours(self.hours)?)
    }
}

impl std::fmt::Display for Span {
    /// As restic prints it: `1y2m3d4h`, zero parts left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, unit) in [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.days, 'd'),
            (self.hours, 'h'),
        ] {
            if n != 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

/// The retention policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Keep the newest N.
    pub last: Option<u32>,
    /// Keep the newest dump of each of the newest N hours.
    pub hourly: Option<u32>,
    /// … days.
    pub daily: Option<u32>,
    /// … ISO weeks.
    pub weekly: Option<u32>,
    /// … months.
    pub monthly: Option<u32>,
    /// … years.
    pub yearly: Option<u32>,
    /// Keep every dump within this span of the newest good one.
    pub within: Option<Span>,
}

impl Rules {
    /// Whether any rule is set.
    pub fn any(&self) -> bool {
        self.last.is_some()
            || self.hourly.is_some()
            || self.daily.is_some()
            || self.weekly.is_some()
            || self.monthly.is_some()
            || self.yearly.is_some()
            || self.within.is_some()
    }
}

/// One dump as the planner sees it.
#[derive(Debug, Clone)]
pub struct Item {
    /// When the dump started.
    pub time: DateTime<Utc>,
    /// None for a good dump; else why it does not count ("checksum mismatch").
    pub bad: Option<String>,
}

/// The verdict on one dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Kept, for these reasons (`newest`, `last #1`, `daily 2025-01-03`, …).
    Keep(Vec<String>),
    /// Removed, for this reason.
    Remove(String),
}

impl Decision {
    /// Whether the dump is kept.
    pub fn keeps(&self) -> bool {
        matches!(self, Decision::Keep(_))
    }
}

/// The reason a dump named in the future is kept.
pub const FUTURE: &str = "named in the future: outside every rule, kept";

type Bucket = fn(DateTime<Utc>) -> String;

fn hour(t: DateTime<Utc>) -> String {
    format!("{}T{:02}", t.format("%Y-%m-%d"), t.hour())
}
fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}
fn week(t: DateTime<Utc>) -> String {
    let w = t.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}
fn month(t: DateTime<Utc>) -> String {
    format!("{}-{:02}", t.year(), t.month())
}
fn year(t: DateTime<Utc>) -> String {
    t.year().to_string()
}

/// Decides for each item (given newest first; `now` tells dumps named in
/// the future); the result is in the same order.
pub fn plan(items: &[Item], rules: &Rules, now: DateTime<Utc>) -> Vec<Decision> {
    let mut reasons: Vec<Vec<String>> = vec![Vec::new(); items.len()];
    let future = |i: usize| items[i].time > now;
    let good: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].bad.is_none() && !future(i))
        .collect();
    let Some(&newest) = good.first() else {
        return items
            .iter()
            .enumerate()
            .map(|(i, _)| {
                Decision::Keep(vec![if future(i) {
                    FUTURE.into()
                } else {
                    "no good dump in this source".into()
                }])
            })
            .collect();
    };
    reasons[newest].push("newest good dump".into());

    if let Some(n) = rules.last {
        for (k, &i) in good.iter().take(n as usize).enumerate() {
            reasons[i].push(format!("last #{}", k + 1));
        }
    }
    let periods: [(&str, Option<u32>, Bucket); 5] = [
        ("hourly", rules.hourly, hour),
        ("daily", rules.daily, day),
        ("weekly", rules.weekly, week),
        ("monthly", rules.monthly, month),
        ("yearly", rules.yearly, year),
    ];
    for (label, count, bucket) in periods {
        let Some(mut left) = count else { continue };
        let mut last_key: Option<String> = None;
        for (nr, &i) in good.iter().enumerate() {
            if left == 0 {
                break;
            }
            let key = bucket(items[i].time);
            let same = last_key.as_deref() == Some(key.as_str());
            // The oldest dump too, while the rule has a count left: the
            // longest history it allows (restic's "oldest" keep).
            let oldest = nr + 1 == good.len();
            if !same || oldest {
                let why = if same {
                    format!("oldest {label} {key}")
                } else {
                    format!("{label} {key}")
                };
                reasons[i].push(why);
                left -= 1;
                last_key = Some(key);
            }
        }
    }
    if let Some(span) = rules.within {
        let cutoff = span.before(items[newest].time);
        for &i in &good {
            if cutoff.is_none_or(|c| items[i].time > c) {
                reasons[i].push(format!("within {span}"));
            }
        }
    }
    items
        .iter()
        .zip(reasons)
        .enumerate()
        .map(|(i, (item, r))| match (&item.bad, r.is_empty()) {
            (Some(why), _) => Decision::Remove(why.clone()),
            (None, _) if future(i) => Decision::Keep(vec![FUTURE.into()]),
            (None, false) => Decision::Keep(r),
            (None, true) => Decision::Remove("no rule keeps it".into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveDateTime;

    fn t(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .map(|n| n.and_utc())
            .unwrap_or_default()
    }

    /// A "now" after every test dump.
    fn now() -> DateTime<Utc> {
        t("2090-01-01 00:00")
    }

    fn items(times: &[&str]) -> Vec<Item> {
        let mut v: Vec<Item> = times
            .iter()
            .map(|s| Item {
                time: t(s),
                bad: None,
            })
            .collect();
        v.sort_by_key(|i| std::cmp::Reverse(i.time));
        v
    }

    /// The times kept, newest first.
    fn kept(items: &[Item], rules: &Rules) -> Vec<String> {
        plan(items, rules, now())
            .iter()
            .zip(items)
            .filter(|(d, _)| d.keeps())
            .map(|(_, i)| i.time.format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    fn daily_series() -> Vec<Item> {
        // Two dumps a day from 2025-01-01 to 2025-01-10.
        let mut v = Vec::new();
        for d in 1..=10 {
            for h in [3, 15] {
                v.push(format!("2025-01-{d:02} {h:02}:00"));
            }
        }
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        items(&refs)
    }

    #[test]
    fn keep_last() {
        let it = daily_series();
        let r = Rules {
            last: Some(3),
            ..Default::default()
        };
        assert_eq!(
            kept(&it, &r),
            ["2025-01-10 15:00", "2025-01-10 03:00", "2025-01-09 15:00"]
        );
    }

    #[test]
    fn keep_daily_takes_the_newest_of_each_day() {
        let it = daily_series();
        let r = Rules {
            daily: Some(3),
            ..Default::default()
        };
        assert_eq!(
            kept(&it, &r),
            ["2025-01-10 15:00", "2025-01-09 15:00", "2025-01-08 15:00"]
        );
    }

    #[test]
    fn keep_hourly() {
        let it = items(&[
            "2025-01-01 10:05",
            "2025-01-01 10:45",
            "2025-01-01 11:15",
            "2025-01-01 12:00",
            "2025-01-01 12:59",
        ]);
        let r = Rules {
            hourly: Some(2),
            ..Default::default()
        };
        assert_eq!(kept(&it, &r), ["2025-01-01 12:59", "2025-01-01 11:15"]);
    }

    #[test]
    fn iso_weeks_cross_the_year_boundary() {
        // 2020-12-28 (Mon) .. 2021-01-03 (Sun) is ISO week 2020-W53;
        // 2021-01-04 starts 2021-W01; 2020-12-27 (Sun) is 2020-W52.
        let it = items(&[
            "2020-12-27 12:00",
            "2020-12-28 12:00",
            "2020-12-31 12:00",
            "2021-01-01 12:00",
            "2021-01-03 12:00",
            "2021-01-04 12:00",
            "2021-01-05 12:00",
        ]);
        let r = Rules {
            weekly: Some(3),
            ..Default::default()
        };
        let p = plan(&it, &r, now());
        assert_eq!(
            kept(&it, &r),
            ["2021-01-05 12:00", "2021-01-03 12:00", "2020-12-27 12:00"]
        );
        assert_eq!(p[1], Decision::Remove("no rule keeps it".into()));
        assert_eq!(p[2], Decision::Keep(vec!["weekly 2020-W53".into()]));
        // A naive "year + week of year" would split W53 at New Year and keep
        // 2020-12-31 as well.
        assert_eq!(p[4], Decision::Remove("no rule keeps it".into()));
    }

    #[test]
    fn monthly_with_a_single_dump_month() {
        let it = items(&[
            "2025-01-05 00:00",
            "2025-01-20 00:00",
            "2025-02-14 00:00", // the only dump in February
            "2025-03-01 00:00",
            "2025-03-31 23:59",
        ]);
        let r = Rules {
            monthly: Some(3),
            ..Default::default()
        };
        assert_eq!(
            kept(&it, &r),
            ["2025-03-31 23:59", "2025-02-14 00:00", "2025-01-20 00:00"]
        );
    }

    #[test]
    fn yearly() {
        let it = items(&["2023-06-01 00:00", "2023-12-31 23:59", "2024-01-01 00:00"]);
        let r = Rules {
            yearly: Some(5),
            ..Default::default()
        };
        // Two years, and the oldest dump while the count lasts.
        assert_eq!(
            kept(&it, &r),
            ["2024-01-01 00:00", "2023-12-31 23:59", "2023-06-01 00:00"]
        );
    }

    #[test]
    fn rules_larger_than_the_set_keep_everything() {
        let it = daily_series();
        let r = Rules {
            last: Some(100),
            daily: Some(100),
            weekly: Some(100),
            ..Default::default()
        };
        assert_eq!(kept(&it, &r).len(), it.len());
    }

    #[test]
    fn combinations_and_reasons() {
        let it = daily_series();
        let r = Rules {
            last: Some(2),
            daily: Some(4),
            weekly: Some(2),
            ..Default::default()
        };
        let p = plan(&it, &r, now());
        // 2025-01-06 is a Monday: W02 = 6..10, W01 = 1..5 (Sunday 5th newest).
        assert_eq!(
            kept(&it, &r),
            [
                "2025-01-10 15:00",
                "2025-01-10 03:00",
                "2025-01-09 15:00",
                "2025-01-08 15:00",
                "2025-01-07 15:00",
                "2025-01-05 15:00"
            ]
        );
        assert_eq!(
            p[0],
            Decision::Keep(vec![
                "newest good dump".into(),
                "last #1".into(),
                "daily 2025-01-10".into(),
                "weekly 2025-W02".into()
            ])
        );
        assert_eq!(p[1], Decision::Keep(vec!["last #2".into()]));
    }

    #[test]
    fn within_counts_from_the_newest_good_dump_and_excludes_the_boundary() {
        let it = daily_series();
        let r = Rules {
            within: Some(Span::parse("36h").unwrap()),
            ..Default::default()
        };
        // 2025-01-10 15:00 minus 36h = 2025-01-09 03:00: excluded, as in
        // restic (issue 16, defect 9).
        assert_eq!(
            kept(&it, &r),
            ["2025-01-10 15:00", "2025-01-10 03:00", "2025-01-09 15:00"]
        );
        let p = plan(&it, &r, now());
        assert_eq!(
            p[0],
            Decision::Keep(vec!["newest good dump".into(), "within 36h".into()])
        );
    }

    #[test]
    fn spans_are_restics_calendar_units() {
        let s = Span::parse("1y2m3d4h").unwrap();
        assert_eq!((s.years, s.months, s.days, s.hours), (1, 2, 3, 4));
        assert_eq!(s.to_string(), "1y2m3d4h");
        // m is months, not minutes; a unit given twice takes the later one.
        assert_eq!(Span::parse("1m").unwrap().months, 1);
        assert_eq!(Span::parse("1d2d").unwrap().days, 2);
        assert_eq!(Span::parse("1y1d1m").unwrap().to_string(), "1y1m1d");
        for bad in ["", "7", "7x", "d", "-1d", "1.5d", "7 d", "30s", "5min"] {
            assert!(Span::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Span::parse("0d").unwrap().is_zero());
        // Go's AddDate: March 31 minus one month is "February 31", that is
        // March 3 (2025 is no leap year); minus 1y on Feb 29 is March 1.
        let back = |span: &str, from: &str| {
            Span::parse(span)
                .unwrap()
                .before(t(from))
                .unwrap()
                .format("%Y-%m-%d %H:%M")
                .to_string()
        };
        assert_eq!(back("1m", "2025-03-31 12:00"), "2025-03-03 12:00");
        assert_eq!(back("1y", "2024-02-29 00:00"), "2023-03-01 00:00");
        assert_eq!(back("14m", "2025-01-15 00:00"), "2023-11-15 00:00");
        assert_eq!(back("2d5h", "2025-01-01 03:00"), "2024-12-29 22:00");
        assert_eq!(
            Span::parse("999999999y")
                .unwrap()
                .before(t("2025-01-01 00:00")),
            None
        );
    }

    #[test]
    fn a_bucket_rule_with_count_left_keeps_the_oldest_dump() {
        // Three years of dumps, --keep-yearly 10: the newest of each year,
        // and the very first dump too (restic's "oldest yearly").
        let it = items(&[
            "2022-01-01 00:00",
            "2022-06-01 00:00",
            "2023-06-01 00:00",
            "2024-06-01 00:00",
        ]);
        let r = Rules {
            yearly: Some(10),
            ..Default::default()
        };
        let p = plan(&it, &r, now());
        assert_eq!(
            kept(&it, &r),
            [
                "2024-06-01 00:00",
                "2023-06-01 00:00",
                "2022-06-01 00:00",
                "2022-01-01 00:00"
            ]
        );
        assert_eq!(p[3], Decision::Keep(vec!["oldest yearly 2022".into()]));
        // No count left: the oldest goes.
        let r = Rules {
            yearly: Some(3),
            ..Default::default()
        };
        assert_eq!(kept(&it, &r).len(), 3);
    }

    #[test]
    fn dumps_named_in_the_future_anchor_no_rule() {
        // Issue 16, defect 8: a dump named 2099 (a clock that was ahead)
        // would make every real dump "older than 7 days".
        let mut it = daily_series();
        it.insert(
            0,
            Item {
                time: t("2099-01-01 00:00"),
                bad: None,
            },
        );
        let now = t("2025-01-11 00:00");
        let r = Rules {
            within: Some(Span::parse("2d").unwrap()),
            last: Some(1),
            ..Default::default()
        };
        let p = plan(&it, &r, now);
        assert_eq!(p[0], Decision::Keep(vec![FUTURE.into()]));
        assert_eq!(
            p[1],
            Decision::Keep(vec![
                "newest good dump".into(),
                "last #1".into(),
                "within 2d".into()
            ])
        );
        let kept: Vec<usize> = (0..it.len()).filter(|&i| p[i].keeps()).collect();
        // The future one, and the real ones within 2 days of 2025-01-10 15:00.
        assert_eq!(kept, [0, 1, 2, 3, 4]);
        // Only future dumps: nothing to anchor, nothing removed.
        let only = vec![Item {
            time: t("2099-01-01 00:00"),
            bad: None,
        }];
        assert_eq!(plan(&only, &r, now), [Decision::Keep(vec![FUTURE.into()])]);
    }

    #[test]
    fn bad_dumps_count_for_nothing_and_the_newest_good_survives() {
        let mut it = daily_series();
        it[0].bad = Some("checksum mismatch".into());
        it[1].bad = Some("checksum missing".into());
        let r = Rules {
            last: Some(1),
            ..Default::default()
        };
        let p = plan(&it, &r, now());
        assert_eq!(p[0], Decision::Remove("checksum mismatch".into()));
        assert_eq!(p[1], Decision::Remove("checksum missing".into()));
        assert_eq!(
            p[2],
            Decision::Keep(vec!["newest good dump".into(), "last #1".into()])
        );
        assert_eq!(kept(&it, &r), ["2025-01-09 15:00"]);
        // Daily: day 10 has only bad dumps, so it is not a kept period.
        let r = Rules {
            daily: Some(2),
            ..Default::default()
        };
        assert_eq!(kept(&it, &r), ["2025-01-09 15:00", "2025-01-08 15:00"]);
    }

    #[test]
    fn the_newest_good_dump_is_kept_even_with_zero_rules() {
        let it = daily_series();
        let r = Rules {
            last: Some(0),
            ..Default::default()
        };
        assert_eq!(kept(&it, &r), ["2025-01-10 15:00"]);
    }

    #[test]
    fn a_source_without_a_good_dump_is_left_alone() {
        let mut it = daily_series();
        for i in &mut it {
            i.bad = Some("checksum missing".into());
        }
        let r = Rules {
            last: Some(1),
            ..Default::default()
        };
        assert!(plan(&it, &r, now()).iter().all(Decision::keeps));
        assert!(plan(&[], &r, now()).is_empty());
    }

    /// restic's own policy cases (internal/data/snapshot_policy_test.go and
    /// its golden files, tests/fixtures/restic-policy/README.md): the same
    /// 103 snapshots, every policy pg-dump-rotate can express, the same
    /// dumps kept. All snapshots are good and in the past, so pg-dump-rotate's
    /// own rules (the newest good dump is kept; future dumps are outside)
    /// never come into play.
    #[test]
    fn restics_published_policy_cases_keep_the_same_snapshots() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/restic-policy");
        let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
        let parse = |s: &str| {
            let s = s.trim().trim_end_matches('Z').replace('T', " ");
            NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f")
                .unwrap()
                .and_utc()
        };
        let mut snaps: Vec<Item> = read("snapshots.txt")
            .lines()
            .map(|l| Item {
                time: parse(l),
                bad: None,
            })
            .collect();
        // restic sorts newest first, stably.
        snaps.sort_by_key(|i| std::cmp::Reverse(i.time));
        let mut golden: Vec<Vec<DateTime<Utc>>> = Vec::new();
        for l in read("kept.txt").lines() {
            if l.starts_with("# policy") {
                golden.push(Vec::new());
            } else if let Some(g) = golden.last_mut() {
                g.push(parse(l));
            }
        }
        assert_eq!(golden.len(), 40);
        let n = |v: u32| Some(v);
        let w = |s: &str| Some(Span::parse(s).unwrap());
        let r = Rules::default;
        // (index in restic's table, the policy). Not here: 0 (the empty
        // policy: purge refuses to run without a rule), 18-20 (tags), 30-35
        // (--keep-within-hourly and the like), 36-39 (-1, "keep all").
        let cases: Vec<(usize, Rules)> = vec![
            (1, Rules { last: n(10), ..r() }),
            (2, Rules { last: n(15), ..r() }),
            (3, Rules { last: n(99), ..r() }),
            (
                4,
                Rules {
                    last: n(200),
                    ..r()
                },
            ),
            (
                5,
                Rules {
                    hourly: n(20),
                    ..r()
                },
            ),
            (6, Rules { daily: n(3), ..r() }),
            (
                7,
                Rules {
                    daily: n(10),
                    ..r()
                },
            ),
            (
                8,
                Rules {
                    daily: n(30),
                    ..r()
                },
            ),
            (
                9,
                Rules {
                    last: n(5),
                    daily: n(5),
                    ..r()
                },
            ),
            (
                10,
                Rules {
                    last: n(2),
                    daily: n(10),
                    ..r()
                },
            ),
            (
                11,
                Rules {
                    weekly: n(2),
                    ..r()
                },
            ),
            (
                12,
                Rules {
                    weekly: n(4),
                    ..r()
                },
            ),
            (
                13,
                Rules {
                    daily: n(3),
                    weekly: n(4),
                    ..r()
                },
            ),
            (
                14,
                Rules {
                    monthly: n(6),
                    ..r()
                },
            ),
            (
                15,
                Rules {
                    daily: n(2),
                    weekly: n(2),
                    monthly: n(6),
                    ..r()
                },
            ),
            (
                16,
                Rules {
                    yearly: n(10),
                    ..r()
                },
            ),
            (
                17,
                Rules {
                    daily: n(7),
                    weekly: n(2),
                    monthly: n(3),
                    yearly: n(10),
                    ..r()
                },
            ),
            (
                21,
                Rules {
                    within: w("1d"),
                    ..r()
                },
            ),
            (
                22,
                Rules {
                    within: w("2d"),
                    ..r()
                },
            ),
            (
                23,
                Rules {
                    within: w("7d"),
                    ..r()
                },
            ),
            (
                24,
                Rules {
                    within: w("1m"),
                    ..r()
                },
            ),
            (
                25,
                Rules {
                    within: w("1m14d"),
                    ..r()
                },
            ),
            (
                26,
                Rules {
                    within: w("1y1d1m"),
                    ..r()
                },
            ),
            (
                27,
                Rules {
                    within: w("13d23h"),
                    ..r()
                },
            ),
            (
                28,
                Rules {
                    within: w("2m2h"),
                    ..r()
                },
            ),
            (
                29,
                Rules {
                    within: w("1y2m3d3h"),
                    ..r()
                },
            ),
        ];
        let now = Utc::now();
        let mut differ = Vec::new();
        for (k, rules) in &cases {
            let p = plan(&snaps, rules, now);
            let mut got: Vec<DateTime<Utc>> = snaps
                .iter()
                .zip(&p)
                .filter(|(_, d)| d.keeps())
                .map(|(i, _)| i.time)
                .collect();
            let mut want = golden[*k].clone();
            got.sort();
            want.sort();
            if got != want {
                differ.push(format!(
                    "policy {k}: kept {} where restic keeps {}",
                    got.len(),
                    want.len()
                ));
            }
        }
        assert_eq!(cases.len(), 26);
        assert!(differ.is_empty(), "{differ:#?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Any text: a span or an error, never a panic; any span subtracted
        /// from any time: a time or None.
        #[test]
        fn spans_never_panic(s in "\\PC{0,24}", d in "[0-9ymdh]{0,16}", secs in -1i64 << 40..1i64 << 40) {
            let _ = Span::parse(&s);
            if let Ok(span) = Span::parse(&d) {
                if let Some(t) = DateTime::from_timestamp(secs, 0) {
                    let _ = span.before(t);
                }
                proptest::prop_assert_eq!(Span::parse(&span.to_string()).unwrap_or_default(), span);
            }
        }
    }
}
