// The host loop around the WASM core (docs/sdk.md, "Driving the core"): apply
// the page's calls, ask the core for a batch, send it, report how it went,
// sleep until the core's next wake-up. Every decision (consent, batching,
// retry backoff, what to drop) is the core's; this file only moves bytes and
// keeps time.

import { beacon, post, withWriteKey } from './transport.js';
import { campaign, pageInfo } from './context.js';

/** Call kinds, as the core numbers them (sdk-wasm/src/call.rs). */
export const TRACK = 0;
export const IDENTIFY = 1;
export const PAGE = 2;
export const GROUP = 4;
export const ALIAS = 5;
/** Control calls, handled here in call order. */
export const RESET = 10;
export const CONSENT = 11;
export const OPT_OUT = 12;
export const FLUSH = 13;

/** At most this many batches are beaconed when the page goes away (each under 64 KiB). */
const MAX_BEACONS = 16;

export class Host {
  /**
   * @param tracker the WASM `Tracker`
   * @param store the `Store` it commits to
   * @param calls the page's call buffer (shared with index.js, drained here)
   * @param settings normalized init options
   * @param counters JS-side counters shown by stats()
   * @param report where errors go (never thrown)
   */
  constructor(tracker, store, calls, settings, counters, report) {
    this.t = tracker;
    this.store = store;
    this.calls = calls;
    this.s = settings;
    this.counters = counters;
    this.report = report;
    this.url = settings.endpoint + settings.path;
    this.sending = false;
    this.timer = 0;
    this.drainPending = false;
    // The drain runs as a task of its own, started by a posted message: like
    // setTimeout(0) without arming a timer, which cost a call made alone in its
    // task ~15 µs more (BENCHMARKS.md, "track() on the main thread").
    this.wake = typeof MessageChannel === 'function' ? new MessageChannel() : null;
    if (this.wake) this.wake.port1.onmessage = () => this.drainIfPending();
    this.flushes = [];
    this.pageKey = null;
  }

  /** Applies buffered calls soon, off the page's current task. */
  schedule() {
    if (this.drainPending) return;
    this.drainPending = true;
    if (this.wake) this.wake.port2.postMessage(0);
    else setTimeout(() => this.drainIfPending(), 0);
  }

  /** The scheduled drain, unless a flush has applied the calls already. */
  drainIfPending() {
    if (this.drainPending) this.drain();
  }

  /** Applies every buffered call now, then sends what is due. */
  drain() {
    this.applyAll();
    this.pump();
  }

  applyAll() {
    this.drainPending = false;
    const calls = this.calls.splice(0, this.calls.length);
    for (const call of calls) {
      try {
        this.apply(call);
      } catch (error) {
        this.report(error);
      }
    }
  }

  apply(call) {
    const kind = call[0];
    const now = call[5];
    if (kind < RESET) {
      const category = call[9];
      if (category && this.s.gpcDenied.has(category)) {
        this.counters.discardedGpc++;
        return;
      }
      this.syncPage(call[6], call[7], call[8]);
      this.t.record(kind, call[1], call[2], call[3], call[4], now);
    } else if (kind === RESET) {
      this.t.reset(now);
    } else if (kind === CONSENT) {
      this.t.setConsent(JSON.stringify({ granted: call[1].filter((c) => !this.s.gpcDenied.has(c)) }), now);
      this.syncConsent();
    } else if (kind === OPT_OUT) {
      this.t.optOut(now);
      this.syncConsent();
    } else if (kind === FLUSH) {
      this.flushes.push([this.t.flush(now), call[1]]);
    }
  }

  /** Puts the page a call was made on into the core's context (only when it changed). */
  syncPage(href, title, referrer) {
    const key = href + '\n' + title + '\n' + referrer;
    if (key === this.pageKey) return;
    this.pageKey = key;
    this.t.setContext('page', JSON.stringify(pageInfo(href, title, referrer)));
    const utm = campaign(href);
    this.t.setContext('campaign', utm ? JSON.stringify(utm) : undefined);
  }

  /** Identity values go to disk only while the default category is granted. */
  syncConsent() {
    this.store.setPersistIdentity(this.t.consent(this.s.defaultCategory) === 1);
    // A purge (revoked consent) reaches the disk at once.
    this.store.persist();
  }

  /** Sends the next due batch, or sleeps until the core's next wake-up. */
  pump() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.sending) return;
    let body;
    try {
      // Offline: commit, but take no batch (no failure, no backoff) until `online`.
      if (globalThis.navigator && navigator.onLine === false) this.t.commit();
      else body = this.t.poll(Date.now());
    } catch (error) {
      this.report(error);
    }
    if (body) {
      this.send(body);
      return;
    }
    this.settleFlushes(true);
    const at = this.t.pollTimeout();
    if (at >= 0) this.timer = setTimeout(() => this.pump(), Math.min(Math.max(0, at - Date.now()), 2147483647));
  }

  send(body) {
    // Every event sent is on its way to storage first.
    this.store.persist();
    this.sending = true;
    post(this.url, withWriteKey(body, this.s.writeKey), this.s.timeout).then(([status, retryAfter]) => {
      this.sending = false;
      try {
        this.t.onResponse(status, retryAfter || undefined, Date.now());
      } catch (error) {
        this.report(error);
      }
      this.settleFlushes(status >= 200 && status < 300);
      this.pump();
    });
  }

  /** Resolves flush() promises: true once their events left the queue, false after a failed send. */
  settleFlushes(ok) {
    this.flushes = this.flushes.filter(([handle, resolve]) => {
      if (this.t.flushed(handle)) resolve(true);
      else if (!ok) resolve(false);
      else return true;
      return false;
    });
  }

  /**
   * The page is hidden or going away: apply every buffered call and hand what
   * the core says is due to `sendBeacon`, in batches under 64 KiB with the
   * write key in the body. A batch the browser takes counts as sent (a
   * beacon has no answer); one it refuses stays queued. While the core is
   * backing off after failures (the relay is down) nothing is beaconed: the
   * queue stays in storage for the next page.
   */
  leave() {
    this.applyAll();
    try {
      const now = Date.now();
      this.flushes.push([this.t.flush(now), () => {}]);
      if (!this.sending && !(globalThis.navigator && navigator.onLine === false)) {
        for (let i = 0; i < MAX_BEACONS; i++) {
          const body = this.t.poll(now);
          if (!body) break;
          const taken = beacon(this.url, withWriteKey(body, this.s.writeKey));
          this.t.onResponse(taken ? 202 : 0, undefined, now);
          if (!taken) break;
          this.counters.beacons++;
        }
      }
      this.t.commit();
      this.store.persist();
      this.settleFlushes(true);
    } catch (error) {
      this.report(error);
    }
  }
}
