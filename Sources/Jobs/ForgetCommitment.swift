import Crypto
import Data
import Foundation
import Tensor

/// A commitment to a forget set that lets one sample's membership be shown without the rest: a Merkle tree
/// (RFC 6962's shape and domain separation: leaves hashed with a 0x00 prefix, nodes with 0x01, a tree of n leaves
/// split at the largest power of two below n) over the forget samples in training-index order. Each leaf is
/// sha256(0x00 ‖ "lethe-forget-v1" ‖ index as 8 big-endian bytes ‖ sha256(sample)), where the sample's hash
/// covers its image as the dataset holds it (float32, little-endian, after the dataset's normalisation) and its
/// label (8 big-endian bytes).
public struct ForgetCommitment: Sendable, Equatable {
    public let root: String
    public let size: Int
    /// Leaf hashes in index order, and the indices.
    let leaves: [[UInt8]]
    public let indices: [Int]

    public init(forget: [Int], in dataset: Dataset) {
        indices = forget.sorted()
        leaves = indices.map { Self.leaf(index: $0, sampleSha256: Self.sampleSha256($0, in: dataset)) }
        size = indices.count
        root = Self.treeHash(leaves[...]).hexDigits
    }

    /// The inclusion proof for the sample at training index `index`, nil if it is not in the set.
    public func proof(for index: Int, in dataset: Dataset) -> InclusionProof? {
        guard let position = indices.firstIndex(of: index) else { return nil }
        return InclusionProof(
            index: index, sampleSha256: Self.sampleSha256(index, in: dataset).hexDigits, position: position,
            size: size, path: Self.auditPath(position, leaves[...]).map(\.hexDigits), root: root)
    }

    /// Hex sha256 of the sample at `index`: what a leaf commits to.
    public static func sampleDigest(_ index: Int, in dataset: Dataset) -> String {
        sampleSha256(index, in: dataset).hexDigits
    }

    /// sha256 of a sample's image bytes and label.
    static func sampleSha256(_ index: Int, in dataset: Dataset) -> [UInt8] {
        let sample = dataset.subset(indices: [index]).images
        var hasher = SHA256()
        sample.withUnsafeBufferPointer { floats in
            for value in floats {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { hasher.update(bufferPointer: $0) }
            }
        }
        withUnsafeBytes(of: UInt64(dataset.labels[index]).bigEndian) { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }

    static let leafTag = Array("lethe-forget-v1".utf8)

    static func leaf(index: Int, sampleSha256: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0] + leafTag
        withUnsafeBytes(of: UInt64(index).bigEndian) { bytes += $0 }
        return Array(SHA256.hash(data: bytes + sampleSha256))
    }

    static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: [1] + left + right))
    }

    /// The largest power of two below n (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    /// RFC 6962's tree hash (the hash of no leaves is sha256 of nothing).
    static func treeHash(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return Array(SHA256.hash(data: [UInt8]()))
        case 1: return leaves.first!
        default:
            let k = split(leaves.count)
            return node(
                treeHash(leaves.prefix(k)), treeHash(leaves.dropFirst(k)))
        }
    }

    /// RFC 6962's audit path of leaf `m`: the sibling subtree hashes from the leaf up.
    static func auditPath(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let k = split(leaves.count)
        if m < k { return auditPath(m, leaves.prefix(k)) + [treeHash(leaves.dropFirst(k))] }
        return auditPath(m - k, leaves.dropFirst(k)) + [treeHash(leaves.prefix(k))]
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}

/// That the sample at training index `index` is leaf `position` of a forget set of `size` samples with this
/// `root`: checkable from these fields alone (`verify`), without the other samples.
public struct InclusionProof: Sendable, Codable, Equatable {
    public let index: Int
    public let sampleSha256: String
    public let position: Int
    public let size: Int
    public let path: [String]
    public let root: String

    /// Whether the path leads from this sample's leaf to `root` (RFC 6962's verification of an audit path).
    public func verify(root expected: String? = nil) -> Bool {
        guard (0..<size).contains(position), let sample = ForgetCommitment.bytes(hex: sampleSha256), sample.count == 32
        else { return false }
        let path = self.path.compactMap(ForgetCommitment.bytes(hex:))
        guard path.count == self.path.count else { return false }
        var hash = ForgetCommitment.leaf(index: index, sampleSha256: sample)
        var (fn, sn) = (position, size - 1)
        for sibling in path {
            guard sn > 0 else { return false }
            if fn % 2 == 1 || fn == sn {
                hash = ForgetCommitment.node(sibling, hash)
                if fn % 2 == 0 {
                    while fn % 2 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                hash = ForgetCommitment.node(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash.hexDigits == root && (expected == nil || expected == root)
    }
}
