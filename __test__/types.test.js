'use strict';
// index.d.ts against @types/node@20's child_process: one usage file compiled with `tsc --noEmit`
// against 'node:child_process' and against 'child-process-rs' (CommonJS .ts and ESM .mts), and a
// generated file asserting that every exported name has the same type in both.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const ts = require('typescript');
const { run, ROOT } = require('./helpers/run');
const { tempDir } = require('./helpers/copy-package');

const HERE = path.join(__dirname, 'types');

// Declarations that differ from @types/node because our ChildProcess has extras (killTree,
// resourceUsage, exited): ours must be usable wherever Node's is expected (checked for every name),
// and for these, and only these, Node's is not assignable to ours.
const RICHER = ['spawn', 'exec', 'execFile', 'fork', 'ChildProcess', 'ChildProcessWithoutNullStreams', 'ChildProcessByStdio', 'PromiseWithChild'];

// A temp project whose node_modules links to this package and to the repo's @types.
function project() {
  const dir = tempDir('types');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'child-process-rs'), 'dir');
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'), 'dir');
  const usage = fs.readFileSync(path.join(HERE, 'usage.ts'), 'utf8');
  for (const [name, spec] of [['node', 'node:child_process'], ['ours', 'child-process-rs']]) {
    const src = usage.replace("from 'MODULE'", `from '${spec}'`);
    assert.notEqual(src, usage);
    fs.writeFileSync(path.join(dir, `usage-${name}.ts`), src);
    fs.writeFileSync(path.join(dir, `usage-${name}.mts`), src);
  }
  const compilerOptions = {
    strict: true,
    noEmit: true,
    module: 'node16',
    moduleResolution: 'node16',
    target: 'es2022',
    lib: ['es2022', 'esnext.disposable'],
    types: ['node'],
    esModuleInterop: true,
    skipLibCheck: false,
  };
  fs.writeFileSync(path.join(dir, 'register.ts'), `import { register, unregister, isRegistered, originals } from 'child-process-rs/register';
    import 'child-process-rs/register';
    export const routed: string[] = register();
    export const state: boolean = unregister() && isRegistered();
    export const nodeSpawn: typeof import('node:child_process').spawn = originals().spawn;
    // @ts-expect-error register() takes no argument
    register(1);\n`);
  fs.writeFileSync(path.join(dir, 'extras.ts'), `import { spawn } from 'child-process-rs';
    import { spawn as nodeSpawn } from 'node:child_process';
    export async function extras(): Promise<void> {
      const c = spawn('sleep', ['1'], { killOnParentExit: true, killEscalationDelay: 100 });
      const signalled: boolean = c.killTree('SIGTERM');
      const { exitCode, signalCode } = await c.exited;
      const rss: number | undefined = c.resourceUsage()?.maxRSS;
      void [signalled, exitCode, signalCode, rss];
      // @ts-expect-error killEscalationDelay is a number or false
      spawn('true', { killEscalationDelay: true });
      // @ts-expect-error Node's ChildProcess has no killTree
      nodeSpawn('true').killTree();
    }\n`);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions }, null, 2));
  return { dir, compilerOptions };
}

// Exported names of both modules, as the compiler sees them, with their kind and generic arity.
function exportsOf(dir, compilerOptions) {
  const probe = path.join(dir, 'probe.ts');
  fs.writeFileSync(probe, "import * as node from 'node:child_process';\nimport * as ours from 'child-process-rs';\n");
  const { options } = ts.convertCompilerOptionsFromJson(compilerOptions, dir);
  const program = ts.createProgram([probe], options);
  const checker = program.getTypeChecker();
  const result = {};
  for (const decl of program.getSourceFile(probe).statements) {
    const mod = checker.getSymbolAtLocation(decl.moduleSpecifier);
    assert.ok(mod, `cannot resolve ${decl.moduleSpecifier.text}`);
    result[decl.importClause.namedBindings.name.text] = new Map(checker.getExportsOfModule(mod).map((s) => [s.name, {
      value: (s.flags & ts.SymbolFlags.Value) !== 0,
      type: (s.flags & ts.SymbolFlags.Type) !== 0,
      arity: s.declarations?.[0]?.typeParameters?.length ?? 0,
    }]));
  }
  fs.rmSync(probe);
  return result;
}

test('index.d.ts declares the same names, with the same types, as @types/node\'s child_process', () => {
  const { dir, compilerOptions } = project();
  try {
    const { node, ours } = exportsOf(dir, compilerOptions);
    assert.ok(node.size > 40, 'expected @types/node\'s full child_process declarations');
    assert.deepEqual([...ours.keys()].sort(), [...node.keys()].sort());
    const lines = [fs.readFileSync(path.join(HERE, 'equivalence.ts.in'), 'utf8')];
    for (const [name, k] of node) {
      assert.deepEqual(ours.get(name), k, name);
      const richer = RICHER.includes(name);
      const check = (kind, n, o) => {
        lines.push(`export const ${kind}_${name}_usable_as_node: Extends<${o}, ${n}> = true;`);
        lines.push(`export const ${kind}_${name}_node_usable_as_ours: Extends<${n}, ${o}> = ${!richer};`);
      };
      if (k.value) check('value', `typeof node.${name}`, `typeof ours.${name}`);
      if (k.type) {
        // null satisfies every constraint of child_process's generic types.
        const args = k.arity ? `<${Array(k.arity).fill('null').join(', ')}>` : '';
        check('type', `node.${name}${args}`, `ours.${name}${args}`);
      }
    }
    fs.writeFileSync(path.join(dir, 'equivalence.ts'), lines.join('\n') + '\n');
    const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { timeout: 120000 });
    assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    // The compile really covered every file, with our declarations.
    const list = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir, '--listFilesOnly'], { timeout: 60000 });
    for (const f of ['usage-node.ts', 'usage-ours.ts', 'usage-node.mts', 'usage-ours.mts', 'equivalence.ts', 'register.ts', 'extras.ts']) {
      assert.ok(list.stdout.includes(path.join(dir, f)), f);
    }
    assert.ok(list.stdout.includes(path.join(ROOT, 'index.d.ts')), 'index.d.ts was not used');
    assert.ok(list.stdout.includes(path.join(ROOT, 'register.d.ts')), 'register.d.ts was not used');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a type error in usage is caught under both modules (the check can fail)', () => {
  const { dir } = project();
  try {
    for (const f of ['usage-node.ts', 'usage-ours.ts']) {
      fs.appendFileSync(path.join(dir, f), "\nexport const bad: number = spawn('ls').pid;\n");
    }
    const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { timeout: 120000 });
    assert.notEqual(tsc.status, 0);
    for (const f of ['usage-node.ts', 'usage-ours.ts']) assert.match(tsc.stdout, new RegExp(`${f}\\(\\d+,\\d+\\): error TS2322`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
