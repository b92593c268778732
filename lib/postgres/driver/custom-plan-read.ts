import type { Driver, Queryable } from './driver.js';

/**
 * Reads whose best plan depends on their values (the operator's queries and counts filter on skewed
 * columns — a state, a topic — with `= ANY($n)`), planned for those values: the store's own connections
 * plan generically (see `sessionSettings` in `pg-driver.ts`), and a generic plan of such a read, which
 * cannot know how many rows a value matches, scanned the whole table. Each read runs in a transaction of
 * its own with `plan_cache_mode = force_custom_plan` (three more round trips, on reads that are rare).
 */
export function customPlanReads(driver: Driver): Queryable {
  return {
    query: <Row>(text: string, params?: readonly unknown[]) =>
      driver.transaction(async (transaction) => {
        await transaction.query('SET LOCAL plan_cache_mode = force_custom_plan');
        return transaction.query<Row>(text, params);
      }),
  };
}
