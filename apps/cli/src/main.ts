/**
 * @module main — `certified` and `message` as pure functions of argv and an {@link Io}: they return the
 * exit code (0 ok, 1 failure, 2 usage) and never touch the process themselves.
 */
import { CliError, renderHelp, reportError, runCommand, type Command, type Io } from './cli.js';

export const VERSION = '0.1.0';

/** A command as `--help` lists it; its module (and what that imports) loads only when it runs. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/**
 * Every `certified` command, in the order `--help` lists them. Loaded on demand, so `certified show`
 * never parses the TLS server, gRPC or Hono (the cold-start bench measures it); main.test.ts checks
 * each summary here is its command's own.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    summary:
      'Create a new signing CA and identity (CA.key, CA.crt, id.key, id.crt, known_*/self.crt).',
    load: async () => (await import('./commands/init.js')).init,
  },
  {
    name: 'add-client',
    summary: 'Trust a client: save one certificate from CERT as known_clients/NAME.crt.',
    load: async () => (await import('./commands/add-client.js')).addClientCommand,
  },
  {
    name: 'add-service',
    summary:
      'Add a service you call: known_servers/ALIAS.yaml with its url, pinned certificate and auths.',
    load: async () => (await import('./commands/add-service.js')).addServiceCommand,
  },
  {
    name: 'introduce',
    summary:
      'Vouch for someone: sign their certificate or CSR with your CA and print an introduction letter (JSON).',
    load: async () => (await import('./commands/introduce.js')).introduceCommand,
  },
  {
    name: 'add-intro',
    summary:
      'Install an introduction letter: saves id/<signer>.crt and a known_servers/ALIAS.yaml per listed service.',
    load: async () => (await import('./commands/add-intro.js')).addIntroCommand,
  },
  {
    name: 'set-org',
    summary:
      "Join an organisation: its letter's certificate becomes id.crt; your own CA is removed.",
    load: async () => (await import('./commands/add-intro.js')).setOrgCommand,
  },
  {
    name: 'get-ident',
    summary: 'Print your identity certificate as base64-DER, for someone to `introduce`.',
    load: async () => (await import('./commands/get-ident.js')).getIdentCommand,
  },
  {
    name: 'get-signer',
    summary:
      'Print your CA certificate as JSON {"ca_cert": \u2026}, for `add-service` or `add-client` elsewhere.',
    load: async () => (await import('./commands/get-ident.js')).getSignerCommand,
  },
  {
    name: 'show',
    summary:
      'Show this identity, its signer, who signed it, known clients and services, with expiry and fingerprints.',
    load: async () => (await import('./commands/show.js')).showCommand,
  },
  {
    name: 'check',
    summary:
      'Check the identity directory: missing files, key permissions, corrupt files, expiry within 30 days, service hosts.',
    load: async () => (await import('./commands/show.js')).checkCommand,
  },
  {
    name: 'inspect',
    summary: 'Explain any certificate, chain, CSR, introduction letter or known_servers YAML file.',
    load: async () => (await import('./commands/inspect.js')).inspectCommand,
  },
  {
    name: 'serve',
    summary:
      'Serve a Hono app (or fetch handler) over mutual TLS with this identity; callers are judged by our validator against known_clients.',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  {
    name: 'message',
    summary: 'Send a JSON message to an mTLS-authenticated HTTPS API and print the response body.',
    load: async () => (await import('./commands/message.js')).messageCommand,
  },
  {
    name: 'ca',
    summary:
      'Run or use a CSR-signing CA service: ca init, ca serve, ca request, ca revoke, ca log (certified ca --help).',
    load: async () => caGroup,
  },
  {
    name: 'completion',
    summary: 'Print a shell completion script for certified and message: bash, zsh or fish.',
    load: async () => (await import('./commands/completion.js')).completionCommand,
  },
];

/** `certified ca <sub>`: each subcommand a command of its own (its options, help and examples). */
export const CA_COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    summary:
      'Create a CA service directory: ca.key, ca.crt, ca.yaml with one example RA, a secret.',
    load: async () => (await import('./commands/ca.js')).caInitCommand,
  },
  {
    name: 'serve',
    summary: 'Serve the CA over HTTPS: sign, renew (mTLS), revoke, /metrics, /health.',
    load: async () => (await import('./commands/ca.js')).caServeCommand,
  },
  {
    name: 'request',
    summary:
      "Get a certificate for this identity's key from a CA service and install it as id/<CA>.crt.",
    load: async () => (await import('./commands/ca-client.js')).caRequestCommand,
  },
  {
    name: 'revoke',
    summary: 'Revoke a serial or subject at a CA service: it is never renewed or re-issued again.',
    load: async () => (await import('./commands/ca-client.js')).caRevokeCommand,
  },
  {
    name: 'log',
    summary: "Show the CA's audit log: every request, issued or refused, newest first.",
    load: async () => (await import('./commands/ca.js')).caLogCommand,
  },
];

function caOverview(): string {
  const w = Math.max(...CA_COMMANDS.map((c) => c.name.length));
  return [
    "certified ca — a CSR-signing CA service: registration authorities with OpenStack Anchor's validators,",
    'short-lived certificates (24 h), passive revocation and an audit log.',
    '',
    'Usage: certified ca <command> [arguments] [options]',
    '',
    'Commands:',
    ...CA_COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Example:',
    '  certified ca init --domain .localhost',
    '  certified ca serve --config certified-ca/ca.yaml',
    '',
  ].join('\n');
}

/** The `ca` entry: dispatches to a subcommand (`run` gets everything after `ca`). */
const caGroup: Command & { group: true } = {
  group: true,
  name: 'ca',
  summary:
    'Run or use a CSR-signing CA service: ca init, ca serve, ca request, ca revoke, ca log (certified ca --help).',
  positionals: [],
  options: {},
  examples: [],
  run: () => Promise.resolve(2),
};

async function runCa(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const entry = CA_COMMANDS.find((c) => c.name === rest[0]);
    io.stdout(entry && first === 'help' ? renderHelp(await entry.load()) : caOverview());
    return first === undefined ? 2 : 0;
  }
  const entry = CA_COMMANDS.find((c) => c.name === first);
  if (!entry)
    return reportError(
      new CliError(
        'ERR_USAGE',
        `Unknown command "ca ${first}"; the CA commands are ${CA_COMMANDS.map((c) => c.name).join(', ')}.`,
      ),
      io,
      false,
    );
  let command: Command;
  try {
    command = await entry.load();
  } catch (e) {
    return reportError(e, io, rest.includes('-v') || rest.includes('--verbose'));
  }
  return runCommand(command, rest, io);
}

function overview(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'certified — identities, introductions and mutual TLS for web APIs.',
    '',
    'Usage: certified <command> [arguments] [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Every command takes --config DIR (default: $CERTIFIED_CONFIG, then $VIRTUAL_ENV/etc/certified, then',
    'the user config directory), -v for details and stack traces, and -h for help with an example;',
    '--config and -v may come before the command too.',
    '',
    'Example:',
    "  certified init 'Ada Lovelace' --email ada@example.org",
    '  certified show',
    '',
  ].join('\n');
}

/**
 * Global options typed before the command (`certified -v inspect f`, `certified --config d show`)
 * moved after it, where every command parses them; anything else ends the scan.
 */
function withGlobalsAfterCommand(argv: readonly string[]): string[] {
  const moved: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-v' || a === '--verbose' || a.startsWith('--config=')) moved.push(a);
    else if (a === '--config' && i + 1 < argv.length) moved.push(a, argv[++i]!);
    else break;
  }
  // Only global options and no command: the overview, as for no arguments at all.
  return i === argv.length ? [] : [...argv.slice(i), ...moved];
}

/**
 * Runs `certified ARGV`.
 *
 * @example
 * const code = await main(['show', '--json'], nodeIo());
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = withGlobalsAfterCommand(argv);
  if (first === undefined || first === '-h' || first === '--help') {
    io.stdout(overview());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === 'version') {
    io.stdout(`certified ${VERSION} (${io.runtime})\n`);
    return 0;
  }
  if (first === 'help') {
    const entry = COMMANDS.find((c) => c.name === rest[0]);
    if (entry?.name === 'ca') return runCa(['help', ...rest.slice(1)], io);
    io.stdout(entry ? renderHelp(await entry.load()) : overview());
    return entry || rest[0] === undefined ? 0 : 2;
  }
  // ORNL spells commands with underscores in places (add_client); accept both.
  const name = first.replace(/_/g, '-');
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    const near = COMMANDS.filter((c) => c.name.startsWith(name.slice(0, 3))).map((c) => c.name);
    return reportError(
      new CliError(
        'ERR_USAGE',
        `Unknown command ${JSON.stringify(first)}.${near.length ? ` Did you mean ${near.join(' or ')}?` : ''}`,
      ),
      io,
      false,
    );
  }
  if (entry.name === 'ca') return runCa(rest, io);
  let command: Command;
  try {
    command = await entry.load();
  } catch (e) {
    // Loading can fail before any command runs (Deno without a permission that a module needs at
    // import): still one line, never the runtime's uncaught stack.
    return reportError(e, io, rest.includes('-v') || rest.includes('--verbose'));
  }
  return runCommand(command, rest, io);
}

/**
 * Runs `message ARGV` (the separate `message` program of ORNL certified).
 *
 * @example
 * const code = await messageMain(['https://notes/items'], nodeIo());
 */
export async function messageMain(argv: readonly string[], io: Io): Promise<number> {
  let command: Command;
  try {
    command = (await import('./commands/message.js')).messageCommand;
  } catch (e) {
    return reportError(e, io, argv.includes('-v') || argv.includes('--verbose'), 'message');
  }
  return runCommand(command, argv, io, 'message');
}
