// The example API `certified serve` runs in the quick start and the tests: a Hono app that keeps notes
// in memory and greets the caller by the name on its certificate. The server has already judged the
// caller's chain at the handshake; requireClientCert() (no options: it uses the server's current
// trust) puts the caller on `c.get('certified')`. `certified serve` itself writes the JSON access log.
import { Hono } from 'hono';
import { requireClientCert } from '@certified/hono';

const notes = [];
const app = new Hono();
app.use(requireClientCert());
const caller = (c) => c.get('certified').commonName ?? null;

app.get('/', (c) => c.json({ hello: caller(c), notes: notes.length }));
app.get('/notes', (c) => c.json(notes));
app.post('/notes', async (c) => {
  const body = await c.req.json().catch(() => undefined);
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return c.json({ error: 'send a JSON object' }, 400);
  const note = { id: notes.length + 1, by: caller(c), ...body };
  notes.push(note);
  return c.json(note, 201);
});

export default app;
