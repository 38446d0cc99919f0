// Shared by the `certified` and `message` bins: runs the bundle in dist/, building it first when it
// is missing. `npm ci` in a checkout links bins before anything is built, and a bin pointing into
// dist/ would not exist then (npx would look for the package on the registry instead). A published
// package ships dist/, so only a checkout ever builds here.
// Builtins through process.getBuiltinModule: no ES module facades at every start.
const { existsSync } = process.getBuiltinModule('node:fs');

/** Runs dist/<name>.mjs of this package, building dist/ first if it is not there. */
export async function launch(name) {
  const bundle = new URL(`../dist/${name}.mjs`, import.meta.url);
  if (!existsSync(bundle)) {
    const { spawnSync } = process.getBuiltinModule('node:child_process');
    const { fileURLToPath } = process.getBuiltinModule('node:url');
    process.stderr.write(`${name}: building the command-line bundle (first run in a checkout)…\n`);
    const built = spawnSync(process.execPath, ['build.mjs'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (built.status !== 0 || !existsSync(bundle)) {
      process.stderr.write(
        `${name}: ERR_CLI_BUILD: the bundle could not be built; run \`npm run build\` in the repository and try again.\n`,
      );
      process.exit(1);
    }
  }
  await import(bundle.href);
}
