//! The "little work" each fetch does on its simulated 1 KiB response.
//!
//! The response is produced after the latency has elapsed, into a buffer on the poll's stack, so a
//! pending fetch never holds 1 KiB for the whole second: only the finished fetch touches it, briefly.

/// Size of a simulated response.
pub const RESPONSE_BYTES: usize = 1024;

/// Fills `buffer` with the deterministic "response" to fetch `index`.
pub fn fill_response(index: u64, buffer: &mut [u8; RESPONSE_BYTES]) {
    let mut state = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for chunk in buffer.chunks_exact_mut(8) {
        // xorshift64: cheap, and the bytes differ per fetch.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes());
    }
}

/// Adler-32 checksum of `bytes`.
pub fn adler32(bytes: &[u8]) -> u32 {
    const MODULUS: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest block for which the sums cannot overflow before the reduction.
    for block in bytes.chunks(5552) {
        for &byte in block {
            a += u32::from(byte);
            b += a;
        }
        a %= MODULUS;
        b %= MODULUS;
    }
    (b << 16) | a
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
