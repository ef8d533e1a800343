/// Bit-level conversions between `Float` and the 16-bit formats IEEE 754 binary16 (F16) and bfloat16 (BF16).
///
/// Widening is exact (every F16 and BF16 value is a `Float`), including subnormals, infinities and NaN
/// payloads. Narrowing rounds to nearest, ties to even; values too large become ±∞, NaN stays a quiet NaN
/// with the same sign.
public enum HalfPrecision {
    /// The `Float` with the value of the binary16 number `bits`.
    public static func float(fromFloat16Bits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa · 2^−24, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            // Infinity (mantissa 0) or NaN (payload kept in the top mantissa bits).
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            // Normal: rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// The binary16 number nearest to `value` (ties to even).
    public static func float16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x007F_FFFF
        if exponent == 0xFF {
            // Infinity stays infinity; NaN keeps the top of its payload and is forced quiet.
            return mantissa == 0 ? sign | 0x7C00 : sign | 0x7E00 | UInt16(truncatingIfNeeded: mantissa >> 13)
        }
        let unbiased = exponent - 127
        if unbiased > 15 { return sign | 0x7C00 }
        if unbiased >= -14 {
            // Normal result; rounding may carry into the exponent, up to 0x7C00 (∞), which is correct.
            var half = UInt32(unbiased + 15) << 10 | mantissa >> 13
            half += roundingIncrement(kept: half, dropped: mantissa & 0x1FFF, halfway: 0x1000)
            return sign | UInt16(truncatingIfNeeded: half)
        }
        if unbiased < -25 { return sign }  // below half the smallest subnormal (2^−25): rounds to ±0
        // Subnormal result, in units of 2^−24: significand · 2^(unbiased − 23 + 24), a right shift of 14...24.
        let significand = mantissa | 0x0080_0000
        let shift = UInt32(-(unbiased + 1))
        var half = significand >> shift
        half += roundingIncrement(
            kept: half, dropped: significand & ((1 << shift) - 1), halfway: 1 << (shift - 1))
        return sign | UInt16(truncatingIfNeeded: half)
    }

    /// The `Float` with the value of the bfloat16 number `bits` (the top half of a `Float`).
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The bfloat16 number nearest to `value` (ties to even).
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// 1 when the dropped low bits round the kept value up (round to nearest, ties to even), else 0.
    private static func roundingIncrement(kept: UInt32, dropped: UInt32, halfway: UInt32) -> UInt32 {
        dropped > halfway || (dropped == halfway && kept & 1 == 1) ? 1 : 0
    }
}
