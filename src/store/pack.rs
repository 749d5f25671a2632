//! Lineage notes stored as deltas against each other, in history order.
//!
//! Successive notes of a project differ by a line or two, but `git gc` cannot see that: it
//! picks delta bases among objects sorted by a hash of their file name, and a note's name is
//! the id of its commit, so each note is compared with unrelated notes and its delta spans the
//! changes of many commits. `git gc` keeps the deltas it finds in packs, though: so the notes
//! are written into a pack of their own, each one a delta against the note before it, and any
//! later `git gc` carries those deltas over.
//!
//! The formats are git's (`Documentation/gitformat-pack.txt`): a version 2 pack of whole
//! blobs and `REF_DELTA` entries, each delta a list of copies from the base and inserts.

// Every narrowing cast here is of a value masked or bounded to fit the byte it goes to.
#![allow(clippy::cast_possible_truncation)]

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

/// One object of a pack: a whole blob, or a blob as a delta against an earlier blob of the
/// same pack (named by its raw 20-byte id).
pub enum Entry {
    Blob(Vec<u8>),
    Delta { base: [u8; 20], delta: Vec<u8> },
}

/// Levels of the delta tree: a note is a delta against the note before it, every 16th one
/// against the 16th before it, every 256th against the 256th before it. `git gc` keeps a
/// delta only when its chain of bases is at most 50 deep (`pack.depth`); a plain chain of
/// notes would be cut every 50 notes into a whole note (about 150 KB for a 2,000-model
/// project), this tree stays under 50 deep for [`MAX_CHAIN`] notes at the cost of one longer
/// delta every 16 and every 256 notes.
pub const LEVELS: [usize; 2] = [16, 256];

/// The most notes one chain holds: depth 15 + 15 + 4096 / 256 = 46.
pub const MAX_CHAIN: usize = 4096;

/// Notes in history order, each one a delta against a note before it (see [`LEVELS`]).
#[derive(Default)]
pub struct Chain {
    entries: Vec<Entry>,
    /// Notes pushed.
    count: usize,
    /// The base of the next delta at each level: the last note, the last 16th, the last 256th.
    heads: [Option<([u8; 20], Vec<u8>)>; 3],
    seen: std::collections::HashSet<[u8; 20]>,
}

/// Where a chain stands, to continue it in a later pack: how many notes it has, and the
/// blob ids of the notes its next deltas are made against (hex, one a level).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainState {
    pub count: usize,
    pub heads: [Option<String>; 3],
}

impl ChainState {
    /// `count`, then one head a line (`-` for none).
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n", self.count);
        for head in &self.heads {
            text.push_str(head.as_deref().unwrap_or("-"));
            text.push('\n');
        }
        text
    }

    /// The state written by [`ChainState::to_text`]; anything else is a fresh chain.
    pub fn from_text(text: &str) -> ChainState {
        let mut lines = text.lines();
        let Some(Ok(count)) = lines.next().map(str::parse) else { return ChainState::default() };
        let mut heads: [Option<String>; 3] = Default::default();
        for head in &mut heads {
            match lines.next() {
                Some("-") => {}
                Some(id) if id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    *head = Some(id.to_string());
                }
                _ => return ChainState::default(),
            }
        }
        ChainState { count, heads }
    }
}

impl Chain {
    /// A chain that goes on from an earlier one, given its state and the bytes of its heads.
    /// Its first deltas are against notes of an earlier pack (a thin pack, which the
    /// indexer completes). A full chain starts again.
    pub fn resume(count: usize, heads: [Option<([u8; 20], Vec<u8>)>; 3]) -> Chain {
        if heads.iter().any(Option::is_none) {
            return Chain::default();
        }
        Chain { count, heads, ..Chain::default() }
    }

    /// Where the chain stands.
    pub fn state(&self) -> ChainState {
        let hex = |head: &Option<([u8; 20], Vec<u8>)>| {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            head.as_ref().map(|(id, _)| {
                id.iter()
                    .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
                    .map(char::from)
                    .collect()
            })
        };
        ChainState {
            count: self.count,
            heads: [hex(&self.heads[0]), hex(&self.heads[1]), hex(&self.heads[2])],
        }
    }

    /// The next note: its blob id and bytes. A note met before (two commits with the same
    /// lineage) is stored once.
    pub fn push(&mut self, id: [u8; 20], bytes: Vec<u8>) {
        if !self.seen.insert(id) {
            return;
        }
        if self.count >= MAX_CHAIN {
            // Deep enough: a new tree of deltas starts with a whole note.
            self.count = 0;
            self.heads = Default::default();
        }
        let level = LEVELS.iter().filter(|&&every| self.count.is_multiple_of(every)).count();
        self.entries.push(match &self.heads[level] {
            Some((base, base_bytes)) => {
                Entry::Delta { base: *base, delta: delta(base_bytes, &bytes) }
            }
            None => Entry::Blob(bytes.clone()),
        });
        for head in &mut self.heads[..level] {
            *head = Some((id, bytes.clone()));
        }
        self.heads[level] = Some((id, bytes));
        self.count += 1;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pack of the notes pushed since the last one; the chain goes on from them.
    pub fn take_pack(&mut self) -> Vec<u8> {
        let bytes = pack(&self.entries);
        self.entries.clear();
        self.seen.clear();
        bytes
    }
}

/// The bytes of a pack holding these entries.
pub fn pack(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"PACK");
    out.extend_from_slice(&2u32.to_be_bytes());
    let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for entry in entries {
        let (kind, base, data) = match entry {
            Entry::Blob(bytes) => (3u8, None, bytes),
            Entry::Delta { base, delta } => (7u8, Some(base), delta),
        };
        object_header(&mut out, kind, data.len());
        if let Some(base) = base {
            out.extend_from_slice(base);
        }
        out.extend_from_slice(&deflate(data));
    }
    let checksum = sha1_smol::Sha1::from(&out).digest().bytes();
    out.extend_from_slice(&checksum);
    out
}

/// Type and inflated size: 3 bits of type and 4 of size in the first byte, then 7 bits of
/// size a byte, lowest first, the top bit saying more follows.
fn object_header(out: &mut Vec<u8>, kind: u8, size: usize) {
    let mut byte = (kind << 4) | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest > 0 {
        out.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(byte);
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// A delta that makes `target` from `base`. Lines are matched with a diff; a line changed in
/// place keeps what it shares with the old line at both ends (a note's line is one file's
/// whole entry, and an edit touches a few bytes of it).
pub fn delta(base: &[u8], target: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    size_varint(&mut out, base.len());
    size_varint(&mut out, target.len());
    let old = lines(base);
    let new = lines(target);
    let old_lines: Vec<&[u8]> = old.iter().map(|&(s, e)| &base[s..e]).collect();
    let new_lines: Vec<&[u8]> = new.iter().map(|&(s, e)| &target[s..e]).collect();
    let mut ops = Ops { out: &mut out, pending: Vec::new() };
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_lines, &new_lines) {
        match op {
            similar::DiffOp::Equal { old_index, len, .. } => {
                ops.copy(old[old_index].0, old[old_index + len - 1].1 - old[old_index].0);
            }
            similar::DiffOp::Delete { .. } => {}
            similar::DiffOp::Insert { new_index, new_len, .. } => {
                ops.insert(&target[new[new_index].0..new[new_index + new_len - 1].1]);
            }
            similar::DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                if old_len == new_len {
                    for k in 0..old_len {
                        let (os, oe) = old[old_index + k];
                        let (ns, ne) = new[new_index + k];
                        ops.edit(os, &base[os..oe], &target[ns..ne]);
                    }
                } else {
                    ops.insert(&target[new[new_index].0..new[new_index + new_len - 1].1]);
                }
            }
        }
    }
    ops.flush();
    out
}

/// (start, end) of each line, newline included.
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        out.push((start, start + line.len()));
        start += line.len();
    }
    out
}

fn size_varint(out: &mut Vec<u8>, mut size: usize) {
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        if size == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Delta instructions being written; inserted bytes wait in `pending` so that neighbouring
/// inserts become one.
struct Ops<'a> {
    out: &'a mut Vec<u8>,
    pending: Vec<u8>,
}

/// The longest copy one instruction makes without the special meaning of a zero size.
const MAX_COPY: usize = 0xffff;
/// The longest insert: its length is the instruction byte.
const MAX_INSERT: usize = 0x7f;
/// Copies shorter than this cost more than inserting the bytes.
const MIN_COPY: usize = 8;

impl Ops<'_> {
    fn insert(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// A line changed in place: copy what it shares with the old line, byte runs found with
    /// a diff of the two lines, insert the rest.
    fn edit(&mut self, at: usize, old: &[u8], new: &[u8]) {
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, old, new) {
            match op {
                similar::DiffOp::Equal { old_index, new_index, len } => {
                    if len >= MIN_COPY {
                        self.copy(at + old_index, len);
                    } else {
                        self.insert(&new[new_index..new_index + len]);
                    }
                }
                similar::DiffOp::Delete { .. } => {}
                similar::DiffOp::Insert { new_index, new_len, .. }
                | similar::DiffOp::Replace { new_index, new_len, .. } => {
                    self.insert(&new[new_index..new_index + new_len]);
                }
            }
        }
    }

    fn copy(&mut self, mut offset: usize, mut len: usize) {
        self.flush();
        while len > 0 {
            let n = len.min(MAX_COPY);
            let at = self.out.len();
            self.out.push(0x80);
            let mut command = 0x80u8;
            for i in 0..4 {
                let byte = ((offset >> (8 * i)) & 0xff) as u8;
                if byte != 0 {
                    command |= 1 << i;
                    self.out.push(byte);
                }
            }
            for i in 0..3 {
                let byte = ((n >> (8 * i)) & 0xff) as u8;
                if byte != 0 {
                    command |= 0x10 << i;
                    self.out.push(byte);
                }
            }
            self.out[at] = command;
            offset += n;
            len -= n;
        }
    }

    fn flush(&mut self) {
        for chunk in self.pending.chunks(MAX_INSERT) {
            self.out.push(chunk.len() as u8);
            self.out.extend_from_slice(chunk);
        }
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// git's reading of a delta, to check ours against.
    fn apply(base: &[u8], delta: &[u8]) -> Vec<u8> {
        let mut at = 0;
        let mut varint = || {
            let (mut value, mut shift) = (0usize, 0);
            loop {
                let byte = delta[at];
                at += 1;
                value |= usize::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    return value;
                }
            }
        };
        assert_eq!(varint(), base.len());
        let size = varint();
        let mut out = Vec::new();
        while at < delta.len() {
            let command = delta[at];
            at += 1;
            if command & 0x80 != 0 {
                let (mut offset, mut len) = (0usize, 0usize);
                for i in 0..4 {
                    if command & (1 << i) != 0 {
                        offset |= usize::from(delta[at]) << (8 * i);
                        at += 1;
                    }
                }
                for i in 0..3 {
                    if command & (0x10 << i) != 0 {
                        len |= usize::from(delta[at]) << (8 * i);
                        at += 1;
                    }
                }
                if len == 0 {
                    len = 0x10000;
                }
                out.extend_from_slice(&base[offset..offset + len]);
            } else {
                let n = usize::from(command);
                assert!(n > 0, "command 0 is reserved");
                out.extend_from_slice(&delta[at..at + n]);
                at += n;
            }
        }
        assert_eq!(out.len(), size);
        out
    }

    #[test]
    fn deltas_rebuild_the_target() {
        let line =
            |n: usize, word: &str| format!("{{\"path\":\"models/m_{n}.sql\",\"x\":\"{word}\"}},\n");
        let base: String = (0..3000).map(|n| line(n, "same")).collect();
        let cases = [
            base.clone(),
            base.replace(&line(1500, "same"), &line(1500, "changed")),
            base.replace(&line(10, "same"), ""),
            format!("{}{}", line(9999, "new"), base),
            format!("{base}tail without newline"),
            String::new(),
            "x".repeat(200_000),
        ];
        for target in &cases {
            let d = delta(base.as_bytes(), target.as_bytes());
            assert_eq!(apply(base.as_bytes(), &d), target.as_bytes());
        }
        // One changed line costs about what changed in it, not the file.
        let changed = delta(base.as_bytes(), cases[1].as_bytes());
        assert!(changed.len() < 64, "{} bytes", changed.len());
    }

    #[test]
    fn chain_bases_stay_under_gits_depth_and_a_chain_resumes() {
        let mut chain = Chain::default();
        let mut depth = std::collections::HashMap::<[u8; 20], usize>::new();
        let id = |n: usize| {
            let mut id = [0u8; 20];
            id[..8].copy_from_slice(&(n as u64).to_be_bytes());
            id
        };
        for n in 0..MAX_CHAIN {
            chain.push(id(n), format!("note {n}\n").into_bytes());
            let d = match chain.entries.last() {
                Some(Entry::Delta { base, .. }) => depth[base] + 1,
                _ => 0,
            };
            depth.insert(id(n), d);
        }
        assert!(depth.values().all(|&d| d < 50), "{:?}", depth.values().max());
        assert_eq!(chain.entries.iter().filter(|e| matches!(e, Entry::Blob(_))).count(), 1);

        let state = chain.state();
        assert_eq!(ChainState::from_text(&state.to_text()), state);
        assert_eq!(ChainState::from_text("garbage"), ChainState::default());
        // A full chain starts again with a whole note.
        let mut full = Chain::resume(state.count, chain.heads.clone());
        full.push(id(MAX_CHAIN), b"again\n".to_vec());
        assert!(matches!(full.entries[0], Entry::Blob(_)));
        let mut short = Chain::default();
        short.push(id(0), b"a\n".to_vec());
        let mut resumed = Chain::resume(short.count, short.heads.clone());
        resumed.push(id(1), b"b\n".to_vec());
        assert!(matches!(resumed.entries[0], Entry::Delta { base, .. } if base == id(0)));
    }

    #[test]
    fn object_headers_hold_type_and_size() {
        let mut out = Vec::new();
        object_header(&mut out, 3, 5);
        assert_eq!(out, [0x35]);
        out.clear();
        object_header(&mut out, 7, 300);
        // 300 = 0b1_0010_1100: low four bits 1100, then 10010.
        assert_eq!(out, [0x80 | 0x70 | 0x0c, 0x12]);
    }
}
