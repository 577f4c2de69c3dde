// SKETCH (not compiled in CI: no Swift toolchain there). What an iOS app
// writes around the Spoor client; the Kotlin twin (examples/mobile/kotlin)
// is compiled in CI against the same interface.
import Foundation
import SpoorMobile

public final class ShopAnalytics {
    private let spoor: SpoorClient

    /// Call once at app start (it opens the queue in Application Support).
    public init(endpoint: String, writeKey: String, appVersion: String) throws {
        let support = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        spoor = try SpoorClient.configure(config: SpoorConfig(
            writeKey: writeKey,
            endpoint: endpoint,
            dataDir: support.appendingPathComponent("spoor").path,
            trackLifecycleEvents: true,
            context: ["app": ["name": "Shop", "version": .string(value: appVersion)], "os": ["name": "iOS"]]
        ))
    }

    /// From the consent screen: nothing is stored or sent before this.
    public func consentGiven(analytics: Bool) throws {
        if analytics { try spoor.setConsent(categories: ["analytics"]) } else { try spoor.optOut() }
    }

    public func loggedIn(userId: String, plan: String) throws {
        try spoor.identify(userId: userId, traits: ["plan": .string(value: plan)])
    }

    public func productClicked(productId: String, category: String, position: Int64, price: Double) {
        do {
            try spoor.track(name: "product_clicked", properties: [
                "productId": .string(value: productId),
                "category": .string(value: category),
                "surface": "home",
                "position": .int(value: position),
                "price": .double(value: price),
            ])
        } catch {
            // A bad value (a NaN price) is the app's bug: log it, never crash over analytics.
            print("analytics: \(error)")
        }
    }

    /// From sceneDidBecomeActive / sceneDidEnterBackground.
    public func foreground() { try? spoor.onForeground() }
    public func background() { try? spoor.onBackground() }
}
