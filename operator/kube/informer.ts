// The read path of both binaries: a watch-backed cache of one resource. It lists once, in pages
// that are trimmed one by one (a large cluster is never held twice, nor whole), then watches from
// the list's resourceVersion (with bookmarks, so a quiet resource's version still moves) and
// resumes from the last resourceVersion it saw after every disconnect; only a 410 Gone makes it
// list again, and that list reports as deleted whatever vanished during the gap. Errors restart
// the watch with backoff (an API server restart is an error like any other), never the process.
// It is written on plain requests (raw-request.ts) rather than client-node's ListWatch, whose
// module loads client-node's generated API and with it about 60 MB (docs/design.md, "Memory").
//
// It also remembers the operator's own writes until the watch delivers them: a reconcile that
// runs right after a write reads the object as the write's response left it, not the older
// cached one, and so neither undoes nor repeats the write (what controller-runtime's
// expectations are for).
import { Backoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import type { KubeAccess } from './config.js';
import { ApiError, requestJson, streamLines } from './raw-request.js';

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Cached {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface InformerOptions<T extends Cached> {
  /** Collection path, e.g. /api/v1/namespaces. */
  path: string;
  labelSelector?: string;
  /**
   * Reduces an object, in place, to what its readers need; applied to every listed item (page
   * by page) and every watched object before anyone reads it. Returns the same object.
   */
  trim?: (obj: T) => T;
  /** Items per list page. */
  pageSize?: number;
  log: Logger;
}

export type CacheListener<T> = (type: CacheEventType, obj: T) => void;

/** One page of a LIST as the API server sends it. */
interface Page<T> {
  items?: T[];
  metadata?: { continue?: string; resourceVersion?: string };
}

/** What this process wrote and the watch has not delivered yet; `object` undefined: deleted. */
interface OwnWrite<T> {
  object?: T;
  resourceVersion?: string;
  uid?: string;
}

const DEFAULT_PAGE_SIZE = 500;

export function cacheKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

function keyOf(obj: Cached): string {
  return cacheKey(obj.metadata?.namespace, obj.metadata?.name);
}

/**
 * Whether resourceVersion `a` is later than `b`. resourceVersions are opaque by API convention;
 * the API server's are etcd revisions, and this is used only to retire a remembered own write
 * once the watch has moved past it (a write it will never deliver by itself, after a relist).
 */
function laterThan(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) > BigInt(b);
}

/** One line of a watch stream. */
interface WatchLine<T> {
  type?: string;
  object?: T & { code?: number; reason?: string; message?: string };
}

/** The API server no longer has the history a watch asked for: list again. */
class ResourceVersionGone extends Error {}

/**
 * A watch's server-side timeout is drawn from [5, 10) minutes (as client-go does), so that many
 * watchers do not reconnect in step.
 */
const MIN_WATCH_TIMEOUT_S = 300;
/**
 * A watch that has received nothing for this long is reconnected from its last resourceVersion:
 * bookmarks arrive about once a minute, so silence this long means a connection that died
 * without closing.
 */
const WATCH_IDLE_MS = 180_000;

export class Informer<T extends Cached> {
  private readonly store = new Map<string, T>();
  /** The store's objects by namespace ('' for cluster-scoped ones), for list(namespace). */
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly listeners: CacheListener<T>[] = [];
  private readonly ownWrites = new Map<string, OwnWrite<T>>();
  private readonly backoff = new Backoff(500, 30_000);
  private readonly trim: (obj: T) => T;
  /** Where the next watch starts; undefined: list first. */
  private resourceVersion: string | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private inFlight: AbortController | undefined;
  private wake: (() => void) | undefined;
  private syncedResolve: (() => void) | undefined;
  private lists = 0;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;

  constructor(
    private readonly kc: KubeAccess,
    private readonly options: InformerOptions<T>,
  ) {
    this.synced = new Promise((resolve) => (this.syncedResolve = resolve));
    this.trim = options.trim ?? ((o: T): T => o);
  }

  /** Called for every change, after the cache holds it. */
  onEvent(listener: CacheListener<T>): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.inFlight?.abort();
    this.wake?.();
    await this.loop;
  }

  /** The object, as this process last wrote it if the watch has not caught up yet. */
  get(name: string, namespace?: string): T | undefined {
    const key = cacheKey(namespace, name);
    const own = this.ownWrites.get(key);
    if (own) return own.object;
    return this.store.get(key);
  }

  /** Every object (of one namespace, if given), own writes included. */
  list(namespace?: string): T[] {
    const source = namespace === undefined ? this.store : this.byNamespace.get(namespace);
    const items = source ? [...source.values()] : [];
    if (this.ownWrites.size === 0) return items;
    const out = new Map(items.map((o) => [keyOf(o), o]));
    for (const [key, own] of this.ownWrites) {
      if (namespace !== undefined && !key.startsWith(`${namespace}/`)) continue;
      if (own.object) out.set(key, own.object);
      else out.delete(key);
    }
    return [...out.values()];
  }

  /** Own writes the watch has not delivered yet (for tests and the benches). */
  get pendingOwnWrites(): number {
    return this.ownWrites.size;
  }

  /** Complete lists made so far (1 after start-up; one more after every 410 Gone). */
  get listCount(): number {
    return this.lists;
  }

  /**
   * Remembers an object as a write of this process returned it (trimmed like the rest), unless
   * the watch has delivered that version or a later one already (on a local API server the watch
   * event often beats the write's response): then nothing would ever retire it, and the cache
   * would hold the object twice.
   */
  noteWritten(written: T): void {
    const obj = this.trim(written);
    const rv = obj.metadata?.resourceVersion;
    const cachedRv = this.store.get(keyOf(obj))?.metadata?.resourceVersion;
    if (cachedRv !== undefined && (cachedRv === rv || laterThan(cachedRv, rv))) {
      this.ownWrites.delete(keyOf(obj));
      return;
    }
    this.ownWrites.set(keyOf(obj), {
      object: obj,
      resourceVersion: obj.metadata?.resourceVersion,
      uid: obj.metadata?.uid,
    });
  }

  /** Remembers that this process deleted the object (unless the watch has reported it gone). */
  noteDeleted(obj: T): void {
    const cached = this.store.get(keyOf(obj));
    const pending = this.ownWrites.get(keyOf(obj))?.object;
    if (!pending && (!cached || cached.metadata?.uid !== obj.metadata?.uid)) {
      this.ownWrites.delete(keyOf(obj));
      return;
    }
    this.ownWrites.set(keyOf(obj), {
      uid: obj.metadata?.uid,
      resourceVersion: obj.metadata?.resourceVersion,
    });
  }

  /** List (when there is no resourceVersion to resume from), then watch; until stopped. */
  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        await this.watch();
        // The server ended the watch (its timeout): resume at once.
        this.backoff.reset();
      } catch (err) {
        if (!this.running) break;
        if (err instanceof ResourceVersionGone || (err instanceof ApiError && err.statusCode === 410)) {
          this.options.log.info('watch history expired; listing again', { path: this.options.path });
          this.resourceVersion = undefined;
          continue;
        }
        const delayMs = this.backoff.next();
        this.options.log.warn('watch failed; resuming', {
          path: this.options.path,
          delayMs,
          error: describe(err),
        });
        await this.sleep(delayMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One watch request from this.resourceVersion, applying its events until it ends. */
  private async watch(): Promise<void> {
    const query = new URLSearchParams({
      watch: '1',
      allowWatchBookmarks: 'true',
      resourceVersion: this.resourceVersion ?? '',
      timeoutSeconds: String(MIN_WATCH_TIMEOUT_S + Math.floor(Math.random() * MIN_WATCH_TIMEOUT_S)),
    });
    if (this.options.labelSelector) query.set('labelSelector', this.options.labelSelector);
    const controller = new AbortController();
    this.inFlight = controller;
    let failure: Error | undefined;
    const onLine = (line: string): void => {
      if (failure) return;
      try {
        this.apply(JSON.parse(line) as WatchLine<T>);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(describe(err));
        controller.abort();
      }
    };
    try {
      await streamLines(this.kc, `${this.options.path}?${query.toString()}`, onLine, {
        idleMs: WATCH_IDLE_MS,
        signal: controller.signal,
      });
    } catch (err) {
      throw failure ?? err;
    } finally {
      this.inFlight = undefined;
    }
    if (failure) throw failure;
  }

  /** One watch event into the store, then to the listeners. */
  private apply(event: WatchLine<T>): void {
    const object = event.object;
    if (event.type === 'ERROR') {
      if (object?.code === 410) throw new ResourceVersionGone(object.message ?? 'Gone');
      throw new Error(`watch error ${object?.code ?? ''} ${object?.reason ?? ''}: ${object?.message ?? ''}`);
    }
    if (!object?.metadata) throw new Error(`watch event ${event.type ?? '(no type)'} without an object`);
    const rv = object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const obj = this.trim(object);
    const key = keyOf(obj);
    if (event.type === 'DELETED') {
      this.remove(key);
      if (rv) this.resourceVersion = rv;
      this.deliver('DELETED', obj);
      return;
    }
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED')
      throw new Error(`unknown watch event ${event.type}`);
    const known = this.store.has(key);
    this.put(key, obj);
    if (rv) this.resourceVersion = rv;
    this.deliver(known ? 'MODIFIED' : 'ADDED', obj);
  }

  private put(key: string, obj: T): void {
    this.store.set(key, obj);
    const ns = obj.metadata?.namespace ?? '';
    let inNs = this.byNamespace.get(ns);
    if (!inNs) this.byNamespace.set(ns, (inNs = new Map<string, T>()));
    inNs.set(key, obj);
  }

  private remove(key: string): T | undefined {
    const obj = this.store.get(key);
    if (!obj) return undefined;
    this.store.delete(key);
    const ns = obj.metadata?.namespace ?? '';
    const inNs = this.byNamespace.get(ns);
    if (inNs?.delete(key) && inNs.size === 0) this.byNamespace.delete(ns);
    return obj;
  }

  /**
   * A complete list replaces the store: what is new is ADDED, what changed MODIFIED, and what
   * vanished (deleted during a watch gap) DELETED, after the whole list is in the store.
   */
  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.listAll();
    const changes: [CacheEventType, T][] = [];
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const before = this.store.get(key);
      if (before && before.metadata?.resourceVersion === item.metadata?.resourceVersion) continue;
      this.put(key, item);
      changes.push([before ? 'MODIFIED' : 'ADDED', item]);
    }
    for (const key of [...this.store.keys()]) {
      if (seen.has(key)) continue;
      const gone = this.remove(key);
      if (gone) changes.push(['DELETED', gone]);
    }
    this.resourceVersion = resourceVersion ?? '';
    this.lists += 1;
    for (const [type, obj] of changes) this.deliver(type, obj);
    this.syncedResolve?.();
    this.syncedResolve = undefined;
  }

  private deliver(type: CacheEventType, obj: T): void {
    this.retireOwnWrite(type, obj);
    for (const listener of this.listeners) listener(type, obj);
  }

  /** The watch has delivered our write, or something later: the cache is authoritative again. */
  private retireOwnWrite(type: CacheEventType, obj: T): void {
    const key = keyOf(obj);
    const own = this.ownWrites.get(key);
    if (!own) return;
    const rv = obj.metadata?.resourceVersion;
    const done = own.object
      ? type === 'DELETED' || rv === own.resourceVersion || laterThan(rv, own.resourceVersion)
      : type === 'DELETED' || (own.uid !== undefined && obj.metadata?.uid !== own.uid);
    if (done) this.ownWrites.delete(key);
  }

  /** Every page of one list, each item trimmed as its page arrives. */
  private async listAll(): Promise<{ resourceVersion?: string; items: T[] }> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(this.options.pageSize ?? DEFAULT_PAGE_SIZE) });
      if (this.options.labelSelector) query.set('labelSelector', this.options.labelSelector);
      if (token) query.set('continue', token);
      const page = await requestJson<Page<T>>(this.kc, 'GET', `${this.options.path}?${query.toString()}`);
      // Every page of one list is read at the first page's resourceVersion.
      resourceVersion ??= page.metadata?.resourceVersion;
      for (const item of page.items ?? []) items.push(this.trim(item));
      token = page.metadata?.continue || undefined;
    } while (token);
    return { resourceVersion, items };
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
