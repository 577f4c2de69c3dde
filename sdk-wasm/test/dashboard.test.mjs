// The relay's dashboard (`GET /`) in real headless Chromium, after `spoor demo`
// has sent its traffic through the Rust SDK to a real `spoor up` on loopback.
// It lives beside the browser SDK's tests because they share the Chromium harness.
// Run by .ci/test-browser.sh:  node --test --test-concurrency=1 sdk-wasm/test/

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { READ_KEY, WRITE_KEY, cleanup, freePort, launchBrowser, spoorBinary, startRelay, tempDir, waitFor } from './harness.mjs';

const PANELS = ['realtime', 'funnel', 'retention', 'attribution', 'experiment', 'relay'];

test('after spoor demo, every panel of the dashboard shows data', async () => {
  const dataDir = tempDir('spoor-dashboard-data-');
  const relay = await startRelay(await freePort(), dataDir);
  const browser = await launchBrowser();
  try {
    const out = execFileSync(
      spoorBinary(),
      ['demo', '--endpoint', relay.url, '--write-key', WRITE_KEY, '--users', '120', '--days', '14'],
      { encoding: 'utf8' },
    );
    assert.match(out, / 0 undelivered/, out);
    // The pipeline inside `spoor up` reads the demo's events from the log by itself.
    await waitFor(
      async () => {
        const answer = await fetch(`${relay.url}/api/analytics/realtime?minutes=60`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
        const body = await answer.json();
        return body.pipeline.behindRecords === 0 && body.minutes.length > 0;
      },
      60000,
      'the pipeline to catch up with the demo',
    );

    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error));
    await page.goto(`${relay.url}/`);
    await page.fill('#key', READ_KEY);
    await page.dispatchEvent('#key', 'change');
    await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`#${id} table`)), PANELS, { timeout: 30000 });

    const rows = (id) =>
      page.$$eval(`#${id} tr`, (trs) => trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    for (const id of PANELS) assert.ok((await rows(id)).length > 0, `${id} has rows`);

    // People on the site in the last hour are in the realtime minutes.
    const realtime = await rows('realtime');
    assert.ok(realtime.some(([, events]) => Number(events) > 0), JSON.stringify(realtime));
    // The checkout funnel: four steps, each a share of the first, narrowing.
    const funnel = await rows('funnel');
    assert.deepEqual(
      funnel.map(([step]) => step),
      ['view_product', 'add_to_cart', 'checkout_started', 'purchase_completed'],
    );
    assert.equal(funnel[0][2], '100.0%');
    const people = funnel.map(([, n]) => Number(n.replace(/\D/g, '')));
    assert.ok(people[0] > 0 && people.every((n, i) => i === 0 || n <= people[i - 1]), JSON.stringify(funnel));
    for (const [, , share] of funnel) assert.match(share, /^\d+\.\d%$/);
    // The A/B test: both variants, the treatment's lift against control as a percentage.
    const experiment = await rows('experiment');
    assert.deepEqual(experiment.map(([variant]) => variant).sort(), ['control', 'treatment']);
    assert.match(experiment.find(([v]) => v === 'treatment')[4], /^[+-]?\d+\.\d%/);
    assert.match(await page.textContent('#experiment'), /sample ratio p = \d\.\d{3}/);
    // The relay's own counters, in words: what the demo sent, accepted and refused.
    const relayRows = Object.fromEntries(await rows('relay'));
    assert.ok(Number(relayRows['events accepted'].replace(/\D/g, '')) > 0, JSON.stringify(relayRows));
    assert.match(relayRows['events refused (dead-letter log)'], /^[1-9][\d,]* — .*unknown_event/);
    assert.match(relayRows['fsync of the event log, mean'], /^\d+\.\d\d ms$/);
    assert.deepEqual(errors, []);
    assert.equal(await page.$$eval('.error', (els) => els.length), 0);
  } finally {
    await browser.close();
    await relay.stop();
    cleanup(dataDir);
  }
});
