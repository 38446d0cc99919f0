/**
 * Child processes for the benchmarks (`serve.mjs`, `hostile.mjs`): fork a script beside this file
 * with IPC, ask it something and wait for its answer, and stop it. A child that exits before it is
 * stopped ends the benchmark: its numbers would be wrong.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import process from 'node:process';

const here = new URL('.', import.meta.url);
const expected = new WeakSet();

/** Forks `script` (a file beside this one) with `args`; exits the bench if it dies unasked. */
export function forkChild(script, args = [], execArgv = []) {
  const child = fork(new URL(script, here), args, {
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('exit', (code, signal) => {
    if (expected.has(child)) return;
    console.error(`${script} ${args.join(' ')} exited early (${signal ?? code})`);
    process.exit(1);
  });
  return child;
}

/** Sends `message` and resolves with the child's next message of type `reply`. */
export function ask(child, message, reply) {
  const answer = new Promise((resolve) => {
    const onMessage = (m) => {
      if (m.type !== reply) return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
  });
  child.send(message);
  return answer;
}

/** Tells `child` to stop (`{ type: 'stop' }`) and resolves when it has exited. */
export async function stopChild(child) {
  expected.add(child);
  const exited = once(child, 'exit');
  child.send({ type: 'stop' });
  await exited;
}
