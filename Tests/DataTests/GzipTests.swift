import Data
import Tensor
import Testing

/// Decompression (libdeflate for whole gzip members, zlib for the rest and for errors) and transparent gzip file
/// reads.
struct GzipTests {
    func randomBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        // Half random, half runs, so the data is compressible but not trivial.
        return (0..<count).map { i in i % 64 < 32 ? UInt8(truncatingIfNeeded: generator.next()) : UInt8(i / 64 % 7) }
    }

    @Test func gzipRoundTrip() throws {
        for count in [0, 1, 1000, 300_000] {
            let original = randomBytes(count)
            let compressed = compress(original)
            #expect(Gzip.hasGzipMagic(compressed))
            #expect(try Gzip.decompress(compressed) == original, "\(count) bytes")
        }
    }

    @Test func zlibHeaderIsDetected() throws {
        let original = randomBytes(5000, seed: 2)
        let compressed = compress(original, windowBits: 15)
        #expect(!Gzip.hasGzipMagic(compressed))
        #expect(try Gzip.decompress(compressed) == original)
    }

    @Test func concatenatedMembers() throws {
        let (first, second) = (randomBytes(700, seed: 3), randomBytes(900, seed: 4))
        #expect(try Gzip.decompress(compress(first) + compress(second)) == first + second)
        // A first member far larger than the last one's size field suggests: the output grows as it goes.
        let (zeros, tail) = ([UInt8](repeating: 0, count: 1_000_000), randomBytes(10, seed: 5))
        #expect(try Gzip.decompress(compress(zeros) + compress(tail)) == zeros + tail)
    }

    @Test func truncatedStream() {
        let compressed = compress(randomBytes(20_000, seed: 5))
        for cut in [compressed.count - 1, compressed.count / 2, 12] {
            #expect(throws: GzipError.truncated) { try Gzip.decompress(Array(compressed.prefix(cut))) }
        }
        #expect(throws: GzipError.truncated) { try Gzip.decompress([]) }
    }

    @Test func corruptStream() throws {
        var badCRC = compress(randomBytes(4000, seed: 6))
        badCRC[badCRC.count - 6] ^= 0xff  // inside the CRC-32 of the trailer
        let crcError = #expect(throws: GzipError.self) { try Gzip.decompress(badCRC) }
        guard case .corrupt(let message) = try #require(crcError) else {
            Issue.record("expected .corrupt, got \(String(describing: crcError))")
            return
        }
        #expect(message.contains("check"), "zlib's message: \(message)")

        var badMethod = compress(randomBytes(100, seed: 7))
        badMethod[2] = 7  // compression method must be 8 (deflate)
        let methodError = #expect(throws: GzipError.self) { try Gzip.decompress(badMethod) }
        #expect(
            methodError.map { if case .corrupt = $0 { true } else { false } } == true,
            "\(String(describing: methodError))")
        #expect(methodError?.description.contains("corrupt") == true)
    }

    @Test func trailingGarbage() {
        let compressed = compress([1, 2, 3])
        #expect(throws: GzipError.trailingData(3)) { try Gzip.decompress(compressed + [9, 9, 9]) }
        #expect(throws: Never.self) { try Gzip.decompress(compressed + [0, 0, 0, 0]) }
    }

    @Test func fileReadsAreTransparent() throws {
        let directory = try TempDirectory()
        let original = randomBytes(10_000, seed: 8)
        let raw = try directory.write("raw.bin", original)
        let gzipped = try directory.write("packed.bin.gz", compress(original))
        #expect(try ByteFile.read(raw) == original)
        #expect(try ByteFile.read(gzipped) == original)
        #expect(try ByteFile.readRaw(gzipped) == compress(original))
        #expect(try ByteFile.read(directory.write("empty.bin", [])) == [])
        #expect(try ByteFile.read(directory.write("one.bin", [0x1f])) == [0x1f])
    }

    @Test func fileErrorsNameTheFile() throws {
        let directory = try TempDirectory()
        expectError(.fileNotFound, mentioning: ["absent.gz"]) { try ByteFile.read(directory.file("absent.gz")) }
        expectError(.unreadable, mentioning: [directory.path, "directory"]) { try ByteFile.read(directory.path) }
        var corrupt = compress(randomBytes(3000, seed: 9))
        corrupt[corrupt.count - 6] ^= 0x55
        let path = try directory.write("broken.gz", corrupt)
        let error = expectError(.decompression, mentioning: ["broken.gz", "corrupt"]) { try ByteFile.read(path) }
        #expect(error.map { if case .decompression(_, .corrupt) = $0 { true } else { false } } == true)
    }
}
