import Foundation

/// Builds tar streams byte by byte, so tests can write exactly the hostile headers they need
/// (names with `..`, bogus sizes, unknown typeflags, missing end blocks) without binaries.
struct TarBuilder {
    enum TypeFlag: UInt8 {
        case file = 0x30, hardlink = 0x31, symlink = 0x32, character = 0x33, block = 0x34
        case directory = 0x35, fifo = 0x36, pax = 0x78, global = 0x67, unknownZ = 0x5a
    }

    private(set) var bytes: [UInt8] = []

    struct Header {
        var name: [UInt8]
        var type: UInt8 = TypeFlag.file.rawValue
        var mode: UInt32 = 0o644
        var uid: Int = 0
        var gid: Int = 0
        var size: Int = 0
        var mtime: Int = 1_700_000_000
        var linkname: [UInt8] = []
        var devmajor: Int = 0
        var devminor: Int = 0
        /// Replaces the 12-byte size field (e.g. a base-256 value).
        var rawSize: [UInt8]?
    }

    /// A regular file with `data`.
    mutating func file(_ name: String, _ data: [UInt8] = [], mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                       mtime: Int = 1_700_000_000, pax: [String: [UInt8]] = [:]) {
        add(Header(name: Array(name.utf8), mode: mode, uid: uid, gid: gid, size: data.count, mtime: mtime), data: data, pax: pax)
    }

    mutating func file(bytes name: [UInt8], _ data: [UInt8] = []) {
        add(Header(name: name, size: data.count), data: data)
    }

    mutating func directory(_ name: String, mode: UInt32 = 0o755, mtime: Int = 1_700_000_000, pax: [String: [UInt8]] = [:]) {
        add(Header(name: Array(name.utf8), type: TypeFlag.directory.rawValue, mode: mode, mtime: mtime), pax: pax)
    }

    mutating func symlink(_ name: String, to target: String) {
        add(Header(name: Array(name.utf8), type: TypeFlag.symlink.rawValue, mode: 0o777, linkname: Array(target.utf8)))
    }

    mutating func hardlink(_ name: String, to target: String) {
        add(Header(name: Array(name.utf8), type: TypeFlag.hardlink.rawValue, linkname: Array(target.utf8)))
    }

    mutating func device(_ name: String, character: Bool = true, major: Int, minor: Int, mode: UInt32 = 0o666,
                         pax: [String: [UInt8]] = [:]) {
        let type = character ? TypeFlag.character : TypeFlag.block
        add(Header(name: Array(name.utf8), type: type.rawValue, mode: mode, devmajor: major, devminor: minor), pax: pax)
    }

    mutating func fifo(_ name: String) {
        add(Header(name: Array(name.utf8), type: TypeFlag.fifo.rawValue))
    }

    /// A PAX global header (typeflag g).
    mutating func global(_ records: [String: [UInt8]]) {
        let body = Self.paxBody(records)
        append(Header(name: Array("pax_global_header".utf8), type: TypeFlag.global.rawValue, size: body.count), data: body)
    }

    /// Any header; names longer than 100 bytes, and `pax` records, go in a PAX header first.
    mutating func add(_ header: Header, data: [UInt8] = [], pax: [String: [UInt8]] = [:]) {
        var records = pax
        var header = header
        if header.name.count > 100 {
            records["path"] = header.name
            header.name = Array(header.name.prefix(100))
        }
        if header.linkname.count > 100 {
            records["linkpath"] = header.linkname
            header.linkname = Array(header.linkname.prefix(100))
        }
        if !records.isEmpty {
            let body = Self.paxBody(records)
            append(Header(name: Array("PaxHeaders/x".utf8), type: TypeFlag.pax.rawValue, size: body.count), data: body)
        }
        append(header, data: data)
    }

    /// Writes the header and data as given (no PAX help), padding data to 512 bytes.
    mutating func append(_ header: Header, data: [UInt8], pad: Bool = true) {
        bytes += Self.encode(header)
        bytes += data
        if pad && data.count % 512 != 0 { bytes += [UInt8](repeating: 0, count: 512 - data.count % 512) }
    }

    mutating func appendRaw(_ raw: [UInt8]) { bytes += raw }

    /// The two zero blocks that end an archive.
    mutating func finish() { bytes += [UInt8](repeating: 0, count: 1024) }

    var data: Data { Data(bytes) }

    static func paxBody(_ records: [String: [UInt8]]) -> [UInt8] {
        var body: [UInt8] = []
        for key in records.keys.sorted() {
            let value = records[key]!
            let payload = Array(" \(key)=".utf8) + value + [0x0a]
            // The length prefix counts itself.
            var length = payload.count + 1
            while String(length).utf8.count + payload.count != length { length += 1 }
            body += Array(String(length).utf8) + payload
        }
        return body
    }

    static func encode(_ header: Header) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ offset: Int, _ field: [UInt8], _ width: Int) {
            for (index, byte) in field.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, _ width: Int) -> [UInt8] {
            let text = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - text.count)) + text).utf8) + [0]
        }
        put(0, header.name, 100)
        put(100, octal(Int(header.mode), 8), 8)
        put(108, octal(header.uid, 8), 8)
        put(116, octal(header.gid, 8), 8)
        put(124, header.rawSize ?? octal(header.size, 12), 12)
        put(136, octal(header.mtime, 12), 12)
        block[156] = header.type
        put(157, header.linkname, 100)
        put(257, Array("ustar".utf8) + [0], 6)
        put(263, Array("00".utf8), 2)
        put(329, octal(header.devmajor, 8), 8)
        put(337, octal(header.devminor, 8), 8)
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(148, Array((String(repeating: "0", count: 6 - String(sum, radix: 8).count) + String(sum, radix: 8)).utf8) + [0, 0x20], 8)
        return block
    }
}
