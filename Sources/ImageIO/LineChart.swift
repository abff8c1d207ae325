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

    /// A noisy series of one value per step (a loss) as the means of consecutive windows of
    /// `window` steps, each drawn at its window's middle step; the last window may be shorter.
    public init(name: String, values: [Double], averagingWindow window: Int, color: String? = nil) {
        self.init(name: name, points: Self.windowMeans(of: values, window: window), color: color)
    }

    /// The points of ``init(name:values:averagingWindow:color:)``.
    public static func windowMeans(of values: [Double], window: Int) -> [(x: Double, y: Double)] {
        require(window >= 1, "PlotSeries: the averaging window must be at least 1 step, got \(window)")
        return stride(from: 0, to: values.count, by: window).map { start in
            let slice = values[start..<min(values.count, start + window)]
            return (Double(start + slice.count / 2), slice.reduce(0, +) / Double(slice.count))
        }
    }

    /// A series from parallel arrays of x and y values.
    public init(name: String, x: [Double], y: [Double], color: String? = nil) {
        require(x.count == y.count, "PlotSeries: \(x.count) x values but \(y.count) y values")
        self.init(name: name, points: Array(zip(x, y)), color: color)
    }
}

/// A line chart as an SVG document: several named series, axes with round tick values,
/// axis titles, a legend placed where it hides no data, and optionally logarithmic axes (for
/// losses that fall by orders of magnitude, or step counts that double). A series of at most
/// `markedPointLimit` points is a set of measurements, and each point gets a marker.
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
    /// Whether the x axis is logarithmic (base 10, ticks labelled with real values); values ≤ 0
    /// are then left out.
    public var logX: Bool
    /// Whether the y axis is logarithmic (base 10); values ≤ 0 are then left out.
    public var logY: Bool
    /// The lines to draw.
    public var series: [PlotSeries]
    /// The size of the picture in pixels.
    public var width: Int
    /// The size of the picture in pixels.
    public var height: Int

    /// Series with at most this many points have a marker at each.
    public static let markedPointLimit = 40

    /// A chart with the given labels and series. Both axes need a title: a plot is read by them.
    public init(title: String = "", xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false,
                series: [PlotSeries] = [], width: Int = 640, height: Int = 400) {
        (self.title, self.xLabel, self.yLabel, self.logX, self.logY) = (title, xLabel, yLabel, logX, logY)
        (self.series, self.width, self.height) = (series, width, height)
    }

    /// The SVG document.
    public func svg() -> String {
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.filter { $0.x.isFinite }.map(\.y) }
        let frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
                              xAxis: logX ? .logarithmic(covering: xs) : .linear(covering: xs),
                              yAxis: logY ? .logarithmic(covering: ys) : .linear(covering: ys))
        var content = "", legend: [LegendEntry] = [], occupied: [(x: Double, y: Double)] = []
        for (index, line) in series.enumerated() {
            let color = line.color ?? SVG.palette[index % SVG.palette.count]
            let marked = line.points.count <= Self.markedPointLimit
            // Undrawable points break the line into separate pieces.
            var path = "", previous: (x: Double, y: Double)?, markers = ""
            for point in line.points {
                guard let p = frame.point(point.x, point.y) else { previous = nil; continue }
                path += (previous == nil ? "M" : "L") + SVG.number(p.x) + " " + SVG.number(p.y) + " "
                occupied += Self.pointsAlong(from: previous ?? p, to: p)
                if marked { markers += "<circle cx=\"\(SVG.number(p.x))\" cy=\"\(SVG.number(p.y))\" r=\"3\"/>" }
                previous = p
            }
            content += "<path d=\"\(path.trimmingCharacters(in: .whitespaces))\" fill=\"none\" stroke=\"\(SVG.escape(color))\" stroke-width=\"1.75\" stroke-linejoin=\"round\"><title>\(SVG.escape(line.name))</title></path>\n"
            if marked { content += "<g fill=\"\(SVG.escape(color))\">\(markers)</g>\n" }
            legend.append(LegendEntry(name: line.name, color: color, mark: marked ? .lineWithDot : .line))
        }
        return frame.document(content: content, legend: legend, occupied: occupied)
    }

    /// Points every few pixels along a segment, ending at `end`, so the legend can avoid lines too.
    private static func pointsAlong(from start: (x: Double, y: Double), to end: (x: Double, y: Double)) -> [(x: Double, y: Double)] {
        let pieces = max(1, Int((hypot(end.x - start.x, end.y - start.y) / 3).rounded(.up)))
        return (1...pieces).map { i in
            let f = Double(i) / Double(pieces)
            return (start.x + f * (end.x - start.x), start.y + f * (end.y - start.y))
        }
    }

    /// Writes the SVG document to `url`.
    public func write(to url: URL) throws { try SVG.write(svg(), to: url) }
}
