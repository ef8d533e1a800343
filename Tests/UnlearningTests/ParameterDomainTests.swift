import Testing
import Unlearning

/// Every size and rate a user controls is bounded and refused, by name, before any work.
struct ParameterDomainTests {
    @Test func everyNumericParameterOfEveryMethodDeclaresItsDomain() {
        for method in UnlearningMethods.all {
            for declaration in method.allParameters where Float(declaration.defaultValue) != nil {
                // SSD's alpha takes "auto" or a number and is checked by SSD itself.
                #expect(declaration.domain != .unconstrained, "\(method.name) \(declaration.key)")
                #expect(declaration.domain.admits(declaration.defaultValue), "\(method.name) \(declaration.key)")
            }
        }
    }

    @Test(arguments: ["neggrad", "neggrad+", "scrub", "finetune", "bad-teacher", "random-label"])
    func aNegativeLearningRateIsRefusedWithItsDomain(method name: String) throws {
        let method = try #require(UnlearningMethods.named(name))
        #expect(throws: MethodParameterError.outOfDomain(key: "lr", value: "-1", domain: .positive)) {
            try MethodParameters(method.allParameters, overrides: ["lr": "-1"])
        }
        #expect(
            MethodParameterError.outOfDomain(key: "lr", value: "-1", domain: .positive).description
                == "parameter lr=-1 is out of range: lr must be a number > 0")
    }

    @Test func domainsAdmitWhatTheySayAndNothingElse() {
        let cases: [(ParameterDomain, [String], [String])] = [
            (.positive, ["0.001", "4"], ["0", "-1", "nan", "inf"]),
            (.nonNegative, ["0", "5"], ["-0.1", "inf"]),
            (.fraction, ["1", "0.2"], ["0", "1.01", "-0.5"]),
            (.unitInterval, ["0", "1"], ["1.5", "-0.01"]),
            (.belowOne, ["0", "0.99"], ["1", "-0.1"]),
            (.count(1...10), ["1", "10"], ["0", "11", "2.5", "many"]),
            (.batchSize, ["1", "4096"], ["0", "4097", "1000000"]),
            (.automaticOr(.unitInterval), ["-1", "-1.0", "0.5"], ["-2", "1.5"]),
        ]
        for (domain, admitted, refused) in cases {
            for value in admitted { #expect(domain.admits(value), "\(domain) \(value)") }
            for value in refused { #expect(!domain.admits(value), "\(domain) \(value)") }
        }
    }

    @Test func shardsAreBoundedByTheSmallestMinibatchAndTheProtocol() throws {
        let scrub = try MethodParameters(#require(UnlearningMethods.named("scrub")).allParameters)
        #expect(scrub.shardLimit(recipe: nil).limit == 64)  // forget-batch 64 < retain-batch 128
        #expect(throws: MethodParameterError.self) { try scrub.checkShards(65, recipe: nil) }
        #expect(throws: MethodParameterError.self) { try scrub.checkShards(0, recipe: nil) }
        try scrub.checkShards(64, recipe: nil)
        #expect(
            MethodParameterError.tooManyShards(1_000_000, limit: 64, reason: scrub.shardLimit(recipe: nil).reason)
                .description
                == "--shards 1000000 is not possible here: shards must be between 1 and 64, the smallest minibatch it splits (forget-batch 64)"
        )

        // Retrain splits the original's batches: unknown until the checkpoint is read, then its batch size.
        let retrain = try MethodParameters(#require(UnlearningMethods.named("retrain")).allParameters)
        var recipe = TrainingRecipe()
        recipe.batchSize = 32
        #expect(retrain.shardLimit(recipe: nil).limit == UnlearningLimits.shards)
        #expect(retrain.shardLimit(recipe: recipe).limit == 32)
        #expect(throws: MethodParameterError.self) { try retrain.checkShards(33, recipe: recipe) }

        // Batches larger than the protocol allows are refused as parameters in the first place.
        #expect(throws: MethodParameterError.self) {
            try MethodParameters(
                #require(UnlearningMethods.named("finetune")).allParameters, overrides: ["batch-size": "100000"])
        }
    }

    @Test func trainingRecipesAreBoundedToo() {
        var recipe = TrainingRecipe()
        recipe.batchSize = 1_000_000
        #expect(recipe.problem != nil)
        recipe = TrainingRecipe()
        recipe.epochs = 1_000_000
        #expect(recipe.problem != nil)
    }
}
