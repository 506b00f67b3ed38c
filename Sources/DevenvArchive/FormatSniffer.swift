import DevenvOCI

/// Recognises a layer stream from its first bytes.
///
/// Policy: gzip (`1f 8b`) and zstd (`28 b5 2f fd`, or a skippable frame `5? 2a 4d 18`) are
/// detected by magic; anything else must look like a tar header (`ustar` at offset 257, a
/// valid v7 header checksum, or an all-zero end-of-archive block). When the caller declares
/// a compression and the bytes say otherwise, the layer is rejected.
enum FormatSniffer {
    /// How many leading bytes `sniff` wants to see.
    static let headLength = 512

    static func sniff(_ head: [UInt8]) -> LayerCompression? {
        if head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b { return .gzip }
        if head.count >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd { return .zstd }
        if head.count >= 4 && head[0] & 0xf0 == 0x50 && head[1] == 0x2a && head[2] == 0x4d && head[3] == 0x18 { return .zstd }
        return looksLikeTar(head) ? LayerCompression.none : nil
    }

    static func looksLikeTar(_ head: [UInt8]) -> Bool {
        guard head.count >= 512 else { return false }
        if Array(head[257..<262]) == Array("ustar".utf8) { return true }
        if head[0..<512].allSatisfy({ $0 == 0 }) { return true }
        return checksumMatches(head)
    }

    /// The v7 header checksum: the sum of the 512 header bytes with the checksum field
    /// counted as spaces, stored as octal in bytes 148..<156.
    static func checksumMatches(_ head: [UInt8]) -> Bool {
        var sum = 0
        for index in 0..<512 {
            sum += (148..<156).contains(index) ? 0x20 : Int(head[index])
        }
        var stored = 0
        var digits = 0
        for byte in head[148..<156] {
            if byte == 0x20 || byte == 0 { if digits > 0 { break } else { continue } }
            guard byte >= 0x30 && byte <= 0x37 else { return false }
            stored = stored * 8 + Int(byte - 0x30)
            digits += 1
        }
        return digits > 0 && stored == sum
    }
}
