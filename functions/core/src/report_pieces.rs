//! One report for a county file, however many invocations read it.
//!
//! On AWS a large file is read in parts, in parallel, and a part (or a whole file) that needs more
//! than one invocation is read in chunks, one after another. Each chunk writes a piece of the
//! file's report, the last chunk of a part marking its piece as the part's last. Once every part
//! has its last piece, the pieces are joined, in file order, into the one error report and summary
//! a county gets for a file read in one go.
//!
//! A piece is named by the records it read, not by its chunk's number: a chunk that SQS delivers
//! twice may stop at another record the second time, and then only a chain of pieces from the
//! part's first record to its end covers every record once.

use std::collections::{BTreeMap, BTreeSet};

/// The name of the piece of part `part` that read its records `from..to` (`last`: to the part's
/// end).
pub fn piece_name(part: u32, from: u64, to: u64, last: bool) -> String {
    format!("p{part:05}-{from:012}-{to:012}{}", if last { "-end" } else { "" })
}

struct Piece {
    part: u32,
    from: u64,
    to: u64,
    last: bool,
}

fn parse(name: &str) -> Option<Piece> {
    let mut fields = name.strip_prefix('p')?.split('-');
    let part = fields.next()?.parse().ok()?;
    let (from, to) = (fields.next()?.parse().ok()?, fields.next()?.parse().ok()?);
    let last = match fields.next() {
        None => false,
        Some("end") => true,
        Some(_) => return None,
    };
    (fields.next().is_none() && (to > from || (from == 0 && to == 0))).then_some(Piece { part, from, to, last })
}

/// Where the pieces of a file's report stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joining {
    /// A part is still being read (it has no last piece yet).
    Waiting,
    /// Every part is read: its pieces, in file order.
    Ready(Vec<String>),
    /// A part has its last piece, but no chain of pieces reaches it (pieces removed before the
    /// join: the file must be read again).
    Broken { part: u32 },
}

/// The pieces to join, in file order, once every one of `parts` parts has its last piece and a
/// chain of pieces from its first record to that piece's end. Names that are not pieces are
/// ignored.
pub fn pieces_to_join<'a>(names: impl IntoIterator<Item = &'a str>, parts: u32) -> Joining {
    let mut ends: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
    let mut steps: BTreeMap<(u32, u64), BTreeSet<u64>> = BTreeMap::new();
    // The name of each piece, by (part, from, to).
    let mut named: BTreeMap<(u32, u64, u64), &str> = BTreeMap::new();
    for name in names {
        let Some(p) = parse(name) else { continue };
        if p.last {
            ends.entry(p.part).or_default().insert(p.to);
        }
        steps.entry((p.part, p.from)).or_default().insert(p.to);
        named.insert((p.part, p.from, p.to), name);
    }
    if (0..parts).any(|part| !ends.contains_key(&part)) {
        return Joining::Waiting;
    }
    let mut joined = vec![];
    for part in 0..parts {
        // (The furthest end first: a reading that stopped short on an error reading the file
        // marks a nearer one.)
        match ends[&part].iter().rev().find_map(|end| chain(&steps, part, *end)) {
            Some(chain) => joined.extend(chain.into_iter().map(|(from, to)| named[&(part, from, to)].to_string())),
            None => return Joining::Broken { part },
        }
    }
    Joining::Ready(joined)
}

/// A chain of pieces of `part` from record 0 to `end` (a depth-first search: retried chunks make
/// at most a few branches).
fn chain(steps: &BTreeMap<(u32, u64), BTreeSet<u64>>, part: u32, end: u64) -> Option<Vec<(u64, u64)>> {
    if end == 0 {
        return steps.get(&(part, 0)).filter(|to| to.contains(&0)).map(|_| vec![(0, 0)]);
    }
    let mut path: Vec<(u64, u64)> = vec![];
    let mut tried: BTreeSet<u64> = BTreeSet::new();
    // The choices left at each record reached, from record 0 on.
    let mut choices: Vec<Vec<u64>> = vec![next(steps, part, 0)];
    loop {
        let at = path.last().map_or(0, |(_, to)| *to);
        if at == end {
            return Some(path);
        }
        match choices.last_mut()?.pop() {
            Some(to) if to <= end && tried.insert(to) => {
                path.push((at, to));
                choices.push(next(steps, part, to));
            }
            Some(_) => {}
            None => {
                choices.pop();
                path.pop();
            }
        }
    }
}

fn next(steps: &BTreeMap<(u32, u64), BTreeSet<u64>>, part: u32, from: u64) -> Vec<u64> {
    steps.get(&(part, from)).map(|t| t.iter().copied().filter(|to| *to > from).collect()).unwrap_or_default()
}

/// Whether a join of `bytes` of pieces fits in `time_left` of an invocation: read and written once
/// at a modest 20 MB/s, with 45 s to spare. One that may not gets an invocation of its own.
pub fn join_fits(bytes: u64, time_left: std::time::Duration) -> bool {
    time_left >= std::time::Duration::from_secs(45) + std::time::Duration::from_millis(bytes / 20_000)
}

/// The rows of a piece's error report, without its header line (`line,field,reason`).
pub fn report_rows(piece: &str) -> &str {
    match piece.split_once('\n') {
        Some((_, rows)) => rows,
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(names: &[String], parts: u32) -> Joining {
        pieces_to_join(names.iter().map(String::as_str), parts)
    }

    #[test]
    fn a_file_read_in_parts_and_chunks_is_joined_in_file_order_once_every_part_has_its_last_piece() {
        let mut names = vec![piece_name(1, 0, 400, false), piece_name(0, 0, 500, false), piece_name(0, 500, 900, true)];
        assert_eq!(join(&names, 2), Joining::Waiting, "part 1 is still being read");
        names.push(piece_name(1, 400, 401, true));
        names.push("notes.txt".into());
        assert_eq!(join(&names, 2), Joining::Ready(vec![piece_name(0, 0, 500, false), piece_name(0, 500, 900, true), piece_name(1, 0, 400, false), piece_name(1, 400, 401, true)]));
        assert_eq!(join(&names, 3), Joining::Waiting, "a third part has no last piece");
    }

    #[test]
    fn a_chunk_delivered_twice_that_stopped_elsewhere_is_joined_without_counting_a_row_twice() {
        // The first delivery read 0..500 and queued 500..; the second read 0..700 and queued
        // 700..: both chains reach the end, and the join takes one of them.
        let names = [piece_name(0, 0, 500, false), piece_name(0, 0, 700, false), piece_name(0, 700, 1000, true)];
        assert_eq!(join(&names, 1), Joining::Ready(vec![piece_name(0, 0, 700, false), piece_name(0, 700, 1000, true)]));
        // A reading that stopped short (an error reading the file) ended the part nearer: the
        // furthest end with a chain is the one joined.
        let names = [piece_name(0, 0, 500, true), piece_name(0, 0, 700, false), piece_name(0, 700, 1000, true)];
        assert_eq!(join(&names, 1), Joining::Ready(vec![piece_name(0, 0, 700, false), piece_name(0, 700, 1000, true)]));
        // A part's last piece with a piece before it gone (removed before the join) is no chain.
        let names = [piece_name(0, 0, 500, false), piece_name(0, 600, 1000, true)];
        assert_eq!(join(&names, 1), Joining::Broken { part: 0 });
    }

    #[test]
    fn a_join_that_may_not_finish_in_the_time_left_is_not_started() {
        use std::time::Duration;
        assert!(join_fits(1 << 20, Duration::from_secs(900)));
        assert!(!join_fits(1 << 20, Duration::from_secs(30)), "less than the 45 s to spare");
        // A statewide report whose every row is wrong (about 1.7 GB): 85 s at 20 MB/s, and 45.
        assert!(!join_fits(1_700_000_000, Duration::from_secs(120)));
        assert!(join_fits(1_700_000_000, Duration::from_secs(131)));
    }

    #[test]
    fn an_empty_part_is_one_empty_piece_and_stray_names_are_ignored() {
        let names = [piece_name(0, 0, 0, true), "p1-x-y".to_string(), "p00000-000000000005-000000000005-end".to_string(), "p00000-1-2-later".to_string()];
        assert_eq!(join(&names, 1), Joining::Ready(vec![piece_name(0, 0, 0, true)]));
        assert_eq!(report_rows("line,field,reason\n21,status_code,bad\n"), "21,status_code,bad\n");
        assert_eq!(report_rows("line,field,reason\n"), "");
    }
}
