import Checkpoint
import Data
import Foundation
import NN
import Tensor
import Unlearning

/// One reference model of the membership audit, wherever it is trained (`lethe audit prepare` here, or a
/// coordinator's `audit-reference` job on its workers): the original's recipe with a seed of its own, on the
/// members of a seeded half of the split's training pool. Both places train the same plan from the same
/// initialisation, so they write the same bits.
public struct ReferenceTraining: Sendable, Codable, Equatable {
    public let architecture: String
    /// The original's recipe, and the split whose training samples the references halve.
    public let recipe: TrainingRecipe
    public let split: TrainingSplit
    /// Seed of the membership matrix (and of each reference's recipe seed).
    public let seed: UInt64
    public let references: Int
    public let index: Int

    public init(
        architecture: String, recipe: TrainingRecipe, split: TrainingSplit, seed: UInt64, references: Int, index: Int
    ) {
        self.architecture = architecture
        self.recipe = recipe
        self.split = split
        self.seed = seed
        self.references = references
        self.index = index
    }

    /// A reference's description as a job carries it, checked: a usable recipe, 2 to 256 references, an index
    /// among them and a known architecture.
    public static func decode(_ data: Data) throws(ReferenceTrainingError) -> ReferenceTraining {
        let training: ReferenceTraining
        do {
            training = try JSONDecoder.snakeCase.decode(ReferenceTraining.self, from: data)
        } catch {
            throw .invalid("the reference's description does not read: \(error)")
        }
        if let problem = training.recipe.problem { throw .invalid("the reference's recipe: \(problem)") }
        guard (2...256).contains(training.references), (0..<training.references).contains(training.index) else {
            throw .invalid("reference \(training.index) of \(training.references): there are 2 to 256, counted from 0")
        }
        guard (try? ModelSpec.build(training.architecture, seed: 0)) != nil else {
            throw .invalid("unknown architecture '\(training.architecture)'")
        }
        return training
    }

    /// Where the reference goes in its directory.
    public var file: String { String(format: "reference-%02d.safetensors", index) }

    /// The original's recipe with this reference's own seed (initialisation and shuffling).
    public var referenceRecipe: TrainingRecipe {
        var recipe = recipe
        var generator = SeededGenerator(seed: seed, stream: "reference-\(index)")
        recipe.seed = generator.next()
        return recipe
    }

    /// The samples (indices of the training set) this reference trains on.
    public func members(of trainingSet: Dataset) -> [Int] {
        ReferenceMembership(pool: split.trainingIndices(in: trainingSet), references: references, seed: seed)
            .members(of: index)
    }

    /// The untrained model and its trainer.
    public func trainer() throws -> Trainer {
        let recipe = referenceRecipe
        return Trainer(model: try ModelSpec.build(architecture, seed: recipe.seed), recipe: recipe)
    }

    /// Saves a trained reference with the metadata the audit checks.
    public func save(_ model: Model, to url: URL, datasetName: String, members: Int) throws {
        let recipeJSON = String(decoding: try JSONEncoder.sorted.encode(referenceRecipe), as: UTF8.self)
        try ModelCheckpoint.save(
            model, to: url,
            metadata: [
                "lethe.recipe": recipeJSON, "lethe.dataset": datasetName, "lethe.samples": "\(members)",
                "lethe.audit.reference": "\(index) of \(references), seed \(seed)",
                "lethe.blas": BLAS.kernelIdentity,
            ])
    }

    /// Trains it here and saves it to `url`; returns the members' count.
    public func train(on trainingSet: Dataset, to url: URL, progress: ProgressHandler?) throws -> Int {
        let members = members(of: trainingSet)
        let trainer = try trainer()
        trainer.progress = progress
        _ = try trainer.fit(split.applying(to: trainingSet), indices: members)
        try save(trainer.model, to: url, datasetName: trainingSet.name, members: members.count)
        return members.count
    }
}

/// A reference's description that cannot be trained.
public enum ReferenceTrainingError: Error, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let reason): reason
        }
    }
}
