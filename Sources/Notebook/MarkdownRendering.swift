import Foundation

/// One construct in a Markdown page that GitHub renders wrongly: its 1-based line, and what to do.
public struct RenderingProblem: Equatable, Sendable, CustomStringConvertible {
    /// The rule broken, so that a report can be grouped by it.
    public enum Rule: String, CaseIterable, Sendable {
        case displayMath = "display math broken by Markdown"
        case mathEscape = "backslash escape in math"
        case inlineMath = "inline math across lines"
        case table = "table cells"
        case longCodeLine = "long code line"
    }

    public let line: Int
    public let rule: Rule
    public let message: String

    public init(line: Int, rule: Rule, message: String) {
        self.line = line
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(line): \(message)" }
}

/// Markdown that breaks GitHub's rendering of a woven page.
///
/// GitHub typesets `$…$` and `$$…$$` math only after its Markdown parser has run, so Markdown reads
/// math as text: a math line starting `+ ` becomes a list item, `\,` becomes `,`, a `|` splits a
/// table cell. Fenced code is recognised first: it holds no math, only lines too long to show.
public enum RenderingCheck {
    /// Longer code lines make GitHub scroll the block sideways.
    public static let maximumCodeLineLength = 100

    public static func problems(in markdown: String) -> [RenderingProblem] {
        let lines = markdown.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(Array.init)
        var problems: [RenderingProblem] = []
        var fence: Fence?
        // Open display math: where it opened, and the lines that break it, reported once it closes.
        var display: (line: Int, breaks: [RenderingProblem])?
        var tableColumns: Int?, delimiterNext = false
        // Inline math left open by the line before, in the same paragraph: Markdown pairs `$` across lines.
        var inlineMathOpen = false

        for (index, line) in lines.enumerated() {
            let number = index + 1
            func report(_ rule: RenderingProblem.Rule, _ message: String) {
                problems.append(RenderingProblem(line: number, rule: rule, message: message))
            }
            if let open = fence {
                if open.isClosed(by: line) {
                    fence = nil
                } else if case let length = open.content(of: line).count, length > maximumCodeLineLength {
                    report(.longCodeLine, "code line is \(length) characters long (at most \(maximumCodeLineLength)): "
                           + "GitHub scrolls the block sideways; wrap it")
                }
                continue
            }
            if let opened = Fence(opening: line) {
                if let math = display {
                    problems += math.breaks
                    report(.displayMath, "a code fence ends the paragraph, and so the display math opened on line \(math.line): "
                           + "close the math with `$$` before it")
                    display = nil
                }
                fence = opened
                tableColumns = nil
                inlineMathOpen = false
                continue
            }
            let paragraphBreak = Self.paragraphBreak(line)
            if let math = display, let construct = paragraphBreak {
                let message = line.allSatisfy(\.isWhitespace)
                    ? "a blank line inside display math (opened on line \(math.line)) ends the paragraph and the math: remove it"
                    : "display math (opened on line \(math.line)) continues on a line Markdown reads as \(construct): "
                        + "move it to the end of the line before, or write the equation in a ```math block"
                display?.breaks.append(RenderingProblem(line: number, rule: .displayMath, message: message))
            }

            // Tables: a header row, a delimiter row, then rows until a blank line or another block.
            if delimiterNext {
                delimiterNext = false
                continue
            }
            if tableColumns != nil, paragraphBreak != nil { tableColumns = nil }
            if tableColumns == nil, display == nil, line.contains("|"), index + 1 < lines.count,
               let delimiterCells = delimiterCellCount(lines[index + 1]) {
                let headerCells = cells(in: line)
                if headerCells == delimiterCells {
                    tableColumns = headerCells
                    delimiterNext = true
                } else {
                    problems.append(RenderingProblem(
                        line: number + 1, rule: .table,
                        message: "table delimiter row has \(delimiterCells) cells but its header has \(headerCells): "
                            + "GitHub does not render it as a table"))
                }
            }
            let inTable = tableColumns != nil
            if paragraphBreak != nil || inTable { inlineMathOpen = false }
            if let columns = tableColumns, !delimiterNext, case let count = cells(in: line), count != columns {
                report(.table, "table row has \(count) cells but its header has \(columns): GitHub splits cells on every "
                       + "unescaped `|`, even in math and code; escape a literal `|` as `\\|`, or write `\\mid` or `\\vert` in math")
            }

            let scan = InlineScan(line, inDisplay: display != nil, inInlineMath: inlineMathOpen, inTable: inTable)
            inlineMathOpen = scan.endsInInlineMath && !inTable
            for escape in scan.escapes { report(.mathEscape, Self.message(forEscape: escape)) }
            if scan.opensInlineMathItDoesNotClose {
                report(.inlineMath, "inline math opened with `$` is not closed on this line: "
                       + "GitHub renders it only within one line; join the lines, or close and reopen the math")
            }
            if scan.pipeInMath {
                report(.table, "a `|` inside math in a table cell splits the cell: write `\\mid` or `\\vert` (or escape it as `\\|`)")
            }
            if scan.pipeInCode {
                report(.table, "a `|` inside a code span in a table cell splits the cell, even inside backticks: escape it as `\\|`")
            }
            if scan.closedDisplay, let math = display {
                problems += math.breaks
                display = nil
            }
            if scan.endsInDisplay, display == nil { display = (number, []) }
        }
        if let math = display {
            problems.append(RenderingProblem(line: math.line, rule: .displayMath,
                                             message: "display math opened with `$$` is never closed"))
        }
        return problems.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }

    // MARK: Block structure

    /// A ``` or ~~~ fence: the code it holds is not Markdown until a closing fence as long.
    struct Fence {
        let marker: Character, length: Int, indent: Int

        init?(opening line: [Character]) {
            indent = line.prefix(while: { $0 == " " }).count
            guard indent <= 3, indent < line.count, line[indent] == "`" || line[indent] == "~" else { return nil }
            let marker = line[indent], length = line[indent...].prefix(while: { $0 == marker }).count
            // An info string with a backtick makes the line a code span instead.
            guard length >= 3, marker == "~" || !line[(indent + length)...].contains("`") else { return nil }
            (self.marker, self.length) = (marker, length)
        }

        func isClosed(by line: [Character]) -> Bool {
            let spaces = line.prefix(while: { $0 == " " }).count
            let run = line[spaces...].prefix(while: { $0 == marker }).count
            return spaces <= 3 && run >= length && line[(spaces + run)...].allSatisfy(\.isWhitespace)
        }

        /// A code line without the indentation the fence had (CommonMark strips it).
        func content(of line: [Character]) -> ArraySlice<Character> {
            line.dropFirst(min(indent, line.prefix(while: { $0 == " " }).count))
        }
    }

    /// What Markdown reads a line as, if that ends a paragraph (and so any math in it).
    static func paragraphBreak(_ line: [Character]) -> String? {
        if line.allSatisfy(\.isWhitespace) { return "a blank line" }
        let indent = line.prefix(while: { $0 == " " }).count
        guard indent <= 3 else { return nil }  // deeper lines continue the paragraph
        let rest = Array(line[indent...]), trimmed = String(rest).trimmingTrailingWhitespace
        func spaceOrEnd(at position: Int) -> Bool { position >= rest.count || rest[position] == " " || rest[position] == "\t" }

        if trimmed.allSatisfy({ $0 == "=" }) || trimmed.allSatisfy({ $0 == "-" }) {
            return "a heading underline (`\(trimmed)`)"
        }
        if let first = trimmed.first, "*_".contains(first), trimmed.filter({ $0 != " " }).count >= 3,
           trimmed.allSatisfy({ $0 == first || $0 == " " }) {
            return "a thematic break (`\(trimmed)`)"
        }
        switch rest[0] {
        case "#":
            let hashes = rest.prefix(while: { $0 == "#" }).count
            if hashes <= 6, spaceOrEnd(at: hashes) { return "a heading (`\(String(repeating: "#", count: hashes))`)" }
        case ">":
            return "a block quote (`>`)"
        case "+", "-", "*":
            if rest.count > 1, spaceOrEnd(at: 1) { return "a list item (`\(rest[0]) `)" }
        default:
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber }).count
            if (1...9).contains(digits), digits < rest.count, rest[digits] == "." || rest[digits] == ")",
               spaceOrEnd(at: digits + 1) {
                return "a numbered list item (`\(String(rest[...digits])) `)"
            }
        }
        return nil
    }

    /// The number of cells in a table row, split as GitHub does: on every `|` not escaped as `\|`.
    static func cells(in line: [Character]) -> Int {
        var row = Array(String(line).trimmingCharacters(in: .whitespaces))
        if row.first == "|" { row.removeFirst() }
        var count = 1, index = 0
        while index < row.count {
            if row[index] == "\\" {
                index += 2
                continue
            }
            if row[index] == "|", index < row.count - 1 { count += 1 }  // a trailing `|` ends the row
            index += 1
        }
        return count
    }

    /// The number of cells in a delimiter row (`| --- | :-: |`), or nil if the line is not one.
    static func delimiterCellCount(_ line: [Character]) -> Int? {
        guard line.contains("|") else { return nil }  // `---` alone is a heading underline
        var row = String(line).trimmingCharacters(in: .whitespaces)
        if row.hasPrefix("|") { row.removeFirst() }
        if row.hasSuffix("|") { row.removeLast() }
        let cells = row.split(separator: "|", omittingEmptySubsequences: false)
        let isDelimiter = cells.allSatisfy { cell in
            var text = Substring(cell.trimmingCharacters(in: .whitespaces))
            if text.hasPrefix(":") { text.removeFirst() }
            if text.hasSuffix(":") { text.removeLast() }
            return !text.isEmpty && text.allSatisfy { $0 == "-" }
        }
        return isDelimiter ? cells.count : nil
    }

    // MARK: Math

    /// CommonMark's backslash escapes: Markdown drops the backslash before any of these.
    static let escapable = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

    static func message(forEscape escaped: Character) -> String {
        let replacements: [Character: String] = [
            ",": "\\thinspace", ";": "\\thickspace", ":": "\\medspace", ">": "\\medspace", "!": "\\negthinspace",
            "{": "\\lbrace", "}": "\\rbrace", "|": "\\Vert",
        ]
        let start = "`\\\(escaped)` in math: Markdown turns it into `\(escaped)` before MathJax sees it"
        if escaped == "\\" { return start + ", which breaks the equation; restructure it (separate equations, or a ```math block)" }
        if let replacement = replacements[escaped] { return start + "; write `\(replacement)`" }
        return start + "; rewrite it without the escape, or put the equation in a ```math block"
    }

    /// One line read as Markdown inline text: code spans, `$…$` and `$$…$$` math, and what is wrong inside the math.
    struct InlineScan {
        /// The escaped characters of the backslash escapes in math, each once, in order.
        var escapes: [Character] = []
        var pipeInMath = false, pipeInCode = false
        var closedDisplay = false, endsInDisplay: Bool
        var opensInlineMathItDoesNotClose = false, endsInInlineMath: Bool

        init(_ line: [Character], inDisplay: Bool, inInlineMath: Bool, inTable: Bool) {
            endsInDisplay = inDisplay
            endsInInlineMath = inInlineMath
            var pipeInOpenMath = false
            var index = 0
            while index < line.count {
                let character = line[index]
                let next = index + 1 < line.count ? line[index + 1] : nil
                if endsInDisplay || endsInInlineMath {
                    if character == "\\", let next {
                        // In a table `\|` is the way to write `|`: GitHub unescapes it when it splits cells.
                        if RenderingCheck.escapable.contains(next), !(inTable && next == "|"), !escapes.contains(next) { escapes.append(next) }
                        index += 2
                        continue
                    }
                    if character == "|", inTable { pipeInOpenMath = true }
                    if character == "$" {
                        if endsInInlineMath {
                            endsInInlineMath = false
                            opensInlineMathItDoesNotClose = false
                            pipeInMath = pipeInMath || pipeInOpenMath
                        } else if next == "$" {
                            endsInDisplay = false
                            closedDisplay = true
                            pipeInMath = pipeInMath || pipeInOpenMath
                            index += 1
                        }
                    }
                    index += 1
                    continue
                }
                switch character {
                case "\\":
                    index += next.map(RenderingCheck.escapable.contains) == true ? 2 : 1
                case "`":
                    // A code span closes at the next run of exactly as many backticks; unmatched, they are text.
                    let run = line[index...].prefix(while: { $0 == "`" }).count
                    var end = index + run
                    while end < line.count {
                        let closing = line[end...].prefix(while: { $0 == "`" }).count
                        if closing == run { break }
                        end += max(closing, 1)
                    }
                    if end < line.count {
                        let code = line[(index + run)..<end]
                        if inTable, code.indices.contains(where: { code[$0] == "|" && ($0 == code.startIndex || code[$0 - 1] != "\\") }) {
                            pipeInCode = true
                        }
                        index = end + run
                    } else {
                        index += run
                    }
                case "$":
                    if next == "$" {
                        endsInDisplay = true
                        index += 2
                    } else {
                        endsInInlineMath = true
                        opensInlineMathItDoesNotClose = true
                        pipeInOpenMath = false
                        index += 1
                    }
                default:
                    index += 1
                }
            }
        }
    }
}

private extension String {
    var trimmingTrailingWhitespace: String {
        String(reversed().drop(while: \.isWhitespace).reversed())
    }
}
