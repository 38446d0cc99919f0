/**
 * @module cli — commands as data: option specs parsed with `node:util` parseArgs (strict, repeatable
 * options), help generated from the same specs, errors mapped to one line and an exit code
 * (0 ok, 1 failure, 2 usage). Only `bin/*.ts` touch argv and exit.
 */
import { parseArgs } from 'node:util';
import { isCertifiedError } from '@certified/core/errors';
import type { IdentityStore } from '@certified/identity/store';
import type {
  Session,
  SessionOptions,
  CertifiedServer,
  ServeApp,
  ServeOptions,
  ConfigDirSource,
} from '@certified/node';

/** What the CLI may do to the world; `runtime/node.ts` implements it for Node, Deno and Bun. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads a file; `-` is standard input. @throws CliError ERR_FILE_READ */
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a file whole (a temp file renamed into place). @throws CliError ERR_FILE_WRITE */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  openStore(dir: string): IdentityStore;
  resolveConfigDir(config: string | undefined): { dir: string; source: ConfigDirSource };
  /** Opens a session on an identity (`message`): aliases, per-service credentials, pooled mTLS. */
  createSession(options: SessionOptions): Promise<Session>;
  serve(app: ServeApp, options: ServeOptions): Promise<CertifiedServer>;
  /** Imports a module by path (relative to cwd) or package name. */
  importModule(specifier: string): Promise<Record<string, unknown>>;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM), with the signal name. */
  waitForShutdown(): Promise<string>;
  /** The runtime's name and version, for `--version`. */
  readonly runtime: string;
  /** Whether each stream may carry colour (a terminal, and NO_COLOR unset); none when absent. */
  readonly colour?: { readonly stdout: boolean; readonly stderr: boolean };
}

/**
 * Whether a stream may carry colour: a terminal, NO_COLOR absent or empty (https://no-color.org),
 * and TERM not "dumb". Piped or redirected output never does.
 */
export function colourFor(
  isTTY: boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return isTTY === true && !env['NO_COLOR'] && env['TERM'] !== 'dumb';
}

/** `text` in red, yellow or bold when `on`; unchanged otherwise. */
export function paint(
  on: boolean | undefined,
  style: 'red' | 'yellow' | 'bold',
  text: string,
): string {
  if (!on) return text;
  const code = style === 'red' ? 31 : style === 'yellow' ? 33 : 1;
  return `\x1b[${code}m${text}\x1b[0m`;
}

/** CLI-level failure codes (beyond @certified/core's). */
export type CliCode =
  | 'ERR_USAGE'
  | 'ERR_FILE_READ'
  | 'ERR_FILE_WRITE'
  | 'ERR_MODULE_LOAD'
  | 'ERR_HTTP_STATUS'
  | 'ERR_HTTP_BODY_TOO_LARGE'
  | 'ERR_BODY_INVALID'
  | 'ERR_CHECK_FAILED';

/** A failure of the CLI itself; `exitCode` 2 for usage errors, 1 otherwise. */
export class CliError extends Error {
  readonly code: CliCode;
  readonly exitCode: number;
  constructor(
    code: CliCode,
    message: string,
    options: { exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options.exitCode ?? (code === 'ERR_USAGE' ? 2 : 1);
  }
}

/** Throws a usage error (exit 2). */
export function usage(message: string): never {
  throw new CliError('ERR_USAGE', message);
}

/**
 * A URL the user typed for `serve` or `message`: https, parseable, a port in range. Anything else
 * is what was typed, not a failure of the operation, so it is a usage error (exit 2) everywhere.
 */
export function typedHttpsUrl(
  what: string,
  text: string,
  options: { portZero?: boolean } = {},
): URL {
  const port = /^https:\/\/(?:\[[^\]]*\]|[^/:?#[]*):(\d+)(?:[/?#]|$)/i.exec(text)?.[1];
  const zeroOk = options.portZero === true;
  if (port !== undefined && (Number(port) > 65535 || (Number(port) === 0 && !zeroOk)))
    usage(
      `${what} has port ${port}; ports are 1–65535${zeroOk ? ' (0 picks a free one)' : ''}. Received ${JSON.stringify(text)}.`,
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return usage(
      `${what} must be a URL like https://host:port/path; received ${JSON.stringify(text)}.`,
    );
  }
  if (url.protocol !== 'https:')
    usage(
      `${what} must start with https:// (certified speaks mutual TLS only); received ${JSON.stringify(text)}.`,
    );
  return url;
}

/**
 * node:util parseArgs' messages in our words and on one line: its "Option '-X, --request <value>'"
 * spelling, and its three-line advice for a value that starts with a dash, are not what was typed.
 */
function parseArgsSentence(message: string, options: Record<string, OptionSpec>): string {
  const longOf = (flag: string): string => {
    if (flag.startsWith('--')) return flag;
    const name = Object.entries(options).find(([, o]) => `-${o.short}` === flag)?.[0];
    return name ? `--${name}` : flag;
  };
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    const flag = ambiguous[1]!;
    return `${flag} needs a value; for a value that starts with "-", write ${longOf(flag)}=VALUE.`;
  }
  const first = message.split('\n')[0]!.replace(/\. To specify a positional.*$/s, '.');
  return first
    .replace(/^Option '(-\w), (--[\w-]+) <value>' argument missing\.?$/, '$1/$2 needs a value.')
    .replace(/^Option '(--[\w-]+) <value>' argument missing\.?$/, '$1 needs a value.')
    .replace(/^Option '(-\w), (--[\w-]+)' does not take an argument\.?$/, '$1/$2 takes no value.')
    .replace(/^Option '(--[\w-]+)' does not take an argument\.?$/, '$1 takes no value.');
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly placeholder?: string;
  readonly description: string;
  readonly choices?: readonly string[];
}

export interface PositionalSpec {
  readonly name: string;
  readonly required: boolean;
  readonly description: string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Context {
  readonly io: Io;
  readonly values: Values;
  readonly positionals: readonly string[];
  readonly verbose: boolean;
  /** Prints a diagnostic line to stderr when -v is given. */
  debug(line: string): void;
  /** The identity directory (from --config, $CERTIFIED_CONFIG, $VIRTUAL_ENV, or the user config dir). */
  configDir(): { dir: string; source: ConfigDirSource };
  /** Opens the identity directory's store. */
  store(): IdentityStore;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
  /** Accepts more positionals than declared (none do by default). */
  run(ctx: Context): Promise<number>;
}

export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: {
    type: 'string',
    placeholder: 'DIR',
    description:
      'Identity directory. Default: $CERTIFIED_CONFIG, then $VIRTUAL_ENV/etc/certified, then the user config directory.',
  },
  verbose: {
    type: 'boolean',
    short: 'v',
    description: 'Explain what happens; show stack traces on errors.',
  },
  help: { type: 'boolean', short: 'h', description: 'Show this help.' },
};

/** Parses argv for one command. @throws CliError ERR_USAGE */
export function parseCommandArgs(
  command: Command,
  argv: readonly string[],
): { values: Values; positionals: string[] } {
  // A command may redefine a common option (the CA commands' --config names a file).
  const options: Record<string, OptionSpec> = {
    ...command.options,
    ...COMMON_OPTIONS,
    ...command.options,
  };
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          {
            type: o.type,
            ...(o.short ? { short: o.short } : {}),
            ...(o.multiple ? { multiple: true } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (e) {
    usage(parseArgsSentence((e as Error).message, options));
  }
  if (parsed.values['help']) return parsed;
  for (const [k, o] of Object.entries(options)) {
    const v = parsed.values[k];
    if (o.choices && typeof v === 'string' && !o.choices.includes(v))
      usage(`--${k} must be one of ${o.choices.join(', ')}; received ${JSON.stringify(v)}.`);
  }
  const required = command.positionals.filter((p) => p.required).length;
  if (parsed.positionals.length < required)
    usage(
      `${command.name} needs ${command.positionals
        .filter((p) => p.required)
        .map((p) => p.name)
        .join(' and ')}.`,
    );
  if (parsed.positionals.length > command.positionals.length)
    usage(
      `${command.name} takes at most ${command.positionals.length} argument(s); unexpected ${JSON.stringify(parsed.positionals[command.positionals.length])}.`,
    );
  return parsed;
}

/** Help text for one command, from its spec. */
export function renderHelp(command: Command, program = 'certified'): string {
  const pos = command.positionals.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ');
  const lines = [
    `${command.summary}`,
    '',
    `Usage: ${program === 'message' ? 'message' : `${program} ${command.name}`}${pos ? ` ${pos}` : ''} [options]`,
  ];
  if (command.description) lines.push('', command.description);
  if (command.positionals.length) {
    lines.push('', 'Arguments:');
    const w = Math.max(...command.positionals.map((p) => p.name.length));
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(w)}  ${p.description}`);
  }
  const all = { ...command.options, ...COMMON_OPTIONS, ...command.options };
  const flags = Object.entries(all).map(([k, o]) => {
    const name = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.placeholder ?? 'VALUE'}` : ''}`;
    const more = [o.multiple ? '(repeatable)' : '', o.choices ? `(${o.choices.join('|')})` : '']
      .filter(Boolean)
      .join(' ');
    return [name, `${o.description}${more ? ` ${more}` : ''}`] as const;
  });
  const w = Math.max(...flags.map(([n]) => n.length));
  lines.push('', 'Options:', ...flags.map(([n, d]) => `  ${n.padEnd(w)}  ${d}`));
  if (command.examples.length)
    lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** Runs one command with parsed args, mapping every failure to a line on stderr and an exit code. */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  io: Io,
  program = 'certified',
): Promise<number> {
  let verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    const { values, positionals } = parseCommandArgs(command, argv);
    if (values['help']) {
      io.stdout(renderHelp(command, program));
      return 0;
    }
    verbose = values['verbose'] === true;
    let resolved: { dir: string; source: ConfigDirSource } | undefined;
    let store: IdentityStore | undefined;
    const ctx: Context = {
      io,
      values,
      positionals,
      verbose,
      debug: (line) => {
        if (verbose) io.stderr(`${program}: ${line}\n`);
      },
      configDir: () => {
        if (!resolved) {
          const config = values['config'];
          // An empty value is a script's unset variable, not "the default directory".
          if (config === '')
            throw new CliError(
              'ERR_USAGE',
              '--config needs a directory; received an empty value (an unset variable?).',
            );
          resolved = io.resolveConfigDir(typeof config === 'string' ? config : undefined);
          if (verbose)
            io.stderr(`${program}: identity directory ${resolved.dir} (from ${resolved.source})\n`);
        }
        return resolved;
      },
      store: () => (store ??= io.openStore(ctx.configDir().dir)),
    };
    return await command.run(ctx);
  } catch (e) {
    return reportError(e, io, verbose, program);
  }
}

/** One line per error: `program: CODE: message`; the stack only with -v. */
export function reportError(e: unknown, io: Io, verbose: boolean, program = 'certified'): number {
  const red = (code: string): string => paint(io.colour?.stderr, 'red', code);
  if (e instanceof CliError) {
    io.stderr(`${program}: ${red(e.code)}: ${e.message}\n`);
    if (e.code === 'ERR_USAGE')
      io.stderr(
        `Run \`${program}${program === 'message' ? '' : ' <command>'} --help\` for usage.\n`,
      );
    if (verbose && e.cause) io.stderr(`${stackOf(e.cause)}\n`);
    return e.exitCode;
  }
  if (isCertifiedError(e)) {
    io.stderr(`${program}: ${red(e.code)}: ${e.message}\n`);
    if (verbose) io.stderr(`${stackOf(e)}\n`);
    return 1;
  }
  const denied = permissionFlag(e);
  if (denied) {
    io.stderr(
      `${program}: ERR_PERMISSION: ${(e as Error).message.replace(/, run again with the --allow-\w+ flag\.?$/, '')}; run again with ${denied}, or with the flags the README lists for each command.\n`,
    );
    if (verbose) io.stderr(`${stackOf(e)}\n`);
    return 1;
  }
  if (e instanceof TypeError || e instanceof RangeError) {
    // Our libraries throw these for bad option values that reached them from the command line.
    io.stderr(`${program}: ERR_USAGE: ${e.message}\n`);
    if (verbose) io.stderr(`${stackOf(e)}\n`);
    return 2;
  }
  if (e instanceof Error && /^ERR_[A-Z0-9_]+$/.test(String((e as { code?: unknown }).code))) {
    // Another package's typed error (the CA's ERR_CA_…): its code and sentence, as ours.
    io.stderr(`${program}: ${red(String((e as { code?: unknown }).code))}: ${e.message}\n`);
    if (verbose) io.stderr(`${stackOf(e)}\n`);
    return 1;
  }
  io.stderr(
    `${program}: ERR_INTERNAL: ${(e as Error)?.message ?? String(e)}${verbose ? '' : ' (run with -v for details)'}\n`,
  );
  if (verbose) io.stderr(`${stackOf(e)}\n`);
  return 1;
}

/** The `--allow-…` flag a Deno permission error asks for, if `e` is one. */
function permissionFlag(e: unknown): string | undefined {
  const name = (e as Error | undefined)?.name;
  if (name !== 'NotCapable' && name !== 'PermissionDenied') return undefined;
  return /--allow-\w+/.exec((e as Error).message)?.[0];
}

function stackOf(e: unknown): string {
  return (e as Error)?.stack ?? String(e);
}

/** A string option's value. */
export function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable option's values. */
export function list(values: Values, key: string): string[] {
  const v = values[key];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
