@testable import DevenvTestSupport
import XCTest

final class IntegrationTestsPlaceholder: XCTestCase {}
