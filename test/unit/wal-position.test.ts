/** Comparing WAL positions, as the read replicas prove what they have replayed (src/infra/database/wal-position.ts). */
import { describe, expect, it } from 'vitest';
import { parseLsn, replayedPast } from '../../src/infra/database/wal-position.ts';

const SEGMENT = 16n * 1024n * 1024n;

describe('WAL positions', () => {
  it('reads an LSN as bytes', () => {
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('0/3000090')).toBe(0x3000090n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
  });

  it('a replay position at or past the sampled insert position has it', () => {
    expect(replayedPast(parseLsn('0/3000090'), parseLsn('0/3000090'), SEGMENT)).toBe(true);
    expect(replayedPast(parseLsn('1/0'), parseLsn('0/FFFFFFF0'), SEGMENT)).toBe(true);
    expect(replayedPast(parseLsn('0/3000088'), parseLsn('0/3000090'), SEGMENT)).toBe(false);
  });

  it('a replay stopped at a page boundary has an insert position right after that page header, and nothing further', () => {
    // After a segment switch an idle primary reports 0/3000028 (the long header) and its standby 0/3000000.
    expect(replayedPast(parseLsn('0/3000000'), parseLsn('0/3000028'), SEGMENT)).toBe(true);
    expect(replayedPast(parseLsn('0/3002000'), parseLsn('0/3002018'), SEGMENT)).toBe(true);
    // 40 bytes into a page that does not start a segment is 16 bytes of a record: not replayed.
    expect(replayedPast(parseLsn('0/3002000'), parseLsn('0/3002028'), SEGMENT)).toBe(false);
    expect(replayedPast(parseLsn('0/3001FF8'), parseLsn('0/3002018'), SEGMENT)).toBe(false);
    // Another segment size moves where the long headers are.
    expect(replayedPast(parseLsn('0/3100000'), parseLsn('0/3100028'), 1024n * 1024n)).toBe(true);
    expect(replayedPast(parseLsn('0/3100000'), parseLsn('0/3100028'), SEGMENT)).toBe(false);
  });
});
