/** Who is calling: an API token's identity and what it may do. */

export const SCOPES = ['customers:read', 'customers:write'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tokenId: number;
  /** The token's name: the actor recorded in customer history. */
  name: string;
  scopes: ReadonlySet<Scope>;
}
