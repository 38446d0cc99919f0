// The example API `certified serve` runs in the quick start and the tests: a Hono app that greets the
// caller by the name on its validated certificate (`c.env.peer`, set by the server after our validator
// accepted the caller's chain) and keeps notes in memory. It needs nothing from certified itself.
import { Hono } from 'hono';

const notes = [];
const app = new Hono();
const caller = (c) => c.env?.peer?.peer.commonName ?? null;

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
