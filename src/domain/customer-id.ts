/** BigCommerce's `customer_id`: a positive 32-bit integer, shown to clients as a string. */

const MAX_ID = 2_147_483_647;

/** A customer id from the API, or null when it cannot name any customer. */
export function parseCustomerId(id: string | number): number | null {
  const text = String(id);
  if (!/^\d{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value >= 1 && value <= MAX_ID ? value : null;
}
