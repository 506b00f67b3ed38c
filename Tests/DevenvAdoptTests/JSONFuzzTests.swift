import Foundation
import Testing
import DevenvText
@testable import DevenvAdopt

/// A property test over generated and mutated JSON (seeded, so a failure reproduces):
/// the reader never traps, agrees with Foundation's JSONSerialization on every document
/// both accept, rejects what Foundation rejects (apart from the documented U+FFFD for
/// unpaired escaped surrogates) and locates every error inside the input. Interesting
/// inputs found this way are kept in Tests/Fixtures/json, each one a test case below.
struct JSONFuzzTests {
    static let cases = 4_000

    @Test func generatedDocumentsMatchFoundation() throws {
        var random = SplitMix64(seed: 0x15_0000_d0c5)
        for _ in 0..<Self.cases {
            let text = JSONGenerator.document(&random)
            let bytes = Array(text.utf8)
            let ours = try JSONReader.parse(bytes, dialect: .strict)
            let theirs = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            #expect(Self.same(ours, theirs), "differs from Foundation: \(text)")
            // Whatever JSONC adds, plain JSON reads the same.
            #expect(Self.same(try JSONReader.parse(bytes, dialect: .jsonc), theirs))
        }
    }

    @Test func mutatedDocumentsNeverTrapAndErrorsAreInRange() throws {
        var random = SplitMix64(seed: 0x15_0000_f022)
        var rejected = 0
        for _ in 0..<Self.cases {
            var bytes = Array(JSONGenerator.document(&random).utf8)
            for _ in 0..<(1 + random.below(3)) { JSONGenerator.mutate(&bytes, &random) }
            if try Self.check(bytes) == false { rejected += 1 }
        }
        // The mutations must actually exercise the error paths.
        #expect(rejected > Self.cases / 4)
    }

    @Test(arguments: JSONCorpus.files())
    func corpus(_ name: String) throws {
        _ = try Self.check(try JSONCorpus.bytes(name))
    }

    /// Checks one input in both dialects; returns whether the strict reader accepted it.
    @discardableResult
    static func check(_ bytes: [UInt8]) throws -> Bool {
        let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        var accepted = false
        do {
            let ours = try JSONReader.parse(bytes, dialect: .strict)
            accepted = true
            if let foundation {
                #expect(same(ours, foundation), "differs from Foundation: \(Printable.escape(String(decoding: bytes, as: UTF8.self)))")
            } else {
                #expect(hasEscapedSurrogate(bytes), "accepted what Foundation rejects: \(Printable.escape(String(decoding: bytes, as: UTF8.self)))")
            }
        } catch {
            expectInRange(error, bytes)
            #expect(foundation == nil || isFoundationLenient(bytes),
                    "rejected what Foundation accepts (\(error.message) at \(error.location)): \(Printable.escape(String(decoding: bytes, as: UTF8.self)))")
        }
        do {
            _ = try JSONReader.parse(bytes, dialect: .jsonc)
        } catch {
            expectInRange(error, bytes)
        }
        return accepted
    }

    static func expectInRange(_ error: Diagnostic, _ bytes: [UInt8]) {
        let lines = bytes.filter { $0 == UInt8(ascii: "\n") }.count + 1
        #expect(error.location.offset >= 0 && error.location.offset <= bytes.count)
        #expect(error.location.line >= 1 && error.location.line <= lines)
        #expect(error.location.column >= 1 && error.location.column <= bytes.count + 1)
        #expect(!error.message.isEmpty)
    }

    /// What swift-corelibs-foundation accepts beyond RFC 8259 (found by this test): trailing
    /// commas and a byte order mark (which our JSONC dialect accepts too), and NUL bytes
    /// outside strings (it stops reading at one, or skips a leading one).
    static func isFoundationLenient(_ bytes: [UInt8]) -> Bool {
        bytes.contains(0) || (try? JSONReader.parse(bytes, dialect: .jsonc)) != nil
    }

    static func hasEscapedSurrogate(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        return ["\\ud8", "\\ud9", "\\uda", "\\udb", "\\udc", "\\udd", "\\ude", "\\udf"].contains { text.contains($0) }
    }

    /// Our value against what JSONSerialization produced.
    static func same(_ ours: DevContainerJSON, _ theirs: Any) -> Bool {
        switch ours.value {
        case .null: return theirs is NSNull
        case let .bool(value): return (theirs as? NSNumber)?.boolValue == value
        case let .number(text):
            guard let number = theirs as? NSNumber, let expected = Double(text) else { return false }
            let actual = number.doubleValue
            return actual == expected || abs(actual - expected) <= abs(expected) * 1e-12
        case let .string(value): return (theirs as? String) == value
        case let .array(elements):
            guard let array = theirs as? [Any], array.count == elements.count else { return false }
            return zip(elements, array).allSatisfy { same($0, $1) }
        case let .object(members):
            guard let object = theirs as? [String: Any] else { return false }
            var last: [String: DevContainerJSON] = [:]
            for member in members { last[member.key] = member.value }
            return last.count == object.count && last.allSatisfy { key, value in object[key].map { same(value, $0) } ?? false }
        }
    }
}

/// Tests/Fixtures/json: inputs worth keeping (crashes, quadratic cases, boundary numbers).
enum JSONCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/json")

    static func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// A small, fast, seedable generator, so every run sees the same cases.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Valid JSON text: every value kind, escapes (including surrogate pairs), numbers in every
/// grammatical form, whitespace between tokens.
enum JSONGenerator {
    static func document(_ random: inout SplitMix64) -> String {
        space(&random) + value(&random, depth: 0) + space(&random)
    }

    static func value(_ random: inout SplitMix64, depth: Int) -> String {
        switch random.below(depth > 4 ? 5 : 7) {
        case 0: return "null"
        case 1: return random.below(2) == 0 ? "true" : "false"
        case 2, 3: return number(&random)
        case 4: return string(&random)
        case 5:
            let elements = (0..<random.below(5)).map { _ in space(&random) + value(&random, depth: depth + 1) + space(&random) }
            return "[" + (elements.isEmpty ? space(&random) : elements.joined(separator: ",")) + "]"
        default:
            var seen = Set<String>()
            var members: [String] = []
            for index in 0..<random.below(5) {
                let key = "k\(index)" + (random.below(3) == 0 ? "\\u00e9" : "")
                guard seen.insert(key).inserted else { continue }
                members.append(space(&random) + "\"\(key)\"" + space(&random) + ":" + space(&random) + value(&random, depth: depth + 1) + space(&random))
            }
            return "{" + (members.isEmpty ? space(&random) : members.joined(separator: ",")) + "}"
        }
    }

    static func number(_ random: inout SplitMix64) -> String {
        var text = random.below(3) == 0 ? "-" : ""
        text += random.below(4) == 0 ? "0" : String(1 + random.below(9)) + String(random.below(1_000_000))
        if random.below(2) == 0 { text += "." + String(random.below(100_000)) }
        if random.below(3) == 0 { text += ["e", "E"][random.below(2)] + ["", "+", "-"][random.below(3)] + String(random.below(30)) }
        return text
    }

    static func string(_ random: inout SplitMix64) -> String {
        let pieces = ["a", "Z", " ", "é", "😀", "日本", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
                      "\\u0041", "\\u00E9", "\\u2028", "\\uD83D\\uDE00", "\\ud834\\udd1e", "\\u0000", "\\u001f"]
        return "\"" + (0..<random.below(8)).map { _ in pieces[random.below(pieces.count)] }.joined() + "\""
    }

    static func space(_ random: inout SplitMix64) -> String {
        ["", "", " ", "\n", "\t", "\r\n", "  "][random.below(7)]
    }

    /// One random edit biased towards the bytes JSON's grammar cares about.
    static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let interesting = Array("{}[]:,\"\\/*-+.0123456789eEuDd tfn\n\t\u{0}".utf8) + [0x80, 0xC3, 0xED, 0xF4, 0xFF]
        let position = bytes.isEmpty ? 0 : random.below(bytes.count + 1)
        switch random.below(6) {
        case 0 where position < bytes.count: bytes.remove(at: position)
        case 1: bytes.insert(interesting[random.below(interesting.count)], at: position)
        case 2 where position < bytes.count: bytes[position] = interesting[random.below(interesting.count)]
        case 3: bytes = Array(bytes.prefix(position))
        case 4 where position < bytes.count:
            let end = min(bytes.count, position + 1 + random.below(8))
            bytes.insert(contentsOf: Array(bytes[position..<end]), at: position)
        default:
            let escapes = ["\\uD888\\u1234", "\\uDC00", "\\uD888", "-01", "2.", "1.0e+", ".5", "+1", "01", "/*", "//", ",]"]
            bytes.insert(contentsOf: Array(escapes[random.below(escapes.count)].utf8), at: position)
        }
    }
}
