import Data
import Testing

/// Deterministic, complete mini-batch schedules.
struct BatchScheduleTests {
    let indices = Array(stride(from: 100, to: 237, by: 1))  // 137 arbitrary sample indices

    @Test func sameInputsGiveSameBatches() {
        let a = BatchSchedule(indices: indices, batchSize: 16, seed: 42)
        let b = BatchSchedule(indices: indices, batchSize: 16, seed: 42)
        for epoch in 0..<3 { #expect(a.batches(epoch: epoch) == b.batches(epoch: epoch)) }
        #expect(BatchSchedule.batches(indices: indices, batchSize: 16, seed: 42, epoch: 1) == a.batches(epoch: 1))
    }

    @Test func epochsAndSeedsDiffer() {
        let schedule = BatchSchedule(indices: indices, batchSize: 16, seed: 42)
        #expect(schedule.batches(epoch: 0) != schedule.batches(epoch: 1))
        #expect(
            schedule.batches(epoch: 0) != BatchSchedule(indices: indices, batchSize: 16, seed: 43).batches(epoch: 0))
        #expect(schedule.order(epoch: 0) != indices)  // actually shuffled
    }

    @Test(arguments: [1, 7, 16, 137, 500])
    func everyIndexExactlyOncePerEpoch(batchSize: Int) {
        let schedule = BatchSchedule(indices: indices, batchSize: batchSize, seed: 9)
        for epoch in 0..<3 {
            let batches = schedule.batches(epoch: epoch)
            #expect(batches.count == schedule.batchCount)
            #expect(batches.count == (indices.count + batchSize - 1) / batchSize)
            #expect(batches.dropLast().allSatisfy { $0.count == batchSize })
            #expect(batches.flatMap { $0 }.sorted() == indices)
        }
    }

    @Test func dropLastOmitsOnlyTheShortBatch() {
        let schedule = BatchSchedule(indices: indices, batchSize: 16, seed: 5, dropLast: true)
        let batches = schedule.batches(epoch: 2)
        #expect(batches.count == 8)  // 137 = 8 × 16 + 9
        #expect(batches.allSatisfy { $0.count == 16 })
        let used = batches.flatMap { $0 }
        #expect(Set(used).count == 128)
        #expect(Array(schedule.order(epoch: 2).prefix(128)) == used)
    }

    @Test func withoutShuffleBatchesFollowTheGivenOrder() {
        let order = [5, 3, 9, 1, 0]
        let batches = BatchSchedule.batches(indices: order, batchSize: 2, seed: 1, epoch: 4, shuffle: false)
        #expect(batches == [[5, 3], [9, 1], [0]])
        let dropped = BatchSchedule.batches(
            indices: order, batchSize: 2, seed: 1, epoch: 4, shuffle: false, dropLast: true)
        #expect(dropped == [[5, 3], [9, 1]])
    }

    @Test func emptyIndicesGiveNoBatches() {
        #expect(BatchSchedule.batches(indices: [], batchSize: 4, seed: 1, epoch: 0).isEmpty)
    }
}
