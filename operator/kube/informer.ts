// The read path of both binaries: a watch-backed cache of one resource on client-node 1.x's
// ListWatch. It lists once, in pages that are trimmed one by one (a large cluster is never held
// twice, nor whole), then watches from the list's resourceVersion and resumes from the last
// resourceVersion it saw after every disconnect; only a 410 Gone makes it list again, and that
// list reports as deleted whatever vanished during the gap. Errors restart the watch with
// backoff (an API server restart is an error like any other), never the process.
//
// It also remembers the operator's own writes until the watch delivers them: a reconcile that
// runs right after a write reads the object as the write's response left it, not the older
// cached one, and so neither undoes nor repeats the write (what controller-runtime's
// expectations are for).
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { requestJson } from './raw-request.js';

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

export class Informer<T extends Cached> {
  private readonly lw: ListWatch<KubernetesObject>;
  private readonly listeners: CacheListener<T>[] = [];
  private readonly ownWrites = new Map<string, OwnWrite<T>>();
  private readonly backoff = new Backoff(500, 30_000);
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private syncedResolve: (() => void) | undefined;
  private lists = 0;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: InformerOptions<T>,
  ) {
    this.synced = new Promise((resolve) => (this.syncedResolve = resolve));
    this.lw = new ListWatch<KubernetesObject>(
      options.path,
      new Watch(kc),
      () => this.listAll() as never,
      false,
      options.labelSelector,
    );
    const trim = options.trim ?? ((o: T): T => o);
    // The ListWatch stores the watched object before calling back: trimming it here, first,
    // trims the stored one (the same object); nothing has read it yet. Listed items arrive
    // trimmed already, and trimming is idempotent.
    this.lw.on('add', (o) => this.deliver('ADDED', trim(o as T)));
    this.lw.on('update', (o) => this.deliver('MODIFIED', trim(o as T)));
    this.lw.on('delete', (o) => this.deliver('DELETED', o as T));
    this.lw.on('error', (err: unknown) => this.restart(err));
  }

  /** Called for every change, after the cache holds it. */
  onEvent(listener: CacheListener<T>): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.stopped = false;
    void this.lw.start().catch((err: unknown) => this.restart(err));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.lw.stop();
  }

  /** The object, as this process last wrote it if the watch has not caught up yet. */
  get(name: string, namespace?: string): T | undefined {
    const own = this.ownWrites.get(cacheKey(namespace, name));
    if (own) return own.object;
    return this.lw.get(name, namespace) as T | undefined;
  }

  /** Every object (of one namespace, if given), own writes included. */
  list(namespace?: string): T[] {
    const items = this.lw.list(namespace) as T[];
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
    const obj = (this.options.trim ?? ((o: T): T => o))(written);
    const rv = obj.metadata?.resourceVersion;
    const cachedRv = (this.lw.get(obj.metadata?.name ?? '', obj.metadata?.namespace) as T | undefined)
      ?.metadata?.resourceVersion;
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
    const cached = this.lw.get(obj.metadata?.name ?? '', obj.metadata?.namespace) as T | undefined;
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

  private async listAll(): Promise<{ metadata: { resourceVersion?: string }; items: T[] }> {
    const trim = this.options.trim ?? ((o: T): T => o);
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
      for (const item of page.items ?? []) items.push(trim(item));
      token = page.metadata?.continue || undefined;
    } while (token);
    this.lists += 1;
    setImmediate(() => {
      this.backoff.reset();
      this.syncedResolve?.();
      this.syncedResolve = undefined;
    });
    return { metadata: { resourceVersion }, items };
  }

  private restart(err: unknown): void {
    if (this.stopped) return;
    const delayMs = this.backoff.next();
    this.options.log.warn('watch failed; resuming', {
      path: this.options.path,
      delayMs,
      error: describe(err),
    });
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.lw.start().catch((e: unknown) => this.restart(e));
    }, delayMs);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
