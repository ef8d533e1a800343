import Checkpoint
import Foundation
import LetheTesting
import Tensor
import Testing

@Suite struct SafetensorsRoundTripTests {
    /// A BatchNorm-style state dict: float parameters plus the I64 scalar `num_batches_tracked`.
    static let stateDict = SafetensorsFile(
        entries: [
            .init(
                name: "conv.weight", tensor: Tensor(shape: [2, 1, 2, 2], scalars: [1, -2, 0.5, 3.25, -0.0, 7, 8, 9])),
            .init(name: "bn.weight", tensor: Tensor(shape: [2], scalars: [1, 1])),
            .init(name: "bn.running_var", tensor: Tensor(shape: [2], scalars: [0.1, 1e-30])),
            .init(name: "bn.num_batches_tracked", tensor: Tensor(shape: [], scalars: [12345]), dtype: .i64),
            .init(name: "empty", tensor: Tensor(shape: [0, 3], scalars: [])),
            .init(name: "a.after.z", tensor: Tensor(shape: [1], scalars: [.greatestFiniteMagnitude])),
        ],
        metadata: ["format": "pt", "lethe.note": "quote \" backslash \\ newline \n ünïcode"])

    @Test func roundTripKeepsNamesShapesValuesMetadataOrderAndDTypes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try Self.stateDict.write(to: url)

        let read = try SafetensorsFile(contentsOf: url)
        // Float32 and small integers round-trip bit-exactly, so whole-file equality is the right check.
        #expect(read == Self.stateDict)
        #expect(read.names == Self.stateDict.names)
        #expect(read.entry(named: "bn.num_batches_tracked")?.dtype == .i64)
        #expect(read["bn.num_batches_tracked"] == Tensor(shape: [], scalars: [12345]))
        #expect(read["empty"]?.shape == [0, 3])
        #expect(read["missing"] == nil)
        #expect(read.metadata == Self.stateDict.metadata)
        #expect(read["conv.weight"]?.scalars[4].sign == .minus)

        // Written again, the file is byte-for-byte the same.
        #expect(try read.serialized() == Data(contentsOf: url))
    }

    /// Streamed piece by piece (for hashing large files), a file is the bytes `serialized()` gives, every dtype
    /// included, and a value a dtype cannot hold is refused the same way.
    @Test func streamedBytesAreTheSerializedOnes() throws {
        var file = Self.stateDict
        for dtype in [SafetensorsDType.f16, .bf16, .f64, .i32, .u8] {
            file.append(name: "t.\(dtype)", tensor: Tensor(shape: [2], scalars: [1, 2]), dtype: dtype)
        }
        var streamed = Data()
        var pieces = 0
        try file.streamed {
            streamed.append(contentsOf: $0)
            pieces += 1
        }
        #expect(streamed == (try file.serialized()))
        #expect(pieces == 2 + file.entries.count)
        file.append(name: "bad", tensor: Tensor(shape: [1], scalars: [0.5]), dtype: .i8)
        #expect(throws: SafetensorsError.self) { try file.streamed { _ in } }
    }

    @Test func headerIsPaddedToEightBytesAndMetadataComesFirst() throws {
        let image = try Self.stateDict.serialized()
        let headerLength = image.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        let header = try #require(String(data: image.subdata(in: 8..<(8 + headerLength)), encoding: .utf8))
        #expect(header.hasPrefix("{\"__metadata__\":{\"format\":\"pt\""))
        #expect(header.contains("\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[48,56]}"))
        // The header is valid JSON for other readers too.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])
        #expect(object.count == 7)
    }

    @Test func writesEveryFloatDTypeAndReadsItBack() throws {
        let values: [Float] = [1, -2, 0.5, 65504, 0x1p-24, .infinity, -0.0, 3.140625]
        var file = SafetensorsFile()
        for dtype in [SafetensorsDType.f32, .f16, .bf16, .f64] {
            file.append(name: "t.\(dtype)", tensor: Tensor(shape: [2, 4], scalars: values), dtype: dtype)
        }
        let read = try SafetensorsFile(data: file.serialized())
        #expect(read.entries.map(\.dtype) == [.f32, .f16, .bf16, .f64])
        for dtype in [SafetensorsDType.f32, .f16, .f64] {
            // All these values are representable in F16, F32 and F64.
            #expect(read["t.\(dtype)"]?.scalars == values, "\(dtype)")
        }
        let bf16 = try #require(read["t.BF16"])
        #expect(bf16.shape == [2, 4])
        for (actual, expected) in zip(bf16.scalars, values) where expected.isFinite {
            #expect(Tolerance.isClose(actual, expected, relative: 4e-3, absolute: 0x1p-30))
        }
        #expect(bf16.scalars[5] == .infinity)
        // F16 rounding on write: 0.1 → 0x2E66 = 0.0999755859375.
        let rounded = try SafetensorsFile(
            data: SafetensorsFile(entries: [
                .init(name: "x", tensor: Tensor(shape: [1], scalars: [0.1]), dtype: .f16)
            ]).serialized())
        #expect(rounded["x"]?.scalars == [0.0999755859375])
    }

    @Test func writesIntegerDTypesAndRejectsValuesTheyCannotHold() throws {
        let values: [Float] = [0, 1, -3, 0x1p40, -0x1p63]
        let file = SafetensorsFile(entries: [.init(name: "n", tensor: Tensor(shape: [5], scalars: values), dtype: .i64)]
        )
        let read = try SafetensorsFile(data: file.serialized())
        #expect(read["n"]?.scalars == values)
        #expect(read.entry(named: "n")?.dtype == .i64)

        func error(_ value: Float, _ dtype: SafetensorsDType) -> SafetensorsError? {
            writeError(
                SafetensorsFile(entries: [
                    .init(name: "counts", tensor: Tensor(shape: [2], scalars: [4, value]), dtype: dtype)
                ]))
        }
        let nonIntegral = try #require(error(2.5, .i64))
        #expect(nonIntegral.caseName == "nonIntegralValue")
        #expect("\(nonIntegral)".contains("'counts'") && "\(nonIntegral)".contains("element 1"))
        #expect(error(.nan, .i64)?.caseName == "nonIntegralValue")
        #expect(error(.infinity, .i64)?.caseName == "valueOutOfRange")
        #expect(error(0x1p63, .i64)?.caseName == "valueOutOfRange")
        #expect(error(0x1p31, .i32)?.caseName == "valueOutOfRange")
        #expect(error(-1, .u8)?.caseName == "valueOutOfRange")
        #expect(error(2, .bool)?.caseName == "valueOutOfRange")
        #expect(error(-128, .i8) == nil)
        #expect(error(255, .u8) == nil)
    }

    @Test func rejectsDuplicateAndReservedNamesOnWrite() {
        let scalar = Tensor(shape: [], scalars: [1])
        let duplicate = SafetensorsFile(tensors: [("w", scalar), ("b", scalar), ("w", scalar)])
        #expect(writeError(duplicate)?.caseName == "duplicateName")
        #expect(writeError(SafetensorsFile(tensors: [("__metadata__", scalar)]))?.caseName == "reservedName")
    }

    @Test func writeIsAtomicAndReplacesAnExistingFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("ckpt.safetensors")
        try SafetensorsFile(tensors: [("a", Tensor(zeros: [1000]))]).write(to: url)
        try SafetensorsFile(tensors: [("b", Tensor(shape: [1], scalars: [2]))]).write(to: url)
        #expect(try SafetensorsFile(contentsOf: url).names == ["b"])
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["ckpt.safetensors"])

        // A failed write leaves the existing file untouched.
        let invalid = SafetensorsFile(entries: [
            .init(name: "c", tensor: Tensor(shape: [1], scalars: [0.5]), dtype: .i64)
        ])
        let error = #expect(throws: SafetensorsError.self) { try invalid.write(to: url) }
        #expect(error?.caseName == "nonIntegralValue")
        #expect(try SafetensorsFile(contentsOf: url).names == ["b"])

        let missingDirectory = directory.appendingPathComponent("no/such/dir/x.safetensors")
        let unwritable = #expect(throws: SafetensorsError.self) { try SafetensorsFile().write(to: missingDirectory) }
        #expect(unwritable?.caseName == "unwritable")
        #expect(unwritable?.description.contains("no/such/dir/x.safetensors") == true)
    }

    @Test func readsEntriesInDataOffsetOrderThenName() throws {
        // Offsets deliberately out of name order; the empty tensors at offset 4 sort by name among themselves.
        let header = """
            {"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},\
            "y":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},\
            "b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},\
            "a":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}
            """
        let buffer = littleEndianBytes([Float(1).bitPattern, Float(2).bitPattern])
        let file = try SafetensorsFile(data: rawFile(header: header, buffer: buffer))
        #expect(file.names == ["z", "a", "y", "b"])
        #expect(file["b"]?.scalars == [2])
        #expect(file.metadata.isEmpty)
    }

    @Test func readsEveryDTypeAsFloat() throws {
        let header = """
            {"__metadata__":{"k":"v"},\
            "f16":{"dtype":"F16","shape":[6],"data_offsets":[0,12]},\
            "bf16":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},\
            "f64":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},\
            "i64":{"dtype":"I64","shape":[],"data_offsets":[32,40]},\
            "i32":{"dtype":"I32","shape":[2],"data_offsets":[40,48]},\
            "i16":{"dtype":"I16","shape":[2],"data_offsets":[48,52]},\
            "i8":{"dtype":"I8","shape":[2],"data_offsets":[52,54]},\
            "u8":{"dtype":"U8","shape":[2],"data_offsets":[54,56]},\
            "bool":{"dtype":"BOOL","shape":[3],"data_offsets":[56,59]}}    
            """
        var buffer = littleEndianBytes([UInt16(0x3C00), 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x7E00])
        buffer += littleEndianBytes([UInt16(0x3F80), 0xC0A0])
        buffer += littleEndianBytes([Double(0.1).bitPattern, Double(-1e300).bitPattern])
        buffer += littleEndianBytes([Int64(-7)])
        buffer += littleEndianBytes([Int32(-100_000), Int32.max])
        buffer += littleEndianBytes([Int16(-300), Int16(300)])
        buffer += [UInt8(bitPattern: -5), 127]
        buffer += [200, 0]
        buffer += [0, 1, 2]
        let file = try SafetensorsFile(data: rawFile(header: header, buffer: buffer))
        #expect(file.metadata == ["k": "v"])
        #expect(file.entries.map(\.dtype) == [.f16, .bf16, .f64, .i64, .i32, .i16, .i8, .u8, .bool])
        let f16 = try #require(file["f16"]).scalars
        #expect(Array(f16.prefix(5)) == [1, -2, 65504, 0x1p-24, .infinity])
        #expect(f16[5].isNaN)
        #expect(file["bf16"]?.scalars == [1, -5])
        let f64 = try #require(file["f64"]).scalars
        #expect(Tolerance.isClose(f64[0], 0.1, relative: 1e-7, absolute: 0))
        #expect(f64[1] == -.infinity)
        #expect(file["i64"] == Tensor(shape: [], scalars: [-7]))
        #expect(file["i32"]?.scalars == [-100_000, 2_147_483_648])
        #expect(file["i16"]?.scalars == [-300, 300])
        #expect(file["i8"]?.scalars == [-5, 127])
        #expect(file["u8"]?.scalars == [200, 0])
        #expect(file["bool"]?.scalars == [0, 1, 1])
    }
}
