import XCTest

final class DevenvRuntimeTestsPlaceholder: XCTestCase {}
