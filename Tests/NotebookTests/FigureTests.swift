import Foundation
import ImageIO
import Testing
@testable import Notebook

/// Figures are laid out for the page the woven chapters are read on.
@Suite struct FigureTests {
    @Test func aFigureWiderThanThePageIsAnErrorThatSaysSo() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("figure-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let notebook = try Notebook(chapter: "figure-test", title: "Figures", options: try RunOptions.parse(["--out", out.path]))
        let fits = Bitmap(width: Notebook.pageWidth, height: 4, channels: 1)
        try notebook.figure("fits", fits, caption: "as wide as the page", preview: false)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("fits.png").path))
        let wide = Bitmap(width: 2 * Notebook.pageWidth, height: 4, channels: 1)
        let error = try #require(throws: ChapterError.self) {
            try notebook.figure("wide", wide, caption: "twice as wide", preview: false)
        }
        #expect(error.description == "figure wide is 1720 pixels wide; a page shows 860, so it would be shrunk to 50 %: use fewer columns")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("wide.png").path))
    }
}
