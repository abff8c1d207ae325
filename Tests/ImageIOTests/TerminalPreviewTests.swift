import ImageIO
import TensorCore
import Testing

@Suite struct TerminalPreviewTests {
    /// 2 × 3 pixels: a top row of red and white, a middle row of green and black, a bottom row
    /// of blue and gray.
    static let picture = Bitmap(width: 2, height: 3, channels: 3,
                                pixels: [255, 0, 0, 255, 255, 255, 0, 255, 0, 0, 0, 0, 0, 0, 255, 128, 128, 128])

    @Test func colorUsesHalfBlocksWithForegroundOnTopAndBackgroundBelow() {
        let text = TerminalPreview.render(Self.picture, style: .color)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 2)                                    // ceil(3 / 2) character rows
        #expect(lines[0] == "\u{1B}[38;2;255;0;0m\u{1B}[48;2;0;255;0m▀\u{1B}[38;2;255;255;255m\u{1B}[48;2;0;0;0m▀\u{1B}[0m")
        // Odd height: the last row has no bottom pixel and falls back to the default background.
        // Unchanged codes are not repeated.
        #expect(lines[1] == "\u{1B}[38;2;0;0;255m\u{1B}[49m▀\u{1B}[38;2;128;128;128m▀\u{1B}[0m")
        let flat = TerminalPreview.render(Bitmap(width: 3, height: 2, channels: 1, filledWith: 9), style: .color)
        #expect(flat == "\u{1B}[38;2;9;9;9m\u{1B}[48;2;9;9;9m▀▀▀\u{1B}[0m\n")
    }

    @Test func plainUsesTheShadingRampWithoutEscapes() {
        let black = Bitmap(width: 3, height: 2, channels: 1, filledWith: 0)
        let white = Bitmap(width: 3, height: 2, channels: 1, filledWith: 255)
        #expect(TerminalPreview.render(black, style: .plain) == "   \n")
        #expect(TerminalPreview.render(white, style: .plain) == "@@@\n")
        let text = TerminalPreview.render(Self.picture, style: .plain)
        #expect(!text.contains("\u{1B}"))
        #expect(text.split(separator: "\n").count == 2)
        #expect(text.split(separator: "\n").allSatisfy { $0.count == 2 })
        // A horizontal gradient gets brighter characters from left to right.
        let gradient = Bitmap(width: 10, height: 2, channels: 1, pixels: (0..<20).map { UInt8(($0 % 10) * 28) })
        let ramp = TerminalPreview.render(gradient, style: .plain).dropLast()
        let ranks = ramp.map { TerminalPreview.ramp.firstIndex(of: $0)! }
        #expect(ranks == ranks.sorted() && ranks.first == 0 && ranks.last! >= 8)
    }

    @Test func wideImagesAreShrunkToFit() {
        let wide = Bitmap(width: 200, height: 20, channels: 1, filledWith: 255)
        let text = TerminalPreview.render(wide, style: .plain, maxColumns: 50)
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count == 50 })
        #expect(lines.count == 3)                                   // 20 rows / 4 → 5 rows → 3 lines
    }

    @Test func batchesRenderAsAGrid() {
        let batch = Tensor.full([4, 1, 4, 4], value: 1)
        let text = TerminalPreview.render(batch, range: .zeroToOne, style: .plain, columns: 2)
        // 2 × 2 cells of 4 px with 1 px padding: 11 × 11 px → 11 columns, 6 lines.
        let lines = text.split(separator: "\n")
        #expect(lines.count == 6 && lines.allSatisfy { $0.count == 11 })
    }

    @Test func styleDetectionHonoursTTYAndNoColor() {
        #expect(TerminalStyle.detect(environment: [:], isTerminal: true) == .color)
        #expect(TerminalStyle.detect(environment: [:], isTerminal: false) == .plain)
        #expect(TerminalStyle.detect(environment: ["NO_COLOR": "1"], isTerminal: true) == .plain)
        #expect(TerminalStyle.detect(environment: ["NO_COLOR": ""], isTerminal: true) == .color)
        #expect(TerminalStyle.detect(environment: ["TERM": "dumb"], isTerminal: true) == .plain)
    }
}
