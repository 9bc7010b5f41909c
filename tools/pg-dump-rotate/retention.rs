//! Retention rules, as restic's `forget` defines them, as pure logic over a
//! source's dumps (newest first): which to keep, and why.
//!
//! - `last N` keeps the newest N; `hourly`, `daily`, `weekly` (ISO 8601 weeks:
//!   2020-W53 runs into January 2021), `monthly`, `yearly` N keep the newest
//!   dump of each of the newest N periods that have a dump; `within D` keeps
//!   every dump taken within D of the newest good dump (not of "now", so a
//!   source whose dumps stopped keeps its last ones).
//! - One dump may satisfy several rules; it is kept for all of them.
//! - Only good dumps (complete, with a consistent checksum) count toward any
//!   rule. The newest good dump is always kept.
//! - Bad dumps are removed when the source has a good dump; a source without
//!   any good dump is left alone entirely (nothing to fall back on).
//!
//! All times are UTC.

use chrono::{DateTime, Datelike, Timelike, Utc};
use std::time::Duration;

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
    pub within: Option<Duration>,
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

/// Decides for each item (given newest first); the result is in the same order.
pub fn plan(items: &[Item], rules: &Rules) -> Vec<Decision> {
    let mut reasons: Vec<Vec<String>> = vec![Vec::new(); items.len()];
    let good: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].bad.is_none())
        .collect();
    let Some(&newest) = good.first() else {
        return items
            .iter()
            .map(|_| Decision::Keep(vec!["no good dump in this source".into()]))
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
        for &i in &good {
            if left == 0 {
                break;
            }
            let key = bucket(items[i].time);
            if last_key.as_deref() != Some(key.as_str()) {
                reasons[i].push(format!("{label} {key}"));
                left -= 1;
                last_key = Some(key);
            }
        }
    }
    if let Some(d) = rules.within {
        let reference = items[newest].time;
        let span = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let cutoff = reference.checked_sub_signed(span);
        for &i in &good {
            if cutoff.is_none_or(|c| items[i].time >= c) {
                reasons[i].push(format!("within {}", pgkit_duration(d)));
            }
        }
    }
    items
        .iter()
        .zip(reasons)
        .map(|(item, r)| match (&item.bad, r.is_empty()) {
            (Some(why), _) => Decision::Remove(why.clone()),
            (None, false) => Decision::Keep(r),
            (None, true) => Decision::Remove("no rule keeps it".into()),
        })
        .collect()
}

fn pgkit_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s > 0 && s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s > 0 && s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn t(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .map(|n| n.and_utc())
            .unwrap_or_default()
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
        plan(items, rules)
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
        let p = plan(&it, &r);
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
        assert_eq!(kept(&it, &r), ["2024-01-01 00:00", "2023-12-31 23:59"]);
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
        let p = plan(&it, &r);
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
    fn within_counts_from_the_newest_good_dump() {
        let it = daily_series();
        let r = Rules {
            within: Some(Duration::from_secs(36 * 3600)),
            ..Default::default()
        };
        // 2025-01-10 15:00 minus 36h = 2025-01-09 03:00 (inclusive).
        assert_eq!(
            kept(&it, &r),
            [
                "2025-01-10 15:00",
                "2025-01-10 03:00",
                "2025-01-09 15:00",
                "2025-01-09 03:00"
            ]
        );
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
        let p = plan(&it, &r);
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
        assert!(plan(&it, &r).iter().all(Decision::keeps));
        assert!(plan(&[], &r).is_empty());
    }
}
