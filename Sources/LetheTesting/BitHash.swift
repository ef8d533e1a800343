import Tensor

/// A hash of tensors' exact bit patterns (FNV-1a, 64-bit), for bit-identity checks that stay readable when
/// they fail (comparing million-element arrays directly makes the test library diff them for minutes).
public enum BitHash {
    public static func of(_ tensors: [Tensor]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for tensor in tensors {
            for dimension in tensor.shape { hash = (hash ^ UInt64(dimension)) &* 0x100_0000_01B3 }
            for value in tensor.scalars { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01B3 }
        }
        return String(hash, radix: 16)
    }
}
