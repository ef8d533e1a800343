import ArgumentParser
import Foundation
import Jobs

/// Refuses an output path that cannot be written, before any work starts: its directory must exist and be
/// writable, and the path must not be a directory. (A job that ran for minutes must not fail at its last step.)
func checkWritable(_ path: String?, option: String) throws {
    guard let path else { return }
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("\(option) \(path): the directory \(directory) does not exist; create it first")
    }
    guard FileManager.default.isWritableFile(atPath: directory) else {
        throw ValidationError("\(option) \(path): the directory \(directory) is not writable")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ValidationError("\(option) \(path) is a directory; name a file")
    }
}

/// A Foundation file error as one plain sentence ("cannot write /x/y.json: No such file or directory") instead
/// of its `NSCocoaErrorDomain Code=512 "(null)"` form; nil for other errors.
func plainFileErrorMessage(_ error: any Error) -> String? {
    let nsError = error as NSError
    guard nsError.domain == NSCocoaErrorDomain else { return nil }
    let path = (nsError.userInfo[NSFilePathErrorKey] as? String) ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
    let verb =
        (CocoaError.Code.fileReadUnknown.rawValue..<CocoaError.Code.fileWriteUnknown.rawValue)
            .contains(nsError.code) ? "read" : "write"
    let reason =
        (nsError.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap {
            $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil
        } ?? "the file system refused it (Foundation error \(nsError.code))"
    return "cannot \(verb) \(path ?? "a file"): \(reason)"
}
