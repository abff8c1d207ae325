import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ImageIO
import TensorCore
import Testing

/// Parses an SVG document with Foundation's XMLParser and keeps what the tests look at.
final class SVGInspector: NSObject, XMLParserDelegate {
    struct Element { let name: String; let attributes: [String: String] }
    private(set) var elements: [Element] = []
    private(set) var texts: [String] = []
    private var currentText: String?
    private(set) var parseError: Error?

    /// Whether `svg` is well-formed XML; the elements and texts are collected on the way.
    func parse(_ svg: String) -> Bool {
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        let ok = parser.parse()
        if !ok { parseError = parser.parserError }
        return ok
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        elements.append(Element(name: name, attributes: attributes))
        if name == "text" { currentText = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { currentText? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text = currentText { texts.append(text); currentText = nil }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred error: Error) { parseError = error }

    func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }
}

@Suite struct AxisTicksTests {
    @Test func zeroToOneGivesTenthsOfTwo() {
        #expect(AxisTicks.linear(from: 0, to: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(AxisTicks.step(span: 1) == AxisTicks.Step(mantissa: 2, exponent: -1))
    }

    @Test func ticksCoverTheRangeWithRoundSteps() {
        #expect(AxisTicks.linear(from: 0, to: 7) == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(AxisTicks.linear(from: 0, to: 9) == [0, 2, 4, 6, 8, 10])
        #expect(AxisTicks.linear(from: -3.7, to: 12.2) == [-5, 0, 5, 10, 15])
        #expect(AxisTicks.linear(from: 0.013, to: 0.052) == [0.01, 0.02, 0.03, 0.04, 0.05, 0.06])
        #expect(AxisTicks.linear(from: 100, to: 1000) == [0, 200, 400, 600, 800, 1000])
        #expect(AxisTicks.linear(from: 1999, to: 2003) == [1999, 2000, 2001, 2002, 2003])
        // A single value is widened rather than dividing by zero.
        let flat = AxisTicks.linear(from: 3, to: 3)
        #expect(flat.first! < 3 && flat.last! > 3)
        for (low, high) in [(-1.0, 1.0), (0.5, 0.9), (-250.0, -3.0), (1e-7, 3e-7), (0, 60000)] {
            let ticks = AxisTicks.linear(from: low, to: high)
            #expect(ticks.first! <= low && ticks.last! >= high, "\(low)…\(high): \(ticks)")
            #expect((3...12).contains(ticks.count), "\(low)…\(high): \(ticks)")
        }
    }

    @Test func logTicksArePowersOfTen() {
        #expect(AxisTicks.logarithmic(from: 0.001, to: 1) == [0.001, 0.01, 0.1, 1])
        #expect(AxisTicks.logarithmic(from: 0.0032, to: 870) == [0.001, 0.01, 0.1, 1, 10, 100, 1000])
        // Within one decade: 1, 2, 5 steps.
        #expect(AxisTicks.logarithmic(from: 0.3, to: 0.7) == [0.1, 0.2, 0.5, 1])
    }

    @Test func labelsUseTheDecimalsTheStepNeeds() {
        let step = AxisTicks.step(span: 1)
        #expect(AxisTicks.linear(from: 0, to: 1).map { AxisTicks.label($0, step: step) } == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(AxisTicks.label(1500, step: AxisTicks.step(span: 5000)) == "1500")
        #expect(AxisTicks.label(2e-5, step: AxisTicks.step(span: 1e-4)) == "2e-5")
        #expect(AxisTicks.logLabel(0.01) == "0.01")
        #expect(AxisTicks.logLabel(1e-5) == "1e-5")
        #expect(AxisTicks.logLabel(1e6) == "1e6")
    }
}

@Suite struct SVGPlotTests {
    @Test func lineChartIsWellFormedWithEscapedText() throws {
        let chart = LineChart(title: "Loss <D & G> \"quoted\" 'single'", xLabel: "step", yLabel: "loss",
                              series: [PlotSeries(name: "discriminator <D>", values: [1.2, 0.9, 0.7, 0.72, 0.69]),
                                       PlotSeries(name: "generator & co", x: [0, 1, 2, 3, 4], y: [0.7, 1.1, .nan, 1.4, 1.3],
                                                  color: "#000000")])
        let svg = chart.svg()
        let inspector = SVGInspector()
        #expect(inspector.parse(svg), "not well-formed: \(String(describing: inspector.parseError))")
        #expect(inspector.elements.first?.name == "svg")
        #expect(inspector.texts.contains("Loss <D & G> \"quoted\" 'single'"))
        #expect(inspector.texts.contains("discriminator <D>"))
        #expect(inspector.texts.contains("generator & co"))
        #expect(inspector.texts.contains("step") && inspector.texts.contains("loss"))
        // One path per series; the NaN splits the second line into two pieces.
        let paths = inspector.all("path")
        #expect(paths.count == 2)
        #expect(paths[1].attributes["d"]!.filter { $0 == "M" }.count == 2)
        #expect(paths[1].attributes["stroke"] == "#000000")
        // Tick labels: x from 0 to 4, y covering 0.69…1.4.
        for label in ["0", "1", "2", "3", "4", "0.6", "1.4"] { #expect(inspector.texts.contains(label), "tick \(label)") }
    }

    @Test func logarithmicChartSkipsNonPositiveValues() {
        let losses = (0..<50).map { 10 * pow(0.8, Double($0)) }
        let chart = LineChart(title: "log", xLabel: "step", yLabel: "loss", logY: true,
                              series: [PlotSeries(name: "loss", values: losses),
                                       PlotSeries(name: "bad", values: [0, -1, 0.5, 2])])
        let inspector = SVGInspector()
        #expect(inspector.parse(chart.svg()))
        for label in ["0.001", "0.01", "0.1", "1", "10"] { #expect(inspector.texts.contains(label), "tick \(label)") }
        let bad = inspector.all("path")[1].attributes["d"]!
        #expect(bad.hasPrefix("M") && bad.filter { $0 == "L" }.count == 1)    // only 0.5 → 2 is drawn
    }

    /// A logarithmic x axis is labelled with the step counts themselves, not their logarithms.
    @Test func logarithmicXAxisIsLabelledWithRealValues() {
        let chart = LineChart(xLabel: "sampling steps", yLabel: "FID",  logX: true,
                              series: [PlotSeries(name: "DDIM", x: [10, 20, 50, 100, 1000], y: [90, 60, 40, 35, 30])])
        let inspector = SVGInspector()
        #expect(inspector.parse(chart.svg()))
        for label in ["10", "100", "1000"] { #expect(inspector.texts.contains(label), "tick \(label)") }
        #expect(!inspector.texts.contains("1.0") && !inspector.texts.contains("2.0"))
        // Equal ratios are equal distances: 10 → 100 as far as 100 → 1000.
        let dots = inspector.all("circle").prefix(5).map { Double($0.attributes["cx"]!)! }
        #expect(abs((dots[3] - dots[0]) - (dots[4] - dots[3])) < 0.05)
    }

    /// Sparse series are measurements and get a marker at each point; dense curves do not.
    @Test func measuredPointsHaveMarkers() {
        let sparse = PlotSeries(name: "measured", x: [1, 2, 3], y: [3, 1, 2])
        let dense = PlotSeries(name: "loss", values: (0..<(LineChart.markedPointLimit + 1)).map { Double($0) })
        let inspector = SVGInspector()
        #expect(inspector.parse(LineChart(xLabel: "x", yLabel: "y", series: [sparse, dense]).svg()))
        // Three markers and the legend's one dot, for the sparse series only.
        #expect(inspector.all("circle").count == 4)
    }

    /// The legend goes to a corner the data leaves free, or below the plot when none is.
    @Test func legendHidesNoData() throws {
        // A line across the top of the plot and down its right side: the legend moves to the bottom left.
        let top = LineChart(xLabel: "x", yLabel: "y", series: [PlotSeries(name: "high", x: [0, 11, 11.2], y: [9.5, 9.5, 0])])
        let first = SVGInspector()
        #expect(first.parse(top.svg()))
        let box = try #require(first.all("rect").last)
        #expect(Double(box.attributes["y"]!)! > 200, "legend at y \(box.attributes["y"]!)")
        // Points in all four corners: the legend goes below, and the picture grows to hold it.
        // A 5 × 4 block of points reaching inwards from each corner of the unit square.
        var corners: [(x: Double, y: Double)] = []
        for (cornerX, cornerY) in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)] {
            let inwardX: Double = cornerX == 0 ? 1 : -1, inwardY: Double = cornerY == 0 ? 1 : -1
            for i in 0..<20 {
                corners.append((cornerX + inwardX * Double(i % 5) * 0.04, cornerY + inwardY * Double(i / 5) * 0.04))
            }
        }
        let plot = ScatterPlot(xLabel: "x", yLabel: "y", sets: [PointSet(name: "everywhere", points: corners)], width: 400, height: 400)
        let second = SVGInspector()
        #expect(second.parse(plot.svg()))
        #expect(Double(second.all("svg")[0].attributes["height"]!)! > 400)
        #expect(Double(try #require(second.all("rect").last).attributes["y"]!)! >= 400)
    }

    @Test func emptyAndDegenerateChartsStillWork() {
        for chart in [LineChart(xLabel: "x", yLabel: "y"), LineChart(xLabel: "x", yLabel: "y", series: [PlotSeries(name: "one", values: [3])]),
                      LineChart(xLabel: "x", yLabel: "y", logX: true, logY: true, series: [PlotSeries(name: "zeros", values: [0, 0])])] {
            #expect(SVGInspector().parse(chart.svg()))
        }
        #expect(SVGInspector().parse(ScatterPlot(xLabel: "x", yLabel: "y").svg()))
    }

    @Test func scatterPlotDrawsEveryPointAndLegend() throws {
        var generator = RandomGenerator(seed: 3)
        let data = Tensor.randomNormal([50, 2], using: &generator)
        let samples = Tensor.randomNormal([30, 2], mean: 1, using: &generator)
        let plot = ScatterPlot(title: "data vs samples", xLabel: "x₁", yLabel: "x₂",
                               sets: [PointSet(name: "data", tensor: data), PointSet(name: "samples", tensor: samples, color: "red")])
        let inspector = SVGInspector()
        #expect(inspector.parse(plot.svg()))
        // 80 data dots plus two legend dots.
        #expect(inspector.all("circle").count == 82)
        #expect(inspector.texts.contains("data") && inspector.texts.contains("samples") && inspector.texts.contains("x₁"))
    }

    @Test func arrowsAndPathsAreDrawnUnderThePoints() throws {
        // Two arrows on a square canvas with equal scales: one pointing right, one up; a third too
        // short to show a direction; and a path whose middle point cannot be drawn.
        let arrows = ArrowSet(name: "velocity", arrows: [(0, 0, 1, 0), (2, 0, 0, 1), (1, 1, 1e-9, 0)])
        let path = PathSet(name: "trajectory", paths: [[(0, 2), (1, 2), (2, 2)], [(0, 1), (.nan, 1), (1, 1), (2, 1)]])
        let plot = ScatterPlot(xLabel: "x", yLabel: "y", sets: [PointSet(name: "end", points: [(2, 2)])], arrows: [arrows],
                               paths: [path], equalAspect: true, width: 400, height: 400)
        let inspector = SVGInspector()
        #expect(inspector.parse(plot.svg()))
        // Each head's tip (its first point) is the end of one shaft (the last line ending there: the
        // grid, drawn first, may end at the same pixel).
        let heads = inspector.all("polygon").map { String($0.attributes["points"]!.split(separator: " ")[0]) }
        let shafts = heads.compactMap { tip in inspector.all("line").last { "\($0.attributes["x2"]!),\($0.attributes["y2"]!)" == tip } }
        try #require(heads.count == 2 && shafts.count == 2)
        // The first arrow points right (y constant).
        let right = shafts[0].attributes
        #expect(right["y1"] == right["y2"] && Double(right["x2"]!)! > Double(right["x1"]!)!)
        // The second points up: SVG's y grows downwards.
        let up = shafts[1].attributes
        #expect(up["x1"] == up["x2"] && Double(up["y2"]!)! < Double(up["y1"]!)!)
        // The first path whole; the second from the point after the gap (one point before it is no line).
        let lines = inspector.all("polyline").map { $0.attributes["points"]!.split(separator: " ").count }
        #expect(lines == [3, 2])
        #expect(inspector.texts.contains("velocity") && inspector.texts.contains("trajectory") && inspector.texts.contains("end"))
    }

    @Test func equalAspectGivesBothAxesTheSameScale() throws {
        // Points spread 10 wide and 1 tall, on a square canvas.
        let points: [(x: Double, y: Double)] = [(0, 0), (1, 0), (0, 1), (10, 1)]
        let plot = ScatterPlot(xLabel: "x", yLabel: "y", sets: [PointSet(name: "p", points: points)], equalAspect: true, width: 400, height: 400)
        let inspector = SVGInspector()
        #expect(inspector.parse(plot.svg()))
        let dots = inspector.all("circle").prefix(4).map { (Double($0.attributes["cx"]!)!, Double($0.attributes["cy"]!)!) }
        let unitX = dots[1].0 - dots[0].0
        let unitY = dots[0].1 - dots[2].1                      // SVG y grows downwards
        #expect(unitX > 0 && abs(unitX - unitY) < 0.05, "x unit \(unitX) px, y unit \(unitY) px")

        let stretched = ScatterPlot(xLabel: "x", yLabel: "y", sets: [PointSet(name: "p", points: points)], equalAspect: false, width: 400, height: 400)
        let other = SVGInspector()
        #expect(other.parse(stretched.svg()))
        let free = other.all("circle").prefix(4).map { (Double($0.attributes["cx"]!)!, Double($0.attributes["cy"]!)!) }
        #expect((free[0].1 - free[2].1) > 3 * (free[1].0 - free[0].0))
    }

    @Test func writesToAFile() throws {
        let directory = try PNGFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("loss.svg")
        try LineChart(xLabel: "x", yLabel: "y", series: [PlotSeries(name: "a", values: [1, 2])]).write(to: url)
        #expect(SVGInspector().parse(try String(contentsOf: url, encoding: .utf8)))
        let bad = directory.appendingPathComponent("no-such-dir/loss.svg")
        let error = try #require(throws: ImageIOError.self) { try LineChart(xLabel: "x", yLabel: "y").write(to: bad) }
        #expect(error.file == bad.path)
    }
}

/// Loss curves are drawn as window means, each at its window's middle step.
@Suite struct PlotSeriesTests {
    @Test func windowMeansAverageConsecutiveSteps() {
        let points = PlotSeries.windowMeans(of: [1, 3, 5, 7, 9, 20, 40], window: 3)
        #expect(points.map(\.x) == [1, 4, 6] && points.map(\.y) == [3, 12, 40])    // the last window holds one value
        #expect(PlotSeries.windowMeans(of: [2, 4], window: 1).map(\.y) == [2, 4])
        #expect(PlotSeries.windowMeans(of: [], window: 5).isEmpty)
        let series = PlotSeries(name: "loss", values: [1, 3, 5, 7], averagingWindow: 2)
        #expect(series.name == "loss" && series.points.map(\.y) == [2, 6] && series.points.map(\.x) == [1, 3])
    }
}
