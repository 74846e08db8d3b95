#!/usr/bin/env node
// End-to-end test of citekb-server through an independent client: Node's
// @grpc/grpc-js + @grpc/proto-loader (pinned in package.json), not the
// project's own C++ or Python stubs. It builds a fresh index, starts the real
// server on a free port, talks to it over the wire (health, reflection and
// the KnowledgeBase API) and checks the server exits 0 on SIGTERM.
//
// Usage:
//   node independent_client_test.js SERVER_BINARY INDEXER_BINARY KNOWLEDGE_DIR
//   node independent_client_test.js SERVER_BINARY --index EXISTING_INDEX
// or the environment variables CITEKB_SERVER, CITEKB_INDEXER,
// CITEKB_KNOWLEDGE (or CITEKB_INDEX for a prebuilt index).
// Dependencies: `npm ci --prefix tests/node`.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

let grpc;
let protoLoader;
try {
  grpc = require('@grpc/grpc-js');
  protoLoader = require('@grpc/proto-loader');
} catch (err) {
  console.error(
    `independent_client_test: cannot load @grpc/grpc-js / @grpc/proto-loader ` +
      `(${err.message}); run: npm ci --prefix ${path.relative(process.cwd(), __dirname) || '.'}`);
  process.exit(1);
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PROTO_DIR = process.env.CITEKB_PROTO_DIR || path.join(REPO_ROOT, 'proto');
const RPC_DEADLINE_MS = 5000;
const HEALTH_WAIT_MS = 10000;
const EXIT_WAIT_MS = 10000;
const INDEX_TIMEOUT_MS = 20000;

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const args = argv.slice(2);
  const cfg = {
    server: process.env.CITEKB_SERVER,
    indexer: process.env.CITEKB_INDEXER,
    knowledge: process.env.CITEKB_KNOWLEDGE || path.join(REPO_ROOT, 'knowledge'),
    index: process.env.CITEKB_INDEX,
  };
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--index') cfg.index = args[++i];
    else if (args[i].startsWith('--index=')) cfg.index = args[i].slice('--index='.length);
    else positional.push(args[i]);
  }
  if (positional[0]) cfg.server = positional[0];
  if (positional[1]) cfg.indexer = positional[1];
  if (positional[2]) cfg.knowledge = positional[2];
  if (!cfg.server) throw new Error('missing server binary (argv[2] or CITEKB_SERVER)');
  if (!cfg.index && !cfg.indexer) {
    throw new Error('missing indexer binary (argv[3] or CITEKB_INDEXER) or --index FILE');
  }
  return cfg;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function deadline(ms = RPC_DEADLINE_MS) {
  return new Date(Date.now() + ms);
}

function unary(client, method, request, ms = RPC_DEADLINE_MS) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: deadline(ms) }, (err, response) => {
      if (err) reject(err);
      else resolve(response);
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function loadProto(file, includeDirs) {
  return grpc.loadPackageDefinition(
    protoLoader.loadSync(file, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs,
    }));
}

// Resolves with {code, signal} when the process exits, or null after `ms`.
function waitForExit(proc, ms) {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

// ---------------------------------------------------------------------------
// Fixture: index, server, clients
// ---------------------------------------------------------------------------

const cfg = parseArgs(process.argv);
const protos = {
  kb: loadProto('citekb/v1/knowledge_base.proto', [PROTO_DIR]),
  health: loadProto(path.join(__dirname, 'health.proto'), [__dirname]),
  reflection: loadProto(path.join(__dirname, 'reflection.proto'), [__dirname]),
};

let tmpDir;
let server; // ChildProcess
let serverLog = '';
let target;
let kb;
let health;
let reflection;

function serverFailure(message) {
  return new Error(`${message}\n--- citekb-server output ---\n${serverLog}`);
}

function buildIndex() {
  if (cfg.index) return cfg.index;
  const out = path.join(tmpDir, 'kb.sqlite');
  const res = spawnSync(cfg.indexer, ['--knowledge', cfg.knowledge, '--out', out], {
    encoding: 'utf8',
    timeout: INDEX_TIMEOUT_MS,
  });
  if (res.error || res.status !== 0) {
    throw new Error(
      `citekb-index failed (status ${res.status}, ${res.error || res.signal}):\n` +
        `${res.stdout}${res.stderr}`);
  }
  return out;
}

// Polls grpc.health.v1.Health/Check until SERVING, the server exits, or
// HEALTH_WAIT_MS passes.
async function waitForServing(proc, client) {
  const start = Date.now();
  let last = 'no answer yet';
  while (Date.now() - start < HEALTH_WAIT_MS) {
    if (proc.exitCode !== null || proc.signalCode !== null) return { exited: true, last };
    try {
      const res = await unary(client, 'Check', { service: '' }, 1000);
      if (res.status === 'SERVING') return { serving: true };
      last = `status ${res.status}`;
    } catch (err) {
      last = `${err.code}: ${err.details}`;
    }
    await sleep(100);
  }
  return { timedOut: true, last };
}

before(async () => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'citekb-node-e2e-'));
  const indexPath = buildIndex();

  // The free port can be taken between close() and the server's bind; retry
  // with a new port when the server dies early.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    target = `127.0.0.1:${port}`;
    serverLog = '';
    server = spawn(cfg.server, ['--index', indexPath, '--listen', target], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout.on('data', (d) => { serverLog += d; });
    server.stderr.on('data', (d) => { serverLog += d; });
    server.on('error', (err) => { serverLog += `spawn error: ${err.message}\n`; });

    health = new protos.health.grpc.health.v1.Health(target, grpc.credentials.createInsecure());
    const state = await waitForServing(server, health);
    if (state.serving) break;
    health.close();
    if (state.timedOut) {
      server.kill('SIGKILL');
      throw serverFailure(`server not SERVING within ${HEALTH_WAIT_MS} ms (${state.last})`);
    }
    if (attempt === 3) throw serverFailure(`server exited before SERVING (${state.last})`);
  }

  kb = new protos.kb.citekb.v1.KnowledgeBase(target, grpc.credentials.createInsecure());
  reflection = new protos.reflection.grpc.reflection.v1alpha.ServerReflection(
    target, grpc.credentials.createInsecure());
});

after(async () => {
  for (const client of [kb, health, reflection]) if (client) client.close();
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGKILL');
    await waitForExit(server, EXIT_WAIT_MS);
  }
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Tests (run in order; the last one shuts the server down)
// ---------------------------------------------------------------------------

test('reflection lists KnowledgeBase and Health', { timeout: 10000 }, async () => {
  const services = await new Promise((resolve, reject) => {
    const call = reflection.ServerReflectionInfo({ deadline: deadline() });
    let done = false;
    call.on('data', (res) => {
      if (done) return;
      done = true;
      call.end();
      if (res.message_response !== 'list_services_response') {
        reject(new Error(`unexpected reflection response: ${JSON.stringify(res)}`));
        return;
      }
      resolve(res.list_services_response.service.map((s) => s.name));
    });
    call.on('error', (err) => { if (!done) { done = true; reject(err); } });
    call.on('end', () => {
      if (!done) { done = true; reject(new Error('reflection stream ended without a response')); }
    });
    call.write({ host: '', list_services: '*' });
  });
  assert.ok(services.includes('citekb.v1.KnowledgeBase'), `services: ${services}`);
  assert.ok(services.includes('grpc.health.v1.Health'), `services: ${services}`);
});

test('Ask answers "why K2 with D3?" with an https citation', { timeout: 10000 }, async () => {
  const res = await unary(kb, 'Ask', { question: 'why K2 with D3?' });
  assert.equal(res.answered, true, `answer: ${res.answer}`);
  assert.ok(res.answer.length > 0);
  assert.ok(res.citations.length >= 1, 'expected at least one citation');
  assert.ok(
    res.citations.some((c) => c.url.startsWith('https://')),
    `citation urls: ${res.citations.map((c) => c.url)}`);
});

test('GetCitation resolves pmid:11684396', { timeout: 10000 }, async () => {
  const res = await unary(kb, 'GetCitation', { id: 'pmid:11684396' });
  assert.equal(res.pmid, '11684396');
  assert.equal(res.id, 'pmid:11684396');
});

test('Ask with an empty question is INVALID_ARGUMENT', { timeout: 10000 }, async () => {
  await assert.rejects(unary(kb, 'Ask', { question: '' }), (err) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `got ${err.code}: ${err.details}`);
    assert.match(err.details, /question/);
    return true;
  });
});

test('EvaluateStack reads free text and cites every finding', { timeout: 10000 }, async () => {
  const res = await unary(kb, 'EvaluateStack', {
    text: '10000 IU D3 and 100 mcg K2 MK-7 before bed',
    medications: ['warfarin'],
  });
  assert.deepEqual(res.doses.map((d) => d.compound), ['vitamin_d3', 'vitamin_k2']);
  assert.equal(res.findings[0].code, 'ANTICOAGULANT_INTERACTION');
  assert.equal(res.findings[0].severity, 'SEVERITY_ALERT');
  const codes = res.findings.map((f) => f.code);
  for (const code of ['D3_ABOVE_UL', 'D3_HIGH_DOSE', 'K2_RATIO_LOW', 'TIMING_LATE']) {
    assert.ok(codes.includes(code), `findings: ${codes}`);
  }
  const served = new Set(res.citations.map((c) => c.id));
  for (const finding of res.findings) {
    assert.ok(finding.citation_ids.length > 0, `${finding.code} cites nothing`);
    for (const id of finding.citation_ids) assert.ok(served.has(id), `${id} not resolved`);
  }
});

test('EvaluateStack with an impossible unit is INVALID_ARGUMENT', { timeout: 10000 }, async () => {
  await assert.rejects(
    unary(kb, 'EvaluateStack', { doses: [{ compound: 'K2', amount: 100, unit: 'IU' }] }),
    (err) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `got ${err.code}: ${err.details}`);
      assert.match(err.details, /^doses\[0\]\.unit: /);
      return true;
    });
});

test('Search pages with page_size 2', { timeout: 10000 }, async () => {
  const res = await unary(kb, 'Search', { query: 'calcium', page_size: 2 });
  assert.equal(res.passages.length, 2);
  assert.ok(res.next_page_token.length > 0, 'expected a next_page_token');
});

test('server exits 0 on SIGTERM', { timeout: EXIT_WAIT_MS + 2000 }, async () => {
  for (const client of [kb, health, reflection]) client.close();
  assert.ok(server.kill('SIGTERM'), 'could not signal the server');
  const exit = await waitForExit(server, EXIT_WAIT_MS);
  assert.ok(exit, serverFailure(`server still running ${EXIT_WAIT_MS} ms after SIGTERM`).message);
  assert.deepEqual(exit, { code: 0, signal: null }, serverLog);
});
