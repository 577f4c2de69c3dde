// JVM tests of the mobile SDK through its generated Kotlin bindings, against
// the host build of libspoor_mobile and a real relay on loopback (started by
// .ci/test-mobile.sh). Run: java ... dev.spoor.mobile.tests.MobileTests [name filter...]
package dev.spoor.mobile.tests

import dev.spoor.mobile.EventOptions
import dev.spoor.mobile.SpoorClient
import dev.spoor.mobile.SpoorException
import dev.spoor.mobile.jsonObjectOf
import dev.spoor.mobile.jsonValueOf
import java.io.File
import java.time.Instant
import kotlin.reflect.KClass
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

object MobileTests {
    @JvmStatic
    fun main(args: Array<String>) = runTests(
        listOf(
            TestCase("kill_mid_delivery_then_restart_delivers_every_event_once_by_event_id", ::killMidDelivery),
            TestCase("kill_while_offline_then_restart_delivers_each_event_exactly_once_with_its_time", ::killOffline),
            TestCase("offline_queue_keeps_the_newest_events_within_its_bound", ::offlineQueueBound),
            TestCase("consent_denied_sends_and_stores_nothing", ::consentDenied),
            TestCase("opt_out_purges_the_queue_and_nothing_is_sent_later", ::optOutPurges),
            TestCase("bad_arguments_throw_clear_exceptions_and_the_client_keeps_working", ::badArguments),
            TestCase("unwritable_data_dir_throws_a_storage_exception", ::unwritableDataDir),
            TestCase("every_call_arrives_at_the_relay_with_its_json_types", ::everyCall),
        ),
        args.toList(),
    )

    private const val PRODUCER = "dev.spoor.mobile.tests.Producer"

    /**
     * Kills the app (SIGKILL) while it is tracking and sending; a new start
     * sends the rest. The first 1,500 events were confirmed on disk before the
     * kill and must all arrive; of the events tracked after, those that survive
     * must be the oldest ones without a gap (the queue keeps order, so a gap is
     * a lost event); no event may arrive under two eventIds.
     */
    private fun killMidDelivery() {
        val runId = newRunId("kill")
        val dataDir = newDataDir(runId)
        val count = 3_000
        val confirmed = 1_500
        val child = ChildJvm(PRODUCER, Env.endpoint, dataDir.path, runId, "$count", "0", "$confirmed", "1")
        val persisted = child.awaitLine("PERSISTED upTo=$confirmed ")
        // Kill once the events tracked after the checkpoint are on their way to the relay.
        var atKill = 0
        val deadline = System.nanoTime() + 30_000_000_000
        while (atKill < confirmed + 200 && System.nanoTime() < deadline) {
            Thread.sleep(20)
            atKill = RelayLog.events(runId).size
        }
        assertEquals(137, child.kill(), "exit code of a SIGKILLed JVM")
        println("  child: $persisted; killed with $atKill events at the relay")

        // Start again: the queue left on disk is sent (this client tracks nothing itself).
        val client = SpoorClient.configure(testConfig(dataDir, runId))
        client.onForeground()
        waitFor(client, "the queue to drain") { it.queued == 0L }
        val resumed = client.shutdown(5_000).delivered

        val events = RelayLog.events(runId)
        val idsBySeq = events.groupBy { seqOf(it) }.mapValues { (_, e) -> e.map { it["eventId"] as String }.toSet() }
        val survived = idsBySeq.keys.size
        assertTrue(survived >= confirmed, "only $survived events arrived; $confirmed were confirmed on disk")
        assertEquals((0 until survived).toSet(), idsBySeq.keys, "the events that arrived are the oldest ones, without a gap")
        assertTrue(survived < count, "the kill came after every event was tracked: the test did not kill mid-run")
        val reTracked = idsBySeq.filterValues { it.size != 1 }
        assertTrue(reTracked.isEmpty(), "events that arrived under two eventIds: $reTracked")
        val duplicates = events.size - survived
        assertTrue(duplicates in 0..100, "only the batch in flight at the kill may arrive twice; $duplicates records did")
        println(
            "  the restarted client sent the $resumed events left in the queue; relay: ${events.size} records, " +
                "$survived distinct events, $duplicates of them twice (acknowledged just before the kill); " +
                "the other ${count - survived} were not yet tracked or not yet on disk at the kill",
        )
    }

    /** Offline for days, killed, started again online: each event exactly once, with its own time. */
    private fun killOffline() {
        val runId = newRunId("offline")
        val dataDir = newDataDir(runId)
        val count = 500
        val firstEventTime = Instant.now().minusSeconds(2 * 24 * 3600).toEpochMilli()
        val child = ChildJvm(PRODUCER, Env.OFFLINE_ENDPOINT, dataDir.path, runId, "$count", "$firstEventTime", "$count", "0")
        println("  child: ${child.awaitLine("PERSISTED upTo=$count ")}")
        assertEquals(137, child.kill(), "exit code of a SIGKILLed JVM")
        assertEquals(0, RelayLog.events(runId).size, "nothing could reach the relay while offline")

        val client = SpoorClient.configure(testConfig(dataDir, runId))
        assertEquals(count.toLong(), client.stats().queued, "the whole queue survived the kill")
        client.onForeground()
        waitFor(client, "the queue to drain") { it.queued == 0L }
        val stats = client.shutdown(5_000)
        assertEquals(count.toLong(), stats.delivered)

        val events = RelayLog.events(runId)
        assertEquals(count, events.size, "records at the relay (no duplicates)")
        assertEquals(count, events.map { it["eventId"] }.toSet().size, "distinct eventIds")
        for (event in events) {
            val sent = Instant.parse(event["timestamp"] as String).toEpochMilli()
            assertEquals(firstEventTime + seqOf(event), sent, "the event keeps the time it happened")
        }
    }

    /**
     * Offline past the queue's bound: the oldest events are dropped and counted, the newest sent later.
     * The offline client makes no attempt while the queue overflows (flushAt above the bound, an hour's
     * interval): a batch in flight is never dropped, so an attempt that took the whole full queue would
     * make the events tracked meanwhile the ones dropped (the documented rule, but not this test's case).
     */
    private fun offlineQueueBound() {
        val runId = newRunId("bound")
        val dataDir = newDataDir(runId)
        val bounded = { endpoint: String -> testConfig(dataDir, runId, endpoint).copy(maxQueueEvents = 100) }
        val offline = SpoorClient.configure(
            bounded(Env.OFFLINE_ENDPOINT).copy(flushAt = 1_000, flushIntervalMs = 3_600_000L),
        )
        offline.setConsent(listOf("analytics"))
        repeat(150) { offline.track("product_clicked", productClicked(it)) }
        val stats = waitFor(offline, "150 events handled") { it.queued + it.droppedQueueFull == 150L }
        assertEquals(100L, stats.queued, "queued")
        assertEquals(50L, stats.droppedQueueFull, "dropped, oldest first")
        offline.shutdown(1_000)

        val online = SpoorClient.configure(bounded(Env.endpoint))
        online.onForeground()
        waitFor(online, "the queue to drain") { it.queued == 0L }
        online.shutdown(5_000)
        assertEquals((50 until 150).toList(), RelayLog.events(runId).map { seqOf(it) }.sorted(), "the newest 100 arrive")
    }

    /** Consent required (the default) and refused: nothing is sent, nothing is written to disk. */
    private fun consentDenied() {
        val runId = newRunId("denied")
        val dataDir = newDataDir(runId)
        val client = SpoorClient.configure(testConfig(dataDir, runId))
        repeat(50) { client.track("product_clicked", productClicked(it)) }
        val pending = waitFor(client, "50 events awaiting consent") { it.awaitingConsent == 50L }
        assertEquals(0L, pending.queued, "nothing is queued before the decision")

        client.setConsent(emptyList())
        repeat(50) { client.track("product_clicked", productClicked(50 + it)) }
        client.screen("Checkout", jsonObjectOf("step" to 1))
        client.flush()
        val stats = waitFor(client, "the denied events to be discarded") { it.discardedNoConsent >= 51L }
        assertEquals(0L, stats.awaitingConsent)
        assertEquals(0L, stats.queued)
        val end = client.shutdown(2_000)
        assertEquals(0L, end.batchesSent, "batches sent")

        // The refusal is remembered across a restart.
        val again = SpoorClient.configure(testConfig(dataDir, runId))
        again.track("product_clicked", productClicked(100))
        waitFor(again, "the event to be discarded") { it.discardedNoConsent == 1L }
        again.flush()
        assertEquals(0L, again.shutdown(2_000).batchesSent, "batches sent after restart")

        assertEquals(0, RelayLog.events(runId).size, "events of the run at the relay")
        assertTrue(dataDir.walk().any { it.name == "spoor-queue.sqlite3" }, "the queue file exists")
        assertFalse(filesContain(dataDir, runId), "no event of the run was written to the data dir")
    }

    /** Granted, queued while offline, then opt-out: the queue is purged and stays empty. */
    private fun optOutPurges() {
        val runId = newRunId("optout")
        val dataDir = newDataDir(runId)
        val client = SpoorClient.configure(testConfig(dataDir, runId, Env.OFFLINE_ENDPOINT))
        client.setConsent(listOf("analytics"))
        repeat(30) { client.track("product_clicked", productClicked(it)) }
        waitFor(client, "30 queued events") { it.queued == 30L }
        client.optOut()
        waitFor(client, "the purge") { it.queued == 0L && it.purged == 30L }
        client.track("product_clicked", productClicked(30))
        waitFor(client, "the discard") { it.discardedNoConsent == 1L }
        client.shutdown(1_000)

        val online = SpoorClient.configure(testConfig(dataDir, runId))
        assertEquals(0L, online.stats().queued, "queued after restart")
        online.track("product_clicked", productClicked(31))
        online.flush()
        waitFor(online, "the discard after restart") { it.discardedNoConsent == 1L }
        assertEquals(0L, online.shutdown(2_000).batchesSent, "batches sent after restart")
        assertEquals(0, RelayLog.events(runId).size, "events of the run at the relay")
    }

    /** Every kind of bad argument is a SpoorException naming the problem; the client keeps working. */
    private fun badArguments() {
        val runId = newRunId("bad")
        val dataDir = newDataDir(runId)
        val client = SpoorClient.configure(testConfig(dataDir, runId))
        client.setConsent(listOf("analytics"))
        val invalid = SpoorException.InvalidArgument::class
        expect(invalid, "eventName is required and must not be empty") { client.track("") }
        expect(invalid, "eventName is required and must not be empty") { client.screen("") }
        expect(invalid, "groupId is required and must not be empty") { client.group("") }
        expect(invalid, "userId is required and must not be empty") { client.alias("") }
        expect(invalid, "userId is required and must not be empty") { client.identify("") }
        expect(invalid, "properties.price is NaN, but JSON numbers must be finite") {
            client.track("product_clicked", jsonObjectOf("price" to Double.NaN))
        }
        expect(invalid, "properties.items[1].weight is Infinity, but JSON numbers must be finite") {
            client.track("product_clicked", jsonObjectOf("items" to listOf(mapOf("weight" to 1.5), mapOf("weight" to Double.POSITIVE_INFINITY))))
        }
        expect(invalid, "traits.score is -Infinity") {
            client.identify("u1", jsonObjectOf("score" to Double.NEGATIVE_INFINITY))
        }
        expect(invalid, "options.context.geo.lat is NaN") {
            client.track("product_clicked", productClicked(0), EventOptions(context = jsonObjectOf("geo" to mapOf("lat" to Double.NaN))))
        }
        var deep: Any? = 1
        repeat(40) { deep = listOf(deep) }
        expect(invalid, "properties.deep[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0] is nested more than 32 levels deep") {
            client.track("product_clicked", jsonObjectOf("deep" to deep))
        }
        expect(invalid, "over the limit of 32768 bytes") {
            client.track("product_clicked", jsonObjectOf("blob" to "x".repeat(40_000)))
        }
        expect(invalid, "options.timestamp is before 1970") {
            client.track("product_clicked", productClicked(0), EventOptions(timestamp = Instant.ofEpochSecond(-5)))
        }
        val notJson = assertFailsWith<IllegalArgumentException> { jsonObjectOf("when" to java.util.Date()) }
        assertTrue(notJson.message!!.contains("when is a java.util.Date, not a JSON value"), notJson.message)

        val base = testConfig(newDataDir("$runId-config"), runId)
        expect(invalid, "writeKey must not be empty") { SpoorClient.configure(base.copy(writeKey = "")) }
        expect(invalid, "endpoint must be an http:// or https:// URL, got \"localhost:8080\"") {
            SpoorClient.configure(base.copy(endpoint = "localhost:8080"))
        }
        expect(invalid, "flushAt must be at least 1, got 0") { SpoorClient.configure(base.copy(flushAt = 0)) }
        expect(invalid, "context.build is NaN") { SpoorClient.configure(base.copy(context = jsonObjectOf("build" to Double.NaN))) }
        expect(invalid, "a SpoorClient is already open on the data directory") { SpoorClient.configure(testConfig(dataDir, runId)) }

        // None of that hurt the client: a good event still arrives.
        client.track("product_clicked", productClicked(1))
        client.flush()
        waitFor(client, "the good event to be delivered") { it.delivered == 1L }
        val stats = client.shutdown(2_000)
        assertEquals(0L, stats.refused, "calls refused on the background thread")
        assertEquals(listOf(1), RelayLog.events(runId).map { seqOf(it) })
        expect(SpoorException.Closed::class, "the Spoor client is shut down") { client.track("product_clicked", productClicked(2)) }
    }

    /** A data directory that cannot be created or whose queue cannot be opened. */
    private fun unwritableDataDir() {
        val runId = newRunId("unwritable")
        val root = newDataDir(runId).also { it.mkdirs() }
        val file = File(root, "a-file").also { it.writeText("not a directory") }
        val storage = SpoorException.Storage::class
        expect(storage, "cannot create the data directory ${file.path}/spoor") {
            SpoorClient.configure(testConfig(File(file, "spoor"), runId))
        }
        val blocked = File(root, "blocked").also { File(it, "spoor-queue.sqlite3").mkdirs() }
        expect(storage, "cannot open the event queue in ${blocked.path}") {
            SpoorClient.configure(testConfig(blocked, runId))
        }
        if (System.getProperty("user.name") == "root") {
            println("  read-only directory case not run: root may write anywhere")
        } else {
            val readOnly = File(root, "read-only").also { it.mkdirs(); it.setWritable(false, false) }
            expect(storage, "cannot open the event queue in ${readOnly.path}") {
                SpoorClient.configure(testConfig(readOnly, runId))
            }
        }
    }

    /** Every recording call and lifecycle hook, with every JSON type, as stored by the relay. */
    private fun everyCall() {
        val runId = newRunId("surface")
        val dataDir = newDataDir(runId)
        val client = SpoorClient.configure(testConfig(dataDir, runId).copy(trackLifecycleEvents = true, flushAt = 100))
        client.setConsent(listOf("analytics"))
        client.onForeground()
        client.identify(
            "u-42",
            jsonObjectOf(
                "plan" to "pro", "age" to 42, "score" to 0.5, "beta" to true, "nick" to null,
                "tags" to listOf("a", "b"), "address" to mapOf("city" to "Oslo", "zip" to 150),
            ),
        )
        client.track("product_clicked", productClicked(7) + ("price" to jsonValueOf(9.99)))
        client.screen("Checkout", jsonObjectOf("step" to 2))
        client.group("acme", jsonObjectOf("employees" to 250))
        client.alias("u-43")
        client.track(
            "product_clicked",
            productClicked(8),
            EventOptions(category = "analytics", context = jsonObjectOf("campaign" to mapOf("source" to "push"))),
        )
        client.reset()
        client.track("product_clicked", productClicked(9))
        client.onBackground()
        waitFor(client, "9 delivered events") { it.delivered == 9L && it.queued == 0L }
        client.shutdown(2_000)

        val events = RelayLog.events(runId)
        assertEquals(9, events.size, "events at the relay (reset records none)")
        val named = { name: String -> events.single { it["eventName"] == name && it["type"] == "track" } }
        assertEquals("Application Opened", events.first()["eventName"])
        assertEquals("Application Backgrounded", events.last()["eventName"])

        val identify = events.single { it["type"] == "identify" }
        assertEquals("u-42", identify["userId"])
        val traits = identify.obj("traits")
        assertEquals(42L, traits["age"])
        assertEquals(0.5, traits["score"])
        assertEquals(true, traits["beta"])
        assertTrue(traits.containsKey("nick") && traits["nick"] == null, "null trait kept")
        assertEquals(listOf("a", "b"), traits["tags"])
        assertEquals(mapOf("city" to "Oslo", "zip" to 150L), traits["address"])

        val clicks = events.filter { it["eventName"] == "product_clicked" }.associateBy { seqOf(it) }
        assertEquals("u-42", clicks.getValue(7)["userId"])
        assertEquals(9.99, clicks.getValue(7).obj("properties")["price"])
        assertEquals("u-43", clicks.getValue(8)["userId"])
        assertEquals("push", clicks.getValue(8).obj("context").obj("campaign")["source"])
        assertNull(clicks.getValue(9)["userId"], "no userId after reset")
        assertNotEquals(clicks.getValue(8)["anonymousId"], clicks.getValue(9)["anonymousId"], "a new anonymousId after reset")

        val screen = events.single { it["type"] == "screen" }
        assertEquals("Checkout", screen["eventName"])
        assertEquals(2L, screen.obj("properties")["step"])
        val group = events.single { it["type"] == "group" }
        assertEquals("acme", group["groupId"])
        assertEquals(250L, group.obj("traits")["employees"])
        val alias = events.single { it["type"] == "alias" }
        assertEquals("u-43", alias["userId"])
        assertEquals("u-42", alias["previousId"])
        assertEquals("spoor-mobile", named("Application Opened").obj("context").obj("library")["name"])
    }

    private fun seqOf(event: Map<String, Any?>): Int = (event.obj("properties")["seq"] as Long).toInt()

    /** Runs [call], which must throw a [kind] whose message contains [fragment]. */
    private fun expect(kind: KClass<out SpoorException>, fragment: String, call: () -> Unit) {
        val e = assertFailsWith<SpoorException> { call() }
        assertTrue(kind.isInstance(e), "expected ${kind.simpleName}, got ${e::class.simpleName}: ${e.message}")
        assertTrue(e.message!!.contains(fragment), "message \"${e.message}\" does not say \"$fragment\"")
        println("  ${kind.simpleName}: ${e.message}")
    }
}
