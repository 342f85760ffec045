//! The decoded trust anchors of the system store, cached in the state directory.
//!
//! The cache holds the manifest of the files the anchors came from (see
//! `trust::system_store::Sources::manifest`) and is used only when the manifest of this run is
//! byte for byte the same, so a CA added to, changed in or removed from the store is seen by
//! the next run. It can only ever hold what the store held: a file that is not ours (owner or
//! mode), not a regular file, too large, from another hook version or damaged is ignored and
//! rewritten (never written through: the new file replaces whatever is at the path).

use std::path::Path;

use rustls::pki_types::{Der, TrustAnchor};

pub(crate) const CACHE_FILE: &str = "tls-trust-anchors";

/// Far above any real store (a few hundred KiB for a thousand CAs).
const MAX_CACHE_BYTES: u64 = 16 * 1024 * 1024;

fn magic() -> Vec<u8> {
    format!("axonflow-codex-hook {} trust anchors 1\n", crate::VERSION).into_bytes()
}

/// The cached anchors, if the cache was made from files with exactly this `manifest`.
pub(crate) fn load(state_dir: &Path, manifest: &[u8]) -> Option<Vec<TrustAnchor<'static>>> {
    let bytes = read_own_file(&state_dir.join(CACHE_FILE))?;
    decode(&bytes, manifest)
}

/// Writes the cache (atomically, 0600 from its creation). Failures only cost the next run
/// the full read.
pub(crate) fn store(state_dir: &Path, manifest: &[u8], anchors: &[TrustAnchor<'_>]) {
    let _ = crate::files::write_private_atomically(
        &state_dir.join(CACHE_FILE),
        &encode(manifest, anchors),
    );
}

fn encode(manifest: &[u8], anchors: &[TrustAnchor<'_>]) -> Vec<u8> {
    let mut out = magic();
    put(&mut out, manifest);
    out.extend_from_slice(&(anchors.len() as u32).to_le_bytes());
    for anchor in anchors {
        put(&mut out, anchor.subject.as_ref());
        put(&mut out, anchor.subject_public_key_info.as_ref());
        match &anchor.name_constraints {
            Some(constraints) => {
                out.push(1);
                put(&mut out, constraints.as_ref());
            }
            None => out.push(0),
        }
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

fn put(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u32).to_le_bytes());
    out.extend_from_slice(field);
}

fn decode(bytes: &[u8], manifest: &[u8]) -> Option<Vec<TrustAnchor<'static>>> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if checksum(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut reader = Reader(body.strip_prefix(magic().as_slice())?);
    if reader.field()? != manifest {
        return None;
    }
    let count = reader.u32()? as usize;
    // Each anchor takes at least 9 bytes: a bound before allocating.
    let mut anchors = Vec::with_capacity(count.min(reader.0.len() / 9));
    for _ in 0..count {
        let subject = Der::from(reader.field()?.to_vec());
        let subject_public_key_info = Der::from(reader.field()?.to_vec());
        let name_constraints = match reader.byte()? {
            0 => None,
            1 => Some(Der::from(reader.field()?.to_vec())),
            _ => return None,
        };
        anchors.push(TrustAnchor {
            subject,
            subject_public_key_info,
            name_constraints,
        });
    }
    reader.0.is_empty().then_some(anchors)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn field(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

/// Detects a damaged file (a torn write after a crash), not tampering: whoever can write the
/// file as this user can also compute this.
fn checksum(bytes: &[u8]) -> u64 {
    let mut hash = 0x243f_6a88_85a3_08d3_u64 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        hash = (hash ^ word)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(31);
    }
    for &byte in words.remainder() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    hash
}

/// The file's bytes, when it is a regular file (opened without blocking: a FIFO in its place
/// would otherwise hang the hook) of this user that only this user can write, no larger than
/// the cap.
fn read_own_file(path: &Path) -> Option<Vec<u8>> {
    let file = crate::files::read_small_file(path, MAX_CACHE_BYTES).ok()?;
    crate::files::written_only_by_this_user(&file.metadata).then_some(file.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors() -> Vec<TrustAnchor<'static>> {
        vec![
            TrustAnchor {
                subject: Der::from(b"subject one".to_vec()),
                subject_public_key_info: Der::from(b"key one".to_vec()),
                name_constraints: None,
            },
            TrustAnchor {
                subject: Der::from(b"subject two".to_vec()),
                subject_public_key_info: Der::from(b"key two".to_vec()),
                name_constraints: Some(Der::from(b"constraints".to_vec())),
            },
        ]
    }

    #[test]
    fn round_trips_for_the_same_manifest_only() {
        let bytes = encode(b"manifest", &anchors());
        assert_eq!(decode(&bytes, b"manifest"), Some(anchors()));
        assert_eq!(decode(&bytes, b"manifesT"), None);
        assert_eq!(decode(&bytes, b""), None);
    }

    #[test]
    fn any_damage_is_rejected() {
        let bytes = encode(b"manifest", &anchors());
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut], b"manifest"), None, "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x20;
            assert_eq!(decode(&damaged, b"manifest"), None, "byte {at} flipped");
        }
    }
}
