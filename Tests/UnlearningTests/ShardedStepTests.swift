import Data
import LetheTesting
import NN
import Tensor
import Testing
import Unlearning

struct ShardedStepTests {
    func batch(_ count: Int, seed: UInt64 = 1) -> (Tensor, [Int]) {
        var generator = SeededGenerator(seed: seed)
        return (
            Tensor.normal(shape: [count, 1, 28, 28], using: &generator),
            (0..<count).map { _ in generator.nextInt(below: 10) }
        )
    }

    func gradients(shards: Int, images: Tensor, labels: [Int]) -> (loss: Double, grads: [Tensor]) {
        let model = ModelZoo.fmnistCNN(seed: 2)
        let dataset = Dataset(name: "random", images: images, labels: labels, classCount: 10)
        let executor = LocalExecutor(dataset: dataset, shards: shards, original: model) { ModelZoo.fmnistCNN(seed: $0) }
        let step = GradientStep(
            parts: [
                BatchPart(inputs: .samples(Array(labels.indices)), labels: labels, losses: [.crossEntropy(weight: 1)])
            ],
            seed: 0)
        let outcome = try! executor.gradient(step, state: PlanState(student: model))
        return (outcome.loss, model.namedParameters.map(\.parameter.grad))
    }

    @Test func shardRowsCoverTheBatchInOrder() {
        let rows = (0..<4).map { ShardedStep.rows(ofShard: $0, count: 4, batch: 10) }
        #expect(rows == [0..<2, 2..<5, 5..<7, 7..<10])
    }

    @Test func shardedGradientIsTheBatchMeanGradient() {
        let (images, labels) = batch(24)
        let whole = gradients(shards: 1, images: images, labels: labels)
        let sharded = gradients(shards: 4, images: images, labels: labels)
        #expect(abs(whole.loss - sharded.loss) < 1e-5)
        for (a, b) in zip(whole.grads, sharded.grads) {
            #expect(Tolerance.mismatch(b, a, relative: 1e-3, absolute: 1e-6) == nil)
        }
    }

    @Test func sameShardCountGivesTheSameBits() {
        let (images, labels) = batch(24)
        let first = BitHash.of(gradients(shards: 3, images: images, labels: labels).grads)
        #expect(first == BitHash.of(gradients(shards: 3, images: images, labels: labels).grads))
    }
}

struct TrainerTests {
    func toyDataset(count: Int) -> Dataset {
        labelledDataset(perClass: [Int](repeating: count / 10, count: 10), seed: 4)
    }

    @Test func trainingLearnsAndIsReproducible() throws {
        let dataset = toyDataset(count: 256)
        var recipe = TrainingRecipe()
        recipe.epochs = 3
        recipe.batchSize = 32
        recipe.learningRate = 0.05
        recipe.shards = 2
        func train() throws -> (Model, [EpochReport]) {
            let model = ModelZoo.fmnistMLP(seed: 1)
            let reports = try Trainer(model: model, recipe: recipe).fit(dataset, indices: Array(0..<dataset.count))
            return (model, reports)
        }
        let (model, reports) = try train()
        #expect(reports.count == 3)
        #expect(reports.last!.meanLoss < reports.first!.meanLoss)
        #expect(Evaluator.evaluate(model, on: dataset).accuracy > 0.95)
        let (again, _) = try train()
        #expect(BitHash.of(model.stateDict().map(\.tensor)) == BitHash.of(again.stateDict().map(\.tensor)))
    }

    @Test func divergenceStopsTrainingWithAClearError() {
        let dataset = toyDataset(count: 128)
        var recipe = TrainingRecipe()
        recipe.epochs = 2
        recipe.batchSize = 32
        recipe.learningRate = 1e6
        recipe.momentum = 0
        let trainer = Trainer(model: ModelZoo.fmnistMLP(seed: 1), recipe: recipe)
        #expect(throws: DivergenceError.self) { try trainer.fit(dataset, indices: Array(0..<dataset.count)) }
    }

    @Test func recipeProblemsAreNamed() {
        var recipe = TrainingRecipe()
        recipe.shards = 500
        #expect(recipe.problem?.contains("shards") == true)
        recipe = TrainingRecipe()
        recipe.learningRate = 0
        #expect(recipe.problem?.contains("learning rate") == true)
        #expect(TrainingRecipe().problem == nil)
    }
}

struct EvaluatorTests {
    @Test func summaryCountsPerClassByHand() {
        let predictions = Evaluator.Predictions(
            labels: [0, 0, 1, 1, 1, 2], predicted: [0, 1, 1, 1, 0, 0], losses: [0.1, 2, 0.2, 0.3, 1.5, 3],
            logits: Tensor(zeros: [6, 4]))
        let evaluation = Evaluator.summarize(predictions, classCount: 4)
        #expect(evaluation.samples == 6)
        #expect(abs(evaluation.accuracy - 3.0 / 6.0) < 1e-12)
        #expect(abs(evaluation.loss - 7.1 / 6.0) < 1e-6)
        #expect(evaluation.perClassSamples == [2, 3, 1, 0])
        #expect(evaluation.perClassAccuracy.count == 4)
        #expect(evaluation.perClassAccuracy[0].map { abs($0 - 0.5) < 1e-12 } == true)
        #expect(evaluation.perClassAccuracy[1].map { abs($0 - 2.0 / 3.0) < 1e-12 } == true)
        #expect(evaluation.perClassAccuracy[2].map { $0 < 1e-12 } == true)
        #expect(evaluation.perClassAccuracy[3] == nil)
    }

    /// The batches run side by side on model copies; every batch, its place and its bits are those of a plain
    /// loop (odd batch count, a ragged last batch, indices out of order).
    @Test func sideBySideBatchesGiveThePlainLoopsBits() {
        let dataset = labelledDataset(perClass: [Int](repeating: 13, count: 10), seed: 5)
        let model = ModelZoo.fmnistCNN(seed: 2)
        let indices = Array((0..<dataset.count).reversed().filter { $0 % 3 != 1 })
        let batchSize = 20
        let predictions = Evaluator.predict(model, on: dataset, indices: indices, batchSize: batchSize)
        var logits: [Tensor] = []
        var losses: [Float] = []
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let batch = dataset.batch(indices: Array(indices[start..<min(start + batchSize, indices.count)]))
            let output = model.forward(batch.images, mode: .inference)
            logits.append(output)
            losses += crossEntropy(logits: output, labels: batch.labels, reduction: .sum).perSample
        }
        let expected = Tensor.concatenate(logits)
        #expect(indices.count % batchSize != 0 && (indices.count + batchSize - 1) / batchSize % 2 == 1)
        #expect(predictions.logits.shape == expected.shape)
        #expect(predictions.logits.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern))
        #expect(predictions.losses.map(\.bitPattern) == losses.map(\.bitPattern))
        #expect(predictions.predicted == expected.argmaxRows())
        #expect(predictions.labels == indices.map { dataset.labels[$0] })
    }
}

struct ShardTaskTests {
    let toy = ToyProblem()

    /// What a worker computes from a cut-out shard task has the bits of the in-place shard.
    @Test func aCutShardComputesTheSameBitsAsTheShardInPlace() throws {
        let original = try toy.original()
        var generator = SeededGenerator(seed: 3)
        let noise = Tensor.normal(shape: [6, 1, 28, 28], using: &generator)
        let step = GradientStep(
            parts: [
                BatchPart(
                    inputs: .samples(Array(0..<11)), labels: Array(toy.train.labels[0..<11]),
                    losses: [
                        .crossEntropy(weight: 1),
                        .distillation(teacher: .randomInitialization(seed: 9), temperature: 4, weight: 0.5),
                        .storedDistillation(
                            logits: "teacher", rows: Array((0..<11).reversed()), temperature: 2, weight: 0.25),
                    ]),
                BatchPart(
                    inputs: .tensorRows(name: "noise", rows: [5, 0, 3, 3, 1]), labels: [1, 2, 3, 4, 5],
                    losses: [.crossEntropy(weight: -1)]),
            ], seed: 4)
        let frozen = FrozenModels(original: original) { ModelZoo.fmnistMLP(seed: $0) }
        let state = ["noise": noise, "teacher": Tensor.normal(shape: [toy.train.count, 10], using: &generator)]
        for target in [GradientTarget.parameters, .inputs] {
            var step = step
            step.target = target
            for shard in 0..<3 {
                let student = original.copy()
                let inPlace = ShardedStep.compute(
                    step, shard: shard, of: 3,
                    inputs: ShardInputs(
                        student: student, dataset: toy.train, tensors: state, frozen: frozen.model))
                let (cut, tensors) = ShardedStep.task(step, shard: shard, of: 3, tensors: state)
                let worker = ShardedStep.compute(
                    cut, shard: 0, of: 1,
                    inputs: ShardInputs(
                        student: original.copy(), dataset: toy.train, tensors: tensors, frozen: frozen.model))
                #expect(BitHash.of(worker.parameterGradients) == BitHash.of(inPlace.parameterGradients))
                #expect(worker.weightedLoss.bitPattern == inPlace.weightedLoss.bitPattern)
                #expect(worker.correct == inPlace.correct)
                #expect(
                    BitHash.of(worker.inputGradients.compactMap { $0 })
                        == BitHash.of(inPlace.inputGradients.compactMap { $0 }))
            }
        }
    }

    /// Distillation from stored logits (the original's, predicted in the evaluator's batches) is distillation from
    /// the original, up to the low bits a batch's composition changes.
    @Test func storedLogitsDistilLikeTheTeacherItself() throws {
        let original = try toy.original()
        let frozen = FrozenModels(original: original) { ModelZoo.fmnistMLP(seed: $0) }
        let logits = Evaluator.predict(original, on: toy.train, indices: Array(0..<toy.train.count)).logits
        let batch = [3, 77, 150, 5, 420, 599, 12]
        func step(_ loss: LossComponent) -> ShardResult {
            let step = GradientStep(
                parts: [BatchPart(inputs: .samples(batch), labels: batch.map { toy.train.labels[$0] }, losses: [loss])],
                seed: 1)
            return ShardedStep.compute(
                step, shard: 0, of: 1,
                inputs: ShardInputs(
                    student: ModelZoo.fmnistMLP(seed: 2), dataset: toy.train, tensors: [OriginalLogits.tensor: logits],
                    frozen: frozen.model))
        }
        let stored = step(OriginalLogits.distillation(over: batch, temperature: 4, weight: 1))
        let run = step(.distillation(teacher: .original, temperature: 4, weight: 1))
        #expect(stored.weightedLoss > 0.01)
        #expect(abs(stored.weightedLoss - run.weightedLoss) < 1e-5 * run.weightedLoss)
        for (a, b) in zip(stored.parameterGradients, run.parameterGradients) {
            #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-5 + 1e-4 * abs($1) })
        }
    }
}
