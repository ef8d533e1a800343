import Cluster
import Foundation
import LetheTesting
import Testing

struct BlobStoreTests {
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
}
