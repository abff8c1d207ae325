import TensorCore

/// The range of values a tensor's pixels live in.
///
/// Generative models usually work in [-1, 1] (a `tanh` output); PNG files and previews in [0, 1].
public enum PixelRange: Sendable {
    /// 0 is black and 1 is white.
    case zeroToOne
    /// -1 is black and 1 is white.
    case minusOneToOne

    /// `value` mapped to [0, 1] (not yet clamped).
    @inlinable
    public func unitValue(_ value: Float) -> Float {
        switch self {
        case .zeroToOne: return value
        case .minusOneToOne: return (value + 1) * 0.5
        }
    }

    /// `value` mapped to a byte 0…255: clamped, rounded to nearest; NaN becomes 0.
    @inlinable
    public func byte(_ value: Float) -> UInt8 {
        let scaled = unitValue(value) * 255
        guard scaled > 0 else { return 0 }            // also catches NaN
        guard scaled < 255 else { return 255 }
        return UInt8(scaled.rounded())
    }
}

/// An 8-bit image in memory: rows top to bottom, pixels left to right, channels interleaved.
///
/// `channels` is 1 (gray) or 3 (red, green, blue). This is what PNG files, image grids and
/// terminal previews exchange; tensors convert to and from it.
public struct Bitmap: Equatable, Sendable {
    /// Pixels per row.
    public let width: Int
    /// Number of rows.
    public let height: Int
    /// Samples per pixel: 1 (gray) or 3 (RGB).
    public let channels: Int
    /// `height × width × channels` bytes, row-major, channels interleaved (HWC).
    public var pixels: [UInt8]

    /// A bitmap holding `pixels` (HWC order, `width × height × channels` bytes).
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        require(channels == 1 || channels == 3, "Bitmap: channels must be 1 or 3, got \(channels)")
        require(width >= 0 && height >= 0, "Bitmap: negative size \(width)×\(height)")
        require(pixels.count == width * height * channels,
                "Bitmap: \(pixels.count) bytes do not fill \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A bitmap with every sample equal to `value`.
    public init(width: Int, height: Int, channels: Int, filledWith value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// The `width × height` pixels whose top-left corner is (`left`, `top`).
    public func cropped(left: Int, top: Int, width: Int, height: Int) -> Bitmap {
        require(left >= 0 && top >= 0 && width >= 0 && height >= 0
                    && left + width <= self.width && top + height <= self.height,
                "Bitmap.cropped: \(width)×\(height) at (\(left), \(top)) is not inside \(self.width)×\(self.height)")
        let rowBytes = width * channels
        var result = [UInt8]()
        result.reserveCapacity(rowBytes * height)
        for y in top..<(top + height) {
            let start = (y * self.width + left) * channels
            result += pixels[start..<(start + rowBytes)]
        }
        return Bitmap(width: width, height: height, channels: channels, pixels: result)
    }

    /// The pixel at (`x`, `y`) as red, green, blue (gray is repeated in all three).
    public func rgb(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let base = (y * width + x) * channels
        if channels == 1 { let g = pixels[base]; return (g, g, g) }
        return (pixels[base], pixels[base + 1], pixels[base + 2])
    }

    /// The same picture with three channels (gray values copied to red, green and blue).
    public func rgbBitmap() -> Bitmap {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: pixels.count * 3)
        for i in pixels.indices { out[3 * i] = pixels[i]; out[3 * i + 1] = pixels[i]; out[3 * i + 2] = pixels[i] }
        return Bitmap(width: width, height: height, channels: 3, pixels: out)
    }

    /// Each pixel repeated `factor × factor` times (nearest-neighbour upscaling).
    public func upscaled(by factor: Int) -> Bitmap {
        require(factor >= 1, "upscaled(by:): factor must be at least 1, got \(factor)")
        if factor == 1 { return self }
        let newWidth = width * factor, newHeight = height * factor
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        for y in 0..<newHeight {
            for x in 0..<newWidth {
                let source = ((y / factor) * width + x / factor) * channels
                let target = (y * newWidth + x) * channels
                for c in 0..<channels { out[target + c] = pixels[source + c] }
            }
        }
        return Bitmap(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }
}

// MARK: - Tensors ↔ bitmaps

extension Bitmap {
    /// The image in a `[C, H, W]` (or `[H, W]`, taken as gray) tensor whose values are in `range`.
    ///
    /// C must be 1 or 3. Values outside the range are clamped, so a slightly overshooting model
    /// output still makes a picture.
    public init(_ tensor: Tensor, range: PixelRange) {
        let shape = tensor.shape
        require(shape.count == 2 || (shape.count == 3 && (shape[0] == 1 || shape[0] == 3)),
                "Bitmap(_:range:): expected [C, H, W] with C = 1 or 3, or [H, W]; got \(shape)")
        let channels = shape.count == 2 ? 1 : shape[0]
        let height = shape[shape.count - 2], width = shape[shape.count - 1]
        let values = tensor.floats                                 // CHW
        let plane = height * width
        var pixels = [UInt8](repeating: 0, count: plane * channels)
        for c in 0..<channels {
            for i in 0..<plane { pixels[i * channels + c] = range.byte(values[c * plane + i]) }
        }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// The image as a float32 `[C, H, W]` tensor with values in `range` (0 → black).
    public func tensor(range: PixelRange = .zeroToOne) -> Tensor {
        let plane = height * width
        var values = [Float](repeating: 0, count: plane * channels)
        for c in 0..<channels {
            for i in 0..<plane {
                let unit = Float(pixels[i * channels + c]) / 255
                values[c * plane + i] = range == .zeroToOne ? unit : unit * 2 - 1
            }
        }
        return Tensor(values, shape: [channels, height, width])
    }
}
