// The persistent queue: IndexedDB, else localStorage, else memory only.
//
// spoor-core keeps the queue in memory and commits every change as one write
// batch (see sdk-wasm/src/store.rs). This module mirrors those batches to the
// browser's storage and reads everything back once at start. It decides
// nothing about events: which ones exist, how many, and when they leave is
// the core's business. Two things are this module's own:
//  - a QuotaExceededError (the origin's quota is full of other data) drops the
//    oldest persisted events to make room and counts them; it never throws;
//  - identity values (anonymousId, userId, session) reach the disk only while
//    the default consent category is granted; the consent decision always does.

const EVENTS = 'events';
const META = 'meta';
const ALWAYS_PERSISTED = 'consent';
/** Each retry after a QuotaExceededError halves the stored queue: 16 halvings empty any queue. */
const QUOTA_RETRIES = 16;
/** Changes reach storage at most this long (ms) after the core made them. */
const PERSIST_DELAY = 200;

function isQuota(error) {
  return !!error && (error.name === 'QuotaExceededError' || error.code === 22 || error.code === 1014);
}

function openIdb(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    // Some private modes never answer: fall back rather than wait forever.
    const timer = setTimeout(() => reject(new Error('IndexedDB did not open')), 3000);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(EVENTS)) db.createObjectStore(EVENTS, { keyPath: 'eventId' });
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    request.onsuccess = () => {
      clearTimeout(timer);
      resolve(request.result);
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(request.error);
    };
  });
}

/** IndexedDB: one readwrite transaction per write batch, so a batch is all or nothing. */
class IdbBackend {
  constructor(db) {
    this.db = db;
  }

  load() {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction([EVENTS, META], 'readonly');
      const events = tx.objectStore(EVENTS).getAll();
      const keys = tx.objectStore(META).getAllKeys();
      const values = tx.objectStore(META).getAll();
      tx.oncomplete = () => resolve({ events: events.result, meta: keys.result.map((k, i) => [String(k), values.result[i]]) });
      tx.onabort = () => reject(tx.error);
    });
  }

  /** Resolves to null, or the error that aborted the transaction. */
  write(puts, dels, metas) {
    return new Promise((resolve) => {
      let tx;
      try {
        tx = this.db.transaction([EVENTS, META], 'readwrite');
        const events = tx.objectStore(EVENTS);
        const meta = tx.objectStore(META);
        for (const id of dels) events.delete(id);
        for (const row of puts) events.put(row);
        for (const [key, value] of metas) value == null ? meta.delete(key) : meta.put(value, key);
      } catch (error) {
        resolve(error);
        return;
      }
      tx.oncomplete = () => resolve(null);
      tx.onabort = () => resolve(tx.error || new Error('IndexedDB transaction aborted'));
    });
  }
}

/** localStorage: one key per event (`<prefix>e:<eventId>`) and per meta value (`<prefix>m:<key>`). */
class LocalBackend {
  constructor(prefix) {
    this.prefix = prefix;
  }

  load() {
    const events = [];
    const meta = [];
    const e = this.prefix + 'e:';
    const m = this.prefix + 'm:';
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (!key) continue;
      try {
        if (key.startsWith(e)) {
          const [seq, category, queuedAt, body] = JSON.parse(localStorage.getItem(key));
          events.push({ eventId: key.slice(e.length), seq, category, queuedAt, body });
        } else if (key.startsWith(m)) {
          meta.push([key.slice(m.length), localStorage.getItem(key)]);
        }
      } catch (_) {
        // A corrupt entry: skip it.
      }
    }
    return { events, meta };
  }

  /** Returns null, or the error (a QuotaExceededError) that stopped it. Deletes go first. */
  write(puts, dels, metas) {
    try {
      for (const id of dels) localStorage.removeItem(this.prefix + 'e:' + id);
      for (const row of puts) {
        localStorage.setItem(this.prefix + 'e:' + row.eventId, JSON.stringify([row.seq, row.category, row.queuedAt, row.body]));
      }
      for (const [key, value] of metas) {
        if (value == null) localStorage.removeItem(this.prefix + 'm:' + key);
        else localStorage.setItem(this.prefix + 'm:' + key, value);
      }
      return null;
    } catch (error) {
      return error;
    }
  }
}

/** Nothing persists (no storage available, or `storage: 'memory'`). */
class MemoryBackend {
  load() {
    return { events: [], meta: [] };
  }

  write() {
    return null;
  }
}

function localStorageWorks() {
  try {
    const key = '__spoor_probe__';
    localStorage.setItem(key, '1');
    localStorage.removeItem(key);
    return true;
  } catch (_) {
    return false;
  }
}

/**
 * Opens the store: `prefer` is 'indexeddb' (default: IndexedDB, then
 * localStorage, then memory), 'localStorage' or 'memory'.
 */
export async function openStore(name, prefer) {
  if (prefer !== 'memory' && prefer !== 'localStorage' && globalThis.indexedDB) {
    try {
      return new Store(new IdbBackend(await openIdb(name)), 'indexeddb');
    } catch (_) {
      // Blocked or broken IndexedDB: try localStorage.
    }
  }
  if (prefer !== 'memory' && localStorageWorks()) return new Store(new LocalBackend(name + ':'), 'localStorage');
  return new Store(new MemoryBackend(), 'memory');
}

/** The write-through mirror the WASM core commits to (its `StoreSink`). */
export class Store {
  constructor(backend, kind) {
    this.backend = backend;
    /** 'indexeddb', 'localStorage' or 'memory'. */
    this.kind = kind;
    /** Events dropped from storage to get under the origin's quota. */
    this.dropped = 0;
    /** Write batches that failed for another reason (the events stay in memory). */
    this.errors = 0;
    this.persistIdentity = false;
    this.ids = new Map(); // seq -> eventId of every persisted event
    this.meta = new Map(); // every meta value the core holds, persisted or not
    // Changes not yet written, coalesced: one transaction per PERSIST_DELAY, not per event.
    this.puts = new Map(); // eventId -> row
    this.dels = new Set(); // eventIds
    this.metas = new Map(); // key -> value (null: delete)
    this.timer = 0;
    const store = this;
    // The object the WASM side calls (see StoreSink in sdk-wasm/src/store.rs).
    this.sink = {
      put(seq, eventId, category, queuedAt, body) {
        store.ids.set(seq, eventId);
        store.puts.set(eventId, { eventId, seq, category, queuedAt, body });
      },
      del(seq) {
        const id = store.ids.get(seq);
        if (id === undefined) return;
        store.ids.delete(seq);
        // Sent and acknowledged before it was ever written: nothing to delete.
        if (!store.puts.delete(id)) store.dels.add(id);
      },
      meta(key, value) {
        if (value == null) store.meta.delete(key);
        else store.meta.set(key, value);
        if (store.persistIdentity || key === ALWAYS_PERSISTED) store.metas.set(key, value == null ? null : value);
      },
      end() {
        if (!store.timer) store.timer = setTimeout(() => store.persist(), PERSIST_DELAY);
      },
    };
  }

  /**
   * Reads the persisted queue and meta. Events from earlier pages (or other
   * tabs) are put in time order and numbered afresh, so two tabs' sequence
   * numbers never collide.
   */
  async load() {
    let loaded;
    try {
      loaded = await this.backend.load();
    } catch (_) {
      this.errors++;
      loaded = { events: [], meta: [] };
    }
    const events = loaded.events
      .filter((e) => e && typeof e.eventId === 'string' && typeof e.body === 'string')
      .sort((a, b) => a.queuedAt - b.queuedAt || a.seq - b.seq);
    events.forEach((e, i) => {
      e.seq = i;
      this.ids.set(i, e.eventId);
    });
    for (const [key, value] of loaded.meta) this.meta.set(key, value);
    return { events, meta: loaded.meta };
  }

  /**
   * Whether identity values may be on disk (the default category is granted).
   * Turning it on writes them; turning it off removes them from disk.
   */
  setPersistIdentity(on) {
    if (on === this.persistIdentity) return;
    this.persistIdentity = on;
    for (const [key, value] of this.meta) {
      if (key !== ALWAYS_PERSISTED) this.metas.set(key, on ? value : null);
    }
  }

  /**
   * Writes every change recorded so far as one transaction, now. Called
   * PERSIST_DELAY after a change, before each send, on consent changes and
   * when the page is hidden or goes away.
   */
  persist() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (!this.puts.size && !this.dels.size && !this.metas.size) return;
    const puts = [...this.puts.values()];
    const dels = [...this.dels];
    const metas = [...this.metas];
    this.puts.clear();
    this.dels.clear();
    this.metas.clear();
    this.write(puts, dels, metas, 0);
  }

  write(puts, dels, metas, attempt) {
    const done = (error) => {
      if (!error) return;
      if (isQuota(error) && attempt < QUOTA_RETRIES) {
        this.dropOldest(puts);
        // Events acknowledged meanwhile are no longer in `ids`: do not write them back.
        const still = puts.filter((row) => this.ids.get(row.seq) === row.eventId);
        this.write(still, dels, metas, attempt + 1);
      } else if (isQuota(error)) {
        this.dropped += puts.length;
      } else {
        this.errors++;
      }
    };
    const result = this.backend.write(puts, dels, metas);
    if (result && typeof result.then === 'function') result.then(done);
    else done(result);
  }

  /** Makes room: forgets the oldest half of the persisted events (at least one), counted. */
  dropOldest(puts) {
    const seqs = [...this.ids.keys()].sort((a, b) => a - b);
    const count = Math.max(1, Math.ceil(seqs.length / 2));
    const victims = [];
    for (const seq of seqs.slice(0, count)) {
      victims.push(this.ids.get(seq));
      this.ids.delete(seq);
    }
    this.dropped += victims.length;
    const gone = new Set(victims);
    const remaining = puts.filter((row) => !gone.has(row.eventId));
    puts.length = 0;
    puts.push(...remaining);
    // Best effort: a delete never needs more quota.
    this.backend.write([], victims, []);
  }
}
