import Data
import LetheTesting
import NN
import Tensor
import Testing

@testable import Unlearning

struct PlanTests {
    let toy = ToyProblem()

    @Test func dampeningFollowsTheFormulaByHand() {
        var weights = Tensor(shape: [4], scalars: [1, 2, 3, 4])
        let forget = Tensor(shape: [4], scalars: [10, 1, 50, 0])
        let full = Tensor(shape: [4], scalars: [2, 1, 1, 1])
        // α = 2: entries 0 (10 > 4) and 2 (50 > 2) are selected; λ = 1 gives factors 2/10 and 1/50.
        let selected = SSD.dampen(&weights, forget: forget, full: full, alpha: 2, lambda: 1)
        #expect(selected == 2)
        #expect(Tolerance.mismatch(weights, Tensor(shape: [4], scalars: [0.2, 2, 0.06, 4]), relative: 1e-6) == nil)
    }

    @Test func runnerUpSkipsTheTrueLabel() {
        let logits = Tensor(shape: [2, 3], scalars: [5, 4, 1, 0, 2, 3])
        #expect(SCRUBAndLearn.runnerUp(logits, excluding: [0, 2]) == [1, 1])
        // Forgetting classes 0 and 1: the runner-up is never another forgotten class.
        #expect(SCRUBAndLearn.runnerUp(logits, excluding: [0, 1], forgotten: [0, 1]) == [2, 2])
        // Every other class forgotten: only the row's own label is skipped.
        #expect(SCRUBAndLearn.runnerUp(logits, excluding: [0, 2], forgotten: [0, 1, 2]) == [1, 1])
    }

    @Test func featureDistanceGradientMatchesFiniteDifferences() {
        var generator = SeededGenerator(seed: 5)
        let student = Tensor.normal(shape: [3, 6], using: &generator)
        let teacher = Tensor.normal(shape: [2, 6], using: &generator)
        let rows = 1..<3
        let (_, gradient) = LossTerms.normalizedFeatureDistance(student: student, rows: rows, teacher: teacher)
        for index in 0..<student.count {
            var plus = student
            var minus = student
            plus.withUnsafeMutableBufferPointer { $0[index] += 1e-3 }
            minus.withUnsafeMutableBufferPointer { $0[index] -= 1e-3 }
            let numeric =
                (LossTerms.normalizedFeatureDistance(student: plus, rows: rows, teacher: teacher).0
                    - LossTerms.normalizedFeatureDistance(student: minus, rows: rows, teacher: teacher).0) / 2e-3
            #expect(abs(numeric - gradient.scalars[index]) < 2e-2, "element \(index)")
        }
    }

    @Test func shardedMixedStepsMatchTheWholeBatch() throws {
        let original = try toy.original()
        let step = GradientStep(
            parts: [
                BatchPart(
                    inputs: .samples(Array(0..<20)), labels: Array(toy.train.labels[0..<20]),
                    losses: [
                        .crossEntropy(weight: 1),
                        .distillation(teacher: .randomInitialization(seed: 9), temperature: 4, weight: 0.5),
                    ]),
                BatchPart(
                    inputs: .samples(Array(20..<27)), labels: Array(toy.train.labels[20..<27]),
                    losses: [.distillation(teacher: .original, temperature: 2, weight: -1)]),
            ], seed: 4)
        func gradients(shards: Int) throws -> (Double, [Tensor]) {
            let student = original.copy()
            student.namedParameters[0].parameter.value.scale(by: 0.9)  // differ from the teacher
            let executor = LocalExecutor(dataset: toy.train, shards: shards, original: original) {
                ModelZoo.fmnistMLP(seed: $0)
            }
            let outcome = try executor.gradient(step, state: PlanState(student: student))
            return (outcome.loss, student.namedParameters.map(\.parameter.grad))
        }
        let (wholeLoss, whole) = try gradients(shards: 1)
        let (shardedLoss, sharded) = try gradients(shards: 4)
        #expect(abs(wholeLoss - shardedLoss) < 1e-4)
        for (a, b) in zip(whole, sharded) { #expect(Tolerance.mismatch(b, a, relative: 1e-3, absolute: 1e-6) == nil) }
    }

    @Test func inputGradientsMatchFiniteDifferences() throws {
        let model = try toy.original()
        var generator = SeededGenerator(seed: 8)
        let noise = Tensor.normal(shape: [3, 1, 28, 28], using: &generator)
        let step = GradientStep(
            parts: [
                BatchPart(
                    inputs: .tensorRows(name: "noise", rows: [0, 1, 2]), labels: [1, 2, 3],
                    losses: [.crossEntropy(weight: -1)])
            ],
            target: .inputs, isTraining: false, seed: 0)
        let executor = LocalExecutor(dataset: toy.train, shards: 2, original: model) { ModelZoo.fmnistMLP(seed: $0) }
        let state = PlanState(student: model)
        state.tensors["noise"] = noise
        let gradient = try #require(try executor.gradient(step, state: state).inputGradients[0])
        #expect(gradient.shape == noise.shape)
        func loss(_ input: Tensor) -> Double {
            -Double(crossEntropy(logits: model.forward(input, mode: .inference), labels: [1, 2, 3]).value)
        }
        for index in stride(from: 0, to: noise.count, by: 97) {
            var plus = noise
            var minus = noise
            plus.withUnsafeMutableBufferPointer { $0[index] += 1e-2 }
            minus.withUnsafeMutableBufferPointer { $0[index] -= 1e-2 }
            let numeric = Float((loss(plus) - loss(minus)) / 2e-2)
            #expect(abs(numeric - gradient.scalars[index]) < 1e-3 + 0.05 * abs(numeric), "element \(index)")
        }
    }

    @Test func mixedBatchesVisitEveryItemOnce() {
        let batches = MixedBatches(
            sources: [
                BatchSource(
                    inputs: .samples, items: [5, 6, 7], labels: [0, 0, 0], losses: [.crossEntropy(weight: 1)]),
                BatchSource(inputs: .tensorRows("noise"), items: [0, 1, 0, 1], labels: [2, 2, 2, 2], losses: []),
            ], batchSize: 3, seed: 1)
        #expect(batches.count == 3)
        var samples: [Int] = []
        var rows: [Int] = []
        for index in 0..<batches.count {
            for part in batches.step(index, seed: 0).parts {
                switch part.inputs {
                case .samples(let indices): samples += indices
                case .tensorRows(_, let tensorRows): rows += tensorRows
                }
            }
        }
        #expect(samples.sorted() == [5, 6, 7])
        #expect(rows.sorted() == [0, 0, 1, 1])
    }
}

struct TrainingSplitTests {
    let dataset = labelledDataset(perClass: [30, 50, 20, 40])

    @Test func validationIsStratifiedSeededAndDisjoint() {
        let split = TrainingSplit(validationFraction: 0.1, validationSeed: 2)
        let validation = split.validationIndices(in: dataset)
        #expect(validation.count == 3 + 5 + 2 + 4)
        #expect(Set(validation).isDisjoint(with: split.trainingIndices(in: dataset)))
        #expect(validation.count + split.trainingIndices(in: dataset).count == dataset.count)
        #expect(TrainingSplit(validationFraction: 0.1, validationSeed: 3).validationIndices(in: dataset) != validation)
    }

    @Test func confusionSwapsThatManyLabelsOfEachClass() throws {
        let split = TrainingSplit(
            validationFraction: 0.1, validationSeed: 2, confusion: .init(classes: [1, 3], count: 7, seed: 5))
        #expect(split.problem(in: dataset) == nil)
        let swapped = split.swappedIndices(in: dataset)
        #expect(swapped.filter { dataset.labels[$0] == 1 }.count == 7)
        #expect(swapped.filter { dataset.labels[$0] == 3 }.count == 7)
        let confused = split.applying(to: dataset)
        #expect(swapped.allSatisfy { confused.labels[$0] == (dataset.labels[$0] == 1 ? 3 : 1) })
        #expect(zip(confused.labels, dataset.labels).filter { $0 != $1 }.count == 14)
        let forgetSet = try ForgetSelection.confusion(classes: [1, 3], count: 7).resolve(in: dataset, split: split)
        #expect(forgetSet.forget == swapped)
        #expect(throws: ForgetSelectionError.self) {
            try ForgetSelection.confusion(classes: [1, 3], count: 8).resolve(in: dataset, split: split)
        }
        #expect(TrainingSplit(confusion: .init(classes: [1, 3], count: 999, seed: 5)).problem(in: dataset) != nil)
    }

    @Test func forgetSetsNeverIncludeValidationSamples() throws {
        let split = TrainingSplit(validationFraction: 0.2, validationSeed: 1)
        let validation = Set(split.validationIndices(in: dataset))
        for selection in [ForgetSelection.classes([2]), .fraction(0.3, seed: 4)] {
            let set = try selection.resolve(in: dataset, split: split)
            #expect(validation.isDisjoint(with: set.forget) && validation.isDisjoint(with: set.retain))
            #expect(set.forget.count + set.retain.count + validation.count == dataset.count)
        }
        #expect(throws: ForgetSelectionError.self) {
            try ForgetSelection.indices([validation.first!]).resolve(in: dataset, split: split)
        }
    }
}

struct RelearningTests {
    let toy = ToyProblem()

    @Test func aModelThatKnowsTheClassRelearnsAtOnceAndAFreshOneTakesLonger() throws {
        let original = try toy.original()
        let forget = try ForgetSelection.classes([0]).resolve(in: toy.train, split: toy.split).forget
        var relearning = Relearning(seed: 1)
        relearning.maximumSteps = 30
        #expect(relearning.steps(original, on: toy.train, forget: forget, goal: .accuracy(0.9)) == 1)
        let fresh = relearning.steps(ModelZoo.fmnistMLP(seed: 5), on: toy.train, forget: forget, goal: .accuracy(0.99))
        #expect(fresh == nil || fresh! > 1)
        let index = Anamnesis(steps: 4, referenceSteps: 8, maximumSteps: 30).index
        #expect(abs(index - 0.5) < 1e-12)
    }
}
