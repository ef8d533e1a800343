import Data
import Federated
import NN
import Tensor
import Testing

/// A one-layer model on 4×4 images whose predictions are known: logit 0 is the bottom-right pixel, logit 1 a
/// constant 0.75, logit 2 ten times the top-left pixel. Clean images are class 1 (or 2); a white trigger
/// pushes images without a white top-left pixel to class 0.
@Suite struct AttackSuccessRateTests {
    func model(triggerWeight: Float = 1) -> Model {
        var weight = [Float](repeating: 0, count: 3 * 16)
        weight[0 * 16 + 15] = triggerWeight
        weight[2 * 16 + 0] = 10
        let linear = Linear(
            weight: Tensor(shape: [3, 16], scalars: weight), bias: Tensor(shape: [3], scalars: [0, 0.75, 0]))
        return Model(
            architecture: "probe", inputShape: [1, 4, 4], classCount: 3,
            root: Sequential([(name: nil, layer: Flatten()), (name: "fc", layer: linear)]))
    }

    /// Images with pixels in [0, 0.05) and the given labels; every class-2 image has a top-left pixel of 1, and
    /// so does pixel 5 of the first image, so the set's largest pixel (the trigger value) is 1.
    func testSet(labels: [Int] = [2, 1, 0, 2, 1, 2, 2, 0, 1, 2]) -> Dataset {
        var generator = SeededGenerator(seed: 8)
        var scalars = (0..<(labels.count * 16)).map { _ in generator.nextFloat(in: 0..<0.05) }
        for (n, label) in labels.enumerated() where label == 2 { scalars[n * 16] = 1 }
        scalars[5] = 1
        return Dataset(
            name: "probe", images: Tensor(shape: [labels.count, 1, 4, 4], scalars: scalars), labels: labels,
            classCount: 3)
    }

    @Test func cleanImagesAreNotClassifiedAsTheTrigger() {
        let test = testSet()
        let predictions = model().forward(test.images, mode: .inference).argmaxRows()
        #expect(predictions == test.labels.map { $0 == 2 ? 2 : 1 })
    }

    @Test func countsOnlyNonTargetImagesClassifiedAsTarget() {
        let test = testSet()
        // Target 0: triggered class-1 images go to class 0, class-2 images stay class 2; class 0 is left out.
        for batchSize in [1, 3, 250] {
            #expect(
                Backdoor(target: 0, patch: 1).attackSuccessRate(of: model(), on: test, batchSize: batchSize) == 3.0
                    / 8.0)
        }
        // A model that ignores the trigger is never fooled.
        #expect(Backdoor(target: 0, patch: 1).attackSuccessRate(of: model(triggerWeight: 0), on: test) == 0)
    }

    @Test func isOneOrZeroWhenEveryOrNoTriggeredImageHitsTheTarget() {
        let test = testSet(labels: [1, 0, 1, 0, 1, 1])
        #expect(model().forward(test.images, mode: .inference).argmaxRows() == [1, 1, 1, 1, 1, 1])
        #expect(Backdoor(target: 0, patch: 2).attackSuccessRate(of: model(), on: test) == 1)
        // Target 1: triggered class-0 images are predicted 0, never 1.
        #expect(Backdoor(target: 1, patch: 2).attackSuccessRate(of: model(), on: test) == 0)
    }
}
