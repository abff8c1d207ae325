import Foundation
import Testing
@testable import Notebook

/// Each rule of `RenderingCheck`: a page GitHub renders wrongly, flagged on the right line, and one it renders well.
@Suite struct MarkdownRenderingTests {
    static func problems(_ lines: [String]) -> [RenderingProblem] {
        RenderingCheck.problems(in: lines.joined(separator: "\n") + "\n")
    }

    // MARK: Display math broken by Markdown

    @Test func displayMathLineReadAsAListItemIsFlagged() throws {
        let found = Self.problems(["Prose.", "", "$$a = b", "+ c$$", "", "More prose."])
        let problem = try #require(found.only)
        #expect(problem.line == 4 && problem.rule == .displayMath)
        #expect(problem.message.contains("a list item (`+ `)") && problem.message.contains("opened on line 3"))
    }

    @Test func displayMathLinesReadAsHeadingsQuotesNumberedItemsAndBlankLinesAreFlagged() {
        let found = Self.problems(["$$a", "# b", "> c", "1. d", "2) e", "", "==", "f$$"])
        #expect(found.map(\.line) == [2, 3, 4, 5, 6, 7])
        #expect(found.allSatisfy { $0.rule == .displayMath })
        #expect(found[0].message.contains("a heading (`#`)"))
        #expect(found[1].message.contains("a block quote (`>`)"))
        #expect(found[2].message.contains("a numbered list item (`1. `)"))
        #expect(found[3].message.contains("a numbered list item (`2) `)"))
        #expect(found[4].message.contains("a blank line inside display math (opened on line 1)"))
        #expect(found[5].message.contains("a heading underline (`==`)"))
    }

    @Test func unclosedDisplayMathIsFlaggedOnceWhereItOpens() throws {
        let problem = try #require(Self.problems(["Intro.", "$$a = b", "", "- not math any more"]).only)
        #expect(problem.line == 2 && problem.message.contains("never closed"))
    }

    @Test func wellFormedDisplayMathPasses() {
        #expect(Self.problems([
            "$$x_t = \\sqrt{\\bar\\alpha_t} x_0 + \\epsilon.$$",
            "$$L = a",
            "\\qquad + b - c,",  // operators that do not start the line are fine
            "    - d$$",  // so is a marker indented four spaces: it continues the paragraph
            "- a list item after the math",
            "# A heading",
        ]).isEmpty)
    }

    // MARK: Backslash escapes in math

    @Test func escapesInMathAreFlaggedWithTheirReplacements() {
        let found = Self.problems(["Inline $a \\, b \\, c$ and $\\{x\\}$.", "$$p \\| q \\\\", "r \\! s \\% t$$"])
        #expect(found.map(\.line) == [1, 1, 1, 2, 2, 3, 3])
        #expect(found.allSatisfy { $0.rule == .mathEscape })
        #expect(found[0].message.hasPrefix("`\\,` in math") && found[0].message.contains("write `\\thinspace`"))
        #expect(found[1].message.hasPrefix("`\\{`") && found[1].message.contains("`\\lbrace`"))
        #expect(found[2].message.hasPrefix("`\\}`") && found[2].message.contains("`\\rbrace`"))
        #expect(found[3].message.hasPrefix("`\\|`") && found[3].message.contains("`\\Vert`"))
        #expect(found[4].message.hasPrefix("`\\\\`") && found[4].message.contains("breaks the equation"))
        #expect(found[5].message.hasPrefix("`\\!`") && found[5].message.contains("`\\negthinspace`"))
        #expect(found[6].message.hasPrefix("`\\%`") && found[6].message.contains("turns it into `%`"))
    }

    @Test func spacesAndColonsHaveTheirOwnReplacements() {
        let found = Self.problems(["$a \\; b \\: c$"])
        #expect(found.map(\.line) == [1, 1])
        #expect(found[0].message.contains("`\\thickspace`") && found[1].message.contains("`\\medspace`"))
    }

    @Test func backslashesOutsideMathPass() {
        #expect(Self.problems([
            "Named commands are fine: $\\lbrace x \\rbrace$, $a\\thinspace b$, $\\ x$, $\\mid$.",
            "An escaped dollar \\$ is text, as is `\\(x)` in a code span and \\* outside math.",
            "```swift",
            "print(\"$\\(x) costs \\(y)$\")",
            "```",
            "~~~",
            "let s = \"\\{ $\"",
            "~~~",
        ]).isEmpty)
    }

    // MARK: Inline math across lines

    @Test func inlineMathLeftOpenAtTheEndOfALineIsFlagged() throws {
        let found = Self.problems(["Closed $a$ here.", "Opened $b + c", "d \\, e$ on the next line.", "", "Left $f", "", "$g$."])
        // The next line of the paragraph closes the math (and holds math of its own); a blank line ends it.
        #expect(found.map(\.line) == [2, 3, 5])
        #expect(found[0].rule == .inlineMath && found[0].message.contains("not closed on this line"))
        #expect(found[1].rule == .mathEscape && found[1].message.hasPrefix("`\\,`"))
        #expect(found[2].rule == .inlineMath)
    }

    @Test func dollarsInCodeAndEscapedDollarsPass() {
        #expect(Self.problems([
            "Costs \\$5 and `$HOME` and ``a ` $ b``; $x$ and $y$ close.",
            "```sh",
            "echo $PATH",
            "```",
        ]).isEmpty)
    }

    // MARK: Tables

    @Test func rowsWithTheWrongNumberOfCellsAreFlagged() throws {
        let problem = try #require(Self.problems(["| term | value |", "| --- | ---: |", "| q(x_T | x_0) | 0.01 |", "| b | 2 |"]).only)
        #expect(problem.line == 3 && problem.rule == .table)
        #expect(problem.message.contains("table row has 3 cells but its header has 2"))
    }

    @Test func pipesInMathOrCodeInACellAreFlagged() {
        let found = Self.problems(["Text.", "", "| a | b |", "|---|---|", "| $a|b$ | 1 |", "| `x || y` | 2 |"])
        #expect(found.map(\.line) == [5, 5, 6, 6])
        #expect(found.allSatisfy { $0.rule == .table })
        #expect(found[0].message.contains("3 cells but its header has 2"))
        #expect(found[1].message.contains("a `|` inside math in a table cell") && found[1].message.contains("`\\mid`"))
        #expect(found[2].message.contains("4 cells"))
        #expect(found[3].message.contains("a `|` inside a code span in a table cell") && found[3].message.contains("`\\|`"))
    }

    @Test func delimiterRowThatDoesNotMatchItsHeaderIsFlagged() throws {
        let problem = try #require(Self.problems(["| a | b | c |", "| --- | --- |", "| 1 | 2 | 3 |"]).only)
        #expect(problem.line == 2 && problem.message.contains("delimiter row has 2 cells but its header has 3"))
    }

    /// A notebook's table records a `|` inside a cell escaped, so the woven row keeps its cells.
    @Test func notebookTablesEscapeBarsInCells() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("table-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let notebook = try Notebook(chapter: "table-test", title: "Table", options: try RunOptions.parse(["--out", out.path]))
        notebook.table(["term", "nats"], [["prior KL(q(x_T | x₀) ‖ N(0, I))", "0.01"]])
        try notebook.finish()
        let transcript = try Transcript.load(from: out.appendingPathComponent("transcript.json"))
        let table = try #require(transcript.entries.first { $0.kind == .table })
        #expect(table.text == "| term | nats |\n| --- | --- |\n| prior KL(q(x_T \\| x₀) ‖ N(0, I)) | 0.01 |")
        #expect(RenderingCheck.problems(in: table.text + "\n").isEmpty)
    }

    /// Columns of the console's tables are padded by characters, so a cell with combining marks
    /// keeps all of them.
    @Test func paddingCountsCharacters() {
        #expect("x̂₀ (1)".padded(toWidth: 8) == "x̂₀ (1)  " && "x̂₀ (1)".padded(toWidth: 8).count == 8)
        #expect("longer".padded(toWidth: 3) == "longer")
    }

    @Test func wellFormedTablesPass() {
        #expect(Self.problems([
            "| step | $q(x_T \\mid x_0)$ | `a \\| b` | note |",
            "| :--- | :---: | --- | ---: |",
            "| 1 | $\\lVert x \\rVert$ | `c` | a \\| b |",
            "| 2 | $\\vert x \\vert \\| y$ | `d` | |",  // in a cell `\|` is how to write `|`, math or not
            "",
            "A paragraph | with a pipe is no table.",
        ]).isEmpty)
    }

    // MARK: Long code lines

    @Test func codeLinesOverOneHundredCharactersAreFlagged() throws {
        let long = "let x = \"" + String(repeating: "é", count: 92) + "\""  // 102 characters, more bytes
        let problem = try #require(Self.problems(["Prose " + String(repeating: "word ", count: 40), "```swift", long, "```"]).only)
        #expect(problem.line == 3 && problem.rule == .longCodeLine)
        #expect(problem.message.contains("102 characters long (at most 100)"))
    }

    @Test func codeLinesOfOneHundredCharactersPass() {
        let limit = String(repeating: "é", count: 100)  // 200 bytes in UTF-8, 100 characters
        #expect(Self.problems(["```text", limit, "```", " - item", "   ```", "   " + limit, "   ```"]).isEmpty)
    }
}

private extension Array {
    /// The single element, if there is exactly one.
    var only: Element? { count == 1 ? first : nil }
}
