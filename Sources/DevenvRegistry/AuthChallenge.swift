import DevenvOCI
/// One challenge from a `WWW-Authenticate` header (RFC 7235): a scheme and its
/// parameters, e.g. `Bearer realm="https://auth.example/token",service="registry"`.
struct AuthChallenge: Equatable, Sendable {
    /// Lowercased: `basic`, `bearer`.
    var scheme: String
    /// Parameter names lowercased; values unquoted.
    var parameters: [String: String]

    static let maxHeaderLength = 8 << 10
    static let maxParameters = 32

    enum ParseError: Error, Equatable {
        case malformed(String)
    }

    /// Parses every challenge in `header`. Hostile input (unterminated quotes, missing
    /// scheme, absurd length) is a `ParseError`, never a guess.
    static func parse(_ header: String) throws -> [AuthChallenge] {
        guard header.utf8.count <= maxHeaderLength else { throw ParseError.malformed("header longer than \(maxHeaderLength) bytes") }
        var scanner = Scanner(Array(header.utf8))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2c }
            if scanner.atEnd { break }
            let scheme = scanner.token()
            guard !scheme.isEmpty else { throw ParseError.malformed("expected an authentication scheme at offset \(scanner.position)") }
            var challenge = AuthChallenge(scheme: scheme.lowercased(), parameters: [:])
            var first = true
            parameters: while true {
                scanner.skipSpaces()
                if scanner.atEnd { break }
                let mark = scanner.position
                let name = scanner.token()
                scanner.skipSpaces()
                guard !name.isEmpty, scanner.peek == UInt8(ascii: "=") else {
                    if first && !name.isEmpty {
                        // token68 (e.g. `Negotiate abc==`): carried, not used.
                        scanner.skip { $0 == UInt8(ascii: "=") }
                        first = false
                        continue
                    }
                    scanner.position = mark
                    if !name.isEmpty { break parameters }
                    if scanner.peek == UInt8(ascii: ",") { scanner.position += 1; continue }
                    throw ParseError.malformed("unexpected character at offset \(scanner.position)")
                }
                scanner.position += 1
                scanner.skipSpaces()
                let value: String
                if scanner.peek == UInt8(ascii: "\"") {
                    value = try scanner.quoted()
                } else {
                    value = scanner.token()
                }
                challenge.parameters[name.lowercased()] = value
                guard challenge.parameters.count <= maxParameters else { throw ParseError.malformed("more than \(maxParameters) parameters") }
                first = false
                scanner.skipSpaces()
                if scanner.peek == UInt8(ascii: ",") {
                    scanner.position += 1
                    continue
                }
                if scanner.atEnd { break }
                throw ParseError.malformed("expected ',' after parameter \(Printable.quoted(name))")
            }
            challenges.append(challenge)
        }
        guard !challenges.isEmpty else { throw ParseError.malformed("no challenge") }
        return challenges
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[position] }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while let byte = peek, predicate(byte) { position += 1 }
        }

        mutating func skipSpaces() { skip { $0 == 0x20 || $0 == 0x09 } }

        /// RFC 7230 tchar, plus '/' so token68 values and bare URLs survive.
        mutating func token() -> String {
            let start = position
            skip { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                    || "!#$%&'*+-.^_`|~/:".utf8.contains(byte)
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func quoted() throws -> String {
            position += 1
            var out: [UInt8] = []
            while let byte = peek {
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = peek else { throw ParseError.malformed("unterminated escape") }
                    out.append(escaped)
                    position += 1
                case 0x00..<0x20 where byte != 0x09, 0x7f:
                    throw ParseError.malformed("control character in a quoted value")
                default:
                    out.append(byte)
                }
            }
            throw ParseError.malformed("unterminated quoted string")
        }
    }
}
