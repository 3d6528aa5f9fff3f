// The conformance suite against the in-memory fake API server (until the embedded local cluster serves).
import { after, before } from 'node:test';
import { runKubeClientConformance } from './conformance.ts';
import { type FakeKubeApi, startFakeKubeApi } from './fake-api-server.ts';
import { createKubeconfigClient } from './kubeconfig-client.ts';

let api: FakeKubeApi;
before(async () => {
  api = await startFakeKubeApi({ token: 'conformance-token', basePath: '/kube' });
});
after(async () => {
  await api.close();
});

runKubeClientConformance(
  async () => createKubeconfigClient({ name: 'fake', kubeconfig: api.kubeconfig(), timeoutMs: 5000 }),
  {
    name: 'fake API server',
    skipCrds: true,
  },
);
