/// Recognises the files `torch.save` writes, so that a reader expecting safetensors can say what it was given.
enum PyTorchSignature {
    /// "zip archive" (PyTorch 1.6 and later), "pickle" (older, a pickle protocol 2–5 stream), or nil.
    static func format(of bytes: UnsafeRawBufferPointer) -> String? {
        if bytes.count >= 4, Array(bytes[0..<4]) == [0x50, 0x4B, 0x03, 0x04] { return "zip archive" }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) { return "pickle" }
        return nil
    }
}
