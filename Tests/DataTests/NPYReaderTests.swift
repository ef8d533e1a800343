import Data
import LetheTesting
import Testing

/// NumPy .npy images and labels, and the header parser.
struct NPYReaderTests {
    @Test func uint8ImagesWithInt64Labels() throws {
        let directory = try TempDirectory()
        let pixels = pixelPattern(2 * 4 * 5)
        let images = try directory.write("images.npy", npy(descr: "|u1", shape: [2, 4, 5], data: pixels))
        let labels = try directory.write(
            "labels.npy", npy(descr: "<i8", shape: [2], data: littleEndian([Int64(7), 2])))
        let dataset = try NPYReader.read(images: images, labels: labels, name: "npy")
        #expect(dataset.images.shape == [2, 1, 4, 5])
        #expect(dataset.labels == [7, 2])
        #expect(dataset.classCount == 8)  // inferred: largest label + 1
        for (i, byte) in pixels.enumerated() {
            #expect(Tolerance.isClose(dataset.images.scalars[i], Float(byte) / 255), "pixel \(i)")
        }
    }

    @Test func float32ImagesAreUsedAsStoredThenNormalized() throws {
        let directory = try TempDirectory()
        let values: [Float] = (0..<(2 * 3 * 2 * 2)).map { Float($0) * 0.25 - 1.5 }
        let images = try directory.write(
            "images.npy", npy(descr: "<f4", shape: [2, 3, 2, 2], data: littleEndian(values)))
        let labels = try directory.write(
            "labels.npy", npy(descr: "<i8", shape: [2], data: littleEndian([Int64(0), 1])))
        let raw = try NPYReader.read(images: images, labels: labels, name: "f32", classCount: 5)
        #expect(raw.images.shape == [2, 3, 2, 2])
        #expect(raw.classCount == 5)
        #expect(Tolerance.mismatch(raw.images, .init(shape: [2, 3, 2, 2], scalars: values)) == nil)

        let statistics = Normalization(mean: [0.5, -1, 2], std: [2, 0.5, 4])
        let normalized = try NPYReader.readImages(images, normalization: statistics).tensor
        for (i, value) in values.enumerated() {
            let channel = i / 4 % 3
            let expected = (value - statistics.mean[channel]) / statistics.std[channel]
            #expect(Tolerance.isClose(normalized.scalars[i], expected), "value \(i)")
        }
    }

    @Test func version2Float64WithInt32AndUInt8Labels() throws {
        let directory = try TempDirectory()
        let values: [Double] = [0.125, -2, 3.5, 1e-3]
        let images = try directory.write(
            "i.npy", npy(descr: "<f8", shape: [1, 2, 2], data: littleEndian(values), version: 2))
        let int32 = try directory.write(
            "l32.npy", npy(descr: "<i4", shape: [1], data: littleEndian([Int32(3)]), version: 2))
        let uint8 = try directory.write("l8.npy", npy(descr: "|u1", shape: [1, 1], data: [4]))
        let dataset = try NPYReader.read(images: images, labels: int32, name: "v2")
        #expect(dataset.labels == [3])
        for (i, value) in values.enumerated() { #expect(Tolerance.isClose(dataset.images.scalars[i], Float(value))) }
        #expect(try NPYReader.readLabels(uint8) == [4])
    }

    @Test func headerParsing() throws {
        let bytes = npy(header: "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":[3, 4L],}", data: [])
        let header = try NPYHeader.parse(bytes, path: "h.npy")
        #expect(header.descr == "<f4")
        #expect(header.fortranOrder == false)
        #expect(header.shape == [3, 4])
        #expect(header.dataOffset == bytes.count && bytes.count % 64 == 0)
        #expect(header.majorVersion == 1)
        let scalar = try NPYHeader.parse(npy(descr: "<f8", shape: [], data: []), path: "s.npy")
        #expect(scalar.shape == [])
        #expect(NPYDType(descr: "<i8") == .int64)
        #expect(NPYDType(descr: ">u1") == .uint8)
        #expect(NPYDType(descr: ">f4") == nil)
        #expect(NPYDType(descr: "<f2") == nil)
    }

    @Test func badMagic() throws {
        let directory = try TempDirectory()
        let path = try directory.write("images.npy", Array("PK\u{3}\u{4} a zip file, not npy".utf8))
        expectError(.badMagic, mentioning: ["images.npy", "NUMPY", "PK"]) {
            try NPYReader.readImages(path, normalization: .identity)
        }
    }

    @Test(arguments: [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), ",  // unterminated dict
        "['descr', '<f4']",  // not a dict
        "{'descr': '<f4', 'fortran_order': False}",  // no shape
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (1, 1, 1), }",  // fortran_order not a bool
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -1, 1), }",  // negative dimension
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), } junk",  // text after the dict
        "{'descr: '<f4'}",  // broken quoting
    ])
    func malformedHeaders(header: String) throws {
        let directory = try TempDirectory()
        let path = try directory.write("bad.npy", npy(header: header, data: [UInt8](repeating: 0, count: 32)))
        expectError(.invalidHeader, mentioning: ["bad.npy", "invalid NumPy header"]) {
            try NPYReader.readImages(path, normalization: .identity)
        }
    }

    @Test func unsupportedVersionAndTruncatedHeader() throws {
        let directory = try TempDirectory()
        var future = npy(descr: "|u1", shape: [1, 1, 1], data: [0])
        future[6] = 9
        let versioned = try directory.write("v9.npy", future)
        expectError(.invalidHeader, mentioning: ["v9.npy", "version 9.0"]) {
            try NPYReader.readImages(versioned, normalization: .identity)
        }
        let short = try directory.write("short.npy", Array(npy(descr: "|u1", shape: [1, 1, 1], data: [0]).prefix(30)))
        expectError(.truncated, mentioning: ["short.npy"]) { try NPYReader.readImages(short, normalization: .identity) }
    }

    @Test(arguments: ["<i2", ">f4", "<c8", "|b1", "<U10"])
    func unsupportedImageDtypes(descr: String) throws {
        let directory = try TempDirectory()
        let path = try directory.write(
            "images.npy", npy(descr: descr, shape: [1, 2, 2], data: [UInt8](repeating: 0, count: 160)))
        expectError(.unsupportedDtype, mentioning: ["images.npy", descr, "float32"]) {
            try NPYReader.readImages(path, normalization: .identity)
        }
    }

    @Test func unsupportedLabelDtypes() throws {
        let directory = try TempDirectory()
        let path = try directory.write("labels.npy", npy(descr: "<f4", shape: [2], data: littleEndian([Float(1), 2])))
        expectError(.unsupportedDtype, mentioning: ["labels.npy", "<f4", "int64"]) { try NPYReader.readLabels(path) }
    }

    @Test func fortranOrderIsRejected() throws {
        let directory = try TempDirectory()
        let path = try directory.write(
            "f.npy", npy(descr: "|u1", shape: [1, 2, 2], data: [1, 2, 3, 4], fortranOrder: true))
        expectError(.fortranOrder, mentioning: ["f.npy", "fortran_order"]) {
            try NPYReader.readImages(path, normalization: .identity)
        }
    }

    @Test func sizeAndShapeProblems() throws {
        let directory = try TempDirectory()
        let sevenFloats = npy(descr: "<f4", shape: [2, 2, 2], data: littleEndian([Float](repeating: 1, count: 7)))
        let short = try directory.write("short.npy", sevenFloats)
        let expected = ["short.npy", "expected \(sevenFloats.count + 4) bytes", "found only \(sevenFloats.count)"]
        expectError(.truncated, mentioning: expected) {
            try NPYReader.readImages(short, normalization: .identity)
        }
        let long = try directory.write("long.npy", npy(descr: "|u1", shape: [1, 2, 2], data: [1, 2, 3, 4, 5]))
        expectError(.sizeMismatch, mentioning: ["long.npy"]) {
            try NPYReader.readImages(long, normalization: .identity)
        }
        // [N, D] reads as a table; a bare vector is no image array.
        let flat = try directory.write(
            "flat.npy", npy(descr: "|u1", shape: [16], data: [UInt8](repeating: 0, count: 16)))
        expectError(.sizeMismatch, mentioning: ["flat.npy", "[N, H, W]"]) {
            try NPYReader.readImages(flat, normalization: .identity)
        }
    }

    @Test func countMismatchAndBadLabels() throws {
        let directory = try TempDirectory()
        let images = try directory.write("images.npy", npy(descr: "|u1", shape: [3, 1, 1], data: [0, 1, 2]))
        let two = try directory.write("two.npy", npy(descr: "<i8", shape: [2], data: littleEndian([Int64(0), 1])))
        expectError(.countMismatch, mentioning: ["images.npy", "3 images", "two.npy", "2 labels"]) {
            try NPYReader.read(images: images, labels: two, name: "x")
        }
        let negative = try directory.write(
            "negative.npy", npy(descr: "<i8", shape: [3], data: littleEndian([Int64(0), -1, 1])))
        expectError(.labelOutOfRange, mentioning: ["negative.npy", "label -1", "sample 1"]) {
            try NPYReader.read(images: images, labels: negative, name: "x")
        }
        let big = try directory.write("big.npy", npy(descr: "<i4", shape: [3], data: littleEndian([Int32(0), 1, 5])))
        expectError(.labelOutOfRange, mentioning: ["big.npy", "label 5", "0..<3"]) {
            try NPYReader.read(images: images, labels: big, name: "x", classCount: 3)
        }
    }
}
