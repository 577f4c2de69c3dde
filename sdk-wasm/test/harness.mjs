// Real parts for the browser tests: the `spoor` relay binary on a loopback
// port, a static server for the package and the test pages, and headless
// Chromium (/usr/bin/chromium) with a fresh profile, driven by playwright-core.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const sdkDir = resolve(here, '..');
export const repoRoot = resolve(sdkDir, '..');
export const WRITE_KEY = 'browser-test-write-key';
export const READ_KEY = 'browser-test-read-key';
export const CHROMIUM = process.env.SPOOR_CHROMIUM || '/usr/bin/chromium';

/** The `spoor` binary: $SPOOR_BIN, else target/debug/spoor under $CARGO_TARGET_DIR or the repo. */
export function spoorBinary() {
  const candidates = [
    process.env.SPOOR_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug', 'spoor'),
    join(repoRoot, 'target', 'debug', 'spoor'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`the spoor binary is missing (looked at ${candidates.join(', ')}): run \`cargo build -p spoor-cli\` first (.ci/test-browser.sh does)`);
  }
  return found;
}

/** Checks that the built package and Chromium are there, with a clear message if not. */
/**
 * The package directory the pages load from: $SPOOR_PACKAGE_DIR (the
 * unpacked `npm pack` tarball, as .ci/test-browser.sh sets it) or sdk-wasm/npm.
 */
export const packageDir = process.env.SPOOR_PACKAGE_DIR || join(sdkDir, 'npm');

export function checkPrerequisites() {
  const dist = join(packageDir, 'dist');
  for (const file of ['spoor.js', 'spoor_wasm_bg.wasm']) {
    if (!existsSync(join(dist, file))) throw new Error(`${join(dist, file)} is missing: run sdk-wasm/build.sh first`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run .ci/setup-browser.sh`);
  spoorBinary();
}

/** A free loopback port (the OS picks it; nothing listens on it when this returns). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** A fresh temporary directory, removed by `cleanup`. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}
export { waitFor };

/** Starts `spoor up --data-dir D --listen 127.0.0.1:PORT` and waits for /healthz. */
export async function startRelay(port, dataDir) {
  const cwd = tempDir('spoor-relay-cwd-'); // no stray spoor.toml
  const child = spawn(spoorBinary(), ['up', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
    cwd,
    env: { ...process.env, SPOOR_WRITE_KEY: WRITE_KEY, SPOOR_READ_KEY: READ_KEY, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));
  await Promise.race([
    waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 20000, 'the relay to answer /healthz'),
    exited.then((code) => {
      throw new Error(`the relay exited with ${code}: ${output}`);
    }),
  ]);
  return {
    port,
    dataDir,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** The relay's event log, through `spoor log cat` (one parsed event per record). */
export function readLog(dataDir) {
  if (!existsSync(join(dataDir, 'log'))) return [];
  const out = execFileSync(spoorBinary(), ['log', 'cat', '--data-dir', dataDir], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json' };

/**
 * Serves /dist/* from the package and everything else from test/pages (or
 * everything from `root` when given), on 127.0.0.1; `headers` are added to
 * every response.
 */
export function startStatic(headers = {}, root = null) {
  const roots = root ? { '/dist/': join(root, 'dist'), '/': root } : { '/dist/': join(packageDir, 'dist'), '/': join(here, 'pages') };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = path.startsWith('/dist/') ? '/dist/' : '/';
    const root = roots[prefix];
    const file = normalize(join(root, path.slice(prefix.length) || 'index.html'));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store', ...headers });
    res.end(readFileSync(file));
  });
  return new Promise((resolveServer) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolveServer({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Headless Chromium with a fresh user-data-dir. */
export async function launchBrowser(options = {}) {
  const profile = tempDir('spoor-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Records every request the pages make to the relay (url, method, resource type, body). */
export function recordRelayRequests(context, relayPort) {
  const requests = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.port === String(relayPort) && request.method() === 'POST') {
      requests.push({ path: url.pathname, type: request.resourceType(), body: request.postData() });
    }
  });
  return requests;
}

/** Opens the test page and waits until the module has loaded (`window.spoor`). */
export async function openTestPage(context, baseUrl, path = '/index.html') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(baseUrl + path);
  await page.waitForFunction(() => window.spoor !== undefined);
  return { page, errors };
}

/** The queued events and meta keys in the page origin's IndexedDB database "spoor". */
export function readIndexedDb(page) {
  return page.evaluate(
    () =>
      new Promise((resolveDb) => {
        const open = indexedDB.open('spoor');
        open.onupgradeneeded = () => {
          // The SDK never created it: nothing was stored.
          open.transaction.abort();
        };
        open.onerror = () => resolveDb({ exists: false, events: [], meta: [] });
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('events')) {
            db.close();
            resolveDb({ exists: false, events: [], meta: [] });
            return;
          }
          const tx = db.transaction(['events', 'meta']);
          const events = tx.objectStore('events').getAll();
          const meta = tx.objectStore('meta').getAllKeys();
          tx.oncomplete = () => {
            db.close();
            resolveDb({ exists: true, events: events.result, meta: meta.result });
          };
        };
      }),
  );
}

export function cleanup(...dirs) {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

/**
 * A loopback HTTP proxy in front of the relay that records how each request
 * arrived on the wire: DevTools does not see beacons sent while a page
 * unloads, but their headers tell them apart (`Sec-Fetch-Mode: no-cors` for
 * `sendBeacon`, `cors` for `fetch`).
 */
export function startRecordingProxy(targetPort) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      requests.push({
        method: req.method,
        path: req.url,
        mode: req.headers['sec-fetch-mode'],
        dest: req.headers['sec-fetch-dest'],
        contentType: req.headers['content-type'],
        body: body.toString('utf8'),
      });
      try {
        const headers = { ...req.headers };
        delete headers.host;
        delete headers.connection;
        delete headers['content-length'];
        const upstream = await fetch(`http://127.0.0.1:${targetPort}${req.url}`, {
          method: req.method,
          headers,
          body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        });
        const out = {};
        upstream.headers.forEach((v, k) => {
          if (k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding') out[k] = v;
        });
        res.writeHead(upstream.status, out).end(Buffer.from(await upstream.arrayBuffer()));
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    });
  });
  return new Promise((resolveProxy) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolveProxy({ url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
