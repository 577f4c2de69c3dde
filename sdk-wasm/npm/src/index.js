// @spoor/browser: the public API. Every function here is safe to call at any
// time (before init, with bad arguments, after a failure): it records the
// call in a buffer and returns at once; the buffer is applied to the WASM core
// off the page's current task. Nothing here throws into the page.

import initWasm, { Loaded, Tracker } from '../pkg/spoor_wasm.js';
import { staticContext, pageInfo } from './context.js';
import { ALIAS, CONSENT, FLUSH, GROUP, Host, IDENTIFY, OPT_OUT, PAGE, RESET, TRACK } from './host.js';
import { openStore } from './store.js';

/* global __SPOOR_VERSION__ */
const VERSION = typeof __SPOOR_VERSION__ === 'string' ? __SPOOR_VERSION__ : '0.0.0';
/** Calls kept while the SDK loads (or if init is never called; the oldest go first), and the most applied in one deferred task. */
const MAX_BUFFERED = 1000;
/** keepalive fetches and beacons carry at most 64 KiB: batches stay under this. */
const MAX_BODY = 63 * 1024;

const calls = [];
const counters = { droppedBeforeInit: 0, discardedGpc: 0, beacons: 0, errors: 0 };
let settings = null;
let host = null;
let store = null;
let state = 'idle'; // idle → loading → ready | failed
let lastError = null;
let resolveReady;
const readyPromise = new Promise((resolve) => (resolveReady = resolve));
// The page's URL, kept current from history events so a call does not pay for
// reading location.href (a few µs); the previous URL is the referrer after a
// same-document navigation.
let currentHref = globalThis.location ? location.href : '';
let referrer = globalThis.document ? document.referrer : '';
let autoPage = false;

function report(error) {
  counters.errors++;
  lastError = String(error && error.message ? error.message : error);
  try {
    if (settings && settings.onError) settings.onError(error);
    else if (settings && settings.debug) console.warn('[spoor]', error);
  } catch (_) {
    // The page's own handler threw: ignore it.
  }
}

function text(value) {
  return typeof value === 'string' ? value : typeof value === 'number' && isFinite(value) ? String(value) : undefined;
}

function objectJson(value, what) {
  if (value == null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(what + ' must be an object');
  return JSON.stringify(value);
}

function push(call) {
  if (state === 'failed') return;
  calls.push(call);
  if (host) {
    // A burst larger than the buffer is applied at once rather than dropped.
    if (calls.length >= MAX_BUFFERED) host.applyAll();
    host.schedule();
  } else if (calls.length > MAX_BUFFERED) {
    calls.shift();
    counters.droppedBeforeInit++;
  }
}

/** Snapshots a recording call: its arguments as JSON, the time, and the page it was made on. */
function record(kind, name, previousId, props, options) {
  try {
    let optionsJson;
    let category;
    if (options != null && typeof options === 'object') {
      category = typeof options.category === 'string' ? options.category : undefined;
      const ts = options.timestamp == null ? undefined : +options.timestamp;
      optionsJson = JSON.stringify({ category, context: options.context, timestamp: ts });
    }
    const title = globalThis.document ? document.title : '';
    push([kind, text(name), text(previousId), objectJson(props, 'properties'), optionsJson, Date.now(), currentHref, title, referrer, category]);
  } catch (error) {
    report(error);
  }
}

/** Records a user action: `track('product_clicked', {productId: 'p1'})`. */
export function track(event, properties, options) {
  record(TRACK, event, undefined, properties, options);
}

/** Ties this browser to a known user: `identify('u456', {plan: 'pro'})` or `identify({plan: 'pro'})`. */
export function identify(userId, traits, options) {
  if (userId != null && typeof userId === 'object') return identify(undefined, userId, traits);
  record(IDENTIFY, userId, undefined, traits, options);
}

/** Records a page view; url, path, search, title and referrer are filled in. */
export function page(name, properties, options) {
  if (name != null && typeof name === 'object') return page(undefined, name, properties);
  try {
    const info = pageInfo(currentHref, globalThis.document ? document.title : '', referrer);
    const merged = properties != null && typeof properties === 'object' ? Object.assign(info, properties) : info;
    record(PAGE, name, undefined, merged, options);
  } catch (error) {
    report(error);
  }
}

/** Associates the user with a group (account, company). */
export function group(groupId, traits, options) {
  record(GROUP, groupId, undefined, traits, options);
}

/** Merges a previous id (default: the current user or anonymous id) into `userId`. */
export function alias(userId, previousId, options) {
  if (previousId != null && typeof previousId === 'object') return alias(userId, undefined, previousId);
  record(ALIAS, userId, previousId, undefined, options);
}

/** Forgets the user (logout): a new anonymous id, no user id, a new session. */
export function reset() {
  push([RESET, 0, 0, 0, 0, Date.now()]);
}

/** The user's consent decision: these categories are granted, every other one denied (and purged). */
export function setConsent(categories) {
  try {
    const list = Array.isArray(categories) ? categories.filter((c) => typeof c === 'string') : [];
    push([CONSENT, list, 0, 0, 0, Date.now()]);
  } catch (error) {
    report(error);
  }
}

/** Denies everything: nothing more is stored or sent, and the queue is purged. */
export function optOut() {
  push([OPT_OUT, 0, 0, 0, 0, Date.now()]);
}

/** Sends everything queued now; resolves true once delivered, false if a send failed (it is retried). */
export function flush() {
  return new Promise((resolve) => {
    if (state === 'failed') return resolve(false);
    push([FLUSH, resolve, 0, 0, 0, Date.now()]);
  });
}

/** Resolves when init has finished: true if the SDK runs, false if it could not start. */
export function ready() {
  return readyPromise;
}

/** Queue sizes and counters, or null before the SDK is ready. */
export function stats() {
  if (!host) return null;
  try {
    return Object.assign(JSON.parse(host.t.stats()), counters, {
      buffered: calls.length,
      storage: store.kind,
      storageDropped: store.dropped,
      storageErrors: store.errors,
      lastError,
    });
  } catch (error) {
    report(error);
    return null;
  }
}

/** The browser's anonymous id, or null before the SDK is ready. */
export function anonymousId() {
  try {
    return host ? host.t.anonymousId() : null;
  } catch (_) {
    return null;
  }
}

function normalize(options) {
  const o = options || {};
  if (typeof o.writeKey !== 'string' || !o.writeKey) throw new TypeError('init: writeKey is required');
  const endpoint = String(o.endpoint || (globalThis.location ? location.origin : '')).replace(/\/+$/, '');
  const path = typeof o.path === 'string' ? (o.path.startsWith('/') ? o.path : '/' + o.path) : '/api/events/batch';
  const gpc = o.honorGlobalPrivacyControl !== false && !!(globalThis.navigator && navigator.globalPrivacyControl);
  const gpcCategories = Array.isArray(o.gpcCategories) ? o.gpcCategories : ['marketing', 'advertising'];
  return {
    writeKey: o.writeKey,
    endpoint,
    path,
    autoPage: o.autoPage !== false,
    storage: o.storage,
    storageKey: typeof o.storageKey === 'string' ? o.storageKey : 'spoor',
    timeout: o.timeout > 0 ? o.timeout : 30000,
    requireConsent: o.requireConsent !== false,
    consent: Array.isArray(o.consent) ? o.consent : null,
    defaultCategory: typeof o.defaultCategory === 'string' && o.defaultCategory ? o.defaultCategory : 'analytics',
    gpcDenied: new Set(gpc ? gpcCategories : []),
    onError: typeof o.onError === 'function' ? o.onError : null,
    debug: !!o.debug,
    wasmUrl: o.wasmUrl,
    core: o,
  };
}

function coreConfig(s, storeKind) {
  const o = s.core;
  const config = {
    library: { name: 'spoor-browser', version: VERSION },
    context: Object.assign(staticContext(), o.context && typeof o.context === 'object' ? o.context : {}),
    requireConsent: s.requireConsent,
    defaultCategory: s.defaultCategory,
    maxBatchBytes: Math.min(o.maxBatchBytes > 0 ? o.maxBatchBytes : MAX_BODY, MAX_BODY) - s.writeKey.length - 16,
    // Bounded by bytes so the queue can never fill the origin's quota (localStorage has ~5 MB in all).
    maxQueueBytes: o.maxQueueBytes > 0 ? o.maxQueueBytes : storeKind === 'indexeddb' ? 5 << 20 : 1 << 20,
  };
  for (const key of ['flushAt', 'flushInterval', 'maxBatchEvents', 'maxQueueEvents', 'maxPendingEvents', 'retryBase', 'retryCap', 'sessionTimeout']) {
    if (typeof o[key] === 'number' && o[key] >= 0) config[key] = o[key];
  }
  return config;
}

/** Follows same-document navigations (pushState, replaceState, back/forward, hash changes). */
function watchUrl() {
  const moved = () => {
    const href = location.href;
    if (href === currentHref) return;
    const newPage = href.split('#')[0] !== currentHref.split('#')[0];
    if (newPage) referrer = currentHref;
    currentHref = href;
    if (newPage && autoPage) page();
  };
  for (const method of ['pushState', 'replaceState']) {
    const original = history[method];
    if (typeof original !== 'function') continue;
    history[method] = function (...args) {
      const result = original.apply(this, args);
      try {
        moved();
      } catch (_) {
        // Never break the page's navigation.
      }
      return result;
    };
  }
  addEventListener('popstate', moved);
  addEventListener('hashchange', moved);
}

try {
  if (globalThis.history && globalThis.location && globalThis.addEventListener) watchUrl();
} catch (_) {
  // A sandboxed frame without history: calls read the URL captured at load.
}

function watchLifecycle() {
  document.addEventListener('visibilitychange', () => (document.visibilityState === 'hidden' ? host.leave() : host.pump()));
  addEventListener('pagehide', () => host.leave());
  addEventListener('pageshow', (event) => event.persisted && host.pump());
  addEventListener('online', () => host.pump());
}

async function start(s) {
  const [, opened] = await Promise.all([
    initWasm({ module_or_path: s.wasmUrl || new URL('./spoor_wasm_bg.wasm', import.meta.url) }),
    openStore(s.storageKey, s.storage),
  ]);
  store = opened;
  const snapshot = await store.load();
  const loaded = new Loaded();
  for (const e of snapshot.events) loaded.event(e.seq, e.eventId, e.category, e.queuedAt, e.body);
  for (const [key, value] of snapshot.meta) loaded.meta(key, value);
  const seed = new Uint8Array(32);
  crypto.getRandomValues(seed);
  const tracker = new Tracker(JSON.stringify(coreConfig(s, store.kind)), loaded, seed, Date.now(), store.sink);
  host = new Host(tracker, store, calls, s, counters, report);
  if (s.consent) host.apply([CONSENT, s.consent, 0, 0, 0, Date.now()]);
  host.syncConsent();
  watchLifecycle();
  host.drain();
}

/**
 * Starts the SDK: `init({writeKey, endpoint})`. Returns a promise that
 * resolves true when it runs, false if it could not start (it never rejects).
 * Calls made before init are kept and applied once it runs.
 */
export function init(options) {
  if (state !== 'idle') {
    report(new Error('init: already called'));
    return readyPromise;
  }
  state = 'loading';
  try {
    settings = normalize(options);
    if (settings.autoPage) {
      autoPage = true;
      page();
    }
    start(settings).then(
      () => {
        state = 'ready';
        resolveReady(true);
      },
      (error) => fail(error),
    );
  } catch (error) {
    fail(error);
  }
  return readyPromise;
}

function fail(error) {
  state = 'failed';
  report(error);
  for (const call of calls) if (call[0] === FLUSH) call[1](false);
  calls.length = 0;
  resolveReady(false);
}

/** Everything above as one object: `import spoor from '@spoor/browser'`. */
export default { init, track, identify, page, group, alias, reset, setConsent, optOut, flush, ready, stats, anonymousId };
