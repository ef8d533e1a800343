import Data
import Foundation
import Jobs
import LetheTesting
import NN
import Testing
import Unlearning

/// Which normalisation a checkpoint's inputs get, and where it came from: the record wins, a Lethe checkpoint without
/// one was trained with the default, anything else takes --normalize or assumes the default and says so.
struct PreprocessingTests {
    /// An IDX directory (FashionMNIST's statistics are its default); only its format is looked at.
    func idxDirectory(_ directory: TemporaryDirectory) throws -> String {
        try Data().write(to: directory.url.appendingPathComponent("train-images-idx3-ubyte"))
        return directory.url.path
    }

    let recipe = ["lethe.recipe": "{}"]

    @Test func aRecordedNormalisationIsUsedAndAnAgreeingOptionAccepted() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try idxDirectory(directory)
        let metadata = recipe.merging([Preprocessing.metadataKey: "none"]) { $1 }
        for option in [nil, Normalization.identity, Normalization(mean: 0, std: 1)] {
            let resolved = try Preprocessing.resolve(option: option, metadata: metadata, checkpoint: "w", data: data)
            #expect(resolved == Preprocessing(normalization: .identity, source: .checkpoint))
            #expect(resolved.derivedMetadata.isEmpty)  // the record travels with the checkpoint's own metadata
        }
    }

    @Test func anOptionThatDisagreesWithTheCheckpointIsRefusedNamingBoth() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try idxDirectory(directory)
        let recorded = recipe.merging([Preprocessing.metadataKey: "none"]) { $1 }
        #expect {
            try Preprocessing.resolve(
                option: .fashionMNIST, metadata: recorded, checkpoint: "w.safetensors", data: data)
        } throws: { error in
            "\(error)".contains("--normalize 0.286/0.353 disagrees with w.safetensors, which records none")
        }
        // A Lethe checkpoint without a record was trained with the default: other statistics are refused too.
        #expect {
            try Preprocessing.resolve(option: .identity, metadata: recipe, checkpoint: "w.safetensors", data: data)
        } throws: { error in
            "\(error)".contains("--normalize none disagrees with w.safetensors, which was trained by Lethe")
                && "\(error)".contains("0.286/0.353")
        }
    }

    @Test func aLetheCheckpointWithoutARecordWasTrainedWithTheDefault() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try idxDirectory(directory)
        for option in [nil, Normalization.fashionMNIST] {
            let resolved = try Preprocessing.resolve(option: option, metadata: recipe, checkpoint: "w", data: data)
            #expect(resolved == Preprocessing(normalization: .fashionMNIST, source: .trainingDefault))
            #expect(resolved.note == nil)
        }
    }

    @Test func aForeignCheckpointTakesTheOptionOrAssumesTheDefaultSayingSo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try idxDirectory(directory)
        let given = try Preprocessing.resolve(option: .identity, metadata: [:], checkpoint: "w", data: data)
        #expect(given == Preprocessing(normalization: .identity, source: .option))
        // What the user said is recorded in what is made from it, so it is read back the same way.
        #expect(given.derivedMetadata == [Preprocessing.metadataKey: "none"])
        let assumed = try Preprocessing.resolve(option: nil, metadata: [:], checkpoint: "torch.safetensors", data: data)
        #expect(assumed.normalization == .fashionMNIST && assumed.source == .assumedDefault)
        let note = try #require(assumed.note)
        #expect(note.contains("torch.safetensors records no normalisation: assuming") && note.contains("--normalize"))
        #expect(assumed.summary.contains(note) && assumed.derivedMetadata.isEmpty)
    }

    @Test func anUnreadableRecordIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try idxDirectory(directory)
        #expect {
            try Preprocessing.resolve(
                option: nil, metadata: [Preprocessing.metadataKey: "0.5"], checkpoint: "w", data: data)
        } throws: { error in
            "\(error)".contains("w: its lethe.normalization does not read")
        }
    }

    /// Training records only what differs from the dataset's default, so a default run keeps its bits.
    @Test func trainingRecordsOnlyWhatDiffersFromTheDefault() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = try idxDirectory(directory)
        let byDefault = try Preprocessing.training(option: nil, data: data)
        #expect(byDefault.preprocessing == Preprocessing(normalization: .fashionMNIST, source: .datasetDefault))
        #expect(byDefault.metadata.isEmpty)
        #expect(try Preprocessing.training(option: Normalization(text: "0.2860/0.3530"), data: data).metadata.isEmpty)
        let none = try Preprocessing.training(option: .identity, data: data)
        #expect(none.preprocessing.source == .option && none.metadata == [Preprocessing.metadataKey: "none"])
    }

    /// A job's scenario bundle carries the preprocessing to the coordinator, whose report then says it as the local
    /// run's does (the images themselves travel already normalised, in the dataset blobs).
    @Test func aJobsScenarioCarriesThePreprocessing() throws {
        let train = labelledDataset(perClass: [4, 4, 4], seed: 1)
        let split = TrainingSplit(validationFraction: 0)
        var scenario = Scenario(
            model: ModelZoo.fmnistMLP(seed: 1), metadata: [Preprocessing.metadataKey: "none"],
            recipe: TrainingRecipe(), split: split, train: train, test: train,
            forgetSet: try ForgetSelection.classes([0]).resolve(in: train, split: split), validation: [])
        scenario.preprocessing = Preprocessing(normalization: .identity, source: .checkpoint)
        let bundle = try JSONDecoder().decode(
            ScenarioBundle.self, from: try JSONEncoder().encode(ScenarioBundle(scenario)))
        let rebuilt = try bundle.scenario(model: ModelZoo.fmnistMLP(seed: 1), train: train, test: train)
        #expect(rebuilt.preprocessing == scenario.preprocessing)
        #expect(rebuilt.metadata[Preprocessing.metadataKey] == "none")
    }

    /// Reports carry the preprocessing as text with its source; older reports have none.
    @Test func itRoundTripsThroughJSON() throws {
        let preprocessing = Preprocessing(normalization: .cifar, source: .checkpoint)
        let data = try JSONEncoder.sorted.encode(preprocessing)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
        #expect(object == ["normalize": "0.4914,0.4822,0.4465/0.247,0.2435,0.2616", "source": "checkpoint"])
        #expect(try JSONDecoder.snakeCase.decode(Preprocessing.self, from: data) == preprocessing)
    }
}
