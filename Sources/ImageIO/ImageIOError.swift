/// What went wrong reading or writing an image or a figure, and which file it was.
///
/// The description reads as one line a person can act on, for example
/// `samples.png: not a PNG file (PNG signature not found)`.
public struct ImageIOError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or a name standing for in-memory data) the problem is about.
    public let file: String
    /// What was wrong, in words.
    public let problem: String

    /// An error about `file`, saying what `problem` occurred.
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
