import LetheProtoC

/// The two protobuf messages that carry a piece of a blob, a worker's download (`BlobChunk`) and the CLI's upload
/// (`BlobUpload`): the same fields, so one encoder and one decoder serve both.
protocol BlobChunkMessage {
    var sha256: UnsafeMutablePointer<CChar>! { get set }
    var offset: UInt64 { get set }
    var total_bytes: UInt64 { get set }
    var data: ProtobufCBinaryData { get set }
}

extension Lethe__BlobChunk: BlobChunkMessage {}
extension Lethe__BlobUpload: BlobChunkMessage {}

extension BlobChunk {
    /// The chunk as a new message set up by `initialize` (the generated `…__init` function).
    func encode<Message: BlobChunkMessage>(
        _ initialize: (UnsafeMutablePointer<Message>) -> Void, _ arena: CArena
    ) -> UnsafeMutablePointer<Message> {
        arena.new {
            initialize($0)
            $0.pointee.sha256 = arena.string(sha256)
            $0.pointee.offset = UInt64(clamping: offset)
            $0.pointee.total_bytes = UInt64(clamping: totalBytes)
            let (count, pointer) = arena.bytes(data)
            $0.pointee.data = ProtobufCBinaryData(len: count, data: pointer)
        }
    }

    /// The chunk a message carries, its hash and sizes checked.
    init<Message: BlobChunkMessage>(decoding message: Message) throws(WireError) {
        self.init(
            sha256: try EnvelopeBody.sha256(message.sha256), offset: try EnvelopeBody.count(message.offset, "offset"),
            totalBytes: try EnvelopeBody.count(message.total_bytes, "total_bytes"),
            data: CRead.array(message.data.data, message.data.len))
    }
}
