import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.CHARGEGATE_SECRET); // "whsec_…"
const port = Number(process.env.RECEIVER_PORT ?? 4000);

const server = createServer((req, res) => {
  let body = '';
  req
    .on('data', (chunk) => {
      body += chunk;
    })
    .on('end', () => {
      try {
        const decision = webhook.verify(body, req.headers); // throws on a bad signature or old timestamp
        // Deduplicate on req.headers['webhook-id']: delivery is at least once.
        process.stdout.write(`${decision.requestId} ${decision.status}\n`);
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`receiving callbacks on http://127.0.0.1:${server.address().port}/\n`);
});
