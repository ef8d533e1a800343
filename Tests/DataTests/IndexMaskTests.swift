import Data
import Testing

struct IndexMaskTests {
    @Test func membersAreListedAscendingOnce() {
        let mask = IndexMask([7, 2, 7, 0, 11])
        #expect(mask.sorted == [0, 2, 7, 11])
        #expect(mask.contains(7) && mask.contains(0) && !mask.contains(3))
        // Beyond the largest member, and below zero, nothing is a member.
        #expect(!mask.contains(12) && !mask.contains(1_000_000) && !mask.contains(-1))
        #expect(IndexMask([Int]()).sorted.isEmpty && !IndexMask([Int]()).contains(0))
    }
}
