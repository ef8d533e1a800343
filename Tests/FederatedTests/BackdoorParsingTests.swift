import Federated
import Testing

@Suite struct BackdoorParsingTests {
    @Test func parsesKeysInAnyOrder() throws {
        let expected = Backdoor(fraction: 0.25, target: 4, patch: 5)
        #expect(try Backdoor(parsing: "fraction:0.25,target:4,patch:5") == expected)
        #expect(try Backdoor(parsing: "patch:5,fraction:0.25,target:4") == expected)
        #expect(try Backdoor(parsing: " target : 4 , patch:5, fraction:0.25 ") == expected)
    }

    @Test func missingKeysTakeTheDefaults() throws {
        #expect(try Backdoor(parsing: "target:2") == Backdoor(fraction: 0.1, target: 2, patch: 3))
        #expect(try Backdoor(parsing: "patch:1") == Backdoor(fraction: 0.1, target: 0, patch: 1))
        #expect(try Backdoor(parsing: "fraction:1") == Backdoor(fraction: 1, target: 0, patch: 3))
        #expect(Backdoor() == Backdoor(fraction: 0.1, target: 0, patch: 3))
    }

    @Test(arguments: [
        "", "fraction:0", "fraction:1.5", "fraction:-0.1", "fraction:x", "fraction:nan", "target:-1", "target:1.5",
        "patch:0", "patch:2.5", "colour:red", "fraction:0.1,fraction:0.2", "fraction", "fraction:0.1,",
        "fraction=0.1",
    ])
    func refusesBadSpecs(_ text: String) {
        #expect {
            _ = try Backdoor(parsing: text)
        } throws: { error in
            guard case FederatedError.badBackdoor(let quoted, _) = error else { return false }
            return quoted == text && "\(error)".contains("fraction:0.1,target:0,patch:3")
        }
    }

    @Test func unknownKeyIsNamed() {
        #expect {
            _ = try Backdoor(parsing: "fraction:0.2,size:3")
        } throws: { error in
            "\(error)".contains("unknown key 'size'")
        }
    }

    @Test func descriptionRoundTrips() throws {
        for backdoor in [Backdoor(), Backdoor(fraction: 0.05, target: 9, patch: 4), Backdoor(fraction: 1, target: 3)] {
            #expect(try Backdoor(parsing: backdoor.description) == backdoor)
        }
        #expect(Backdoor().description == "fraction:0.1,target:0,patch:3")
    }
}
