import Data
import Federated
import LetheTesting
import Tensor
import Testing

@Suite struct BackdoorPoisoningTests {
    @Test func stampingTouchesExactlyThePatch() {
        let shape = [2, 3, 5, 6]
        let images = Tensor(shape: shape, scalars: (0..<180).map { Float($0) })
        let stamped = Backdoor(patch: 2).stamped(images, value: -7)
        var changed = 0
        for n in 0..<2 {
            for c in 0..<3 {
                for h in 0..<5 {
                    for w in 0..<6 {
                        let i = ((n * 3 + c) * 5 + h) * 6 + w
                        let inPatch = h >= 3 && w >= 4
                        #expect(stamped.scalars[i] == (inPatch ? -7 : images.scalars[i]))
                        if stamped.scalars[i] != images.scalars[i] { changed += 1 }
                    }
                }
            }
        }
        #expect(changed == 2 * 3 * 2 * 2)
        #expect(stamped.shape == shape)
    }

    @Test func poisoningAddsStampedTargetLabelledCopiesOfNonTargetSamples() throws {
        let dataset = labelledDataset(perClass: [10, 10, 10, 10], seed: 4)
        let backdoor = Backdoor(fraction: 0.25, target: 1, patch: 3)
        let poisoned = try backdoor.poisoned(dataset, seed: 11)
        #expect(poisoned.count == 50)
        #expect(Array(poisoned.labels.prefix(40)) == dataset.labels)
        #expect(poisoned.images.slice(rows: 0..<40) == dataset.images)
        #expect(poisoned.labels.suffix(10).allSatisfy { $0 == 1 })

        let white = dataset.images.scalars.max() ?? 0
        let stampedOriginals = backdoor.stamped(dataset.images, value: white)
        var sources: [Int] = []
        for row in 40..<50 {
            let copy = poisoned.images.slice(rows: row..<(row + 1))
            let source = (0..<40).first { stampedOriginals.slice(rows: $0..<($0 + 1)) == copy }
            #expect(source != nil)
            if let source { sources.append(source) }
        }
        #expect(sources.count == 10)
        #expect(Set(sources).count == 10)
        #expect(sources.allSatisfy { dataset.labels[$0] != 1 })
        // The trigger is the dataset's white: the bottom-right pixel of every copy.
        #expect((40..<50).allSatisfy { poisoned.images.scalars[$0 * 784 + 783] == white })
    }

    @Test func poisoningIsSeeded() throws {
        let dataset = labelledDataset(perClass: [10, 10, 10], seed: 2)
        let backdoor = Backdoor(fraction: 0.2, target: 0)
        let a = try backdoor.poisoned(dataset, seed: 1)
        #expect(try backdoor.poisoned(dataset, seed: 1).images == a.images)
        #expect(try backdoor.poisoned(dataset, seed: 2).images != a.images)
    }

    @Test func poisoningUsesEveryNonTargetSampleWhenThereAreTooFew() throws {
        let dataset = labelledDataset(perClass: [18, 2], seed: 3)
        let poisoned = try Backdoor(fraction: 0.5, target: 0).poisoned(dataset, seed: 1)
        #expect(poisoned.count == 22)
        #expect(poisoned.classCounts == [20, 2])
    }

    @Test func poisoningRefusesAMissingTargetOrAnOversizedPatch() {
        let dataset = labelledDataset(perClass: [5, 5], seed: 3)
        #expect(throws: FederatedError.backdoorTargetOutOfRange(target: 2, classCount: 2)) {
            try Backdoor(target: 2).poisoned(dataset, seed: 1)
        }
        #expect(throws: FederatedError.backdoorPatchTooLarge(patch: 29, height: 28, width: 28)) {
            try Backdoor(patch: 29).poisoned(dataset, seed: 1)
        }
    }

    @Test func triggeredTestSetDropsTheTargetClassAndKeepsTrueLabels() {
        let test = labelledDataset(perClass: [5, 7, 3], seed: 6)
        let backdoor = Backdoor(target: 1, patch: 2)
        let triggered = backdoor.triggeredTestSet(test)
        let kept = test.indices(excludingClasses: [1])
        #expect(triggered.count == 8)
        #expect(triggered.labels == kept.map { test.labels[$0] })
        #expect(!triggered.labels.contains(1))
        let white = test.images.scalars.max() ?? 0
        #expect(triggered.images == backdoor.stamped(test.images.gather(rows: kept), value: white))
    }
}
