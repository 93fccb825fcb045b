/** What a delivery sends and what an answer leads to: no database, no network. */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, deliveryBody, outcomeOf, parseRetrySchedule, RETRY_JITTER } from '../../src/domain/webhook-rules.ts';

const event = {
  id: 311n,
  customerId: 42,
  version: 7,
  at: new Date('2026-12-02T06:00:00.000Z'),
  actor: 'crm-sync',
  changes: [
    { field: 'storeCredit', from: '0.0000', to: '12.5000' },
    { field: 'password', from: null, to: null },
  ],
};

describe('the delivery body', () => {
  it('is the pinned shape: type, the write\'s time, and the event with what changed', () => {
    expect(JSON.parse(deliveryBody(event))).toEqual({
      type: 'customer.updated',
      timestamp: '2026-12-02T06:00:00.000Z',
      data: { eventId: '311', customerId: '42', version: 7, actor: 'crm-sync', at: '2026-12-02T06:00:00.000Z', changes: event.changes },
    });
    expect(JSON.parse(deliveryBody({ ...event, version: 1 })).type).toBe('customer.created');
  });

  it('is the same bytes every time, so every attempt carries the same signed body', () => {
    expect(deliveryBody(event)).toBe(deliveryBody({ ...event, at: new Date(event.at) }));
  });

  it('verifies with the standardwebhooks library once signed with the endpoint\'s secret', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const body = deliveryBody(event);
    const now = new Date();
    const headers = { 'webhook-id': '311', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('311', now, body) };
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ data: { eventId: '311' } });
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 8).toString('base64')}`).verify(body, headers)).toThrow();
  });
});

describe('what an answer leads to', () => {
  const schedule = [5, 300];

  it('2xx is delivered; 410 is gone; anything else is retried after the schedule\'s wait, then failed', () => {
    for (const status of [200, 201, 204, 299]) expect(outcomeOf(status, 1, schedule)).toEqual({ kind: 'delivered' });
    expect(outcomeOf(410, 1, schedule)).toEqual({ kind: 'gone' });
    for (const status of [null, 199, 300, 400, 404, 429, 500, 503]) expect(outcomeOf(status, 1, schedule, 0.5)).toEqual({ kind: 'retry', delayMs: 5_000 });
    expect(outcomeOf(500, 2, schedule, 0.5)).toEqual({ kind: 'retry', delayMs: 300_000 });
    expect(outcomeOf(500, 3, schedule, 0.5)).toEqual({ kind: 'failed' });
  });

  it('spreads each wait by at most 10% either way', () => {
    expect(RETRY_JITTER).toBe(0.1);
    expect(outcomeOf(500, 1, schedule, 0)).toEqual({ kind: 'retry', delayMs: 4_500 });
    expect(outcomeOf(500, 1, schedule, 0.999999)).toEqual({ kind: 'retry', delayMs: 5_500 });
  });

  it('waits about 52 hours in all by default: 8 retries, then FAILED', () => {
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 86_400]);
    const hours = DEFAULT_RETRY_SCHEDULE_SECONDS.reduce((sum, seconds) => sum + seconds, 0) / 3_600;
    expect(hours).toBeGreaterThan(51);
    expect(hours).toBeLessThan(53);
    expect(outcomeOf(500, 9, DEFAULT_RETRY_SCHEDULE_SECONDS)).toEqual({ kind: 'failed' });
  });
});

describe('WEBHOOK_RETRY_SCHEDULE', () => {
  it('takes comma-separated seconds, fractions too', () => {
    expect(parseRetrySchedule('0.2, 1,30')).toEqual([0.2, 1, 30]);
  });

  it('refuses empty parts, words, zero, negative and huge waits', () => {
    for (const text of ['', ',', '5,,10', 'soon', '0', '-1', String(31 * 86_400)]) expect(() => parseRetrySchedule(text), text).toThrow(/seconds/);
  });
});
