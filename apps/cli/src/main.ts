/**
 * @module main — `certified` and `message` as pure functions of argv and an {@link Io}: they return the
 * exit code (0 ok, 1 failure, 2 usage) and never touch the process themselves.
 */
import { CliError, renderHelp, reportError, runCommand, type Command, type Io } from './cli.js';
import { addClientCommand } from './commands/add-client.js';
import { addIntroCommand, setOrgCommand } from './commands/add-intro.js';
import { addServiceCommand } from './commands/add-service.js';
import { getIdentCommand, getSignerCommand } from './commands/get-ident.js';
import { init } from './commands/init.js';
import { inspectCommand } from './commands/inspect.js';
import { introduceCommand } from './commands/introduce.js';
import { messageCommand } from './commands/message.js';
import { serveCommand } from './commands/serve.js';
import { checkCommand, showCommand } from './commands/show.js';

export const VERSION = '0.1.0';

/** Every `certified` command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  init,
  addClientCommand,
  addServiceCommand,
  introduceCommand,
  addIntroCommand,
  setOrgCommand,
  getIdentCommand,
  getSignerCommand,
  showCommand,
  checkCommand,
  inspectCommand,
  serveCommand,
  messageCommand,
];

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
    'the user config directory), -v for details and stack traces, and -h for help with an example.',
    '',
    'Example:',
    "  certified init 'Ada Lovelace' --email ada@example.org",
    '  certified show',
    '',
  ].join('\n');
}

/**
 * Runs `certified ARGV`.
 *
 * @example
 * const code = await main(['show', '--json'], nodeIo());
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    io.stdout(overview());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === 'version') {
    io.stdout(`certified ${VERSION} (${io.runtime})\n`);
    return 0;
  }
  if (first === 'help') {
    const cmd = COMMANDS.find((c) => c.name === rest[0]);
    io.stdout(cmd ? renderHelp(cmd) : overview());
    return cmd || rest[0] === undefined ? 0 : 2;
  }
  // ORNL spells commands with underscores in places (add_client); accept both.
  const name = first.replace(/_/g, '-');
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
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
  return runCommand(command, rest, io);
}

/**
 * Runs `message ARGV` (the separate `message` program of ORNL certified).
 *
 * @example
 * const code = await messageMain(['https://notes/items'], nodeIo());
 */
export function messageMain(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(messageCommand, argv, io, 'message');
}
