import Foundation

/// Joins a chapter's prose and code with what a run of it showed: the read-along document.
public enum Weaver {
    /// The Markdown of one chapter. Each transcript entry goes under the code cell containing the
    /// line that produced it; figures are linked from `figureFolder` (relative to the document).
    public static func document(source: LiterateSource, sourcePath: String, sourceText: String,
                                transcript: Transcript?, figureFolder: String) -> String {
        var markdown = "<!-- Woven by `swift run Weave` from \(sourcePath); source fingerprint \(fingerprint(sourceText)). Edit the source, not this file. -->\n\n"
        let entries = transcript?.entries ?? []
        var used = Set<Int>()
        for (blockIndex, block) in source.blocks.enumerated() {
            switch block {
            case .prose(let text):
                markdown += text + "\n\n"
                if blockIndex == 0, let transcript {
                    markdown += "*Output below is from a `\(transcript.mode.rawValue)` run of `swift run -c release \(transcript.chapter.split(separator: "-").dropFirst().joined(separator: "-"))`.*\n\n"
                }
            case .code(let code, let lines):
                markdown += "```swift\n\(code)\n```\n\n"
                let mine = entries.indices.filter { !used.contains($0) && lines.contains(entries[$0].line) }
                used.formUnion(mine)
                markdown += render(mine.map { entries[$0] }, figureFolder: figureFolder)
            }
        }
        return markdown.trimmingCharacters(in: .newlines) + "\n"
    }

    /// `text` with every line longer than a code line may be cut at its last space that keeps it
    /// within the limit (or at the limit, when there is none), and continued on the next line
    /// four spaces further in: a run's long messages read on the page without scrolling sideways.
    static func wrapped(_ text: String, width: Int = RenderingCheck.maximumCodeLineLength) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
            var rest = Substring(line), lines: [String] = []
            let indent = String(repeating: " ", count: min(line.prefix { $0 == " " }.count + 4, width / 2))
            while rest.count > width {
                let limit = rest.index(rest.startIndex, offsetBy: width)
                let firstWord = rest.firstIndex { $0 != " " } ?? rest.startIndex
                let cut = rest[..<limit].lastIndex(of: " ").flatMap { $0 > firstWord ? $0 : nil } ?? limit
                lines.append(String(rest[..<cut].reversed().drop { $0 == " " }.reversed()))
                rest = Substring(indent + rest[cut...].drop { $0 == " " })
            }
            return lines + [String(rest)]
        }.joined(separator: "\n")
    }

    /// Output entries as Markdown: text and progress lines in one plain block, tables and figures as themselves.
    static func render(_ entries: [TranscriptEntry], figureFolder: String) -> String {
        var result = "", plain: [String] = []
        func flush() {
            if !plain.isEmpty { result += "```text\n" + plain.joined(separator: "\n") + "\n```\n\n" }
            plain = []
        }
        for entry in entries {
            switch entry.kind {
            case .text, .progress: plain.append(wrapped(entry.text))
            case .table:
                flush()
                result += entry.text + "\n\n"
            case .figure:
                flush()
                result += "![\(entry.text)](\(figureFolder)/\(entry.file ?? ""))\n\n*\(entry.text)*\n\n"
            }
        }
        flush()
        return result
    }

    /// A 64-bit FNV-1a hash of the source, in hex: `Weave --check` compares it with the committed document's.
    public static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// The fingerprint recorded in a woven document, if any.
    public static func recordedFingerprint(in document: String) -> String? {
        guard let range = document.range(of: "source fingerprint ") else { return nil }
        return String(document[range.upperBound...].prefix(while: { $0.isHexDigit }))
    }
}
