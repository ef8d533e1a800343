import Tensor
import Testing

@testable import Transport

struct WeightsVersionTests {
    /// Reference values from the `xxhash` Python package (xxh64(...).hexdigest()).
    @Test func xxh64MatchesTheReference() {
        let long = Array((0..<5).flatMap { _ in (0...255).map(UInt8.init) }) + Array("xyz".utf8)
        let cases: [(bytes: [UInt8], seed: UInt64, expected: UInt64)] = [
            ([], 0, 0xef46_db37_51d8_e999),
            (Array("abc".utf8), 0, 0x44bc_2cf5_ad77_0999),
            (Array(long.prefix(35)), 0, 0xf8c4_b2da_cbdc_ba83),
            (long, 0, 0xafd1_8a39_57d3_670a),
            (long, 7, 0x8c97_4c90_66df_d8ee),
        ]
        for (bytes, seed, expected) in cases {
            #expect(bytes.withUnsafeBytes { XXH64.hash($0, seed: seed) } == expected, "\(bytes.count) bytes")
        }
    }

    /// A version names the exact bits, names and shapes: flipping one bit, renaming or reshaping changes it.
    @Test func aVersionChangesWithAnyBitNameOrShape() {
        let values = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let version = WeightsVersion.of([("w", values)])
        #expect(version.count == 16 && version.allSatisfy(\.isHexDigit))
        #expect(WeightsVersion.of([("w", values)]) == version)
        var flipped = values.scalars
        flipped[5] = Float(bitPattern: flipped[5].bitPattern ^ 1)
        #expect(WeightsVersion.of([("w", Tensor(shape: [2, 3], scalars: flipped))]) != version)
        #expect(WeightsVersion.of([("v", values)]) != version)
        #expect(WeightsVersion.of([("w", Tensor(shape: [3, 2], scalars: values.scalars))]) != version)
    }
}
