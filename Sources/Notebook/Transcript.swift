import Foundation

/// One thing a chapter showed while it ran, tied to the source line that showed it, so that the
/// read-along document can place it under the right code cell.
public struct TranscriptEntry: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// Printed text.
        case text
        /// A figure file (PNG or SVG), relative to the output folder.
        case figure
        /// The final line of a progress bar.
        case progress
        /// A table, as Markdown.
        case table
    }

    public var kind: Kind
    /// The line of the chapter source that produced it.
    public var line: Int
    /// The text, or for a figure its caption.
    public var text: String
    /// For a figure: its file name in the output folder.
    public var file: String?

    public init(kind: Kind, line: Int, text: String, file: String? = nil) {
        self.kind = kind
        self.line = line
        self.text = text
        self.file = file
    }
}

/// Everything a run showed, in order: what `Weave` joins with the chapter's source.
public struct Transcript: Codable, Equatable, Sendable {
    public var chapter: String
    public var source: String
    public var mode: RunMode
    /// `Weaver.fingerprint` of the source that ran, so that a transcript from an older version of the
    /// chapter (whose line numbers no longer match) is not woven into the new one.
    public var sourceFingerprint: String?
    public var entries: [TranscriptEntry]

    public init(chapter: String, source: String, mode: RunMode, sourceFingerprint: String? = nil, entries: [TranscriptEntry] = []) {
        self.chapter = chapter
        self.source = source
        self.mode = mode
        self.sourceFingerprint = sourceFingerprint
        self.entries = entries
    }

    public static func load(from url: URL) throws -> Transcript {
        try JSONDecoder().decode(Transcript.self, from: Data(contentsOf: url))
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}

/// Who made a set of figures, and how: enough to reproduce the run.
public struct RunManifest: Codable, Sendable {
    public var chapter: String
    public var options: [String: String]
    public var commit: String
    public var threads: Int
    public var started: String
    public var wallSeconds: Double
    public var metrics: [String: Double]
    /// What each of the chapter's trainings did in this run.
    public var trainings: [TrainingOutcome]
}
