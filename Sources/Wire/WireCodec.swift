import LetheProtoC
import Tensor

/// Turns envelopes into frames and back (DESIGN §5): [version] [protobuf envelope] [raw tensor frames…].
public enum WireCodec {
    /// Frames for `envelope`, ready to send as one multipart message.
    /// The envelope's frames; its first tensors' frames may be given already encoded (`FramePayload(tensor)` of
    /// each, shared by every envelope that carries the same tensors) instead of copied again.
    public static func encode<Message: WireMessage>(
        _ envelope: Envelope<Message>, encodedTensors: [FramePayload] = []
    ) -> [FramePayload] {
        precondition(encodedTensors.count <= envelope.tensors.count, "more encoded tensors than tensors")
        let arena = CArena()
        let root: UnsafeMutablePointer<Lethe__Envelope> = arena.new { lethe__envelope__init($0) }
        root.pointee.request_id = envelope.requestID
        let infos = envelope.tensors.map { named -> UnsafeMutablePointer<Lethe__TensorInfo>? in
            arena.new {
                lethe__tensor_info__init($0)
                $0.pointee.name = arena.string(named.name)
                $0.pointee.n_shape = named.tensor.shape.count
                $0.pointee.shape = arena.array(named.tensor.shape.map(UInt32.init))
                $0.pointee.byte_length = UInt64(named.tensor.count * MemoryLayout<Float>.size)
            }
        }
        root.pointee.n_tensors = infos.count
        root.pointee.tensors = arena.array(infos)
        EnvelopeBody.encode(envelope.message.body.value, into: root, arena)
        let size = lethe__envelope__get_packed_size(root)
        let packed = FramePayload(count: size)
        if size > 0 {
            _ = lethe__envelope__pack(root, packed.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return [FramePayload(WireProtocol.versionFrame), packed] + encodedTensors
            + envelope.tensors.dropFirst(encodedTensors.count).map { FramePayload($0.tensor) }
    }

    /// The envelope in `frames`, or a `WireError` saying exactly what was wrong with them: `.unexpected` when they
    /// hold a valid message that is not a `Message` (whose side never sends it).
    public static func decode<Message: WireMessage>(_ frames: [[UInt8]], as type: Message.Type = Message.self)
        throws(WireError)
        -> Envelope<Message>
    {
        guard frames.count >= 2 else { throw .missingFrames(count: frames.count) }
        guard frames[0] == WireProtocol.versionFrame else {
            throw .wrongVersion(received: String(decoding: frames[0].prefix(64), as: UTF8.self))
        }
        let packed = frames[1]
        guard packed.count <= WireProtocol.Limits.envelopeBytes else {
            throw .malformedEnvelope(
                "\(packed.count) bytes exceeds the \(WireProtocol.Limits.envelopeBytes)-byte limit")
        }
        let unpacked = packed.withUnsafeBufferPointer { buffer in
            lethe__envelope__unpack(nil, buffer.count, buffer.baseAddress)
        }
        guard let root = unpacked else { throw .malformedEnvelope("not a valid lethe.Envelope protobuf") }
        defer { lethe__envelope__free_unpacked(root, nil) }
        let infos = CRead.messages(root.pointee.tensors, root.pointee.n_tensors)
        let tensorFrames = frames.dropFirst(2)
        guard infos.count == tensorFrames.count, infos.count <= WireProtocol.Limits.tensors else {
            throw .badTensor(
                "the envelope describes \(infos.count) tensor(s) but \(tensorFrames.count) frame(s) follow")
        }
        var tensors: [NamedTensor] = []
        for (info, frame) in zip(infos, tensorFrames) {
            tensors.append(try tensor(info, frame))
        }
        let body = try EnvelopeBody.decode(root.pointee)
        guard let message = Message(WireBody(body)) else {
            throw .unexpected(
                kind: body.kind, requestID: root.pointee.request_id, refusal: Message.refusal(of: body.kind))
        }
        return Envelope(message, requestID: root.pointee.request_id, tensors: tensors)
    }

    /// The request id of `frames` when their envelope parses as protobuf at all, even if its contents are then
    /// refused, so that a refusal can answer the request it refuses (nil when not even that parses).
    public static func requestID(_ frames: [[UInt8]]) -> UInt64? {
        guard frames.count >= 2, frames[0] == WireProtocol.versionFrame,
            frames[1].count <= WireProtocol.Limits.envelopeBytes
        else { return nil }
        let unpacked = frames[1].withUnsafeBufferPointer { buffer in
            lethe__envelope__unpack(nil, buffer.count, buffer.baseAddress)
        }
        guard let root = unpacked else { return nil }
        defer { lethe__envelope__free_unpacked(root, nil) }
        return root.pointee.request_id
    }

    private static func tensor(_ info: Lethe__TensorInfo, _ frame: [UInt8]) throws(WireError) -> NamedTensor {
        let name = CRead.string(info.name)
        let shape = CRead.ints(info.shape, info.n_shape)
        guard shape.count <= WireProtocol.Limits.rank else {
            throw .badTensor("'\(name)' has rank \(shape.count); at most \(WireProtocol.Limits.rank)")
        }
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= WireProtocol.Limits.tensorElements else {
                throw .badTensor("'\(name)' with shape \(shape) is larger than the protocol allows")
            }
            elements = product
        }
        let expected = elements * MemoryLayout<Float>.size
        guard info.byte_length == UInt64(expected), frame.count == expected else {
            throw .badTensor(
                "'\(name)' with shape \(shape) needs \(expected) bytes; the envelope says \(info.byte_length), the frame has \(frame.count)"
            )
        }
        let tensor = Tensor(shape: shape) { buffer in
            frame.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
        }
        return NamedTensor(name, tensor)
    }
}
