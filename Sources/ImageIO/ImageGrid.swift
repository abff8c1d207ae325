import TensorCore

// MARK: - Image grids

extension Bitmap {
    /// A contact sheet: the images of a `[N, C, H, W]` batch (C = 1 or 3) laid out in rows of
    /// `columns`, separated and framed by `padding` pixels of brightness `paddingValue`
    /// (0 = black … 1 = white), like torchvision's `make_grid`.
    ///
    /// - Parameters:
    ///   - images: the batch, values in `range`.
    ///   - range: the range the values live in; values outside it are clamped.
    ///   - columns: images per row (fewer if the batch is smaller).
    ///   - padding: pixels between cells and around the edge.
    ///   - paddingValue: brightness of the padding, 0…1.
    ///   - scale: each image pixel becomes `scale × scale` pixels (nearest neighbour), so that
    ///     28×28 samples are big enough to look at.
    ///   - captions: optional text under each cell (cut to the cell width); one entry per image.
    ///   - rowLabels: optional text left of each row (a class name, say); one entry per row.
    ///   - columnLabels: optional text above each column (a time step, say); one per column.
    ///
    /// Text is drawn in a small pixel font, 10 pixels high.
    public init(grid images: Tensor, range: PixelRange, columns: Int = 8, padding: Int = 2,
                paddingValue: Float = 1, scale: Int = 1, captions: [String]? = nil,
                rowLabels: [String]? = nil, columnLabels: [String]? = nil) {
        let shape = images.shape
        require(shape.count == 4 && (shape[1] == 1 || shape[1] == 3),
                "Bitmap(grid:): expected a [N, C, H, W] batch with C = 1 or 3, got \(shape)")
        let (count, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let values = images.floats                                          // [N, C, H, W]
        let plane = height * width
        var cells: [Bitmap] = []
        cells.reserveCapacity(count)
        for n in 0..<count {
            var pixels = [UInt8](repeating: 0, count: plane * channels)     // HWC
            let base = n * channels * plane
            for c in 0..<channels {
                for i in 0..<plane { pixels[i * channels + c] = range.byte(values[base + c * plane + i]) }
            }
            cells.append(Bitmap(width: width, height: height, channels: channels, pixels: pixels))
        }
        self.init(tiling: cells, columns: columns, padding: padding, paddingValue: paddingValue,
                  scale: scale, captions: captions, rowLabels: rowLabels, columnLabels: columnLabels)
    }

    /// A contact sheet of equally sized bitmaps; see `init(grid:range:…)` for the parameters.
    /// Gray and colour bitmaps may be mixed (the sheet is then in colour).
    public init(tiling cells: [Bitmap], columns: Int = 8, padding: Int = 2, paddingValue: Float = 1,
                scale: Int = 1, captions: [String]? = nil, rowLabels: [String]? = nil,
                columnLabels: [String]? = nil) {
        require(columns >= 1, "Bitmap(tiling:): columns must be at least 1, got \(columns)")
        require(padding >= 0, "Bitmap(tiling:): padding must not be negative, got \(padding)")
        require(scale >= 1, "Bitmap(tiling:): scale must be at least 1, got \(scale)")
        require(captions == nil || captions!.count == cells.count,
                "Bitmap(tiling:): \(captions?.count ?? 0) captions for \(cells.count) images")
        let cellWidth = (cells.first?.width ?? 0) * scale
        let cellHeight = (cells.first?.height ?? 0) * scale
        require(cells.allSatisfy { $0.width * scale == cellWidth && $0.height * scale == cellHeight },
                "Bitmap(tiling:): all images must have the same size")
        let channels = cells.contains { $0.channels == 3 } ? 3 : 1
        let columnCount = max(1, min(columns, cells.count))
        let rowCount = (cells.count + columnCount - 1) / columnCount
        require(rowLabels == nil || rowLabels!.count == rowCount,
                "Bitmap(tiling:): \(rowLabels?.count ?? 0) row labels for \(rowCount) rows")
        require(columnLabels == nil || columnLabels!.count == columnCount,
                "Bitmap(tiling:): \(columnLabels?.count ?? 0) column labels for \(columnCount) columns")
        // Text strips: the glyphs with two pixels of space above and below.
        let textStrip = PixelFont.textHeight + 4
        let captionHeight = captions == nil ? 0 : textStrip
        let headerHeight = columnLabels == nil ? 0 : textStrip
        let labelWidth = rowLabels.map { labels in labels.map(PixelFont.width(of:)).max()! + padding + 2 } ?? 0
        let rowHeight = cellHeight + captionHeight + padding
        let gridWidth = labelWidth + columnCount * (cellWidth + padding) + padding
        let gridHeight = headerHeight + rowCount * rowHeight + padding
        let background = PixelRange.zeroToOne.byte(paddingValue)
        let ink: UInt8 = background > 127 ? 0 : 255          // dark text on light padding
        self.init(width: gridWidth, height: gridHeight, channels: channels, filledWith: background)

        func cellOrigin(row: Int, column: Int) -> (left: Int, top: Int) {
            (labelWidth + padding + column * (cellWidth + padding), headerHeight + padding + row * rowHeight)
        }
        for (index, original) in cells.enumerated() {
            var cell = original.upscaled(by: scale)
            if cell.channels != channels { cell = cell.rgbBitmap() }
            let (left, top) = cellOrigin(row: index / columnCount, column: index % columnCount)
            let rowBytes = cellWidth * channels
            for y in 0..<cellHeight {
                let target = ((top + y) * gridWidth + left) * channels
                pixels.replaceSubrange(target..<(target + rowBytes), with: cell.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
            }
            if let captions {
                PixelFont.draw(captions[index], into: &self, left: left, top: top + cellHeight + 2,
                               maxWidth: cellWidth, ink: ink)
            }
        }
        for (row, label) in (rowLabels ?? []).enumerated() {
            let top = cellOrigin(row: row, column: 0).top + (cellHeight - PixelFont.textHeight) / 2
            PixelFont.draw(label, into: &self, left: padding, top: top, maxWidth: labelWidth, ink: ink)
        }
        for (column, label) in (columnLabels ?? []).enumerated() {
            let left = cellOrigin(row: 0, column: column).left
            PixelFont.draw(label, into: &self, left: left, top: 2, maxWidth: cellWidth, ink: ink)
        }
    }
}
