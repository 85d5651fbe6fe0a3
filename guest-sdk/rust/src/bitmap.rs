//! Arrow bitmaps: bit i&7 of byte i>>3 is row i (LSB first), 1 = set.
//! Selections and validity bitmaps both use this layout, so a stage can
//! combine them a byte or a word at a time.

/// Bit i of bits.
#[inline]
pub fn get(bits: &[u8], i: usize) -> bool {
    bits[i >> 3] & (1 << (i & 7)) != 0
}

/// Sets bit i.
#[inline]
pub fn set(bits: &mut [u8], i: usize) {
    bits[i >> 3] |= 1 << (i & 7);
}

/// Clears bit i.
#[inline]
pub fn clear(bits: &mut [u8], i: usize) {
    bits[i >> 3] &= !(1 << (i & 7));
}

/// dst &= src over their common length, eight bytes (64 rows) per step:
/// clears the selection bits of null rows when src is a validity bitmap.
pub fn and_assign(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let w = word(d) & word(s);
        d.copy_from_slice(&w.to_le_bytes());
    }
    for (d, s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d &= *s;
    }
}

/// The number of set bits among the first n.
pub fn count(bits: &[u8], n: usize) -> usize {
    let full = n / 8;
    let mut c: usize = bits[..full].iter().map(|b| b.count_ones() as usize).sum();
    if n % 8 != 0 {
        c += (bits[full] & ((1u8 << (n % 8)) - 1)).count_ones() as usize;
    }
    c
}

#[inline]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        let mut b = vec![0u8; 3];
        for i in [0, 7, 8, 19] {
            set(&mut b, i);
        }
        assert_eq!(b, [0x81, 0x01, 0x08]);
        assert!(get(&b, 7) && get(&b, 19) && !get(&b, 18));
        clear(&mut b, 7);
        assert_eq!(b[0], 0x01);
        assert_eq!(count(&b, 24), 3);
        assert_eq!(count(&b, 19), 2, "bits past n are not counted");
        assert_eq!(count(&b, 0), 0);
    }

    #[test]
    fn and_assign_every_length() {
        for n in 0..40 {
            let mut dst: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let src: Vec<u8> = (0..n).map(|i| (i * 91 + 5) as u8).collect();
            let want: Vec<u8> = dst.iter().zip(&src).map(|(a, b)| a & b).collect();
            and_assign(&mut dst, &src);
            assert_eq!(dst, want, "n={}", n);
        }
    }
}
