import DevenvOCI
import DevenvText

/// Interprets one instruction's arguments: flags, JSON or shell form, name=value lists.
/// Nothing is expanded here; every value keeps where it was written.
struct InstructionParser {
    static let keywords = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                           "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]
    /// Flags each instruction accepts; a repeatable flag is marked with `*`.
    static let flags: [String: [String]] = [
        "FROM": ["platform"],
        "RUN": ["mount*", "network", "security"],
        "COPY": ["from", "chown", "chmod", "link", "parents", "exclude*"],
        "ADD": ["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude*"],
        "HEALTHCHECK": ["interval", "timeout", "start-period", "start-interval", "retries"],
    ]

    let escape: Unicode.Scalar
    private(set) var diagnostics: [Diagnostic] = []

    init(escape: Unicode.Scalar) {
        self.escape = escape
    }

    struct Flag {
        var name: String
        var value: Word?
        var location: SourceLocation
        var width: Int
    }

    mutating func parse(_ raw: RawInstruction) -> Instruction? {
        let keyword = raw.keyword.value.uppercased()
        guard Self.keywords.contains(keyword) else {
            var message = "unknown instruction '\(Printable.escape(raw.keyword.value))'"
            if let suggestion = Self.suggestion(for: keyword) { message += " (did you mean '\(suggestion)'?)" }
            report(message, at: raw.keyword.location, width: raw.keyword.width)
            return nil
        }
        let (flags, rest) = self.flags(raw.arguments)
        guard checkFlags(flags, keyword: keyword) else { return nil }
        var arguments = raw.arguments
        arguments.scalars = Array(arguments.scalars[rest...])
        arguments.locations = Array(arguments.locations[rest...])
        let context = Context(keyword: keyword, location: raw.location, keywordWidth: raw.keyword.width, flags: flags,
                              arguments: arguments, heredocs: raw.heredocs)
        guard let command = command(context) else { return nil }
        return Instruction(keyword: keyword, location: raw.location, command: command)
    }

    struct Context {
        var keyword: String
        var location: SourceLocation
        var keywordWidth: Int
        var flags: [Flag]
        var arguments: LogicalLine
        var heredocs: [Heredoc]

        func flag(_ name: String) -> Word? {
            guard let flag = flags.last(where: { $0.name == name }) else { return nil }
            return flag.value ?? Word("true", at: flag.location, width: flag.width)
        }

        func all(_ name: String) -> [Word] {
            flags.filter { $0.name == name }.map { $0.value ?? Word("", at: $0.location, width: $0.width) }
        }

        /// The arguments as one word (WORKDIR, USER, STOPSIGNAL...).
        var whole: Word? {
            var end = arguments.scalars.count
            while end > 0 && SourceText.isBlank(arguments.scalars[end - 1]) { end -= 1 }
            return end == 0 ? nil : arguments.word(0..<end)
        }

        var isEmpty: Bool { arguments.scalars.allSatisfy(SourceText.isBlank) }
    }

    // MARK: Commands

    private mutating func command(_ context: Context) -> Command? {
        switch context.keyword {
        case "FROM": return from(context)
        case "ARG": return arg(context)
        case "ENV": return nameValues(context).map(Command.env)
        case "LABEL": return nameValues(context).map(Command.label)
        case "RUN": return run(context)
        case "CMD": return commandForm(context).map(Command.cmd)
        case "ENTRYPOINT": return commandForm(context).map(Command.entrypoint)
        case "SHELL":
            switch JSONArray.parse(context.arguments.scalars) {
            case let .strings(shell) where !shell.isEmpty: return .shell(shell)
            case .notStrings: return fail(JSONArray.notStringsMessage, context)
            default: return fail("SHELL requires its arguments in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]", context)
            }
        case "WORKDIR": return single(context).map(Command.workdir)
        case "USER": return single(context).map(Command.user)
        case "STOPSIGNAL": return single(context).map(Command.stopSignal)
        case "MAINTAINER": return single(context).map(Command.maintainer)
        case "COPY", "ADD": return copy(context)
        case "EXPOSE":
            let ports = whitespaceWords(context.arguments)
            return ports.isEmpty ? fail("EXPOSE requires at least one port", context) : .expose(ports)
        case "VOLUME":
            switch JSONArray.parse(context.arguments.scalars) {
            case let .strings(paths): return .volume(paths.map { Word($0, at: context.arguments.location(0)) }, json: true)
            case .notStrings: return fail(JSONArray.notStringsMessage, context)
            case .notJSON: break
            }
            let paths = whitespaceWords(context.arguments)
            return paths.isEmpty ? fail("VOLUME requires at least one path", context) : .volume(paths, json: false)
        case "HEALTHCHECK": return healthcheck(context).map(Command.healthcheck)
        default: return onBuild(context).map(Command.onBuild)
        }
    }

    /// `HEALTHCHECK NONE` or `HEALTHCHECK [flags] CMD command` (exec or shell form), as
    /// BuildKit's parseHealthcheck reads it. The command is not expanded.
    private mutating func healthcheck(_ context: Context) -> ImageConfig.Healthcheck? {
        let scalars = context.arguments.scalars
        let typeEnd = scalars.firstIndex(where: { $0.properties.isWhitespace }) ?? scalars.count
        guard typeEnd > 0 else { return fail("HEALTHCHECK requires at least one argument (NONE, or CMD and a command)", context) }
        let kind = context.arguments.text(0..<typeEnd).uppercased()
        var rest = context.arguments
        let restStart = scalars[typeEnd...].firstIndex { !$0.properties.isWhitespace } ?? scalars.count
        rest.scalars = Array(scalars[restStart...])
        rest.locations = Array(context.arguments.locations[min(restStart, context.arguments.locations.count)...])
        let commandContext = Context(keyword: context.keyword, location: context.location, keywordWidth: context.keywordWidth,
                                     flags: [], arguments: rest, heredocs: [])
        switch kind {
        case "NONE":
            guard commandContext.isEmpty else { return fail("HEALTHCHECK NONE takes no arguments", context) }
            return ImageConfig.Healthcheck(test: ["NONE"])
        case "CMD":
            let test: [String]
            switch JSONArray.parse(rest.scalars) {
            case let .strings(arguments): test = ["CMD"] + arguments
            case .notStrings: return fail(JSONArray.notStringsMessage, context)
            case .notJSON: test = commandContext.whole.map { ["CMD-SHELL", $0.value] } ?? []
            }
            guard test.count > 1 else { return fail("Missing command after HEALTHCHECK CMD", context) }
            var healthcheck = ImageConfig.Healthcheck(test: test)
            var valid = true
            func duration(_ name: String) -> Int64? {
                guard let word = context.flag(name) else { return nil }
                switch GoDuration.parse(word.value) {
                case let .success(nanoseconds):
                    if nanoseconds == 0 { return nil }
                    if nanoseconds >= 1_000_000 { return nanoseconds }
                    report("HEALTHCHECK --\(name) cannot be less than 1ms", at: word.location, width: word.width)
                case let .failure(failure):
                    report("HEALTHCHECK --\(name): \(failure.description)", at: word.location, width: word.width)
                }
                valid = false
                return nil
            }
            healthcheck.interval = duration("interval")
            healthcheck.timeout = duration("timeout")
            healthcheck.startPeriod = duration("start-period")
            healthcheck.startInterval = duration("start-interval")
            if let word = context.flag("retries") {
                if let retries = Int32(word.value), retries >= 0 {
                    healthcheck.retries = retries == 0 ? nil : Int(retries)
                } else {
                    report("HEALTHCHECK --retries must be a whole number from 0 to \(Int32.max), not '\(Printable.escape(word.value))'", at: word.location, width: word.width)
                    valid = false
                }
            }
            return valid ? healthcheck : nil
        default:
            return fail("unknown type '\(Printable.escape(kind))' in HEALTHCHECK (try CMD)", context)
        }
    }

    /// `ONBUILD INSTRUCTION ...`: the trigger must itself be a valid instruction (but not
    /// ONBUILD, FROM or MAINTAINER); it is recorded as written, with any heredocs.
    private mutating func onBuild(_ context: Context) -> String? {
        let scalars = context.arguments.scalars
        let keywordEnd = scalars.firstIndex(where: SourceText.isBlank) ?? scalars.count
        guard keywordEnd > 0 else { return fail("ONBUILD requires an instruction to run later (ONBUILD RUN make)", context) }
        let keyword = context.arguments.word(0..<keywordEnd)
        let name = keyword.value.uppercased()
        if name == "ONBUILD" { return fail("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", context) }
        if name == "FROM" || name == "MAINTAINER" { return fail("\(name) isn't allowed as an ONBUILD trigger", context) }
        var arguments = context.arguments
        let argumentsStart = scalars[keywordEnd...].firstIndex { !SourceText.isBlank($0) } ?? scalars.count
        arguments.scalars = Array(scalars[argumentsStart...])
        arguments.locations = Array(context.arguments.locations[min(argumentsStart, context.arguments.locations.count)...])
        guard parse(RawInstruction(keyword: keyword, arguments: arguments, heredocs: context.heredocs)) != nil else { return nil }
        var expression = context.whole?.value ?? ""
        for heredoc in context.heredocs { expression += "\n" + heredoc.content + heredoc.name }
        return expression
    }

    private mutating func from(_ context: Context) -> Command? {
        let words = ShellWords.split(context.arguments.scalars, escape: escape)
        let located = words.map { context.arguments.word($0.start..<($0.start + $0.count)) }
        guard words.count == 1 || (words.count == 3 && words[1].text.lowercased() == "as") else {
            return fail("FROM requires either one argument (FROM image) or three (FROM image AS name)", context)
        }
        if words.count == 3 {
            let name = words[2].text.lowercased()
            let valid = name.unicodeScalars.first.map { ("a"..."z").contains($0) } ?? false
                && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
            if !valid {
                report("invalid stage name '\(Printable.escape(words[2].text))': it must start with a letter and contain only letters, digits, '-', '_' and '.'",
                       at: located[2].location, width: located[2].width)
                return nil
            }
        }
        return .from(Command.From(image: located[0], stageName: words.count == 3 ? located[2] : nil, platform: context.flag("platform")))
    }

    private mutating func arg(_ context: Context) -> Command? {
        let words = ShellWords.split(context.arguments.scalars, escape: escape)
        guard !words.isEmpty else { return fail("ARG requires at least one argument (ARG NAME or ARG NAME=default)", context) }
        var declarations: [ArgDeclaration] = []
        for word in words {
            let located = context.arguments.word(word.start..<(word.start + word.count))
            if let equals = word.text.firstIndex(of: "=") {
                let name = String(word.text[..<equals])
                guard !name.isEmpty else {
                    report("ARG: missing the name before '='", at: located.location, width: located.width)
                    return nil
                }
                let valueStart = word.start + name.unicodeScalars.count + 1
                declarations.append(ArgDeclaration(name: Word(name, at: located.location, width: name.unicodeScalars.count),
                                                   defaultValue: context.arguments.word(valueStart..<(word.start + word.count))))
            } else {
                declarations.append(ArgDeclaration(name: located, defaultValue: nil))
            }
        }
        return .arg(declarations)
    }

    /// `NAME=VALUE ...`, or the legacy `NAME VALUE` where the value is the rest of the line.
    private mutating func nameValues(_ context: Context) -> [KeyValue]? {
        let words = ShellWords.split(context.arguments.scalars, escape: escape)
        guard let first = words.first else {
            return fail("\(context.keyword) requires at least one argument (\(context.keyword) NAME=VALUE ...)", context)
        }
        if !first.text.contains("=") {
            guard words.count >= 2 else {
                return fail("\(context.keyword) \(first.text) has no value: write \(context.keyword) \(first.text)=VALUE", context)
            }
            var end = context.arguments.scalars.count
            while end > 0 && SourceText.isBlank(context.arguments.scalars[end - 1]) { end -= 1 }
            return [KeyValue(key: context.arguments.word(first.start..<(first.start + first.count)),
                             value: context.arguments.word(words[1].start..<end))]
        }
        var pairs: [KeyValue] = []
        for word in words {
            let located = context.arguments.word(word.start..<(word.start + word.count))
            guard let equals = word.text.firstIndex(of: "=") else {
                report("\(context.keyword): '\(Printable.escape(word.text))' is not of the form NAME=VALUE", at: located.location, width: located.width)
                return nil
            }
            let key = String(word.text[..<equals])
            guard !key.isEmpty else {
                report("\(context.keyword): missing the name before '='", at: located.location, width: located.width)
                return nil
            }
            let keyLength = key.unicodeScalars.count
            pairs.append(KeyValue(key: Word(key, at: located.location, width: keyLength),
                                  value: context.arguments.word((word.start + keyLength + 1)..<(word.start + word.count))))
        }
        return pairs
    }

    private mutating func run(_ context: Context) -> Command? {
        guard let form = commandForm(context) else { return nil }
        return .run(Command.Run(form: form, mounts: context.all("mount"), network: context.flag("network"),
                                security: context.flag("security"), heredocs: context.heredocs))
    }

    private mutating func commandForm(_ context: Context) -> CommandForm? {
        switch JSONArray.parse(context.arguments.scalars) {
        case let .strings(arguments): return .exec(arguments)
        case .notStrings: return fail(JSONArray.notStringsMessage, context)
        case .notJSON: break
        }
        guard let text = context.whole else { return fail("\(context.keyword) requires a command", context) }
        return .shell(text)
    }

    private mutating func single(_ context: Context) -> Word? {
        guard let word = context.whole else { return fail("\(context.keyword) requires an argument", context) }
        return word
    }

    private mutating func copy(_ context: Context) -> Command? {
        var words: [Word]
        var json = false
        switch JSONArray.parse(context.arguments.scalars) {
        case let .strings(list):
            words = list.map { Word($0, at: context.arguments.location(0), width: 1) }
            json = true
        case .notStrings:
            return fail(JSONArray.notStringsMessage, context)
        case .notJSON:
            words = whitespaceWords(context.arguments)
        }
        guard words.count >= 2 else {
            return fail("\(context.keyword) requires at least two arguments: one or more sources and a destination", context)
        }
        let destination = words.removeLast()
        var unsupported: [Word] = []
        for name in ["parents", "exclude"] {
            if let flag = context.flags.first(where: { $0.name == name }) {
                unsupported.append(Word("--" + name, at: flag.location, width: flag.width))
            }
        }
        return .copy(Command.Copy(isAdd: context.keyword == "ADD", sources: words, destination: destination, from: context.flag("from"),
                                  chown: context.flag("chown"), chmod: context.flag("chmod"), checksum: context.flag("checksum"), keepGitDir: context.flag("keep-git-dir"), unsupportedFlags: unsupported,
                                  heredocs: context.heredocs, json: json))
    }

    // MARK: Words and flags

    /// Words separated by whitespace, quotes and all (COPY, EXPOSE and VOLUME split this way).
    private func whitespaceWords(_ line: LogicalLine) -> [Word] {
        var words: [Word] = []
        var start: Int?
        for index in 0...line.scalars.count {
            let blank = index == line.scalars.count || SourceText.isBlank(line.scalars[index]) || line.scalars[index] == "\n"
            if blank, let begin = start {
                words.append(line.word(begin..<index))
                start = nil
            } else if !blank && start == nil {
                start = index
            }
        }
        return words
    }

    /// Where the arguments start after the leading flags.
    static func argumentsStart(_ scalars: [Unicode.Scalar], escape: Unicode.Scalar) -> Int {
        var line = LogicalLine(end: .start)
        line.scalars = scalars
        return InstructionParser(escape: escape).flags(line).1
    }

    /// Leading `--name[=value]` words, and where the arguments after them start. A `--` word
    /// ends the flags (`COPY -- --weird /dst` copies `--weird`), as in BuildKit.
    private func flags(_ line: LogicalLine) -> ([Flag], Int) {
        var flags: [Flag] = []
        var rest = line.scalars.count
        for word in ShellWords.split(line.scalars, escape: escape) {
            if word.text == "--" {
                rest = line.scalars[(word.start + word.count)...].firstIndex { !SourceText.isBlank($0) } ?? line.scalars.count
                break
            }
            guard word.text.hasPrefix("--") else {
                rest = word.start
                break
            }
            let body = word.text.dropFirst(2)
            let location = line.location(word.start)
            if let equals = body.firstIndex(of: "=") {
                let name = String(body[..<equals])
                let valueStart = word.start + 2 + name.unicodeScalars.count + 1
                flags.append(Flag(name: name, value: line.word(valueStart..<(word.start + word.count)), location: location, width: word.count))
            } else {
                flags.append(Flag(name: String(body), value: nil, location: location, width: word.count))
            }
        }
        return (flags, rest)
    }

    private mutating func checkFlags(_ flags: [Flag], keyword: String) -> Bool {
        let allowed = Self.flags[keyword] ?? []
        var seen = Set<String>()
        var valid = true
        for flag in flags {
            let repeatable = allowed.contains(flag.name + "*")
            guard repeatable || allowed.contains(flag.name) else {
                let known = allowed.map { "--" + $0.replacingOccurrences(of: "*", with: "") }
                report("unknown flag '--\(Printable.escape(flag.name))' for \(keyword)" + (known.isEmpty ? " (it takes none)" : " (it takes \(known.joined(separator: ", ")))"),
                       at: flag.location, width: flag.width)
                valid = false
                continue
            }
            if !repeatable && !seen.insert(flag.name).inserted {
                report("duplicate flag '--\(flag.name)'", at: flag.location, width: flag.width)
                valid = false
            }
            let booleans: Set<String> = ["link", "parents", "keep-git-dir"]
            if flag.value == nil && !booleans.contains(flag.name) {
                report("flag '--\(flag.name)' needs a value (--\(flag.name)=...)", at: flag.location, width: flag.width)
                valid = false
            }
        }
        return valid
    }

    // MARK: Reporting

    private mutating func fail<T>(_ message: String, _ context: Context) -> T? {
        report(message, at: context.location, width: context.keywordWidth)
        return nil
    }

    private mutating func report(_ message: String, at location: SourceLocation, width: Int = 1) {
        diagnostics.append(Diagnostic(message, at: location, width: width))
    }

    /// The closest known instruction within two edits, for "did you mean".
    static func suggestion(for keyword: String) -> String? {
        let candidates = keywords.map { ($0, distance(Array(keyword.utf8), Array($0.utf8))) }.filter { $0.1 <= 2 }
        return candidates.min { $0.1 < $1.1 }?.0
    }

    private static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard a.count < 64 else { return Int.max }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
