import Data
import LetheTesting
import NN
import Tensor
import Testing

@testable import Unlearning

/// A small regression problem: 8×8 random images whose target is the mean of their top half, forgetting the
/// samples whose target is highest.
struct ToyRegression {
    let train: Dataset = {
        var generator = SeededGenerator(seed: 21)
        let images = Tensor.uniform(shape: [160, 1, 8, 8], in: -1..<1, using: &generator)
        let targets = (0..<160).map { n in images.scalars[(n * 64)..<(n * 64 + 32)].reduce(0, +) / 8 }
        return Dataset(
            name: "toy-regression", images: images, labels: [Int](repeating: 0, count: 160), classCount: 1,
            targets: Tensor(shape: [160, 1], scalars: targets))
    }()
    let split = TrainingSplit(validationFraction: 0.1, validationSeed: 3)

    static func model(seed: UInt64) -> Model {
        var generator = SeededGenerator(seed: seed)
        return Model(
            architecture: "toy-regressor", inputShape: [1, 8, 8], classCount: 1,
            root: Sequential([
                ("conv1", Conv2d(1, 3, kernel: 3, padding: 1, using: &generator)), (nil, ReLU()),
                (nil, Flatten()), ("fc", Linear(192, 1, using: &generator)),
            ]), head: .regression(outputs: 1))
    }

    var recipe: TrainingRecipe {
        var recipe = TrainingRecipe()
        recipe.epochs = 2
        recipe.batchSize = 16
        recipe.learningRate = 0.02
        return recipe
    }

    func original() throws -> Model {
        let model = Self.model(seed: 1)
        _ = try Trainer(model: model, recipe: recipe).fit(train, indices: split.trainingIndices(in: train))
        return model
    }

    func problem(_ method: any UnlearningMethod, params: [String: String] = [:]) throws -> UnlearningProblem {
        UnlearningProblem(
            train: train,
            forgetSet: try ForgetSelection.targetRange(lower: 0.3, upper: 10).resolve(in: train, split: split),
            validation: split.validationIndices(in: train),
            parameters: try MethodParameters(method.parameters, overrides: params), seed: 1, recipe: recipe,
            architecture: { Self.model(seed: $0) })
    }

    /// Runs `method` on `shards` logical shards; the unlearned weights' hash and the problem.
    func run(_ name: String, shards: Int, params: [String: String] = [:]) throws -> (String, UnlearningProblem) {
        let method = try #require(UnlearningMethods.named(name))
        let problem = try problem(method, params: params)
        let original = try original()
        let plan = try method.checkedPlan(for: problem)
        let state = PlanState(student: original.copy(), optimizers: plan.makeOptimizers())
        let executor = LocalExecutor(dataset: train, shards: shards, original: original) { Self.model(seed: $0) }
        try PlanRunner(executor: executor).run(plan, state: state)
        #expect(state.student.namedParameters.allSatisfy { $0.parameter.value.isFinite })
        return (BitHash.of(state.student.stateDict().map(\.tensor)), problem)
    }
}

struct BlindspotTests {
    let toy = ToyRegression()

    /// output = x₀ (weight [1, 0], bias 0) on four one-row "images"; samples 0–2 retained, 3 forgotten with the
    /// blindspot model's output 5. By hand: retain L1 mean (0.5 + 0 + 1)/3 = 0.5, forget L1 |4 − 5| = 1, forget
    /// share 1/4, so the loss is ¼·1 + ¾·0.5 = 0.625; ∂/∂bias = (−1 + 0 + 1 − 1)/4 = −0.25 and
    /// ∂/∂w₀ = (−1·1 + 0·2 + 1·3 − 1·4)/4 = −0.5.
    @Test func lossWeighsRetainAndForgetRowsByTheirShareOfTheBatch() throws {
        let data = Dataset(
            name: "hand", images: Tensor(shape: [4, 1, 1, 2], scalars: [1, 0, 2, 0, 3, 0, 4, 0]),
            labels: [0, 0, 0, 0], classCount: 1, targets: Tensor(shape: [4, 1], scalars: [1.5, 2, 2, 0]))
        let model = Model(
            architecture: "hand", inputShape: [1, 1, 2], classCount: 1,
            root: Sequential([
                (nil, Flatten()),
                (
                    "fc",
                    Linear(weight: Tensor(shape: [1, 2], scalars: [1, 0]), bias: Tensor(shape: [1], scalars: [0]))
                ),
            ]), head: .regression(outputs: 1))
        let step = Blindspot.step(
            batch: [0, 1, 2, 3], forgetRow: { $0 == 3 ? 0 : nil }, labels: data.labels, beta: 50, layers: [],
            seed: 0)
        for shards in [1, 3] {
            let state = PlanState(student: model.copy())
            state.tensors[Blindspot.outputs] = Tensor(shape: [1, 1], scalars: [5])
            let executor = LocalExecutor(dataset: data, shards: shards, original: model) { _ in model.copy() }
            let outcome = try executor.gradient(step, state: state)
            #expect(abs(outcome.loss - 0.625) < 1e-6, "\(shards) shards: loss \(outcome.loss)")
            let gradients = state.student.namedParameters.map(\.parameter.grad)
            #expect(Tolerance.isClose(gradients[0].scalars[0], -0.5), "∂/∂w₀ \(gradients[0].scalars)")
            #expect(Tolerance.isClose(gradients[0].scalars[1], 0))
            #expect(Tolerance.isClose(gradients[1].scalars[0], -0.25), "∂/∂bias \(gradients[1].scalars)")
        }
        // A batch of forget samples only is all blindspot; one of retain samples only has no forget part.
        let forgetOnly = Blindspot.step(
            batch: [3], forgetRow: { _ in 0 }, labels: data.labels, beta: 50, layers: ["conv1"], seed: 0)
        #expect(forgetOnly.parts.count == 1 && forgetOnly.parts[0].losses.count == 2)
        let retainOnly = Blindspot.step(
            batch: [0, 1], forgetRow: { _ in nil }, labels: data.labels, beta: 50, layers: ["conv1"], seed: 0)
        #expect(
            retainOnly.parts.count == 1 && retainOnly.parts[0].losses == [.absoluteError(target: .dataset, weight: 1)])
    }

    @Test(arguments: ["blindspot", "gaussian", "retrain", "finetune", "neggrad+"], [1, 3])
    func regressionMethodsRepeatTheirBitsForASeedAndShardCount(name: String, shards: Int) throws {
        let params = name == "blindspot" ? ["layers": "conv1", "batch-size": "32", "blindspot-epochs": "1"] : [:]
        let (first, _) = try toy.run(name, shards: shards, params: params)
        let (second, _) = try toy.run(name, shards: shards, params: params)
        #expect(first == second)
    }

    /// What a worker computes: each shard cut into a task of its own (stored targets and maps gathered into its
    /// "input/…" tensors, which are all a worker gets), computed as shard 0 of 1 and summed in shard order,
    /// gives the bits of the in-process executor.
    @Test func shardTasksRepeatTheLocalBits() throws {
        let original = try toy.original()
        let forget = try ForgetSelection.targetRange(lower: 0.3, upper: 10).resolve(in: toy.train, split: toy.split)
        let rowOf = Dictionary(uniqueKeysWithValues: forget.forget.enumerated().map { ($1, $0) })
        let (outputs, maps) = Blindspot.outputsAndMaps(
            ToyRegression.model(seed: 5), on: toy.train, forget.forget, layers: ["conv1"])
        let batch = Array(forget.forget.prefix(5)) + Array(forget.retain.prefix(9))
        let step = Blindspot.step(
            batch: batch, forgetRow: { rowOf[$0] }, labels: toy.train.labels, beta: 50, layers: ["conv1"], seed: 4)
        let tensors: [String: Tensor] = [Blindspot.outputs: outputs, Blindspot.maps + "conv1": maps["conv1"]!]

        let local = PlanState(student: original.copy())
        local.tensors = tensors
        let executor = LocalExecutor(dataset: toy.train, shards: 3, original: original) {
            ToyRegression.model(seed: $0)
        }
        let expected = try executor.gradient(step, state: local)

        let remote = original.copy()
        let results = (0..<3).map { shard in
            let (cut, inputs) = ShardedStep.task(step, shard: shard, of: 3, tensors: tensors)
            #expect(inputs.keys.allSatisfy { $0.hasPrefix("input/") })
            return ShardedStep.compute(
                cut, shard: 0, of: 1,
                inputs: ShardInputs(student: remote, dataset: toy.train, tensors: inputs) { _ in original })
        }
        let combined = ShardedStep.combine(results, of: step, into: remote)
        #expect(combined.loss == expected.loss)
        #expect(
            BitHash.of(remote.namedParameters.map(\.parameter.grad))
                == BitHash.of(local.student.namedParameters.map(\.parameter.grad)))
    }

    @Test func blindspotMovesTheForgetSetTowardTheBlindspotModel() throws {
        let method = Blindspot()
        let problem = try toy.problem(method, params: ["layers": "conv1", "batch-size": "32", "lr": "0.01"])
        let original = try toy.original()
        let plan = try method.plan(for: problem)
        let state = PlanState(student: original.copy(), optimizers: plan.makeOptimizers())
        let executor = LocalExecutor(dataset: toy.train, shards: 2, original: original) {
            ToyRegression.model(seed: $0)
        }
        try PlanRunner(executor: executor).run(plan, state: state)
        let forget = problem.forgetSet.forget
        let blindspot = try #require(state.tensors[Blindspot.outputs])
        #expect(blindspot.shape == [forget.count, 1])
        #expect(state.tensors[Blindspot.maps + "conv1"]?.shape == [forget.count, 64])
        #expect(state.tensors.keys.allSatisfy { !$0.hasPrefix(Blindspot.original) })
        func distance(_ model: Model) -> Float {
            let outputs = model.forward(toy.train.batch(indices: forget).images, mode: .inference)
            return meanAbsoluteError(prediction: outputs, target: blindspot).value
        }
        #expect(distance(state.student) < distance(original))
    }

    @Test func classificationInputIsRefusedWithClearErrors() throws {
        let classes = labelledDataset(perClass: [20, 20])
        do {
            _ = try ForgetSelection.classes([0]).resolve(in: toy.train)
            Issue.record("a class selection of a regression dataset resolved")
        } catch {
            guard case .wrongTask = error else { Issue.record("expected wrongTask, got \(error)"); return }
        }
        do {
            _ = try ForgetSelection.targetRange(lower: 0, upper: 1).resolve(in: classes)
            Issue.record("a target range of a classification dataset resolved")
        } catch {
            guard case .wrongTask = error else { Issue.record("expected wrongTask, got \(error)"); return }
        }
        #expect(throws: TaskMismatch.classifierOnRegressionData(model: "fmnist-mlp", dataset: "toy-regression")) {
            try TaskCompatibility.check(ModelZoo.fmnistMLP(seed: 1), toy.train)
        }
        #expect(throws: TaskMismatch.regressorOnClassificationData(model: "toy-regressor", dataset: "toy")) {
            try TaskCompatibility.check(ToyRegression.model(seed: 1), classes)
        }
        #expect(throws: TaskMismatch.self) {
            try TaskCompatibility.check(ModelZoo.fmnistCNN(seed: 1, regressionOutputs: 2), toy.train)
        }
        // A classification-only method on a regression problem, and blindspot on a classification one.
        #expect(throws: MethodNotApplicable.self) {
            try SCRUB(variant: .plain).checkedPlan(for: try toy.problem(SCRUB(variant: .plain)))
        }
        let toyClasses = ToyProblem()
        #expect(throws: MethodNotApplicable.self) {
            try Blindspot().checkedPlan(for: try toyClasses.problem(Blindspot(), .fraction(0.1, seed: 1)))
        }
        #expect(throws: MethodNotApplicable.self) {
            try Blindspot().plan(for: try toyClasses.problem(Blindspot(), .fraction(0.1, seed: 1)))
        }
    }
}

/// Relearn time on a regression model counts steps until the forget set's L1 error falls back to a goal.
struct RegressionRelearningTests {
    let toy = ToyRegression()

    @Test func aModelThatKnowsTheTargetsRelearnsAtOnceAndAFreshOneTakesLonger() throws {
        let original = try toy.original()
        let forget = try ForgetSelection.targetRange(lower: 0.3, upper: 10).resolve(in: toy.train, split: toy.split)
            .forget
        let known = RegressionMetrics.figures(original, on: toy.train, indices: forget).l1
        var relearning = Relearning(seed: 1)
        relearning.maximumSteps = 20
        #expect(relearning.steps(original, on: toy.train, forget: forget, goal: .error(known)) == 1)
        let fresh = ToyRegression.model(seed: 9)
        let freshError = RegressionMetrics.figures(fresh, on: toy.train, indices: forget).l1
        #expect(freshError > 2 * known, "a fresh model's forget L1 \(freshError) vs the original's \(known)")
        let steps = relearning.steps(fresh, on: toy.train, forget: forget, goal: .error(known))
        #expect(steps == nil || steps! > 1)
    }
}
