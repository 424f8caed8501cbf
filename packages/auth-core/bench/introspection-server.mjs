// A minimal RFC 7662 endpoint in its own process, standing in for an authorization server's:
// it checks client authentication and answers from an in-memory token table (the cheapest an
// authorization server can be, so introspection mode is measured at its best).
import { createServer } from 'node:http';

const tokens = new Map();
const expected = `Basic ${Buffer.from('bench-rs:bench-secret').toString('base64')}`;

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    if (req.url === '/register') {
      const { token, claims } = JSON.parse(body);
      tokens.set(token, claims);
      res.end('{}');
      return;
    }
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"invalid_client"}');
      return;
    }
    const token = new URLSearchParams(body).get('token');
    const claims = tokens.get(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(claims ? { active: true, ...claims } : { active: false }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
