// Replays every recorded kube-apiserver error (testdata/errors) and compares the Status bodies.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestCluster, type TestCluster } from './testing.ts';

const DIR = join(import.meta.dirname, 'testdata', 'errors');

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  status: number;
  response: string;
}

function parse(text: string): Recorded {
  const [reqPart = '', resPart = ''] = text.split(/^### RESPONSE.*$/m);
  const reqLines = reqPart.replace(/^### REQUEST\n/m, '').split('\n');
  const [method = 'GET', url = ''] = (reqLines[0] ?? '').split(' ');
  const headers: Record<string, string> = {};
  let i = 1;
  for (; i < reqLines.length && reqLines[i] !== ''; i++) {
    const line = reqLines[i] ?? '';
    const c = line.indexOf(':');
    headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
  }
  const body = reqLines
    .slice(i + 1)
    .join('\n')
    .trim();
  const resLines = resPart.trim().split('\n');
  const status = Number(/HTTP\/\S+ (\d+)/.exec(resLines[0] ?? '')?.[1]);
  const blank = resLines.indexOf('');
  return {
    method,
    path: new URL(url).pathname + new URL(url).search,
    headers,
    body: body === '' ? undefined : body,
    status,
    response: resLines
      .slice(blank + 1)
      .join('\n')
      .trim(),
  };
}

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
  const post = (path: string, body: unknown) =>
    cluster.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/api/v1/namespaces', { metadata: { name: 'capture' } });
  await post('/api/v1/namespaces/capture/configmaps', { metadata: { name: 'web-config' }, data: { a: 'b' } });
  await post('/api/v1/namespaces/capture/configmaps', {
    metadata: { name: 'conflict-demo' },
    data: { k: 'v' },
  });
  await post('/apis/apps/v1/namespaces/capture/deployments', {
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
      },
    },
  });
});

after(async () => {
  await cluster.close();
});

for (const file of readdirSync(DIR).sort()) {
  test(`recorded error ${file}`, async () => {
    const rec = parse(readFileSync(join(DIR, file), 'utf8'));
    const headers: Record<string, string> = { ...rec.headers };
    delete headers.authorization;
    delete headers['user-agent'];
    const token = file.startsWith('09a') ? 'not-a-valid-token' : undefined;
    const res = await cluster.request(rec.path, {
      method: rec.method,
      headers,
      ...(rec.body !== undefined ? { body: rec.body } : {}),
      ...(token ? { token } : {}),
    });
    const text = await res.text();
    if (rec.status < 400 && !file.startsWith('06a')) {
      assert.equal(res.status, rec.status, `${file}: ${text}`);
      return;
    }
    assert.equal(res.status, rec.status, `${file}: ${text}`);
    if (file.startsWith('07b')) {
      assert.equal(text.trim(), rec.response);
      return;
    }
    if (file.startsWith('09d')) {
      assert.match(text, /reason: NotFound/);
      return;
    }
    const expected = JSON.parse(file.startsWith('06a') ? rec.response : rec.response) as Record<
      string,
      unknown
    >;
    const actual = JSON.parse(file.startsWith('06a') ? (text.trim().split('\n')[0] ?? '') : text) as Record<
      string,
      unknown
    >;
    const e = (file.startsWith('06a') ? expected.object : expected) as Record<string, unknown>;
    const a = (file.startsWith('06a') ? actual.object : actual) as Record<string, unknown>;
    assert.equal(a.kind, 'Status');
    assert.equal(a.code, e.code);
    assert.equal(a.reason, e.reason);
    assert.equal(a.status, e.status);
    const stable = (m: unknown) =>
      String(m)
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UID')
        .replace(/\d+/g, 'N');
    if (!['06c', '08d'].some((p) => file.startsWith(p)))
      assert.equal(stable(a.message), stable(e.message), file);
    const ed = e.details as { causes?: { field?: string; reason: string }[] } | undefined;
    const ad = a.details as { causes?: { field?: string; reason: string }[] } | undefined;
    if (ed?.causes)
      assert.deepEqual(
        ad?.causes?.map((c) => [c.reason, c.field]),
        ed.causes.map((c) => [c.reason, c.field]),
      );
  });
}
