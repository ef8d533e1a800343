import Tensor
import Testing

/// Fresh memory populated on another thread while it is written keeps what was written, and takes no fault per page.
struct PagePopulationTests {
    @Test func populatingBesideTheWriterKeepsItsBytes() {
        let count = 16 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { buffer.deallocate() }
        let population = PagePopulation(buffer)
        for i in stride(from: 0, to: count, by: 4096) { buffer[i] = UInt8(truncatingIfNeeded: i / 4096 + 1) }
        population.wait()
        #expect((0..<(count / 4096)).allSatisfy { buffer[$0 * 4096] == UInt8(truncatingIfNeeded: $0 + 1) })
        // Where the kernel populates, fresh memory written after the wait takes (almost) no faults.
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { fresh.deallocate() }
        if PagePopulation(fresh).wait() {
            let before = MemoryPolicy.pageFaults
            for i in stride(from: 0, to: count, by: 4096) { fresh[i] = 1 }
            #expect(MemoryPolicy.pageFaults - before < count / 4096 / 10)
        }
    }

    @Test func emptyAndSubPageBuffersAreLeftAlone() {
        let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 1)
        defer { small.deallocate() }
        #expect(!PagePopulation(small).wait())
        #expect(!PagePopulation(UnsafeMutableRawBufferPointer(start: nil, count: 0)).wait())
    }
}
