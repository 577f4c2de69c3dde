// The example page of examples/web, used as its README says (the repository
// root served, the page's import map pointing at the built package), in real
// headless Chromium against a real `spoor up` on loopback: a visitor accepts
// the banner, adds to cart, logs in, navigates in the app and leaves.
// Run by .ci/test-browser.sh:  node --test --test-concurrency=1 sdk-wasm/test/

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WRITE_KEY, cleanup, freePort, launchBrowser, readIndexedDb, readLog, repoRoot, startRelay, startStatic, tempDir, waitFor } from './harness.mjs';

test('the example page sends what its visitor does', async () => {
  const dataDir = tempDir('spoor-example-data-');
  const relay = await startRelay(await freePort(), dataDir);
  const site = await startStatic({}, repoRoot);
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error));
    const query = new URLSearchParams({ endpoint: relay.url, writeKey: WRITE_KEY });
    await page.goto(`${site.url}/examples/web/index.html?${query}`);
    await page.waitForFunction(() => document.getElementById('stats').textContent.includes('queued'));
    // Before the banner is answered nothing is sent or stored: the click waits in memory.
    await page.click('#add');
    await page.waitForTimeout(300);
    assert.deepEqual(readLog(dataDir), []);
    assert.deepEqual((await readIndexedDb(page)).events, []);

    await page.click('#accept');
    await page.click('#add');
    await page.click('#login');
    await page.click('#spa');
    await page.click('#leave');
    await page.waitForURL('**/thanks.html');

    const events = await waitFor(() => {
      const log = readLog(dataDir);
      return log.some((e) => e.eventName === 'checkout_started') ? log : null;
    }, 15000, "the example's events in the relay log");
    const named = (name) => events.filter((e) => e.eventName === name);
    assert.equal(named('add_to_cart').length, 2, 'the click before consent goes out once it is given');
    assert.equal(named('add_to_cart')[0].properties.productId, 'p123');
    const identify = events.find((e) => e.type === 'identify');
    assert.equal(identify?.userId, 'u456');
    const paths = events.filter((e) => e.type === 'page').map((e) => new URL(e.context.page.url).pathname);
    assert.ok(paths.includes('/examples/web/index.html') && paths.includes('/examples/web/checkout'), JSON.stringify(paths));
    // Tracked after log-in, on the way out: the same person, by beacon.
    assert.equal(named('checkout_started')[0].userId, 'u456');
    assert.equal(new Set(events.map((e) => e.anonymousId)).size, 1);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await site.close();
    await relay.stop();
    cleanup(dataDir);
  }
});
