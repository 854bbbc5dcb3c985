import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ID_WORDS, IdList, packId, unpackId } from '../../bench/lib/id-list.ts';
import { acknowledgedId } from '../../bench/lib/payload.ts';

describe('the bench’s packed request ids', () => {
  it('gives back every UUID it was given, in order, across its chunks', () => {
    const ids = Array.from({ length: 70_000 }, () => randomUUID());
    const list = IdList.of(ids);
    expect(list.length).toBe(ids.length);
    for (const index of [0, 1, 65_535, 65_536, 65_537, ids.length - 1]) {
      expect(list.at(index)).toBe(ids[index]);
    }
    const copy = new IdList();
    copy.append(list);
    copy.append(IdList.of(ids.slice(0, 3)));
    expect(copy.length).toBe(ids.length + 3);
    expect(copy.at(ids.length + 2)).toBe(ids[2]);
    expect(copy.at(65_536)).toBe(ids[65_536]);
  });

  it('packs the four words the receiver is asked about, one id after another', () => {
    const list = IdList.of([
      '00000000-0000-0000-0000-000000000001',
      'FFFFFFFF-0001-0002-0003-00000000000A',
    ]);
    expect([...list.words()]).toEqual([0, 0, 0, 1, 0xffffffff, 0x00010002, 0x00030000, 0x0a]);
    expect(list.at(1)).toBe('ffffffff-0001-0002-0003-00000000000a');
  });

  it('refuses what is not a UUID and keeps nothing of it', () => {
    const list = new IdList();
    const words = new Uint32Array(ID_WORDS);
    for (const id of ['', 'not-a-uuid', `${randomUUID()}x`, randomUUID().replaceAll('-', '_')]) {
      expect(list.push(id)).toBe(false);
      expect(packId(id, words, 0)).toBe(false);
    }
    expect(list.length).toBe(0);
    expect(() => list.at(0)).toThrow(RangeError);
    expect(() => IdList.of(['nope'])).toThrow(/not a UUID/);
    const id = randomUUID();
    expect(packId(id, words, 0)).toBe(true);
    expect(unpackId(words, 0)).toBe(id);
  });
});

describe('the requestId the bench reads from an acknowledgement', () => {
  it('is a UUID, or no acknowledgement at all', () => {
    const id = randomUUID();
    const answer = (requestId: string) =>
      JSON.stringify({ status: 'acknowledged', requestId, stationId: randomUUID() });
    expect(acknowledgedId(answer(id))).toBe(id);
    expect(acknowledgedId(`{"result":{"data":${answer(id)}}}`)).toBe(id);
    expect(acknowledgedId(answer('x'.repeat(36)))).toBeUndefined();
    expect(acknowledgedId(answer(`${id}0`))).toBeUndefined();
    expect(acknowledgedId(JSON.stringify({ status: 'failed', requestId: id }))).toBeUndefined();
  });
});
