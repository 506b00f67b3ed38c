import DevenvBuild
import DevenvOCI
import DevenvRegistry
import Foundation

/// Turns progress events into lines, given a terminal width: pure, so it is tested without a
/// terminal. `handle` returns the lines to print for good; on a terminal (`.tty`) `live`
/// is the block redrawn below them (active transfers, the current activity), every line
/// cut to the width so that nothing wraps and redrawing never leaves copies behind.
struct ProgressRenderer {
    enum Style: Equatable, Sendable {
        case tty(color: Bool)
        case plain
        case json
    }

    let style: Style
    var width: Int

    private var status: String?
    private var blobs: [Blob] = []
    private var transferStart: Double?
    /// JSON progress events are thinned to ten a second per blob.
    private var lastJSON: [Digest: Double] = [:]

    private struct Blob {
        enum State { case waiting, sharing, active, retrying(Int), done, present, mounted(String) }
        var descriptor: Descriptor
        var state: State = .waiting
        var completed: Int64 = 0
        var started: Double?
        var finished: Double?

        var isSettled: Bool {
            switch state {
            case .done, .present, .mounted: return true
            default: return false
            }
        }
    }

    init(style: Style, width: Int) {
        self.style = style
        self.width = width
    }

    mutating func handle(_ event: ProgressEvent, now: Double) -> [String] {
        if style == .json { return json(event, now: now).map { [$0] } ?? [] }
        switch event {
        case let .message(text):
            return [text]
        case let .status(text):
            status = text
        case .statusEnded:
            status = nil
        case let .transfer(direction, transfer):
            return record(transfer, direction: direction, now: now)
        case let .transfersEnded(direction):
            return summary(direction, now: now)
        case let .unpacking(index, count, layer):
            status = "unpacking layer \(index + 1)/\(count) \(layer.short)"
        case let .stepStarted(number, total, summary):
            status = "[\(number)/\(total)] \(summary)"
        case let .stepRunning(number, total, summary):
            // On its own line before the step's output, which goes straight to the terminal.
            status = nil
            return [bold("[\(number)/\(total)] \(summary)")]
        case let .stepFinished(outcome, total, explain):
            status = nil
            if explain || outcome.missReason != nil { return [Self.result(outcome, total: total, explain: explain)] }
        }
        return []
    }

    /// The block under the printed lines (empty but on a terminal).
    func live(now: Double) -> [String] {
        guard case .tty = style else { return [] }
        var lines = blobs.filter { !$0.isSettled }.map { line(for: $0, now: now) }
        if let status { lines.append(status) }
        return lines.map(fit)
    }

    /// `step 2/3 .devenv/devenv.toml:9: run make: rebuilt (not built before) 1.20s`; with
    /// `--explain` also whether the step's layer is reproducible.
    static func result(_ outcome: StepOutcome, total: Int, explain: Bool = false) -> String {
        let status = outcome.missReason.map { "rebuilt (\($0))" } ?? "cached"
        let time = outcome.missReason == nil ? "" : String(format: " %.2fs", outcome.seconds)
        let layer = !explain ? "" : outcome.reproducible ? "; layer reproducible" : "; layer reproducible only if the command is"
        return "step \(outcome.number)/\(total) \(outcome.location): \(Printable.escape(outcome.summary, limit: 80)): \(status)\(time)\(layer)"
    }

    // MARK: Transfers

    private mutating func record(_ event: TransferEvent, direction: ProgressEvent.Direction, now: Double) -> [String] {
        switch event {
        case let .resolved(_, descriptors):
            if transferStart == nil { transferStart = now }
            for descriptor in descriptors where !blobs.contains(where: { $0.descriptor.digest == descriptor.digest }) {
                blobs.append(Blob(descriptor: descriptor))
            }
        case let .sharing(descriptor):
            update(descriptor) { $0.state = .sharing }
        case let .started(descriptor):
            update(descriptor) { blob in
                blob.state = .active
                if blob.started == nil { blob.started = now }
            }
        case let .progress(descriptor, completed):
            update(descriptor) { blob in
                blob.state = .active
                blob.completed = completed
                if blob.started == nil { blob.started = now }
            }
        case let .retrying(descriptor, attempt, reason):
            update(descriptor) { $0.state = .retrying(attempt) }
            return ["\(direction.rawValue) \(descriptor.digest.short): retrying (attempt \(attempt)): \(Printable.escape(reason, limit: 200))"]
        case let .skipped(descriptor, how):
            update(descriptor) { blob in
                if case let .mounted(from) = how { blob.state = .mounted(from) } else { blob.state = .present }
                blob.finished = now
            }
        case let .finished(descriptor):
            update(descriptor) { blob in
                blob.state = .done
                blob.completed = blob.descriptor.size
                blob.finished = now
            }
        }
        return []
    }

    private mutating func update(_ descriptor: Descriptor, _ change: (inout Blob) -> Void) {
        if let index = blobs.firstIndex(where: { $0.descriptor.digest == descriptor.digest }) {
            change(&blobs[index])
        } else {
            var blob = Blob(descriptor: descriptor)
            change(&blob)
            blobs.append(blob)
            if transferStart == nil { transferStart = now(blob) }
        }
    }

    private func now(_ blob: Blob) -> Double? { blob.started ?? blob.finished }

    /// `pulled 3 blobs (45.6 MB) in 2.3s at 19.8 MB/s; 1 already in the store`
    private mutating func summary(_ direction: ProgressEvent.Direction, now: Double) -> [String] {
        defer {
            blobs = []
            transferStart = nil
            lastJSON = [:]
        }
        guard !blobs.isEmpty else { return [] }
        let moved = blobs.filter { if case .done = $0.state { return true } else { return false } }
        let bytes = moved.reduce(Int64(0)) { $0 + $1.descriptor.size }
        let seconds = max(0, now - (transferStart ?? now))
        var parts: [String] = []
        let verb = direction == .pull ? "pulled" : "pushed"
        if moved.isEmpty {
            parts.append("\(verb) nothing")
        } else {
            var text = "\(verb) \(moved.count) blob\(moved.count == 1 ? "" : "s") (\(Self.bytes(bytes))) in \(Self.duration(seconds))"
            if seconds >= 0.05 { text += " at \(Self.bytes(Int64(Double(bytes) / seconds)))/s" }
            parts.append(text)
        }
        let present = blobs.filter { if case .present = $0.state { return true } else { return false } }.count
        if present > 0 { parts.append("\(present) already \(direction == .pull ? "in the store" : "in the registry")") }
        let mounted = blobs.filter { if case .mounted = $0.state { return true } else { return false } }.count
        if mounted > 0 { parts.append("\(mounted) mounted from another repository") }
        let unfinished = blobs.count - moved.count - present - mounted
        if unfinished > 0 { parts.append("\(unfinished) not finished") }
        return [parts.joined(separator: "; ")]
    }

    /// `a1b2c3d4e5f6  12.3 MB / 45.6 MB  3.4 MB/s  ETA 9s  [=====     ]`, shortened to fit:
    /// the bar goes first, then the ETA, then the rate.
    private func line(for blob: Blob, now: Double) -> String {
        let name = blob.descriptor.digest.short
        let size = Self.bytes(blob.descriptor.size)
        switch blob.state {
        case .waiting: return "\(name)  \(size)  waiting"
        case .sharing: return "\(name)  \(size)  another devenv is downloading it; waiting"
        case let .retrying(attempt): return "\(name)  \(size)  retrying (attempt \(attempt))"
        case .done, .present, .mounted: return "\(name)  \(size)  done"
        case .active:
            let elapsed = now - (blob.started ?? now)
            let rate = elapsed > 0.2 ? Double(blob.completed) / elapsed : nil
            var fields = ["\(name)", "\(Self.bytes(blob.completed)) / \(size)"]
            var optional: [String] = []
            if let rate, rate > 0 {
                optional.append("\(Self.bytes(Int64(rate)))/s")
                optional.append("ETA \(Self.duration(Double(max(0, blob.descriptor.size - blob.completed)) / rate))")
            }
            let fraction = blob.descriptor.size > 0 ? min(1, Double(blob.completed) / Double(blob.descriptor.size)) : 1
            let bar = "[" + String(repeating: "=", count: Int(fraction * 20)) + String(repeating: " ", count: 20 - Int(fraction * 20)) + "]"
            optional.append(bar)
            // Drop optional fields from the end until the line fits.
            while !optional.isEmpty, (fields + optional).joined(separator: "  ").count > width - 1 { optional.removeLast() }
            fields += optional
            return fields.joined(separator: "  ")
        }
    }

    /// At most `width - 1` columns: writing the last column makes some terminals wrap.
    func fit(_ line: String) -> String {
        let limit = max(1, width - 1)
        let scalars = Array(line.unicodeScalars)
        guard scalars.count > limit else { return line }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(max(0, limit - 1)))
        return String(view) + "…"
    }

    private func bold(_ text: String) -> String {
        guard case .tty(color: true) = style else { return text }
        return "\u{1b}[1m\(text)\u{1b}[0m"
    }

    static func bytes(_ count: Int64) -> String { Terminal.bytes(count) }

    static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return String(format: "%.1fs", seconds) }
        if seconds < 60 { return "\(Int(seconds.rounded()))s" }
        let total = Int(seconds.rounded())
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m"
    }

    // MARK: JSON

    /// One object per event (docs/progress.md); nil for a progress event thinned out.
    private mutating func json(_ event: ProgressEvent, now: Double) -> String? {
        var object: [String: Any]
        switch event {
        case let .message(text):
            object = ["event": "message", "text": text]
        case let .status(text):
            object = ["event": "status", "text": text]
        case .statusEnded:
            object = ["event": "status-ended"]
        case let .transfer(direction, transfer):
            if case let .progress(descriptor, completed) = transfer {
                if let last = lastJSON[descriptor.digest], now - last < 0.1, completed < descriptor.size { return nil }
                lastJSON[descriptor.digest] = now
            }
            object = Self.json(transfer)
            object["direction"] = direction.rawValue
            _ = record(transfer, direction: direction, now: now)
        case let .transfersEnded(direction):
            let moved = blobs.filter { if case .done = $0.state { return true } else { return false } }
            object = ["event": "transfers-ended", "direction": direction.rawValue, "blobs": blobs.count, "transferred": moved.count,
                      "bytes": moved.reduce(Int64(0)) { $0 + $1.descriptor.size }, "seconds": Self.rounded(now - (transferStart ?? now))]
            _ = summary(direction, now: now)
        case let .unpacking(index, count, layer):
            object = ["event": "unpack", "index": index + 1, "count": count, "digest": layer.description]
        case let .stepStarted(number, total, summary):
            object = ["event": "step-started", "number": number, "total": total, "summary": summary]
        case let .stepRunning(number, total, summary):
            object = ["event": "step-running", "number": number, "total": total, "summary": summary]
        case let .stepFinished(outcome, total, _):
            object = ["event": "step-finished", "number": outcome.number, "total": total, "summary": outcome.summary,
                      "location": outcome.location, "cached": outcome.missReason == nil, "key": outcome.key.description,
                      "seconds": Self.rounded(outcome.seconds)]
            if let reason = outcome.missReason { object["reason"] = reason.description }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private static func json(_ event: TransferEvent) -> [String: Any] {
        func blob(_ phase: String, _ descriptor: Descriptor) -> [String: Any] {
            ["event": "transfer", "phase": phase, "digest": descriptor.digest.description, "size": descriptor.size]
        }
        switch event {
        case let .resolved(manifest, descriptors):
            return ["event": "transfer", "phase": "resolved", "manifest": manifest.digest.description,
                    "blobs": descriptors.map { ["digest": $0.digest.description, "size": $0.size] as [String: Any] }]
        case let .sharing(descriptor): return blob("sharing", descriptor)
        case let .started(descriptor): return blob("started", descriptor)
        case let .progress(descriptor, completed):
            var object = blob("progress", descriptor)
            object["completed"] = completed
            return object
        case let .retrying(descriptor, attempt, reason):
            var object = blob("retrying", descriptor)
            object["attempt"] = attempt
            object["reason"] = reason
            return object
        case let .skipped(descriptor, how):
            var object = blob("skipped", descriptor)
            switch how {
            case .present: object["how"] = "present"
            case let .mounted(from):
                object["how"] = "mounted"
                object["from"] = from
            }
            return object
        case let .finished(descriptor): return blob("finished", descriptor)
        }
    }

    private static func rounded(_ seconds: Double) -> Double { (max(0, seconds) * 1000).rounded() / 1000 }
}
