//! The exit code of a fleet run: 0 when every target succeeded, else the
//! most severe code any target ended with. "Most severe" is "needs a person
//! most, and a plain re-run helps least", in the table's terms:
//!
//! 1. 143, 130: the run was stopped; the results are incomplete.
//! 2. 70: a bug in the tool.
//! 3. 3, 4, 5: a migration, seed or dump failed: a tenant needs a fix.
//! 4. 65, 66, 77, 78, 64, 126, 127: bad input, files or configuration.
//! 5. 1: a general failure.
//! 6. 2: a target was unreachable (it may come back).
//! 7. 75: a target was busy (its lock held): retry later.
//!
//! A code outside the table ranks just above 1.

use crate::exit::Exit;

/// Most severe first.
const ORDER: &[Exit] = &[
    Exit::Terminated,
    Exit::Interrupted,
    Exit::Software,
    Exit::Migration,
    Exit::Seed,
    Exit::Dump,
    Exit::DataErr,
    Exit::NoInput,
    Exit::NoPerm,
    Exit::Config,
    Exit::Usage,
    Exit::CannotExecute,
    Exit::MissingProgram,
    Exit::Failure,
    Exit::NotReady,
    Exit::TempFail,
    Exit::Ok,
];

/// Rank of a code: lower is more severe.
fn rank(e: Exit) -> usize {
    ORDER.iter().position(|x| *x == e).unwrap_or(ORDER.len())
}

/// The most severe of `codes` (0 when there are none).
pub fn most_severe(codes: impl IntoIterator<Item = Exit>) -> Exit {
    codes
        .into_iter()
        .min_by_key(|e| rank(*e))
        .unwrap_or(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_table_is_ranked_once() {
        for (e, _) in crate::exit::TABLE {
            assert_eq!(ORDER.iter().filter(|x| *x == e).count(), 1, "{e:?}");
        }
        assert_eq!(ORDER.len(), crate::exit::TABLE.len());
    }

    #[test]
    fn most_severe_wins() {
        use Exit::*;
        assert_eq!(most_severe([]), Ok);
        assert_eq!(most_severe([Ok, Ok]), Ok);
        assert_eq!(most_severe([Ok, TempFail, Migration, NotReady]), Migration);
        assert_eq!(most_severe([Migration, Interrupted]), Interrupted);
        assert_eq!(most_severe([NotReady, TempFail]), NotReady);
        assert_eq!(most_severe([Failure, Config]), Config);
    }
}
