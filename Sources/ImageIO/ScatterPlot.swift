import Foundation
import TensorCore

/// A named set of 2-D points: one colour of a ``ScatterPlot``.
public struct PointSet: Sendable {
    /// The name shown in the legend.
    public var name: String
    /// The points; non-finite ones are left out.
    public var points: [(x: Double, y: Double)]
    /// An SVG colour; nil picks the next colour of the palette.
    public var color: String?
    /// The radius of each dot in pixels.
    public var radius: Double

    /// A set of explicit points.
    public init(name: String, points: [(x: Double, y: Double)], color: String? = nil, radius: Double = 2) {
        self.name = name
        self.points = points
        self.color = color
        self.radius = radius
    }

    /// The rows of an `[N, 2]` tensor as points (column 0 is x, column 1 is y).
    public init(name: String, tensor: Tensor, color: String? = nil, radius: Double = 2) {
        require(tensor.rank == 2 && tensor.shape[1] == 2, "PointSet: expected an [N, 2] tensor, got \(tensor.shape)")
        let values = tensor.doubles
        self.init(name: name, points: (0..<tensor.shape[0]).map { (values[2 * $0], values[2 * $0 + 1]) },
                  color: color, radius: radius)
    }
}

/// A scatter plot as an SVG document: several point sets in different colours (real data
/// against a model's samples, say), axes with round ticks, a legend, and optionally equal
/// scales on both axes so that circles look like circles.
public struct ScatterPlot: Sendable {
    /// The heading above the plot.
    public var title: String
    /// The title of the horizontal axis.
    public var xLabel: String
    /// The title of the vertical axis.
    public var yLabel: String
    /// The point sets, drawn in order (later sets on top).
    public var sets: [PointSet]
    /// Whether one unit has the same length in pixels on both axes.
    public var equalAspect: Bool
    /// The size of the picture in pixels.
    public var width: Int
    /// The size of the picture in pixels.
    public var height: Int

    /// A plot with the given labels and point sets. Both axes need a title: a plot is read by them.
    public init(title: String = "", xLabel: String, yLabel: String, sets: [PointSet] = [],
                equalAspect: Bool = false, width: Int = 480, height: Int = 480) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.sets = sets
        self.equalAspect = equalAspect
        self.width = width
        self.height = height
    }

    /// The SVG document.
    public func svg() -> String {
        var frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
                              xAxis: .linear(covering: sets.flatMap { $0.points.map(\.x) }),
                              yAxis: .linear(covering: sets.flatMap { $0.points.map(\.y) }))
        if equalAspect {
            // Give both axes the larger of the two data-units-per-pixel.
            let unitsPerPixel = max((frame.xAxis.upper - frame.xAxis.lower) / frame.plotWidth,
                                    (frame.yAxis.upper - frame.yAxis.lower) / frame.plotHeight)
            frame.xAxis = frame.xAxis.widened(toSpan: unitsPerPixel * frame.plotWidth)
            frame.yAxis = frame.yAxis.widened(toSpan: unitsPerPixel * frame.plotHeight)
        }
        var content = "", legend: [LegendEntry] = [], occupied: [(x: Double, y: Double)] = []
        for (index, set) in sets.enumerated() {
            let color = SVG.escape(set.color ?? SVG.palette[index % SVG.palette.count])
            content += "<g fill=\"\(color)\" fill-opacity=\"0.6\"><title>\(SVG.escape(set.name))</title>\n"
            let r = SVG.number(set.radius)
            for point in set.points {
                guard let p = frame.point(point.x, point.y) else { continue }
                occupied.append(p)
                content += "<circle cx=\"\(SVG.number(p.x))\" cy=\"\(SVG.number(p.y))\" r=\"\(r)\"/>\n"
            }
            content += "</g>\n"
            legend.append(LegendEntry(name: set.name, color: set.color ?? SVG.palette[index % SVG.palette.count], mark: .dot))
        }
        return frame.document(content: content, legend: legend, occupied: occupied)
    }

    /// Writes the SVG document to `url`.
    public func write(to url: URL) throws { try SVG.write(svg(), to: url) }
}
