import ImageIO
import TensorCore
import Testing

@Suite struct BitmapTests {
    @Test func pixelRangesMapToBytesWithClamping() {
        #expect(PixelRange.zeroToOne.byte(0) == 0)
        #expect(PixelRange.zeroToOne.byte(1) == 255)
        #expect(PixelRange.zeroToOne.byte(0.5) == 128)            // 127.5 rounds away from zero
        #expect(PixelRange.zeroToOne.byte(-3) == 0)
        #expect(PixelRange.zeroToOne.byte(7) == 255)
        #expect(PixelRange.zeroToOne.byte(.nan) == 0)
        #expect(PixelRange.zeroToOne.byte(.infinity) == 255)
        #expect(PixelRange.minusOneToOne.byte(-1) == 0)
        #expect(PixelRange.minusOneToOne.byte(0) == 128)
        #expect(PixelRange.minusOneToOne.byte(1) == 255)
        #expect(PixelRange.minusOneToOne.byte(-1.5) == 0)
        #expect(PixelRange.minusOneToOne.byte(1.01) == 255)
    }

    @Test func tensorToBitmapIsChannelFirstToInterleaved() {
        // [3, 1, 2]: red plane, green plane, blue plane.
        let tensor = Tensor([0, 1, 0.5, 0, 1, 1] as [Float], shape: [3, 1, 2])
        let bitmap = Bitmap(tensor, range: .zeroToOne)
        #expect(bitmap.width == 2 && bitmap.height == 1 && bitmap.channels == 3)
        #expect(bitmap.pixels == [0, 128, 255, 255, 0, 255])
        #expect(bitmap.rgb(x: 1, y: 0) == (255, 0, 255))
        // [H, W] is gray.
        let gray = Bitmap(Tensor([-1, 1] as [Float], shape: [1, 2]), range: .minusOneToOne)
        #expect(gray.channels == 1 && gray.pixels == [0, 255])
    }

    @Test func bitmapToTensorRoundTrips() {
        let bitmap = Bitmap(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 14) })
        for range in [PixelRange.zeroToOne, .minusOneToOne] {
            let tensor = bitmap.tensor(range: range)
            #expect(tensor.shape == [3, 2, 3])
            #expect(Bitmap(tensor, range: range) == bitmap)
        }
        #expect(bitmap.tensor(range: .minusOneToOne).floats.min()! == -1)
    }

    @Test func upscalingRepeatsPixels() {
        let bitmap = Bitmap(width: 2, height: 1, channels: 1, pixels: [10, 20])
        let big = bitmap.upscaled(by: 3)
        #expect(big.width == 6 && big.height == 3)
        #expect(big.pixels == Array(repeating: [10, 10, 10, 20, 20, 20], count: 3).flatMap { $0 })
        #expect(bitmap.rgbBitmap().pixels == [10, 10, 10, 20, 20, 20])
    }
}

@Suite struct ImageGridTests {
    @Test func gridSizeFollowsColumnsPaddingAndScale() {
        let batch = Tensor.zeros([10, 1, 5, 4])
        let grid = Bitmap(grid: batch, range: .zeroToOne, columns: 4, padding: 2)
        #expect(grid.width == 4 * (4 + 2) + 2)          // 26
        #expect(grid.height == 3 * (5 + 2) + 2)         // 3 rows for 10 images: 23
        #expect(grid.channels == 1)

        let scaled = Bitmap(grid: batch, range: .zeroToOne, columns: 5, padding: 1, scale: 3)
        #expect(scaled.width == 5 * (12 + 1) + 1 && scaled.height == 2 * (15 + 1) + 1)

        // Fewer images than columns: the grid is only as wide as it needs to be.
        let small = Bitmap(grid: Tensor.zeros([3, 3, 8, 8]), range: .zeroToOne, columns: 8, padding: 0)
        #expect(small.width == 24 && small.height == 8 && small.channels == 3)
    }

    @Test func cellsLandInTheirPlacesAndPaddingHasItsValue() {
        // Image n is filled with the value n / 3, in [0, 1].
        let values = (0..<4).flatMap { n in [Float](repeating: Float(n) / 3, count: 4) }
        let grid = Bitmap(grid: Tensor(values, shape: [4, 1, 2, 2]), range: .zeroToOne,
                          columns: 2, padding: 1, paddingValue: 0.5)
        #expect(grid.width == 7 && grid.height == 7)
        let cellOrigins = [(1, 1), (4, 1), (1, 4), (4, 4)]
        for (n, origin) in cellOrigins.enumerated() {
            let expected = PixelRange.zeroToOne.byte(Float(n) / 3)
            for dy in 0..<2 { for dx in 0..<2 {
                #expect(grid.pixels[(origin.1 + dy) * 7 + origin.0 + dx] == expected)
            } }
        }
        // The frame and the gaps between cells are padding.
        for x in 0..<7 {
            #expect(grid.pixels[x] == 128 && grid.pixels[3 * 7 + x] == 128 && grid.pixels[6 * 7 + x] == 128)
        }
    }

    @Test func captionsAddAStripAndInk() {
        let batch = Tensor.full([2, 1, 8, 16], value: -1)                 // black images
        let plain = Bitmap(grid: batch, range: .minusOneToOne, columns: 2, padding: 2, paddingValue: 1)
        let captioned = Bitmap(grid: batch, range: .minusOneToOne, columns: 2, padding: 2, paddingValue: 1,
                               captions: ["Bag", "Ankle boot"])
        #expect(captioned.width == plain.width)
        #expect(captioned.height == plain.height + 14)     // 10-pixel text, 2 pixels of space each side
        // The caption strip under the first cell holds dark ink on the white padding.
        let stripTop = 2 + 8
        let strip = (stripTop..<(stripTop + 14)).flatMap { y in (2..<18).map { captioned.pixels[y * captioned.width + $0] } }
        #expect(strip.contains(0) && strip.contains(255))
    }

    /// Row labels take a column of their own on the left, column labels a strip on top; the
    /// glyphs are drawn two image pixels per font pixel.
    @Test func rowAndColumnLabelsAddAMarginAndInk() {
        let batch = Tensor.full([4, 1, 16, 16], value: -1)                // black images
        let plain = Bitmap(grid: batch, range: .minusOneToOne, columns: 2, padding: 2)
        let labelled = Bitmap(grid: batch, range: .minusOneToOne, columns: 2, padding: 2,
                              rowLabels: ["AB", "C"], columnLabels: ["T=1", "T=2"])
        // "AB" is 2 × 8 − 2 = 14 pixels wide, plus the padding and 2 pixels before the cells.
        #expect(labelled.width == plain.width + 18)
        #expect(labelled.height == plain.height + 14)
        let w = labelled.width
        // The first cell now starts at (18 + 2, 14 + 2).
        #expect(labelled.pixels[16 * w + 20] == 0 && labelled.pixels[16 * w + 19] == 255 && labelled.pixels[15 * w + 20] == 255)
        // "A" beside row 0, centred: rows 19…28; its top row ".#." inks x = 4…5 only.
        #expect((19...20).allSatisfy { y in labelled.pixels[y * w + 4] == 0 && labelled.pixels[y * w + 5] == 0 })
        #expect((19...20).allSatisfy { y in labelled.pixels[y * w + 2] == 255 && labelled.pixels[y * w + 3] == 255 })
        // "T" above column 0 from y = 2: its top row "###" inks x = 20…25.
        #expect((20...25).allSatisfy { labelled.pixels[2 * w + $0] == 0 } && labelled.pixels[2 * w + 26] == 255)
        #expect(labelled.pixels[1 * w + 20] == 255)
    }

    @Test func croppingCopiesTheRectangle() {
        let bitmap = Bitmap(width: 4, height: 3, channels: 1, pixels: (0..<12).map(UInt8.init))
        let crop = bitmap.cropped(left: 1, top: 1, width: 2, height: 2)
        #expect(crop.width == 2 && crop.height == 2 && crop.pixels == [5, 6, 9, 10])
        #expect(bitmap.cropped(left: 0, top: 0, width: 4, height: 3) == bitmap)
    }

    @Test func tilingMixesGrayAndColor() {
        let gray = Bitmap(width: 2, height: 2, channels: 1, filledWith: 100)
        let red = Bitmap(width: 2, height: 2, channels: 3, pixels: Array(repeating: [255, 0, 0], count: 4).flatMap { $0 })
        let sheet = Bitmap(tiling: [gray, red], columns: 2, padding: 0)
        #expect(sheet.channels == 3 && sheet.width == 4 && sheet.height == 2)
        #expect(sheet.rgb(x: 0, y: 0) == (100, 100, 100))
        #expect(sheet.rgb(x: 3, y: 1) == (255, 0, 0))
    }
}
