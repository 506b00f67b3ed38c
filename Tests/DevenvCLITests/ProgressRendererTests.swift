@testable import DevenvBuild
@testable import DevenvCLI
import DevenvOCI
import DevenvRegistry
import Foundation
import Testing

/// The renderer is pure: events and a width in, lines out.
@Suite struct ProgressRendererTests {
    private func blob(_ seed: String, size: Int64) -> Descriptor {
        Descriptor(mediaType: MediaType.layerTarGzip, digest: Digest.sha256(Data(seed.utf8)), size: size)
    }

    private func outcome(_ number: Int, miss: MissReason?, seconds: Double = 1.25) -> StepOutcome {
        StepOutcome(number: number, summary: "run make", location: ".devenv/devenv.toml:5", key: Digest.sha256(Data("k\(number)".utf8)),
                    missReason: miss, seconds: seconds)
    }

    /// Issue 17: at 45 columns one pull printed the same layer line 90 times, because
    /// lines wider than the terminal wrapped and the redraw moved up too few rows.
    @Test func liveLinesNeverReachTheTerminalWidth() {
        for width in [20, 45, 80] {
            var renderer = ProgressRenderer(style: .tty(color: false), width: width)
            let layers = (0..<3).map { blob("layer\($0)", size: 50_000_000) }
            _ = renderer.handle(.transfer(.pull, .resolved(manifest: blob("m", size: 100), blobs: layers)), now: 0)
            for layer in layers { _ = renderer.handle(.transfer(.pull, .started(layer)), now: 0) }
            _ = renderer.handle(.stepStarted(number: 1, total: 3, summary: String(repeating: "very long step ", count: 10)), now: 0)
            for second in 1...5 {
                for layer in layers {
                    _ = renderer.handle(.transfer(.pull, .progress(layer, completed: Int64(second) * 5_000_000)), now: Double(second))
                }
                let live = renderer.live(now: Double(second))
                #expect(live.count == 4, "one line per active layer and the step")
                #expect(live.allSatisfy { $0.unicodeScalars.count <= width - 1 }, "\(width): \(live)")
            }
        }
    }

    @Test func activeLayersShowBytesRateAndETA() {
        var renderer = ProgressRenderer(style: .tty(color: false), width: 120)
        let layer = blob("a", size: 10_000_000)
        _ = renderer.handle(.transfer(.pull, .started(layer)), now: 10)
        _ = renderer.handle(.transfer(.pull, .progress(layer, completed: 5_000_000)), now: 12)
        let line = renderer.live(now: 12).first ?? ""
        #expect(line.contains("5.0 MB / 10.0 MB"), "\(line)")
        #expect(line.contains("2.5 MB/s"), "\(line)")
        #expect(line.contains("ETA 2.0s"), "\(line)")
        // Narrow: the bar goes first, then the ETA; the bytes stay.
        renderer.width = 45
        let narrow = renderer.live(now: 12).first ?? ""
        #expect(narrow.contains("5.0 MB / 10.0 MB") && !narrow.contains("["), "\(narrow)")
    }

    @Test func finishedLayersCollapseIntoOneSummary() {
        var renderer = ProgressRenderer(style: .tty(color: false), width: 80)
        let layers = [blob("a", size: 1_000_000), blob("b", size: 3_000_000), blob("c", size: 5)]
        _ = renderer.handle(.transfer(.pull, .resolved(manifest: blob("m", size: 1), blobs: layers)), now: 0)
        _ = renderer.handle(.transfer(.pull, .skipped(layers[2], .present)), now: 0)
        #expect(renderer.live(now: 0).count == 2, "a layer already present takes no line")
        _ = renderer.handle(.transfer(.pull, .finished(layers[0])), now: 1)
        #expect(renderer.live(now: 1).count == 1)
        _ = renderer.handle(.transfer(.pull, .finished(layers[1])), now: 2)
        let summary = renderer.handle(.transfersEnded(.pull), now: 2)
        #expect(summary == ["pulled 2 blobs (4.0 MB) in 2.0s at 2.0 MB/s; 1 already in the store"], "\(summary)")
        #expect(renderer.live(now: 2).isEmpty)
    }

    @Test func aStepHeaderStandsOnItsOwnLineBeforeItsOutput() {
        var renderer = ProgressRenderer(style: .tty(color: false), width: 80)
        #expect(renderer.handle(.stepStarted(number: 1, total: 2, summary: "run make"), now: 0).isEmpty)
        #expect(renderer.live(now: 0) == ["[1/2] run make"], "a transient status while the cache is looked up")
        #expect(renderer.handle(.stepRunning(number: 1, total: 2, summary: "run make"), now: 0) == ["[1/2] run make"])
        #expect(renderer.live(now: 0).isEmpty, "nothing is drawn under the step's output")
        let result = renderer.handle(.stepFinished(outcome(1, miss: .firstBuild), total: 2, explain: false), now: 1)
        #expect(result == ["step 1/2 .devenv/devenv.toml:5: run make: rebuilt (not built before) 1.25s"])
        #expect(renderer.handle(.stepFinished(outcome(2, miss: nil), total: 2, explain: false), now: 1).isEmpty, "a hit is silent without --explain")
        #expect(renderer.handle(.stepFinished(outcome(2, miss: nil), total: 2, explain: true), now: 1)
                == ["step 2/2 .devenv/devenv.toml:5: run make: cached; layer reproducible only if the command is"])
        var copy = outcome(2, miss: nil)
        copy.reproducible = true
        #expect(renderer.handle(.stepFinished(copy, total: 2, explain: true), now: 1) == ["step 2/2 .devenv/devenv.toml:5: run make: cached; layer reproducible"])
    }

    @Test func plainModeIsHeaderOutputResultAndNeverALiveBlock() {
        var renderer = ProgressRenderer(style: .plain, width: 20)
        #expect(renderer.handle(.stepStarted(number: 1, total: 1, summary: "run a step wider than twenty columns"), now: 0).isEmpty)
        #expect(renderer.handle(.stepRunning(number: 1, total: 1, summary: "run a step wider than twenty columns"), now: 0)
            == ["[1/1] run a step wider than twenty columns"], "plain lines are not cut")
        let layer = blob("a", size: 100)
        _ = renderer.handle(.transfer(.pull, .started(layer)), now: 0)
        _ = renderer.handle(.transfer(.pull, .progress(layer, completed: 50)), now: 0)
        #expect(renderer.live(now: 0).isEmpty)
        let retry = renderer.handle(.transfer(.pull, .retrying(layer, attempt: 2, reason: "HTTP 503")), now: 0)
        #expect(retry == ["pull \(layer.digest.short): retrying (attempt 2): HTTP 503"])
    }

    @Test func colourOnlyWhenAllowed() {
        var coloured = ProgressRenderer(style: .tty(color: true), width: 80)
        #expect(coloured.handle(.stepRunning(number: 1, total: 1, summary: "run x"), now: 0) == ["\u{1b}[1m[1/1] run x\u{1b}[0m"])
        var plain = ProgressRenderer(style: .tty(color: false), width: 80)
        #expect(plain.handle(.stepRunning(number: 1, total: 1, summary: "run x"), now: 0) == ["[1/1] run x"])
    }

    @Test func jsonIsOneObjectPerEvent() throws {
        var renderer = ProgressRenderer(style: .json, width: 80)
        let layer = blob("a", size: 100)
        var lines: [String] = []
        lines += renderer.handle(.stepRunning(number: 1, total: 2, summary: "run \"quoted\"\nnext"), now: 0)
        lines += renderer.handle(.stepFinished(outcome(1, miss: .noCache), total: 2, explain: false), now: 1)
        lines += renderer.handle(.transfer(.pull, .started(layer)), now: 0)
        lines += renderer.handle(.transfer(.pull, .progress(layer, completed: 10)), now: 0)
        lines += renderer.handle(.transfer(.pull, .progress(layer, completed: 20)), now: 0.01)
        lines += renderer.handle(.transfer(.pull, .finished(layer)), now: 0.02)
        lines += renderer.handle(.transfersEnded(.pull), now: 0.02)
        #expect(lines.count == 6, "progress within a tenth of a second is thinned out: \(lines)")
        let objects = try lines.map { line -> [String: Any] in
            #expect(!line.contains("\n"))
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["event"] as? String } == ["step-running", "step-finished", "transfer", "transfer", "transfer", "transfers-ended"])
        #expect(objects[0]["summary"] as? String == "run \"quoted\"\nnext")
        #expect(objects[1]["cached"] as? Bool == false && objects[1]["reason"] as? String == "--no-cache")
        #expect(objects[3]["phase"] as? String == "progress" && objects[3]["completed"] as? Int == 10)
        #expect(objects[5]["transferred"] as? Int == 1 && objects[5]["bytes"] as? Int == 100)
    }
}
