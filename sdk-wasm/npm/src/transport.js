// Moving batch bodies to the relay. The browser always sends `text/plain`
// with the write key inside the JSON body: that is a CORS "simple request"
// (no preflight round trip) and the only form `sendBeacon` can send.

/** Adds `"writeKey"` to a batch body `{"batch":[...],...}` from the core. */
export function withWriteKey(body, writeKey) {
  return '{"writeKey":' + JSON.stringify(writeKey) + ',' + body.slice(1);
}

/**
 * POSTs with `fetch(..., {keepalive: true})`, so a send that is under way when
 * the page goes away still completes. Resolves to `[status, retryAfter]`;
 * status 0 means no answer (network error, CORS failure, timeout). Never rejects.
 */
export function post(url, body, timeoutMs) {
  let timer = 0;
  let controller = null;
  try {
    controller = new AbortController();
    timer = setTimeout(() => controller.abort(), timeoutMs);
  } catch (_) {
    // No AbortController: rely on the browser's own timeout.
  }
  let request;
  try {
    request = fetch(url, {
      method: 'POST',
      body,
      // keepalive bodies are limited to 64 KiB in flight; the core's batches stay under it.
      keepalive: body.length < 65536,
      credentials: 'omit',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      signal: controller ? controller.signal : undefined,
    });
  } catch (_) {
    request = Promise.reject(new Error('fetch unavailable'));
  }
  return request
    .then(
      // Read the (small) answer to the end: until then the browser counts the
      // request against its 64 KiB keepalive budget and refuses the next one.
      (response) => response.text().then(
        () => [response.status, response.headers.get('Retry-After')],
        () => [response.status, response.headers.get('Retry-After')],
      ),
      () => [0, null],
    )
    .finally(() => clearTimeout(timer));
}

/** Hands a body to `navigator.sendBeacon`; true if the browser took it. */
export function beacon(url, body) {
  try {
    return !!(globalThis.navigator && navigator.sendBeacon && navigator.sendBeacon(url, body));
  } catch (_) {
    return false;
  }
}
