import Foundation
import TensorCore

/// How a preview is drawn in a terminal.
public enum TerminalStyle: Sendable, Equatable {
    /// 24-bit ANSI colours on Unicode upper-half blocks ("▀"): each character cell shows two
    /// pixels, the top one as the foreground colour and the bottom one as the background.
    case color
    /// Plain ASCII: each character stands for two stacked pixels, drawn from the shading ramp
    /// ``TerminalPreview/ramp`` by brightness. For pipes, logs and `NO_COLOR` users.
    case plain

    /// `.color` when standard output is a terminal, `NO_COLOR` is unset (or empty, as the
    /// no-color.org convention says) and `TERM` is not `dumb`; `.plain` otherwise.
    ///
    /// The inputs are parameters so that tests can check every case; by default they are the
    /// process environment and `isatty(STDOUT_FILENO)`.
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment,
                              isTerminal: Bool = isatty(STDOUT_FILENO) != 0) -> TerminalStyle {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .plain }
        if environment["TERM"] == "dumb" { return .plain }
        return isTerminal ? .color : .plain
    }
}

/// Small images drawn as text, so that a training run can show its samples in the terminal.
public enum TerminalPreview {
    /// The plain style's shading ramp, darkest first.
    public static let ramp: [Character] = Array(" .:-=+*#%@")

    /// `bitmap` as lines of text (each ending in a newline), at most `maxColumns` characters wide.
    ///
    /// One character covers one pixel across and two down, which roughly keeps the aspect of
    /// square pixels in a terminal font. Wider bitmaps are first shrunk by averaging blocks.
    public static func render(_ bitmap: Bitmap, style: TerminalStyle, maxColumns: Int = 80) -> String {
        require(maxColumns >= 1, "TerminalPreview.render: maxColumns must be at least 1")
        let factor = (bitmap.width + maxColumns - 1) / maxColumns
        let image = factor > 1 ? shrunk(bitmap.rgbBitmap(), by: factor) : bitmap.rgbBitmap()
        var output = ""
        switch style {
        case .color:
            // Colour codes are written only when they change, which keeps flat areas short.
            for y in stride(from: 0, to: image.height, by: 2) {
                var line = "", foreground = "", background = ""
                for x in 0..<image.width {
                    let top = image.rgb(x: x, y: y)
                    let newForeground = "\u{1B}[38;2;\(top.red);\(top.green);\(top.blue)m"
                    var newBackground = "\u{1B}[49m"               // odd height: the terminal's own background
                    if y + 1 < image.height {
                        let bottom = image.rgb(x: x, y: y + 1)
                        newBackground = "\u{1B}[48;2;\(bottom.red);\(bottom.green);\(bottom.blue)m"
                    }
                    if newForeground != foreground { line += newForeground; foreground = newForeground }
                    if newBackground != background { line += newBackground; background = newBackground }
                    line += "▀"
                }
                output += line + "\u{1B}[0m\n"
            }
        case .plain:
            for y in stride(from: 0, to: image.height, by: 2) {
                var line = ""
                for x in 0..<image.width {
                    var brightness = luminance(image.rgb(x: x, y: y))
                    if y + 1 < image.height { brightness = (brightness + luminance(image.rgb(x: x, y: y + 1))) / 2 }
                    let index = Int((brightness / 255 * Double(ramp.count - 1)).rounded())
                    line.append(ramp[min(max(index, 0), ramp.count - 1)])
                }
                output += line + "\n"
            }
        }
        return output
    }

    /// A `[C, H, W]` tensor or `[N, C, H, W]` batch (shown as a grid) with values in `range`, as text.
    public static func render(_ tensor: Tensor, range: PixelRange, style: TerminalStyle,
                              columns: Int = 8, maxColumns: Int = 80) -> String {
        let bitmap = tensor.rank == 4
            ? Bitmap(grid: tensor, range: range, columns: columns, padding: 1, paddingValue: 0.5)
            : Bitmap(tensor, range: range)
        return render(bitmap, style: style, maxColumns: maxColumns)
    }

    /// Rec. 709 luma of an sRGB pixel, 0…255 (good enough to choose a shading character).
    static func luminance(_ pixel: (red: UInt8, green: UInt8, blue: UInt8)) -> Double {
        0.2126 * Double(pixel.red) + 0.7152 * Double(pixel.green) + 0.0722 * Double(pixel.blue)
    }

    /// An RGB bitmap reduced by averaging `factor × factor` blocks (partial edge blocks included).
    static func shrunk(_ bitmap: Bitmap, by factor: Int) -> Bitmap {
        let width = (bitmap.width + factor - 1) / factor, height = (bitmap.height + factor - 1) / factor
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                var sums = (0, 0, 0), count = 0
                for sy in (y * factor)..<min((y + 1) * factor, bitmap.height) {
                    for sx in (x * factor)..<min((x + 1) * factor, bitmap.width) {
                        let p = bitmap.rgb(x: sx, y: sy)
                        sums.0 += Int(p.red); sums.1 += Int(p.green); sums.2 += Int(p.blue); count += 1
                    }
                }
                let base = (y * width + x) * 3
                pixels[base] = UInt8((sums.0 + count / 2) / count)
                pixels[base + 1] = UInt8((sums.1 + count / 2) / count)
                pixels[base + 2] = UInt8((sums.2 + count / 2) / count)
            }
        }
        return Bitmap(width: width, height: height, channels: 3, pixels: pixels)
    }
}
