/** A customer's history: every write, newest first, a page at a time. */
import DataLoader from 'dataloader';
import type { CustomerChange } from '../generated/prisma/client.ts';
import { historyPages } from '../infra/database/history-statements.ts';
import type { ReadRoute } from '../infra/database/read-replicas.ts';
import type { CustomerField } from './customer-fields.ts';
import type { PageRequest } from './paging.ts';

export type FieldValue = string | number | boolean | null;

/** One changed field. A password change has `from` and `to` null: no secret enters history. */
export interface FieldChange {
  field: CustomerField | 'password';
  from: FieldValue;
  to: FieldValue;
}

/** One customer's page of history. */
export interface HistoryPageKey {
  customerId: number;
  page: PageRequest;
}

/**
 * Pages of history, each newest first with one more entry than asked when more follow. The pages
 * asked for together (every customer of a page of customers) are read in one statement per
 * distinct page request, not one per customer. One loader per request: it also caches.
 */
export function historyLoader(reads: ReadRoute): DataLoader<HistoryPageKey, CustomerChange[], string> {
  const requestKey = ({ size, after }: PageRequest) => `${size}:${after}`;
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, { page: PageRequest; customerIds: number[] }>();
      for (const { customerId, page } of keys) {
        const group = groups.get(requestKey(page)) ?? { page, customerIds: [] };
        group.customerIds.push(customerId);
        groups.set(requestKey(page), group);
      }
      const pages = new Map(
        await Promise.all(
          [...groups].map(async ([key, { page, customerIds }]) => [key, await reads.run((db) => historyPages(db, customerIds, page.after, page.size + 1))] as const),
        ),
      );
      return keys.map(({ customerId, page }) => pages.get(requestKey(page))?.get(customerId) ?? []);
    },
    { cacheKeyFn: ({ customerId, page }) => `${customerId}:${requestKey(page)}` },
  );
}
