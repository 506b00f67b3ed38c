import XCTest

final class DevenvSeccompTestsPlaceholder: XCTestCase {}
