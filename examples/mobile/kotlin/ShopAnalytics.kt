// What an app writes around the Spoor client: one instance for the process,
// consent from the app's consent screen, typed events, the lifecycle hooks.
// Plain Kotlin (no Android imports), so CI compiles it against the generated
// bindings (.ci/test-mobile.sh); android/ shows where an Android app calls it.
package dev.spoor.example

import dev.spoor.mobile.EventOptions
import dev.spoor.mobile.SpoorClient
import dev.spoor.mobile.SpoorConfig
import dev.spoor.mobile.SpoorException
import dev.spoor.mobile.jsonObjectOf
import java.time.Instant

class ShopAnalytics(dataDir: String, endpoint: String, writeKey: String, appVersion: String) {
    // configure opens the queue in dataDir: call it once, at app start.
    private val spoor = SpoorClient.configure(
        SpoorConfig(
            writeKey = writeKey,
            endpoint = endpoint,
            dataDir = dataDir,
            trackLifecycleEvents = true,
            context = jsonObjectOf(
                "app" to mapOf("name" to "Shop", "version" to appVersion),
                "os" to mapOf("name" to "Android"),
            ),
        ),
    )

    /** From the consent screen: nothing is stored or sent before this. */
    fun consentGiven(analytics: Boolean) {
        if (analytics) spoor.setConsent(listOf("analytics")) else spoor.optOut()
    }

    fun loggedIn(userId: String, plan: String) = spoor.identify(userId, jsonObjectOf("plan" to plan))

    fun loggedOut() = spoor.reset()

    fun screenShown(name: String) = spoor.screen(name)

    fun productClicked(productId: String, category: String, position: Int, price: Double) {
        try {
            spoor.track(
                "product_clicked",
                jsonObjectOf(
                    "productId" to productId,
                    "category" to category,
                    "surface" to "home",
                    "position" to position,
                    "price" to price,
                ),
            )
        } catch (e: SpoorException.InvalidArgument) {
            // A bad value (say, a NaN price) is the app's bug: log it, never crash the app over analytics.
            System.err.println("analytics: ${e.message}")
        }
    }

    /** An event the app learns of later (a search made in an offline widget) keeps its own time. */
    fun searchPerformed(query: String, results: Int, at: Instant) =
        spoor.track("search_performed", jsonObjectOf("query" to query, "results" to results), EventOptions(timestamp = at))

    fun appForegrounded() = spoor.onForeground()

    fun appBackgrounded() = spoor.onBackground()
}
