/** Messages between the bench process and the callback receiver child, over its IPC channel. */

export type ReceiverSummary = {
  /** Callback POSTs received, duplicates included. */
  callbacks: number;
  /** Distinct requestIds among them. */
  distinct: number;
  /** Deliveries of a requestId after its first one (at-least-once delivery allows them). */
  duplicates: number;
  /** Callbacks without a JSON body naming a UUID requestId, or without the signature headers. */
  malformed: number;
  /** Duplicates whose `webhook-id` differs from the first delivery's. */
  webhookIdChanged: number;
  /** Decision statuses seen, e.g. `{ allowed: 1000 }`. */
  statuses: Record<string, number>;
  verified: number;
  verifyFailures: number;
  firstVerifyFailure: string | null;
};

export type ToReceiver =
  | { type: 'verify'; all: boolean }
  | {
      type: 'query';
      seq: number;
      /** The UUIDs asked about, four 32-bit words each (`IdList.words()`). */
      ids: Uint32Array;
    }
  | { type: 'summary'; seq: number };

export type FromReceiver =
  | { type: 'ready'; url: string }
  | {
      type: 'query';
      seq: number;
      /** Monotonic ms of each id's first arrival (see clock.ts), NaN when it never came. */
      arrivals: Float64Array;
      summary: ReceiverSummary;
    }
  | { type: 'summary'; seq: number; summary: ReceiverSummary };
