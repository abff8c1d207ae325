import Foundation
import Testing

@Suite struct WeaveTests {
    /// Every committed document in docs/ was woven from its chapter's current source, and renders on GitHub.
    @Test func committedDocsMatchTheirSources() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let run = try ChapterRun("Weave", ["--check", "--root", root.path], addOutput: false)
        #expect(run.status == 0, "\(run.standardOutput)")
        #expect(run.standardOutput.contains("docs/ matches"))
    }
}
