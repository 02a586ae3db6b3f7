// A small flag parser for the subcommands: --flag value, --flag=value, -f value, booleans.
export interface ParsedArgs {
  flags: Map<string, string[]>;
  bools: Set<string>;
  positional: string[];
}

export class UsageError extends Error {}

export function parseArgs(
  args: string[],
  spec: { values: string[]; bools: string[]; aliases?: Record<string, string> },
): ParsedArgs {
  const flags = new Map<string, string[]>();
  const bools = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    let [name, value] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    name = name.replace(/^--?/, '');
    name = spec.aliases?.[name] ?? name;
    if (spec.bools.includes(name)) {
      bools.add(name);
    } else if (spec.values.includes(name)) {
      if (value === undefined) {
        value = args[++i];
        if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
      }
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else {
      throw new UsageError(`unknown flag ${arg}`);
    }
  }
  return { flags, bools, positional };
}
