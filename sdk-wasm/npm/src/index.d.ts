// Types of @spoor/browser.

/** A JSON object: properties, traits or context. */
export type JsonObject = { [key: string]: unknown };

/** Options every recording call accepts. */
export interface CallOptions {
  /** Consent category of this event; default the `defaultCategory` ("analytics"). */
  category?: string;
  /** Context for this event only, merged over the SDK's context. */
  context?: JsonObject;
  /** When it happened, if not now. */
  timestamp?: Date | number;
}

/** Options of {@link init}. Times are in milliseconds. */
export interface InitOptions {
  /** The source's write key (public: it only allows sending events). */
  writeKey: string;
  /** Base URL of the relay, e.g. `https://t.example.com`; default: this page's origin. */
  endpoint?: string;
  /** Path of the batch route on `endpoint`; default `/api/events/batch`. Serve it under a first-party path of your own to keep blockers off. */
  path?: string;
  /** Consent is required before anything is stored or sent (default true). false: everything is granted until setConsent/optOut. */
  requireConsent?: boolean;
  /** Categories granted from the start (same as calling setConsent right after init). */
  consent?: string[];
  /** Category of events that name none; default "analytics". */
  defaultCategory?: string;
  /** Honour `navigator.globalPrivacyControl` by denying `gpcCategories` (default true). */
  honorGlobalPrivacyControl?: boolean;
  /** Categories a Global Privacy Control signal denies; default ["marketing", "advertising"]. */
  gpcCategories?: string[];
  /** Record a page view at init and on every history navigation (default true). */
  autoPage?: boolean;
  /** Where the queue lives: "indexeddb" (default; falls back to localStorage, then memory), "localStorage" or "memory". */
  storage?: 'indexeddb' | 'localStorage' | 'memory';
  /** Name of the IndexedDB database / localStorage key prefix; default "spoor". */
  storageKey?: string;
  /** Context added to every event (app name, version, ...). */
  context?: JsonObject;
  /** Send when this many events are queued (default 20). */
  flushAt?: number;
  /** Send at the latest this long after the oldest event was queued (default 10000). */
  flushInterval?: number;
  /** At most this many events per request (default 100). */
  maxBatchEvents?: number;
  /** At most this many bytes per request (default and maximum 64512: keepalive and beacons carry 64 KiB). */
  maxBatchBytes?: number;
  /** Queue bound by count; the oldest are dropped and counted beyond it (default 10000). */
  maxQueueEvents?: number;
  /** Queue bound by bytes (default 5 MiB in IndexedDB, 1 MiB in localStorage). */
  maxQueueBytes?: number;
  /** Events kept in memory while consent is pending (default 1000). */
  maxPendingEvents?: number;
  /** Retry backoff base and cap (default 1000 and 300000). */
  retryBase?: number;
  retryCap?: number;
  /** A new session after this long without events (default 1800000). */
  sessionTimeout?: number;
  /** Request timeout (default 30000). */
  timeout?: number;
  /** URL of spoor_wasm_bg.wasm if it is not served next to spoor.js. */
  wasmUrl?: string | URL;
  /** Receives every error instead of the console (the SDK never throws into the page). */
  onError?: (error: unknown) => void;
  /** Log errors with console.warn. */
  debug?: boolean;
}

/** Queue sizes and counters. */
export interface Stats {
  queued: number;
  queuedBytes: number;
  awaitingConsent: number;
  inFlight: number;
  delivered: number;
  batchesSent: number;
  sendFailures: number;
  consecutiveFailures: number;
  droppedQueueFull: number;
  droppedRejected: number;
  droppedAwaitingConsent: number;
  discardedNoConsent: number;
  discardedGpc: number;
  purged: number;
  unreportedDrops: number;
  droppedBeforeInit: number;
  beacons: number;
  buffered: number;
  storage: 'indexeddb' | 'localStorage' | 'memory';
  storageDropped: number;
  storageErrors: number;
  errors: number;
  lastError: string | null;
}

/** Starts the SDK. Resolves true when it runs, false if it could not start; never rejects. */
export function init(options: InitOptions): Promise<boolean>;
/** Records a user action. */
export function track(event: string, properties?: JsonObject, options?: CallOptions): void;
/** Ties this browser to a known user. */
export function identify(userId?: string | number | null, traits?: JsonObject, options?: CallOptions): void;
export function identify(traits: JsonObject, options?: CallOptions): void;
/** Records a page view (url, path, search, title and referrer are filled in). */
export function page(name?: string | null, properties?: JsonObject, options?: CallOptions): void;
export function page(properties: JsonObject, options?: CallOptions): void;
/** Associates the user with a group. */
export function group(groupId: string | number, traits?: JsonObject, options?: CallOptions): void;
/** Merges `previousId` (default: the current user or anonymous id) into `userId`. */
export function alias(userId: string | number, previousId?: string | number | null, options?: CallOptions): void;
/** Forgets the user: new anonymous id, no user id, new session. */
export function reset(): void;
/** The consent decision: these categories are granted, all others denied and purged. */
export function setConsent(categories: string[]): void;
/** Denies everything and purges the queue. */
export function optOut(): void;
/** Sends what is queued now; true once delivered, false if a send failed (it will be retried). */
export function flush(): Promise<boolean>;
/** Resolves when init has finished: true if running. */
export function ready(): Promise<boolean>;
/** Queue sizes and counters; null before the SDK is ready. */
export function stats(): Stats | null;
/** The anonymous id; null before the SDK is ready. */
export function anonymousId(): string | null;

declare const spoor: {
  init: typeof init;
  track: typeof track;
  identify: typeof identify;
  page: typeof page;
  group: typeof group;
  alias: typeof alias;
  reset: typeof reset;
  setConsent: typeof setConsent;
  optOut: typeof optOut;
  flush: typeof flush;
  ready: typeof ready;
  stats: typeof stats;
  anonymousId: typeof anonymousId;
};
export default spoor;
