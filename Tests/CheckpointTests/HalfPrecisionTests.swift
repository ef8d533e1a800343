import Checkpoint
import LetheTesting
import Testing

@Suite struct HalfPrecisionTests {
    @Test func float16HandComputedValues() {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3800, 0.5), (0x3555, 0.333251953125),
            (0x7BFF, 65504), (0x0400, 0x1p-14), (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24), (0x8001, -0x1p-24),
            (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        for (bits, value) in cases {
            // Every binary16 value is exactly a Float, so exact comparison is right here.
            #expect(HalfPrecision.float(fromFloat16Bits: bits) == value, "0x\(String(bits, radix: 16))")
            #expect(HalfPrecision.float16Bits(from: value) == bits, "\(value)")
        }
        let negativeZero = HalfPrecision.float(fromFloat16Bits: 0x8000)
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x7E00).isNaN)
        #expect(HalfPrecision.float(fromFloat16Bits: 0x7C01).isNaN)
        #expect(HalfPrecision.float(fromFloat16Bits: 0xFE00).sign == .minus)
        #expect(HalfPrecision.float16Bits(from: -0.0) == 0x8000)
        let nan = HalfPrecision.float16Bits(from: .nan)
        #expect(nan & 0x7C00 == 0x7C00 && nan & 0x03FF != 0)
    }

    @Test func float16RoundsToNearestEven() {
        let cases: [(Float, UInt16)] = [
            (1 + 0x1p-11, 0x3C00),  // halfway between 1 and 1 + 2^−10: ties to the even 1
            (1 + 3 * 0x1p-11, 0x3C02),  // halfway between odd and even: rounds up to even
            (1 + 0x1p-11 + 0x1p-20, 0x3C01),  // just above halfway
            (65519, 0x7BFF), (65520, 0x7C00), (1e10, 0x7C00), (-1e10, 0xFC00),
            (0x1p-25, 0x0000),  // half the smallest subnormal: ties to even zero
            (0x1p-25 * 1.0000001, 0x0001), (3 * 0x1p-25, 0x0002), (0x1p-26, 0x0000),
            (0x1p-14 - 0x1p-25, 0x0400),  // largest subnormal plus half a unit rounds up into the normals
            (.leastNonzeroMagnitude, 0x0000),
        ]
        for (value, bits) in cases {
            #expect(HalfPrecision.float16Bits(from: value) == bits, "\(value)")
        }
    }

    @Test func float16EveryBitPatternRoundTrips() {
        for bits in UInt16.min...UInt16.max {
            let value = HalfPrecision.float(fromFloat16Bits: bits)
            if value.isNaN {
                #expect((bits & 0x7C00) == 0x7C00 && (bits & 0x03FF) != 0)
            } else if HalfPrecision.float16Bits(from: value) != bits {
                Issue.record("0x\(String(bits, radix: 16)) does not round-trip")
            }
        }
    }

    #if !(os(macOS) && arch(x86_64))
        @Test func float16AgreesWithTheStandardLibrary() {
            for bits in UInt16.min...UInt16.max where !Float(Float16(bitPattern: bits)).isNaN {
                if HalfPrecision.float(fromFloat16Bits: bits) != Float(Float16(bitPattern: bits)) {
                    Issue.record("decoding 0x\(String(bits, radix: 16))")
                }
            }
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<200_000 {
                // Random bit patterns cover every exponent, including subnormal and overflowing ones.
                let value = Float(bitPattern: generator.next())
                guard !value.isNaN else { continue }
                if HalfPrecision.float16Bits(from: value) != Float16(value).bitPattern {
                    Issue.record("encoding \(value)")
                }
            }
        }
    #endif

    @Test func bfloat16Conversions() {
        let cases: [(UInt16, Float)] = [
            (0x3F80, 1), (0xC000, -2), (0x0000, 0), (0x7F80, .infinity), (0xFF80, -.infinity),
            (0x7F7F, Float(bitPattern: 0x7F7F_0000)), (0x0001, Float(bitPattern: 0x0001_0000)),
        ]
        for (bits, value) in cases {
            #expect(HalfPrecision.float(fromBFloat16Bits: bits) == value)
            #expect(HalfPrecision.bfloat16Bits(from: value) == bits)
        }
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x7FC0).isNaN)
        #expect(HalfPrecision.bfloat16Bits(from: .nan) & 0x7FC0 == 0x7FC0)
        // Ties to even: 1 + 2^−8 is halfway between 1 and 1 + 2^−7.
        #expect(HalfPrecision.bfloat16Bits(from: 1 + 0x1p-8) == 0x3F80)
        #expect(HalfPrecision.bfloat16Bits(from: 1 + 3 * 0x1p-8) == 0x3F82)
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfPrecision.bfloat16Bits(from: .greatestFiniteMagnitude) == 0x7F80)
        let pi = HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: .pi))
        #expect(Tolerance.isClose(pi, .pi, relative: 4e-3, absolute: 0))
    }
}
