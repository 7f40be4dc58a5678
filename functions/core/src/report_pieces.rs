//! One report for a county file, however many invocations read it.
//!
//! On AWS a large file is read in parts, in parallel, and a part (or a whole file) that needs more
//! than one invocation is read in chunks, one after another. Each chunk writes a piece of the
//! file's report, and the last chunk of a part marks where the part ends. Once every part has its
//! mark, the pieces are joined, in file order, into the one error report and summary a county
//! gets for a file read in one go.
//!
//! A piece is named by the records it read, not by its chunk's number: a chunk that SQS delivers
//! twice may stop at another record the second time, and then only a chain of pieces from the
//! part's first record to its end covers every record once.

use std::collections::{BTreeMap, BTreeSet};

/// The name of the piece of part `part` that read its records `from..to`.
pub fn piece_name(part: u32, from: u64, to: u64) -> String {
    format!("p{part:05}-{from:012}-{to:012}")
}

/// The name of the mark that part `part` was read to its end, `records` records in all.
pub fn end_mark(part: u32, records: u64) -> String {
    format!("p{part:05}-end-{records:012}")
}

enum Name {
    Piece { part: u32, from: u64, to: u64 },
    End { part: u32, records: u64 },
}

fn parse(name: &str) -> Option<Name> {
    let mut fields = name.strip_prefix('p')?.split('-');
    let part = fields.next()?.parse().ok()?;
    let (a, b) = (fields.next()?, fields.next()?);
    if fields.next().is_some() {
        return None;
    }
    Some(match a {
        "end" => Name::End { part, records: b.parse().ok()? },
        _ => Name::Piece { part, from: a.parse().ok()?, to: b.parse().ok()? },
    })
}

/// Where the pieces of a file's report stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joining {
    /// A part is still being read (it has no end mark yet).
    Waiting,
    /// Every part is read: its pieces, in file order.
    Ready(Vec<String>),
    /// A part is marked read, but no chain of pieces reaches its end (pieces removed before the
    /// join: the file must be read again).
    Broken { part: u32 },
}

/// The pieces to join, in file order, once every one of `parts` parts is marked read to its end
/// and has a chain of pieces from its first record to that end. Names that are neither pieces nor
/// marks are ignored.
pub fn pieces_to_join<'a>(names: impl IntoIterator<Item = &'a str>, parts: u32) -> Joining {
    let mut ends: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
    let mut steps: BTreeMap<(u32, u64), BTreeSet<u64>> = BTreeMap::new();
    for name in names {
        match parse(name) {
            Some(Name::End { part, records }) => {
                ends.entry(part).or_default().insert(records);
            }
            Some(Name::Piece { part, from, to }) if to > from || (from == 0 && to == 0) => {
                steps.entry((part, from)).or_default().insert(to);
            }
            _ => {}
        }
    }
    if (0..parts).any(|part| !ends.contains_key(&part)) {
        return Joining::Waiting;
    }
    let mut joined = vec![];
    for part in 0..parts {
        // (The furthest end first: a reading that stopped short on an error of the store's
        // connection marks a nearer one.)
        match ends[&part].iter().rev().find_map(|end| chain(&steps, part, *end)) {
            Some(chain) => joined.extend(chain.into_iter().map(|(from, to)| piece_name(part, from, to))),
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

    #[test]
    fn a_file_read_in_parts_and_chunks_is_joined_in_file_order_once_every_part_is_marked_read() {
        let mut names = vec![piece_name(1, 0, 400), piece_name(0, 0, 500), piece_name(0, 500, 900), end_mark(0, 900)];
        fn listed(n: &[String]) -> Vec<&str> {
            n.iter().map(String::as_str).collect()
        }
        assert_eq!(pieces_to_join(listed(&names), 2), Joining::Waiting, "part 1 is still being read");
        names.push(piece_name(1, 400, 401));
        names.push(end_mark(1, 401));
        names.push("p00001-000000000400-000000401.summary".into());
        assert_eq!(pieces_to_join(listed(&names), 2), Joining::Ready(vec![piece_name(0, 0, 500), piece_name(0, 500, 900), piece_name(1, 0, 400), piece_name(1, 400, 401)]));
        assert_eq!(pieces_to_join(listed(&names), 3), Joining::Waiting, "a third part has no mark");
    }

    #[test]
    fn a_chunk_delivered_twice_that_stopped_elsewhere_is_joined_without_counting_a_row_twice() {
        // The first delivery read 0..500 and queued 500..; the second read 0..700 and queued
        // 700..: both chains reach the end, and the join takes one of them.
        let names = [piece_name(0, 0, 500), piece_name(0, 0, 700), piece_name(0, 700, 1000), end_mark(0, 1000)];
        let joined = pieces_to_join(names.iter().map(String::as_str), 1);
        assert_eq!(joined, Joining::Ready(vec![piece_name(0, 0, 700), piece_name(0, 700, 1000)]));
        // A reading that stopped short (an error reading the file) marked a nearer end: the
        // furthest end with a chain is the one joined.
        let names = [piece_name(0, 0, 500), end_mark(0, 500), piece_name(0, 0, 700), piece_name(0, 700, 1000), end_mark(0, 1000)];
        assert_eq!(pieces_to_join(names.iter().map(String::as_str), 1), Joining::Ready(vec![piece_name(0, 0, 700), piece_name(0, 700, 1000)]));
        // A part marked read with a piece gone (removed before the join) is no chain.
        let names = [piece_name(0, 0, 500), piece_name(0, 600, 1000), end_mark(0, 1000)];
        assert_eq!(pieces_to_join(names.iter().map(String::as_str), 1), Joining::Broken { part: 0 });
    }

    #[test]
    fn an_empty_part_is_one_empty_piece_and_stray_names_are_ignored() {
        let names = [piece_name(0, 0, 0), end_mark(0, 0), "notes.txt".to_string(), "p1-x-y".to_string()];
        assert_eq!(pieces_to_join(names.iter().map(String::as_str), 1), Joining::Ready(vec![piece_name(0, 0, 0)]));
        assert_eq!(report_rows("line,field,reason\n21,status_code,bad\n"), "21,status_code,bad\n");
        assert_eq!(report_rows("line,field,reason\n"), "");
    }
}
