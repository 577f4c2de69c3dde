// @spoor/browser in real headless Chromium against a real relay on loopback.
// Run by .ci/test-browser.sh (builds the package and the relay first):
//   node --test --test-concurrency=1 sdk-wasm/test/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  WRITE_KEY,
  checkPrerequisites,
  cleanup,
  freePort,
  launchBrowser,
  openTestPage,
  readIndexedDb,
  readLog,
  recordRelayRequests,
  startRelay,
  startRecordingProxy,
  startStatic,
  tempDir,
  waitFor,
} from './harness.mjs';

let site;

before(async () => {
  checkPrerequisites();
  site = await startStatic();
});

after(async () => {
  await site?.close();
});

/** A relay, a browser with a fresh profile and a helper to init the SDK on a page; all torn down after `body`. */
async function withSetup(body, { relayUp = true, browserOptions } = {}) {
  const dataDir = tempDir('spoor-browser-data-');
  const port = await freePort();
  const browser = await launchBrowser(browserOptions);
  const setup = {
    port,
    dataDir,
    relay: relayUp ? await startRelay(port, dataDir) : null,
    context: browser.context,
    requests: recordRelayRequests(browser.context, port),
    endpoint: `http://127.0.0.1:${port}`,
    log: () => readLog(dataDir),
    async startRelay() {
      setup.relay = await startRelay(port, dataDir);
    },
  };
  try {
    await body(setup);
  } finally {
    await browser.close();
    await setup.relay?.stop();
    cleanup(dataDir);
  }
}

function init(page, endpoint, options = {}) {
  return page.evaluate(([endpoint, writeKey, options]) => window.spoor.init({ endpoint, writeKey, ...options }), [endpoint, WRITE_KEY, options]);
}

const named = (log, name) => log.filter((e) => e.eventName === name);

test('events tracked on a page reach the relay log', async () => {
  await withSetup(async ({ context, endpoint, log, requests }) => {
    const { page, errors } = await openTestPage(context, site.url, '/index.html?utm_source=newsletter&utm_campaign=spring');
    assert.equal(await init(page, endpoint, { consent: ['analytics'] }), true);
    const delivered = await page.evaluate(async () => {
      spoor.track('product_clicked', { productId: 'p123', category: 'shoes', surface: 'home', price: 19.5, tags: ['trail'] });
      spoor.identify('u456', { plan: 'pro' });
      spoor.track('checkout_started', { items: 2 });
      spoor.group('acme', { seats: 10 });
      return spoor.flush();
    });
    assert.equal(delivered, true);

    const events = log();
    const clicked = named(events, 'product_clicked');
    assert.equal(clicked.length, 1);
    assert.deepEqual(clicked[0].properties, { productId: 'p123', category: 'shoes', surface: 'home', price: 19.5, tags: ['trail'] });
    assert.equal(clicked[0].type, 'track');
    assert.equal(clicked[0].context.library.name, 'spoor-browser');
    assert.equal(clicked[0].context.page.path, '/index.html');
    assert.equal(clicked[0].context.page.title, 'Spoor test page');
    assert.deepEqual(clicked[0].context.campaign, { source: 'newsletter', name: 'spring' });
    assert.match(clicked[0].context.userAgent, /Chrome/);
    assert.ok(clicked[0].context.timezone && clicked[0].context.locale && clicked[0].context.screen.width > 0);
    assert.ok(clicked[0].context.sessionId);
    assert.equal(clicked[0].anonymousId, await page.evaluate(() => spoor.anonymousId()));

    const checkout = named(events, 'checkout_started')[0];
    assert.equal(checkout.userId, 'u456', 'identify sets the userId of later events');
    assert.ok(events.some((e) => e.type === 'identify' && e.userId === 'u456' && e.traits.plan === 'pro'));
    assert.ok(events.some((e) => e.type === 'group' && e.groupId === 'acme'));
    const pageView = events.find((e) => e.type === 'page');
    assert.ok(pageView, 'the automatic page view on init');
    assert.equal(pageView.properties.path, '/index.html');
    assert.equal(new Set(events.map((e) => e.eventId)).size, events.length, 'each eventId once');

    // Delivered events leave the persistent queue; sent as text/plain with the key in the body.
    await waitFor(async () => (await readIndexedDb(page)).events.length === 0, 5000, 'the queue to empty');
    assert.ok(requests.length >= 1);
    assert.ok(requests.every((r) => r.type === 'fetch' && r.path === '/api/events/batch'));
    assert.equal(JSON.parse(requests[0].body).writeKey, WRITE_KEY);
    assert.deepEqual(errors, []);
  });
});

test('events tracked just before the page navigates away arrive by beacon', async () => {
  await withSetup(async ({ context, port, log }) => {
    const proxy = await startRecordingProxy(port);
    try {
      const { page } = await openTestPage(context, site.url);
      // Nothing is due by size or time: only leaving the page sends.
      assert.equal(await init(page, proxy.url, { consent: ['analytics'], flushAt: 100, flushInterval: 600000, autoPage: false }), true);
      const queued = await page.evaluate(() => {
        spoor.track('checkout_started', { cartValue: 42.5 });
        return new Promise((r) => setTimeout(r, 50)).then(() => spoor.stats().queued);
      });
      assert.equal(queued, 1, 'queued, not sent yet');
      assert.equal(proxy.requests.length, 0);
      // Track and leave in the same task, as a click on a link would.
      await page.evaluate(() => {
        spoor.track('add_to_cart', { productId: 'p9' });
        location.href = '/plain.html';
      });
      await page.waitForURL('**/plain.html');
      const events = await waitFor(() => {
        const events = log();
        return events.length >= 2 ? events : null;
      }, 10000, 'the beaconed events in the relay log');
      assert.deepEqual(events.map((e) => e.eventName).sort(), ['add_to_cart', 'checkout_started']);
      const posts = proxy.requests.filter((r) => r.method === 'POST');
      assert.ok(posts.length >= 1);
      for (const request of posts) {
        assert.equal(request.mode, 'no-cors', `sent by sendBeacon, not fetch (Sec-Fetch-Mode ${request.mode})`);
        assert.match(request.contentType, /^text\/plain/);
        assert.ok(Buffer.byteLength(request.body) < 64 * 1024);
        assert.equal(JSON.parse(request.body).writeKey, WRITE_KEY, 'the write key travels in the body');
      }
      assert.equal(proxy.requests.length, posts.length, 'no preflight');
    } finally {
      await proxy.close();
    }
  });
});

test('with the relay down, events survive a reload and arrive once it is back, each eventId once', async () => {
  await withSetup(
    async (setup) => {
      const { context, endpoint, log } = setup;
      const options = { consent: ['analytics'], retryBase: 200, retryCap: 1000, autoPage: false };
      const { page } = await openTestPage(context, site.url);
      assert.equal(await init(page, endpoint, options), true);
      const first = await page.evaluate(async () => {
        for (let i = 0; i < 5; i++) spoor.track('search_performed', { query: 'shoes ' + i, results: i });
        const delivered = await spoor.flush();
        return { delivered, stats: spoor.stats() };
      });
      assert.equal(first.delivered, false, 'the relay is down');
      assert.ok(first.stats.sendFailures >= 1);
      assert.equal(first.stats.queued, 5);
      await waitFor(async () => (await readIndexedDb(page)).events.length === 5, 5000, 'five events in IndexedDB');

      await page.reload();
      await page.waitForFunction(() => window.spoor !== undefined);
      assert.equal(await init(page, endpoint, options), true);
      const reloaded = await page.evaluate(() => spoor.stats().queued);
      assert.equal(reloaded, 5, 'the queue survived the reload');
      await page.evaluate(() => spoor.track('signed_up', { method: 'email' }));

      await setup.startRelay();
      const events = await waitFor(() => {
        const events = log();
        return events.length >= 6 ? events : null;
      }, 20000, 'six events in the relay log once it is back');
      await waitFor(async () => (await readIndexedDb(page)).events.length === 0, 5000, 'the queue to empty');

      // A last reload must not send anything again.
      await page.reload();
      await page.waitForFunction(() => window.spoor !== undefined);
      await init(page, endpoint, options);
      await page.evaluate(() => spoor.flush());
      const final = log();
      assert.equal(final.length, 6);
      assert.equal(named(final, 'search_performed').length, 5);
      assert.deepEqual(named(final, 'search_performed').map((e) => e.properties.results).sort(), [0, 1, 2, 3, 4]);
      assert.equal(new Set(final.map((e) => e.eventId)).size, 6, 'each eventId once');
      assert.deepEqual(final.map((e) => e.eventId).sort(), events.map((e) => e.eventId).sort());
    },
    { relayUp: false },
  );
});

test('with consent denied nothing is sent or stored', async () => {
  await withSetup(async ({ context, port, log }) => {
    // Every request on the wire, beacons included, passes through this proxy.
    const proxy = await startRecordingProxy(port);
    const endpoint = proxy.url;
    try {
      await consentDeniedScenario(context, endpoint);
    } finally {
      await proxy.close();
    }
    assert.deepEqual(proxy.requests, [], 'nothing on the wire');
    assert.deepEqual(log(), []);
  });
});

async function consentDeniedScenario(context, endpoint) {
  const { page } = await openTestPage(context, site.url);
  assert.equal(await init(page, endpoint), true); // consent required by default: pending
  const stats = await page.evaluate(async () => {
    spoor.track('before_decision', { a: 1 }); // waits in memory for the decision
    spoor.identify('u1', { email: 'x@example.com' });
    spoor.optOut();
    spoor.track('after_opt_out');
    spoor.page('Pricing');
    await spoor.flush();
    await new Promise((r) => setTimeout(r, 300));
    return spoor.stats();
  });
  assert.equal(stats.queued, 0);
  assert.equal(stats.awaitingConsent, 0);
  assert.ok(stats.discardedNoConsent >= 4, `discarded: ${stats.discardedNoConsent}`);
  assert.equal(stats.batchesSent, 0);

  // Stored: only the decision itself; no events, no identifiers, nothing in localStorage.
  const db = await readIndexedDb(page);
  assert.deepEqual(db.events, []);
  assert.deepEqual(db.meta, ['consent']);
  assert.equal(await page.evaluate(() => localStorage.length), 0);

  // The decision persists: the next page sends nothing either.
  await page.reload();
  await page.waitForFunction(() => window.spoor !== undefined);
  await init(page, endpoint);
  await page.evaluate(async () => {
    spoor.track('next_page');
    await spoor.flush();
  });
  assert.equal((await readIndexedDb(page)).events.length, 0);
  await page.goto(site.url + '/plain.html'); // leaving would beacon anything queued
  await new Promise((r) => setTimeout(r, 500));
}

test('revoking consent purges queued events', async () => {
  await withSetup(async ({ context, endpoint, log }) => {
    const { page } = await openTestPage(context, site.url);
    await init(page, endpoint, { consent: ['analytics'], flushAt: 100, flushInterval: 600000, autoPage: false });
    await page.evaluate(() => {
      spoor.track('queued_then_revoked');
      return new Promise((r) => setTimeout(r, 50));
    });
    await waitFor(async () => (await readIndexedDb(page)).events.length === 1, 5000, 'the event in IndexedDB');
    const stats = await page.evaluate(async () => {
      spoor.setConsent([]);
      await spoor.flush();
      return spoor.stats();
    });
    assert.equal(stats.purged, 1);
    await waitFor(async () => (await readIndexedDb(page)).events.length === 0, 5000, 'the purge to reach IndexedDB');
    assert.deepEqual((await readIndexedDb(page)).meta, ['consent']);
    await page.goto(site.url + '/plain.html');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(log(), []);
  });
});

test('calls made before init or with bad arguments do not throw', async () => {
  await withSetup(async ({ context, endpoint, log }) => {
    const { page, errors } = await openTestPage(context, site.url);
    const thrown = await page.evaluate(() => {
      const thrown = [];
      const circular = { name: 'loop' };
      circular.self = circular;
      const calls = [
        () => spoor.track('signed_up', { method: 'before-init' }),
        () => spoor.track(),
        () => spoor.track(null),
        () => spoor.track({ not: 'a name' }),
        () => spoor.track('bad_props', 'not an object'),
        () => spoor.track('bad_props', [1, 2]),
        () => spoor.track('circular', circular),
        () => spoor.track('bigint', { n: 10n }),
        () => spoor.track('bad_options', {}, 'nope'),
        () => spoor.track('bad_context', {}, { context: 5 }),
        () => spoor.identify(),
        () => spoor.identify(''),
        () => spoor.identify(undefined, 7),
        () => spoor.page(42, 42, 42),
        () => spoor.group(),
        () => spoor.alias(),
        () => spoor.alias(null, {}),
        () => spoor.setConsent('analytics'),
        () => spoor.setConsent(null),
        () => spoor.reset(),
        () => spoor.flush(),
        () => spoor.stats(),
        () => spoor.anonymousId(),
        () => spoor.init(),
        () => spoor.init({ writeKey: 42 }),
      ];
      for (const call of calls) {
        try {
          call();
        } catch (error) {
          thrown.push(String(error));
        }
      }
      return thrown;
    });
    assert.deepEqual(thrown, []);
    // The bad init above failed quietly; a fresh page inits properly and sends what was tracked before init.
    assert.equal(await page.evaluate(() => spoor.ready()), false);

    await page.reload();
    await page.waitForFunction(() => window.spoor !== undefined);
    const result = await page.evaluate(async ([endpoint, writeKey]) => {
      spoor.track('signed_up', { method: 'before-init' });
      spoor.track();
      spoor.track('bad_props', 'not an object');
      spoor.identify(undefined, 7);
      const flushed = spoor.flush(); // before init: resolves once init ran and the queue was sent
      const started = await spoor.init({ endpoint, writeKey, consent: ['analytics'], autoPage: false });
      spoor.track('circular', (() => { const o = {}; o.o = o; return o; })());
      spoor.track('checkout_started', { items: 1 });
      const late = await spoor.flush();
      return { started, early: await flushed, late, stats: spoor.stats() };
    }, [endpoint, WRITE_KEY]);
    assert.equal(result.started, true);
    assert.equal(result.early, true);
    assert.equal(result.late, true);
    assert.ok(result.stats.errors >= 3, `errors counted, not thrown: ${JSON.stringify(result.stats)}`);
    const names = log().map((e) => e.eventName);
    assert.ok(names.includes('signed_up'), `the call made before init was delivered: ${names}`);
    assert.ok(names.includes('checkout_started'));
    assert.ok(!names.includes('bad_props') && !names.includes('circular'));
    assert.deepEqual(errors, [], 'no uncaught errors on the page');
  });
});

test('history navigation records page views with the previous page as referrer', async () => {
  await withSetup(async ({ context, endpoint, log }) => {
    const { page } = await openTestPage(context, site.url);
    await init(page, endpoint, { consent: ['analytics'] });
    await page.evaluate(async () => {
      history.pushState({}, '', '/products/42?ref=home');
      document.title = 'Product 42';
      history.replaceState({}, '', '/products/42?ref=home'); // same URL: no new page view
      spoor.track('view_product', { productId: '42' });
      await spoor.flush();
    });
    const pages = log().filter((e) => e.type === 'page');
    assert.deepEqual(pages.map((e) => e.properties.path), ['/index.html', '/products/42']);
    assert.equal(pages[1].properties.referrer, site.url + '/index.html');
    assert.equal(pages[1].properties.search, '?ref=home');
    const details = named(log(), 'view_product')[0];
    assert.equal(details.context.page.path, '/products/42');
    assert.equal(details.context.page.title, 'Product 42');
  });
});

test('Global Privacy Control denies marketing categories by default', async () => {
  await withSetup(async ({ context, endpoint, log }) => {
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
    const { page } = await openTestPage(context, site.url);
    await init(page, endpoint, { consent: ['analytics', 'marketing'], autoPage: false });
    const stats = await page.evaluate(async () => {
      spoor.track('product_impression', { productId: 'ad-1' }, { category: 'marketing' });
      spoor.track('signed_up', { method: 'google' });
      await spoor.flush();
      return spoor.stats();
    });
    assert.deepEqual(log().map((e) => e.eventName), ['signed_up']);
    assert.equal(stats.discardedGpc, 1);
  });
});

test('a full origin quota is counted, never thrown, and the events are still delivered', async () => {
  await withSetup(async ({ context, endpoint, log }) => {
    const { page, errors } = await openTestPage(context, site.url);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: site.url, quotaSize: 200 * 1024 });
    await init(page, endpoint, { consent: ['analytics'], autoPage: false, flushAt: 1000, flushInterval: 600000 });
    const stats = await page.evaluate(async () => {
      const blob = ['a', 'b', 'c'].map((c) => c.repeat(7000)); // ~21 KB per event, 840 KB in all
      for (let i = 0; i < 40; i++) spoor.track('search_performed', { query: 'q', results: i, blob });
      await new Promise((r) => setTimeout(r, 1500));
      return spoor.stats();
    });
    // Full batches (by bytes) go out at once; the rest stay in the core's memory queue.
    assert.equal(stats.queued + stats.delivered, 40, 'every event is queued in memory or delivered');
    assert.ok(stats.storageDropped > 0, `dropped from storage and counted: ${JSON.stringify(stats)}`);
    const flushed = await page.evaluate(async () => [await spoor.flush(), spoor.stats()]);
    assert.equal(flushed[0], true, JSON.stringify(flushed[1]));
    const results = named(log(), 'search_performed').map((e) => e.properties.results).sort((a, b) => a - b);
    assert.deepEqual(results, [...Array(40).keys()]);
    assert.deepEqual(errors, []);
  });
});

test('a full localStorage drops the oldest stored events to make room, counted', async () => {
  await withSetup(async ({ context }) => {
    const { page, errors } = await openTestPage(context, site.url);
    // Fill the origin's localStorage with someone else's data, then free about 100 KB.
    await page.evaluate(() => {
      const chunk = 'z'.repeat(50 * 1024);
      try {
        for (let i = 0; i < 1000; i++) localStorage.setItem('other-app-' + i, chunk);
      } catch (_) {
        // full
      }
      localStorage.removeItem('other-app-0');
      localStorage.removeItem('other-app-1');
    });
    await init(page, 'http://127.0.0.1:9', { storage: 'localStorage', consent: ['analytics'], autoPage: false, flushAt: 1000, flushInterval: 600000 });
    const result = await page.evaluate(async () => {
      const blob = ['a', 'b', 'c'].map((c) => c.repeat(3000)); // ~9 KB per event, 360 KB in all
      for (let i = 0; i < 40; i++) spoor.track('search_performed', { query: 'q', results: i, blob });
      await new Promise((r) => setTimeout(r, 500));
      const kept = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith('spoor:e:')) kept.push(JSON.parse(JSON.parse(localStorage.getItem(key))[3]).properties.results);
      }
      return { stats: spoor.stats(), kept: kept.sort((a, b) => a - b) };
    });
    assert.equal(result.stats.storage, 'localStorage');
    assert.equal(result.stats.queued, 40);
    assert.ok(result.kept.length > 0 && result.kept.length < 40, `kept ${result.kept}`);
    assert.equal(result.stats.storageDropped + result.kept.length, 40, 'every event is stored or counted');
    assert.equal(result.kept[result.kept.length - 1], 39, 'the newest are kept');
    assert.equal(result.kept.length, 40 - result.kept[0], 'the oldest went first');
    assert.deepEqual(errors, []);
  }, { relayUp: false });
});
