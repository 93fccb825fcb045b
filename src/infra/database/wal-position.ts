/** Positions in PostgreSQL's write-ahead log, as the read replicas compare them. */

/** An LSN ("16/B374D848") as a number of bytes. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

const WAL_PAGE = 8192n;
/** A page's header; the first page of a segment has a long one. */
const SHORT_HEADER = 24n;
const LONG_HEADER = 40n;

/**
 * Whether a replay position has passed a position sampled on the primary. When the last record
 * ended at a page's end, the primary may give its position after the next page's header, while
 * replay stops at the end of that record, with nothing between the two.
 */
export function replayedPast(replayed: bigint, sampled: bigint, segmentSize: bigint): boolean {
  if (replayed >= sampled) return true;
  const header = sampled % segmentSize === LONG_HEADER ? LONG_HEADER : sampled % WAL_PAGE === SHORT_HEADER ? SHORT_HEADER : 0n;
  return header > 0n && replayed === sampled - header;
}
