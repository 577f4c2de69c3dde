// Main-thread cost of track() in headless Chromium, in microseconds per call.
//
// - "call": the synchronous part the page waits for (argument snapshot with
//   JSON.stringify, time and page capture, push to the call buffer);
// - "deferred": the SDK's own later tasks (its timer callbacks and the drains
//   its posted messages start: the WASM
//   core builds, ids, sessions and queues the event, the store mirrors it
//   into IndexedDB, a send is started), timed around each callback and
//   divided by the events;
// - baseline, same run: the floor any SDK that snapshots calls pays,
//   `buffer.push([JSON.stringify(props), Date.now()])`.
// Each is timed in a burst and one call per task, the tasks a frame apart (an
// idle thread) or back to back (a busy one); and nothing at all between two
// clock readings, to show what the clock itself adds.
// The page is cross-origin isolated so performance.now() has 5 µs resolution.
//
// Usage (after sdk-wasm/build.sh): node sdk-wasm/bench/track-time.mjs [calls-per-round]
import { cleanup, freePort, launchBrowser, openTestPage, startRelay, startStatic, tempDir, WRITE_KEY } from '../test/harness.mjs';

const calls = Number(process.argv[2] || 1000);
const site = await startStatic({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
const dataDir = tempDir('spoor-bench-');
const relay = await startRelay(await freePort(), dataDir);
const browser = await launchBrowser();
try {
  // Time every setTimeout callback (only the SDK uses timers on this page) and
  // every message handler of a MessageChannel made before the measuring starts
  // (the SDK's drains are started by a posted message; the bench's own channels
  // come later and are not timed).
  await browser.context.addInitScript(() => {
    window.__sdkTaskMs = [];
    window.__benchChannels = false;
    const timed = (fn) => (...args) => {
      const t0 = performance.now();
      try {
        fn(...args);
      } finally {
        window.__sdkTaskMs.push(performance.now() - t0);
      }
    };
    const originalTimeout = window.setTimeout;
    window.setTimeout = (fn, ms, ...args) => originalTimeout(timed(() => fn(...args)), ms);
    const OriginalChannel = window.MessageChannel;
    const onmessage = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
    window.MessageChannel = function MessageChannel() {
      const channel = new OriginalChannel();
      if (!window.__benchChannels) {
        Object.defineProperty(channel.port1, 'onmessage', {
          get: () => onmessage.get.call(channel.port1),
          set: (fn) => onmessage.set.call(channel.port1, timed(fn)),
        });
      }
      return channel;
    };
  });
  const { page } = await openTestPage(browser.context, site.url);
  const ok = await page.evaluate(
    ([endpoint, writeKey]) => spoor.init({ writeKey, endpoint, requireConsent: false, autoPage: false }),
    [relay.url, WRITE_KEY],
  );
  if (!ok) throw new Error('the SDK did not start');
  const result = await page.evaluate(async (calls) => {
    window.__benchChannels = true;
    const idle = () => new Promise((r) => requestAnimationFrame(() => new MessageChannel().port1.postMessage(0) || setTimeoutFree(r)));
    // Wait for the SDK's tasks without adding timers of our own.
    function setTimeoutFree(r) {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => r();
      channel.port2.postMessage(0);
    }
    const settle = async () => {
      for (let i = 0; i < 5; i++) await idle();
    };
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const props = { productId: 'p123', category: 'shoes', surface: 'home', position: 3, price: 19.5 };
    // Warm up the JIT and the WASM code.
    for (let i = 0; i < 2000; i++) spoor.track('product_clicked', props);
    await settle();
    const out = {};
    const buffer = [];
    let t0 = performance.now();
    for (let i = 0; i < calls * 10; i++) buffer.push([JSON.stringify(props), Date.now()]);
    out.baseline = ((performance.now() - t0) * 1000) / (calls * 10);

    // A burst: `calls` track() calls in one task, then the SDK's tasks.
    let callMs = 0;
    let taskMs = 0;
    for (let round = 0; round < 10; round++) {
      window.__sdkTaskMs.length = 0;
      t0 = performance.now();
      for (let i = 0; i < calls; i++) spoor.track('product_clicked', props);
      callMs += performance.now() - t0;
      await settle();
      taskMs += sum(window.__sdkTaskMs);
    }
    out.burstCall = (callMs * 1000) / (calls * 10);
    out.burstDeferred = (taskMs * 1000) / (calls * 10);

    // One call per task, as a click handler makes it: medians over 500 calls
    // (a loaded machine preempts the page now and then; means would show that).
    const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
    const callUs = [];
    const taskUs = [];
    for (let i = 0; i < 500; i++) {
      window.__sdkTaskMs.length = 0;
      t0 = performance.now();
      spoor.track('product_clicked', props);
      callUs.push((performance.now() - t0) * 1000);
      await settle();
      taskUs.push(sum(window.__sdkTaskMs) * 1000);
    }
    const baseUs = [];
    const sinkArray = [];
    for (let i = 0; i < 500; i++) {
      t0 = performance.now();
      sinkArray.push([JSON.stringify(props), Date.now()]);
      baseUs.push((performance.now() - t0) * 1000);
      await settle();
    }
    // One call per task with the tasks back to back (a posted message between, no frame):
    // a handler on a page that is busy rather than idle.
    const hop = () => new Promise((r) => setTimeoutFree(r));
    const busyUs = [];
    const busyBaseUs = [];
    for (let i = 0; i < 500; i++) {
      await hop();
      t0 = performance.now();
      sinkArray.push([JSON.stringify(props), Date.now()]);
      busyBaseUs.push((performance.now() - t0) * 1000);
      await hop();
      t0 = performance.now();
      spoor.track('product_clicked', props);
      busyUs.push((performance.now() - t0) * 1000);
    }
    await settle();
    out.busyBaseline = median(busyBaseUs);
    out.busyCall = median(busyUs);
    const emptyUs = [];
    for (let i = 0; i < 500; i++) {
      t0 = performance.now();
      emptyUs.push((performance.now() - t0) * 1000);
      await settle();
    }
    out.singleEmpty = median(emptyUs);
    const timerUs = [];
    const posted = new MessageChannel();
    posted.port1.onmessage = () => {};
    for (let i = 0; i < 500; i++) {
      t0 = performance.now();
      posted.port2.postMessage(0);
      timerUs.push((performance.now() - t0) * 1000);
      await settle();
    }
    out.singleBaseline = median(baseUs);
    out.singleTimer = median(timerUs);
    out.singleCall = median(callUs);
    out.singleDeferred = median(taskUs);
    out.singleDeferredMean = sum(taskUs) / taskUs.length;
    out.stats = spoor.stats();
    out.isolated = crossOriginIsolated;
    return out;
  }, calls);
  const f = (x) => x.toFixed(1);
  console.log(`Chromium ${browser.context.browser()?.version() ?? '(version unknown)'}, crossOriginIsolated=${result.isolated}`);
  console.log('| measure | µs per event |\n|---|---|');
  console.log(`| baseline: \`buffer.push([JSON.stringify(props), Date.now()])\`, ${calls * 10} in one task | ${f(result.baseline)} |`);
  console.log(`| track() call, ${calls} calls in one task | ${f(result.burstCall)} |`);
  console.log(`| SDK's deferred tasks per event, same burst | ${f(result.burstDeferred)} |`);
  console.log(`| baseline, one call per task, tasks back to back (median) | ${f(result.busyBaseline)} |`);
  console.log(`| track() call, one call per task, tasks back to back (median) | ${f(result.busyCall)} |`);
  console.log(`| nothing between two clock readings, one per task (median) | ${f(result.singleEmpty)} |`);
  console.log(`| baseline, one call per task (median) | ${f(result.singleBaseline)} |`);
  console.log(`| a posted message alone, one per task (median; track() posts one per task to start its drain) | ${f(result.singleTimer)} |`);
  console.log(`| track() call, one call per task (median) | ${f(result.singleCall)} |`);
  console.log(`| SDK's deferred tasks per event, one call per task (median; mean with the sends and IndexedDB writes every ~20 events: ${f(result.singleDeferredMean)}) | ${f(result.singleDeferred)} |`);
  console.log(`after the run: ${JSON.stringify(result.stats)}`);
} finally {
  await browser.close();
  await relay.stop();
  await site.close();
  cleanup(dataDir);
}
