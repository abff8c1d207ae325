import Foundation

/// A reason a chapter cannot go on that is not already a library error, in words.
public struct ChapterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Notebook {
    /// Ends a chapter that cannot go on — a missing dataset, an output folder it cannot write, a
    /// checkpoint that does not fit — with the reason on standard error and exit status 1. Each
    /// chapter runs its code in `do { … } catch { Notebook.exit(dueTo: error) }`, so that such an
    /// error ends the run with a message rather than a crash report.
    public static func exit(dueTo error: any Error) -> Never {
        FileHandle.standardError.write(Data("Error: \(reason(for: error))\n".utf8))
        Foundation.exit(1)
    }

    /// The error in words. Foundation's file errors become the path and the system's reason.
    static func reason(for error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain,
           let path = nsError.userInfo[NSFilePathErrorKey] as? String ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path {
            let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? any Error).map { error -> String in
                let posix = error as NSError
                return posix.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(posix.code))) : posix.localizedDescription
            }
            return "\(path): \(underlying ?? "file operation failed (code \(nsError.code))")"
        }
        return String(describing: error)
    }
}
