import Data
import LetheTesting
import NN
import Tensor
import Testing
import Unlearning

struct ForgetSelectionTests {
    let dataset = labelledDataset(perClass: [30, 50, 20, 40])

    @Test func classesSelectExactlyThoseClasses() throws {
        let set = try ForgetSelection.classes([0, 2]).resolve(in: dataset)
        #expect(set.forget.count == 50 && set.retain.count == 90)
        #expect(set.forget.allSatisfy { [0, 2].contains(dataset.labels[$0]) })
        #expect(set.retain.allSatisfy { ![0, 2].contains(dataset.labels[$0]) })
        #expect(set.forgottenClasses == [0, 2])
        #expect(Set(set.forget + set.retain).count == dataset.count)
    }

    @Test func fractionIsStratifiedAndSeeded() throws {
        let set = try ForgetSelection.fraction(0.1, seed: 3).resolve(in: dataset)
        let perClass = (0..<4).map { label in set.forget.filter { dataset.labels[$0] == label }.count }
        #expect(perClass == [3, 5, 2, 4])
        #expect(set.forgottenClasses == nil)
        #expect(try ForgetSelection.fraction(0.1, seed: 3).resolve(in: dataset).forget == set.forget)
        #expect(try ForgetSelection.fraction(0.1, seed: 4).resolve(in: dataset).forget != set.forget)
    }

    @Test func indicesAreDeduplicatedAndSorted() throws {
        let set = try ForgetSelection.indices([7, 3, 7, 100]).resolve(in: dataset)
        #expect(set.forget == [3, 7, 100])
        #expect(set.retain.count == dataset.count - 3)
    }

    @Test func badSelectionsAreRefusedWithTheReason() {
        func reason(_ selection: ForgetSelection) -> String? {
            do {
                _ = try selection.resolve(in: dataset)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(reason(.classes([4]))?.contains("class 4 does not exist") == true)
        #expect(reason(.classes([0, 1, 2, 3]))?.contains("leaves nothing") == true)
        #expect(reason(.classes([]))?.contains("no classes") == true)
        #expect(reason(.indices([140]))?.contains("index 140") == true)
        #expect(reason(.indices([]))?.contains("no training sample") == true)
        #expect(reason(.fraction(1.5, seed: 1))?.contains("between 0 and 1") == true)
        #expect(reason(.fraction(0.001, seed: 1))?.contains("no training sample") == true)
    }
}

struct VerifierTests {
    /// Three classes of 60 training and 40 test samples, and an MLP trained on them for two epochs.
    private func trainedModel() throws -> (train: Dataset, test: Dataset, model: Model) {
        let train = labelledDataset(perClass: [60, 60, 60], seed: 1)
        let test = labelledDataset(perClass: [40, 40, 40], seed: 2)
        var recipe = TrainingRecipe()
        recipe.epochs = 2
        recipe.batchSize = 30
        recipe.learningRate = 0.05
        let model = ModelZoo.fmnistMLP(seed: 1)
        _ = try Trainer(model: model, recipe: recipe).fit(train, indices: Array(0..<train.count))
        return (train, test, model)
    }

    @Test func reportsMatchHandCountsAndReferenceIdentities() throws {
        let (train, test, model) = try trainedModel()
        let forgetSet = try ForgetSelection.classes([1]).resolve(in: train)
        let verifier = Verifier(train: train, test: test, forgetSet: forgetSet, seed: 5)
        #expect(verifier.nonMemberIndices == test.indices(ofClasses: [1]))
        let report = try verifier.verify(model, randomModel: model, reference: model)

        let testPredictions = Evaluator.predict(model, on: test, indices: Array(0..<test.count))
        let forgottenTest = test.indices(ofClasses: [1])
        let correct = forgottenTest.filter { testPredictions.predicted[$0] == 1 }.count
        #expect(abs(report.testForgetAccuracy! - Double(correct) / 40) < 1e-12)
        #expect(report.forgetSamples == 60 && report.retainSamples == 120 && report.testSamples == 120)
        #expect(report.forgetAccuracy > 0.9 && report.testAccuracy > 0.9)
        #expect((0...1).contains(report.mia) && (0...1).contains(report.miaEntropy))
        // Compared with itself, the model is its own reference and its own "random" model. The reference predicts
        // the forget set in a batch of its own, and OpenBLAS may round a row of a 60-row product differently from
        // the same row of a 180-row one (it does with its Haswell kernels): equal up to float rounding.
        #expect(abs(report.zrf - 1) < 1e-6)
        #expect(report.activationDistance.map { abs($0) < 1e-5 } == true)
        #expect(report.jsDivergence.map { abs($0) < 1e-9 } == true)
        #expect(report.validationAccuracy == nil && report.validationForgetAccuracy == nil)

        // With a validation split (here: every tenth training sample), its accuracies by hand.
        let validation = Array(stride(from: 0, to: train.count, by: 10))
        let validated = try Verifier(train: train, test: test, forgetSet: forgetSet, seed: 5, validation: validation)
            .verify(model, randomModel: model)
        let predicted = Evaluator.predict(model, on: train, indices: validation).predicted
        func handCount(_ keep: (Int) -> Bool) -> Double {
            let positions = validation.indices.filter { keep(train.labels[validation[$0]]) }
            return Double(positions.filter { predicted[$0] == train.labels[validation[$0]] }.count)
                / Double(positions.count)
        }
        #expect(abs(validated.validationAccuracy! - handCount { _ in true }) < 1e-12)
        #expect(abs(validated.validationForgetAccuracy! - handCount { $0 == 1 }) < 1e-12)
        #expect(abs(validated.validationRetainAccuracy! - handCount { $0 != 1 }) < 1e-12)
        let perClass = try #require(validated.validationPerClassAccuracy)
        #expect(perClass.count == 3 && report.validationPerClassAccuracy == nil)
        for label in 0..<3 { #expect(abs(perClass[label]! - handCount { $0 == label }) < 1e-12) }
    }

    @Test func aSampledRetainMeasurementPredictsOnlyWhatItMeasures() throws {
        let (train, test, model) = try trainedModel()
        let forgetSet = try ForgetSelection.classes([1]).resolve(in: train)
        let validation = Array(stride(from: 0, to: train.count, by: 10))
        let whole = Verifier(train: train, test: test, forgetSet: forgetSet, seed: 5, validation: validation)
        let sampled = Verifier(
            train: train, test: test, forgetSet: forgetSet, seed: 5, validation: validation, retainSample: 50)

        let measured = sampled.retainMeasurement.indices
        #expect(measured.count == 50 && measured == measured.sorted() && Set(measured).isSubset(of: forgetSet.retain))
        #expect(!whole.retainMeasurement.isSample && whole.measuredTrainIndices == Array(0..<train.count))
        let predicted = sampled.measuredTrainIndices
        #expect(predicted == Set(forgetSet.forget + validation + measured).sorted() && predicted.count < train.count)

        let predictions = sampled.predictions(of: model)
        #expect(predictions.trainIndices == predicted && predictions.train.labels.count == predicted.count)
        let random = ModelZoo.fmnistMLP(seed: 9)
        let baselines = sampled.baselines(randomModel: random)
        let report = try sampled.verify(predictions, against: baselines)
        let full = try whole.verify(whole.predictions(of: model), against: baselines)
        // Everything but the retain accuracy is measured on the same samples either way (predicted in other
        // batches, so equal up to float rounding).
        #expect(abs(report.forgetAccuracy - full.forgetAccuracy) < 1e-12)
        #expect(abs(report.testAccuracy - full.testAccuracy) < 1e-12)
        #expect(abs(report.mia - full.mia) < 1e-6 && abs(report.zrf - full.zrf) < 1e-5)
        #expect(abs(report.validationAccuracy! - full.validationAccuracy!) < 1e-12)
        // The retain accuracy by hand over the sample, with its size, population and margin.
        let everyTrainSample = Evaluator.predict(model, on: train, indices: Array(0..<train.count))
        let correct = measured.filter { everyTrainSample.predicted[$0] == train.labels[$0] }.count
        #expect(abs(report.retainAccuracy - Double(correct) / 50) < 1e-12)
        #expect(report.retainSamples == 50 && report.retainPopulation == 120)
        #expect(full.retainSamples == 120 && full.retainPopulation == nil && full.retainMargin == nil)
        let p = report.retainAccuracy
        let margin = 1.96 * (p * (1 - p) / 50 * 70 / 119).squareRoot()
        #expect(abs(report.retainMargin! - margin) < 1e-12)
        #expect(report.retainSampleSummary?.contains("50 of 120 retained samples") == true)
        // A saved verification must cover every sample: the whole predictions derive the same sampled figures.
        let derived = try sampled.verify(whole.predictions(of: model), against: baselines)
        #expect(abs(derived.retainAccuracy - report.retainAccuracy) < 1e-12)
    }

    @Test func retainSamplesAreSeededAndBoundedByTheRetainedSet() {
        let retain = Array(stride(from: 3, to: 1000, by: 3))
        let first = RetainMeasurement(retain: retain, sampleSize: 40, seed: 7)
        #expect(first == RetainMeasurement(retain: retain, sampleSize: 40, seed: 7))
        #expect(first != RetainMeasurement(retain: retain, sampleSize: 40, seed: 8))
        #expect(first.isSample && first.population == retain.count)
        for everyOne in [0, retain.count, retain.count + 5] {
            let all = RetainMeasurement(retain: retain, sampleSize: everyOne, seed: 7)
            #expect(!all.isSample && all.indices == retain && all.margin(accuracy: 0.9) == 0)
        }
        // Sampling more of a fixed population narrows the margin; the finite-population correction takes it to 0.
        let wider = RetainMeasurement(retain: retain, sampleSize: 20, seed: 7).margin(accuracy: 0.9)
        let narrower = RetainMeasurement(retain: retain, sampleSize: 300, seed: 7).margin(accuracy: 0.9)
        #expect(wider > narrower && narrower > 0)
    }
}
