import Foundation

// The pieces line charts and scatter plots share: text escaping, colours, axes and the frame
// (title, plot box, grid, ticks, axis titles, legend). The charts themselves are in
// LineChart.swift and ScatterPlot.swift.

/// Helpers for writing SVG by hand.
enum SVG {
    /// The ten colours of matplotlib's "tab10" cycle, in order.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// `text` made safe inside an XML element or a quoted attribute: the five special
    /// characters become entities and control characters XML 1.0 forbids are dropped.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A coordinate with two decimals at most (`12.5`, `300`).
    static func number(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// Writes `svg` to `url` atomically, wrapping failures in an ``ImageIOError``.
    static func write(_ svg: String, to url: URL) throws {
        do {
            try Data(svg.utf8).write(to: url, options: .atomic)
        } catch {
            throw ImageIOError(file: url.path, problem: "cannot be written (\(error.localizedDescription))")
        }
    }
}

/// One axis of a plot: its data range, ticks and how values map onto it.
struct PlotAxis {
    /// The ends of the axis, in data units (in log10 units for a logarithmic axis).
    var lower: Double
    var upper: Double
    /// Tick values in data units, with their labels.
    var ticks: [(value: Double, label: String)]
    var logarithmic: Bool
    /// The step of a linear axis (used to extend it for equal aspect).
    var step: AxisTicks.Step?

    /// A linear axis with nice ticks that covers `values` (non-finite ones ignored).
    static func linear(covering values: [Double]) -> PlotAxis {
        let finite = values.filter(\.isFinite)
        let (low, high) = AxisTicks.widened(finite.min() ?? 0, finite.max() ?? 1)
        let ticks = AxisTicks.linear(from: low, to: high)
        let step = AxisTicks.step(span: high - low)
        return PlotAxis(lower: ticks.first!, upper: ticks.last!,
                        ticks: ticks.map { ($0, AxisTicks.label($0, step: step)) }, logarithmic: false, step: step)
    }

    /// A base-10 logarithmic axis covering the positive, finite `values`.
    static func logarithmic(covering values: [Double]) -> PlotAxis {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        let ticks = AxisTicks.logarithmic(from: positive.min() ?? 1, to: positive.max() ?? 10)
        return PlotAxis(lower: log10(ticks.first!), upper: log10(ticks.last!),
                        ticks: ticks.map { ($0, AxisTicks.logLabel($0)) }, logarithmic: true, step: nil)
    }

    /// Where `value` sits along the axis, 0 at `lower` and 1 at `upper`; nil if it cannot be
    /// drawn (not finite, or not positive on a logarithmic axis).
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if logarithmic {
            guard value > 0 else { return nil }
            return (log10(value) - lower) / (upper - lower)
        }
        return (value - lower) / (upper - lower)
    }

    /// The axis widened symmetrically to `span` data units, with ticks of the same step.
    func widened(toSpan span: Double) -> PlotAxis {
        guard let step, span > upper - lower else { return self }
        let middle = (lower + upper) / 2
        let (low, high) = (middle - span / 2, middle + span / 2)
        let ticks = AxisTicks.inside(low, high, step: step).map { ($0, AxisTicks.label($0, step: step)) }
        return PlotAxis(lower: low, upper: high, ticks: ticks, logarithmic: false, step: step)
    }
}

/// An entry of a plot's legend.
struct LegendEntry {
    enum Mark { case line, lineWithDot, dot }
    var name: String
    var color: String
    var mark: Mark
}

/// The frame around a plot: title, plot box, grid lines, ticks, axis titles and legend.
struct PlotFrame {
    var width: Int
    var height: Int
    var title: String
    var xLabel: String
    var yLabel: String
    var xAxis: PlotAxis
    var yAxis: PlotAxis

    // Margins around the plot box, in pixels.
    static let left = 72.0, right = 20.0, top = 40.0, bottom = 56.0

    var plotWidth: Double { max(1, Double(width) - PlotFrame.left - PlotFrame.right) }
    var plotHeight: Double { max(1, Double(height) - PlotFrame.top - PlotFrame.bottom) }

    /// The pixel position of a data point, or nil if it cannot be drawn.
    func point(_ x: Double, _ y: Double) -> (x: Double, y: Double)? {
        guard let fx = xAxis.fraction(x), let fy = yAxis.fraction(y) else { return nil }
        return (PlotFrame.left + fx * plotWidth, PlotFrame.top + (1 - fy) * plotHeight)
    }

    /// The whole SVG document with `content` (the data marks, already in pixel coordinates)
    /// drawn inside the plot box, clipped to it. The legend goes in a corner of the box where it
    /// covers none of the `occupied` pixel positions (the data), else below the plot.
    func document(content: String, legend: [LegendEntry], occupied: [(x: Double, y: Double)]) -> String {
        let (left, top) = (PlotFrame.left, PlotFrame.top)
        let (right, bottom) = (left + plotWidth, top + plotHeight)
        let n = SVG.number
        let legendPlace = legend.isEmpty ? nil : legendPosition(legend, avoiding: occupied)
        let fullHeight = Double(height) + (legendPlace?.below == true ? legendSize(legend).height + 8 : 0)
        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(n(fullHeight))" viewBox="0 0 \(width) \(n(fullHeight))" \
        font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect x="0" y="0" width="\(width)" height="\(n(fullHeight))" fill="white"/>
        <defs><clipPath id="plot-area"><rect x="\(n(left))" y="\(n(top))" width="\(n(plotWidth))" height="\(n(plotHeight))"/></clipPath></defs>

        """
        if !title.isEmpty {
            svg += "<text x=\"\(n(left + plotWidth / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(SVG.escape(title))</text>\n"
        }
        // Grid lines and tick labels.
        svg += "<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n"
        for tick in xAxis.ticks { if let f = xAxis.fraction(tick.value), (0...1).contains(f) {
            let x = left + f * plotWidth
            svg += "<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(bottom))\"/>\n"
        } }
        for tick in yAxis.ticks { if let f = yAxis.fraction(tick.value), (0...1).contains(f) {
            let y = top + (1 - f) * plotHeight
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(right))\" y2=\"\(n(y))\"/>\n"
        } }
        svg += "</g>\n<g class=\"x-ticks\" text-anchor=\"middle\">\n"
        for tick in xAxis.ticks { if let f = xAxis.fraction(tick.value), (0...1).contains(f) {
            let x = left + f * plotWidth
            svg += "<line x1=\"\(n(x))\" y1=\"\(n(bottom))\" x2=\"\(n(x))\" y2=\"\(n(bottom + 5))\" stroke=\"black\"/>"
            svg += "<text x=\"\(n(x))\" y=\"\(n(bottom + 19))\">\(SVG.escape(tick.label))</text>\n"
        } }
        svg += "</g>\n<g class=\"y-ticks\" text-anchor=\"end\">\n"
        for tick in yAxis.ticks { if let f = yAxis.fraction(tick.value), (0...1).contains(f) {
            let y = top + (1 - f) * plotHeight
            svg += "<line x1=\"\(n(left - 5))\" y1=\"\(n(y))\" x2=\"\(n(left))\" y2=\"\(n(y))\" stroke=\"black\"/>"
            svg += "<text x=\"\(n(left - 8))\" y=\"\(n(y + 4))\">\(SVG.escape(tick.label))</text>\n"
        } }
        svg += "</g>\n"
        if !xLabel.isEmpty {
            svg += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(Double(height) - 12))\" text-anchor=\"middle\">\(SVG.escape(xLabel))</text>\n"
        }
        if !yLabel.isEmpty {
            let y = top + plotHeight / 2
            svg += "<text x=\"16\" y=\"\(n(y))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(n(y)))\">\(SVG.escape(yLabel))</text>\n"
        }
        svg += "<g class=\"data\" clip-path=\"url(#plot-area)\">\n\(content)</g>\n"
        svg += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"black\"/>\n"
        if let legendPlace { svg += legendBox(legend, x0: legendPlace.x, y0: legendPlace.y) }
        svg += "</svg>\n"
        return svg
    }

    /// The legend box's size for `entries`.
    private func legendSize(_ entries: [LegendEntry]) -> (width: Double, height: Double) {
        let longest = entries.map(\.name.count).max() ?? 0
        return (34 + 7 * Double(longest), 8 + 18 * Double(entries.count))
    }

    /// The legend's top-left corner: the first corner of the plot box (top right, top left,
    /// bottom right, bottom left) where it covers no occupied point, else under the x axis title.
    private func legendPosition(_ entries: [LegendEntry], avoiding occupied: [(x: Double, y: Double)])
        -> (x: Double, y: Double, below: Bool) {
        let (boxWidth, boxHeight) = legendSize(entries)
        let (left, top) = (PlotFrame.left + 8, PlotFrame.top + 8)
        let (right, bottom) = (PlotFrame.left + plotWidth - boxWidth - 8, PlotFrame.top + plotHeight - boxHeight - 8)
        let margin = 4.0
        for (x0, y0) in [(right, top), (left, top), (right, bottom), (left, bottom)] {
            let covers = occupied.contains { p in
                p.x >= x0 - margin && p.x <= x0 + boxWidth + margin && p.y >= y0 - margin && p.y <= y0 + boxHeight + margin
            }
            if !covers { return (x0, y0, false) }
        }
        return (PlotFrame.left, Double(height), true)
    }

    /// The legend with its top-left corner at (`x0`, `y0`).
    private func legendBox(_ entries: [LegendEntry], x0: Double, y0: Double) -> String {
        let n = SVG.number
        let (boxWidth, boxHeight) = legendSize(entries)
        let rowHeight = 18.0
        var svg = "<g class=\"legend\">\n<rect x=\"\(n(x0))\" y=\"\(n(y0))\" width=\"\(n(boxWidth))\" height=\"\(n(boxHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
        for (i, entry) in entries.enumerated() {
            let y = y0 + 4 + rowHeight * (Double(i) + 0.5)
            let color = SVG.escape(entry.color)
            switch entry.mark {
            case .line:
                svg += "<line x1=\"\(n(x0 + 6))\" y1=\"\(n(y))\" x2=\"\(n(x0 + 24))\" y2=\"\(n(y))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            case .lineWithDot:
                svg += "<line x1=\"\(n(x0 + 6))\" y1=\"\(n(y))\" x2=\"\(n(x0 + 24))\" y2=\"\(n(y))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
                svg += "<circle cx=\"\(n(x0 + 15))\" cy=\"\(n(y))\" r=\"3\" fill=\"\(color)\"/>"
            case .dot:
                svg += "<circle cx=\"\(n(x0 + 15))\" cy=\"\(n(y))\" r=\"4\" fill=\"\(color)\"/>"
            }
            svg += "<text x=\"\(n(x0 + 30))\" y=\"\(n(y + 4))\">\(SVG.escape(entry.name))</text>\n"
        }
        return svg + "</g>\n"
    }
}
