/** Who is calling: an API token's identity and what it may do. */

/** `customers:write` implies `customers:read` (tokens.ts); `webhooks:manage` stands alone. */
export const SCOPES = ['customers:read', 'customers:write', 'webhooks:manage'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tokenId: number;
  /** The token's name: the actor recorded in customer history. */
  name: string;
  scopes: ReadonlySet<Scope>;
}
