import Checkpoint
import Foundation
import Testing

/// Every way a file can be damaged gives its own typed error, naming the file (and the tensor when there is one).
@Suite struct SafetensorsCorruptFileTests {
    static let goodHeader = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    static let goodBuffer = [UInt8](repeating: 0, count: 8)

    /// Reads `data` and checks the error's case and that its message names the file and `mentions`.
    func expectError(
        _ data: Data, _ caseName: String, mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error = readError(data) else {
            Issue.record("read succeeded; expected \(caseName)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.caseName == caseName, "\(error)", sourceLocation: sourceLocation)
        for text in [badFileName] + mentions {
            #expect(
                error.description.contains(text), "'\(error)' should mention \(text)", sourceLocation: sourceLocation)
        }
    }

    func tensorFile(_ entry: String, buffer: [UInt8] = goodBuffer) -> Data {
        rawFile(header: "{\"w\":\(entry)}", buffer: buffer)
    }

    @Test func theGoodFileReads() throws {
        let file = try SafetensorsFile(data: rawFile(header: Self.goodHeader, buffer: Self.goodBuffer))
        #expect(file.names == ["w"])
    }

    @Test func framingErrors() {
        expectError(Data(), "fileTooShort")
        expectError(Data([1, 0, 0, 0, 0, 0, 0]), "fileTooShort")
        expectError(rawFile(header: Self.goodHeader, headerLength: 200_000_000), "headerTooLarge")
        expectError(rawFile(header: Self.goodHeader, headerLength: .max), "headerTooLarge")
        expectError(rawFile(header: Self.goodHeader, headerLength: 1_000), "headerBeyondEndOfFile")
        // Truncated in the middle of the header.
        let full = rawFile(header: Self.goodHeader, buffer: Self.goodBuffer)
        expectError(full.prefix(20), "headerBeyondEndOfFile")
        // Truncated in the data buffer.
        expectError(full.dropLast(1), "offsetsOutOfBounds", mentions: ["'w'"])
    }

    /// `torch.save` files (a zip archive since PyTorch 1.6, a bare pickle before) are named as such, with the fix.
    @Test func torchSaveFilesAreRecognised() {
        let zip = Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0, 0, 0, 0x08, 0] + Array(repeating: 0, count: 64))
        let pickle = Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19])
        for data in [zip, pickle] {
            expectError(
                data, "pytorchPickle",
                mentions: ["this is a torch.save file", "safetensors.torch.save_file(model.state_dict(), path)"])
        }
        // A safetensors file whose header length happens to start with those bytes still reads.
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let padded = header + String(repeating: " ", count: 0x0280 - header.utf8.count)
        #expect((try? SafetensorsFile(data: rawFile(header: padded, buffer: Self.goodBuffer)))?.names == ["w"])
    }

    @Test func headerJSONErrors() {
        expectError(rawFile(header: ""), "invalidHeaderJSON")
        expectError(rawFile(header: "{\"w\":"), "invalidHeaderJSON")
        expectError(rawFile(header: "{} x"), "invalidHeaderJSON")
        expectError(rawFile(header: "{'w': 1}"), "invalidHeaderJSON")
        expectError(rawFile(header: "{\"a\":1,}"), "invalidHeaderJSON")
        expectError(rawFile(header: "\"\\ud800\""), "invalidHeaderJSON")
        expectError(rawFile(header: String(repeating: "[", count: 10_000)), "invalidHeaderJSON")
        var invalidUTF8 = rawFile(header: "{\"xx\":1}")
        invalidUTF8[10] = 0xFF
        expectError(invalidUTF8, "invalidHeaderJSON")
        expectError(rawFile(header: "[1, 2]"), "headerNotObject")
        expectError(rawFile(header: "42"), "headerNotObject")
    }

    @Test func metadataErrors() {
        expectError(rawFile(header: #"{"__metadata__":[1]}"#), "invalidMetadata")
        expectError(rawFile(header: #"{"__metadata__":{"epoch":3}}"#), "invalidMetadata", mentions: ["epoch"])
        expectError(rawFile(header: #"{"__metadata__":{},"__metadata__":{}}"#), "invalidMetadata")
    }

    @Test func entryFieldErrors() {
        expectError(tensorFile("[1]"), "entryNotObject", mentions: ["'w'"])
        expectError(tensorFile(#"{"shape":[2],"data_offsets":[0,8]}"#), "missingField", mentions: ["'w'", "dtype"])
        expectError(tensorFile(#"{"dtype":"F32","data_offsets":[0,8]}"#), "missingField", mentions: ["'w'", "shape"])
        expectError(tensorFile(#"{"dtype":"F32","shape":[2]}"#), "missingField", mentions: ["'w'", "data_offsets"])
        expectError(tensorFile(#"{"dtype":32,"shape":[2],"data_offsets":[0,8]}"#), "invalidField", mentions: ["dtype"])
        expectError(tensorFile(#"{"dtype":"F32","shape":2,"data_offsets":[0,8]}"#), "invalidField", mentions: ["shape"])
        expectError(tensorFile(#"{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}"#), "invalidField")
        expectError(tensorFile(#"{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}"#), "invalidField")
        expectError(tensorFile(#"{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}"#), "invalidField")
        expectError(
            tensorFile(#"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}"#), "invalidField",
            mentions: ["overflows"])
        expectError(
            tensorFile(#"{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}"#), "invalidField")
        expectError(tensorFile(#"{"dtype":"F32","shape":[2],"data_offsets":[0]}"#), "invalidField")
        expectError(tensorFile(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}"#), "invalidField")
        expectError(tensorFile(#"{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}"#), "invalidField")
        expectError(tensorFile(#"{"dtype":"F32","shape":[2],"data_offsets":"0-8"}"#), "invalidField")
        expectError(
            tensorFile(#"{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"#), "invalidField", mentions: ["data_offsets"]
        )
    }

    @Test func unknownDType() {
        expectError(
            tensorFile(#"{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,8]}"#), "unknownDType",
            mentions: ["'w'", "F8_E4M3"])
        expectError(tensorFile(#"{"dtype":"f32","shape":[2],"data_offsets":[0,8]}"#), "unknownDType")
    }

    @Test func sizeMismatch() {
        expectError(
            tensorFile(#"{"dtype":"F32","shape":[3],"data_offsets":[0,8]}"#), "sizeMismatch", mentions: ["'w'", "12"])
        expectError(tensorFile(#"{"dtype":"F64","shape":[2],"data_offsets":[0,8]}"#), "sizeMismatch")
        expectError(tensorFile(#"{"dtype":"F32","shape":[],"data_offsets":[0,8]}"#), "sizeMismatch")
        expectError(tensorFile(#"{"dtype":"F32","shape":[0],"data_offsets":[0,8]}"#), "sizeMismatch")
    }

    @Test func offsetsOutOfBounds() {
        expectError(
            tensorFile(#"{"dtype":"F32","shape":[2],"data_offsets":[4,12]}"#), "offsetsOutOfBounds",
            mentions: ["'w'", "[4, 12]"])
        expectError(tensorFile(#"{"dtype":"F32","shape":[0],"data_offsets":[9,9]}"#), "offsetsOutOfBounds")
        // Huge but self-consistent: rejected before any allocation.
        expectError(
            tensorFile(#"{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]}"#),
            "offsetsOutOfBounds")
    }

    @Test func overlappingTensors() {
        let header = """
            {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
            "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}
            """
        expectError(
            rawFile(header: header, buffer: [UInt8](repeating: 0, count: 12)), "overlappingTensors",
            mentions: ["'b'", "'a'"])
        let sameRange = """
            {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
            "b":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}
            """
        expectError(rawFile(header: sameRange, buffer: Self.goodBuffer), "overlappingTensors")
        let inside = """
            {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},\
            "b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},\
            "c":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}
            """
        expectError(rawFile(header: inside, buffer: [UInt8](repeating: 0, count: 16)), "overlappingTensors")
    }

    @Test func duplicateNames() {
        let header = """
            {"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},\
            "w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}
            """
        expectError(rawFile(header: header, buffer: Self.goodBuffer), "duplicateName", mentions: ["'w'"])
    }

    @Test func unreadableFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("absent.safetensors")
        let error = #expect(throws: SafetensorsError.self) { try SafetensorsFile(contentsOf: url) }
        #expect(error?.caseName == "unreadable")
        #expect(error?.description.contains("absent.safetensors") == true)
        // Errors from files on disk name the path.
        try Data([1, 2, 3]).write(to: url)
        let short = #expect(throws: SafetensorsError.self) { try SafetensorsFile(contentsOf: url) }
        #expect(short?.caseName == "fileTooShort")
        #expect(short?.description.contains(url.path) == true)
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let valid = try SafetensorsRoundTripTests.stateDict.serialized()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var damaged = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<damaged.count, using: &generator)
                damaged[position] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { damaged = damaged.prefix(Int.random(in: 0...damaged.count)) }
            _ = readError(damaged)  // any outcome but a crash is fine
        }
    }
}
