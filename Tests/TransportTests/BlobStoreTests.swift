import Foundation
import LetheTesting
import Testing
import Transport

struct BlobStoreTests {
    /// A store that is not flushed to disk (an embedded cluster's) stores and serves blobs like a durable one, under
    /// the same addresses, and a durable store opened on its directory reads them.
    @Test func aStoreWithoutFlushingKeepsTheSameBlobs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try BlobStore(directory: directory.url, durable: false)
        let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let whole = try store.put(bytes)
        let streamed = try store.put { write in bytes.withUnsafeBytes { write($0) } }
        #expect(whole == BlobStore.sha256(bytes) && streamed == whole)
        #expect(try BlobStore(directory: directory.url).data(whole) == bytes)
    }

    /// A worker's cache stays within its budget: the least recently used complete blobs go first, never one a task
    /// is about to read (spared, or used within the recent window), nor a partial download.
    @Test func pruningRemovesTheLeastRecentlyUsedBlobsOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try BlobStore(directory: directory.url)
        func blob(_ byte: UInt8, usedHoursAgo hours: Double) throws -> String {
            let sha256 = try store.put(Data(repeating: byte, count: 1000))
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -3600 * hours)], ofItemAtPath: store.url(of: sha256).path
            )
            return sha256
        }
        let (oldest, spared, older, recent) = (
            try blob(1, usedHoursAgo: 5), try blob(2, usedHoursAgo: 4), try blob(3, usedHoursAgo: 3),
            try blob(4, usedHoursAgo: 0)
        )
        let used = try blob(5, usedHoursAgo: 2)
        store.markUsed(used)  // now the most recent
        let partial = BlobStore.sha256(Data(repeating: 6, count: 2000))
        #expect(try !store.append(partial, offset: 0, total: 2000, bytes: [UInt8](repeating: 6, count: 1000)))

        let pruning = store.prune(toAtMost: 2500, sparing: [spared])
        #expect((pruning.removed, pruning.freedBytes, pruning.keptBytes) == (2, 2000, 3000))
        #expect(!store.contains(oldest) && !store.contains(older))
        #expect(store.contains(spared) && store.contains(recent) && store.contains(used))
        #expect(store.partialLength(partial) == 1000)
        // Over budget with nothing old enough to remove: everything stays.
        #expect(store.prune(toAtMost: 0, sparing: [spared]).removed == 0)
    }

    /// Uploads and downloads resume from what is already stored; chunks out of order and bytes that do not
    /// hash to their address are refused, and nothing corrupt is ever stored.
    @Test func chunkedTransfersResumeAndRefuseWhatDoesNotFit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try BlobStore(directory: directory.url)
        let data = [UInt8]((0..<10_000).map { UInt8($0 % 251) })
        let sha256 = BlobStore.sha256(data)
        #expect(try !store.append(sha256, offset: 0, total: data.count, bytes: Array(data[0..<4000])))
        #expect(store.partialLength(sha256) == 4000)
        #expect(throws: BlobError.outOfOrder(sha256, expected: 4000, received: 6000)) {
            try store.append(sha256, offset: 6000, total: data.count, bytes: Array(data[6000...]))
        }
        #expect(try store.append(sha256, offset: 4000, total: data.count, bytes: Array(data[4000...])))
        #expect(try store.data(sha256) == Data(data))

        let claimed = String(repeating: "ab", count: 32)
        #expect(throws: BlobError.self) { try store.append(claimed, offset: 0, total: 3, bytes: [1, 2, 3]) }
        #expect(!store.contains(claimed) && store.partialLength(claimed) == 0)
        #expect(throws: BlobError.unknown(claimed)) { try store.data(claimed) }
    }

    /// Two stores on one directory (two worker processes with the default cache) download the same blob chunk by
    /// chunk, interleaved: each keeps its own partial download, and both end with the right bytes.
    @Test func storesSharingADirectoryDoNotInterleaveDownloads() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (first, second) = (try BlobStore(directory: directory.url), try BlobStore(directory: directory.url))
        let data = [UInt8]((0..<10_000).map { UInt8($0 % 253) })
        let sha256 = BlobStore.sha256(data)
        for start in stride(from: 0, to: data.count, by: 2500) {
            let chunk = Array(data[start..<start + 2500])
            for store in [first, second] {
                #expect(store.partialLength(sha256) == start)
                _ = try store.append(sha256, offset: start, total: data.count, bytes: chunk)
            }
        }
        #expect(try first.data(sha256) == Data(data) && second.data(sha256) == Data(data))
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: directory.url.path).filter {
            $0.contains("partial")
        }
        #expect(leftovers.isEmpty)
    }

    /// A partial download left by a process that has died is taken over and resumed; one whose process is alive
    /// (here, another store of this process) is left to it; one whose blob is complete is deleted.
    @Test func aDeadProcessesPartialDownloadIsResumed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = [UInt8]((0..<10_000).map { UInt8($0 % 241) })
        let sha256 = BlobStore.sha256(data)
        let living = try BlobStore(directory: directory.url)
        _ = try living.append(sha256, offset: 0, total: data.count, bytes: Array(data[0..<1000]))
        #expect(try BlobStore(directory: directory.url).partialLength(sha256) == 0)

        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let orphan = living.url(of: sha256).appendingPathExtension("partial-\(exited.processIdentifier)-0")
        try Data(data[0..<4000]).write(to: orphan)
        let restarted = try BlobStore(directory: directory.url)
        #expect(restarted.partialLength(sha256) == 4000)
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        #expect(try restarted.append(sha256, offset: 4000, total: data.count, bytes: Array(data[4000...])))
        #expect(try restarted.data(sha256) == Data(data))

        // A dead process's partial download of a blob that is complete by now is deleted by the next store.
        try Data(data[0..<4000]).write(to: orphan)
        _ = try BlobStore(directory: directory.url)
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
    }

    /// A blob handed over piece by piece is hashed as it is written: the address and bytes of `put(Data)` (across
    /// the 4 MB write slices), a second copy is a no-op, and nothing is left behind by a put that fails midway or by
    /// a process that died while storing.
    @Test func streamedPutsStoreTheBytesOfWholeOnesAndLeaveNothingBehind() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try BlobStore(directory: directory.url)
        let data = [UInt8]((0..<9_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        let pieces = [0..<10, 10..<4_500_000, 4_500_000..<4_500_000, 4_500_000..<9_500_000]
        func streamed() throws -> String {
            try store.put { consume in
                data.withUnsafeBytes { bytes in pieces.forEach { consume(UnsafeRawBufferPointer(rebasing: bytes[$0])) }
                }
            }
        }
        let sha256 = try streamed()
        #expect(sha256 == BlobStore.sha256(data))
        #expect(try store.data(sha256) == Data(data))
        #expect(try streamed() == sha256 && store.put(Data(data)) == sha256)

        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try store.put { consume in
                [UInt8](repeating: 7, count: 100).withUnsafeBytes(consume)
                throw Interrupted()
            }
        }
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let orphan = directory.url.appendingPathComponent(".incoming-\(exited.processIdentifier)-0")
        try Data(data[0..<100]).write(to: orphan)
        _ = try BlobStore(directory: directory.url)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(names == [String(sha256.prefix(2))], "only the blob's folder: \(names)")
    }
}
