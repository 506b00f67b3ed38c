@testable import DevenvRuntime
import Testing

/// Which exits a service's init follows with another run, per `restart` policy.
@Suite struct ServiceRestartTests {
    @Test func eachPolicyRestartsAfterTheExitsItNames() {
        let exits: [DevenvRuntime.ExitStatus] = [.exited(0), .exited(1), .exited(255), .signaled(9)]
        #expect(exits.map(ServiceRestart.never.restarts) == [false, false, false, false])
        #expect(exits.map(ServiceRestart.onFailure.restarts) == [false, true, true, true])
        #expect(exits.map(ServiceRestart.always.restarts) == [true, true, true, true], "a clean exit too")
    }
}
