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
      if (k.value) lines.push(`export const value_${name}: Same<typeof node.${name}, typeof ours.${name}> = true;`);
      if (k.type) {
        // null satisfies every constraint of child_process's generic types.
        const args = k.arity ? `<${Array(k.arity).fill('null').join(', ')}>` : '';
        lines.push(`export const type_${name}: Same<node.${name}${args}, ours.${name}${args}> = true;`);
      }
    }
    fs.writeFileSync(path.join(dir, 'equivalence.ts'), lines.join('\n') + '\n');
    const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { timeout: 120000 });
    assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    // The compile really covered every file, with our declarations.
    const list = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir, '--listFilesOnly'], { timeout: 60000 });
    for (const f of ['usage-node.ts', 'usage-ours.ts', 'usage-node.mts', 'usage-ours.mts', 'equivalence.ts', 'register.ts']) {
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
