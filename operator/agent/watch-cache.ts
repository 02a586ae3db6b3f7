// A watch-backed cache of one resource on client-node 1.x's ListWatch: it lists once, then
// resumes watches from the last resourceVersion (re-listing only on 410 Gone), and restarts
// with backoff after errors. Objects are kept as plain JSON, the shape the pure model reads.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';

export interface PlainList<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}

export class WatchCache<T extends { metadata?: { name?: string; namespace?: string } }> {
  private lw: ListWatch<KubernetesObject> | undefined;
  private stopped = false;
  private readonly backoff = new Backoff(500, 30_000);
  private syncedResolve: (() => void) | undefined;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly path: string,
    private readonly list: () => Promise<PlainList<T>>,
    private readonly onChange: (obj: T) => void,
    private readonly log: Logger,
    /**
     * Applied in place to every object as it arrives, before anyone reads it: listed and watched
     * objects alike reach the cache through its add/update callbacks.
     */
    private readonly prepare: (obj: T) => void = () => undefined,
  ) {
    this.synced = new Promise((resolve) => (this.syncedResolve = resolve));
  }

  start(): void {
    const lw = new ListWatch<KubernetesObject>(
      this.path,
      new Watch(this.kc),
      async () => {
        const list = await this.list();
        // The connect callback fires before each list; the list result marks the cache synced.
        setImmediate(() => {
          this.backoff.reset();
          this.syncedResolve?.();
          this.syncedResolve = undefined;
        });
        return list as never;
      },
      false,
    );
    const changed = (o: KubernetesObject): void => this.onChange(o as T);
    // The cache stored the watched object before calling back: trimming it here, first, trims
    // the stored one (the same object); nothing has read it yet.
    const arrived = (o: KubernetesObject): void => {
      this.prepare(o as T);
      this.onChange(o as T);
    };
    lw.on('add', arrived);
    lw.on('update', arrived);
    lw.on('delete', changed);
    lw.on('error', (err: unknown) => {
      if (this.stopped) return;
      const delay = this.backoff.next();
      this.log.warn('watch failed; restarting', { path: this.path, delayMs: delay, error: describe(err) });
      setTimeout(() => {
        if (!this.stopped) void lw.start().catch(() => undefined);
      }, delay);
    });
    this.lw = lw;
    void lw
      .start()
      .catch((err: unknown) =>
        this.log.error('watch start failed', { path: this.path, error: describe(err) }),
      );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.lw?.stop();
  }

  items(): readonly T[] {
    return (this.lw?.list() ?? []) as readonly T[];
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
