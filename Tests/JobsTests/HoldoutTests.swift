import Data
import Foundation
import Jobs
import LetheTesting
import NN
import Tensor
import Testing
import Unlearning

/// `--holdout` on toy data: a test half is disjoint from the reported half, seeded and stratified; the defaults
/// follow the checkpoint; a holdout that overlaps the training data is refused.
struct HoldoutTests {
    let train = labelledDataset(perClass: [20, 20, 20, 20], seed: 3)
    let test = labelledDataset(perClass: [9, 10, 11, 12], seed: 4)

    func scenario(validationFraction: Double = 0, test: Dataset? = nil) throws -> Scenario {
        let split = TrainingSplit(validationFraction: validationFraction, validationSeed: 2)
        return Scenario(
            model: ModelZoo.fmnistMLP(seed: 1), metadata: [:], recipe: TrainingRecipe(), split: split, train: train,
            test: test ?? self.test,
            forgetSet: try ForgetSelection.fraction(0.1, seed: 1).resolve(in: train, split: split),
            validation: split.validationIndices(in: train))
    }

    @Test func aTestHalfIsDisjointSeededAndStratified() throws {
        let held = try scenario().holdingOut(.testHalf(seed: 7))
        // The steering half follows the training samples in `train`; `test` keeps the other half.
        #expect(held.validation == Array(train.count..<held.train.count))
        #expect(held.train.subset(indices: Array(0..<train.count)).images == train.images)
        let steering = held.train.subset(indices: held.validation)
        #expect(steering.count + held.test.count == test.count)
        // Disjoint, and together exactly the test set: every test image is in one half only.
        let all = Array(0..<test.count)
        let inSteering = test.sharedImages(all, with: steering, Array(0..<steering.count)).map(\.0)
        let inReported = test.sharedImages(all, with: held.test, Array(0..<held.test.count)).map(\.0)
        #expect(Set(inSteering).isDisjoint(with: inReported) && Set(inSteering).union(inReported) == Set(all))
        // Stratified: half of every class (rounded), the rest reported.
        #expect(steering.classCounts == [5, 5, 6, 6] && held.test.classCounts == [4, 5, 5, 6])
        // Seeded: the same seed draws the same half, another seed another.
        #expect(try scenario().holdingOut(.testHalf(seed: 7)).test.images == held.test.images)
        #expect(try scenario().holdingOut(.testHalf(seed: 8)).test.images != held.test.images)
        let holdout = try #require(held.holdout)
        #expect(holdout.spec == "test-half:7" && holdout.chosenBy == "--holdout" && holdout.targetSource == "test-half")
        #expect(holdout.steering.samples == 22 && holdout.reported.samples == 20)
        #expect(holdout.steering.testIndicesSha256 != holdout.reported.testIndicesSha256)
    }

    @Test func theDefaultFollowsTheCheckpointsSplit() throws {
        let withoutSplit = try scenario().holdingOut(nil)
        #expect(withoutSplit.holdout?.spec == "test-half" && withoutSplit.holdout?.chosenBy == "default")
        #expect(withoutSplit.holdout?.why?.contains("no validation split") == true)
        #expect(withoutSplit.holdout?.summary.contains("every test figure comes from the other 20") == true)
        let recorded = try scenario(validationFraction: 0.2)
        let withSplit = try recorded.holdingOut(nil)
        #expect(withSplit.holdout?.spec == "validation" && withSplit.validation == recorded.validation)
        #expect(withSplit.test.count == test.count && withSplit.train.count == train.count)
        // A recorded split can still give way to a test half.
        #expect(try recorded.holdingOut(.testHalf(seed: 0)).validation.first == train.count)
        #expect(throws: ScenarioError.self) { try scenario().holdingOut(.validation) }
    }

    @Test func aHoldoutThatOverlapsTheTrainingDataIsRefused() throws {
        // A "test set" that repeats training images.
        let leaky = train.subset(indices: Array(0..<24))
        let refusal = #expect(throws: ScenarioError.self) { try scenario(test: leaky).holdingOut(nil) }
        #expect(refusal?.description.contains("overlaps the training data") == true)
        // A bundle whose held-out indices are training samples is refused on the coordinator too.
        let bundle = try JSONDecoder().decode(
            ScenarioBundle.self,
            from: Data(
                """
                {"forgetSet": {"selection": {"indices": {"_0": [1]}}, "forget": [1], "retain": [0, 2]},
                 "validation": [2, 3], "recipe": \(String(decoding: try JSONEncoder().encode(TrainingRecipe()), as: UTF8.self)),
                 "split": \(String(decoding: try JSONEncoder().encode(TrainingSplit()), as: UTF8.self)), "metadata": {}}
                """.utf8))
        let overlap = #expect(throws: ScenarioError.self) {
            try bundle.scenario(model: ModelZoo.fmnistMLP(seed: 1), train: train, test: test)
        }
        #expect(overlap?.description.contains("overlaps the training data") == true)
    }

    @Test func theSpecParsesItsThreeFormsAndTravelsInTheBundle() throws {
        #expect(try HoldoutSpec(parsing: "validation") == .validation)
        #expect(try HoldoutSpec(parsing: "test-half") == .testHalf(seed: HoldoutSpec.defaultSeed))
        #expect(try HoldoutSpec(parsing: "test-half:12") == .testHalf(seed: 12))
        for bad in ["test", "test-half:x", "validation:1", ""] {
            #expect(throws: ScenarioError.self) { try HoldoutSpec(parsing: bad) }
        }
        let held = try scenario().holdingOut(.testHalf(seed: 7))
        let bundle = try JSONDecoder().decode(
            ScenarioBundle.self, from: try JSONEncoder().encode(ScenarioBundle(held)))
        let rebuilt = try bundle.scenario(model: held.model, train: held.train, test: held.test)
        #expect(rebuilt.holdout == held.holdout && rebuilt.validation == held.validation)
    }
}
