// The Kotlin side of the mobile track() benchmark: the cost of
// SpoorClient.track on the calling thread, through the generated bindings,
// JNA and the FFI. sdk-mobile/scripts/bench.sh runs it beside the Rust side
// (benches/track.rs: the same method called from Rust) with the same event.
package dev.spoor.mobile.tests

import dev.spoor.mobile.IntegrityCheckingUniffiLib
import dev.spoor.mobile.JsonValue
import dev.spoor.mobile.SpoorClient
import dev.spoor.mobile.SpoorConfig
import dev.spoor.mobile.SpoorStats
import dev.spoor.mobile.UniffiRustCallStatus
import dev.spoor.mobile.jsonObjectOf
import java.io.File

object TrackBench {
    /** The benchmark event's properties: the same six as in benches/track.rs. */
    private fun properties(i: Int): Map<String, JsonValue> = jsonObjectOf(
        "productId" to "p$i", "category" to "shoes", "surface" to "home",
        "position" to i, "price" to 9.99, "inStock" to true,
    )

    private fun handled(stats: SpoorStats) = stats.queued + stats.droppedQueueFull + stats.delivered

    /** Waits until the background thread has handled [total] calls, so rounds do not overlap. */
    private fun settle(client: SpoorClient, total: Long) {
        while (handled(client.stats()) < total) Thread.sleep(5)
    }

    /** Arguments: data dir (fresh), rounds, calls per round. */
    @JvmStatic
    fun main(args: Array<String>) {
        val dataDir = File(args[0]).also { it.deleteRecursively() }
        val rounds = args.getOrNull(1)?.toInt() ?: 20
        val calls = args.getOrNull(2)?.toInt() ?: 5_000
        // Nothing listens at the endpoint: the background thread queues (and commits)
        // every event and retries with backoff, as in an app that is offline.
        val client = SpoorClient.configure(
            SpoorConfig(writeKey = "bench-write-key", endpoint = "http://127.0.0.1:1", dataDir = dataDir.path, requireConsent = false),
        )
        var total = 0L
        val build = ArrayList<Double>()
        val prebuilt = ArrayList<Double>()
        val whole = ArrayList<Double>()
        val single = ArrayList<Double>()
        val bareCall = ArrayList<Double>()
        val structure = ArrayList<Double>()
        var sink = 0L
        for (round in 0..rounds) {
            var started = System.nanoTime()
            val maps = (0 until calls).map { properties(it) }
            val built = System.nanoTime() - started

            started = System.nanoTime()
            for (map in maps) client.track("product_clicked", map)
            val tracked = System.nanoTime() - started
            total += calls
            settle(client, total)

            started = System.nanoTime()
            for (i in 0 until calls) client.track("product_clicked", properties(i))
            val both = System.nanoTime() - started
            total += calls
            settle(client, total)

            // Baselines from the generated bindings' internals (same Kotlin module): a bare
            // JNA call into the library, and one JNA Structure of the kind UniFFI allocates
            // several times per call (a call status; RustBuffers for the arguments).
            started = System.nanoTime()
            for (i in 0 until calls) sink += IntegrityCheckingUniffiLib.uniffi_spoor_mobile_checksum_method_spoorclient_track().toInt()
            val bare = System.nanoTime() - started
            started = System.nanoTime()
            for (i in 0 until calls) sink += UniffiRustCallStatus().code.toInt()
            val struct = System.nanoTime() - started

            for (i in 0 until 100) {
                val map = properties(i)
                val t0 = System.nanoTime()
                client.track("product_clicked", map)
                single.add((System.nanoTime() - t0).toDouble())
                total += 1
            }
            settle(client, total)
            if (round > 0) { // round 0 warms up the JIT and JNA
                build.add(built.toDouble() / calls)
                prebuilt.add(tracked.toDouble() / calls)
                whole.add(both.toDouble() / calls)
                bareCall.add(bare.toDouble() / calls)
                structure.add(struct.toDouble() / calls)
            }
        }
        single.sort()
        fun p(q: Double) = single[((single.size - 1) * q).toInt()] / 1000
        fun median(values: List<Double>) = values.sorted()[values.size / 2] / 1000
        val stats = client.shutdown(1_000)
        println("kotlin: $rounds rounds x $calls calls, median round (sink $sink)")
        println("kotlin  bare JNA call into the library (baseline)       %.2f µs".format(median(bareCall)))
        println("kotlin  allocate one JNA Structure (baseline)           %.2f µs".format(median(structure)))
        println("kotlin  build the properties (jsonObjectOf, 6 values)       %.2f µs".format(median(build)))
        println("kotlin  track(prebuilt properties) across the FFI           %.2f µs".format(median(prebuilt)))
        println("kotlin  track(jsonObjectOf(...)) as an app writes it        %.2f µs".format(median(whole)))
        println("kotlin  single calls p50 %.2f µs, p99 %.2f µs, max %.2f µs".format(p(0.5), p(0.99), p(1.0)))
        println(
            "kotlin  background: ${stats.queued} queued, ${stats.droppedQueueFull} dropped (queue full), " +
                "${stats.droppedOverloaded} overloaded, ${stats.storageErrors} storage errors",
        )
    }
}
