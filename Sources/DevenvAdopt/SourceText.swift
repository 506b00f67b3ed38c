import DevenvText

/// A Dockerfile's text as Unicode scalars, each with its place in the file, split into
/// physical lines. Invalid UTF-8 is an error at the first bad byte.
struct SourceText {
    struct Line {
        /// 1-based.
        var number: Int
        var scalars: [Unicode.Scalar]
        /// Byte offset of each scalar, plus one past the last (where the line ends).
        var offsets: [Int]

        func location(_ index: Int) -> SourceLocation {
            SourceLocation(line: number, column: index + 1, offset: offsets[min(index, offsets.count - 1)])
        }

        var end: SourceLocation { location(scalars.count) }
    }

    var lines: [Line]

    /// Byte offset and message of the first invalid UTF-8 sequence.
    struct InvalidEncoding: Error {
        var offset: Int
        var line: Int
        var column: Int
    }

    init(_ bytes: [UInt8]) throws {
        var lines: [Line] = []
        var scalars: [Unicode.Scalar] = []
        var offsets: [Int] = []
        var index = 0
        // A byte order mark is not part of the first instruction.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while index < bytes.count {
            guard let (scalar, length) = UTF8Validator.decode(bytes[...], at: index) else {
                throw InvalidEncoding(offset: index, line: lines.count + 1, column: scalars.count + 1)
            }
            if scalar == "\n" {
                offsets.append(index)
                lines.append(Line(number: lines.count + 1, scalars: Self.droppingCarriageReturn(scalars), offsets: offsets))
                scalars = []
                offsets = []
            } else {
                scalars.append(scalar)
                offsets.append(index)
            }
            index += length
        }
        offsets.append(bytes.count)
        if !scalars.isEmpty || lines.isEmpty {
            lines.append(Line(number: lines.count + 1, scalars: Self.droppingCarriageReturn(scalars), offsets: offsets))
        }
        self.lines = lines
    }

    private static func droppingCarriageReturn(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        scalars.last == "\r" ? Array(scalars.dropLast()) : scalars
    }

    static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\u{0B}" || scalar == "\u{0C}" || scalar == "\r"
    }
}

/// An instruction's text after continuation lines are joined, keeping the source location
/// of every scalar so errors can point into the middle of a long RUN.
struct LogicalLine {
    var scalars: [Unicode.Scalar] = []
    var locations: [SourceLocation] = []
    var end: SourceLocation

    init(end: SourceLocation) {
        self.end = end
    }

    mutating func append(_ line: SourceText.Line, _ range: Range<Int>) {
        for index in range {
            scalars.append(line.scalars[index])
            locations.append(line.location(index))
        }
        end = line.location(range.upperBound)
    }

    func location(_ index: Int) -> SourceLocation {
        index < locations.count ? locations[index] : end
    }

    func text(_ range: Range<Int>) -> String {
        var string = ""
        string.unicodeScalars.append(contentsOf: scalars[range])
        return string
    }

    var text: String { text(0..<scalars.count) }

    /// The part from `start`, as a word located where it begins.
    func word(_ range: Range<Int>) -> Word {
        Word(text(range), at: location(range.lowerBound), width: range.count)
    }
}
