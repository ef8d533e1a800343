import Testing
import ZeroMQ

/// Owns a heap buffer for a zero-copy frame and notes its own release.
private final class Buffer: @unchecked Sendable {  // the bytes are written once, before sharing
    let bytes: UnsafeMutableRawBufferPointer
    let released: Counter

    init(_ content: [UInt8], released: Counter) {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: content.count, alignment: 16)
        content.withUnsafeBytes { bytes.copyMemory(from: $0) }
        self.bytes = bytes
        self.released = released
    }

    deinit {
        bytes.deallocate()
        released.increment()
    }

    var frame: Frame { Frame(noCopy: UnsafeRawBufferPointer(bytes), owner: self) }
}

struct ZeroCopyTests {
    @Test(arguments: Transport.allCases)
    func zeroCopyFrameArrivesIntactAndReleasesItsOwner(_ transport: Transport) throws {
        let scratch = try Scratch()
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        let endpoint = try router.bind(scratch.endpoint(transport))
        let dealer = try ZeroMQSocket(context, type: .dealer)
        try dealer.connect(endpoint)

        let content = pattern(1 << 20, seed: 3)  // 1 MiB
        let released = Counter()
        do {
            let buffer = Buffer(content, released: released)
            try dealer.send([Frame("header"), buffer.frame, Buffer([1, 2, 3], released: released).frame])
        }
        let message = try #require(try router.receive(timeoutMilliseconds: patience))
        #expect(message.frames.count == 4)
        #expect(message.frames[1] == Array("header".utf8))
        #expect(message.frames[2] == content)
        #expect(message.frames[3] == [1, 2, 3])
        // libzmq releases the owners once it no longer needs the bytes (on its I/O thread for ipc and tcp).
        #expect(eventually { released.value == 2 })
    }

    @Test func unsentZeroCopyFrameReleasesItsOwner() throws {
        let context = try ZeroMQContext()
        let router = try ZeroMQSocket(context, type: .router)
        try router.set(.routerMandatory, to: true)
        let released = Counter()
        do {
            let buffer = Buffer(pattern(64), released: released)
            #expect(throws: ZeroMQError.self) { try router.send([buffer.frame, Frame("x")]) }
        }
        #expect(released.value == 1)
    }

    @Test func frameReportsItsBytes() {
        let released = Counter()
        let buffer = Buffer([9, 8, 7], released: released)
        #expect(buffer.frame.count == 3)
        #expect(buffer.frame.bytes == [9, 8, 7])
        #expect(Frame("abc").bytes == [97, 98, 99])
        #expect(Frame([]).count == 0)
    }
}
