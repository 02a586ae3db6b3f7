// Runs the SoftTenant health check (config/argocd/health/.../health.lua) against every case of
// its health_test.yaml, Argo CD's own test layout, with the real Lua interpreters: lua5.1 (the
// language gopher-lua implements, so nothing newer slips in) and lua5.4. The harness gives the
// script only what Argo CD gives a custom check (base functions and table).
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../support/controlplane.js';

const checkDir = join(repoRoot, 'config/argocd/health/tenancy.softtenant.io/SoftTenant');
const healthLua = join(checkDir, 'health.lua');
const harness = join(repoRoot, 'test/unit/argocd-health-harness.lua');
const interpreters = ['lua5.1', 'lua5.4'];

interface HealthCase {
  healthStatus: { status: string; message: string };
  inputPath: string;
}

interface HealthResult {
  status: string | null;
  message: string | null;
}

/** A Lua table constructor for a JSON-like value; strings use decimal byte escapes (5.1-safe). */
function toLuaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot express ${value} in Lua`);
    return String(value);
  }
  if (typeof value === 'string') {
    let out = '"';
    for (const byte of Buffer.from(value, 'utf8')) {
      const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
      out += printable ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
    }
    return `${out}"`;
  }
  if (Array.isArray(value)) return `{${value.map(toLuaLiteral).join(',')}}`;
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `[${toLuaLiteral(k)}]=${toLuaLiteral(v)}`);
    return `{${fields.join(',')}}`;
  }
  throw new Error(`cannot express a ${typeof value} in Lua`);
}

function runHealth(interpreter: string, script: string, input: unknown, work: string): HealthResult {
  const inputFile = join(work, 'input.lua');
  writeFileSync(inputFile, `return ${toLuaLiteral(input)}\n`);
  const res = spawnSync(interpreter, [harness, script, inputFile], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${interpreter} exited ${res.status}: ${res.stderr}`);
  return JSON.parse(res.stdout) as HealthResult;
}

function loadYaml(file: string): unknown {
  // CORE_SCHEMA: timestamps stay strings, as in the JSON Argo CD hands to the script.
  return yaml.load(readFileSync(file, 'utf8'), { schema: yaml.CORE_SCHEMA });
}

const cases = (loadYaml(join(checkDir, 'health_test.yaml')) as { tests: HealthCase[] }).tests;

describe('Argo CD health check for SoftTenant', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'softtenant-argocd-'));
    for (const lua of interpreters) execFileSync(lua, ['-v'], { stdio: 'ignore' });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const lua of interpreters) {
    describe(`health.lua under ${lua}`, () => {
      for (const tc of cases) {
        it(`${tc.inputPath} -> ${tc.healthStatus.status}`, () => {
          const obj = loadYaml(resolve(checkDir, tc.inputPath));
          const got = runHealth(lua, healthLua, obj, work);
          expect(got).to.deep.equal({ status: tc.healthStatus.status, message: tc.healthStatus.message });
        });
      }
    });
  }

  it('has a test case for every testdata file and a file for every case', () => {
    const files = readdirSync(join(checkDir, 'testdata'))
      .map((f) => `testdata/${f}`)
      .sort();
    const inputs = cases.map((c) => c.inputPath).sort();
    expect(inputs).to.deep.equal(files);
  });

  it('covers the states the issue asks for', () => {
    const byFile = new Map(
      cases.map((c) => [c.inputPath.replace(/^testdata\/|\.yaml$/g, ''), c.healthStatus.status]),
    );
    expect(byFile.get('progressing_no_status')).to.equal('Progressing');
    expect(byFile.get('progressing_generation_not_observed')).to.equal('Progressing');
    expect(byFile.get('progressing_reconciling')).to.equal('Progressing');
    expect(byFile.get('healthy')).to.equal('Healthy');
    expect(byFile.get('degraded_stalled')).to.equal('Degraded');
    expect(byFile.get('degraded_not_enforced')).to.equal('Degraded');
    expect(byFile.get('progressing_awaiting_enforcement')).to.equal('Progressing');
    expect(byFile.get('progressing_terminating')).to.equal('Progressing');
  });

  // The harness must be as strict as Argo CD, or the cases above prove less than they seem.
  for (const lua of interpreters) {
    it(`the harness under ${lua} refuses what Argo CD refuses: the string and math libraries`, () => {
      const probe = join(work, 'probe.lua');
      writeFileSync(
        probe,
        'return { status = string.format("%s", "Healthy"), message = tostring(math.floor(1)) }\n',
      );
      expect(() => runHealth(lua, probe, { metadata: { name: 'x' } }, work)).to.throw(/health\.lua failed/);
    });
  }

  it('converts strings with quotes, backslashes, newlines and non-ASCII text faithfully', () => {
    const probe = join(work, 'echo.lua');
    writeFileSync(probe, 'return { status = "Healthy", message = obj.metadata.name }\n');
    const tricky = 'a "quoted" \\ back\nslash — ünïcode';
    for (const lua of interpreters) {
      expect(runHealth(lua, probe, { metadata: { name: tricky } }, work).message).to.equal(tricky);
    }
  });
});
