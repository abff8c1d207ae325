import Foundation
import TensorCore

/// Small gray pictures of simple shapes, drawn in code: the stand-in for Fashion-MNIST when the
/// real files are not installed, so that every chapter still runs.
///
/// There are ten classes, like Fashion-MNIST, each a shape at a random position, size and
/// brightness, white on black, with softened (anti-aliased) edges.
public enum SyntheticShapes {
    /// The ten class names, by label.
    public static let classNames = ["circle", "square", "triangle", "ring", "horizontal bar",
                                    "vertical bar", "plus", "cross", "diamond", "frame"]

    /// `count` images of `size × size` pixels (plus `padding` black pixels on each side) as a
    /// `[count, 1, H, W]` tensor, labels cycling through the ten classes (0, 1, …, 9, 0, …).
    /// The same `seed` gives the same images.
    public static func generate(count: Int, size: Int = 28, normalization: PixelNormalization = .minusOneToOne,
                                padding: Int = 0, seed: UInt64 = 0) -> ImageDataset {
        require(count >= 0 && size >= 8 && padding >= 0,
                "SyntheticShapes.generate: need count ≥ 0, size ≥ 8, padding ≥ 0 (got \(count), \(size), \(padding))")
        var generator = RandomGenerator(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count * size * size)
        let labels = (0..<count).map { $0 % classNames.count }
        for (n, label) in labels.enumerated() {
            let extent = Double(size)
            let radius = extent * (0.2 + 0.12 * generator.nextUniform())              // 5.6…9 px at 28
            let margin = radius + 1
            let centerX = margin + (extent - 2 * margin) * generator.nextUniform()
            let centerY = margin + (extent - 2 * margin) * generator.nextUniform()
            let brightness = 0.7 + 0.3 * generator.nextUniform()
            draw(label, into: &bytes, offset: n * size * size, size: size,
                 center: (centerX, centerY), radius: radius, brightness: brightness)
        }
        let tensor = imageTensor(bytes, count: count, height: size, width: size,
                                 normalization: normalization, padding: padding)
        return ImageDataset(images: tensor, labels: labels, classNames: classNames, name: "synthetic shapes")
    }

    /// Whether the point (`dx`, `dy`), relative to the shape's centre, lies inside shape `label`
    /// of the given `radius` (half its extent).
    static func contains(_ label: Int, dx: Double, dy: Double, radius r: Double) -> Bool {
        let distance = (dx * dx + dy * dy).squareRoot()
        switch label {
        case 0: return distance <= r                                                  // circle
        case 1: return abs(dx) <= 0.85 * r && abs(dy) <= 0.85 * r                     // square
        case 2:                                                                       // triangle, apex up
            guard dy >= -r, dy <= 0.7 * r else { return false }
            return abs(dx) <= (dy + r) / 1.7
        case 3: return distance <= r && distance >= 0.6 * r                           // ring
        case 4: return abs(dx) <= r && abs(dy) <= 0.3 * r                             // horizontal bar
        case 5: return abs(dx) <= 0.3 * r && abs(dy) <= r                             // vertical bar
        case 6: return (abs(dx) <= r && abs(dy) <= 0.25 * r) || (abs(dx) <= 0.25 * r && abs(dy) <= r)  // plus
        case 7:                                                                       // diagonal cross
            guard abs(dx) <= 0.8 * r, abs(dy) <= 0.8 * r else { return false }
            return abs(dx - dy) <= 0.35 * r || abs(dx + dy) <= 0.35 * r
        case 8: return abs(dx) + abs(dy) <= r                                         // diamond
        default:                                                                      // frame
            let outer = max(abs(dx), abs(dy))
            return outer <= 0.9 * r && outer >= 0.55 * r
        }
    }

    /// Draws one shape into a `size × size` block of `bytes`, averaging 3×3 samples per pixel.
    private static func draw(_ label: Int, into bytes: inout [UInt8], offset: Int, size: Int,
                             center: (Double, Double), radius: Double, brightness: Double) {
        let samples = 3
        for y in 0..<size {
            for x in 0..<size {
                var inside = 0
                for sy in 0..<samples {
                    for sx in 0..<samples {
                        let px = Double(x) + (Double(sx) + 0.5) / Double(samples)
                        let py = Double(y) + (Double(sy) + 0.5) / Double(samples)
                        if contains(label, dx: px - center.0, dy: py - center.1, radius: radius) { inside += 1 }
                    }
                }
                let coverage = Double(inside) / Double(samples * samples)
                bytes[offset + y * size + x] = UInt8((coverage * brightness * 255).rounded())
            }
        }
    }
}

extension ImageDataset {
    /// Fashion-MNIST if it is installed, otherwise synthetic shapes of the same size, with
    /// ``notice`` set to one line saying so and how to get the real data.
    ///
    /// Only *missing* files lead to the fallback; files that exist but are damaged still throw,
    /// so a broken download is never silently replaced.
    ///
    /// - Parameters:
    ///   - split: which part of Fashion-MNIST to load.
    ///   - directory: where to look; by default `FashionMNIST.directory()`.
    ///   - normalization, padding, limit: as in `FashionMNIST.load`.
    ///   - syntheticCount: how many shape images to make if the real data is missing
    ///     (default 12 000 for training, 2 000 for testing; capped by `limit`).
    ///   - seed: the seed of the synthetic images (the test split uses a different stream).
    public static func fashionMNISTOrSynthetic(_ split: FashionMNIST.Split, from directory: URL = FashionMNIST.directory(),
                                               normalization: PixelNormalization = .minusOneToOne, padding: Int = 0,
                                               limit: Int? = nil, syntheticCount: Int? = nil, seed: UInt64 = 0) throws -> ImageDataset {
        do {
            return try FashionMNIST.load(split, from: directory, normalization: normalization, padding: padding, limit: limit)
        } catch let error as DatasetError where error.kind == .missing {
            var count = syntheticCount ?? (split == .train ? 12_000 : 2_000)
            if let limit { count = min(count, max(0, limit)) }
            let shapes = SyntheticShapes.generate(count: count, normalization: normalization, padding: padding,
                                                  seed: split == .train ? seed : seed ^ 0x7E57)
            let notice = "Fashion-MNIST not found in \(directory.path); using \(count) synthetic shape images instead. "
                + "For the real data, \(FashionMNIST.installHint)."
            return ImageDataset(images: shapes.images, labels: shapes.labels, classNames: shapes.classNames,
                                name: "synthetic shapes \(split.rawValue)", notice: notice)
        }
    }
}
