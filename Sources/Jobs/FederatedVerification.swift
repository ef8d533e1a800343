import Foundation

/// How well a federated model has forgotten a client (issue: verification), measured without moving any
/// client's data: the clients evaluate the model on their own data and send counts and a sample of losses.
public struct FederatedVerification: Sendable, Codable, Equatable {
    public var testAccuracy: Double
    public var perClassTestAccuracy: [Double?]
    /// Triggered test images of non-target classes classified as the backdoor's target.
    public var backdoorSuccessRate: Double?
    /// Accuracy on the remaining clients' data (R-set) and on the forgotten client's data (U-set).
    public var remainingAccuracy: Double?
    public var forgottenAccuracy: Double?
    /// Membership-inference attack accuracy, the forgotten client's samples against test samples (0.5: cannot tell).
    public var membershipAttack: Double?
    /// Clients whose evaluation came back.
    public var clientsAnswered: Int

    public init(
        testAccuracy: Double, perClassTestAccuracy: [Double?], backdoorSuccessRate: Double?, remainingAccuracy: Double?,
        forgottenAccuracy: Double?, membershipAttack: Double?, clientsAnswered: Int
    ) {
        self.testAccuracy = testAccuracy
        self.perClassTestAccuracy = perClassTestAccuracy
        self.backdoorSuccessRate = backdoorSuccessRate
        self.remainingAccuracy = remainingAccuracy
        self.forgottenAccuracy = forgottenAccuracy
        self.membershipAttack = membershipAttack
        self.clientsAnswered = clientsAnswered
    }
}
