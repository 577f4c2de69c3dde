// The child JVM of the kill tests: configures a client, grants consent and
// tracks `count` events. After every `checkpoint` events it waits until the
// background thread has written them to the queue and prints
// `PERSISTED upTo=N ...`; after the first checkpoint it tracks one event every
// `pace` ms, like an app in use. The parent kills it with SIGKILL at some point.
package dev.spoor.mobile.tests

import dev.spoor.mobile.EventOptions
import dev.spoor.mobile.SpoorClient
import java.io.File
import java.time.Instant

object Producer {
    /**
     * Arguments: endpoint, data dir, run id, event count, the event time of
     * event 0 in epoch ms (0: now), how many events between checkpoints, and
     * the pause in ms between events after the first checkpoint.
     */
    @JvmStatic
    fun main(args: Array<String>) {
        require(args.size == 7) { "usage: Producer ENDPOINT DATA_DIR RUN_ID COUNT FIRST_EVENT_TIME_MS CHECKPOINT PACE_MS" }
        val (endpoint, dataDir, runId) = args
        val count = args[3].toInt()
        val firstEventTime = args[4].toLong()
        val checkpoint = args[5].toInt()
        val pace = args[6].toLong()
        val client = SpoorClient.configure(testConfig(File(dataDir), runId, endpoint))
        client.setConsent(listOf("analytics"))
        for (seq in 0 until count) {
            val options = if (firstEventTime > 0) EventOptions(timestamp = Instant.ofEpochMilli(firstEventTime + seq)) else null
            client.track("product_clicked", productClicked(seq), options)
            val tracked = seq + 1
            if (tracked > checkpoint && pace > 0) Thread.sleep(pace)
            if (tracked % checkpoint == 0 || tracked == count) {
                // Once every call so far is handled, the background thread's next turn
                // commits the queue (also while a batch is in flight), so one more
                // round trip to it means the events so far are on disk.
                waitFor(client, "$tracked events handled") { it.queued + it.delivered == tracked.toLong() }
                val stats = client.stats()
                println("PERSISTED upTo=$tracked delivered=${stats.delivered} queued=${stats.queued}")
                System.out.flush()
            }
        }
        Thread.sleep(Long.MAX_VALUE)
    }
}
