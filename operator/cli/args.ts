// The subcommands' flags, parsed by node:util parseArgs (strict: an unknown flag, a missing
// value or a value given to a boolean is an error). This module only states the flags in one
// short form and turns parseArgs' errors into a UsageError worded for our users, which each
// subcommand prints with its usage and exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface ParsedArgs {
  /** Every value given for each flag, in order: a repeated flag keeps them all. */
  flags: Map<string, string[]>;
  bools: Set<string>;
  positional: string[];
}

export class UsageError extends Error {}

export interface FlagSpec {
  /** Flags that take a value (`--name value` or `--name=value`). */
  values: readonly string[];
  bools: readonly string[];
  /** One-letter aliases: `-f value` for `--filename value`. */
  aliases?: Record<string, string>;
}

type NodeParseError = Error & { code?: string };

/** parseArgs' messages in our words; the flag is quoted in theirs. */
function usageError(err: NodeParseError): UsageError {
  const flag = /'(?:-\w, )?(--?[^' ,]+)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown flag ${flag}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(
        /does not take an argument/.test(err.message)
          ? `flag ${flag} takes no value`
          : /ambiguous/.test(err.message)
            ? `flag ${flag} needs a value (write ${flag}=VALUE for a value that starts with "-")`
            : `flag ${flag} needs a value`,
      );
    default:
      return new UsageError(err.message);
  }
}

export function parseCommandLine(args: string[], spec: FlagSpec): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const name of spec.values) options[name] = { type: 'string', multiple: true };
  for (const name of spec.bools) options[name] = { type: 'boolean' };
  for (const [short, name] of Object.entries(spec.aliases ?? {})) options[name] = { ...options[name], short };
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    const code = (err as NodeParseError).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))
      throw usageError(err as NodeParseError);
    throw err;
  }
  const flags = new Map<string, string[]>();
  const bools = new Set<string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === true) bools.add(name);
    else if (Array.isArray(value)) flags.set(name, value.map(String));
  }
  return { flags, bools, positional: parsed.positionals };
}
