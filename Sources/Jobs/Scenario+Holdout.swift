import Data
import Unlearning

extension Scenario {
    /// The scenario with its held-out data chosen by `spec`; nil chooses `validation` when the checkpoint records
    /// a validation split and `test-half` otherwise.
    ///
    /// With a test half, a seeded stratified half of the test set is appended to `train` (its samples follow the
    /// training samples and become `validation`, which steers the run) and `test` keeps only the other half, so
    /// nothing reported is measured on data that steered the run. A holdout that shares images with the
    /// training samples is refused.
    public func holdingOut(_ spec: HoldoutSpec?) throws(ScenarioError) -> Scenario {
        precondition(holdout == nil, "the holdout is chosen once")
        let recorded = !validation.isEmpty
        let chosen = spec ?? (recorded ? .validation : .testHalf(seed: HoldoutSpec.defaultSeed))
        let why: String? =
            spec != nil
            ? nil
            : recorded
                ? "the checkpoint records a validation split"
                : "the checkpoint records no validation split (e.g. trained on every sample, or outside lethe train)"
        switch chosen {
        case .validation:
            guard recorded else {
                throw ScenarioError(
                    "--holdout validation: the checkpoint records no validation split to hold out; use --holdout test-half (the default for such checkpoints), or --validation-fraction if it was trained without part of its training set"
                )
            }
            try Self.checkDisjoint(validation: validation, forgetSet: forgetSet)
            let holdout = Holdout(
                spec: chosen.description, chosenBy: spec == nil ? "default" : "--holdout", why: why,
                steering: Holdout.part(source: "validation", indices: validation),
                reported: Holdout.part(source: "test", indices: Array(0..<test.count), half: "all"))
            return with(train: train, test: test, validation: validation, holdout: holdout)
        case .testHalf(let seed):
            let all = Array(0..<test.count)
            let steering = test.stratifiedSample(of: all, fraction: 0.5, seed: seed, stream: HoldoutSpec.stream)
            let drawn = Set(steering)
            let reported = all.filter { !drawn.contains($0) }
            let shared = test.sharedImages(steering, with: train, forgetSet.forget + forgetSet.retain)
            if let (testIndex, trainIndex) = shared.first {
                throw ScenarioError(
                    "--holdout \(chosen) overlaps the training data: \(shared.count) of its \(steering.count) test samples are training images too (test sample \(testIndex) is training sample \(trainIndex)); a holdout must be data the model never trained on: use a test set that shares no images with the training set, or --holdout validation for a checkpoint with a validation split"
                )
            }
            let holdout = Holdout(
                spec: chosen.description, chosenBy: spec == nil ? "default" : "--holdout", why: why,
                steering: Holdout.part(
                    source: "test", indices: steering, half: "the stratified half drawn with seed \(seed)"),
                reported: Holdout.part(source: "test", indices: reported, half: "the other half"))
            return with(
                train: train.appending(test.subset(indices: steering)), test: test.subset(indices: reported),
                validation: Array(train.count..<(train.count + steering.count)), holdout: holdout)
        }
    }

    /// Refuses held-out indices that are also training (forget or retain) indices.
    static func checkDisjoint(validation: [Int], forgetSet: ForgetSet) throws(ScenarioError) {
        let training = IndexMask(forgetSet.forget + forgetSet.retain)
        let overlap = validation.filter(training.contains)
        guard let first = overlap.first else { return }
        throw ScenarioError(
            "the holdout overlaps the training data: \(overlap.count) held-out samples are also forget or retain samples (e.g. \(first)); held-out samples must be data the model never trained on"
        )
    }

    private func with(train: Dataset, test: Dataset, validation: [Int], holdout: Holdout) -> Scenario {
        var scenario = Scenario(
            model: model, metadata: metadata, recipe: recipe, split: split, train: train, test: test,
            forgetSet: forgetSet, validation: validation, holdout: holdout)
        scenario.methodChoice = methodChoice
        scenario.preprocessing = preprocessing
        scenario.notes = notes
        return scenario
    }
}
