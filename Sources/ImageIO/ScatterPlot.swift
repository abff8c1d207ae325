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

/// Named polylines — the paths a sampler took, say: one colour of a ``ScatterPlot``.
public struct PathSet: Sendable {
    /// The name shown in the legend.
    public var name: String
    /// Each path's points in order; non-finite points break a path.
    public var paths: [[(x: Double, y: Double)]]
    /// An SVG colour; nil picks the next colour of the palette.
    public var color: String?

    public init(name: String, paths: [[(x: Double, y: Double)]], color: String? = nil) {
        (self.name, self.paths, self.color) = (name, paths, color)
    }
}

/// Named arrows — a vector field sampled on a grid, say: one colour of a ``ScatterPlot``. Each
/// arrow starts at (x, y) and ends at (x + dx, y + dy), in data units.
public struct ArrowSet: Sendable {
    /// The name shown in the legend.
    public var name: String
    public var arrows: [(x: Double, y: Double, dx: Double, dy: Double)]
    /// An SVG colour; nil picks the next colour of the palette.
    public var color: String?

    public init(name: String, arrows: [(x: Double, y: Double, dx: Double, dy: Double)], color: String? = nil) {
        (self.name, self.arrows, self.color) = (name, arrows, color)
    }
}

/// A scatter plot as an SVG document: several point sets in different colours (real data
/// against a model's samples, say), axes with round ticks, a legend, and optionally equal
/// scales on both axes so that circles look like circles. Arrows (a vector field) and paths
/// (trajectories) may be drawn under the points.
public struct ScatterPlot: Sendable {
    /// The heading above the plot.
    public var title: String
    /// The title of the horizontal axis.
    public var xLabel: String
    /// The title of the vertical axis.
    public var yLabel: String
    /// The point sets, drawn in order (later sets on top).
    public var sets: [PointSet]
    /// Arrows, drawn first, and paths, drawn over the arrows and under the points.
    public var arrows: [ArrowSet], paths: [PathSet]
    /// Whether one unit has the same length in pixels on both axes.
    public var equalAspect: Bool
    /// The size of the picture in pixels.
    public var width: Int
    /// The size of the picture in pixels.
    public var height: Int

    /// A plot with the given labels and point sets. Both axes need a title: a plot is read by them.
    public init(title: String = "", xLabel: String, yLabel: String, sets: [PointSet] = [],
                arrows: [ArrowSet] = [], paths: [PathSet] = [], equalAspect: Bool = false, width: Int = 480, height: Int = 480) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.sets = sets
        (self.arrows, self.paths) = (arrows, paths)
        self.equalAspect = equalAspect
        self.width = width
        self.height = height
    }

    /// The SVG document.
    public func svg() -> String {
        let covered = sets.flatMap(\.points) + paths.flatMap { $0.paths.flatMap { $0 } }
            + arrows.flatMap { $0.arrows.flatMap { [(x: $0.x, y: $0.y), (x: $0.x + $0.dx, y: $0.y + $0.dy)] } }
        var frame = PlotFrame(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
                              xAxis: .linear(covering: covered.map(\.x)), yAxis: .linear(covering: covered.map(\.y)))
        if equalAspect {
            // Give both axes the larger of the two data-units-per-pixel.
            let unitsPerPixel = max((frame.xAxis.upper - frame.xAxis.lower) / frame.plotWidth,
                                    (frame.yAxis.upper - frame.yAxis.lower) / frame.plotHeight)
            frame.xAxis = frame.xAxis.widened(toSpan: unitsPerPixel * frame.plotWidth)
            frame.yAxis = frame.yAxis.widened(toSpan: unitsPerPixel * frame.plotHeight)
        }
        var content = "", legend: [LegendEntry] = [], occupied: [(x: Double, y: Double)] = []
        // One palette for all three kinds of marks, in the order they are drawn.
        func color(_ chosen: String?) -> String { chosen ?? SVG.palette[legend.count % SVG.palette.count] }
        let n = SVG.number
        for set in arrows {
            let stroke = color(set.color)
            content += "<g stroke=\"\(SVG.escape(stroke))\" fill=\"\(SVG.escape(stroke))\" stroke-width=\"1.2\"><title>\(SVG.escape(set.name))</title>\n"
            for arrow in set.arrows {
                guard let from = frame.point(arrow.x, arrow.y), let to = frame.point(arrow.x + arrow.dx, arrow.y + arrow.dy) else { continue }
                let length = ((to.x - from.x) * (to.x - from.x) + (to.y - from.y) * (to.y - from.y)).squareRoot()
                guard length > 0.5 else { continue }                     // too short to show a direction
                // A head a third of the arrow long (at most 6 px), opening 25° to each side.
                let (ux, uy) = ((to.x - from.x) / length, (to.y - from.y) / length), head = min(6, length / 3)
                let (c, s) = (cos(25 * Double.pi / 180), sin(25 * Double.pi / 180))
                let left = (to.x - head * (ux * c - uy * s), to.y - head * (uy * c + ux * s))
                let right = (to.x - head * (ux * c + uy * s), to.y - head * (uy * c - ux * s))
                content += "<line x1=\"\(n(from.x))\" y1=\"\(n(from.y))\" x2=\"\(n(to.x))\" y2=\"\(n(to.y))\"/>"
                content += "<polygon points=\"\(n(to.x)),\(n(to.y)) \(n(left.0)),\(n(left.1)) \(n(right.0)),\(n(right.1))\"/>\n"
                occupied += [from, to]
            }
            content += "</g>\n"
            legend.append(LegendEntry(name: set.name, color: stroke, mark: .line))
        }
        for set in paths {
            let stroke = color(set.color)
            content += "<g stroke=\"\(SVG.escape(stroke))\" fill=\"none\" stroke-width=\"1.5\" stroke-opacity=\"0.8\"><title>\(SVG.escape(set.name))</title>\n"
            for path in set.paths {
                // Pieces between points that cannot be drawn.
                var pieces: [[(x: Double, y: Double)]] = [[]]
                for point in path {
                    if let p = frame.point(point.x, point.y) { pieces[pieces.count - 1].append(p) } else { pieces.append([]) }
                }
                for piece in pieces where piece.count >= 2 {
                    content += "<polyline points=\"\(piece.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " "))\"/>\n"
                    occupied += piece
                }
            }
            content += "</g>\n"
            legend.append(LegendEntry(name: set.name, color: stroke, mark: .line))
        }
        for set in sets {
            let fill = color(set.color)
            let color = SVG.escape(fill)
            content += "<g fill=\"\(color)\" fill-opacity=\"0.6\"><title>\(SVG.escape(set.name))</title>\n"
            let r = SVG.number(set.radius)
            for point in set.points {
                guard let p = frame.point(point.x, point.y) else { continue }
                occupied.append(p)
                content += "<circle cx=\"\(SVG.number(p.x))\" cy=\"\(SVG.number(p.y))\" r=\"\(r)\"/>\n"
            }
            content += "</g>\n"
            legend.append(LegendEntry(name: set.name, color: fill, mark: .dot))
        }
        return frame.document(content: content, legend: legend, occupied: occupied)
    }

    /// Writes the SVG document to `url`.
    public func write(to url: URL) throws { try SVG.write(svg(), to: url) }
}
