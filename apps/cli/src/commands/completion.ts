/**
 * @module commands/completion — `certified completion bash|zsh|fish`: a completion script written
 * from the command table itself (every command, its options, which take a file or a directory), so it
 * never falls behind the commands. It covers `certified` and `message`.
 */
import { COMMON_OPTIONS, usage, type Command, type OptionSpec } from '../cli.js';

/** What the scripts need of one program's commands. */
interface Spec {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly { flag: string; takesValue: boolean; description: string }[];
  /** `certified ca <sub>`: the group's own commands. */
  readonly subcommands?: readonly Spec[];
}

const flagsOf = (options: Readonly<Record<string, OptionSpec>>): Spec['flags'] =>
  Object.entries({ ...options, ...COMMON_OPTIONS }).flatMap(([name, o]) => [
    { flag: `--${name}`, takesValue: o.type === 'string', description: o.description },
    ...(o.short
      ? [{ flag: `-${o.short}`, takesValue: o.type === 'string', description: o.description }]
      : []),
  ]);

const words = (xs: readonly string[]): string => xs.join(' ');
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(commands: readonly Spec[], message: Spec): string {
  const all = [...commands, ...commands.flatMap((c) => c.subcommands ?? []), message];
  const valued = all.flatMap((c) => c.flags.filter((f) => f.takesValue).map((f) => f.flag));
  const groups = commands.filter((c) => c.subcommands);
  // A group's commands are keyed "ca-init" in _certified_flags.
  const leaves = [
    ...commands.filter((c) => !c.subcommands),
    ...groups.flatMap((g) => g.subcommands!.map((c) => ({ ...c, name: `${g.name}-${c.name}` }))),
  ];
  return `# certified and message completion for bash: eval "$(certified completion bash)"
_certified_flags() {
  case "$1" in
${leaves.map((c) => `    ${c.name}) echo ${shellQuote(words(c.flags.map((f) => f.flag)))} ;;`).join('\n')}
  esac
}
_certified() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case " ${words([...new Set(valued)])} " in
    *" $prev "*) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  local cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${shellQuote(words([...commands.map((c) => c.name), 'help', '--help', '--version']))} -- "$cur") )
    return
  fi
  case "$cmd" in
${groups.map((g) => `    ${g.name}) if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=( $(compgen -W ${shellQuote(words(g.subcommands!.map((c) => c.name)))} -- "$cur") ); return; fi; cmd="${g.name}-\${COMP_WORDS[2]}" ;;`).join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$(_certified_flags "$cmd")" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
_certified_message() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W ${shellQuote(words(message.flags.map((f) => f.flag)))} -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _certified certified
complete -o filenames -F _certified_message message
`;
}

function zsh(commands: readonly Spec[], message: Spec): string {
  // zsh runs bash completion functions through bashcompinit, which ships with zsh.
  return `# certified and message completion for zsh: eval "$(certified completion zsh)"
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(commands, message).split('\n').slice(1).join('\n')}`;
}

function fish(commands: readonly Spec[], message: Spec): string {
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const lines = [
    '# certified and message completion for fish: certified completion fish | source',
    'complete -c certified -f',
    ...commands.map(
      (c) =>
        `complete -c certified -n '__fish_use_subcommand' -a '${c.name}' -d '${esc(c.summary)}'`,
    ),
  ];
  const flagLine = (program: string, condition: string, f: Spec['flags'][number]): string => {
    const opt = f.flag.startsWith('--') ? `-l '${f.flag.slice(2)}'` : `-s '${f.flag.slice(1)}'`;
    return `complete -c ${program}${condition} ${opt}${f.takesValue ? ' -r -F' : ''} -d '${esc(f.description)}'`;
  };
  for (const c of commands) {
    if (!c.subcommands) {
      for (const f of c.flags)
        lines.push(flagLine('certified', ` -n '__fish_seen_subcommand_from ${c.name}'`, f));
      continue;
    }
    const names = c.subcommands.map((x) => x.name).join(' ');
    for (const x of c.subcommands) {
      lines.push(
        `complete -c certified -n '__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${names}' -a '${x.name}' -d '${esc(x.summary)}'`,
      );
      const when = ` -n '__fish_seen_subcommand_from ${c.name}; and __fish_seen_subcommand_from ${x.name}'`;
      for (const f of x.flags) lines.push(flagLine('certified', when, f));
    }
  }
  for (const f of message.flags) lines.push(flagLine('message', '', f));
  return `${lines.join('\n')}\n`;
}

export const completionCommand: Command = {
  name: 'completion',
  summary: 'Print a shell completion script for certified and message: bash, zsh or fish.',
  description:
    'bash and zsh: add `eval "$(certified completion bash)"` (or zsh) to your shell\'s rc file; fish: `certified completion fish > ~/.config/fish/completions/certified.fish`.',
  positionals: [{ name: 'SHELL', required: true, description: 'bash, zsh or fish.' }],
  options: {},
  examples: ['eval "$(certified completion bash)"', 'certified completion fish | source'],
  async run(ctx) {
    const shell = ctx.positionals[0]!;
    if (!['bash', 'zsh', 'fish'].includes(shell))
      usage(`SHELL must be bash, zsh or fish; received ${JSON.stringify(shell)}.`);
    // The whole table, loaded here only: completion is generated once, at shell set-up.
    const { CA_COMMANDS, COMMANDS } = await import('../main.js');
    const { messageCommand } = await import('./message.js');
    const commands: Spec[] = [];
    for (const entry of COMMANDS) {
      if (entry.name === 'ca') {
        const subcommands: Spec[] = [];
        for (const sub of CA_COMMANDS) {
          const c = await sub.load();
          subcommands.push({ name: sub.name, summary: c.summary, flags: flagsOf(c.options) });
        }
        commands.push({ name: 'ca', summary: entry.summary, flags: [], subcommands });
        continue;
      }
      const c = entry.name === 'completion' ? completionCommand : await entry.load();
      commands.push({ name: c.name, summary: c.summary, flags: flagsOf(c.options) });
    }
    const message: Spec = { name: 'message', summary: '', flags: flagsOf(messageCommand.options) };
    ctx.io.stdout(
      shell === 'bash'
        ? bash(commands, message)
        : shell === 'zsh'
          ? zsh(commands, message)
          : fish(commands, message),
    );
    return 0;
  },
};
