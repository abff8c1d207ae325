/// What went wrong loading data, and which file or directory it was.
///
/// The description is one line a person can act on, for example
/// `/data/train-images-idx3-ubyte.gz: truncated gzip data (the compressed stream ends early)`.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
    /// Broad kinds of failure, so that callers can react (fall back only when data is missing).
    public enum Kind: Sendable, Equatable {
        /// The file or directory does not exist.
        case missing
        /// The file exists but cannot be read.
        case unreadable
        /// The contents are damaged or not what was expected.
        case malformed
    }

    /// The file or directory the problem is about.
    public let file: String
    /// What was wrong, in words.
    public let problem: String
    /// The kind of failure.
    public let kind: Kind

    /// An error about `file`.
    public init(file: String, problem: String, kind: Kind = .malformed) {
        self.file = file
        self.problem = problem
        self.kind = kind
    }

    public var description: String { "\(file): \(problem)" }
}
