import Foundation

/// A chapter source split into prose and code, in order.
///
/// Prose is Swift Playground markup: `/*: … */` blocks and `//:` lines, holding Markdown. Everything
/// else is code. Code between two pieces of prose forms one cell, remembered with its line range so
/// that a run's transcript can be matched to it. Both lose the indentation common to their lines
/// (a chapter's code sits inside one `do` block).
public struct LiterateSource: Equatable, Sendable {
    public enum Block: Equatable, Sendable {
        case prose(String)
        /// Code with the 1-based line numbers it spans in the source.
        case code(String, lines: ClosedRange<Int>)
    }

    public let blocks: [Block]

    public init(_ text: String) {
        var blocks: [Block] = []
        var prose: [String] = []
        var code: [(line: Int, text: String)] = []
        var inMarkup = false

        func flushCode() {
            // Blank lines at either end belong to neither neighbour.
            while let first = code.first, first.text.trimmingCharacters(in: .whitespaces).isEmpty { code.removeFirst() }
            while let last = code.last, last.text.trimmingCharacters(in: .whitespaces).isEmpty { code.removeLast() }
            if let first = code.first, let last = code.last {
                blocks.append(.code(Self.dedented(code.map(\.text)), lines: first.line...last.line))
            }
            code = []
        }
        func flushProse() {
            let text = Self.dedented(prose).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { blocks.append(.prose(text)) }
            prose = []
        }

        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if inMarkup {
                if let end = line.range(of: "*/") {
                    prose.append(String(line[..<end.lowerBound]))
                    inMarkup = false
                    flushProse()
                } else {
                    prose.append(line)
                }
            } else if trimmed.hasPrefix("/*:") {
                flushProse()
                flushCode()
                let rest = String(trimmed.dropFirst(3))
                if let end = rest.range(of: "*/") {
                    prose.append(String(rest[..<end.lowerBound]))
                    flushProse()
                } else {
                    if !rest.trimmingCharacters(in: .whitespaces).isEmpty { prose.append(rest) }
                    inMarkup = true
                }
            } else if trimmed.hasPrefix("//:") {
                flushCode()
                prose.append(String(trimmed.dropFirst(3)))     // runs of `//:` lines read as one paragraph
            } else {
                flushProse()
                code.append((index + 1, line))
            }
        }
        flushProse()
        flushCode()
        // Pieces of prose with no code between them are paragraphs of one cell.
        self.blocks = blocks.reduce(into: []) { merged, block in
            if case .prose(let next) = block, case .prose(let previous)? = merged.last {
                merged[merged.count - 1] = .prose(previous + "\n\n" + next)
            } else {
                merged.append(block)
            }
        }
    }

    /// Removes the indentation every non-blank line shares.
    static func dedented(_ lines: [String]) -> String {
        let indents = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0.prefix(while: { $0 == " " }).count }
        let common = indents.min() ?? 0
        return lines.map { $0.count >= common ? String($0.dropFirst(common)) : $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n")
    }
}
