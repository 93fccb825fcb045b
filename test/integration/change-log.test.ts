/**
 * The change log read as a stream: every committed change once, in log order, with no gap, even
 * when a transaction that took a lower id commits after one that took a higher id; nothing for a
 * write that rolled back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerChange } from '../../src/generated/prisma/client.ts';
import { ChangeFeed } from '../../src/domain/change-feed.ts';
import { changeStream } from '../../src/domain/change-stream.ts';
import { createCustomer, updateCustomer } from '../../src/domain/customer-writes.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { uniqueEmail } from '../support/customers.ts';
import { openWrite as holdWrite } from '../support/held-write.ts';
import { waitFor } from '../support/wait-for.ts';

let database: TestDatabase;
let feed: ChangeFeed;
beforeAll(async () => {
  database = await createTestDatabase();
  // Polling rarely, so that what moves the feed in these tests is the writes' own nudges.
  feed = new ChangeFeed(database.db, { pollMs: 60_000 });
});
afterAll(async () => {
  await feed.stop();
  await database.close();
});

async function newCustomer(): Promise<number> {
  const { customer } = await createCustomer(database.db, { input: { firstName: 'Log', lastName: 'Reader', email: uniqueEmail('log') }, actor: 'test' });
  return customer!.id;
}

/** Reads a stream in the background into a list. */
function collect(stream: AsyncIterableIterator<CustomerChange>) {
  const seen: CustomerChange[] = [];
  const done = (async () => {
    for await (const change of stream) seen.push(change);
  })();
  return { seen, stop: async () => (await stream.return?.(), await done) };
}

/** A write held open: it took its history id and has not committed. */
const openWrite = (customerId: number) => holdWrite(database.sql, customerId);

describe('reading the change log', () => {
  it('waits for a transaction that took a lower id, then gives both changes in id order', async () => {
    const [a, b] = [await newCustomer(), await newCustomer()];
    const reader = collect(await changeStream(database.db, feed, { after: null }));

    const held = await openWrite(a);
    const later = await updateCustomer(database.db, { id: String(b), input: { notes: 'committed first' }, actor: 'test' });
    expect(later.customer?.version).toBe(2);
    await waitFor(() => feed.waitingSince !== null, { what: 'the feed to see a transaction still running below the head' });
    // held up by the open transaction: the later change is not handed out before it
    expect(reader.seen).toEqual([]);

    await held.end('COMMIT');
    await waitFor(() => reader.seen.length === 2, { what: 'both changes' });
    expect(reader.seen.map((change) => [change.customerId, change.version])).toEqual([
      [a, 2],
      [b, 2],
    ]);
    expect(reader.seen[0]!.id).toBe(held.id);
    expect(feed.waitingSince).toBeNull();
    await reader.stop();

    // resuming after the first gives the second, and nothing else
    const resumed = collect(await changeStream(database.db, feed, { after: held.id }));
    await waitFor(() => resumed.seen.length === 1, { what: 'the resumed stream to catch up' });
    expect(resumed.seen[0]!.customerId).toBe(b);
    await resumed.stop();
  });

  it('waits for a held writer even when its transaction id is the newest of all, so no snapshot yet counts it as running', async () => {
    // A snapshot lists as running only ids below the newest completed one: a writer whose id is
    // newer than every finished transaction's is in no list, and must still be waited for.
    const customer = await newCustomer();
    const reader = collect(await changeStream(database.db, feed, { after: null, customerId: customer }));
    const held = await openWrite(customer);
    // nothing else writes: the held transaction has the newest id; the feed is asked to read now
    feed.nudge();
    await waitFor(() => feed.waitingSince !== null, { what: 'the feed to wait for the held writer' });
    expect(feed.position! < held.id).toBe(true);
    await held.end('COMMIT');
    await waitFor(() => reader.seen.length === 1, { what: 'the held change' });
    expect(reader.seen[0]!.id).toBe(held.id);
    await reader.stop();
  });

  it('gives nothing for a write that rolled back, and passes its id', async () => {
    const customer = await newCustomer();
    const reader = collect(await changeStream(database.db, feed, { after: null, customerId: customer }));
    const rolledBack = await openWrite(customer);
    await rolledBack.end('ROLLBACK');
    const written = await updateCustomer(database.db, { id: String(customer), input: { notes: 'kept' }, actor: 'test' });
    expect(written.customer?.version).toBe(2);
    await waitFor(() => reader.seen.length === 1, { what: 'the committed change' });
    expect(reader.seen[0]).toMatchObject({ customerId: customer, version: 2, actor: 'test' });
    expect(reader.seen[0]!.id).toBeGreaterThan(rolledBack.id);
    await reader.stop();
  });

  it('replays from a given event, then goes on live without a gap or a repeat, for one customer', async () => {
    const customer = await newCustomer();
    const other = await newCustomer();
    for (const notes of ['one', 'two', 'three']) await updateCustomer(database.db, { id: String(customer), input: { notes }, actor: 'test' });
    const history = await database.sql.query<{ id: string; version: number }>('SELECT id, version FROM customer_changes WHERE customer_id = $1 ORDER BY id', [customer]);
    const first = BigInt(history.rows[0]!.id); // the creation

    const reader = collect(await changeStream(database.db, feed, { after: first, customerId: customer }));
    await waitFor(() => reader.seen.length === 3, { what: 'the replay' });
    await updateCustomer(database.db, { id: String(other), input: { notes: 'not this one' }, actor: 'test' });
    await updateCustomer(database.db, { id: String(customer), input: { notes: 'four' }, actor: 'test' });
    await waitFor(() => reader.seen.length === 4, { what: 'the live change' });
    expect(reader.seen.map((change) => change.version)).toEqual([2, 3, 4, 5]);
    await reader.stop();
  });

  it('holds every change committed once it is open, even before it is first read', async () => {
    const customer = await newCustomer();
    const stream = await changeStream(database.db, feed, { after: null, customerId: customer });
    await updateCustomer(database.db, { id: String(customer), input: { notes: 'right after opening' }, actor: 'test' });
    const reader = collect(stream);
    await waitFor(() => reader.seen.length === 1, { what: 'the change committed between opening and reading' });
    expect(reader.seen[0]).toMatchObject({ customerId: customer, version: 2 });
    await reader.stop();
  });

  it('stops following when it is ended before it was read', async () => {
    const stream = await changeStream(database.db, feed, { after: null });
    expect(feed.position).not.toBeNull();
    await stream.return!();
    // nobody follows any more: the feed forgets its position
    expect(feed.position).toBeNull();
  });

  it('starts a follower that comes right after the last one left, while a read was put off', async () => {
    const own = new ChangeFeed(database.db, { pollMs: 60_000, minIntervalMs: 60_000 });
    try {
      const first = await own.follow(() => {});
      // read a moment ago: this nudge is put off for the minimum interval
      own.nudge();
      first.stop();
      const second = await own.follow(() => {});
      expect(typeof second.from).toBe('bigint');
      second.stop();
    } finally {
      await own.stop();
    }
  });

  it('ends every stream when the feed stops', async () => {
    const own = new ChangeFeed(database.db, { pollMs: 60_000 });
    const reader = collect(await changeStream(database.db, own, { after: null }));
    await own.stop();
    await reader.stop();
    await expect(own.follow(() => {})).rejects.toThrow(/stopped/);
  });
});
