import Testing
import Unlearning

struct RelearnTimeMetricsTests {
    @Test func epochsToReachCountsFromOne() {
        // Threshold 0.9 · 0.95 = 0.855: first met after the third epoch.
        #expect(RelearnTime.epochsToReach(target: 0.9, accuracies: [0.1, 0.5, 0.86, 0.95]) == 3)
        #expect(RelearnTime.epochsToReach(target: 0.9, accuracies: [0.1, 0.5, 0.86, 0.95], tolerance: 0) == 4)
        #expect(RelearnTime.epochsToReach(target: 0.9, accuracies: [0.88, 0.2]) == 1)
        #expect(RelearnTime.epochsToReach(target: 0.9, accuracies: [0.855]) == 1)
    }

    @Test func epochsToReachIsNilWhenNeverReached() {
        #expect(RelearnTime.epochsToReach(target: 0.9, accuracies: [0.1, 0.5, 0.85]) == nil)
        #expect(RelearnTime.epochsToReach(target: 0.9, accuracies: []) == nil)
    }

    @Test func anamnesisIndexIsARatioWithNilAsMaximum() {
        #expect(abs(RelearnTime.anamnesisIndex(unlearned: 3, reference: 6, maximum: 10) - 0.5) < 1e-12)
        #expect(abs(RelearnTime.anamnesisIndex(unlearned: 4, reference: 4, maximum: 10) - 1) < 1e-12)
        #expect(abs(RelearnTime.anamnesisIndex(unlearned: nil, reference: 5, maximum: 10) - 2) < 1e-12)
        #expect(abs(RelearnTime.anamnesisIndex(unlearned: 4, reference: nil, maximum: 10) - 0.4) < 1e-12)
        #expect(abs(RelearnTime.anamnesisIndex(unlearned: nil, reference: nil, maximum: 10) - 1) < 1e-12)
    }

    @Test func helpersCompose() {
        let target = 0.92
        let unlearned = RelearnTime.epochsToReach(target: target, accuracies: [0.3, 0.7, 0.9])
        let reference = RelearnTime.epochsToReach(target: target, accuracies: [0.1, 0.3, 0.5, 0.6, 0.7, 0.8])
        #expect(unlearned == 3 && reference == nil)
        #expect(abs(RelearnTime.anamnesisIndex(unlearned: unlearned, reference: reference, maximum: 6) - 0.5) < 1e-12)
    }
}
