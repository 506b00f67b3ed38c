import DevenvText

/// A parsed Dockerfile: parser directives, the ARGs before the first FROM, and the stages.
/// Parsing is pure (bytes in, value out); `DockerfilePlanner` turns it into build steps.
/// See docs/dockerfile.md.
public struct Dockerfile: Equatable, Sendable {
    /// Largest Dockerfile accepted (heredocs can make them long).
    public static let maxFileSize = 4 << 20

    /// How messages name the file (`Dockerfile`, `docker/dev.Dockerfile`).
    public var path: String
    /// `\` unless an `# escape=` directive says `` ` ``.
    public var escape: Character
    /// Parser directives by lower-case name (`syntax`, `escape`, `check`).
    public var directives: [String: String]
    /// `ARG` instructions before the first `FROM`: they apply to FROM lines only.
    public var globalArguments: [Instruction]
    public var stages: [Stage]
    /// The file's bytes, so later errors can show the offending line.
    public var source: [UInt8]

    /// Parses a Dockerfile.
    /// - Throws: `DiagnosticError` (named after `path`) with every syntax error, each at its
    ///   line and column: `Dockerfile:12:1: error: unknown instruction 'RUNN' (did you mean 'RUN'?)`.
    public static func parse(_ bytes: [UInt8], path: String) throws -> Dockerfile {
        guard bytes.count <= maxFileSize else {
            throw error(path, bytes, [Diagnostic("the file is \(bytes.count) bytes long, over the limit of \(maxFileSize) bytes", at: .start)])
        }
        let text: SourceText
        do {
            text = try SourceText(bytes)
        } catch let invalid as SourceText.InvalidEncoding {
            let location = SourceLocation(line: invalid.line, column: invalid.column, offset: invalid.offset)
            throw error(path, bytes, [Diagnostic("invalid UTF-8 (byte 0x\(String(bytes[invalid.offset], radix: 16)))", at: location)])
        }
        var lexer = DockerfileLexer(source: text)
        lexer.run()
        var parser = InstructionParser(escape: lexer.escape)
        let instructions = lexer.instructions.compactMap { parser.parse($0) }
        var diagnostics = lexer.diagnostics + parser.diagnostics

        var globals: [Instruction] = []
        var stages: [Stage] = []
        for instruction in instructions {
            if case let .from(from) = instruction.command {
                stages.append(Stage(index: stages.count, from: from, location: instruction.location, instructions: []))
            } else if stages.isEmpty {
                if case .arg = instruction.command {
                    globals.append(instruction)
                } else {
                    diagnostics.append(Diagnostic("\(instruction.keyword) before the first FROM: only ARG may come before FROM",
                                                  at: instruction.location, width: instruction.keyword.count))
                }
            } else {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        if stages.isEmpty && diagnostics.isEmpty {
            diagnostics.append(Diagnostic("the Dockerfile has no FROM instruction", at: text.lines.last?.end ?? .start))
        }
        var names: [String: Stage] = [:]
        for stage in stages {
            guard let name = stage.name, let word = stage.from.stageName else { continue }
            if let earlier = names[name] {
                diagnostics.append(Diagnostic("duplicate stage name '\(Printable.escape(name))' (also on line \(earlier.location.line))",
                                              at: word.location, width: word.width))
            }
            names[name] = stage
        }
        guard diagnostics.isEmpty else { throw error(path, bytes, diagnostics) }
        return Dockerfile(path: path, escape: Character(lexer.escape), directives: lexer.directives, globalArguments: globals,
                          stages: stages, source: bytes)
    }

    /// The stage a `--target` or `FROM`/`--from` reference names: a stage name (any case)
    /// or a stage number.
    public func stage(named reference: String) -> Stage? {
        let lower = reference.lowercased()
        if let stage = stages.first(where: { $0.name == lower }) { return stage }
        if let number = Int(reference), stages.indices.contains(number) { return stages[number] }
        return nil
    }

    /// An error with the source lines attached, sorted by position.
    static func error(_ path: String, _ bytes: [UInt8], _ diagnostics: [Diagnostic]) -> DiagnosticError {
        DiagnosticError(path: path, source: bytes, diagnostics: diagnostics)
    }

    func error(_ diagnostics: [Diagnostic]) -> DiagnosticError {
        Self.error(path, source, diagnostics)
    }
}
