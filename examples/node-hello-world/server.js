// node-hello-world: the seed scenario's service. GET / says hello; GET /healthz is the probe.
import { createServer } from 'node:http';

export function handle(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message: 'Hello, world!', version: process.env.APP_VERSION ?? 'dev' }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const port = Number(process.env.PORT ?? 3000);
  createServer(handle).listen(port, () => console.log(`node-hello-world listening on :${port}`));
}
