// The apply edge: programs a Ruleset into the network namespace a Runner points at.
//
// Order: ipsets (new sets and new members first, so rules never refer to a missing set), then
// one atomic `iptables-restore --noflush` that rewrites only changed agent chains and hooks,
// then stale sets are destroyed (nothing refers to them any more). A normal apply diffs against
// the last ruleset it applied; a resync (and the first apply, and any apply after a failure)
// diffs against what iptables-save and ipset save really show, which repairs drift — a flushed
// chain, a deleted hook, a deleted set. If an incremental apply fails it is retried once as a
// resync; if that fails too the error names the chain or set and quotes the tool, and the
// iptables rules in force are still the last good ones (the restore is one transaction).
import type { Logger } from '../util/logger.js';
import { logger } from '../util/logger.js';
import type { ObservedState } from './apply-observe.js';
import { canonicalEntry, observe, observeTable } from './apply-observe.js';
import type { BuiltinChain } from './apply-ownership.js';
import { builtinChains, isAgentHookRule, validateRuleset } from './apply-ownership.js';
import type { ApplyPlan, CurrentState, ProgrammedRule } from './apply-plan.js';
import { isEmptyPlan, planApply, sameRule, setSizing } from './apply-plan.js';
import { normalizeRule } from './apply-rule-text.js';
import type { BackendTools } from './backend.js';
import type { Runner } from './runner.js';
import { CommandError } from './runner.js';
import type { Ruleset } from './types.js';

export class ApplyError extends Error {
  constructor(
    message: string,
    readonly phase: 'ipset' | 'iptables' | 'stale-sets' | 'observe' | 'validate',
    /** The chain, hook or set the failing line was about, when known. */
    readonly subject: string | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApplyError';
  }
}

export interface ApplyResult {
  mode: 'incremental' | 'resync';
  /** An incremental apply failed and was redone as a resync. */
  recovered: boolean;
  chainsCreated: string[];
  chainsRewritten: string[];
  chainsDeleted: string[];
  hooksRewritten: BuiltinChain[];
  setsChanged: number;
  setsDeleted: string[];
  entriesAdded: number;
  entriesRemoved: number;
  /** Lines handed to ipset restore and iptables-restore. */
  ipsetLines: number;
  iptablesLines: number;
  durationMs: number;
}

export interface ApplyOptions {
  /** Diff against the real state instead of the last applied ruleset. */
  resync?: boolean;
}

const restoreTimeoutMs = 120_000;

function lineOfError(stderr: string): number | undefined {
  const m = /line:? (\d+)/i.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class RulesetApplier {
  private applied: Ruleset | undefined;
  /**
   * The chains and hooks arrays of the ruleset last applied, as the caller passed them. Rulesets
   * are values (see types.ts): the same arrays mean the same chains, so a sync that only moved
   * set members (the incremental renderer reuses them) skips the chain diff.
   */
  private appliedShape: Pick<Ruleset, 'chains' | 'hooks'> | undefined;
  /** Desired rule text -> how iptables-save prints it, learned after each write. */
  private readonly savedForm = new Map<string, string>();
  /** Canonical entries of each set as last applied (saves re-parsing unchanged sets). */
  private appliedEntries = new Map<string, Set<string>>();
  /** maxelem each agent set was created with (a set cannot grow past it; a swap recreates it). */
  private readonly maxelem = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    private readonly runner: Runner,
    readonly tools: BackendTools,
    log?: Logger,
  ) {
    this.log = log ?? logger('apply', { where: runner.where, backend: tools.backend, family: tools.family });
  }

  /** The ruleset last applied in full, if the applier trusts it (undefined after a failure). */
  lastApplied(): Ruleset | undefined {
    return this.applied;
  }

  /** Drops what the applier believes is programmed: the next apply observes (after a cleanup). */
  forget(): void {
    this.applied = undefined;
    this.appliedShape = undefined;
  }

  /** Applies; calls are serialized so two syncs never interleave their restores. */
  apply(desired: Ruleset, options: ApplyOptions = {}): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(desired, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(desired: Ruleset, options: ApplyOptions): Promise<ApplyResult> {
    if (desired.family !== this.tools.family) {
      throw new ApplyError(
        `invalid ruleset: an IPv${desired.family} ruleset cannot go to ${this.tools.restore}`,
        'validate',
        undefined,
        '',
      );
    }
    const sameShape =
      !options.resync &&
      this.applied !== undefined &&
      desired.chains === this.appliedShape?.chains &&
      desired.hooks === this.appliedShape.hooks;
    try {
      // Names and references of every chain; rule by rule only the chains that differ from the
      // last apply (the rest was checked when it was written).
      const changed = sameShape ? new Set<string>() : this.chainsChangedSinceApplied(desired);
      validateRuleset(desired, (name) => changed.has(name));
    } catch (e) {
      throw new ApplyError(`invalid ruleset: ${(e as Error).message}`, 'validate', undefined, '', {
        cause: e,
      });
    }
    const started = performance.now();
    const incremental = !options.resync && this.applied !== undefined;
    if (incremental) {
      try {
        return await this.applyAgainst(
          desired,
          this.currentFromApplied(this.applied as Ruleset),
          'incremental',
          false,
          started,
          sameShape,
        );
      } catch (e) {
        if (e instanceof ApplyError && e.phase === 'validate') throw e;
        this.log.warn('incremental apply failed; resyncing from the real state', {
          error: (e as Error).message,
        });
        this.applied = undefined;
      }
    }
    const observed = await this.observeOrThrow();
    return this.applyAgainst(desired, this.currentFromObserved(observed), 'resync', incremental, started);
  }

  private chainsChangedSinceApplied(desired: Ruleset): Set<string> {
    const last = new Map((this.applied?.chains ?? []).map((c) => [c.name, c.rules]));
    return new Set(desired.chains.filter((c) => !sameRules(last.get(c.name), c.rules)).map((c) => c.name));
  }

  private async observeOrThrow(): Promise<ObservedState> {
    try {
      return await observe(this.runner, this.tools);
    } catch (e) {
      throw new ApplyError(
        `reading the current state: ${(e as Error).message}`,
        'observe',
        undefined,
        (e as CommandError).stderr ?? '',
        {
          cause: e,
        },
      );
    }
  }

  private keyForDesired = (rule: string): string => this.savedForm.get(rule) ?? normalizeRule(rule);

  private currentFromApplied(rs: Ruleset): CurrentState {
    const hooks = new Map<BuiltinChain, ProgrammedRule[]>();
    for (const h of rs.hooks)
      hooks.set(h.builtin, [...(hooks.get(h.builtin) ?? []), { text: h.rule, key: h.rule }]);
    return {
      sets: new Map(
        rs.ipsets.map((s) => [
          s.name,
          {
            type: s.type,
            maxelem: this.maxelem.get(s.name) ?? 0,
            entries:
              this.appliedEntries.get(s.name) ?? new Set(s.entries.map((e) => canonicalEntry(s.type, e))),
            raw: s.entries,
          },
        ]),
      ),
      chains: new Map(rs.chains.map((c) => [c.name, c.rules])),
      hooks,
    };
  }

  private currentFromObserved(o: ObservedState): CurrentState {
    const hooks = new Map<BuiltinChain, ProgrammedRule[]>();
    for (const b of builtinChains) {
      hooks.set(
        b,
        (o.table.builtins.get(b) ?? [])
          .filter(isAgentHookRule)
          .map((text) => ({ text, key: normalizeRule(text) })),
      );
    }
    return {
      sets: o.sets,
      chains: new Map([...o.table.chains].map(([name, rules]) => [name, rules.map(normalizeRule)])),
      hooks,
    };
  }

  /** Plans the change from `current` to `desired`, runs it, and trusts `desired` from then on. */
  private async applyAgainst(
    desired: Ruleset,
    current: CurrentState,
    mode: 'incremental' | 'resync',
    recovered: boolean,
    started: number,
    sameShape = false,
  ): Promise<ApplyResult> {
    const keyOf = mode === 'incremental' ? sameRule : this.keyForDesired;
    let plan: ApplyPlan;
    try {
      plan = planApply(desired, current, keyOf, { chainsUnchanged: sameShape });
    } catch (e) {
      throw new ApplyError(`invalid ruleset: ${(e as Error).message}`, 'validate', undefined, '', {
        cause: e,
      });
    }
    if (!isEmptyPlan(plan)) {
      await this.runIpset(plan);
      await this.runIptables(plan);
      // A resync that rewrote existing chains may have met nothing but a spelling the
      // normalizer does not know: learn how iptables-save prints those rules, so the next
      // resync does not rewrite them again. New chains and incremental writes skip the read
      // (on a big nft node it costs a quarter of a second).
      const replacedHooks = plan.iptables.some((l) => l.startsWith('-D '));
      if (mode === 'resync' && (plan.chainsRewritten.length > 0 || replacedHooks)) {
        await this.learnSavedForms(desired, plan);
      }
      await this.destroyStale(plan);
    }
    // A copy: the caller may reuse or change its arrays; this is what the next diff trusts.
    const applied = this.applied;
    this.applied = {
      family: desired.family,
      ipsets: desired.ipsets.map((x) => ({ ...x, entries: [...x.entries] })),
      chains:
        sameShape && applied ? applied.chains : desired.chains.map((c) => ({ ...c, rules: [...c.rules] })),
      hooks: sameShape && applied ? applied.hooks : desired.hooks.map((h) => ({ ...h })),
    };
    this.appliedShape = { chains: desired.chains, hooks: desired.hooks };
    this.appliedEntries = plan.setEntries;
    this.rememberSizes(desired, current, plan);
    const result: ApplyResult = {
      mode,
      recovered,
      chainsCreated: plan.chainsCreated,
      chainsRewritten: plan.chainsRewritten,
      chainsDeleted: plan.chainsDeleted,
      hooksRewritten: plan.hooksRewritten,
      setsChanged: plan.sets.length,
      setsDeleted: plan.destroySets,
      entriesAdded: plan.sets.reduce((n, s) => n + s.added, 0),
      entriesRemoved: plan.sets.reduce((n, s) => n + s.removed, 0),
      ipsetLines: plan.ipset.length,
      iptablesLines: plan.iptables.length,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    };
    if (!isEmptyPlan(plan)) {
      this.log.info('ruleset applied', {
        mode,
        chainsCreated: plan.chainsCreated.length,
        chainsRewritten: plan.chainsRewritten.length,
        chainsDeleted: plan.chainsDeleted.length,
        hooksRewritten: plan.hooksRewritten,
        setsChanged: plan.sets.length,
        setsDeleted: plan.destroySets.length,
        durationMs: result.durationMs,
      });
    }
    return result;
  }

  private async runIpset(plan: ApplyPlan): Promise<void> {
    if (plan.ipset.length === 0) return;
    const r = await this.runner.run(['ipset', 'restore'], {
      input: `${plan.ipset.join('\n')}\n`,
      timeoutMs: restoreTimeoutMs,
    });
    if (r.code === 0) return;
    this.applied = undefined; // some lines may have run: the state is unknown until a resync
    const n = lineOfError(r.stderr);
    const line = n !== undefined ? plan.ipset[n - 1] : undefined;
    const subject = line?.split(' ')[1];
    throw new ApplyError(
      `ipset restore failed (${this.runner.where})${subject ? ` at set ${subject}` : ''}${line ? ` on "${line}"` : ''}: ${r.stderr.trim()}`,
      'ipset',
      subject,
      r.stderr,
    );
  }

  private async runIptables(plan: ApplyPlan): Promise<void> {
    if (plan.iptables.length === 0) return;
    const r = await this.runner.run([this.tools.restore, '--noflush', '-w', '5'], {
      input: `${plan.iptables.join('\n')}\n`,
      timeoutMs: restoreTimeoutMs,
    });
    if (r.code === 0) return;
    this.applied = undefined;
    const n = lineOfError(r.stderr);
    const line = n !== undefined ? plan.iptables[n - 1] : undefined;
    let subject = n !== undefined ? plan.iptablesOwner[n - 1] : undefined;
    // nft checks references when the transaction commits and blames the COMMIT line; the
    // chain it names in its message is the useful subject then.
    const named = /(STN-[A-Za-z0-9_-]+)/.exec(r.stderr)?.[1];
    if ((subject === undefined || subject === 'commit') && named) subject = `chain ${named}`;
    throw new ApplyError(
      `${this.tools.restore} failed (${this.runner.where})${subject ? ` in ${subject}` : ''}${line ? ` on "${line}"` : ''}; ` +
        `the previous rules stay in force: ${r.stderr.trim()}`,
      'iptables',
      subject,
      r.stderr,
    );
  }

  private async destroyStale(plan: ApplyPlan): Promise<void> {
    if (plan.destroySets.length === 0) return;
    const r = await this.runner.run(['ipset', 'restore'], {
      input: `${plan.destroySets.map((s) => `destroy ${s}`).join('\n')}\n`,
    });
    if (r.code === 0) return;
    // The new rules are in; only garbage is left. Forget the applied state so the next apply
    // observes and tries again, and report.
    this.applied = undefined;
    throw new ApplyError(
      `destroying stale ipsets failed (${this.runner.where}): ${r.stderr.trim()}`,
      'stale-sets',
      undefined,
      r.stderr,
    );
  }

  private rememberSizes(desired: Ruleset, current: CurrentState, plan: ApplyPlan): void {
    // Nothing created, swapped or dropped, and sizes already known: they stand.
    if (
      plan.sets.every((c) => c.how === 'delta') &&
      plan.destroySets.length === 0 &&
      this.maxelem.size === desired.ipsets.length
    )
      return;
    const made = new Set(plan.sets.filter((c) => c.how !== 'delta').map((c) => c.name));
    const sizes = new Map<string, number>();
    for (const s of desired.ipsets) {
      const size = made.has(s.name)
        ? setSizing(s.entries.length).maxelem
        : (current.sets.get(s.name)?.maxelem ?? this.maxelem.get(s.name));
      if (size !== undefined) sizes.set(s.name, size);
    }
    this.maxelem.clear();
    for (const [k, v] of sizes) this.maxelem.set(k, v);
  }

  /** Records how iptables-save prints each rule just written, so a later resync compares like with like. */
  private async learnSavedForms(desired: Ruleset, plan: ApplyPlan): Promise<void> {
    let table;
    try {
      table = await observeTable(this.runner, this.tools);
    } catch (e) {
      this.log.warn('could not read back the rules just written', { error: (e as Error).message });
      return;
    }
    const written = new Set(plan.chainsRewritten);
    const keep = new Set<string>();
    for (const c of desired.chains) {
      for (const r of c.rules) keep.add(r);
      if (!written.has(c.name)) continue;
      const saved = table.chains.get(c.name) ?? [];
      if (saved.length !== c.rules.length) continue;
      c.rules.forEach((r, i) => this.savedForm.set(r, normalizeRule(saved[i])));
    }
    for (const b of plan.hooksRewritten) {
      const want = desired.hooks.filter((h) => h.builtin === b);
      const saved = (table.builtins.get(b) ?? []).filter(isAgentHookRule);
      if (saved.length !== want.length) continue;
      want.forEach((h, i) => this.savedForm.set(h.rule, normalizeRule(saved[i])));
    }
    for (const h of desired.hooks) keep.add(h.rule);
    for (const k of [...this.savedForm.keys()]) if (!keep.has(k)) this.savedForm.delete(k);
  }
}
