'use strict';
// Packaging: the npm pack tarball holds what a source build needs and nothing else; installed
// into an empty project it compiles from source (scripts/build.js as the install script, no
// @napi-rs/cli) and runs an app through the register hook; the npm/<platform> packages follow
// napi-rs's layout, and lib/binding.js loads the binary from one when the package has none.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { run, node, nodeJSON, ROOT } = require('./helpers/run');
const { tempDir, copyPackageTo, BINARY } = require('./helpers/copy-package');

const pkg = require('../package.json');
const NPM = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];

function npm(args, options) {
  const r = run(NPM[0], [...NPM[1], ...args, '--no-audit', '--no-fund'], { timeout: 300000, ...options });
  assert.equal(r.status, 0, `npm ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The triple napi-rs names a Rust target by: x86_64-unknown-linux-gnu -> linux-x64-gnu.
function napiTriple(target) {
  const [arch, , os, abi] = target.split('-');
  const cpu = { x86_64: 'x64', aarch64: 'arm64' }[arch];
  return { dir: `${os}-${cpu}-${abi}`, os, cpu, libc: { gnu: 'glibc', musl: 'musl' }[abi] };
}

test('package.json: engines, files, os/libc, license, keywords, exports', () => {
  assert.match(pkg.engines.node, />=\s*20/);
  assert.deepEqual(pkg.os, ['linux']);
  assert.deepEqual(pkg.libc, ['glibc']);
  assert.equal(pkg.cpu, undefined, 'the source package builds for any cpu; cpu belongs on npm/<platform>');
  assert.equal(pkg.license, 'MIT');
  assert.match(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.ok(pkg.keywords.includes('child_process'));
  assert.equal(pkg.scripts.install, 'node scripts/build.js');
  assert.ok(!JSON.stringify(pkg.dependencies ?? {}).includes('@napi-rs/cli'), 'the install needs no napi CLI');
  assert.deepEqual(Object.keys(pkg.exports), ['.', './register', './package.json']);
});

test('npm/<platform> packages follow napi-rs\'s layout for every napi target', () => {
  const dirs = fs.readdirSync(path.join(ROOT, 'npm')).sort();
  assert.deepEqual(dirs, pkg.napi.targets.map((t) => napiTriple(t).dir).sort());
  for (const target of pkg.napi.targets) {
    const t = napiTriple(target);
    const sub = require(path.join(ROOT, 'npm', t.dir, 'package.json'));
    const binary = `${pkg.napi.binaryName}.${t.dir}.node`;
    assert.deepEqual(sub, {
      name: `${pkg.name}-${t.dir}`,
      version: pkg.version,
      description: sub.description,
      os: [t.os],
      cpu: [t.cpu],
      libc: [t.libc],
      main: binary,
      files: [binary],
      license: pkg.license,
      engines: pkg.engines,
    });
    assert.ok(fs.existsSync(path.join(ROOT, 'npm', t.dir, 'README.md')));
  }
});

test('prebuilt route: with only the platform package installed, it loads from there and the install builds nothing', () => {
  const dir = tempDir('prebuilt');
  try {
    const main = copyPackageTo(path.join(dir, 'node_modules', pkg.name), { binary: false });
    fs.cpSync(path.join(ROOT, 'scripts', 'build.js'), path.join(main, 'scripts', 'build.js'));
    const platform = path.join(dir, 'node_modules', `${pkg.name}-linux-x64-gnu`);
    fs.mkdirSync(platform);
    fs.copyFileSync(path.join(ROOT, 'npm', 'linux-x64-gnu', 'package.json'), path.join(platform, 'package.json'));
    fs.copyFileSync(path.join(ROOT, BINARY), path.join(platform, BINARY));
    // A cargo that cannot run: the install script must not need it.
    node([path.join(main, 'scripts', 'build.js')], { cwd: main, env: { CARGO: '/nonexistent/cargo' } });
    assert.ok(!fs.existsSync(path.join(main, BINARY)));
    const src = `const cp = require('child-process-rs'); const c = cp.spawn('sh', ['-c', 'exit 4']);
      c.on('close', (code) => console.log(JSON.stringify({ code, from: require.resolve('${pkg.name}-linux-x64-gnu') })));`;
    assert.deepEqual(nodeJSON(['-e', src], { cwd: dir }), { code: 4, from: path.join(platform, BINARY) });
    // Without any binary, loading fails with the troubleshooting hint.
    fs.rmSync(platform, { recursive: true });
    const r = run(process.execPath, ['-e', "require('child-process-rs')"], { cwd: dir });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot load the native addon.*Troubleshooting/s);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('clean room: npm pack, install the tarball into an empty project, build from source, run an app through register', () => {
  const dir = tempDir('cleanroom');
  try {
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], { cwd: ROOT }))[0];
    const files = packed.files.map((f) => f.path).sort();
    // Everything cargo compiles is in the tarball (so the source build there is the one here).
    const rust = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true })
      .filter((f) => f.endsWith('.rs')).map((f) => `src/${f}`);
    const tracked = [...rust, 'build.rs', 'Cargo.toml', 'Cargo.lock'];
    for (const f of [...tracked, 'index.js', 'index.mjs', 'index.d.ts', 'register.js', 'register.d.ts', 'scripts/build.js', 'lib/binding.js', 'LICENSE', 'README.md']) {
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    }
    for (const f of files) assert.doesNotMatch(f, /^(__test__|npm|target|node_modules|bench)\/|\.node$/, `${f} should not be packed`);

    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // A private cargo target dir seeded with this repo's compiled dependencies, minus everything
    // of our own crate: the install really compiles the tarball's sources (release, ~20-60 s),
    // without recompiling the world or touching the repo's target dir.
    const target = path.join(dir, 'target');
    fs.cpSync(path.join(ROOT, 'target', 'release'), path.join(target, 'release'), {
      recursive: true,
      filter: (src) => !/child[-_]process[-_]rs/.test(path.basename(src)),
    });
    npm(['install', path.join(dir, packed.filename)], { cwd: app, env: { CARGO_TARGET_DIR: target } });
    const installed = path.join(app, 'node_modules', pkg.name);
    assert.ok(fs.existsSync(path.join(target, 'release', 'libchild_process_rs.so')), 'cargo compiled the tarball\'s sources');
    assert.ok(fs.existsSync(path.join(installed, BINARY)), 'the install script installed the addon');
    assert.ok(!fs.existsSync(path.join(installed, 'node_modules')), 'no install-time dependencies');

    fs.writeFileSync(path.join(app, 'app.js'), `
      const { spawn } = require('child_process');
      const c = spawn('sh', ['-c', 'echo hello; exit 3']);
      let out = '';
      c.stdout.on('data', (d) => { out += d; });
      c.on('close', (code) => console.log(JSON.stringify({ out, code, ours: c instanceof require('child-process-rs').ChildProcess })));`);
    fs.writeFileSync(path.join(app, 'app.mjs'), `
      import { spawn } from 'node:child_process';
      import cp, { ChildProcess } from 'child-process-rs';
      const c = spawn('true');
      c.on('close', (code) => console.log(JSON.stringify({ code, ours: c instanceof ChildProcess && cp.spawn === spawn })));`);
    assert.deepEqual(nodeJSON(['-r', 'child-process-rs/register', 'app.js'], { cwd: app }), { out: 'hello\n', code: 3, ours: true });
    assert.deepEqual(nodeJSON(['app.mjs'], { cwd: app, env: { NODE_OPTIONS: '--require=child-process-rs/register' } }), { code: 0, ours: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
