/**
 * @module probe — whether this browser holds an identity yet, with only the IndexedDB store loaded
 * (no certificate or YAML code): a first visit shows the create form without loading the model.
 */
import { openIdentityStore } from '@certified/web';

/** True when IndexedDB holds an identity (`id.crt`). */
export async function hasIdentity(): Promise<boolean> {
  const store = await openIdentityStore({ name: 'certified' });
  try {
    return (await store.stat('id.crt')) !== undefined;
  } finally {
    store.close();
  }
}
