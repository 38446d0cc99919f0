/**
 * @module app — the UI: create and show the identity, introduce someone, install a letter, list
 * services and clients, call a service with a signed request. All logic is in model.ts / call.ts,
 * loaded as separate chunks so the shell paints first.
 */
import { useEffect, useState } from 'preact/hooks';
import type { JSX, TargetedEvent } from 'preact';
import type * as ModelModule from './model.js';
import type { Failure, Shown, Subject } from './model.js';

// Types only: the module itself is loaded as its own chunk, after the shell paints.
type Model = typeof ModelModule;
const loadModel = (): Promise<Model> => import('./model.js');

type Tab = 'identity' | 'introduce' | 'install' | 'services';

export function App(): JSX.Element {
  const [model, setModel] = useState<Model>();
  const [shown, setShown] = useState<Shown | null>();
  const [error, setError] = useState<Failure>();
  const [tab, setTab] = useState<Tab>('identity');
  useEffect(() => {
    // A first visit needs only the store, to see there is nothing yet; the model (certificates,
    // YAML) loads when there is an identity to show, or on Create.
    import('./probe.js')
      .then(async ({ hasIdentity }) => {
        if (!(await hasIdentity())) return setShown(null);
        const m = await loadModel();
        setModel(m);
        setShown((await m.current()) ?? null);
      })
      .catch((e: unknown) => setError(failureOf(e)));
  }, []);
  const reload = async () => setShown((await model!.current()) ?? null);

  if (error) return <Problem failure={error} />;
  if (shown === null)
    return (
      <Create
        onCreated={(m, s) => {
          setModel(m);
          setShown(s);
        }}
      />
    );
  if (!model || shown === undefined) return <p>Opening this browser’s identity store…</p>;
  const tabs: [Tab, string][] = [
    ['identity', 'Identity'],
    ['introduce', 'Introduce'],
    ['install', 'Install a letter'],
    ['services', 'Services & clients'],
  ];
  return (
    <>
      <nav>
        {tabs.map(([t, label]) => (
          <button
            key={t}
            data-testid={`tab-${t}`}
            aria-pressed={tab === t}
            onClick={() => setTab(t)}
          >
            {label}
          </button>
        ))}
      </nav>
      {tab === 'identity' && <IdentityView shown={shown} />}
      {tab === 'introduce' && <Introduce model={model} shown={shown} />}
      {tab === 'install' && <Install model={model} shown={shown} onInstalled={reload} />}
      {tab === 'services' && <Services shown={shown} />}
    </>
  );
}

function Problem({ failure }: { failure: Failure }): JSX.Element {
  return (
    <p class="error" role="alert" data-testid="error">
      <code>{failure.code}</code> {failure.message}
    </p>
  );
}

/** Any thrown value as a code and a sentence (a CertifiedError's own) — never a stack trace. */
function failureOf(e: unknown): Failure {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^ERR_[A-Z0-9_]+$/.test(code))
    return { code, message: String(message) };
  if (e instanceof TypeError || e instanceof RangeError)
    return { code: 'ERR_INPUT', message: e.message };
  return { code: 'ERR_UNEXPECTED', message: String(message ?? e) };
}

/** Runs an action, showing its failure as code + sentence. */
function useAction(): [Failure | undefined, (run: () => Promise<void>) => void, boolean] {
  const [failure, setFailure] = useState<Failure>();
  const [busy, setBusy] = useState(false);
  const act = (run: () => Promise<void>) => {
    setFailure(undefined);
    setBusy(true);
    run()
      .catch((e: unknown) => setFailure(failureOf(e)))
      .finally(() => setBusy(false));
  };
  return [failure, act, busy];
}

function Create({ onCreated }: { onCreated: (m: Model, s: Shown) => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [keyType, setKeyType] = useState<'ed25519' | 'secp256r1'>('ed25519');
  const [failure, act, busy] = useAction();
  return (
    <form
      data-testid="create"
      onSubmit={(e) => {
        e.preventDefault();
        act(async () => {
          const model = await loadModel();
          const t0 = performance.now();
          const made = await model.create({ name, email, keyType });
          performance.measure('certified:create', { start: t0, end: performance.now() });
          onCreated(model, made);
        });
      }}
    >
      <h2>Create your identity</h2>
      <p>
        A signing CA and an identity certificate, with private keys generated in this browser as
        non-extractable keys: they stay in its IndexedDB and cannot be exported, not even by this
        page.
      </p>
      <label>
        Name{' '}
        <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <label>
        Email{' '}
        <input
          name="email"
          type="email"
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
          required
        />
      </label>
      <label>
        Key type{' '}
        <select value={keyType} onChange={(e) => setKeyType(e.currentTarget.value as 'ed25519')}>
          <option value="ed25519">Ed25519</option>
          <option value="secp256r1">P-256</option>
        </select>
      </label>
      <button type="submit" disabled={busy}>
        Create
      </button>
      {failure && <Problem failure={failure} />}
    </form>
  );
}

function IdentityView({ shown }: { shown: Shown }) {
  const { identity, signer } = shown.description;
  return (
    <section data-testid="identity">
      <h2 data-testid="subject">{identity.subject}</h2>
      <dl>
        <dt>Reached at</dt>
        <dd>{identity.altNames.join(', ')}</dd>
        <dt>Identity fingerprint (SHA-256)</dt>
        <dd data-testid="fingerprint">
          <code>{identity.fingerprint}</code>
        </dd>
        {signer && (
          <>
            <dt>Signing CA fingerprint</dt>
            <dd>
              <code>{signer.fingerprint}</code>
            </dd>
          </>
        )}
        <dt>Expires</dt>
        <dd>
          {identity.notAfter.slice(0, 10)} ({identity.daysLeft} days)
        </dd>
        <dt>Private keys</dt>
        <dd data-testid="keys">
          {shown.keysExtractable ? 'extractable' : 'non-extractable, in this browser only'}
        </dd>
      </dl>
      <Copyable
        label="get-ident (give it to whoever introduces you)"
        testid="ident"
        text={shown.ident}
      />
      {shown.signer && <Copyable label="get-signer" testid="signer" text={shown.signer} />}
      <p>
        To use certified in another browser or machine, create an identity there and have it
        introduced: keys made here cannot leave this browser.
      </p>
    </section>
  );
}

function Copyable({ label, text, testid }: { label: string; text: string; testid: string }) {
  return (
    <label class="copy">
      {label}
      <textarea readOnly rows={3} data-testid={testid} value={text} />
      <button type="button" onClick={() => void navigator.clipboard?.writeText(text)}>
        Copy
      </button>
    </label>
  );
}

function readFileInto(set: (t: string) => void) {
  return (e: TargetedEvent<HTMLInputElement>) => {
    const f = e.currentTarget.files?.[0];
    if (f) void f.text().then(set);
  };
}

function Introduce({ model, shown }: { model: Model; shown: Shown }) {
  const [text, setText] = useState('');
  const [subject, setSubject] = useState<Subject>();
  const [services, setServices] = useState<[string, string][]>([]);
  const [letter, setLetter] = useState<string>();
  const [failure, act, busy] = useAction();
  return (
    <section data-testid="introduce">
      <h2>Introduce someone</h2>
      <label>
        Their identity (what <code>certified get-ident</code> prints, PEM, or a CSR)
        <textarea
          rows={4}
          data-testid="subject-input"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <input type="file" onChange={readFileInto(setText)} />
      <button
        type="button"
        data-testid="review"
        onClick={() =>
          act(async () => {
            setLetter(undefined);
            setSubject(model.review(text.trim()));
          })
        }
      >
        Review
      </button>
      {subject && (
        <div data-testid="reviewed">
          <p>
            {subject.kind} for <strong data-testid="reviewed-subject">{subject.subject}</strong>
            {subject.altNames.length > 0 && ` (${subject.altNames.join(', ')})`}
            {subject.ca && ' — a CA certificate: it cannot be introduced'}
          </p>
          <p>Only introduce someone after checking out of band that this is theirs.</p>
          {services.map(([alias, url], i) => (
            <div key={i}>
              <input
                placeholder="alias"
                data-testid={`service-alias-${i}`}
                value={alias}
                onInput={(e) =>
                  setServices(services.map((s, j) => (j === i ? [e.currentTarget.value, s[1]] : s)))
                }
              />
              <input
                placeholder="https://host:port"
                data-testid={`service-url-${i}`}
                value={url}
                onInput={(e) =>
                  setServices(services.map((s, j) => (j === i ? [s[0], e.currentTarget.value] : s)))
                }
              />
            </div>
          ))}
          <button
            type="button"
            data-testid="add-service"
            onClick={() => setServices([...services, ['', '']])}
          >
            Add a service
          </button>
          <button
            type="button"
            data-testid="sign"
            disabled={busy}
            onClick={() =>
              act(async () => {
                const made = await model.introduce(
                  shown.identity,
                  subject,
                  Object.fromEntries(services.filter(([a]) => a !== '')),
                );
                setLetter(JSON.stringify(made));
              })
            }
          >
            Sign the letter
          </button>
        </div>
      )}
      {letter && (
        <>
          <Copyable
            label="The letter (they install it with add-intro)"
            testid="letter"
            text={letter}
          />
          <a
            download="intro_letter.json"
            href={`data:application/json,${encodeURIComponent(letter)}`}
          >
            Download intro_letter.json
          </a>
        </>
      )}
      {failure && <Problem failure={failure} />}
    </section>
  );
}

function Install({
  model,
  shown,
  onInstalled,
}: {
  model: Model;
  shown: Shown;
  onInstalled: () => Promise<void>;
}) {
  const [text, setText] = useState('');
  const [done, setDone] = useState<string[]>();
  const [failure, act, busy] = useAction();
  return (
    <section data-testid="install">
      <h2>Install an introduction letter</h2>
      <label>
        The letter JSON
        <textarea
          rows={5}
          data-testid="letter-input"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <input type="file" accept="application/json" onChange={readFileInto(setText)} />
      <button
        type="button"
        data-testid="install-letter"
        disabled={busy}
        onClick={() =>
          act(async () => {
            const r = await model.install(shown.identity, text);
            setDone(
              r.installed.map((f) =>
                f.kind === 'service' ? `${f.path}: ${f.alias} → ${f.url}` : f.path,
              ),
            );
            await onInstalled();
          })
        }
      >
        Install
      </button>
      {done && (
        <ul data-testid="installed">
          {done.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
      {failure && <Problem failure={failure} />}
    </section>
  );
}

function Services({ shown }: { shown: Shown }) {
  const d = shown.description;
  const [alias, setAlias] = useState('');
  const [target, setTarget] = useState('');
  const [method, setMethod] = useState('GET');
  const [body, setBody] = useState('');
  const [answer, setAnswer] = useState<{ status: number; body: string }>();
  const [failure, act, busy] = useAction();
  return (
    <section data-testid="services">
      <h2>Services</h2>
      <ul data-testid="service-list">
        {d.services.map((s) => (
          <li key={s.alias}>
            <strong>{s.alias}</strong> → {s.url}
          </li>
        ))}
        {d.services.length === 0 && <li>None yet: install a letter that lists some.</li>}
      </ul>
      <h2>Clients</h2>
      <ul data-testid="client-list">
        {d.knownClients.map((f) => (
          <li key={f.file}>
            {f.file}: {f.certificates[0]?.subject}
          </li>
        ))}
      </ul>
      <h2>Call a service</h2>
      <p>
        The request is signed with this identity (RFC 9421); the server must run
        requireSignedRequest().
      </p>
      <select
        data-testid="call-alias"
        value={alias}
        onChange={(e) => setAlias(e.currentTarget.value)}
      >
        <option value="">(a full URL)</option>
        {d.services.map((s) => (
          <option key={s.alias} value={s.alias}>
            {s.alias}
          </option>
        ))}
      </select>
      <select
        data-testid="call-method"
        value={method}
        onChange={(e) => setMethod(e.currentTarget.value)}
      >
        {['GET', 'POST', 'PUT', 'DELETE'].map((m) => (
          <option key={m}>{m}</option>
        ))}
      </select>
      <input
        data-testid="call-target"
        placeholder={alias ? 'path, e.g. hello' : 'http://127.0.0.1:8080/hello'}
        value={target}
        onInput={(e) => setTarget(e.currentTarget.value)}
      />
      <textarea
        rows={2}
        data-testid="call-body"
        placeholder="body (optional)"
        value={body}
        onInput={(e) => setBody(e.currentTarget.value)}
      />
      <button
        type="button"
        data-testid="call"
        disabled={busy}
        onClick={() =>
          act(async () => {
            setAnswer(undefined);
            const { call } = await import('./call.js');
            setAnswer(
              await call(shown.identity, { ...(alias ? { alias } : {}), target, method, body }),
            );
          })
        }
      >
        Send
      </button>
      {answer && (
        <pre data-testid="answer">
          {answer.status} {answer.body}
        </pre>
      )}
      {failure && <Problem failure={failure} />}
    </section>
  );
}
