/** How long an owner's counted unfinished jobs may stand in for counting them again (see SagaCoordinator.insert). */
export const QUEUE_COUNT_TTL_MS = 1_000;

/** Owners whose counts one gateway remembers at once; past that, a new owner's submissions count as before. */
const MAX_OWNERS = 10_000;

/** What one gateway knows of an owner's unfinished top-level jobs. */
interface Tally {
  /** Unfinished top-level jobs, counted exactly (everything committed when the count began). */
  counted: number;
  /** When that count began (ms, monotonic); it stands in for a new one until QUEUE_COUNT_TTL_MS after. */
  at: number;
  /** Jobs this gateway has inserted, or may be inserting, that the count may not hold: added on top of it. */
  reserved: number;
  /** Jobs of submissions reserved and not yet committed or rolled back. */
  inFlight: number;
  /** Every job ever reserved (only grows): what was reserved while a count ran is the difference. */
  ever: number;
}

/** Taken as a counting submission begins: the reservations its count may not see. */
export interface TallyMark {
  /** Jobs in flight, and ever reserved, before this submission. */
  inFlight: number;
  ever: number;
  /** This submission's jobs. */
  jobs: number;
  at: number;
}

/**
 * An upper bound, per owner, of the unfinished top-level jobs, so that a small submission far from the cap need not
 * count them (an index scan of up to the cap's number of rows, under load most of a submission's database time).
 * The bound is an exact count plus every job this gateway reserved since it began, or had in flight when it began;
 * jobs only ever leave queued/running, so through one gateway it never falls below the truth. Jobs other gateways
 * insert are not in it: they are seen at the next count, at most QUEUE_COUNT_TTL_MS later. Hand-written: a counter
 * with these rules, no library has it.
 */
export class OwnerQueueTally {
  private readonly tallies = new Map<string, Tally>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Reserves room for `jobs` more when the bound leaves room for them and `headroom` more (the submissions beside
   * it that count for themselves): true, and the caller inserts without counting, then calls `release`. False when
   * the owner's count is missing, old, or too near the cap: the caller counts.
   */
  reserve(owner: string, jobs: number, cap: number, headroom: number): boolean {
    const tally = this.tallies.get(owner);
    if (!tally || this.now() - tally.at > QUEUE_COUNT_TTL_MS) return false;
    if (tally.counted + tally.reserved + jobs + headroom > cap) return false;
    tally.reserved += jobs;
    tally.inFlight += jobs;
    tally.ever += jobs;
    return true;
  }

  /** A reserved submission ended: `inserted` of its `jobs` were inserted and committed (none when it rolled back). */
  release(owner: string, jobs: number, inserted: number): void {
    const tally = this.tallies.get(owner);
    if (!tally) return;
    tally.inFlight -= jobs;
    tally.reserved = Math.max(0, tally.reserved - (jobs - inserted));
  }

  /**
   * A submission that counts for itself begins: its `jobs` are in flight until `counted` or `abandoned`, so that
   * counts beside it keep them on top. Returns what was in flight before it, for `counted`.
   */
  mark(owner: string, jobs: number): TallyMark {
    let tally = this.tallies.get(owner);
    if (!tally) {
      if (this.tallies.size >= MAX_OWNERS) this.forgetOld();
      tally = { counted: 0, at: -Infinity, reserved: 0, inFlight: 0, ever: 0 }; // no count yet: reserves nothing
      if (this.tallies.size < MAX_OWNERS) this.tallies.set(owner, tally);
    }
    const mark = { inFlight: tally.inFlight, ever: tally.ever, jobs, at: this.now() };
    tally.inFlight += jobs;
    tally.ever += jobs;
    return mark;
  }

  /** A counting submission rolled back (refused, or failed): its jobs are no longer in flight. */
  abandoned(owner: string, mark: TallyMark): void {
    const tally = this.tallies.get(owner);
    if (tally) tally.inFlight -= mark.jobs;
  }

  /**
   * The counting submission committed: `count` unfinished jobs were counted exactly (begun after `mark`) and it
   * inserted `inserted` more on top. Whatever was in flight when it began, or began while it ran, stays on top of
   * the count, whether the count saw it or not: the bound stays above the truth.
   */
  counted(owner: string, mark: TallyMark, count: number, inserted: number): void {
    const tally = this.tallies.get(owner);
    if (!tally) return;
    tally.inFlight -= mark.jobs;
    if (tally.at > mark.at) return; // a later count is here, and it kept this submission's jobs on top
    tally.counted = count;
    tally.at = mark.at;
    tally.reserved = inserted + mark.inFlight + (tally.ever - mark.ever - mark.jobs);
  }

  /** Drops the owners whose counts are too old to use and that have nothing in flight. */
  private forgetOld(): void {
    const now = this.now();
    for (const [owner, tally] of this.tallies) {
      if (tally.inFlight === 0 && now - tally.at > QUEUE_COUNT_TTL_MS) this.tallies.delete(owner);
    }
  }
}
