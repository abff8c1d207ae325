import Foundation
import TensorCore

/// A named sequence of (x, y) points: one line of a ``LineChart``.
public struct PlotSeries: Sendable {
    /// The name shown in the legend.
    public var name: String
    /// The points, drawn in order. Non-finite values (a NaN loss, say) leave a gap.
    public var points: [(x: Double, y: Double)]
    /// An SVG colour (`"#d62728"`, `"steelblue"`); nil picks the next colour of the palette.
    public var color: String?

    /// A series of explicit points.
    public init(name: String, points: [(x: Double, y: Double)], color: String? = nil) {
        self.name = name
        self.points = points
        self.color = color
    }

    /// A series of `values` at x = 0, 1, 2, … (a loss per step, for instance).
    public init(name: String, values: [Double], color: String? = nil) {
        self.init(name: name, points: values.enumerated().map { (Double($0.offset), $0.element) }, color: color)
    }

    /// A series from parallel arrays of x and y values.
    public init(name: String, x: [Double], y: [Double], color: String? = nil) {
        require(x.count == y.count, "PlotSeries: \(x.count) x values but \(y.count) y values")
        self.init(name: name, points: Array(zip(x, y)), color: color)
    }
}

/// A line chart as an SVG document: several named series, axes with round tick values,
/// axis titles, a legend, and optionally a logarithmic y axis (for losses that fall by orders
/// of magnitude).
///
/// ```swift
/// let chart = LineChart(title: "Training loss", xLabel: "step", yLabel: "loss", logY: true,
///                       series: [PlotSeries(name: "generator", values: generatorLosses)])
/// try chart.write(to: outputDirectory.appendingPathComponent("loss.svg"))
/// ```
public struct LineChart: Sendable {
    /// The heading above the plot.
    public var title: String
    /// The title of the horizontal axis.
    public var xLabel: String
    /// The title of the vertical axis.
    public var yLabel: String
    /// Whether the y axis is logarithmic (base 10); values ≤ 0 are then left out.
    public var logY: Bool
    /// The lines to draw.
    public var series: [PlotSeries]
    /// The size of the picture in pixels.
    public var width: Int
    /// The size of the picture in pixels.
    public var height: Int

    /// A chart with the given labels and series.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", logY: Bool = false,
                series: [PlotSeries] = [], width: Int = 640, height: Int = 400) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        self.series = series
        self.width = width
        self.height = height
    }

    /// The SVG document.
    public func svg() -> String {
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.filter { $0.x.isFinite }.map(\.y) }
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
                              xAxis: .linear(covering: xs),
                              yAxis: logY ? .logarithmic(covering: ys) : .linear(covering: ys))
        var content = "", legend: [LegendEntry] = []
        for (index, line) in series.enumerated() {
            let color = line.color ?? SVG.palette[index % SVG.palette.count]
            // Undrawable points break the line into separate pieces.
            var path = "", penDown = false
            for point in line.points {
                guard let p = frame.point(point.x, point.y) else { penDown = false; continue }
                path += (penDown ? "L" : "M") + SVG.number(p.x) + " " + SVG.number(p.y) + " "
                penDown = true
            }
            content += "<path d=\"\(path.trimmingCharacters(in: .whitespaces))\" fill=\"none\" stroke=\"\(SVG.escape(color))\" stroke-width=\"1.75\" stroke-linejoin=\"round\"><title>\(SVG.escape(line.name))</title></path>\n"
            legend.append(LegendEntry(name: line.name, color: color, mark: .line))
        }
        return frame.document(content: content, legend: legend)
    }

    /// Writes the SVG document to `url`.
    public func write(to url: URL) throws { try SVG.write(svg(), to: url) }
}
