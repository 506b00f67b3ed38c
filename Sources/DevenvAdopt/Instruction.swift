import DevenvOCI
import DevenvText

/// One Dockerfile instruction with its arguments interpreted but nothing expanded yet:
/// variables are substituted when the stage is planned, with the values in effect there.
public struct Instruction: Equatable, Sendable {
    /// Upper case (`RUN`), whatever case the file uses.
    public var keyword: String
    public var location: SourceLocation
    public var command: Command

    public init(keyword: String, location: SourceLocation, command: Command) {
        self.keyword = keyword
        self.location = location
        self.command = command
    }
}

/// A command line: the shell form (run with the stage's SHELL) or the exec form (JSON).
public enum CommandForm: Equatable, Sendable {
    case shell(Word)
    case exec([String])
}

/// `NAME=VALUE` (or the legacy `NAME VALUE`) of ENV and LABEL, both parts as written.
public struct KeyValue: Equatable, Sendable {
    public var key: Word
    public var value: Word

    public init(key: Word, value: Word) {
        self.key = key
        self.value = value
    }
}

/// `ARG NAME` or `ARG NAME=default`.
public struct ArgDeclaration: Equatable, Sendable {
    public var name: Word
    public var defaultValue: Word?

    public init(name: Word, defaultValue: Word?) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

public enum Command: Equatable, Sendable {
    public struct From: Equatable, Sendable {
        public var image: Word
        /// As written; stage names compare case-insensitively.
        public var stageName: Word?
        public var platform: Word?
    }

    public struct Run: Equatable, Sendable {
        public var form: CommandForm
        /// `--mount=...` values as written.
        public var mounts: [Word]
        public var network: Word?
        public var security: Word?
        public var heredocs: [Heredoc]
    }

    public struct Copy: Equatable, Sendable {
        /// ADD rather than COPY.
        public var isAdd: Bool
        /// Sources as written; heredoc markers (`<<EOF`) stand for `heredocs`.
        public var sources: [Word]
        public var destination: Word
        public var from: Word?
        public var chown: Word?
        public var chmod: Word?
        /// ADD `--checksum=sha256:…` for URL sources.
        public var checksum: Word?
        /// ADD `--keep-git-dir` for git sources.
        public var keepGitDir: Word?
        /// Flags devenv recognises but does not implement (`--parents`, `--exclude`...).
        public var unsupportedFlags: [Word]
        public var heredocs: [Heredoc]
        /// The JSON form: no quote processing in the words.
        public var json: Bool
    }

    case from(From)
    case arg([ArgDeclaration])
    case env([KeyValue])
    case label([KeyValue])
    case run(Run)
    case cmd(CommandForm)
    case entrypoint(CommandForm)
    case shell([String])
    case workdir(Word)
    case user(Word)
    case copy(Copy)
    case expose([Word])
    case volume([Word], json: Bool)
    case stopSignal(Word)
    case maintainer(Word)
    /// Docker's health check, as BuildKit records it in the image config.
    case healthcheck(ImageConfig.Healthcheck)
    /// A trigger for images built on this one: the instruction's text as written (after
    /// ONBUILD), already checked to be a valid instruction.
    case onBuild(String)
}

/// A build stage: its FROM and the instructions up to the next FROM.
public struct Stage: Equatable, Sendable {
    /// 0-based position in the file.
    public var index: Int
    public var from: Command.From
    public var location: SourceLocation
    public var instructions: [Instruction]

    /// The stage's name in lower case, if it has one.
    public var name: String? { from.stageName?.value.lowercased() }

    /// How messages name it: its name, or its number.
    public var displayName: String { name ?? String(index) }
}
