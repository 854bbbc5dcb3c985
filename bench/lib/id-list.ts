/**
 * Request ids as numbers, not strings. A full run acknowledges over a million requests, and the
 * bench must still hold every id at the end to ask the receiver about its callback. As strings
 * (each a slice of the answer it came in) they made a heap of hundreds of MB: a major collection of
 * it ran V8's marking threads on both cores of the machine for about 100 ms at a time, starving
 * the servers under test, and at 200 req/s one such collection showed as a 100 ms stall in
 * chargegate's callback latency. Packed here, 16 bytes an id in a few large typed arrays, the
 * same ids leave nothing for the collector to walk. The receiver keeps its arrivals the same way
 * (`receiver-server.ts`).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (id: string): boolean => id.length === 36 && UUID.test(id);

/** Words per id: a UUID is 128 bits. */
export const ID_WORDS = 4;

/** Writes the UUID `id` as four 32-bit words at `words[at…at+3]`; false (nothing written) if it is none. */
export function packId(id: string, words: Uint32Array, at: number): boolean {
  if (!isUuid(id)) return false;
  words[at] = Number.parseInt(id.slice(0, 8), 16);
  words[at + 1] = Number.parseInt(id.slice(9, 13) + id.slice(14, 18), 16);
  words[at + 2] = Number.parseInt(id.slice(19, 23) + id.slice(24, 28), 16);
  words[at + 3] = Number.parseInt(id.slice(28, 36), 16);
  return true;
}

/** The UUID at `words[at…at+3]`, in lower case. */
export function unpackId(words: Uint32Array, at: number): string {
  const hex = (word: number) => (words[at + word] as number).toString(16).padStart(8, '0');
  const [b, c] = [hex(1), hex(2)];
  return `${hex(0)}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${hex(3)}`;
}

const CHUNK_IDS = 65_536;
const scratch = new Uint32Array(ID_WORDS);

/** An append-only list of UUIDs, packed (see above). */
export class IdList {
  #chunks: Uint32Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** Appends `id`; false, and nothing appended, when it is not a UUID. */
  push(id: string): boolean {
    if (!packId(id, scratch, 0)) return false;
    this.#pushWords(scratch, 0);
    return true;
  }

  append(other: IdList): void {
    other.#chunks.forEach((chunk, i) => {
      const ids = Math.min(CHUNK_IDS, other.#length - i * CHUNK_IDS);
      for (let at = 0; at < ids * ID_WORDS; at += ID_WORDS) this.#pushWords(chunk, at);
    });
  }

  #pushWords(words: Uint32Array, at: number): void {
    const offset = this.#length % CHUNK_IDS;
    if (offset === 0) this.#chunks.push(new Uint32Array(CHUNK_IDS * ID_WORDS));
    const chunk = this.#chunks.at(-1) as Uint32Array;
    for (let word = 0; word < ID_WORDS; word++) {
      chunk[offset * ID_WORDS + word] = words[at + word] as number;
    }
    this.#length++;
  }

  /** The id at `index`, in lower case. */
  at(index: number): string {
    if (index < 0 || index >= this.#length) throw new RangeError(`no id at ${index}`);
    const chunk = this.#chunks[Math.floor(index / CHUNK_IDS)] as Uint32Array;
    return unpackId(chunk, (index % CHUNK_IDS) * ID_WORDS);
  }

  /** Every id's words, in order, in one array: what the receiver is asked about. */
  words(): Uint32Array {
    const all = new Uint32Array(this.#length * ID_WORDS);
    this.#chunks.forEach((chunk, i) => {
      const start = i * CHUNK_IDS * ID_WORDS;
      all.set(chunk.subarray(0, Math.min(chunk.length, all.length - start)), start);
    });
    return all;
  }

  static of(ids: Iterable<string>): IdList {
    const list = new IdList();
    for (const id of ids) {
      if (!list.push(id)) throw new Error(`not a UUID: ${JSON.stringify(id)}`);
    }
    return list;
  }
}
