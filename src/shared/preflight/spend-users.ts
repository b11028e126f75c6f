import type { SpendApi } from '../concur/spend.ts';
import { SPEND_USER_URN } from '../mapping/to-scim.ts';

/**
 * Asks Concur whether people already have a spend user (Spend v4.1 read-back), for rows that send
 * roles or an approver without one. One call per person, so a plan reads at most `max` of them
 * (through the UPS limiter) and counts the rest as not checked.
 */
export class SpendUserProbe {
  /** People whose spend user was not read because the budget was spent. */
  unchecked = 0;
  private reads = 0;
  private readonly known = new Map<string, boolean>();

  constructor(
    private readonly spend: Pick<SpendApi, 'getUser'>,
    private readonly call: <T>(fn: () => Promise<T>) => Promise<T>,
    private readonly max = 1_000,
  ) {}

  /** Whether Concur holds a spend user for this uuid; undefined when not checked. */
  async has(uuid: string): Promise<boolean | undefined> {
    const cached = this.known.get(uuid);
    if (cached !== undefined) return cached;
    if (this.reads >= this.max) {
      this.unchecked += 1;
      return undefined;
    }
    this.reads += 1;
    const user = await this.call(() => this.spend.getUser(uuid));
    const has = user !== undefined && user[SPEND_USER_URN] !== undefined && user[SPEND_USER_URN] !== null;
    this.known.set(uuid, has);
    return has;
  }
}
