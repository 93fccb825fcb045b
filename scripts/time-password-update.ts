/**
 * Times updateCustomer over HTTP with and without a new password, one request after another,
 * against a running gateway:
 *
 *   GATEWAY_URL=http://127.0.0.1:4000 TOKEN=cgw_... node --import tsx scripts/time-password-update.ts [N]
 *
 * The difference between the two is what argon2id (19 MiB, t=2, p=1) adds to one write.
 */
const url = `${process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000'}/graphql`;
const token = process.env.TOKEN;
const rounds = Number(process.argv[2] ?? 50);
if (!token || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: GATEWAY_URL=http://127.0.0.1:4000 TOKEN=<customers:write token> time-password-update.ts [N]');
  process.exit(2);
}

async function graphql(query: string, variables: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token! },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const UPDATE = `mutation ($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { version } errors { __typename } }
}`;

const created = await graphql(
  `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } errors { __typename } } }`,
  { input: { firstName: 'Timing', lastName: 'Run', email: `timing.${Date.now()}@example.com` } },
);
const id: string = created.createCustomer.customer.id;

async function time(label: string, input: (round: number) => Record<string, unknown>) {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const data = await graphql(UPDATE, { id, input: input(round) });
    samples.push(performance.now() - started);
    if (data.updateCustomer.errors.length > 0) throw new Error(JSON.stringify(data.updateCustomer.errors));
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(1);
  const mean = (samples.reduce((sum, sample) => sum + sample, 0) / samples.length).toFixed(1);
  console.log(`${label.padEnd(18)} n=${rounds}  mean ${mean} ms  median ${at(0.5)} ms  p95 ${at(0.95)} ms  max ${at(1)} ms`);
  return Number(mean);
}

// Warm both paths up (JIT, connection pool, argon2's first allocation) before measuring.
await graphql(UPDATE, { id, input: { notes: 'warm-up', authentication: { password: 'Warm-up-pass-1' } } });
const without = await time('without password', (round) => ({ notes: `note ${round}` }));
const withPassword = await time('with password', (round) => ({ authentication: { password: `Timing-pass-${round}-x` } }));
console.log(`a password adds ${(withPassword - without).toFixed(1)} ms per update (mean)`);
