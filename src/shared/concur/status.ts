import type { CallOptions, ConcurApi } from './api.ts';
import { provisionStatusSchema, type ProvisionOperation, type ProvisionStatus } from './schemas.ts';
import { UPS_BASE } from './ups.ts';

export type OperationState = 'pending' | 'success' | 'failed';

export interface IterateOperationsOptions extends CallOptions {
  /** Only operations in this state. */
  state?: OperationState;
  /** Page size. Default 100. */
  count?: number;
}

const statusPath = (provisionId: string): string => `${UPS_BASE}/provisions/${encodeURIComponent(provisionId)}/status`;

/** UPS provision status: the summary, and the per-operation detail paged with startIndex/count. */
export class StatusApi {
  constructor(private readonly api: ConcurApi) {}

  /** The summary: `status.completed`, `status.success` and `operationsCount` (no operations). */
  async getStatus(provisionId: string, opts: CallOptions = {}): Promise<ProvisionStatus> {
    const res = await this.api.call({
      ...opts,
      method: 'GET',
      path: statusPath(provisionId),
      schema: provisionStatusSchema,
      what: 'provision status',
    });
    return res.data;
  }

  /** One page of operations (`attributes=operations`); startIndex is 1-based. */
  async getOperationsPage(
    provisionId: string,
    page: { startIndex: number; count: number; state?: OperationState | undefined },
    opts: CallOptions = {},
  ): Promise<ProvisionStatus> {
    const res = await this.api.call({
      ...opts,
      method: 'GET',
      path: statusPath(provisionId),
      query: { attributes: 'operations', startIndex: page.startIndex, count: page.count, state: page.state },
      schema: provisionStatusSchema,
      what: 'provision status operations',
    });
    return res.data;
  }

  /**
   * Every operation (optionally of one state) across all pages. Pages by `totalResults`; stops on
   * an empty page so a total that shrinks between pages (pending operations finishing) cannot loop.
   */
  async *iterateOperations(
    provisionId: string,
    options: IterateOperationsOptions = {},
  ): AsyncGenerator<ProvisionOperation> {
    const count = Math.max(1, options.count ?? 100);
    const { state, ...opts } = options;
    let startIndex = 1;
    for (;;) {
      const page = await this.getOperationsPage(provisionId, { startIndex, count, state }, opts);
      const ops = page.operations ?? [];
      yield* ops;
      const total = page.totalResults;
      if (total === undefined) {
        if (ops.length < count) return;
      } else if (startIndex - 1 + ops.length >= total) return;
      if (ops.length === 0) return;
      startIndex += ops.length;
    }
  }
}
