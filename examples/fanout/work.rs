//! The "little work" each fetch does on its simulated 1 KiB response.
//!
//! The response is produced after the latency has elapsed, into a buffer on the poll's stack, so a
//! pending fetch never holds 1 KiB for the whole second: only the finished fetch touches it, briefly.

/// Size of a simulated response.
pub const RESPONSE_BYTES: usize = 1024;

/// Fills `buffer` with the deterministic "response" to fetch `index`: its index as 8 little-endian
/// bytes, repeated. The bytes differ per fetch, and they are exactly those of the asyncio port
/// (`index.to_bytes(8, "little") * 128`), so every runtime checksums the same data.
pub fn fill_response(index: u64, buffer: &mut [u8; RESPONSE_BYTES]) {
    for chunk in buffer.chunks_exact_mut(8) {
        chunk.copy_from_slice(&index.to_le_bytes());
    }
}

/// Adler-32 checksum of `bytes` (RFC 1950), the checksum zlib computes.
///
/// Computed 16 bytes at a time in independent lanes, which the compiler turns into vector code
/// (about 0.1 cycle a byte here, against about 2 for the byte-at-a-time loop, whose every step
/// waits for the previous one). For a block of `n` 16-byte chunks with per-lane sums
/// `A[i] = sum of x[c][i]` and `B[i] = sum of (n - c) * x[c][i]`, the block adds `sum A` to `a` and
/// `len * a + 16 * sum B - sum i * A[i]` to `b` (byte `c * 16 + i` is counted once in `a` and
/// `len - (c * 16 + i)` times in `b`).
pub fn adler32(bytes: &[u8]) -> u32 {
    const MODULUS: u64 = 65_521;
    const LANES: usize = 16;
    // Chunks per block: keeps every lane sum below 2^32 (`B[i] <= 255 * n * (n + 1) / 2`).
    const CHUNKS_PER_BLOCK: usize = 256;
    let (mut a, mut b) = (1u64, 0u64);
    for block in bytes.chunks(LANES * CHUNKS_PER_BLOCK) {
        let chunks = block.chunks_exact(LANES);
        let rest = chunks.remainder();
        let mut lane_a = [0u32; LANES];
        let mut lane_b = [0u32; LANES];
        for chunk in chunks {
            for i in 0..LANES {
                lane_a[i] += u32::from(chunk[i]);
                lane_b[i] += lane_a[i];
            }
        }
        let whole = (block.len() - rest.len()) as u64;
        let sum_a: u64 = lane_a.iter().map(|&x| u64::from(x)).sum();
        let sum_b: u64 = lane_b.iter().map(|&x| u64::from(x)).sum();
        let weighted: u64 = (0..LANES).map(|i| i as u64 * u64::from(lane_a[i])).sum();
        // `16 * sum_b >= weighted`: every byte's weight `16 * (n - c) - i` is positive.
        b = (b + whole * a + LANES as u64 * sum_b - weighted) % MODULUS;
        a = (a + sum_a) % MODULUS;
        for &byte in rest {
            a += u64::from(byte);
            b += a;
        }
        a %= MODULUS;
        b %= MODULUS;
    }
    ((b << 16) | a) as u32
}

/// Produces the response of fetch `index` on the stack and returns its checksum.
pub fn respond_and_checksum(index: u64) -> u32 {
    let mut buffer = [0u8; RESPONSE_BYTES];
    fill_response(index, &mut buffer);
    adler32(&buffer)
}

/// Combines per-fetch checksums independently of completion order.
pub fn combine_checksums(checksums: impl IntoIterator<Item = u32>) -> u64 {
    checksums
        .into_iter()
        .fold(0u64, |acc, c| acc.wrapping_add(u64::from(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook byte-at-a-time Adler-32, to check the lane version against.
    fn adler32_reference(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in bytes {
            a = (a + u32::from(byte)) % 65_521;
            b = (b + a) % 65_521;
        }
        (b << 16) | a
    }

    #[test]
    fn adler32_matches_the_reference_on_every_length_and_extreme_bytes() {
        // Lengths around the lane width and the block size, all-0xFF (the overflow worst case),
        // and pseudo-random bytes.
        let mut state = 0x1234_5678_9ABC_DEF1u64;
        let random: Vec<u8> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let ones = vec![0xFFu8; 20_000];
        for len in (0..100).chain([1023, 1024, 1025, 4095, 4096, 4097, 5552, 8193, 20_000]) {
            assert_eq!(
                adler32(&random[..len]),
                adler32_reference(&random[..len]),
                "len {len}"
            );
            assert_eq!(
                adler32(&ones[..len]),
                adler32_reference(&ones[..len]),
                "len {len}"
            );
        }
    }

    #[test]
    fn responses_are_the_asyncio_ports_bytes() {
        let mut buffer = [0u8; RESPONSE_BYTES];
        fill_response(0x0102_0304_0506_0708, &mut buffer);
        assert_eq!(&buffer[..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert!(buffer.chunks(8).all(|chunk| chunk == &buffer[..8]));
        // Python: zlib.adler32((5).to_bytes(8, "little") * 128) == 0x0E4B0281.
        assert_eq!(respond_and_checksum(5), 0x0E4B_0281);
    }

    #[test]
    fn adler32_known_value() {
        // The classic test vector.
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn responses_differ_per_fetch_and_are_stable() {
        assert_eq!(respond_and_checksum(5), respond_and_checksum(5));
        assert_ne!(respond_and_checksum(5), respond_and_checksum(6));
        let order_a = combine_checksums([1, 2, 3]);
        assert_eq!(order_a, combine_checksums([3, 1, 2]));
        assert_eq!(
            combine_checksums([u32::MAX, u32::MAX]),
            2 * u64::from(u32::MAX)
        );
    }
}
