/// Recognises the files `torch.save` writes, so that a reader expecting safetensors can say what it was given.
enum PyTorchSignature {
    /// "zip archive" (PyTorch 1.6 and later), "pickle" (older, a pickle protocol 2–5 stream), ".pt file" /
    /// ".pth file" (named as `torch.save` files usually are, whatever the bytes), or nil.
    static func format(of bytes: UnsafeRawBufferPointer, file: String = "") -> String? {
        if bytes.count >= 4, Array(bytes[0..<4]) == [0x50, 0x4B, 0x03, 0x04] { return "zip archive" }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) { return "pickle" }
        let lowercased = file.lowercased()
        for suffix in [".pt", ".pth"] where lowercased.hasSuffix(suffix) { return "\(suffix) file" }
        return nil
    }
}
