import Testing

@testable import LetheCommands

/// Sizes on the command line and in `$LETHE_CACHE_MAX_SIZE`: bytes or powers of 1024 by suffix; anything else is
/// not a size.
struct ByteSizeTests {
    @Test(arguments: [
        ("1024", Int64(1024)), ("0", 0), ("500M", 500 << 20), ("2G", 2 << 30), ("2g", 2 << 30),
        ("1.5GiB", 3 << 29), ("64KB", 64 << 10), ("1T", 1 << 40), (" 7 ", 7),
    ])
    func sizesParse(text: String, bytes: Int64) {
        #expect(ByteSize(argument: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "lots", "-3", "2X", "G", "nan", "inf", "1e30"])
    func nonSizesAreRefused(text: String) {
        #expect(ByteSize(argument: text) == nil)
    }

    @Test func sizesPrintInBinaryUnits() {
        #expect(ByteSize(bytes: 512).description == "512 B")
        #expect(ByteSize(bytes: 3 << 29).description == "1.5 GiB")
    }
}
